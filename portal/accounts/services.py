"""Writes to accounts: API tokens, sessions, and the audit of authentication events.

A token's secret is returned once, by `api_token_create`, and never stored: only its SHA-256 is kept,
so a copy of the database gives nobody a usable token. Creating and revoking a token are audited;
using one only refreshes `last_used_at`, at most once a minute, so a busy client does not write on
every request.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from portal.accounts.models import ApiToken, SignedInSession, User
from portal.accounts.roles import Role
from portal.accounts.selectors import session_list, user_roles
from portal.accounts.useragent import browser_summary
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.core.request_context import client_address_of

MAX_TOKEN_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS_PER_USER = 20
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The "Your account" page (portal/web), linked from the e-mails about tokens and sessions.
ACCOUNT_PAGE = "/your-account/"


def _may_manage_tokens_of(actor: Any, user: User) -> bool:
    """A person manages their own tokens; an administrator may manage anyone's. `actor=None` is the
    system itself (a management command run by an operator)."""
    if actor is None:
        return True
    return bool(actor.pk == user.pk or Role.ADMINISTRATOR in user_roles(actor))


def _refuse_token_without_mfa(user: User) -> None:
    """A token of a staff user or director stands for a person who signs in with two factors: it is
    made only once they have an authenticator app (the token then also needs its codes for decisions)."""
    from portal.accounts.mfa import user_has_totp, user_requires_mfa

    if user_requires_mfa(user) and not user_has_totp(user):
        raise PermissionDenied(
            f"{user.email} must set up two-factor authentication (an authenticator app) before an API token "
            "can be created for them.",
            details={"field": "user"},
        )


@transaction.atomic
def api_token_create(
    *,
    actor: Any,
    user: User,
    name: str,
    notify_owner: bool = False,
    step_up: Callable[[], None] | None = None,
) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`. Returns the token and its secret, which is shown only now.

    With `notify_owner`, the user is told by e-mail (and in their inbox), so that a token they did not
    make does not go unnoticed: the portal's faces (the Your account page, `POST /v1/me/tokens` and
    `manage.py create_api_token`) ask for it; tokens made by tests and data set-up do not.

    `step_up`, when given, is called once every other check has passed, for a staff user or director
    making their own token: it raises unless the request carries a recent second factor (the API passes
    `stepup.step_up_check`; the page asks for the code before it calls)."""
    if not _may_manage_tokens_of(actor, user):
        raise NotFound("No user was found whose tokens you can manage.")
    if not user.is_active:
        raise InvalidInput(f"{user.email} is not an active user.", details={"field": "user"})
    _refuse_token_without_mfa(user)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(
            "Enter a name for the token, such as the system that will use it.", details={"field": "name"}
        )
    if len(name) > MAX_TOKEN_NAME_LENGTH:
        raise InvalidInput(f"The name must be {MAX_TOKEN_NAME_LENGTH} characters or fewer.", details={"field": "name"})
    # Lock the user's row so that two requests at once cannot pass the checks below together.
    User.objects.select_for_update().filter(pk=user.pk).first()
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if active.filter(name__iexact=name).exists():
        raise Conflict(f"You already have an active token called “{name}”.", details={"field": "name"})
    if active.count() >= MAX_ACTIVE_TOKENS_PER_USER:
        raise Conflict(f"A user may hold at most {MAX_ACTIVE_TOKENS_PER_USER} active tokens; revoke one first.")
    if step_up is not None:
        from portal.accounts.mfa import user_requires_mfa

        if user_requires_mfa(user):
            step_up()

    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(user=user, name=name, key_prefix=secret[:8], key_hash=ApiToken.hash_secret(secret))
    audit_record(
        actor=actor,
        action="api_token.create",
        target=token,
        summary=f"API token “{name}” ({token.key_prefix}…) created for {user.email}",
        after={"user": user.email, "name": name, "key_prefix": token.key_prefix},
    )
    if notify_owner:
        _tell_token_created(token=token, by_owner=actor is not None and actor.pk == user.pk)
    return token, secret


def _tell_token_created(*, token: ApiToken, by_owner: bool) -> None:
    from portal.notifications.services import notify

    when = timezone.localtime(token.created_at).strftime("%d %b %Y at %H:%M")
    by = "" if by_owner else " by an administrator of the portal"
    notify(
        recipients=[token.user],
        subject=f"A new API token was created for your account: {token.name}",
        body=(
            f"A new API token “{token.name}” (starting {token.key_prefix}…) was created for your account in "
            f"the MHHS Qualification Portal{by} on {when}. It can do in the API whatever you can do in the "
            "portal.\n\nIf this was not you, revoke the token at once on the Your account page, change your "
            "password, end your other sessions there and tell the portal's administrators."
        ),
        link=ACCOUNT_PAGE,
    )


@transaction.atomic
def api_token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    """Revoke a token at once. Someone else's token answers NotFound, the same as a missing one."""
    token = ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
    if token is None or not _may_manage_tokens_of(actor, token.user):
        raise NotFound("No API token was found with that id.")
    if token.revoked_at is not None:
        raise Conflict(f"The token “{token.name}” was already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="api_token.revoke",
        target=token,
        summary=f"API token “{token.name}” ({token.key_prefix}…) of {token.user.email} revoked",
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token


def api_token_authenticate(*, secret: str) -> User | None:
    """The active user a presented secret belongs to, or None for an unknown, revoked or inactive
    user's token. Records when the token was last used."""
    if not secret:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_secret(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.user


# --- Sessions and authentication events -------------------------------------------------------------
#
# Called from allauth's adapter (portal/accounts/adapters.py), from the auth and MFA signals
# (portal/accounts/signals.py) and from the session middleware: those only pass on what happened.
# Nothing here stores a password or a code; a typed e-mail address is kept as typed (at most 254
# characters, control characters removed), since the audit log is read through escaping pages.

SESSION_STARTED_KEY = "portal_session_started_at"
SESSION_SEEN_KEY = "portal_session_seen_at"
# The last-seen time is written at most once a minute, so that a busy page does not save the session
# on every request; the idle timeout is therefore exact to within a minute.
SEEN_RESOLUTION_SECONDS = 60
# The last-seen time shown in the list of one's sessions (`SignedInSession.last_seen_at`) is written at
# most once every five minutes; when it was last written is kept in the session under this key.
SESSION_RECORDED_SEEN_KEY = "portal_session_recorded_seen_at"
LAST_SEEN_RESOLUTION_SECONDS = 5 * 60


def _clean_login(login: Any) -> str:
    text = str(login or "")[:254]
    return "".join(ch for ch in text if ch.isprintable())


@transaction.atomic
def auth_event_record(
    *,
    action: str,
    user: Any = None,
    summary: str,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit event for an authentication event (`auth.<what>`): the user acts on their own account
    when known; an unknown or failed sign-in is recorded by the system against the login as typed."""
    known = user is not None and getattr(user, "pk", None) is not None
    audit_record(
        actor=user if known and getattr(user, "is_authenticated", False) else None,
        action=action,
        target=user if known else "login",
        summary=summary,
        # Where it came from (the client address and the request id) is stamped on every event written
        # during a request by `audit_record` itself (portal/core/request_context.py).
        after=after or {},
    )


def sign_in_failed(*, login: Any) -> None:
    """A wrong password, or an address with no account: the same event, without the password."""
    typed = _clean_login(login)
    auth_event_record(
        action="auth.sign_in_failed",
        summary=f"Failed sign-in for “{typed}”",
        after={"login": typed},
    )


def sign_in_throttled(*, login: Any) -> None:
    typed = _clean_login(login)
    auth_event_record(
        action="auth.sign_in_throttled",
        summary=f"Sign-in refused for “{typed}”: too many failed attempts",
        after={"login": typed},
    )


def sign_in_succeeded(*, request: HttpRequest, user: User) -> None:
    from portal.accounts.mfa import authentication_steps

    methods = [str(step.get("method")) for step in authentication_steps(request)]
    auth_event_record(
        action="auth.sign_in",
        user=user,
        summary=f"{user.email} signed in ({' + '.join(methods) or 'password'})",
        after={"methods": methods},
    )


def session_started(*, request: HttpRequest, user: User) -> None:
    """Called when a user signs in (Django's `user_logged_in`; the session key is new by then): stamp
    the session's start and last-seen times, and remember the session against the user so that all of
    their sessions can be ended together. Rows of the user's sessions that can no longer be alive are
    dropped."""
    session = request.session
    now = time.time()
    session[SESSION_STARTED_KEY] = now
    session[SESSION_SEEN_KEY] = now
    session[SESSION_RECORDED_SEEN_KEY] = now
    if session.session_key is None:
        session.save()
    user_agent = "".join(ch for ch in request.META.get("HTTP_USER_AGENT", "") if ch.isprintable())
    user_agent = user_agent[: SignedInSession.MAX_USER_AGENT_LENGTH]
    started = timezone.now()
    oldest_alive = started - timedelta(seconds=settings.PORTAL_SESSION_ABSOLUTE_SECONDS)
    with transaction.atomic():
        SignedInSession.objects.filter(user=user, started_at__lt=oldest_alive).delete()
        SignedInSession.objects.update_or_create(
            session_key=session.session_key,
            defaults={
                "user": user,
                "started_at": started,
                "last_seen_at": started,
                "user_agent": user_agent,
                "browser": browser_summary(user_agent),
                "ip_address": client_address_of(request),
            },
        )


def _session_store(session_key: str | None = None) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _session_end(row: SignedInSession) -> bool:
    """End one session server-side: delete it from the session store and delete its row. Its browser
    is signed out at its next request. True if the store still held the session."""
    store = _session_store(row.session_key)
    alive = bool(store.exists(row.session_key))
    store.delete(row.session_key)
    row.delete()
    return alive


def _sessions_end(*, user: User, except_key: str | None) -> list[tuple[int, bool]]:
    """End every session of the user but `except_key`: (row id, whether it was still alive) for each."""
    ended = []
    for row in SignedInSession.objects.select_for_update().filter(user=user).order_by("pk"):
        if row.session_key == except_key:
            continue
        row_id = row.pk
        ended.append((row_id, _session_end(row)))
    return ended


@transaction.atomic
def sessions_end_all(*, user: User, except_key: str | None = None) -> int:
    """Delete every server-side session of the user (but `except_key`). Returns how many."""
    return sum(1 for _, alive in _sessions_end(user=user, except_key=except_key) if alive)


# Ending one's other sessions, from the "Your account" page or the API (ASVS 7.4.3, 7.5.2).
#
# Neither needs a recent re-authentication, not even for staff and directors: a person who suspects
# that someone else holds a session of theirs must be able to end it at once, and ending sessions only
# ever takes access away. Anyone who holds one of the user's sessions could end all of them anyway, by
# signing out (which ends every session of the user), so asking for a code here would protect nothing.
# The session in use is not ended this way: signing out ends it (and every other one).


def _session_label(row: SignedInSession) -> str:
    started = timezone.localtime(row.started_at).strftime("%d %b %Y %H:%M")
    where = f" from {row.ip_address}" if row.ip_address else ""
    return f"{row.browser or 'Unknown browser'}, signed in {started}{where}"


def _tell_sessions_ended(*, user: User, labels: list[str]) -> None:
    from portal.notifications.services import notify

    count = len(labels)
    listed = "\n".join(f"- {label}" for label in labels)
    notify(
        recipients=[user],
        subject="One of your sessions was ended" if count == 1 else f"{count} of your sessions were ended",
        body=(
            f"{'This session' if count == 1 else 'These sessions'} of your account in the MHHS Qualification "
            f"Portal {'was' if count == 1 else 'were'} ended from another session of yours:\n{listed}\n\n"
            "If this was not you, someone else may be signed in as you: sign in, change your password, end "
            "your other sessions on the Your account page and tell the portal's administrators."
        ),
        link=ACCOUNT_PAGE,
    )


@transaction.atomic
def session_end(*, request: HttpRequest | None, user: User, session_id: int) -> SignedInSession:
    """End one other session of `user`, named by its `SignedInSession` id: its browser is signed out
    at its next request. Another user's session answers NotFound, the same as a missing one; the
    session in use answers Conflict (sign out instead). Audited, and the user is told by e-mail."""
    current = _current_key(request)
    row = SignedInSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if row is None:
        raise NotFound("No session of yours was found with that id.")
    if current and row.session_key == current:
        raise Conflict("This is the session you are using now: sign out to end it (signing out ends every session).")
    label = _session_label(row)
    row_id = row.pk
    _session_end(row)
    auth_event_record(
        action="auth.session_ended",
        user=user,
        summary=f"{user.email} ended one of their other sessions ({label})",
        after={"session_id": row_id, "browser": row.browser, "reason": "ended by the user"},
    )
    _tell_sessions_ended(user=user, labels=[label])
    row.pk = row_id
    return row


@transaction.atomic
def sessions_end_others(*, request: HttpRequest | None, user: User) -> int:
    """End every session of `user` but the one in use (with a bearer token, which has no session:
    every session). Returns how many open sessions (those the user is shown, `selectors.session_list`)
    were ended; none is no error. Rows of sessions that had already timed out go too, unreported.
    Audited, and the user is told."""
    current = _current_key(request)
    rows = list(
        SignedInSession.objects.select_for_update().filter(user=user).exclude(session_key=current or "").order_by("pk")
    )
    shown = set(session_list(user=user).values_list("pk", flat=True))
    ended = [row for row in rows if row.pk in shown]
    labels = [_session_label(row) for row in ended]
    ids = [row.pk for row in ended]
    for row in rows:
        _session_end(row)
    if not ended:
        return 0
    count = len(ids)
    auth_event_record(
        action="auth.sessions_ended",
        user=user,
        summary=f"{user.email} ended {count} other session{'s' if count != 1 else ''}",
        after={"session_ids": ids, "sessions_ended": count, "reason": "ended by the user"},
    )
    _tell_sessions_ended(user=user, labels=labels)
    return count


def _current_key(request: HttpRequest | None) -> str | None:
    """The key of the session making the request, if it is a signed-in session (not a bearer call)."""
    session = getattr(request, "session", None) if request is not None else None
    return getattr(session, "session_key", None) or None


def signed_out(*, request: HttpRequest | None, user: Any) -> None:
    """Signing out ends every session of the user, on every device, not only this one."""
    if user is None or getattr(user, "pk", None) is None:
        return
    current = request.session.session_key if request is not None and hasattr(request, "session") else None
    others = sessions_end_all(user=user, except_key=current)
    if current:
        SignedInSession.objects.filter(session_key=current).delete()
    auth_event_record(
        action="auth.sign_out",
        user=user,
        summary=f"{user.email} signed out"
        + (f"; {others} other session{'s' if others != 1 else ''} ended" if others else ""),
        after={"other_sessions_ended": others},
    )


def user_deactivated(*, user: User) -> None:
    """An account switched off: every session it has ends now."""
    ended = sessions_end_all(user=user)
    auth_event_record(
        action="auth.sessions_ended",
        user=user,
        summary=f"{user.email} was deactivated: {ended} session{'s' if ended != 1 else ''} ended",
        after={"reason": "deactivated", "sessions_ended": ended},
    )


def session_expire(*, request: HttpRequest, reason: str) -> None:
    """End this session (only this one) because it was idle too long or reached its absolute
    lifetime; the user becomes anonymous for the rest of the request."""
    user = request.user
    key = request.session.session_key
    auth_event_record(
        action="auth.session_expired",
        user=user,
        summary=f"The session of {getattr(user, 'email', '')} ended: {reason}",
        after={"reason": reason},
    )
    if key:
        SignedInSession.objects.filter(session_key=key).delete()
    request.session.flush()
    request.user = AnonymousUser()


def session_touch(*, request: HttpRequest) -> None:
    """On every request of a signed-in session: keep its last-seen time in the session (for the idle
    timeout, at most once a minute) and on its `SignedInSession` row (for the list of the user's
    sessions, at most once every `LAST_SEEN_RESOLUTION_SECONDS`). Both are compared here with times
    kept in the session itself, so a request in between writes nothing and reads nothing more."""
    now = time.time()
    session = request.session
    seen = session.get(SESSION_SEEN_KEY)
    if seen is None or now - float(seen) >= SEEN_RESOLUTION_SECONDS:
        session[SESSION_SEEN_KEY] = now
    recorded = session.get(SESSION_RECORDED_SEEN_KEY)
    if recorded is None or now - float(recorded) >= LAST_SEEN_RESOLUTION_SECONDS:
        session[SESSION_RECORDED_SEEN_KEY] = now
        if session.session_key:
            SignedInSession.objects.filter(session_key=session.session_key).update(last_seen_at=timezone.now())


def mfa_event(*, user: Any, action: str, authenticator: Any, **extra: Any) -> None:
    """Enrolled, removed, used (a recovery code), failed: one event naming the kind of factor."""
    kind = str(getattr(authenticator, "type", "") or "")
    labels = {
        "auth.mfa_enrolled": "set up",
        "auth.mfa_removed": "removed",
        "auth.mfa_reset": "regenerated",
        "auth.recovery_code_used": "used",
        "auth.mfa_failed": "rejected a code for",
    }
    label = {"totp": "an authenticator app", "recovery_codes": "recovery codes"}.get(kind, kind)
    auth_event_record(
        action=action,
        user=user,
        summary=f"{getattr(user, 'email', '')}: {labels.get(action, action)} {label}",
        after={"type": kind, **extra},
    )


def mfa_enrolled(*, request: HttpRequest | None, user: Any, authenticator: Any) -> None:
    """Setting up an authenticator app proves the code it shows, so the session has passed MFA from
    then on (recorded the way allauth records a second-factor sign-in)."""
    from allauth.account.internal.flows.login import record_authentication

    mfa_event(user=user, action="auth.mfa_enrolled", authenticator=authenticator)
    if request is not None and getattr(authenticator, "type", "") == "totp":
        record_authentication(request, user, "mfa", id=authenticator.pk, type="totp", enrolled=True)


def reauthenticated(*, user: Any, method: str) -> None:
    auth_event_record(
        action="auth.reauthenticated",
        user=user,
        summary=f"{getattr(user, 'email', '')} re-authenticated ({method})",
        after={"method": method},
    )
