"""Reference data of the participants: organisations (with their MPIDs and people), role groups with
the approval-routing matrix, and market roles. Every change made here is written to the audit log."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.audit.admin import AuditedModelAdmin
from portal.participants.models import ApprovalRequirement, MarketRole, Membership, Mpid, Organisation, RoleGroup


class MpidInline(admin.TabularInline):
    model = Mpid
    extra = 0
    fields = ("code",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "is_director")
    autocomplete_fields = ("user",)
    verbose_name = "member"
    verbose_name_plural = "members (participant users; a Company Director alone may sign a Final QAD)"


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    description = (
        "Market participants. Their members act for them in the portal and see only their own "
        "applications; a member marked Company Director may sign a Final QAD."
    )
    list_display = ("name", "company_number", "mpid_codes", "is_new_entrant", "is_bsc_party", "is_rec_party")
    list_filter = ("is_new_entrant", "is_bsc_party", "is_rec_party")
    search_fields = ("name", "company_number", "mpids__code")
    fields = ("name", "company_number", "contact_email", "is_new_entrant", "is_bsc_party", "is_rec_party")
    inlines = (MpidInline, MembershipInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).prefetch_related("mpids")

    @admin.display(description="MPIDs")
    def mpid_codes(self, obj: Organisation) -> str:
        return ", ".join(m.code for m in obj.mpids.all())

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return {
            **super().audit_snapshot(obj),
            "mpids": sorted(obj.mpids.values_list("code", flat=True)),
            "members": sorted(
                [email, director] for email, director in obj.memberships.values_list("user__email", "is_director")
            ),
        }


class ApprovalRequirementInline(admin.TabularInline):
    model = ApprovalRequirement
    extra = 0
    fields = ("body",)
    verbose_name = "body whose approval is required"
    verbose_name_plural = "approval-routing matrix: the bodies that must approve this role group"


class MarketRoleInline(admin.TabularInline):
    model = MarketRole
    extra = 0
    fields = ("code", "name", "is_active", "order")
    show_change_link = True


@admin.register(RoleGroup)
class RoleGroupAdmin(AuditedModelAdmin):
    description = (
        "The approval-routing matrix. The bodies listed for a role group are the approval tasks an "
        "application in that group is given when it is registered (applications already registered keep "
        "theirs), and which applications each body's staff can see. Every change is audited."
    )
    list_display = ("name", "code", "required_approvals", "order")
    fields = ("code", "name", "order")
    inlines = (ApprovalRequirementInline, MarketRoleInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoleGroup]:
        return super().get_queryset(request).prefetch_related("approval_requirements")

    @admin.display(description="Approval required from")
    def required_approvals(self, obj: RoleGroup) -> str:
        return ", ".join(r.get_body_display() for r in obj.approval_requirements.all()) or "nobody (incomplete)"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return {
            **super().audit_snapshot(obj),
            "approval_bodies": sorted(obj.approval_requirements.values_list("body", flat=True)),
            "market_roles": sorted(obj.market_roles.values_list("code", flat=True)),
        }


@admin.register(MarketRole)
class MarketRoleAdmin(AuditedModelAdmin):
    description = (
        "The roles a participant qualifies in. An inactive role cannot be chosen for a new application. "
        "Its role group decides which bodies must approve it."
    )
    list_display = ("code", "name", "role_group", "is_active", "order")
    list_filter = ("role_group", "is_active")
    list_editable = ("is_active", "order")
    search_fields = ("code", "name")
    fields = ("code", "name", "role_group", "is_active", "order")
