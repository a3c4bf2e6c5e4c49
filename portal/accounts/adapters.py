import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from portal.accounts import services


class PortalAccountAdapter(DefaultAccountAdapter):
    """Accounts belong to known people at known organisations and are created by an administrator,
    so the public sign-up form is closed.

    The hooks below only tell `portal.accounts.services` what happened, so that every sign-in, failed
    sign-in and throttled attempt is audited once (docs/security.md)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            services.sign_in_throttled(login=credentials.get("email", credentials.get("username")))
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        services.sign_in_failed(login=credentials.get("email", credentials.get("username")))

    def login(self, request: HttpRequest, user: Any) -> None:
        """Called once every step of the sign-in (password, then authenticator code) has passed."""
        super().login(request, user)
        services.sign_in_succeeded(request=request, user=user)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Changing one's authenticator needs a recent authentication: a re-authentication, or the
        sign-in itself when it happened within the re-authentication window (so that someone sent to
        set up an authenticator app right after signing in is not asked for their password again)."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        from portal.accounts.mfa import authentication_steps

        request = getattr(context, "request", None)
        if request is None:
            return True
        steps = authentication_steps(request)
        if not steps:
            return True
        return time.time() - float(steps[-1]["at"]) >= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


class PortalMFAAdapter(DefaultMFAAdapter):
    """Staff users and Company Directors may not remove their authenticator app themselves: they must
    sign in with it. To move to a new phone, an administrator deletes the old one (admin, "Authenticators")
    and the user sets up the new one at their next sign-in."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "Your role needs two-factor authentication, so you cannot remove your authenticator app. "
            "To move to a new phone, ask an administrator to reset it."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        from portal.accounts.mfa import user_requires_mfa

        if authenticator.type == Authenticator.Type.TOTP and user_requires_mfa(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
