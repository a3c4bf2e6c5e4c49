"""The catalogue and RTTM workbook imports (background jobs of `portal.testing.imports`).

**Catalogue** (kind `catalogue`, the staff who keep the catalogue): the workbook the catalogue export
writes, edited. It reads, in this order,

| Sheet | Columns | |
|---|---|---|
| Requirements | Identifier, Area, Text | optional sheet |
| DIP flows | Interface ID, Title, Opt-out allowed | optional sheet |
| Scenarios | Identifier, Title, Batch (Description) | optional sheet |
| Cases | Identifier, Scenario, Title, Batch, Mandatory, Role groups (DIP flows, Requirements) | |
| Steps | Case, Step, Action, Expected result | one row per step |

A case, scenario, DIP flow or requirement may be named when it is already in the catalogue or defined
on its own sheet of the same workbook. Every row is checked first; each problem is reported with its
sheet, row, column and reason, and nothing is stored unless the whole workbook is sound. Then, in one
transaction: new requirements, flows and scenarios are added and changed ones updated; a new case gets
version 1, a case whose content changed gets a new version, and an unchanged case is left alone.
Whether a case is retired is not changed by an import (that is done on the case's page).

**RTTM** (kind `rttm`, the applying organisation while PIT or QT is with it): one sheet **RTTM** with
the columns Requirement, PIT tests, QAD reference and (optionally) Note; the other columns of the RTTM
export are ignored, so an exported matrix can be filled in and imported again. Each row sets that
requirement's PIT tests, QAD reference and note (blank cells clear them); requirements not in the
workbook are left as they are.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import transaction

from portal.core.errors import Conflict, NotFound, PermissionDenied
from portal.core.workbooks import SheetRow
from portal.notifications.services import notify
from portal.qualification.models import Application
from portal.testing.catalogue_services import (
    MAX_FLOW_TITLE,
    MAX_STEP_TEXT,
    MAX_STEPS,
    MAX_TEXT,
    MAX_TITLE,
    CaseContent,
    CaseFields,
    Known,
    Problems,
    StepInput,
    clean_case_content,
    clean_choice,
    clean_flow_code,
    clean_identifier,
    clean_text,
    participants_in_testing,
    version_content,
    write_version,
)
from portal.testing.imports import Importer, RowProblem, RowRefused, SheetSpec
from portal.testing.models import (
    DipFlow,
    ImportJob,
    ImportKind,
    Requirement,
    RequirementArea,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestScenario,
)
from portal.testing.permissions import can_keep_catalogue
from portal.testing.rttm_selectors import rttm_edit_refusal
from portal.testing.rttm_services import CleanEntry, apply_entries, clean_entry_fields, lock_rttm_tasks

# --- reading cells -------------------------------------------------------------------------------

YES = frozenset({"yes", "y", "true", "1", "mandatory"})
NO = frozenset({"no", "n", "false", "0", "optional"})


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, datetime | date | time):
        return "a date"
    if isinstance(value, int | float):
        return "a number"
    return "a value that is not text"


def cell_text(value: Any, *, numbers: bool = False) -> Any:
    """A text cell's value as given, or `value` unchanged when it is not text (the caller's rules then
    say it must be text). With `numbers`, a number is read as the text it shows (QAD reference 4.5)."""
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


def cell_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in YES:
        return True
    if isinstance(value, str) and value.strip().lower() in NO:
        return False
    return None


def cell_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _RowCheck:
    """The problems of one row, each with its column (and its sheet, when the import reads several)."""

    def __init__(self, row: SheetRow, *, name_sheet: bool = True) -> None:
        self.row = row
        self.sheet = row.sheet if name_sheet else ""
        self.problems: list[RowProblem] = []

    def add(self, column: str, reason: str) -> None:
        self.problems.append(RowProblem(self.row.number, column, reason, sheet=self.sheet))

    def value(self, column: str) -> Any:
        return self.row.values.get(column)

    def text(self, column: str, *, label: str, max_length: int, required: bool = True, multiline: bool = False) -> str:
        raw = self.value(column)
        if raw is not None and not isinstance(raw, str):
            self.add(column, f"must be text, not {_type_name(raw)}")
            return ""
        text, error = clean_text(raw, label=label, max_length=max_length, required=required, multiline=multiline)
        if error:
            self.add(column, _lower_first(error))
        return text

    def raise_if_any(self) -> None:
        if self.problems:
            raise RowRefused(self.problems)


def _lower_first(text: str) -> str:
    """A message as the second half of "Row 4, column Title: …"; an abbreviation keeps its capitals."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


# --- the catalogue -------------------------------------------------------------------------------

REQUIREMENTS = "Requirements"
FLOWS = "DIP flows"
SCENARIOS = "Scenarios"
CASES = "Cases"
STEPS = "Steps"


@dataclass
class _Case:
    identifier: str
    row: int
    scenario: str
    fields: CaseFields
    known: Known
    steps: dict[int, tuple[str, str]] = field(default_factory=dict)
    content: CaseContent | None = None
    change: str = ""  # new, changed, unchanged


@dataclass
class _Plan:
    requirements: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, area, text, new|changed
    flows: list[tuple[str, str, bool, str]] = field(default_factory=list)
    scenarios: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    cases: list[_Case] = field(default_factory=list)


class CatalogueImporter(Importer):
    kind = ImportKind.CATALOGUE
    sheet = CASES
    required_columns = ("Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups")
    optional_columns = ("DIP flows", "Requirements", "Version", "Active")
    max_rows = 20_000

    def sheets(self) -> tuple[SheetSpec, ...]:
        return (
            SheetSpec(REQUIREMENTS, ("Identifier", "Area", "Text"), optional=True),
            SheetSpec(FLOWS, ("Interface ID", "Title", "Opt-out allowed"), optional=True),
            SheetSpec(SCENARIOS, ("Identifier", "Title", "Batch"), ("Description",), optional=True),
            SheetSpec(CASES, self.required_columns, self.optional_columns),
            SheetSpec(STEPS, ("Case", "Step", "Action", "Expected result")),
        )

    def authorise(self, *, actor: Any, application: Application | None) -> None:
        if not can_keep_catalogue(actor):
            raise PermissionDenied(
                "Only Testing Assurance, the Code Bodies and the MHHS Programme can import the test catalogue."
            )

    def begin(self, job: ImportJob) -> None:
        self.known = Known.from_database()
        self.requirements = {r.identifier: (r.area, r.text) for r in Requirement.objects.all()}
        self.flows = {f.code: (f.title, f.opt_out_allowed) for f in DipFlow.objects.all()}
        self.scenarios = {
            s.identifier: (s.title, s.batch, s.description, s.is_active) for s in TestScenario.objects.all()
        }
        self.cases = {
            c.identifier: (c.scenario.identifier, c.is_active) for c in TestCase.objects.select_related("scenario")
        }
        self.defined: dict[str, dict[str, int]] = {REQUIREMENTS: {}, FLOWS: {}, SCENARIOS: {}}
        self.case_rows: dict[str, _Case] = {}
        self.case_names: set[str] = set()  # named on the Cases sheet, even on a row with problems
        self.step_numbers: dict[str, set[int]] = {}  # the steps of each case named on the Steps sheet
        self.plan = _Plan()

    def check(self, row: SheetRow) -> Any:
        handler = {
            REQUIREMENTS: self._requirement,
            FLOWS: self._flow,
            SCENARIOS: self._scenario,
            CASES: self._case,
            STEPS: self._step,
        }[row.sheet]
        return handler(_RowCheck(row))

    # Each sheet's rows --------------------------------------------------------------------------

    def _identifier(self, check: _RowCheck, column: str, *, label: str, sheet: str, example: str) -> str:
        identifier, error = clean_identifier(check.value(column), label=label, example=example)
        if error:
            check.add(column, _lower_first(error))
            return ""
        seen = self.defined[sheet].get(identifier)
        if seen is not None:
            check.add(column, f"{identifier} is already on row {seen} of this sheet")
            return ""
        self.defined[sheet][identifier] = check.row.number
        return identifier

    def _requirement(self, check: _RowCheck) -> Any:
        identifier = self._identifier(
            check, "Identifier", label="Identifier", sheet=REQUIREMENTS, example="REQ-FUN-001"
        )
        area, error = clean_choice(check.value("Area"), RequirementArea, label="Area")
        if error:
            check.add("Area", _lower_first(error))
        text = check.text("Text", label="Text", max_length=MAX_TEXT, multiline=True)
        check.raise_if_any()
        existing = self.requirements.get(identifier)
        if existing != (area, text):
            self.plan.requirements.append((identifier, area, text, "new" if existing is None else "changed"))
        return (REQUIREMENTS, identifier)

    def _flow(self, check: _RowCheck) -> Any:
        code, error = clean_flow_code(check.value("Interface ID"))
        if error:
            check.add("Interface ID", _lower_first(error))
        elif code in self.defined[FLOWS]:
            check.add("Interface ID", f"{code} is already on row {self.defined[FLOWS][code]} of this sheet")
        else:
            self.defined[FLOWS][code] = check.row.number
        title = check.text("Title", label="Title", max_length=MAX_FLOW_TITLE)
        opt_out = cell_bool(check.value("Opt-out allowed"))
        if opt_out is None:
            check.add("Opt-out allowed", "must be Yes or No")
        check.raise_if_any()
        existing = self.flows.get(code)
        if existing != (title, opt_out):
            self.plan.flows.append((code, title, bool(opt_out), "new" if existing is None else "changed"))
        return (FLOWS, code)

    def _scenario(self, check: _RowCheck) -> Any:
        identifier = self._identifier(check, "Identifier", label="Identifier", sheet=SCENARIOS, example="QTS-FUN-01")
        title = check.text("Title", label="Title", max_length=MAX_TITLE)
        batch, error = clean_choice(check.value("Batch"), TestBatch, label="Batch")
        if error:
            check.add("Batch", _lower_first(error))
        description = check.text(
            "Description", label="Description", max_length=MAX_TEXT, required=False, multiline=True
        )
        check.raise_if_any()
        existing = self.scenarios.get(identifier)
        if existing is None or existing[:3] != (title, batch, description):
            self.plan.scenarios.append(
                (identifier, title, batch, description, "new" if existing is None else "changed")
            )
        return (SCENARIOS, identifier)

    def _case(self, check: _RowCheck) -> Any:
        identifier, error = clean_identifier(check.value("Identifier"), label="Identifier")
        if error:
            check.add("Identifier", _lower_first(error))
        elif identifier in self.case_rows or identifier in self.case_names:
            first = self.case_rows[identifier].row if identifier in self.case_rows else None
            check.add(
                "Identifier",
                f"{identifier} is already on {'row ' + str(first) if first else 'another row'} of this sheet",
            )
            identifier = ""
        else:
            self.case_names.add(identifier)

        scenario, error = clean_identifier(check.value("Scenario"), label="Scenario", example="QTS-FUN-01")
        if error:
            check.add("Scenario", _lower_first(error))
        elif scenario not in self.scenarios and scenario not in self.defined[SCENARIOS]:
            check.add("Scenario", f"there is no scenario {scenario} in the catalogue or on the Scenarios sheet")
        elif identifier in self.cases and self.cases[identifier][0] != scenario:
            check.add(
                "Scenario",
                f"{identifier} belongs to scenario {self.cases[identifier][0]}; a case cannot move to another scenario",
            )
        elif identifier not in self.cases and scenario in self.scenarios and not self.scenarios[scenario][3]:
            check.add("Scenario", f"scenario {scenario} is retired: new cases cannot be added to it")

        known = Known(
            role_groups=self.known.role_groups,
            flows=self.known.flows | frozenset(self.defined[FLOWS]),
            requirements=self.known.requirements | frozenset(self.defined[REQUIREMENTS]),
        )
        mandatory = cell_bool(check.value("Mandatory"))
        if mandatory is None:
            check.add("Mandatory", "must be Yes or No")
        texts = {}
        for column in ("Title", "Batch", "Role groups", "DIP flows", "Requirements"):
            raw = check.value(column)
            if raw is not None and not isinstance(raw, str):
                check.add(column, f"must be text, not {_type_name(raw)}")
                raw = ""
            texts[column] = raw or ""
        # The content's own rules, with a placeholder step (the steps are on their own sheet).
        problems = Problems()
        fields = CaseFields(
            title=texts["Title"],
            batch=texts["Batch"],
            mandatory=bool(mandatory),
            role_groups=texts["Role groups"],  # text, split by the rules
            dip_flows=texts["DIP flows"],
            requirements=texts["Requirements"],
            steps=(StepInput("-", "-"),),
        )
        clean_case_content(fields, known, problems)
        columns = {
            "title": "Title",
            "batch": "Batch",
            "role_groups": "Role groups",
            "dip_flows": "DIP flows",
            "requirements": "Requirements",
        }
        for name, message in problems.items:
            target = columns.get(name)
            if target and not any(p.column == target for p in check.problems):
                check.add(target, _lower_first(message))
        check.raise_if_any()
        case = _Case(identifier, check.row.number, scenario, fields, known)
        self.case_rows[identifier] = case
        return (CASES, identifier)

    def _step(self, check: _RowCheck) -> Any:
        identifier, error = clean_identifier(check.value("Case"), label="Case")
        case = None
        if error:
            check.add("Case", _lower_first(error))
        elif identifier not in self.case_names:
            check.add("Case", f"{identifier} is not on the Cases sheet")
        else:
            case = self.case_rows.get(identifier)
        raw = check.value("Step")
        number = cell_int(raw)
        if number is None or number < 1:
            shown = (
                ""
                if raw is None or (isinstance(raw, str | int | float) and not isinstance(raw, bool))
                else f", not {_type_name(raw)}"
            )
            check.add("Step", f"must be a whole number from 1{shown}")
        elif number > MAX_STEPS:
            check.add("Step", f"a case has at most {MAX_STEPS} steps")
        elif identifier and number in self.step_numbers.setdefault(identifier, set()):
            check.add("Step", f"{identifier} already has a step {number}")
        else:
            self.step_numbers[identifier].add(number)
        action = check.text("Action", label="Action", max_length=MAX_STEP_TEXT, multiline=True)
        expected = check.text("Expected result", label="Expected result", max_length=MAX_STEP_TEXT, multiline=True)
        check.raise_if_any()
        if case is not None and number is not None:
            case.steps[number] = (action, expected)
        return (STEPS, identifier, number)

    # After every row ----------------------------------------------------------------------------

    def finish(self) -> list[RowProblem]:
        problems: list[RowProblem] = []
        identifiers = list(self.case_rows)
        current = {
            v.case.identifier: v
            for v in TestCaseVersion.objects.filter(is_current=True, case__identifier__in=identifiers)
            .select_related("case")
            .prefetch_related("role_groups", "dip_flows", "requirements")
        }
        for identifier, case in self.case_rows.items():
            if not case.steps:
                problems.append(
                    RowProblem(case.row, "Identifier", f"{identifier} has no steps on the Steps sheet", CASES)
                )
                continue
            steps = tuple(case.steps[n] for n in sorted(case.steps))  # numbered again from 1, in order
            fields = case.fields
            checked = Problems()
            content = clean_case_content(
                CaseFields(
                    title=fields.title,
                    batch=fields.batch,
                    mandatory=fields.mandatory,
                    role_groups=fields.role_groups,
                    dip_flows=fields.dip_flows,
                    requirements=fields.requirements,
                    steps=[StepInput(a, e) for a, e in steps],
                ),
                case.known,
                checked,
            )
            if checked:
                problems.append(RowProblem(case.row, "Identifier", _lower_first(checked.items[0][1]), CASES))
                continue
            case.content = content
            version = current.get(identifier)
            if version is None:
                case.change = "new"
            elif version_content(version) == content:
                case.change = "unchanged"
            elif not self.cases[identifier][1]:
                problems.append(
                    RowProblem(
                        case.row,
                        "Identifier",
                        f"{identifier} is retired: reinstate it on its page before importing changes to it",
                        CASES,
                    )
                )
            else:
                case.change = "changed"
        self.plan.cases = [c for c in self.case_rows.values() if c.change in ("new", "changed")]
        self.unchanged_cases = sum(1 for c in self.case_rows.values() if c.change == "unchanged")
        return problems

    # Storing ------------------------------------------------------------------------------------

    def store(self, job: ImportJob, records: list[Any]) -> tuple[int, dict[str, Any]]:
        actor = job.created_by
        plan = self.plan
        for identifier, area, text, change in plan.requirements:
            if change == "new":
                _create(Requirement, f"requirement {identifier}", identifier=identifier, area=area, text=text)
            else:
                Requirement.objects.filter(identifier=identifier).update(area=area, text=text)
        for code, title, opt_out, change in plan.flows:
            if change == "new":
                _create(DipFlow, f"DIP flow {code}", code=code, title=title, opt_out_allowed=opt_out)
            else:
                DipFlow.objects.filter(code=code).update(title=title, opt_out_allowed=opt_out)
        for identifier, title, batch, description, change in plan.scenarios:
            if change == "new":
                _create(
                    TestScenario,
                    f"scenario {identifier}",
                    identifier=identifier,
                    title=title,
                    batch=batch,
                    description=description,
                )
            else:
                TestScenario.objects.filter(identifier=identifier).update(
                    title=title, batch=batch, description=description
                )
        new_cases, new_versions = [], []
        groups: set[str] = set()
        for case in plan.cases:
            assert case.content is not None
            if case.change == "new":
                scenario = TestScenario.objects.get(identifier=case.scenario)
                row = _create(TestCase, f"test case {case.identifier}", identifier=case.identifier, scenario=scenario)
                new_cases.append(case.identifier)
            else:
                row = TestCase.objects.select_for_update().get(identifier=case.identifier)
                if not row.is_active:
                    raise Conflict(f"Test case {case.identifier} was retired while the workbook was being checked.")
                new_versions.append(case.identifier)
            write_version(case=row, content=case.content, actor=actor)
            groups.update(case.content.role_groups)
        if new_cases or new_versions:
            named = sorted(new_cases + new_versions)
            notify(
                recipients=participants_in_testing(role_group_codes=groups),
                subject="The test catalogue has changed",
                body=f"{len(new_cases)} new test case{'s' if len(new_cases) != 1 else ''} and "
                f"{len(new_versions)} new version{'s' if len(new_versions) != 1 else ''} were imported into the test "
                f"catalogue: {', '.join(named[:15])}{'…' if len(named) > 15 else ''}. Check your test set and "
                "execution plan.",
                link="/qt/catalogue/",
                exclude=actor,
            )
        summary = {
            "requirements_added": sum(1 for r in plan.requirements if r[3] == "new"),
            "requirements_changed": sum(1 for r in plan.requirements if r[3] == "changed"),
            "dip_flows_added": sum(1 for f in plan.flows if f[3] == "new"),
            "dip_flows_changed": sum(1 for f in plan.flows if f[3] == "changed"),
            "scenarios_added": sum(1 for s in plan.scenarios if s[4] == "new"),
            "scenarios_changed": sum(1 for s in plan.scenarios if s[4] == "changed"),
            "cases_added": new_cases,
            "cases_new_versions": new_versions,
            "cases_unchanged": self.unchanged_cases,
        }
        stored = len(plan.requirements) + len(plan.flows) + len(plan.scenarios) + len(plan.cases)
        return stored, summary

    def link(self, job: ImportJob) -> str:
        return f"/imports/{job.pk}/"


def _create(model: Any, what: str, **values: Any) -> Any:
    if model.objects.filter(**{k: v for k, v in values.items() if k in ("identifier", "code")}).exists():
        raise Conflict(f"The {what} was added by someone else while the workbook was being checked.")
    with transaction.atomic():
        return model.objects.create(**values)


# --- the RTTM ------------------------------------------------------------------------------------


class RttmImporter(Importer):
    kind = ImportKind.RTTM
    sheet = "RTTM"
    required_columns = ("Requirement", "PIT tests", "QAD reference")
    # The rest of the export's columns, read and ignored, so an exported matrix imports as it is.
    optional_columns = ("Note", "Area", "Requirement text", "QT cases", "Covered")
    max_rows = 20_000

    def authorise(self, *, actor: Any, application: Application | None) -> None:
        if application is None:
            raise NotFound("No application was found with that reference.")
        refusal = rttm_edit_refusal(actor, application, lock_rttm_tasks(application))
        if refusal is not None:
            raise refusal

    def begin(self, job: ImportJob) -> None:
        self.requirements = {r.identifier: r for r in Requirement.objects.filter(is_active=True)}
        self.seen: dict[str, int] = {}

    def check(self, row: SheetRow) -> CleanEntry:
        check = _RowCheck(row, name_sheet=False)
        identifier, error = clean_identifier(check.value("Requirement"), label="Requirement", example="REQ-FUN-001")
        requirement = None
        if error:
            check.add("Requirement", _lower_first(error))
        elif identifier in self.seen:
            check.add("Requirement", f"{identifier} is already on row {self.seen[identifier]}")
        elif identifier not in self.requirements:
            check.add("Requirement", f"there is no active requirement {identifier} in the catalogue")
        else:
            self.seen[identifier] = row.number
            requirement = self.requirements[identifier]
        values = {}
        for column in ("PIT tests", "QAD reference", "Note"):
            raw = cell_text(check.value(column), numbers=column == "QAD reference")
            if raw is not None and not isinstance(raw, str):
                check.add(column, f"must be text, not {_type_name(raw)}")
                raw = ""
            values[column] = raw
        (tests, reference, note), problems = clean_entry_fields(
            values["PIT tests"], values["QAD reference"], values["Note"]
        )
        columns = {"pit_tests": "PIT tests", "qad_reference": "QAD reference", "note": "Note"}
        for name, message in problems:
            check.add(columns[name], _lower_first(message))
        check.raise_if_any()
        assert requirement is not None
        return CleanEntry(requirement, tests, reference, note)

    def store(self, job: ImportJob, records: list[Any]) -> tuple[int, dict[str, Any]]:
        assert job.application is not None
        changed, unchanged, _, _ = apply_entries(job.application, records, job.created_by)
        return len(changed), {"rows_changed": changed[:200], "rows_unchanged": unchanged}

    def link(self, job: ImportJob) -> str:
        return f"/applications/{job.application_id}/qt/rttm/"
