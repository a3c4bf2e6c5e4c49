"""API: qt_execution. Mounted at `/v1`."""

from ninja import Router

router = Router(tags=["qt_execution"])
