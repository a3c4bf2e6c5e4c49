"""Step-up authentication before an approval decision (docs/security.md, ASVS 7.5.3).

In the browser, a decision is recorded only if the session entered an authenticator code (or a
recovery code) within `ACCOUNT_REAUTHENTICATION_TIMEOUT` seconds: at sign-in, or on allauth's
re-authentication page, to which `step_up_required` sends the user; the decision they posted is kept
and replayed once they have entered the code (allauth suspends and resumes the request).

Through the API, a bearer token alone is not enough: the call carries the current code of the
caller's authenticator app, in the `X-OTP` header or the `otp_code` field. A browser session that has
just stepped up may call without one. Codes are single-use (allauth marks each one used), and wrong
codes are counted: five within 15 minutes and the user must wait.

Signing the Final QAD is its own step-up: the signer re-enters their password and a current
authenticator code on the sign-off page (portal/documents/services.py, `qad_sign`).
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from portal.accounts.mfa import step_up_is_fresh, user_requires_mfa
from portal.core.errors import PermissionDenied

MAX_CODE_FAILURES = 5
CODE_FAILURE_WINDOW = 15 * 60

View = TypeVar("View", bound=Callable[..., HttpResponse])


class StepUpRequired(PermissionDenied):
    code = "step_up_required"


class MfaRequired(PermissionDenied):
    code = "mfa_required"


def step_up_required(view: View) -> View:
    """For a page whose POST records a decision: without a recent second factor, keep the posted form,
    ask for an authenticator code, then carry on with the post."""
    return _step_up(view, applies=lambda user: True)


def step_up_required_for_mfa_roles(view: View) -> View:
    """`step_up_required` for staff users and Company Directors only (who sign in with an authenticator
    app); other users' posts go through as they are. For sensitive actions that every user may take,
    such as creating an API token."""
    return _step_up(view, applies=user_requires_mfa)


def _step_up(view: View, *, applies: Callable[[Any], bool]) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if request.method == "POST" and user.is_authenticated and applies(user) and not step_up_is_fresh(request):
            return suspend_request(request, reverse("mfa_reauthenticate"))
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def _failures_key(user: Any) -> str:
    return f"accounts:step-up-failures:{user.pk}"


def step_up_check(*, request: HttpRequest, user: Any, code: str) -> None:
    """Refuse unless this request carries a valid, unused authenticator code of `user`, or comes from a
    browser session that stepped up recently. Raises `StepUpRequired` (403)."""
    # The session's record names its own user: a bearer token of someone else never matches it.
    if getattr(request, "user", None) == user and hasattr(request, "session") and step_up_is_fresh(request):
        return
    code = (code or "").strip().replace(" ", "")
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        raise StepUpRequired(
            "Recording a decision needs two-factor authentication: set up an authenticator app in the portal.",
            details={"field": "otp_code"},
        )
    if not code:
        raise StepUpRequired(
            "Send the current code from your authenticator app in the X-OTP header (or the otp_code field).",
            details={"field": "otp_code"},
        )
    key = _failures_key(user)
    if int(cache.get(key, 0)) >= MAX_CODE_FAILURES:
        raise StepUpRequired(
            "Too many wrong codes were sent: wait 15 minutes and try again.", details={"field": "otp_code"}
        )
    if not TOTP(authenticator).validate_code(code):
        cache.add(key, 0, CODE_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, CODE_FAILURE_WINDOW)
        raise StepUpRequired(
            "The authenticator code is not correct, or was already used: send the next one.",
            details={"field": "otp_code"},
        )
    cache.delete(key)
