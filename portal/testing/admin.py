"""The PIT exit criteria in the admin (reference data: editable, every change audited), and the
applications' results and RTTM uploads (read-only: they change only through the services)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.testing.exit_rules import parameter_errors
from portal.testing.models import ExitRule, PitCriterion, PitCriterionResult, QtPlan, ReadinessItem, RttmUpload


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


# --- Qualification Testing: exit rules, readiness items (reference data), plans (read-only) ---------------


class ExitRuleForm(forms.ModelForm):
    """Refuses parameters that do not fit the rule's kind when the rule is saved, so that a rule is never
    evaluated with parameters it cannot use (the evaluator reports such a rule as failing, not a crash)."""

    class Meta:
        model = ExitRule
        fields = ("code", "title", "kind", "parameters", "order", "routes", "is_active")
        help_texts = {
            "parameters": 'A JSON object. "No open defects" takes {"max_severity": 2} (1 critical … 4 low: defects '
            'at or above that severity block) and optionally "work_off_allowed": false (no work-off item covers '
            'them). "RTTM captured" takes {"checkpoint": "qt_exit"} (or qt_entry, pit_entry, pit_exit). Every '
            "other kind takes {}.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind and "parameters" not in self.errors:
            parameters = data.get("parameters")
            for problem in parameter_errors(kind, {} if parameters is None else parameters):
                self.add_error("parameters", problem)
        return data


@admin.register(ExitRule)
class ExitRuleAdmin(AuditedModelAdmin):
    form = ExitRuleForm
    description = (
        "The QT exit criteria, as rules evaluated live from each application's data and shown as its exit "
        "checklist. QT cannot be submitted for exit while a rule that applies to its route fails. A rule naming "
        "no route applies on every route. Changes apply at once to open applications; make a rule inactive "
        "rather than deleting it. Every change is audited."
    )
    list_display = ("order", "code", "title", "kind", "parameters", "applies_to", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_active", "kind", "routes")
    search_fields = ("code", "title")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExitRule]:
        return super().get_queryset(request).prefetch_related("routes")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "routes":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Applies to")
    def applies_to(self, obj: ExitRule) -> str:
        return ", ".join(r.name for r in obj.routes.all()) or "every route"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return {**super().audit_snapshot(obj), "routes": sorted(obj.routes.values_list("code", flat=True))}


@admin.register(ReadinessItem)
class ReadinessItemAdmin(AuditedModelAdmin):
    description = (
        "The QT prerequisites participants confirm in their readiness report. An item naming no role group "
        "applies to every role group. Make an item inactive rather than deleting it once reports use it. Every "
        "change is audited."
    )
    list_display = ("order", "code", "title", "role_group_names", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_active", "role_groups")
    search_fields = ("code", "title", "guidance")
    fields = ("code", "title", "guidance", "order", "role_groups", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReadinessItem]:
        return super().get_queryset(request).prefetch_related("role_groups")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role_groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Role groups")
    def role_group_names(self, obj: ReadinessItem) -> str:
        return ", ".join(g.name for g in obj.role_groups.all()) or "every role group"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return {**super().audit_snapshot(obj), "role_groups": sorted(obj.role_groups.values_list("code", flat=True))}


@admin.register(QtPlan)
class QtPlanAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: participants write their QT plan and readiness report on the application's QT pages or "
        "through the API, and Testing Assurance reviews them there."
    )
    list_display = ("application", "status", "version", "submitted_at", "reviewed_at", "readiness_status")
    list_filter = ("status", "readiness_status")
    search_fields = ("application__mpid__code", "application__organisation__name")
    list_select_related = ("application__mpid", "application__market_role", "application__organisation")


# --- the QT catalogue and the RTTM (appended by the catalogue area) -------------------------------

from portal.testing.models import (  # noqa: E402  (kept with the admin classes it serves)
    DipFlow,
    Requirement,
    RttmEntry,
    RttmSnapshot,
    TestCase,
    TestCaseVersion,
    TestScenario,
)


@admin.register(Requirement)
class RequirementAdmin(AuditedModelAdmin):
    description = (
        "The requirements every application's RTTM traces. Testing Assurance usually keeps them on the test "
        "catalogue's pages (Test catalogue → Requirements). Make a requirement inactive rather than deleting it: "
        "it then leaves every RTTM, and snapshots keep it. Every change is audited."
    )
    list_display = ("identifier", "area", "text", "is_active")
    list_filter = ("area", "is_active")
    search_fields = ("identifier", "text")


@admin.register(DipFlow)
class DipFlowAdmin(AuditedModelAdmin):
    description = (
        "The DIP interfaces and publications test cases exercise, and whether a participant may opt out of each "
        "in its QT plan. Every change is audited."
    )
    list_display = ("code", "title", "opt_out_allowed")
    list_filter = ("opt_out_allowed",)
    search_fields = ("code", "title")


@admin.register(TestScenario)
class TestScenarioAdmin(AuditedModelAdmin):
    description = "The test scenarios that group the cases. Every change is audited."
    list_display = ("identifier", "title", "batch", "is_active")
    list_filter = ("batch", "is_active")
    search_fields = ("identifier", "title")


class TestCaseVersionInline(admin.TabularInline):
    model = TestCaseVersion
    extra = 0
    can_delete = False
    fields = ("version", "is_current", "title", "batch", "mandatory", "created_by", "created_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TestCase)
class TestCaseAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: a test case changes only by publishing a new version on its page in the test catalogue (or "
        "through its import), so that every execution names the exact wording it ran."
    )
    list_display = ("identifier", "scenario", "is_active")
    list_filter = ("is_active", "scenario__batch")
    search_fields = ("identifier", "versions__title")
    list_select_related = ("scenario",)
    inlines = (TestCaseVersionInline,)


@admin.register(TestCaseVersion)
class TestCaseVersionAdmin(ReadOnlyModelAdmin):
    description = "Read-only: versions are never rewritten; a change is a new version."
    list_display = ("case", "version", "is_current", "title", "batch", "mandatory", "created_at")
    list_filter = ("is_current", "batch", "mandatory")
    search_fields = ("case__identifier", "title")
    list_select_related = ("case",)


@admin.register(RttmEntry)
class RttmEntryAdmin(ReadOnlyModelAdmin):
    description = "Read-only: participants set their RTTM rows on the application's RTTM page, the API or an import."
    list_display = ("application", "requirement", "pit_tests", "qad_reference", "updated_at")
    search_fields = ("application__mpid__code", "application__organisation__name", "requirement__identifier")
    list_select_related = ("application__mpid", "application__market_role", "requirement")


@admin.register(RttmSnapshot)
class RttmSnapshotAdmin(ReadOnlyModelAdmin):
    description = "Read-only: each capture of an RTTM is a frozen version at its checkpoint; none is replaced."
    list_display = ("application", "checkpoint", "version", "row_count", "sha256", "taken_by", "taken_at")
    list_filter = ("checkpoint",)
    search_fields = ("application__mpid__code", "application__organisation__name", "sha256")
    list_select_related = ("application__mpid", "application__market_role", "taken_by")


# --- Qualification Testing execution: read-only, every change goes through the services --------------------

from portal.testing.models import Defect, TestExecution  # noqa: E402  (kept with the admin classes it serves)
from portal.testing.models.execution import CompletionReport, DefectEntry  # noqa: E402


@admin.register(TestExecution)
class TestExecutionAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: participants record runs on the application's executions page, the API or a results import, "
        "and Testing Assurance reviews their evidence there."
    )
    list_display = ("application", "case", "case_version", "status", "review", "tester", "executed_at", "recorded_by")
    list_filter = ("status", "review", "case_version__batch")
    search_fields = ("application__mpid__code", "application__organisation__name", "case__identifier", "tester")
    list_select_related = ("application__mpid", "application__market_role", "case", "case_version", "recorded_by")
    date_hierarchy = "executed_at"


class DefectEntryInline(admin.TabularInline):
    model = DefectEntry
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "from_status", "to_status", "text")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Defect)
class DefectAdmin(ReadOnlyModelAdmin):
    description = "Read-only: defects are raised and moved on the application's defects page or the API."
    list_display = ("reference", "application", "title", "severity", "status", "raised_by", "raised_at")
    list_filter = ("severity", "status")
    search_fields = ("application__mpid__code", "application__organisation__name", "title")
    list_select_related = ("application__mpid", "application__market_role", "raised_by")
    inlines = (DefectEntryInline,)


@admin.register(CompletionReport)
class CompletionReportAdmin(ReadOnlyModelAdmin):
    description = "Read-only: test completion reports are generated from the data on the report page or the API."
    list_display = ("application", "status", "requested_by", "requested_at", "generated_at", "pdf_sha256")
    list_filter = ("status",)
    search_fields = ("application__mpid__code", "application__organisation__name", "pdf_sha256")
    list_select_related = ("application__mpid", "application__market_role", "requested_by")
