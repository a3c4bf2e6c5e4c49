"""Who is calling: a bearer token, or the signed-in browser session.

A client system sends `Authorization: Bearer <secret>` (see `manage.py create_api_token` and
`POST /api/v1/me/tokens`). The portal's own pages may call the API with the session cookie; then,
as for any form post, unsafe methods must carry the CSRF token (`X-CSRFToken` header), because a
browser sends the cookie with requests that other sites start. Bearer requests need no CSRF token:
a browser never adds the header by itself.

Staff users and Company Directors must have two-factor authentication: their tokens are refused
(403, `mfa_enrolment_required`) while they have no authenticator app, and a session of theirs that did
not pass the second factor is refused by `portal.accounts.middleware.MfaRequiredMiddleware`. Tokens
themselves are created only by such a user who has an authenticator app; approval decisions also need
its current code (`portal.accounts.stepup`).

An operation that only some callers may call names them with `auth=may_call(check)` (see
`portal.api.gates`): the same two schemes, which after authenticating ask `check(user, path_kwargs)`
and refuse the caller (403) before the request's body is read, so that a caller in the wrong role
learns that first, not which fields are missing.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from portal.accounts.mfa import user_has_totp, user_requires_mfa
from portal.accounts.models import User
from portal.accounts.services import api_token_authenticate
from portal.accounts.stepup import MfaRequired
from portal.api.errors import CsrfFailed
from portal.core.errors import PermissionDenied

# Who may call an operation, from the caller and the path's parameters (converted: ids are ints). It
# answers False to refuse (403), or raises `NotFound` when the object the path names is out of the
# caller's sight (tenancy answers 404, DESIGN.md §3).
CallerCheck = Callable[[Any, Mapping[str, Any]], bool]


@dataclass(frozen=True)
class CallerGate:
    """The check an operation makes of an authenticated caller before it reads the request's body."""

    check: CallerCheck
    refusal: str

    def admit(self, request: HttpRequest, user: Any) -> None:
        match = getattr(request, "resolver_match", None)
        path_kwargs: Mapping[str, Any] = match.kwargs if match is not None else {}
        if not self.check(user, path_kwargs):
            raise PermissionDenied(self.refusal)


def _admitted(gate: CallerGate | None, request: HttpRequest, user: Any) -> Any:
    """The authenticated caller, once the operation's gate (if it has one) admits them."""
    if user and gate is not None:
        gate.admit(request, user)
    return user


class MfaEnrolmentRequired(MfaRequired):
    code = "mfa_enrolment_required"


class BearerTokenAuth(HttpBearer):
    def __init__(self, gate: CallerGate | None = None) -> None:
        super().__init__()
        self.gate = gate

    def __call__(self, request: HttpRequest) -> Any:
        return _admitted(self.gate, request, super().__call__(request))

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(secret=token.strip())
        if user is not None and user_requires_mfa(user) and not user_has_totp(user):
            raise MfaEnrolmentRequired(
                "Your role needs two-factor authentication: set up an authenticator app in the portal before "
                "using the API."
            )
        if user is not None:
            # The rest of the stack (e.g. the no-store cache header) sees who is signed in.
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The Django session, with the CSRF check for unsafe methods.

    Unlike the stock session auth, the CSRF check runs only once a session user is found, so a
    request with no credentials at all answers 401, not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, csrf: bool = True, gate: CallerGate | None = None) -> None:
        super().__init__(csrf=csrf)
        self.gate = gate

    def __call__(self, request: HttpRequest) -> Any:
        return _admitted(self.gate, request, super().__call__(request))

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and check_csrf(request) is not None:
            raise CsrfFailed(
                "The CSRF token is missing or incorrect. Send it in the X-CSRFToken header, "
                "or call the API with a bearer token."
            )
        return user


bearer_auth = BearerTokenAuth()
session_auth = SessionAuth(csrf=True)
