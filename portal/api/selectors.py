"""Reads the API needs that no domain app offers a selector for yet.

Each belongs with the app that owns its model (accounts, participants) and should move into that
app's `selectors.py` once it has one; the API then imports it from there. Nothing here decides
anything: these are plain, scoped reads.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet

from portal.accounts.models import ApiToken
from portal.participants.models import ApprovalRequirement, MarketRole, Membership, Mpid, RoleGroup


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


def market_role_list() -> QuerySet[MarketRole]:
    return MarketRole.objects.filter(is_active=True).select_related("role_group").order_by("order", "code")


def approval_matrix() -> QuerySet[RoleGroup]:
    """Every role group with the bodies that must approve it and its active market roles."""
    return RoleGroup.objects.prefetch_related(
        Prefetch("approval_requirements", queryset=ApprovalRequirement.objects.order_by("body")),
        Prefetch("market_roles", queryset=MarketRole.objects.filter(is_active=True).order_by("order", "code")),
    ).order_by("order", "name")
