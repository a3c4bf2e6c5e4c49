"""Reads of an application's Qualification Testing executions and defects, already scoped to what the
user may see, and the rules of a run that every face shows the same way.

**Evidence.** A run that claims an outcome — passed, passed with observations, or failed — needs
evidence files. A run recorded on the execution page or through the API must carry them when it is
recorded. A run imported from a results workbook carries none (a workbook holds no files): it is
*awaiting evidence* until the participant attaches files on its page. A run awaiting evidence cannot
be accepted by Testing Assurance, and so never counts as passed for exit (`counts_as_passed`). Blocked
and not-run runs need no files, but they need notes saying why, as a run passed with observations or
failed does.

**Review.** Testing Assurance (the `qt` task's assurers) accepts a run's evidence, or rejects it with a
comment; the participant then attaches better evidence (which sends it back for review) or runs the
case again. A case's result is its latest run, by `executed_at` and then id.

Everyone who may see the application may read all of it; another organisation's application answers
NotFound, the same as a missing one.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from portal.core.errors import ApplicationError, InvalidTransition, NotFound
from portal.qualification.models import Application, Task
from portal.testing.models import (
    PASSING_STATUSES,
    Defect,
    DefectSeverity,
    DefectStatus,
    EvidenceReview,
    ExecutionStatus,
    TestBatch,
    TestCaseVersion,
    TestExecution,
)
from portal.testing.models.execution import CompletionReport, DefectEntry
from portal.testing.plan_selectors import (
    assures_qt,
    qt_readiness_confirmed,
    qt_review_refusal,
    qt_task_get,
    qt_work_refusal,
    works_on_qt,
)
from portal.testing.required_set import Inclusion, SetRow, required_set

# --- the rules of a run -------------------------------------------------------------------------------

# A run that claims an outcome shows how: evidence files.
EVIDENCE_REQUIRED = frozenset(
    {ExecutionStatus.PASSED, ExecutionStatus.PASSED_WITH_OBSERVATIONS, ExecutionStatus.FAILED}
)
# A run that did not simply pass says why.
NOTES_REQUIRED = frozenset({ExecutionStatus.PASSED_WITH_OBSERVATIONS, ExecutionStatus.FAILED, ExecutionStatus.BLOCKED})
# The cases of the test set that are run in QT; the others are covered by reliance or opted out.
RECORDABLE = frozenset({Inclusion.REQUIRED, Inclusion.OPTIONAL})

STATUS_COLOURS: dict[str, str] = {
    ExecutionStatus.PASSED: "green",
    ExecutionStatus.PASSED_WITH_OBSERVATIONS: "turquoise",
    ExecutionStatus.FAILED: "red",
    ExecutionStatus.BLOCKED: "orange",
    ExecutionStatus.NOT_RUN: "grey",
}


class StepStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    NOT_RUN = "not_run", "Not run"


class ReviewState(models.TextChoices):
    """Where a run's evidence stands: derived from its review, its status and whether it has files."""

    AWAITING_EVIDENCE = "awaiting_evidence", "Awaiting evidence"
    PENDING = "pending", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


REVIEW_COLOURS: dict[str, str] = {
    ReviewState.AWAITING_EVIDENCE: "yellow",
    ReviewState.PENDING: "blue",
    ReviewState.ACCEPTED: "green",
    ReviewState.REJECTED: "red",
}


def review_state(*, status: str, review: str, evidence_count: int) -> ReviewState:
    if review == EvidenceReview.REJECTED:
        return ReviewState.REJECTED
    if review == EvidenceReview.ACCEPTED:
        return ReviewState.ACCEPTED
    if status in EVIDENCE_REQUIRED and evidence_count == 0:
        return ReviewState.AWAITING_EVIDENCE
    return ReviewState.PENDING


def counts_as_passed(execution: TestExecution, evidence_count: int) -> bool:
    """A passing run counts as passed for exit only once it has evidence that was not rejected. (The
    exit rules also ask for the evidence to be accepted; this is the floor every view agrees on.)"""
    state = review_state(status=execution.status, review=execution.review, evidence_count=evidence_count)
    return execution.status in PASSING_STATUSES and state not in {ReviewState.AWAITING_EVIDENCE, ReviewState.REJECTED}


def step_numbers(version: TestCaseVersion) -> list[int]:
    """The numbers of the version's steps, in order (a step without a number is numbered by position)."""
    numbers = []
    for position, step in enumerate(version.steps or [], start=1):
        value = step.get("step", position) if isinstance(step, dict) else position
        numbers.append(value if isinstance(value, int) and not isinstance(value, bool) else position)
    return numbers


@dataclass(frozen=True)
class StepLine:
    """One step of the version a run ran, with the run's result for it (if it gave one)."""

    number: int
    action: str
    expected: str
    status: str
    actual: str

    @property
    def status_label(self) -> str:
        return str(StepStatus(self.status).label) if self.status in StepStatus.values else "–"


def step_lines(version: TestCaseVersion, results: Iterable[Any] = ()) -> list[StepLine]:
    by_step = {r.get("step"): r for r in results if isinstance(r, dict)}
    lines = []
    for number, step in zip(step_numbers(version), version.steps or [], strict=False):
        result = by_step.get(number, {})
        step = step if isinstance(step, dict) else {}
        lines.append(
            StepLine(
                number=number,
                action=str(step.get("action", "")),
                expected=str(step.get("expected", "")),
                status=str(result.get("status", "")),
                actual=str(result.get("actual", "")),
            )
        )
    return lines


# --- who may do what, now -----------------------------------------------------------------------------


def execution_work_refusal(user: Any, task: Task, what: str = "test executions") -> ApplicationError | None:
    """Why the user may not record runs or evidence now, or None: they must be the participant, the
    task must be with them, and Testing Assurance must have confirmed the readiness report."""
    refusal = qt_work_refusal(user, task, what)
    if refusal is not None:
        return refusal
    if not qt_readiness_confirmed(task.application):
        return InvalidTransition(
            "Test executions can be recorded once Testing Assurance has confirmed the readiness report; it has "
            "not been confirmed yet.",
            details={"rule": "readiness"},
        )
    return None


def defect_work_refusal(user: Any, task: Task) -> ApplicationError | None:
    return qt_work_refusal(user, task, "defects")


def execution_review_refusal(user: Any, task: Task) -> ApplicationError | None:
    return qt_review_refusal(user, task, "the evidence of test executions")


def defect_review_refusal(user: Any, task: Task) -> ApplicationError | None:
    return qt_review_refusal(user, task, "defects")


# --- executions -----------------------------------------------------------------------------------------


def _later_runs(prefix: str = "") -> QuerySet[TestExecution]:
    """Runs of the same case of the same application after the outer one (by executed_at, then id)."""
    return TestExecution.objects.filter(
        application_id=OuterRef(f"{prefix}application_id"), case_id=OuterRef(f"{prefix}case_id")
    ).filter(
        Q(executed_at__gt=OuterRef(f"{prefix}executed_at"))
        | Q(executed_at=OuterRef(f"{prefix}executed_at"), pk__gt=OuterRef(f"{prefix}pk"))
    )


def _count_of(through: Any, column: str) -> Coalesce:
    counted = through.objects.filter(**{column: OuterRef("pk")}).values(column).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def annotated_executions(queryset: QuerySet[TestExecution]) -> QuerySet[TestExecution]:
    """Each run with how many evidence files and defects it has and whether it is its case's latest
    run: subqueries, so a page of runs is one query whatever its size."""
    return queryset.annotate(
        evidence_count=_count_of(TestExecution.evidence.through, "testexecution_id"),
        defect_count=_count_of(Defect.executions.through, "testexecution_id"),
        is_latest=~Exists(_later_runs()),
    ).select_related("case", "case_version", "recorded_by", "reviewed_by")


def _review_filter(state: str) -> Q:
    awaiting = Q(review=EvidenceReview.PENDING, status__in=list(EVIDENCE_REQUIRED), evidence_count=0)
    if state == ReviewState.AWAITING_EVIDENCE:
        return awaiting
    if state == ReviewState.PENDING:
        return Q(review=EvidenceReview.PENDING) & ~awaiting
    return Q(review=state)


@dataclass(frozen=True)
class ExecutionFilters:
    status: str = ""
    batch: str = ""
    review: str = ""
    case: str = ""
    latest_only: bool = False

    def __bool__(self) -> bool:
        return bool(self.status or self.batch or self.review or self.case or self.latest_only)


def filtered_executions(application: Application, filters: ExecutionFilters) -> QuerySet[TestExecution]:
    """The application's runs matching the filters, newest first. Values outside the known choices
    match nothing rather than being ignored, so a mistyped filter never shows everything."""
    qs = annotated_executions(TestExecution.objects.filter(application=application))
    if filters.status:
        qs = qs.filter(status=filters.status) if filters.status in ExecutionStatus.values else qs.none()
    if filters.batch:
        qs = qs.filter(case_version__batch=filters.batch) if filters.batch in TestBatch.values else qs.none()
    if filters.review:
        qs = qs.filter(_review_filter(filters.review)) if filters.review in ReviewState.values else qs.none()
    if filters.case:
        qs = qs.filter(case__identifier__iexact=filters.case.strip())
    if filters.latest_only:
        qs = qs.filter(~Exists(_later_runs()))
    return qs.order_by("-executed_at", "-id")


@dataclass(frozen=True)
class ExecutionsView:
    application: Application
    task: Task
    executions: QuerySet[TestExecution]
    filters: ExecutionFilters
    can_record: bool
    record_refusal: str  # why the participant cannot record now (empty when they can, or are not the participant)
    is_participant: bool
    is_assurer: bool


def execution_list(*, user: Any, application_id: int, filters: ExecutionFilters | None = None) -> ExecutionsView:
    task = qt_task_get(user=user, application_id=application_id)
    refusal = execution_work_refusal(user, task)
    participant = works_on_qt(user, task)
    return ExecutionsView(
        application=task.application,
        task=task,
        executions=filtered_executions(task.application, filters or ExecutionFilters()),
        filters=filters or ExecutionFilters(),
        can_record=refusal is None,
        record_refusal=refusal.message if refusal is not None and participant else "",
        is_participant=participant,
        is_assurer=assures_qt(user, task),
    )


@dataclass(frozen=True)
class ExecutionDetail:
    application: Application
    task: Task
    execution: TestExecution
    steps: list[StepLine]
    evidence: list[Any]
    defects: list[Defect]
    state: ReviewState
    can_add_evidence: bool
    can_review: bool
    can_raise_defect: bool
    later_run: TestExecution | None  # the case's latest run, when this one is not it

    @property
    def is_latest(self) -> bool:
        return self.later_run is None


def execution_get(*, user: Any, application_id: int, execution_id: int) -> ExecutionDetail:
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    execution = (
        annotated_executions(TestExecution.objects.filter(application=application, pk=execution_id))
        .prefetch_related("evidence__uploaded_by")
        .first()
    )
    if execution is None:
        raise NotFound("This application has no test execution with that reference.")
    execution.application = application
    state = review_state(
        status=execution.status,
        review=execution.review,
        evidence_count=execution.evidence_count,  # type: ignore[attr-defined]
    )
    later = None
    if not execution.is_latest:  # type: ignore[attr-defined]
        later = (
            TestExecution.objects.filter(application=application, case_id=execution.case_id)
            .order_by("-executed_at", "-id")
            .first()
        )
    return ExecutionDetail(
        application=application,
        task=task,
        execution=execution,
        steps=step_lines(execution.case_version, execution.step_results),
        evidence=sorted(execution.evidence.all(), key=lambda e: (e.uploaded_at, e.pk)),
        defects=list(execution.defects.order_by("number")),
        state=state,
        can_add_evidence=state != ReviewState.ACCEPTED and execution_work_refusal(user, task, "evidence") is None,
        can_review=state in {ReviewState.PENDING, ReviewState.ACCEPTED}
        and execution_review_refusal(user, task) is None,
        can_raise_defect=defect_work_refusal(user, task) is None,
        later_run=later,
    )


@dataclass(frozen=True)
class RecordableCase:
    row: SetRow
    planned_on: Any = None

    @property
    def version(self) -> TestCaseVersion:
        return self.row.version


@dataclass(frozen=True)
class RecordForm:
    """What the record-a-run page needs: the cases that may be run and, once one is chosen, its steps."""

    application: Application
    task: Task
    cases: list[RecordableCase]
    chosen: RecordableCase | None
    steps: list[StepLine]
    refusal: ApplicationError | None


def recordable_cases(application: Application) -> list[RecordableCase]:
    """The cases of the application's required and optional set, in identifier order."""
    return [RecordableCase(row) for row in required_set(application) if row.inclusion in RECORDABLE]


def execution_record_form(*, user: Any, application_id: int, case_identifier: str = "") -> RecordForm:
    task = qt_task_get(user=user, application_id=application_id)
    cases = recordable_cases(task.application)
    chosen = next((c for c in cases if c.row.identifier == case_identifier), None) if case_identifier else None
    return RecordForm(
        application=task.application,
        task=task,
        cases=cases,
        chosen=chosen,
        steps=step_lines(chosen.version) if chosen else [],
        refusal=execution_work_refusal(user, task),
    )


def latest_executions(application: Application) -> dict[int, TestExecution]:
    """The latest run of each case the application has run, annotated like `annotated_executions`."""
    runs = annotated_executions(TestExecution.objects.filter(application=application)).filter(~Exists(_later_runs()))
    return {run.case_id: run for run in runs}


# --- defects ------------------------------------------------------------------------------------------

# The life of a defect: (from, to) -> whether a comment is required. Open -> fixed -> closed is the
# usual path; open or fixed may be deferred to a work-off item; a fix that did not hold, a closure that
# was premature or a deferral taken back reopens it. Closing a defect that was never fixed (raised in
# error, a duplicate) needs the reason.
DEFECT_TRANSITIONS: dict[tuple[str, str], bool] = {
    (DefectStatus.OPEN, DefectStatus.FIXED): False,
    (DefectStatus.FIXED, DefectStatus.CLOSED): False,
    (DefectStatus.OPEN, DefectStatus.CLOSED): True,
    (DefectStatus.OPEN, DefectStatus.DEFERRED): True,
    (DefectStatus.FIXED, DefectStatus.DEFERRED): True,
    (DefectStatus.FIXED, DefectStatus.OPEN): True,
    (DefectStatus.CLOSED, DefectStatus.OPEN): True,
    (DefectStatus.DEFERRED, DefectStatus.OPEN): True,
}
DEFECT_STATUS_ACTIONS: dict[str, str] = {
    DefectStatus.FIXED: "Mark as fixed",
    DefectStatus.CLOSED: "Close",
    DefectStatus.DEFERRED: "Defer to work-off",
    DefectStatus.OPEN: "Reopen",
}
SEVERITY_COLOURS: dict[int, str] = {1: "red", 2: "orange", 3: "yellow", 4: "grey"}
DEFECT_STATUS_COLOURS: dict[str, str] = {
    DefectStatus.OPEN: "red",
    DefectStatus.FIXED: "blue",
    DefectStatus.CLOSED: "green",
    DefectStatus.DEFERRED: "yellow",
}


def defect_next_statuses(status: str) -> list[tuple[str, str, bool]]:
    """The statuses a defect in `status` may move to: (status, action label, comment required)."""
    return [
        (target, DEFECT_STATUS_ACTIONS[target], required)
        for (source, target), required in DEFECT_TRANSITIONS.items()
        if source == status
    ]


@dataclass(frozen=True)
class DefectFilters:
    status: str = ""
    severity: int | None = None

    def __bool__(self) -> bool:
        return bool(self.status or self.severity)


def filtered_defects(application: Application, filters: DefectFilters) -> QuerySet[Defect]:
    qs = (
        Defect.objects.filter(application=application)
        .select_related("raised_by")
        .annotate(execution_count=_count_of(Defect.executions.through, "defect_id"))
    )
    if filters.status:
        qs = qs.filter(status=filters.status) if filters.status in DefectStatus.values else qs.none()
    if filters.severity is not None:
        qs = qs.filter(severity=filters.severity) if filters.severity in DefectSeverity.values else qs.none()
    return qs.order_by("number")


@dataclass(frozen=True)
class DefectsView:
    application: Application
    task: Task
    defects: QuerySet[Defect]
    filters: DefectFilters
    counts: dict[str, int]  # open defects by severity label
    can_raise: bool


def defect_list(*, user: Any, application_id: int, filters: DefectFilters | None = None) -> DefectsView:
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    open_by_severity = Counter(
        Defect.objects.filter(application=application, status__in=[DefectStatus.OPEN, DefectStatus.FIXED])
        .values_list("severity", flat=True)
        .order_by()
    )
    return DefectsView(
        application=application,
        task=task,
        defects=filtered_defects(application, filters or DefectFilters()),
        filters=filters or DefectFilters(),
        counts={str(DefectSeverity(s).label): open_by_severity.get(s, 0) for s in DefectSeverity.values},
        can_raise=defect_work_refusal(user, task) is None,
    )


@dataclass(frozen=True)
class DefectDetail:
    application: Application
    task: Task
    defect: Defect
    executions: list[TestExecution]
    entries: list[DefectEntry]
    can_edit: bool
    can_change_status: bool
    can_comment: bool
    next_statuses: list[tuple[str, str, bool]]  # (status, label, comment required)


def defect_get(*, user: Any, application_id: int, defect_id: int) -> DefectDetail:
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    defect = Defect.objects.filter(application=application, pk=defect_id).select_related("raised_by").first()
    if defect is None:
        raise NotFound("This application has no defect with that reference.")
    participant_may = defect_work_refusal(user, task) is None
    assurer_may = defect_review_refusal(user, task) is None
    return DefectDetail(
        application=application,
        task=task,
        defect=defect,
        executions=list(
            annotated_executions(defect.executions.all()).order_by("case__identifier", "-executed_at", "-id")
        ),
        entries=list(DefectEntry.objects.filter(defect=defect).select_related("author").order_by("created_at", "id")),
        can_edit=participant_may,
        can_change_status=participant_may or assurer_may,
        can_comment=participant_may or assurer_may,
        next_statuses=defect_next_statuses(defect.status) if (participant_may or assurer_may) else [],
    )


def defect_choices(application: Application) -> list[TestExecution]:
    """The runs a defect may be linked to: the application's latest run of each case first, then the
    rest, newest first (bounded: a form lists at most a few hundred)."""
    return list(
        annotated_executions(TestExecution.objects.filter(application=application)).order_by(
            "-is_latest", "case__identifier", "-executed_at", "-id"
        )[:500]
    )


def executions_for_defect_form(*, user: Any, application_id: int) -> tuple[Application, Task, list[TestExecution]]:
    task = qt_task_get(user=user, application_id=application_id)
    return task.application, task, defect_choices(task.application)


# --- completion reports --------------------------------------------------------------------------------


def completion_reports(*, user: Any, application_id: int) -> tuple[Task, list[CompletionReport]]:
    task = qt_task_get(user=user, application_id=application_id)
    reports = list(CompletionReport.objects.filter(application=task.application).select_related("requested_by")[:20])
    return task, reports


def completion_report_get(*, user: Any, application_id: int, report_id: int) -> CompletionReport:
    task = qt_task_get(user=user, application_id=application_id)
    report = (
        CompletionReport.objects.filter(application=task.application, pk=report_id)
        .select_related("requested_by", "application")
        .first()
    )
    if report is None:
        raise NotFound("This application has no test completion report with that reference.")
    return report


def evidence_of_execution(*, user: Any, application_id: int, execution_id: int, evidence_id: int) -> int:
    """The id of an evidence file attached to one of the application's runs; NotFound for any other."""
    task = qt_task_get(user=user, application_id=application_id)
    found = TestExecution.evidence.through.objects.filter(
        testexecution_id=execution_id,
        testexecution__application_id=task.application_id,
        evidencefile_id=evidence_id,
    ).exists()
    if not found:
        raise NotFound("That evidence file is not attached to this test execution.")
    return evidence_id


def status_label(status: str) -> str:
    return str(ExecutionStatus(status).label) if status in ExecutionStatus.values else status


def choices_with_all(choices: Sequence[tuple[Any, Any]], everything: str) -> list[tuple[str, str]]:
    return [("", everything), *[(str(value), str(label)) for value, label in choices]]
