"""The audit log in the admin: strictly read-only. Also the two admin bases the other apps use.

`AuditedModelAdmin` records every change an administrator makes to reference data (the approval
matrix, routes, organisations, users…) as one audit event, in the admin's own transaction, with the
object before and after. `ReadOnlyModelAdmin` shows records that change only through the services.
Both can show a `description` under the page title.
"""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record


class DescribedModelAdmin(admin.ModelAdmin):
    """Shows `description` as the subtitle of the list, add and change pages."""

    description = ""

    def _described(self, extra_context: dict[str, Any] | None) -> dict[str, Any]:
        context = dict(extra_context or {})
        if self.description:
            context.setdefault("subtitle", self.description)
        return context

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, self._described(extra_context))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        return super().changeform_view(request, object_id, form_url, self._described(extra_context))


class ReadOnlyModelAdmin(DescribedModelAdmin):
    """Records that only the services write: the admin may look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedModelAdmin(DescribedModelAdmin):
    """Every save and delete through this admin writes one audit event (before and after)."""

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        """What the event records about `obj`: its editable fields (never a password hash);
        subclasses add related rows (inlines)."""
        return {
            f.name: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            if (f.editable or f.primary_key) and f.name != "password"
        }

    def _action(self, obj: Model, verb: str) -> str:
        return f"admin.{obj._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = self.audit_snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change and obj.pk else {}
        obj._audit_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        verb = "change" if change else "create"
        audit_record(
            actor=request.user,
            action=self._action(obj, verb),
            target=obj,
            summary=f"{'Changed' if change else 'Added'} {obj._meta.verbose_name} “{obj}” in the admin",
            before=getattr(obj, "_audit_before", {}),
            after=self.audit_snapshot(obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)

    def _record_delete(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user,
            action=self._action(obj, "delete"),
            target=obj,
            summary=f"Deleted {obj._meta.verbose_name} “{obj}” in the admin",
            before=self.audit_snapshot(obj),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    description = (
        "The append-only, hash-chained audit log. Nobody can add, change or delete an event here; "
        "`manage.py verify_audit` checks that the chain is unbroken."
    )
    list_display = (
        "sequence",
        "occurred_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "summary",
        "client_address",
    )
    list_filter = ("action", "target_type")
    # A request id (quoted by a user, or found in the log) or an address finds the events of that request.
    search_fields = ("summary", "actor_label", "action", "target_id", "=request_id", "=client_address")
    date_hierarchy = "occurred_at"
    ordering = ("-sequence",)
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "sequence",
        "occurred_at",
        "actor",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "organisation_id",
        "application_id",
        "summary",
        "before",
        "after",
        "client_address",
        "request_id",
        "prev_hash",
        "hash",
    )
