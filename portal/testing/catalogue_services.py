"""Every write to the Qualification Testing catalogue goes through here (the workbook import uses the
same rules and the same writers, with one audit event for the whole import).

The catalogue is reference data that Testing Assurance, the Code Bodies and the Programme keep
(`CATALOGUE_ROLES`); everyone signed in may read it. Each service runs in one transaction: check the
role (PermissionDenied), lock the row it changes, check its state (InvalidTransition: a retired case
is not edited), check the input (InvalidInput naming the field), change, write one audit event and
tell the participants whose testing the change affects. A refusal changes nothing.

A test case's content is never rewritten: publishing adds a version and makes it the current one,
so an execution always names the exact wording it ran. Publishing content identical to the current
version is refused as "nothing changed".
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from portal.accounts.models import User
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.services import notify
from portal.participants.models import RoleGroup
from portal.qualification.models import CLOSED_STATUS_VALUES, Task
from portal.qualification.workflow import TaskState
from portal.testing.models import (
    DipFlow,
    Requirement,
    RequirementArea,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestScenario,
)
from portal.testing.permissions import PIT_TASK, QT_TASK, can_keep_catalogue

IDENTIFIER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:[-_.][A-Z0-9]+)*$")
FLOW_CODE_PATTERN = re.compile(r"^[A-Z]{2,5}-[0-9]{3,4}[A-Z]?$")
MAX_IDENTIFIER = 40
MAX_FLOW_CODE = 20
MAX_TITLE = 300
MAX_FLOW_TITLE = 200
MAX_TEXT = 4000
MAX_STEP_TEXT = 2000
MAX_STEPS = 30
MAX_REASON = 2000

# Applications whose testing is under way or about to start: a change to the catalogue is news to them.
TESTING_OPEN_STATES = frozenset(
    {TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.SUBMITTED, TaskState.CHANGES_REQUESTED}
)


# --- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    action: str
    expected: str


@dataclass(frozen=True)
class CaseFields:
    """What a version of a test case says. Role groups, DIP flows and requirements are named by their
    codes and identifiers."""

    title: str
    batch: str
    mandatory: bool
    role_groups: Sequence[str]
    dip_flows: Sequence[str] = ()
    requirements: Sequence[str] = ()
    steps: Sequence[StepInput] = ()


@dataclass(frozen=True)
class CaseContent:
    """A version's content, cleaned and in canonical form: sets sorted, steps numbered from 1. Two
    versions say the same exactly when their contents are equal."""

    title: str
    batch: str
    mandatory: bool
    role_groups: tuple[str, ...]
    dip_flows: tuple[str, ...]
    requirements: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "batch": self.batch,
            "mandatory": self.mandatory,
            "role_groups": list(self.role_groups),
            "dip_flows": list(self.dip_flows),
            "requirements": list(self.requirements),
            "steps": steps_json(self.steps),
        }


def steps_json(steps: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"step": n, "action": a, "expected": e} for n, (a, e) in enumerate(steps, start=1)]


@dataclass
class Problems:
    """Every problem with a piece of input, each naming its field; raised together."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.items.append((field_name, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first_field, first = self.items[0]
        if len(self.items) == 1:
            raise InvalidInput(first, details={"field": first_field})
        raise InvalidInput(
            f"{first} (and {len(self.items) - 1} more problem{'s' if len(self.items) > 2 else ''})",
            details={"field": first_field, "errors": [{"field": f, "message": m} for f, m in self.items]},
        )


# --- text rules, shared with the workbook import ------------------------------------------------


def clean_text(
    value: Any, *, label: str, max_length: int, required: bool = True, multiline: bool = False
) -> tuple[str, str | None]:
    """The text, stripped, and the problem with it (None when it is fine)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", f"{label} must be text"
    text = value.strip()
    if multiline:
        text = text.replace("\r\n", "\n")
    if required and not text:
        return "", f"Enter the {label.lower()}"
    if len(text) > max_length:
        return text, f"{label} must be {max_length:,} characters or fewer (it has {len(text):,})"
    allowed = "\t\n" if multiline else ""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed for ch in text):
        return text, f"{label} contains control characters; remove them"
    return text, None


def clean_identifier(
    value: Any, *, label: str = "Identifier", example: str = "QTC-FUN-01-01"
) -> tuple[str, str | None]:
    """Identifiers are upper case letters and digits in parts joined by -, _ or . (QTC-FUN-01-01)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", f"Enter the {label.lower()}"
    if not isinstance(value, str):
        return "", f"{label} must be text, such as {example}"
    text = value.strip().upper()
    if len(text) > MAX_IDENTIFIER:
        return text, f"{label} must be {MAX_IDENTIFIER} characters or fewer"
    if not IDENTIFIER_PATTERN.match(text):
        shown = "".join(ch for ch in text if ch.isprintable())[:40]
        return text, (
            f"{label} “{shown}” is not valid: use letters and digits in parts joined by hyphens, dots or "
            f"underscores, such as {example}"
        )
    return text, None


def clean_flow_code(value: Any) -> tuple[str, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", "Enter the DIP flow's interface ID"
    if not isinstance(value, str):
        return "", "The interface ID must be text, such as IF-033"
    text = value.strip().upper()
    if len(text) > MAX_FLOW_CODE or not FLOW_CODE_PATTERN.match(text):
        shown = "".join(ch for ch in text if ch.isprintable())[:20]
        return text, f"“{shown}” is not an interface ID: use the form IF-033 or PUB-035"
    return text, None


def clean_choice(value: Any, choices: type[RequirementArea] | type[TestBatch], *, label: str) -> tuple[str, str | None]:
    """A code or its label, in any case: "non_functional", "Non-functional"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", f"Select the {label.lower()}"
    if not isinstance(value, str):
        return "", f"{label} must be text"
    wanted = value.strip().lower()
    for code, name in choices.choices:
        if wanted in (code, str(name).lower(), code.replace("_", "-"), code.replace("_", " ")):
            return code, None
    allowed = ", ".join(str(name) for _, name in choices.choices)
    return "", f"{label} “{value.strip()[:40]}” is not one of: {allowed}"


def split_codes(value: Any) -> list[str]:
    """Codes from a list, or text separated by commas, semicolons or new lines; blanks dropped."""
    if value is None:
        return []
    parts: Iterable[Any] = re.split(r"[,;\n]", value) if isinstance(value, str) else value
    return [str(p).strip() for p in parts if str(p).strip()]


@dataclass(frozen=True)
class Known:
    """What content may name: the role groups (code and name, to code), DIP flows and requirements."""

    role_groups: Mapping[str, str]
    flows: frozenset[str]
    requirements: frozenset[str]

    @classmethod
    def from_database(cls) -> "Known":
        groups: dict[str, str] = {}
        for group in RoleGroup.objects.all():
            groups[group.code.lower()] = group.code
            groups[group.name.lower()] = group.code
        return cls(
            role_groups=groups,
            flows=frozenset(DipFlow.objects.values_list("code", flat=True)),
            requirements=frozenset(Requirement.objects.values_list("identifier", flat=True)),
        )


def clean_case_content(fields: CaseFields, known: Known, problems: Problems) -> CaseContent:
    """The content in canonical form; every problem is added to `problems` with its field."""
    title, error = clean_text(fields.title, label="Title", max_length=MAX_TITLE)
    if error:
        problems.add("title", error)
    batch, error = clean_choice(fields.batch, TestBatch, label="Batch")
    if error:
        problems.add("batch", error)
    if not isinstance(fields.mandatory, bool):
        problems.add("mandatory", "Say whether the case is mandatory")

    groups: set[str] = set()
    for name in split_codes(fields.role_groups):
        code = known.role_groups.get(name.lower())
        if code is None:
            problems.add("role_groups", f"There is no role group “{name[:40]}”")
        else:
            groups.add(code)
    if not groups and not any(f == "role_groups" for f, _ in problems.items):
        problems.add("role_groups", "Select at least one role group the case applies to")

    flows: set[str] = set()
    for name in split_codes(fields.dip_flows):
        code = name.upper()
        if code not in known.flows:
            problems.add("dip_flows", f"There is no DIP flow “{name[:20]}” in the catalogue")
        else:
            flows.add(code)

    requirements: set[str] = set()
    for name in split_codes(fields.requirements):
        identifier = name.upper()
        if identifier not in known.requirements:
            problems.add("requirements", f"There is no requirement “{name[:40]}” in the catalogue")
        else:
            requirements.add(identifier)

    steps: list[tuple[str, str]] = []
    if not fields.steps:
        problems.add("steps", "Add at least one step, with its action and expected result")
    elif len(fields.steps) > MAX_STEPS:
        problems.add("steps", f"A case has at most {MAX_STEPS} steps")
    for number, step in enumerate(fields.steps[:MAX_STEPS], start=1):
        action, error = clean_text(step.action, label=f"Step {number} action", max_length=MAX_STEP_TEXT, multiline=True)
        if error:
            problems.add(f"steps.{number}.action", error)
        expected, error = clean_text(
            step.expected, label=f"Step {number} expected result", max_length=MAX_STEP_TEXT, multiline=True
        )
        if error:
            problems.add(f"steps.{number}.expected", error)
        steps.append((action, expected))

    return CaseContent(
        title=title,
        batch=batch,
        mandatory=bool(fields.mandatory),
        role_groups=tuple(sorted(groups)),
        dip_flows=tuple(sorted(flows)),
        requirements=tuple(sorted(requirements)),
        steps=tuple(steps),
    )


def version_content(version: TestCaseVersion) -> CaseContent:
    """What a stored version says, in the same canonical form."""
    return CaseContent(
        title=version.title,
        batch=version.batch,
        mandatory=version.mandatory,
        role_groups=tuple(sorted(g.code for g in version.role_groups.all())),
        dip_flows=tuple(sorted(f.code for f in version.dip_flows.all())),
        requirements=tuple(sorted(r.identifier for r in version.requirements.all())),
        steps=tuple((str(s.get("action", "")), str(s.get("expected", ""))) for s in version.steps or []),
    )


# --- writers without audit (the services and the import call them) --------------------------------


def write_version(*, case: TestCase, content: CaseContent, actor: Any) -> TestCaseVersion:
    """Add a version to a locked case and make it the current one."""
    latest = TestCaseVersion.objects.filter(case=case).aggregate(v=Max("version"))["v"] or 0
    TestCaseVersion.objects.filter(case=case, is_current=True).update(is_current=False)
    version = TestCaseVersion.objects.create(
        case=case,
        version=latest + 1,
        is_current=True,
        title=content.title,
        batch=content.batch,
        mandatory=content.mandatory,
        steps=steps_json(content.steps),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    version.role_groups.set(RoleGroup.objects.filter(code__in=content.role_groups))
    version.dip_flows.set(DipFlow.objects.filter(code__in=content.dip_flows))
    version.requirements.set(Requirement.objects.filter(identifier__in=content.requirements))
    return version


def current_version(case: TestCase) -> TestCaseVersion | None:
    return (
        TestCaseVersion.objects.filter(case=case, is_current=True)
        .prefetch_related("role_groups", "dip_flows", "requirements")
        .first()
    )


# --- requirements --------------------------------------------------------------------------------


@transaction.atomic
def requirement_create(*, actor: Any, identifier: str, area: str, text: str) -> Requirement:
    _require_keeper(actor)
    problems = Problems()
    identifier = _identifier(identifier, problems, label="Identifier")
    area_code = _choice(area, RequirementArea, problems, "area", "Area")
    text = _text(text, problems, "text", "Requirement text", MAX_TEXT, multiline=True)
    problems.raise_if_any()
    if Requirement.objects.filter(identifier=identifier).exists():
        raise Conflict(f"There is already a requirement {identifier}.", details={"field": "identifier"})
    requirement = _create(Requirement, f"requirement {identifier}", identifier=identifier, area=area_code, text=text)
    audit_record(
        actor=actor,
        action="catalogue.requirement.create",
        target=requirement,
        summary=f"Requirement {identifier} added to the test catalogue",
        after=_requirement_snapshot(requirement),
    )
    notify(
        recipients=participants_in_testing(task_codes=(PIT_TASK, QT_TASK)),
        subject=f"New requirement for your RTTM: {identifier}",
        body=f"{_name(actor)} added requirement {identifier} ({requirement.get_area_display()}) to the test "
        f"catalogue: {text[:300]} Trace it in the RTTM of each application in testing.",
        link="/qt/catalogue/requirements/",
        exclude=actor,
    )
    return requirement


@transaction.atomic
def requirement_update(*, actor: Any, identifier: str, area: str, text: str, is_active: bool) -> Requirement:
    _require_keeper(actor)
    requirement = _locked(Requirement, identifier=_lookup(identifier), missing="No requirement has that identifier.")
    problems = Problems()
    area_code = _choice(area, RequirementArea, problems, "area", "Area")
    text = _text(text, problems, "text", "Requirement text", MAX_TEXT, multiline=True)
    problems.raise_if_any()
    before = _requirement_snapshot(requirement)
    requirement.area, requirement.text, requirement.is_active = area_code, text, bool(is_active)
    after = _requirement_snapshot(requirement)
    _refuse_unchanged(before, after, f"requirement {requirement.identifier}")
    requirement.save(update_fields=["area", "text", "is_active"])
    audit_record(
        actor=actor,
        action="catalogue.requirement.update",
        target=requirement,
        summary=f"Requirement {requirement.identifier} changed"
        + ("" if before["is_active"] == after["is_active"] else (" (reinstated)" if is_active else " (retired)")),
        before=before,
        after=after,
    )
    return requirement


def _requirement_snapshot(requirement: Requirement) -> dict[str, Any]:
    return {
        "identifier": requirement.identifier,
        "area": requirement.area,
        "text": requirement.text,
        "is_active": requirement.is_active,
    }


# --- DIP flows -----------------------------------------------------------------------------------


@transaction.atomic
def dip_flow_create(*, actor: Any, code: str, title: str, opt_out_allowed: bool) -> DipFlow:
    _require_keeper(actor)
    problems = Problems()
    code, error = clean_flow_code(code)
    if error:
        problems.add("code", error)
    title = _text(title, problems, "title", "Title", MAX_FLOW_TITLE)
    problems.raise_if_any()
    if DipFlow.objects.filter(code=code).exists():
        raise Conflict(f"There is already a DIP flow {code}.", details={"field": "code"})
    flow = _create(DipFlow, f"DIP flow {code}", code=code, title=title, opt_out_allowed=bool(opt_out_allowed))
    audit_record(
        actor=actor,
        action="catalogue.dip_flow.create",
        target=flow,
        summary=f"DIP flow {code} added to the test catalogue",
        after=_flow_snapshot(flow),
    )
    return flow


@transaction.atomic
def dip_flow_update(*, actor: Any, code: str, title: str, opt_out_allowed: bool) -> DipFlow:
    _require_keeper(actor)
    flow = _locked(DipFlow, code=_lookup(code), missing="No DIP flow has that interface ID.")
    problems = Problems()
    title = _text(title, problems, "title", "Title", MAX_FLOW_TITLE)
    problems.raise_if_any()
    before = _flow_snapshot(flow)
    flow.title, flow.opt_out_allowed = title, bool(opt_out_allowed)
    after = _flow_snapshot(flow)
    _refuse_unchanged(before, after, f"DIP flow {flow.code}")
    flow.save(update_fields=["title", "opt_out_allowed"])
    audit_record(
        actor=actor,
        action="catalogue.dip_flow.update",
        target=flow,
        summary=f"DIP flow {flow.code} changed",
        before=before,
        after=after,
    )
    return flow


def _flow_snapshot(flow: DipFlow) -> dict[str, Any]:
    return {"code": flow.code, "title": flow.title, "opt_out_allowed": flow.opt_out_allowed}


# --- scenarios -----------------------------------------------------------------------------------


@transaction.atomic
def scenario_create(*, actor: Any, identifier: str, title: str, batch: str, description: str = "") -> TestScenario:
    _require_keeper(actor)
    problems = Problems()
    identifier = _identifier(identifier, problems, label="Identifier")
    title = _text(title, problems, "title", "Title", MAX_TITLE)
    batch_code = _choice(batch, TestBatch, problems, "batch", "Batch")
    description = _text(description, problems, "description", "Description", MAX_TEXT, required=False, multiline=True)
    problems.raise_if_any()
    if TestScenario.objects.filter(identifier=identifier).exists():
        raise Conflict(f"There is already a scenario {identifier}.", details={"field": "identifier"})
    scenario = _create(
        TestScenario,
        f"scenario {identifier}",
        identifier=identifier,
        title=title,
        batch=batch_code,
        description=description,
    )
    audit_record(
        actor=actor,
        action="catalogue.scenario.create",
        target=scenario,
        summary=f"Scenario {identifier} added to the test catalogue",
        after=_scenario_snapshot(scenario),
    )
    return scenario


@transaction.atomic
def scenario_update(
    *, actor: Any, identifier: str, title: str, batch: str, description: str = "", is_active: bool = True
) -> TestScenario:
    _require_keeper(actor)
    scenario = _locked(TestScenario, identifier=_lookup(identifier), missing="No scenario has that identifier.")
    problems = Problems()
    title = _text(title, problems, "title", "Title", MAX_TITLE)
    batch_code = _choice(batch, TestBatch, problems, "batch", "Batch")
    description = _text(description, problems, "description", "Description", MAX_TEXT, required=False, multiline=True)
    problems.raise_if_any()
    if scenario.is_active and not is_active:
        active = scenario.cases.filter(is_active=True).count()
        if active:
            raise InvalidTransition(
                f"Scenario {scenario.identifier} still has {active} active case{'s' if active != 1 else ''}: retire "
                "them first.",
                details={"field": "is_active"},
            )
    before = _scenario_snapshot(scenario)
    scenario.title, scenario.batch, scenario.description = title, batch_code, description
    scenario.is_active = bool(is_active)
    after = _scenario_snapshot(scenario)
    _refuse_unchanged(before, after, f"scenario {scenario.identifier}")
    scenario.save(update_fields=["title", "batch", "description", "is_active"])
    audit_record(
        actor=actor,
        action="catalogue.scenario.update",
        target=scenario,
        summary=f"Scenario {scenario.identifier} changed",
        before=before,
        after=after,
    )
    return scenario


def _scenario_snapshot(scenario: TestScenario) -> dict[str, Any]:
    return {
        "identifier": scenario.identifier,
        "title": scenario.title,
        "batch": scenario.batch,
        "description": scenario.description,
        "is_active": scenario.is_active,
    }


# --- test cases ----------------------------------------------------------------------------------


@transaction.atomic
def case_create(*, actor: Any, identifier: str, scenario: str, fields: CaseFields) -> TestCaseVersion:
    """Add a case to a scenario, with its content as version 1."""
    _require_keeper(actor)
    problems = Problems()
    identifier = _identifier(identifier, problems, label="Identifier")
    scenario_row = None
    scenario_id, error = clean_identifier(scenario, label="Scenario", example="QTS-FUN-01")
    if error:
        problems.add("scenario", error)
    else:
        scenario_row = TestScenario.objects.select_for_update().filter(identifier=scenario_id).first()
        if scenario_row is None:
            problems.add("scenario", f"There is no scenario {scenario_id}")
    content = clean_case_content(fields, Known.from_database(), problems)
    problems.raise_if_any()
    assert scenario_row is not None
    if not scenario_row.is_active:
        raise InvalidTransition(
            f"Scenario {scenario_row.identifier} is retired: new cases cannot be added to it.",
            details={"field": "scenario"},
        )
    if TestCase.objects.filter(identifier=identifier).exists():
        raise Conflict(f"There is already a test case {identifier}.", details={"field": "identifier"})
    case = _create(TestCase, f"test case {identifier}", identifier=identifier, scenario=scenario_row)
    version = write_version(case=case, content=content, actor=actor)
    audit_record(
        actor=actor,
        action="catalogue.case.create",
        target=version,
        summary=f"Test case {identifier} added to scenario {scenario_row.identifier} as version 1",
        after={"case": identifier, "scenario": scenario_row.identifier, "version": 1, **content.as_dict()},
    )
    _notify_case(actor, version, f"New test case {identifier}", "was added to the test catalogue")
    return version


@transaction.atomic
def case_publish(*, actor: Any, identifier: str, fields: CaseFields) -> TestCaseVersion:
    """Publish a new version of a case; the previous one stays, no longer current. Refused when the
    content is the same as the current version's."""
    _require_keeper(actor)
    case = _locked_case(identifier)
    if not case.is_active:
        raise InvalidTransition(f"Test case {case.identifier} is retired: reinstate it before changing it.")
    problems = Problems()
    content = clean_case_content(fields, Known.from_database(), problems)
    problems.raise_if_any()
    previous = current_version(case)
    before = version_content(previous).as_dict() if previous else {}
    if previous is not None and version_content(previous) == content:
        raise InvalidInput(
            f"Nothing changed: this is what version {previous.version} of {case.identifier} already says.",
            details={"field": "title", "rule": "unchanged"},
        )
    version = write_version(case=case, content=content, actor=actor)
    audit_record(
        actor=actor,
        action="catalogue.case.publish",
        target=version,
        summary=f"Version {version.version} of test case {case.identifier} published",
        before={"version": previous.version if previous else None, **before},
        after={"version": version.version, **content.as_dict()},
    )
    _notify_case(actor, version, f"Test case {case.identifier} changed", f"has a new version ({version.version})")
    return version


@transaction.atomic
def case_retire(*, actor: Any, identifier: str, reason: str) -> TestCase:
    """Retire a case: it is no longer required of anyone. Its versions and executions stay."""
    _require_keeper(actor)
    case = _locked_case(identifier)
    if not case.is_active:
        raise InvalidTransition(f"Test case {case.identifier} is already retired.")
    problems = Problems()
    reason = _text(reason, problems, "reason", "Reason", MAX_REASON, multiline=True)
    problems.raise_if_any()
    case.is_active = False
    case.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="catalogue.case.retire",
        target=case,
        summary=f"Test case {case.identifier} retired",
        before={"is_active": True},
        after={"is_active": False, "reason": reason},
    )
    version = current_version(case)
    if version is not None:
        _notify_case(actor, version, f"Test case {case.identifier} retired", f"was retired: {reason[:300]}")
    return case


@transaction.atomic
def case_reinstate(*, actor: Any, identifier: str) -> TestCase:
    _require_keeper(actor)
    case = _locked_case(identifier)
    if case.is_active:
        raise InvalidTransition(f"Test case {case.identifier} is not retired.")
    if not case.scenario.is_active:
        raise InvalidTransition(
            f"Scenario {case.scenario.identifier} is retired: reinstate the scenario before its cases."
        )
    case.is_active = True
    case.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="catalogue.case.reinstate",
        target=case,
        summary=f"Test case {case.identifier} reinstated",
        before={"is_active": False},
        after={"is_active": True},
    )
    version = current_version(case)
    if version is not None:
        _notify_case(actor, version, f"Test case {case.identifier} reinstated", "is required again where it applies")
    return case


# --- who is told ---------------------------------------------------------------------------------


def participants_in_testing(
    *, task_codes: Sequence[str] = (QT_TASK,), role_group_codes: Iterable[str] | None = None
) -> list[User]:
    """Members of organisations with an open application whose testing task (one of `task_codes`)
    is under way or about to start, optionally only for the given role groups."""
    tasks = Task.objects.filter(code__in=task_codes, state__in=TESTING_OPEN_STATES).exclude(
        application__status__in=CLOSED_STATUS_VALUES
    )
    if role_group_codes is not None:
        tasks = tasks.filter(application__market_role__role_group__code__in=list(role_group_codes))
    organisations = tasks.values("application__organisation_id")
    return list(User.objects.filter(is_active=True, memberships__organisation_id__in=organisations).distinct())


def _notify_case(actor: Any, version: TestCaseVersion, subject: str, what: str) -> None:
    case = version.case
    groups = [g.code for g in version.role_groups.all()]
    notify(
        recipients=participants_in_testing(role_group_codes=groups),
        subject=subject,
        body=f"Test case {case.identifier} “{version.title}” ({'mandatory' if version.mandatory else 'optional'}, "
        f"scenario {case.scenario.identifier}) {what}. Check your test set and execution plan.",
        link=f"/qt/catalogue/cases/{case.identifier}/",
        exclude=actor,
    )


# --- internals -----------------------------------------------------------------------------------


def _require_keeper(actor: Any) -> None:
    if not can_keep_catalogue(actor):
        raise PermissionDenied(
            "Only Testing Assurance, the Code Bodies and the MHHS Programme can change the test catalogue."
        )


def _lookup(value: Any) -> str:
    return str(value or "").strip().upper()[:MAX_IDENTIFIER]


def _locked(model: Any, *, missing: str, **lookup: Any) -> Any:
    row = model.objects.select_for_update().filter(**lookup).first()
    if row is None:
        raise NotFound(missing)
    return row


def _locked_case(identifier: str) -> TestCase:
    case = (
        TestCase.objects.select_for_update().select_related("scenario").filter(identifier=_lookup(identifier)).first()
    )
    if case is None:
        raise NotFound("No test case has that identifier.")
    return case


def _create(model: Any, what: str, **values: Any) -> Any:
    try:
        with transaction.atomic():
            return model.objects.create(**values)
    except IntegrityError as exc:  # added by someone else a moment earlier
        raise Conflict(f"The {what} was added by someone else at the same moment.") from exc


def _identifier(value: Any, problems: Problems, *, label: str) -> str:
    identifier, error = clean_identifier(value, label=label)
    if error:
        problems.add("identifier", error)
    return identifier


def _choice(value: Any, choices: Any, problems: Problems, field_name: str, label: str) -> str:
    code, error = clean_choice(value, choices, label=label)
    if error:
        problems.add(field_name, error)
    return code


def _text(
    value: Any,
    problems: Problems,
    field_name: str,
    label: str,
    max_length: int,
    *,
    required: bool = True,
    multiline: bool = False,
) -> str:
    text, error = clean_text(value, label=label, max_length=max_length, required=required, multiline=multiline)
    if error:
        problems.add(field_name, error)
    return text


def _refuse_unchanged(before: Mapping[str, Any], after: Mapping[str, Any], what: str) -> None:
    if dict(before) == dict(after):
        raise InvalidInput(f"Nothing changed: the {what} already says this.", details={"rule": "unchanged"})


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
