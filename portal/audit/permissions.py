"""Who may see what of the audit log beyond an application's history."""

from typing import Any


def can_see_request_origin(user: Any) -> bool:
    """An event's client address and request id say where a person was when they acted: personal data,
    shown only to those who may read the whole audit log in the admin (superusers, and admin users
    given its view permission), not to everyone who may read an application's history. Users without
    admin access are answered without reading their permissions (no query on every page)."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    return bool(user.has_perm("audit.view_auditevent"))
