"""The PIT exit criteria in the admin (reference data: editable, every change audited), and the
applications' results and RTTM uploads (read-only: they change only through the services)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.testing.models import PitCriterion, PitCriterionResult, RttmUpload


@admin.register(PitCriterion)
class PitCriterionAdmin(AuditedModelAdmin):
    description = (
        "The PIT exit criteria participants record results and evidence against. A criterion applies to the "
        "routes and role groups it names (none named: every route, or every role group). Required criteria "
        "must be met, with evidence where it is asked for, before PIT can be submitted. Changes apply at once "
        "to open applications. Make a criterion inactive rather than deleting it once results exist. Every "
        "change is audited."
    )
    list_display = ("order", "code", "title", "is_required", "evidence_required", "applies_to", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_active", "is_required", "evidence_required", "routes", "role_groups")
    search_fields = ("code", "title", "guidance")
    fields = (
        "code",
        "title",
        "guidance",
        "order",
        "is_required",
        "evidence_required",
        "routes",
        "role_groups",
        "is_active",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PitCriterion]:
        return super().get_queryset(request).prefetch_related("routes", "role_groups")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in ("routes", "role_groups"):
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Applies to")
    def applies_to(self, obj: PitCriterion) -> str:
        routes = ", ".join(r.name for r in obj.routes.all()) or "every route"
        groups = ", ".join(g.name for g in obj.role_groups.all()) or "every role group"
        return f"{routes}; {groups}"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return {
            **super().audit_snapshot(obj),
            "routes": sorted(obj.routes.values_list("code", flat=True)),
            "role_groups": sorted(obj.role_groups.values_list("code", flat=True)),
        }


@admin.register(PitCriterionResult)
class PitCriterionResultAdmin(ReadOnlyModelAdmin):
    description = "Read-only: participants record PIT results on the application's PIT page or through the API."
    list_display = ("application", "criterion", "met", "recorded_by", "recorded_at")
    list_filter = ("met", "criterion")
    search_fields = ("application__mpid__code", "application__organisation__name", "criterion__code")
    list_select_related = ("application__mpid", "application__market_role", "criterion", "recorded_by")


@admin.register(RttmUpload)
class RttmUploadAdmin(ReadOnlyModelAdmin):
    description = "Read-only: each upload of an RTTM is a new version; none is replaced or deleted."
    list_display = ("application", "checkpoint", "version", "evidence", "created_at")
    list_filter = ("checkpoint",)
    search_fields = ("application__mpid__code", "application__organisation__name")
    list_select_related = ("application__mpid", "application__market_role", "evidence")
