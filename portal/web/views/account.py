"""Your account: your signed-in sessions (end one, or every other one), your API tokens (create one,
revoke one) and a link to your two-factor authentication (ASVS 7.4.3, 7.5.2).

Which actions ask for a recent second factor, for staff users and Company Directors:

- creating an API token does (`step_up_required_for_mfa_roles`): a token acts as its user in the API for
  as long as it lives, and outlives the session it was made in, so someone who took over a session for a
  moment must not be able to keep a door open with it;
- ending sessions and revoking tokens do not: they only take access away, and a person who suspects that
  someone else is signed in as them must be able to act at once (anyone holding one of their sessions
  could end them all anyway, by signing out). See `portal.accounts.services.session_end`.
"""

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts.mfa import user_has_totp, user_requires_mfa
from portal.accounts.models import User
from portal.accounts.selectors import api_token_list, session_list, session_summaries
from portal.accounts.services import api_token_create, api_token_revoke, session_end, sessions_end_others
from portal.accounts.stepup import step_up_required_for_mfa_roles
from portal.core.errors import ApplicationError, NotFound
from portal.core.pages import PageErrors, portal_page
from portal.web.forms import TokenForm
from portal.web.views.base import render_page


def _user(request: HttpRequest) -> User:
    """The signed-in user (`portal_page` lets no one else in)."""
    return cast(User, request.user)


def _account_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "nav": "account",
        "sessions": session_summaries(session_list(user=user), current_key=request.session.session_key),
        "tokens": list(api_token_list(user=user)),
        "requires_mfa": user_requires_mfa(user),
        "has_totp": user_has_totp(user),
    }


@require_http_methods(["GET"])
@portal_page
def account(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/account.html", _account_context(request))


@require_POST
@portal_page
def account_session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        ended = session_end(request=request, user=_user(request), session_id=session_id)
    except NotFound:
        raise
    except ApplicationError as exc:
        return render_page(request, "web/account.html", _account_context(request), errors=PageErrors.from_error(exc))
    messages.success(request, f"Session ended: {ended.browser or 'Unknown browser'}. That browser is signed out.")
    return redirect("web:account")


@require_POST
@portal_page
def account_sessions_end_others(request: HttpRequest) -> HttpResponse:
    count = sessions_end_others(request=request, user=_user(request))
    if count:
        messages.success(request, f"{count} other session{'s' if count != 1 else ''} ended. Only this one is left.")
    else:
        messages.info(request, "You had no other sessions to end.")
    return redirect("web:account")


@require_http_methods(["GET", "POST"])
@portal_page
@step_up_required_for_mfa_roles
def account_token_create(request: HttpRequest) -> HttpResponse:
    """The form; on success, the page that shows the secret, once. It is the answer to the POST itself
    (never stored, never redirected to), so going back or reloading cannot show it again."""
    form = TokenForm(request.POST or None)
    context: dict[str, Any] = {"nav": "account", "form": form}
    if request.method != "POST":
        return render_page(request, "web/account_token_create.html", context)
    if not form.is_valid():
        return render_page(request, "web/account_token_create.html", context, errors=PageErrors.from_form(form))
    try:
        token, secret = api_token_create(
            actor=request.user, user=_user(request), name=form.cleaned_data["name"], notify_owner=True
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, {"name": "id_name"})
        return render_page(request, "web/account_token_create.html", context, errors=errors)
    return render_page(request, "web/account_token_created.html", {"nav": "account", "token": token, "secret": secret})


@require_POST
@portal_page
def account_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    # Only one's own tokens here, also for an administrator (who revokes others' in the admin or the API).
    if not api_token_list(user=request.user).filter(pk=token_id).exists():
        raise NotFound("No API token of yours was found with that id.")
    try:
        token = api_token_revoke(actor=request.user, token_id=token_id)
    except NotFound:
        raise
    except ApplicationError as exc:
        return render_page(request, "web/account.html", _account_context(request), errors=PageErrors.from_error(exc))
    messages.success(request, f"API token “{token.name}” revoked. Requests with it are refused from now on.")
    return redirect("web:account")
