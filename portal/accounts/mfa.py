"""Two-factor authentication: who needs it, whether a session passed it, and TOTP codes.

The portal uses django-allauth's MFA (an authenticator app, TOTP, with single-use recovery codes).
allauth keeps, in the session, a list of the authentication steps the session went through
(`account_authentication_methods`: the password, then the authenticator code, and any later
re-authentication, each with its time). A session "passed MFA" when that list holds an `mfa` step;
a step-up is an `mfa` step taken within `ACCOUNT_REAUTHENTICATION_TIMEOUT` seconds.
"""

import time
from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.http import HttpRequest

from portal.accounts.roles import MFA_ROLES
from portal.accounts.selectors import user_roles

MFA_METHOD = "mfa"


def user_requires_mfa(user: Any) -> bool:
    """Staff users and Company Directors must sign in with an authenticator app."""
    return bool(user_roles(user) & MFA_ROLES)


def user_has_totp(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def authentication_steps(request: HttpRequest) -> list[dict[str, Any]]:
    """The authentication steps this session went through, oldest first (allauth's record)."""
    return list(get_authentication_records(request, getattr(request, "user", None)))


def session_passed_mfa(request: HttpRequest) -> bool:
    return any(step.get("method") == MFA_METHOD for step in authentication_steps(request))


def last_mfa_at(request: HttpRequest) -> float | None:
    times = [float(step["at"]) for step in authentication_steps(request) if step.get("method") == MFA_METHOD]
    return max(times) if times else None


def step_up_is_fresh(request: HttpRequest) -> bool:
    """Whether an authenticator code (or recovery code) was entered in this session recently enough
    for a sensitive action such as recording an approval decision."""
    at = last_mfa_at(request)
    return at is not None and time.time() - at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def totp_code(secret: str, at: float | None = None) -> str:
    """The authenticator code for a base32 secret at a time (now by default): what an authenticator app
    shows. For the demo accounts' published secret and for tests."""
    counter = int(time.time() if at is None else at) // int(settings.MFA_TOTP_PERIOD)
    return format_hotp_value(hotp_value(secret, counter))
