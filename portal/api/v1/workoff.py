"""API: workoff. Mounted at `/v1`."""

from ninja import Router

router = Router(tags=["workoff"])
