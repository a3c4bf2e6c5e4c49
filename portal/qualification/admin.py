"""The process definition in the admin (routes and their task definitions: editable, audited), and
applications and tasks (read-only: they change only through the services)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.accounts.roles import Role
from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.qualification.models import Application, Route, Task, TaskDefinition, TaskEntry
from portal.qualification.workflow import TaskKind, actions_for_kind

READ_ONLY_NOTE = (
    "Read-only: applications and their tasks change only through the portal's own actions (the task "
    "pages of the web UI and the API), which check the rules, write the audit log and notify the people "
    "concerned. Nothing can be edited here."
)


# --- the process definition --------------------------------------------------------------------


class TaskDefinitionForm(forms.ModelForm):
    depends_on = forms.CharField(
        required=False,
        help_text="Codes of the tasks this one waits for, separated by commas.",
        widget=forms.TextInput(attrs={"size": 30}),
    )
    actor_roles = forms.MultipleChoiceField(
        choices=Role.choices, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    assurer_roles = forms.MultipleChoiceField(
        choices=Role.choices, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )

    class Meta:
        model = TaskDefinition
        fields = (
            "order",
            "code",
            "title",
            "kind",
            "stage",
            "depends_on",
            "actor_roles",
            "assurer_roles",
            "is_optional",
            "approval_body",
            "description",
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 40})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["depends_on"] = ", ".join(self.instance.depends_on)

    def clean_depends_on(self) -> list[str]:
        codes = [code.strip() for code in (self.cleaned_data.get("depends_on") or "").split(",")]
        return list(dict.fromkeys(code for code in codes if code))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        if kind == TaskKind.APPROVAL and not cleaned.get("approval_body"):
            self.add_error("approval_body", "An approval task names the body whose approval it records.")
        if kind != TaskKind.APPROVAL and cleaned.get("approval_body"):
            self.add_error("approval_body", "Only an approval task names an approval body.")
        parties = {t.party.value for t in actions_for_kind(kind)}
        for party in sorted(parties):
            field = f"{party}_roles"
            if not cleaned.get(field):
                self.add_error(field, f"A {TaskKind(kind).label.lower()} task needs at least one {party} role.")
        return cleaned


class TaskDefinitionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        graph: dict[str, list[str]] = {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            code = form.cleaned_data.get("code")
            if code:
                graph[code] = form.cleaned_data.get("depends_on") or []
        for code, depends_on in graph.items():
            unknown = [d for d in depends_on if d not in graph]
            if unknown:
                raise forms.ValidationError(f"“{code}” waits for tasks this route does not have: {', '.join(unknown)}.")
            if code in depends_on:
                raise forms.ValidationError(f"“{code}” cannot wait for itself.")
        cycle = dependency_cycle(graph)
        if cycle:
            raise forms.ValidationError("These tasks wait for each other in a circle: " + " → ".join(cycle) + ".")


def dependency_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A dependency cycle as a list of codes (first repeated last), or [] when there is none."""
    done: set[str] = set()

    def visit(code: str, path: list[str]) -> list[str]:
        if code in path:
            return [*path[path.index(code) :], code]
        if code in done:
            return []
        for dependency in graph.get(code, []):
            found = visit(dependency, [*path, code])
            if found:
                return found
        done.add(code)
        return []

    for start in graph:
        found = visit(start, [])
        if found:
            return found
    return []


class TaskDefinitionInline(admin.StackedInline):
    model = TaskDefinition
    form = TaskDefinitionForm
    formset = TaskDefinitionFormSet
    extra = 0
    ordering = ("order",)
    fieldsets = (
        (None, {"fields": (("order", "code", "title"), ("kind", "stage", "is_optional", "approval_body"))}),
        (None, {"fields": (("depends_on", "actor_roles", "assurer_roles"), "description")}),
    )


@admin.register(Route)
class RouteAdmin(AuditedModelAdmin):
    description = (
        "Qualification routes and their process: which tasks exist, their order and dependencies, who acts "
        "and who assures, which are optional. A new application gets the route's tasks when it is "
        "registered; edits to a task definition apply at once to the tasks that use it, also on open "
        "applications. Approval tasks are created only for the bodies the approval-routing matrix "
        "requires. Every change is audited."
    )
    list_display = ("name", "code", "groups", "new_entrants_only", "is_active", "task_count", "order")
    list_filter = ("is_active", "new_entrants_only")
    fields = ("code", "name", "description", "role_groups", "new_entrants_only", "is_active", "order")
    inlines = (TaskDefinitionInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return super().get_queryset(request).prefetch_related("role_groups", "task_definitions")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role_groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Role groups")
    def groups(self, obj: Route) -> str:
        return ", ".join(g.name for g in obj.role_groups.all())

    @admin.display(description="Tasks")
    def task_count(self, obj: Route) -> int:
        return len(obj.task_definitions.all())

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        tasks = obj.task_definitions.order_by("order").values(
            "code",
            "title",
            "kind",
            "stage",
            "order",
            "depends_on",
            "actor_roles",
            "assurer_roles",
            "is_optional",
            "approval_body",
        )
        return {
            **super().audit_snapshot(obj),
            "role_groups": sorted(obj.role_groups.values_list("code", flat=True)),
            "tasks": list(tasks),
        }


# --- applications and tasks (read-only) ----------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TaskInline(ReadOnlyInline):
    model = Task
    fields = ("code", "state", "decision", "waiting_on", "completed_at")
    ordering = ("order",)
    show_change_link = True


@admin.register(Application)
class ApplicationAdmin(ReadOnlyModelAdmin):
    description = READ_ONLY_NOTE
    list_display = ("reference", "organisation", "mpid", "market_role", "route", "status", "updated_at")
    list_filter = ("status", "route", "market_role")
    search_fields = ("organisation__name", "mpid__code", "market_role__code")
    list_select_related = ("organisation", "mpid", "market_role", "route")
    date_hierarchy = "created_at"
    inlines = (TaskInline,)

    @admin.display(description="Reference", ordering="id")
    def reference(self, obj: Application) -> str:
        return obj.reference


class TaskEntryInline(ReadOnlyInline):
    model = TaskEntry
    fields = ("created_at", "actor", "action", "from_state", "to_state", "decision", "comment")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(Task)
class TaskAdmin(ReadOnlyModelAdmin):
    description = READ_ONLY_NOTE
    list_display = ("__str__", "application", "code", "state", "decision", "waiting_on", "updated_at")
    list_filter = ("state", "waiting_on", "code")
    search_fields = ("application__organisation__name", "application__mpid__code", "code")
    list_select_related = ("application__mpid", "application__market_role", "definition")
    inlines = (TaskEntryInline,)
