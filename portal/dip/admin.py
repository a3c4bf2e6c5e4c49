"""The DIP onboarding steps in the admin (reference data: editable, every change audited), and the
applications' progress and the DIP IDs (read-only: they change only through the services, which check
the rules, audit and notify)."""

from django.contrib import admin

from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.dip.models import DipId, DipOnboardingStep, DipStepProgress


@admin.register(DipOnboardingStep)
class DipOnboardingStepAdmin(AuditedModelAdmin):
    description = (
        "The DIP onboarding steps participants mark done. Every active step must be done before DIP onboarding "
        "can be submitted; changes apply at once to open applications. Make a step inactive rather than "
        "deleting it once progress exists. Every change is audited."
    )
    list_display = ("order", "code", "title", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_active",)
    search_fields = ("code", "title", "guidance")
    fields = ("code", "title", "guidance", "order", "is_active")


@admin.register(DipStepProgress)
class DipStepProgressAdmin(ReadOnlyModelAdmin):
    description = "Read-only: participants mark steps on the application's DIP onboarding page or through the API."
    list_display = ("application", "step", "done", "done_by", "done_at")
    list_filter = ("done", "step")
    search_fields = ("application__mpid__code", "application__organisation__name")
    list_select_related = ("application__mpid", "application__market_role", "step", "done_by")


@admin.register(DipId)
class DipIdAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: participants record DIP IDs and the DIP Manager confirms them on the application's DIP "
        "onboarding page or through the API."
    )
    list_display = ("value", "mpid", "market_role", "environment", "created_by", "confirmed_by", "confirmed_at")
    list_filter = ("environment", "market_role")
    search_fields = ("value", "mpid__code")
    list_select_related = ("mpid", "market_role", "created_by", "confirmed_by")
