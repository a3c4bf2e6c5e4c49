"""The caller's in-app notifications."""

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from portal.api.errors import responses
from portal.api.pagination import LimitOffset
from portal.api.schemas import NotificationOut
from portal.api.v1._request import caller
from portal.notifications import selectors

router = Router(tags=["notifications"])


@router.get("", response={200: list[NotificationOut], **responses()})
@paginate(LimitOffset)
def notification_list(request: HttpRequest) -> object:
    """Your notifications, newest first."""
    return selectors.notification_list(user=caller(request))
