"""Session lifetime and two-factor enforcement, for every request of a signed-in user.

`SessionLifetimeMiddleware` ends a session (that session only) 12 hours after sign-in whatever
happens, or after a spell without requests: 30 minutes for staff and directors, 2 hours for other
participant users (settings `PORTAL_SESSION_*`).

`MfaRequiredMiddleware`: staff users and Company Directors must have an authenticator app and must
have entered its code in this session. Without an authenticator they are sent to set one up (and may
use only the account pages until they have); a session that did not pass the second factor is ended.
The API answers these with 403 and `{code, message, details}` instead of redirecting.
"""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from portal.accounts import services
from portal.accounts.mfa import session_passed_mfa, user_has_totp, user_requires_mfa

API_PREFIX = "/api/"
ACCOUNT_PREFIX = "/accounts/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _login_redirect(request: HttpRequest) -> HttpResponse:
    next_path = request.get_full_path() if request.method == "GET" else "/"
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_path})}")


def idle_limit_seconds(user: object) -> int:
    if user_requires_mfa(user):
        return int(settings.PORTAL_SESSION_IDLE_SECONDS_MFA_ROLES)
    return int(settings.PORTAL_SESSION_IDLE_SECONDS_PARTICIPANTS)


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = self._expired(request)
            if reason:
                services.session_expire(request=request, reason=reason)
                if not _is_api(request):
                    messages.info(request, f"You were signed out {reason}. Sign in again to continue.")
                    return _login_redirect(request)
            else:
                services.session_touch(request=request)
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest) -> str:
        started = request.session.get(services.SESSION_STARTED_KEY)
        seen = request.session.get(services.SESSION_SEEN_KEY)
        if started is None or seen is None:
            return "because your session could not be checked"
        now = time.time()
        if now - float(started) >= settings.PORTAL_SESSION_ABSOLUTE_SECONDS:
            hours = settings.PORTAL_SESSION_ABSOLUTE_SECONDS // 3600
            return f"{hours} hours after you signed in"
        idle = idle_limit_seconds(request.user)
        if now - float(seen) >= idle:
            return f"after {idle // 60} minutes without activity"
        return ""


MFA_ENROL_MESSAGE = (
    "Your role needs two-factor authentication. Set up an authenticator app to continue: scan the QR code "
    "with the app, then enter the 6-digit code it shows."
)
MFA_NOT_PASSED_MESSAGE = "Sign in again and enter the code from your authenticator app."


def _api_refusal(code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": {}}, status=403)


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # A session that passed the second factor needs nothing more (and costs no query).
        if user is None or not user.is_authenticated or session_passed_mfa(request) or not user_requires_mfa(user):
            return self.get_response(request)
        if not user_has_totp(user):
            if _is_api(request):
                return _api_refusal(
                    "mfa_enrolment_required",
                    "Your role needs two-factor authentication: set up an authenticator app in the portal first.",
                )
            if request.path.startswith(ACCOUNT_PREFIX):
                return self.get_response(request)
            messages.warning(request, MFA_ENROL_MESSAGE)
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        # An authenticator exists but this session never entered its code: end the session.
        if _is_api(request):
            return _api_refusal("mfa_required", MFA_NOT_PASSED_MESSAGE)
        services.session_expire(request=request, reason="because the session did not pass two-factor authentication")
        messages.warning(request, MFA_NOT_PASSED_MESSAGE)
        return _login_redirect(request)
