"""Reads of the market reference data."""

from django.db.models import Prefetch, QuerySet

from portal.participants.models import ApprovalRequirement, MarketRole, RoleGroup


def market_role_list() -> QuerySet[MarketRole]:
    return MarketRole.objects.filter(is_active=True).select_related("role_group").order_by("order", "code")


def approval_matrix() -> QuerySet[RoleGroup]:
    """Every role group with the bodies that must approve it and its active market roles."""
    return RoleGroup.objects.prefetch_related(
        Prefetch("approval_requirements", queryset=ApprovalRequirement.objects.order_by("body")),
        Prefetch("market_roles", queryset=MarketRole.objects.filter(is_active=True).order_by("order", "code")),
    ).order_by("order", "name")
