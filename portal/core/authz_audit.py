"""Every refused request leaves one audit event (`authz.denied`): ASVS v5.0.0-16.3.2.

`AuthorizationFailureAuditMiddleware` looks at each answer on its way out:

- **403**, whoever produced it: a page's `PermissionDenied` (Django's `handler403`), a form re-shown
  because the service refused the user, an API operation's `permission_denied`, the two-factor
  middleware's refusal, a failed CSRF check, the admin site's refusal.
- **404 for another organisation's application**: the answer stays exactly the 404 of a missing object
  (tenancy, DESIGN.md §3); the event is written only when the cheap check says the application exists
  and belongs to an organisation the participant does not act for.

The event names the actor (none for an anonymous request), the method, the path (any token in it
masked), the route, the status and the reason; never the request's body or query string. It is
written in a transaction of its own, after the refused request's own transaction (if any) has rolled
back, so the refusal itself still changes nothing else. Its `application_id` and `organisation_id`
columns stay empty: an application's history is shown to its organisation, which must not learn who
of another organisation tried to read it. The application asked for is in the event's `after`.

Anonymous requests that are sent to the sign-in page (302) or answered 401 by the API are
authentication, not authorization, and are not recorded here.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("portal.core")

DENIED_ACTION = "authz.denied"
OTHER_ORGANISATION_REASON = "another organisation's application (answered as not found)"
_REASON_ATTRIBUTE = "_portal_denial_reason"
# Path parameters whose value is a secret (the private calendar feed's token): masked in the event.
_SECRET_KWARGS = ("token", "secret", "key")
_MAX_REASON = 300
_MAX_PATH = 300


@dataclass(frozen=True)
class RequestedAddress:
    """The audit event's target: the route that was asked for (`web:application_detail`)."""

    pk: str


def denial_note(request: HttpRequest, reason: str) -> None:
    """Called where a refusal is turned into an answer (API error handlers, page decorators), so that
    the event says why; the first reason noted wins."""
    if not getattr(request, _REASON_ATTRIBUTE, ""):
        setattr(request, _REASON_ATTRIBUTE, str(reason)[:_MAX_REASON])


def _route_and_kwargs(request: HttpRequest) -> tuple[str, dict[str, Any]]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "", {}
    return str(match.view_name or match.route or ""), dict(match.kwargs)


def _masked_path(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    path = request.path
    for name, value in kwargs.items():
        if any(secret in name.lower() for secret in _SECRET_KWARGS) and value:
            path = path.replace(str(value), "[masked]")
    return path[:_MAX_PATH]


def _json_reason(response: HttpResponse) -> str:
    """The `{code, message}` of an API error answer."""
    if not response.get("Content-Type", "").startswith("application/json") or getattr(response, "streaming", False):
        return ""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    code, message = str(body.get("code") or ""), str(body.get("message") or "")
    return f"{code}: {message}" if code and message else code or message


def _other_organisation_application(request: HttpRequest, kwargs: dict[str, Any]) -> int | None:
    """The id of the application the URL names, when it exists and belongs to an organisation the
    signed-in participant does not act for; None otherwise (staff, a missing application, no id)."""
    application_id = kwargs.get("application_id")
    user = getattr(request, "user", None)
    if not isinstance(application_id, int) or user is None or not user.is_authenticated:
        return None
    from portal.accounts.selectors import user_organisation_ids
    from portal.qualification.models import Application

    own = user_organisation_ids(user)
    if not own:
        return None
    owner = Application.objects.filter(pk=application_id).values_list("organisation_id", flat=True).first()
    return application_id if owner is not None and owner not in own else None


def authz_denied_record(*, request: HttpRequest, status: int, reason: str, application_id: int | None = None) -> None:
    """Write the `authz.denied` event for a refused request, in its own transaction."""
    from portal.audit.services import audit_record

    route, kwargs = _route_and_kwargs(request)
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    path = _masked_path(request, kwargs)
    method = str(request.method or "")
    after: dict[str, Any] = {
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "reason": reason[:_MAX_REASON],
        "via": "api" if request.path.startswith("/api/") else "web",
    }
    if application_id is not None:
        after["application_id"] = application_id
    if not signed_in:
        after["actor"] = "anonymous"
    who = getattr(user, "email", "") if signed_in else "An anonymous caller"
    with transaction.atomic():
        audit_record(
            actor=user if signed_in else None,
            action=DENIED_ACTION,
            target=RequestedAddress(route[:64] or "unresolved"),
            summary=f"{who} was refused {method} {path} ({status}): {reason}",
            after=after,
        )


class AuthorizationFailureAuditMiddleware:
    """Place it after the authentication middleware (it reads `request.user`); it sees every answer,
    including those that earlier middleware (CSRF, two-factor) give without calling the view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            if response.status_code == 403:
                reason = getattr(request, _REASON_ATTRIBUTE, "") or _json_reason(response) or "403 Forbidden"
                authz_denied_record(request=request, status=403, reason=reason)
            elif response.status_code == 404:
                _, kwargs = _route_and_kwargs(request)
                application_id = _other_organisation_application(request, kwargs)
                if application_id is not None:
                    authz_denied_record(
                        request=request, status=404, reason=OTHER_ORGANISATION_REASON, application_id=application_id
                    )
        except Exception:
            logger.exception("Could not record the refusal of %s %s", request.method, request.path)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, DjangoPermissionDenied):
            denial_note(request, str(exception) or "permission denied")
