"""Writes to accounts: API tokens.

A token's secret is returned once, by `api_token_create`, and never stored: only its SHA-256 is kept,
so a copy of the database gives nobody a usable token. Creating and revoking a token are audited;
using one only refreshes `last_used_at`, at most once a minute, so a busy client does not write on
every request.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import ApiToken, User
from portal.accounts.roles import Role
from portal.accounts.selectors import user_roles
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, NotFound

MAX_TOKEN_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS_PER_USER = 20
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _may_manage_tokens_of(actor: Any, user: User) -> bool:
    """A person manages their own tokens; an administrator may manage anyone's. `actor=None` is the
    system itself (a management command run by an operator)."""
    if actor is None:
        return True
    return bool(actor.pk == user.pk or Role.ADMINISTRATOR in user_roles(actor))


@transaction.atomic
def api_token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`. Returns the token and its secret, which is shown only now."""
    if not _may_manage_tokens_of(actor, user):
        raise NotFound("No user was found whose tokens you can manage.")
    if not user.is_active:
        raise InvalidInput(f"{user.email} is not an active user.", details={"field": "user"})
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

    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(user=user, name=name, key_prefix=secret[:8], key_hash=ApiToken.hash_secret(secret))
    audit_record(
        actor=actor,
        action="api_token.create",
        target=token,
        summary=f"API token “{name}” ({token.key_prefix}…) created for {user.email}",
        after={"user": user.email, "name": name, "key_prefix": token.key_prefix},
    )
    return token, secret


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
