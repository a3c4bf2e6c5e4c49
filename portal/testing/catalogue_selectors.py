"""Reads of the Qualification Testing catalogue: scenarios, cases with their versions and the
differences between versions, requirements, DIP flows, the catalogue's coverage of the requirements,
and the catalogue as a workbook.

Everyone signed in may read the catalogue (participants plan their testing from it), so these take
the user for the same shape as every other selector but do not narrow what they answer.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.core.errors import NotFound
from portal.core.workbooks import Sheet, workbook_bytes
from portal.participants.models import RoleGroup
from portal.testing.catalogue_services import MAX_IDENTIFIER, version_content
from portal.testing.models import (
    DipFlow,
    Requirement,
    RequirementArea,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestScenario,
)

# --- cases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    batch: str = ""
    role_group: str = ""
    dip_flow: str = ""
    mandatory: bool | None = None
    scenario: str = ""
    q: str = ""
    include_retired: bool = False

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(
            self.batch or self.role_group or self.dip_flow or self.scenario or self.q or self.mandatory is not None
        )


def _versions() -> QuerySet[TestCaseVersion]:
    return (
        TestCaseVersion.objects.select_related("case__scenario", "created_by")
        .prefetch_related(
            Prefetch("role_groups", queryset=RoleGroup.objects.order_by("order", "name")),
            Prefetch("dip_flows", queryset=DipFlow.objects.order_by("code")),
            Prefetch("requirements", queryset=Requirement.objects.order_by("identifier")),
        )
        .order_by("case__identifier", "-version")
    )


def catalogue_cases(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[TestCaseVersion]:
    """The current version of every case (active ones only unless asked), filtered, by identifier."""
    filters = filters or CaseFilters()
    qs = _versions().filter(is_current=True)
    if not filters.include_retired:
        qs = qs.filter(case__is_active=True)
    if filters.batch:
        qs = qs.filter(batch=filters.batch)
    if filters.role_group:
        qs = qs.filter(role_groups__code=filters.role_group)
    if filters.dip_flow:
        qs = qs.filter(dip_flows__code=filters.dip_flow.upper())
    if filters.mandatory is not None:
        qs = qs.filter(mandatory=filters.mandatory)
    if filters.scenario:
        qs = qs.filter(case__scenario__identifier=filters.scenario.upper())
    if filters.q:
        term = filters.q.strip()[:100]
        qs = qs.filter(Q(case__identifier__icontains=term) | Q(title__icontains=term))
    # The many-to-many filters join one row per match; each case appears once.
    return qs.distinct()


@dataclass(frozen=True)
class CaseDetail:
    case: TestCase
    current: TestCaseVersion | None
    versions: list[TestCaseVersion]  # newest first

    @property
    def identifier(self) -> str:
        return self.case.identifier


def catalogue_case(*, user: Any, identifier: str) -> CaseDetail:
    case = TestCase.objects.select_related("scenario").filter(identifier=_key(identifier)).first()
    if case is None:
        raise NotFound("No test case has that identifier.")
    versions = list(_versions().filter(case=case))
    current = next((v for v in versions if v.is_current), None)
    return CaseDetail(case=case, current=current, versions=versions)


def case_version(*, user: Any, identifier: str, version: int) -> TestCaseVersion:
    found = _versions().filter(case__identifier=_key(identifier), version=version).first()
    if found is None:
        raise NotFound("That test case has no such version.")
    return found


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class SetChange:
    field: str
    label: str
    added: list[str]
    removed: list[str]


@dataclass(frozen=True)
class StepChange:
    step: int
    change: str  # added, removed, changed
    before: tuple[str, str] | None
    after: tuple[str, str] | None

    @property
    def action_changed(self) -> bool:
        return bool(self.before and self.after and self.before[0] != self.after[0])

    @property
    def expected_changed(self) -> bool:
        return bool(self.before and self.after and self.before[1] != self.after[1])


@dataclass(frozen=True)
class VersionDiff:
    identifier: str
    before: TestCaseVersion
    after: TestCaseVersion
    fields: list[FieldChange] = field(default_factory=list)
    sets: list[SetChange] = field(default_factory=list)
    steps: list[StepChange] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.fields or self.sets or self.steps)


FIELD_LABELS = (("title", "Title"), ("batch", "Batch"), ("mandatory", "Mandatory"))
SET_LABELS = (("role_groups", "Role groups"), ("dip_flows", "DIP flows"), ("requirements", "Requirements"))


def case_version_diff(*, user: Any, identifier: str, from_version: int, to_version: int) -> VersionDiff:
    """What changed from one version of a case to another: title, batch, mandatory, role groups,
    DIP flows, requirements and steps (step by step)."""
    before = case_version(user=user, identifier=identifier, version=from_version)
    after = case_version(user=user, identifier=identifier, version=to_version)
    return diff_versions(before, after)


def diff_versions(before: TestCaseVersion, after: TestCaseVersion) -> VersionDiff:
    a, b = version_content(before), version_content(after)
    old, new = a.as_dict(), b.as_dict()
    fields = [FieldChange(name, label, old[name], new[name]) for name, label in FIELD_LABELS if old[name] != new[name]]
    sets = []
    for name, label in SET_LABELS:
        added = sorted(set(new[name]) - set(old[name]))
        removed = sorted(set(old[name]) - set(new[name]))
        if added or removed:
            sets.append(SetChange(name, label, added, removed))
    steps = []
    for number in range(1, max(len(a.steps), len(b.steps)) + 1):
        was = a.steps[number - 1] if number <= len(a.steps) else None
        now = b.steps[number - 1] if number <= len(b.steps) else None
        if was == now:
            continue
        change = "added" if was is None else "removed" if now is None else "changed"
        steps.append(StepChange(number, change, was, now))
    return VersionDiff(before.case.identifier, before, after, fields, sets, steps)


# --- scenarios, requirements, DIP flows ----------------------------------------------------------


def scenario_list(*, user: Any, include_retired: bool = True) -> QuerySet[TestScenario]:
    qs = TestScenario.objects.annotate(
        active_cases=Count("cases", filter=Q(cases__is_active=True)), all_cases=Count("cases")
    ).order_by("identifier")
    return qs if include_retired else qs.filter(is_active=True)


def scenario_get(*, user: Any, identifier: str) -> TestScenario:
    scenario = scenario_list(user=user).filter(identifier=_key(identifier)).first()
    if scenario is None:
        raise NotFound("No scenario has that identifier.")
    return scenario


def requirement_list(*, user: Any, area: str = "", include_retired: bool = True) -> QuerySet[Requirement]:
    qs = Requirement.objects.order_by("identifier")
    if area:
        qs = qs.filter(area=area)
    return qs if include_retired else qs.filter(is_active=True)


def requirement_get(*, user: Any, identifier: str) -> Requirement:
    requirement = Requirement.objects.filter(identifier=_key(identifier)).first()
    if requirement is None:
        raise NotFound("No requirement has that identifier.")
    return requirement


def dip_flow_list(*, user: Any) -> QuerySet[DipFlow]:
    return DipFlow.objects.annotate(
        current_cases=Count(
            "test_case_versions",
            filter=Q(test_case_versions__is_current=True, test_case_versions__case__is_active=True),
        )
    ).order_by("code")


def dip_flow_get(*, user: Any, code: str) -> DipFlow:
    flow = dip_flow_list(user=user).filter(code=_key(code)).first()
    if flow is None:
        raise NotFound("No DIP flow has that interface ID.")
    return flow


@dataclass(frozen=True)
class CatalogueChoices:
    """What the filters and the staff forms offer."""

    batches: list[tuple[str, str]]
    areas: list[tuple[str, str]]
    role_groups: list[RoleGroup]
    flows: list[DipFlow]
    scenarios: list[TestScenario]
    requirements: list[Requirement]


def catalogue_choices(*, user: Any) -> CatalogueChoices:
    return CatalogueChoices(
        batches=[(str(code), str(label)) for code, label in TestBatch.choices],
        areas=[(str(code), str(label)) for code, label in RequirementArea.choices],
        role_groups=list(RoleGroup.objects.order_by("order", "name")),
        flows=list(DipFlow.objects.order_by("code")),
        scenarios=list(TestScenario.objects.filter(is_active=True).order_by("identifier")),
        requirements=list(Requirement.objects.filter(is_active=True).order_by("identifier")),
    )


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    requirement: Requirement
    cases: list[TestCaseVersion]  # current versions of active cases tracing to it

    @property
    def covered(self) -> bool:
        return bool(self.cases)


@dataclass(frozen=True)
class AreaCoverage:
    area: str
    label: str
    total: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.total - self.covered

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 100


@dataclass(frozen=True)
class Coverage:
    rows: list[CoverageRow]  # uncovered first, then by identifier
    areas: list[AreaCoverage]

    @property
    def uncovered(self) -> list[CoverageRow]:
        return [row for row in self.rows if not row.covered]

    @property
    def total(self) -> int:
        return sum(a.total for a in self.areas)

    @property
    def covered_count(self) -> int:
        return sum(a.covered for a in self.areas)

    @property
    def uncovered_count(self) -> int:
        return self.total - self.covered_count

    @property
    def percent(self) -> int:
        return round(100 * self.covered_count / self.total) if self.total else 100


def catalogue_coverage(*, user: Any, area: str = "", uncovered_only: bool = False) -> Coverage:
    """Each active requirement with the current QT cases that trace to it. The counts by area are of
    every active requirement; `area` and `uncovered_only` narrow the rows only."""
    requirements = list(Requirement.objects.filter(is_active=True).order_by("identifier"))
    by_requirement: dict[int, list[TestCaseVersion]] = defaultdict(list)
    versions = (
        TestCaseVersion.objects.filter(is_current=True, case__is_active=True)
        .select_related("case")
        .prefetch_related("requirements")
        .order_by("case__identifier")
    )
    for version in versions:
        for requirement in version.requirements.all():
            by_requirement[requirement.pk].append(version)
    all_rows = [CoverageRow(r, by_requirement.get(r.pk, [])) for r in requirements]
    areas = []
    for code, label in RequirementArea.choices:
        in_area = [row for row in all_rows if row.requirement.area == code]
        areas.append(AreaCoverage(str(code), str(label), len(in_area), sum(1 for row in in_area if row.covered)))
    rows = [
        row
        for row in all_rows
        if (not area or row.requirement.area == area) and (not uncovered_only or not row.covered)
    ]
    rows.sort(key=lambda row: (row.covered, row.requirement.identifier))
    return Coverage(rows=rows, areas=areas)


# --- the workbook --------------------------------------------------------------------------------

SCENARIO_COLUMNS = ("Identifier", "Title", "Batch", "Description")
CASE_COLUMNS = ("Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups", "DIP flows", "Requirements")
STEP_COLUMNS = ("Case", "Step", "Action", "Expected result")
REQUIREMENT_COLUMNS = ("Identifier", "Area", "Text")
FLOW_COLUMNS = ("Interface ID", "Title", "Opt-out allowed")
# Shown for information; the import ignores them (versions are numbered by the portal, and cases
# are retired and reinstated on their page).
CASE_INFO_COLUMNS = ("Version", "Active")


def catalogue_workbook(*, user: Any) -> bytes:
    """The catalogue as one XLSX workbook (sheets Scenarios, Cases, Steps, Requirements, DIP flows),
    in the shape the catalogue import reads, so it can be edited and imported again. Every cell passes
    through the workbook helpers, so text that looks like a formula is written as text."""
    batches = dict(TestBatch.choices)
    areas = dict(RequirementArea.choices)
    versions = list(_versions().filter(is_current=True))
    return workbook_bytes(
        [
            Sheet(
                "Scenarios",
                SCENARIO_COLUMNS,
                (
                    (s.identifier, s.title, batches.get(s.batch, s.batch), s.description)
                    for s in TestScenario.objects.order_by("identifier")
                ),
                widths=(16, 40, 16, 60),
            ),
            Sheet("Cases", CASE_COLUMNS + CASE_INFO_COLUMNS, _case_rows(versions, batches), widths=_CASE_WIDTHS),
            Sheet("Steps", STEP_COLUMNS, _step_rows(versions), widths=(18, 6, 60, 60)),
            Sheet(
                "Requirements",
                REQUIREMENT_COLUMNS,
                (
                    (r.identifier, areas.get(r.area, r.area), r.text)
                    for r in Requirement.objects.filter(is_active=True).order_by("identifier")
                ),
                widths=(16, 16, 80),
            ),
            Sheet(
                "DIP flows",
                FLOW_COLUMNS,
                ((f.code, f.title, "Yes" if f.opt_out_allowed else "No") for f in DipFlow.objects.order_by("code")),
                widths=(14, 60, 16),
            ),
        ]
    )


_CASE_WIDTHS = (18, 14, 50, 16, 11, 28, 28, 36, 9, 8)


def _case_rows(versions: Sequence[TestCaseVersion], batches: dict[str, str]) -> Iterable[Sequence[Any]]:
    for v in versions:
        yield (
            v.case.identifier,
            v.case.scenario.identifier,
            v.title,
            batches.get(v.batch, v.batch),
            "Yes" if v.mandatory else "No",
            ", ".join(g.code for g in v.role_groups.all()),
            ", ".join(f.code for f in v.dip_flows.all()),
            ", ".join(r.identifier for r in v.requirements.all()),
            v.version,
            "Yes" if v.case.is_active else "No",
        )


def _step_rows(versions: Sequence[TestCaseVersion]) -> Iterable[Sequence[Any]]:
    for v in versions:
        for number, step in enumerate(v.steps or [], start=1):
            yield (v.case.identifier, number, step.get("action", ""), step.get("expected", ""))


def _key(value: Any) -> str:
    return str(value or "").strip().upper()[:MAX_IDENTIFIER]
