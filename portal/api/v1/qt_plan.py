"""API: qt_plan. Mounted at `/v1`."""

from ninja import Router

router = Router(tags=["qt_plan"])
