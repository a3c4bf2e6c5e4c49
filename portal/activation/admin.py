"""The Service Activation checklist in the admin (reference data: editable, every change audited), and
the hand-offs with their checks and inputs (read-only: they change only through the services, which
check the rules, audit and notify)."""

from django.contrib import admin

from portal.activation.models import ActivationChecklistItem, Handoff, HandoffCheck, HandoffInput
from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin


@admin.register(ActivationChecklistItem)
class ActivationChecklistItemAdmin(AuditedModelAdmin):
    description = (
        "The Service Activation checklist the team works through for each hand-off. Every active required item "
        "must be done before a hand-off can be completed; changes apply at once to open hand-offs. Make an item "
        "inactive rather than deleting it once hand-offs have checked it. Every change is audited."
    )
    list_display = ("order", "code", "title", "is_required", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_required", "is_active")
    search_fields = ("code", "title", "description")
    fields = ("code", "title", "description", "order", "is_required", "is_active")


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyModelAdmin):
    description = "Read-only: the Service Activation team works on hand-offs on their pages or through the API."
    list_display = ("application", "created_at", "planned_go_live", "started_at", "completed_at")
    list_filter = ("completed_at",)
    search_fields = ("application__mpid__code", "application__organisation__name")
    list_select_related = ("application__mpid", "application__market_role")


@admin.register(HandoffCheck)
class HandoffCheckAdmin(ReadOnlyModelAdmin):
    description = "Read-only: the Service Activation team ticks items on the hand-off page or through the API."
    list_display = ("handoff", "item", "done", "done_by", "done_at")
    list_filter = ("done", "item")
    list_select_related = ("handoff__application__mpid", "handoff__application__market_role", "item", "done_by")


@admin.register(HandoffInput)
class HandoffInputAdmin(ReadOnlyModelAdmin):
    description = "Read-only: the Code Bodies and the DIP Manager add inputs on the hand-off page or through the API."
    list_display = ("handoff", "body", "author", "created_at")
    list_filter = ("body",)
    list_select_related = ("handoff__application__mpid", "handoff__application__market_role", "author")
