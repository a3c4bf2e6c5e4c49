"""API: qt_catalogue. Mounted at `/v1`."""

from ninja import Router

router = Router(tags=["qt_catalogue"])
