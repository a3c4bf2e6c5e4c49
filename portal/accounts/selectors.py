"""Who a user is in the portal: their roles and the organisations they act for.

Both answers are cached on the user object for the length of a request, because every permission
check asks them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from portal.accounts.models import ApiToken, SignedInSession, User
from portal.accounts.roles import MFA_ROLES, PARTICIPANT_ROLES, STAFF_ROLES, Role
from portal.participants.models import Membership, Mpid

AnyUser = User | AnonymousUser


def user_roles(user: Any) -> frozenset[Role]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    # One query for the user's groups and memberships (every request asks): a row per pair of them,
    # a handful at most, with None where the user has none of one.
    pairs = User.objects.filter(pk=user.pk).values_list(
        "groups__name", "memberships__organisation_id", "memberships__is_director"
    )
    names = set()
    found: dict[int, bool] = {}
    for name, organisation_id, is_director in pairs:
        if name is not None:
            names.add(name)
        if organisation_id is not None:
            found[organisation_id] = bool(is_director)
    roles = {Role(name) for name in names if name in STAFF_ROLES}
    memberships = list(found.items())
    if memberships:
        roles.add(Role.PARTICIPANT_MEMBER)
    if any(is_director for _, is_director in memberships):
        roles.add(Role.PARTICIPANT_DIRECTOR)
    if user.is_superuser:
        roles.add(Role.ADMINISTRATOR)
    result = frozenset(roles)
    user._portal_roles = result
    user._portal_organisation_ids = frozenset(org_id for org_id, _ in memberships)
    user._portal_director_of = frozenset(org_id for org_id, is_director in memberships if is_director)
    return result


def user_organisation_ids(user: Any) -> frozenset[int]:
    """The organisations a participant user acts for (empty for staff)."""
    user_roles(user)
    return getattr(user, "_portal_organisation_ids", frozenset())


def user_director_organisation_ids(user: Any) -> frozenset[int]:
    """The organisations the user is recorded as a Company Director of (a subset of their own)."""
    user_roles(user)
    return getattr(user, "_portal_director_of", frozenset())


def user_is_director_of(user: Any, organisation_id: int) -> bool:
    return organisation_id in user_director_organisation_ids(user)


def user_is_staff_reviewer(user: Any) -> bool:
    """Staff of a Code Body, the Programme, the DIP Manager, PAB or Service Activation."""
    return bool(user_roles(user) - PARTICIPANT_ROLES)


def users_with_roles(roles: frozenset[Role] | set[Role]) -> QuerySet[User]:
    """Active staff users holding any of `roles` (participant roles are answered per organisation)."""
    names = [role.value for role in roles if role in STAFF_ROLES]
    return User.objects.filter(is_active=True, groups__name__in=names).distinct()


def organisation_users(organisation_id: int, *, directors_only: bool = False) -> QuerySet[User]:
    """Active users of the organisation; with `directors_only`, those recorded as its directors.

    Both conditions are on the same membership row (one `filter` call): a director of another
    organisation who is a plain member of this one is not this organisation's director."""
    membership: dict[str, object] = {"memberships__organisation_id": organisation_id}
    if directors_only:
        membership["memberships__is_director"] = True
    return User.objects.filter(is_active=True, **membership).distinct()


def membership_list(*, user: Any) -> QuerySet[Membership]:
    """The organisations the user acts for, each with its MPIDs."""
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .prefetch_related(Prefetch("organisation__mpids", queryset=Mpid.objects.order_by("code")))
        .order_by("organisation__name")
    )


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, revoked ones included (their history is theirs)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


# The last-seen time of a session row is written at most this often (services.LAST_SEEN_RESOLUTION_SECONDS).
_LAST_SEEN_SLACK = timedelta(minutes=5)


def session_list(*, user: Any) -> QuerySet[SignedInSession]:
    """The user's sessions that may still be alive, most recently active first: started within the
    absolute lifetime and seen within the idle limit of the user's role (with the slack of how often
    `last_seen_at` is written). A browser that was closed leaves its session to time out; it is no
    longer listed once it has."""
    now = timezone.now()
    idle = (
        settings.PORTAL_SESSION_IDLE_SECONDS_MFA_ROLES
        if user_roles(user) & MFA_ROLES
        else settings.PORTAL_SESSION_IDLE_SECONDS_PARTICIPANTS
    )
    return SignedInSession.objects.filter(
        user=user,
        started_at__gt=now - timedelta(seconds=settings.PORTAL_SESSION_ABSOLUTE_SECONDS),
        last_seen_at__gt=now - timedelta(seconds=idle) - _LAST_SEEN_SLACK,
    ).order_by("-last_seen_at", "-id")


@dataclass(frozen=True)
class SessionSummary:
    """One session as the user sees it: named by its row id, never by its key."""

    id: int
    started_at: datetime
    last_seen_at: datetime
    browser: str
    ip_address: str | None
    current: bool


def session_summaries(rows: Iterable[SignedInSession], *, current_key: str | None) -> list[SessionSummary]:
    return [
        SessionSummary(
            id=row.pk,
            started_at=row.started_at,
            last_seen_at=row.last_seen_at,
            browser=row.browser or "Unknown browser",
            ip_address=row.ip_address,
            current=bool(current_key) and row.session_key == current_key,
        )
        for row in rows
    ]
