from typing import Any

from django.http import HttpRequest

from portal.accounts.selectors import user_roles
from portal.notifications.selectors import notification_unread_count


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"portal_roles": frozenset(), "unread_count": 0}
    return {
        "portal_roles": {r.value for r in user_roles(user)},
        "unread_count": notification_unread_count(user=user),
    }
