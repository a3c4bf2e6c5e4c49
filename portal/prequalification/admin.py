"""The waves in the admin (reference data: editable, audited); PQSs are read-only here, because they
change only through the portal's own pages and API."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.prequalification.models import PqsSubmission, RelianceProposalItem, Wave


@admin.register(Wave)
class WaveAdmin(AuditedModelAdmin):
    description = "The Qualification Testing waves participants may prefer in their PQS. Only active waves are offered."
    list_display = ["name", "code", "starts_on", "ends_on", "is_active", "order"]
    list_editable = ["is_active", "order"]
    prepopulated_fields = {"code": ["name"]}


class RelianceProposalItemInline(admin.TabularInline):
    model = RelianceProposalItem
    fields = ("title", "scope", "relied_on", "provider_name", "decision", "decided_by", "decided_at")
    readonly_fields = ("title", "scope", "relied_on", "provider_name", "decision", "decided_by", "decided_at")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PqsSubmission)
class PqsSubmissionAdmin(ReadOnlyModelAdmin):
    description = "Read-only: a PQS changes only through the portal's pages and API, which check the rules."
    list_display = ["application", "status", "version", "preferred_wave", "submitted_at"]
    list_filter = ["status", "preferred_wave"]
    list_select_related = ["application", "preferred_wave"]
    inlines = [RelianceProposalItemInline]
