"""The QT exit checklist: each active exit rule that applies to the application's route, evaluated live
from the data, with what still blocks it in plain English.

Rules are data (`ExitRule`: a kind, parameters, the routes it applies to); how each kind is judged is
here, one evaluator per kind. The evaluators share one set of facts about the application, each loaded
at most once, so the number of queries does not grow with the number of cases, executions or defects.

A rule whose parameters are wrong (an administrator saved something the admin form should have
refused, or edited the database) is reported as a failing rule that says so, never as a crash: exit is
then blocked until it is corrected, which is the safe way to fail.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from portal.qualification.models import Application
from portal.testing.models import (
    OPEN_DEFECT_STATUSES,
    PASSING_STATUSES,
    Defect,
    DefectSeverity,
    EvidenceReview,
    ExecutionStatus,
    ExitRule,
    ExitRuleKind,
    QtPlan,
    ReviewStatus,
    RttmCheckpoint,
    RttmSnapshot,
    TestExecution,
)
from portal.testing.required_set import SetRow, required_set
from portal.workoff.models import WorkOffItem, WorkOffStatus

# Work-off items in these statuses cover the case or defect they name.
COVERING_WORKOFF_STATUSES = frozenset({WorkOffStatus.AGREED, WorkOffStatus.CLOSED})


@dataclass(frozen=True)
class RuleResult:
    code: str
    title: str
    kind: str
    passed: bool
    # What still blocks the rule, one plain-English reason per case, defect or missing thing.
    blocking: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return str(ExitRuleKind(self.kind).label) if self.kind in ExitRuleKind.values else self.kind


# --- parameters ----------------------------------------------------------------------------------

# The parameters each kind takes: name -> (required, check, what a valid value is).
_ParameterCheck = tuple[bool, Callable[[Any], bool], str]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


PARAMETERS: dict[str, dict[str, _ParameterCheck]] = {
    ExitRuleKind.PLAN_AGREED: {},
    ExitRuleKind.READINESS_CONFIRMED: {},
    ExitRuleKind.MANDATORY_CASES_PASSED: {},
    ExitRuleKind.EVIDENCE_ACCEPTED: {},
    ExitRuleKind.NO_OPEN_DEFECTS: {
        "max_severity": (
            True,
            lambda v: _is_int(v) and DefectSeverity.CRITICAL <= v <= DefectSeverity.LOW,
            "a whole number from 1 (only critical defects block) to 4 (every open defect blocks)",
        ),
        "work_off_allowed": (
            False,
            lambda v: isinstance(v, bool),
            "true (an agreed work-off item covers the defect) or false (nothing covers it)",
        ),
    },
    ExitRuleKind.RTTM_CAPTURED: {
        "checkpoint": (
            True,
            lambda v: isinstance(v, str) and v in RttmCheckpoint.values,
            "one of " + ", ".join(RttmCheckpoint.values),
        ),
    },
}


def parameter_errors(kind: str, parameters: Any) -> list[str]:
    """What is wrong with a rule's parameters for its kind, in plain English; empty when they are
    sound. Used by the admin form when a rule is saved, and again whenever a rule is evaluated."""
    if kind not in PARAMETERS:
        return [f"“{kind}” is not a kind of exit rule."]
    if not isinstance(parameters, Mapping):
        return ['The parameters must be a JSON object, for example {} or {"max_severity": 2}.']
    expected = PARAMETERS[kind]
    errors = []
    for name in parameters:
        if name not in expected:
            takes = ", ".join(expected) if expected else "no parameters"
            errors.append(f"“{name}” is not a parameter of this kind of rule (it takes {takes}).")
    for name, (required, check, meaning) in expected.items():
        if name not in parameters:
            if required:
                errors.append(f"“{name}” is missing: it must be {meaning}.")
        elif not check(parameters[name]):
            errors.append(f"“{name}” must be {meaning}.")
    return errors


# --- which rules apply -----------------------------------------------------------------------------


def exit_rules_for(application: Application) -> list[ExitRule]:
    """The active rules for the application's route (a rule naming no route applies to every route),
    in order. A few rows of reference data: matched here rather than with outer joins."""
    rules = ExitRule.objects.filter(is_active=True).prefetch_related("routes").order_by("order", "code")
    return [r for r in rules if _applies({route.pk for route in r.routes.all()}, application.route_id)]


def _applies(named: set[int], value: int) -> bool:
    return not named or value in named


# --- the facts the evaluators share -----------------------------------------------------------------


class ExitFacts:
    """What the rules are judged on, each loaded at most once per evaluation."""

    def __init__(self, application: Application) -> None:
        self.application = application

    @cached_property
    def plan(self) -> QtPlan | None:
        return QtPlan.objects.filter(application_id=self.application.pk).first()

    @cached_property
    def required_rows(self) -> list[SetRow]:
        return [row for row in required_set(self.application) if row.required]

    @cached_property
    def latest(self) -> dict[int, TestExecution]:
        """The latest execution of each case the application has run: by executed_at, then id."""
        newest = (
            TestExecution.objects.filter(application_id=self.application.pk, case_id=OuterRef("case_id"))
            .order_by("-executed_at", "-id")
            .values("id")[:1]
        )
        executions = TestExecution.objects.filter(application_id=self.application.pk, id=Subquery(newest)).annotate(
            evidence_count=Count("evidence")
        )
        return {e.case_id: e for e in executions}

    @cached_property
    def _covering_items(self) -> list[WorkOffItem]:
        return list(
            WorkOffItem.objects.filter(
                application_id=self.application.pk, status__in=[s.value for s in COVERING_WORKOFF_STATUSES]
            ).order_by()
        )

    @cached_property
    def covered_defect_ids(self) -> set[int]:
        return {item.defect_id for item in self._covering_items if item.defect_id is not None}

    @cached_property
    def covered_case_ids(self) -> set[int]:
        """Cases named by an agreed or closed work-off item, directly or through a defect raised on one
        of their executions."""
        cases = {item.case_id for item in self._covering_items if item.case_id is not None}
        if self.covered_defect_ids:
            links = Defect.executions.through.objects.filter(defect_id__in=self.covered_defect_ids)
            cases |= set(links.values_list("testexecution__case_id", flat=True))
        return cases

    @cached_property
    def open_defects(self) -> list[Defect]:
        return list(
            Defect.objects.filter(
                application_id=self.application.pk, status__in=[s.value for s in OPEN_DEFECT_STATUSES]
            ).order_by("severity", "number")
        )

    @cached_property
    def snapshot_checkpoints(self) -> set[str]:
        return set(RttmSnapshot.objects.filter(application_id=self.application.pk).values_list("checkpoint", flat=True))


# --- one evaluator per kind --------------------------------------------------------------------------


def _when(execution: TestExecution) -> str:
    return date_format(timezone.localtime(execution.executed_at), "j F Y")


def _case(row: SetRow) -> str:
    return f"{row.identifier} “{row.version.title}”"


def _plan_agreed(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    plan = facts.plan
    if plan is None or plan.version == 0:
        return ["The QT plan has not been submitted to Testing Assurance yet."]
    if plan.status == ReviewStatus.AGREED:
        return []
    return [f"The QT plan is {ReviewStatus(plan.status).label.lower()}, not agreed by Testing Assurance."]


def _readiness_confirmed(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    plan = facts.plan
    if plan is not None and plan.readiness_status == ReviewStatus.AGREED:
        return []
    if plan is None or (plan.readiness_status == ReviewStatus.DRAFT and plan.readiness_submitted_at is None):
        return ["The readiness report has not been submitted to Testing Assurance yet."]
    status = ReviewStatus(plan.readiness_status).label.lower()
    return [f"The readiness report is {status}, not confirmed by Testing Assurance."]


def _mandatory_cases_passed(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    # Imported here: the execution selectors import the plan selectors, which import this module.
    from portal.testing.execution_selectors import counts_as_passed

    blocking = []
    for row in facts.required_rows:
        if row.case_id in facts.covered_case_ids:
            continue
        latest = facts.latest.get(row.case_id)
        if latest is None:
            blocking.append(f"{_case(row)} has not been run.")
        elif latest.status not in PASSING_STATUSES:
            outcome = ExecutionStatus(latest.status).label.lower()
            blocking.append(f"{_case(row)}: its latest run, on {_when(latest)}, is {outcome}.")
        elif not counts_as_passed(latest, latest.evidence_count):  # type: ignore[attr-defined]
            # An imported pass has no evidence yet: it is not a pass until its evidence is attached.
            blocking.append(f"{_case(row)}: its latest run, on {_when(latest)}, passed but has no evidence yet.")
    return blocking


def _evidence_accepted(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    blocking = []
    for row in facts.required_rows:
        latest = facts.latest.get(row.case_id)
        if latest is None:
            continue
        if latest.review == EvidenceReview.REJECTED:
            why = f": {latest.review_comment}" if latest.review_comment else ""
            blocking.append(f"{_case(row)}: the evidence of its latest run, on {_when(latest)}, was rejected{why}")
        elif latest.review == EvidenceReview.PENDING:
            blocking.append(
                f"{_case(row)}: the evidence of its latest run, on {_when(latest)}, is awaiting review by Testing "
                "Assurance."
            )
    return blocking


def _no_open_defects(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    max_severity = int(parameters["max_severity"])
    work_off_allowed = bool(parameters.get("work_off_allowed", True))
    blocking = []
    for defect in facts.open_defects:
        if defect.severity > max_severity:
            continue
        if work_off_allowed and defect.pk in facts.covered_defect_ids:
            continue
        severity = DefectSeverity(defect.severity).label
        blocking.append(
            f"{defect.reference} “{defect.title}” (severity {severity}) is {defect.get_status_display().lower()}."
        )
    return blocking


def _rttm_captured(facts: ExitFacts, parameters: Mapping[str, Any]) -> list[str]:
    checkpoint = RttmCheckpoint(parameters["checkpoint"])
    if checkpoint.value in facts.snapshot_checkpoints:
        return []
    return [f"The RTTM has not been captured at {checkpoint.label}."]


EVALUATORS: dict[str, Callable[[ExitFacts, Mapping[str, Any]], list[str]]] = {
    ExitRuleKind.PLAN_AGREED: _plan_agreed,
    ExitRuleKind.READINESS_CONFIRMED: _readiness_confirmed,
    ExitRuleKind.MANDATORY_CASES_PASSED: _mandatory_cases_passed,
    ExitRuleKind.NO_OPEN_DEFECTS: _no_open_defects,
    ExitRuleKind.EVIDENCE_ACCEPTED: _evidence_accepted,
    ExitRuleKind.RTTM_CAPTURED: _rttm_captured,
}


def evaluate_rule(rule: ExitRule, facts: ExitFacts) -> RuleResult:
    problems = parameter_errors(rule.kind, rule.parameters)
    if problems:
        blocking = [
            f"This rule is set up wrongly ({' '.join(problems)}) An administrator must correct it in the admin "
            "before QT can exit."
        ]
        return RuleResult(rule.code, rule.title, rule.kind, passed=False, blocking=blocking)
    blocking = EVALUATORS[rule.kind](facts, rule.parameters)
    return RuleResult(rule.code, rule.title, rule.kind, passed=not blocking, blocking=blocking)


def exit_checklist(application: Application) -> list[RuleResult]:
    """Every exit rule for the application's route, judged now. Not scoped to a user: the caller already
    holds an application it may see (the selectors and the guard)."""
    facts = ExitFacts(application)
    return [evaluate_rule(rule, facts) for rule in exit_rules_for(application)]


def exit_blockers(results: list[RuleResult]) -> list[RuleResult]:
    return [result for result in results if not result.passed]
