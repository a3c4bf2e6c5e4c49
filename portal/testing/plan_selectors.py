"""Reads of an application's Qualification Testing plan, already scoped to what the user may see: the
QT plan and its DIP-flow opt-outs, the required test set with the execution plan, the readiness report
and the live exit checklist. And who may change what, and when (the services ask the same questions).

Everyone who may see the application may read all of it; another organisation's application answers
NotFound, the same as a missing one. The participant side of the `qt` task (a member of the applying
organisation) writes the plan, the execution plan and the readiness report while the task is with them;
its assurer side (Testing Assurance, and the Programme on the Non-SIT LDSO route) reviews them.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portal.accounts.roles import Role
from portal.core.errors import ApplicationError, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.prequalification.selectors import AcceptedReliance, accepted_reliance_identifiers
from portal.qualification.models import Application, Task
from portal.qualification.selectors import task_get
from portal.qualification.workflow import TaskState
from portal.testing.exit_rules import RuleResult, exit_blockers, exit_checklist
from portal.testing.models import (
    DipFlow,
    DipFlowOptOut,
    PlannedExecution,
    QtPlan,
    ReadinessConfirmation,
    ReadinessItem,
    ReviewStatus,
    TestBatch,
)
from portal.testing.permissions import assures_qt, works_on_qt
from portal.testing.required_set import Inclusion, SetRow, required_set, role_case_versions

QT_TASK = "qt"
# The states of the `qt` task in which the participant works on the plan and the assurers review it.
OPEN_STATES = frozenset({TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED})

INCLUSION_LABELS: dict[str, str] = {
    Inclusion.REQUIRED: "Required",
    Inclusion.OPTIONAL: "Optional",
    Inclusion.RELIANCE: "Covered by reliance",
    Inclusion.OPTED_OUT: "Opted out",
}
INCLUSION_COLOURS: dict[str, str] = {
    Inclusion.REQUIRED: "blue",
    Inclusion.OPTIONAL: "grey",
    Inclusion.RELIANCE: "turquoise",
    Inclusion.OPTED_OUT: "yellow",
}
# Cases that are run in QT, and so may be given a planned date.
PLANNABLE = frozenset({Inclusion.REQUIRED, Inclusion.OPTIONAL})
INCLUSIONS = frozenset(i.value for i in Inclusion)

# --- who may do what ---------------------------------------------------------------------------


def _closed_refusal(task: Task, what: str) -> ApplicationError | None:
    application = task.application
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state not in OPEN_STATES:
        return InvalidTransition(
            f"“{task.definition.title}” is {TaskState(task.state).label.lower()}, so {what} cannot be changed now.",
            details={"state": task.state},
        )
    return None


def qt_work_refusal(user: Any, task: Task, what: str = "the QT plan") -> ApplicationError | None:
    """Why the user may not change the participant's side of QT now (the error a service raises), or None."""
    if not works_on_qt(user, task):
        return PermissionDenied(f"Only the applying organisation can change {what}.")
    return _closed_refusal(task, what)


def qt_review_refusal(user: Any, task: Task, what: str = "the QT plan") -> ApplicationError | None:
    """Why the user may not review the plan or the readiness report now, or None."""
    if not assures_qt(user, task):
        roles = ", ".join(_role_labels(task.definition.assurer_roles)) or "the assurers"
        return PermissionDenied(f"Only {roles} can review {what} of this application.")
    return _closed_refusal(task, what)


def _role_labels(names: list[str]) -> list[str]:
    return [str(Role(n).label) for n in names if n in Role.values]


# --- the plan ------------------------------------------------------------------------------------


def qt_task_get(*, user: Any, application_id: int) -> Task:
    return task_get(user=user, application_id=application_id, task_code=QT_TASK)


def plan_of(application: Application) -> QtPlan:
    """The application's plan, or an unsaved empty one when nothing has been written yet."""
    return QtPlan.objects.filter(application_id=application.pk).first() or QtPlan(application=application)


@dataclass(frozen=True)
class Missing:
    """Something needed before a document can be submitted: the field it is about and what to do."""

    field: str
    message: str


def plan_missing(plan: QtPlan, reliance: AcceptedReliance) -> list[Missing]:
    """What the plan still needs before it can be submitted for review."""
    missing = []
    if not plan.approach.strip():
        missing.append(Missing("approach", "Enter the QT approach"))
    if (reliance.test_cases or reliance.test_scenarios) and not plan.reliance_approach.strip():
        missing.append(Missing("reliance_approach", "Enter how you use the placing reliance the Code Bodies accepted"))
    if not plan.test_data.strip():
        missing.append(Missing("test_data", "Enter the test data and how it will be loaded"))
    if plan.starts_on is None:
        missing.append(Missing("starts_on", "Enter the date QT starts"))
    if plan.ends_on is None:
        missing.append(Missing("ends_on", "Enter the date QT ends"))
    return missing


@dataclass(frozen=True)
class PlanDetail:
    application: Application
    task: Task
    plan: QtPlan
    opt_outs: list[DipFlowOptOut]
    # Flows exercised by the role's cases that the participant may still opt out of.
    opt_out_choices: list[DipFlow]
    reliance: AcceptedReliance
    missing: list[Missing]
    planned_count: int
    can_edit: bool
    can_review: bool

    @property
    def can_submit(self) -> bool:
        return self.can_edit and self.plan.status in SUBMITTABLE_STATUSES and not self.missing

    @property
    def awaiting_review(self) -> bool:
        return self.plan.status == ReviewStatus.SUBMITTED


# The plan (and the readiness report) can be submitted from these statuses.
SUBMITTABLE_STATUSES = frozenset({ReviewStatus.DRAFT, ReviewStatus.CHANGES_REQUESTED})


def role_flows(application: Application) -> list[DipFlow]:
    """The DIP flows that the current cases of the application's role exercise."""
    flows: dict[int, DipFlow] = {}
    for version in role_case_versions(application):
        for flow in version.dip_flows.all():
            flows[flow.pk] = flow
    return sorted(flows.values(), key=lambda f: f.code)


def qt_plan_detail(*, user: Any, application_id: int) -> PlanDetail:
    """The QT plan with its opt-outs and what it still needs. NotFound when the user may not see the
    application."""
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    plan = plan_of(application)
    opt_outs = list(DipFlowOptOut.objects.filter(application=application).select_related("flow", "recorded_by"))
    opted = {o.flow_id for o in opt_outs}
    choices = [f for f in role_flows(application) if f.opt_out_allowed and f.pk not in opted]
    reliance = accepted_reliance_identifiers(application=application)
    can_edit = qt_work_refusal(user, task) is None
    return PlanDetail(
        application=application,
        task=task,
        plan=plan,
        opt_outs=opt_outs,
        opt_out_choices=choices,
        reliance=reliance,
        missing=plan_missing(plan, reliance),
        planned_count=PlannedExecution.objects.filter(application=application).count(),
        can_edit=can_edit,
        can_review=plan.status == ReviewStatus.SUBMITTED and qt_review_refusal(user, task) is None,
    )


def qt_plan_agreed(application: Application) -> bool:
    return QtPlan.objects.filter(application_id=application.pk, status=ReviewStatus.AGREED).exists()


# --- the required set and the execution plan ------------------------------------------------------------


@dataclass(frozen=True)
class SetItem:
    row: SetRow
    planned: PlannedExecution | None

    @property
    def inclusion_label(self) -> str:
        return INCLUSION_LABELS[self.row.inclusion]

    @property
    def inclusion_colour(self) -> str:
        return INCLUSION_COLOURS[self.row.inclusion]

    @property
    def plannable(self) -> bool:
        return self.row.inclusion in PLANNABLE


@dataclass(frozen=True)
class SetView:
    application: Application
    task: Task
    plan: QtPlan
    items: list[SetItem]  # filtered
    total: int
    counts: dict[str, int]  # by inclusion, over the whole set
    batch_counts: dict[str, int]  # by batch, over the whole set
    inclusion: str | None
    batch: str | None
    can_plan: bool

    @property
    def required_unplanned(self) -> int:
        return self.counts.get("required_unplanned", 0)

    @property
    def filtered(self) -> bool:
        return bool(self.inclusion or self.batch)


def _set_items(application: Application) -> list[SetItem]:
    rows = required_set(application)
    planned = {p.case_id: p for p in PlannedExecution.objects.filter(application=application)}
    return [SetItem(row, planned.get(row.case_id)) for row in rows]


def qt_set(*, user: Any, application_id: int, inclusion: str | None = None, batch: str | None = None) -> SetView:
    """Every case for the application's role with its inclusion, the reason, and its planned date;
    filtered by inclusion and batch, with counts over the whole set."""
    if inclusion and inclusion not in INCLUSIONS:
        raise InvalidInput(
            "Choose an inclusion of required, optional, reliance or opted_out.", details={"field": "inclusion"}
        )
    if batch and batch not in TestBatch.values:
        raise InvalidInput(f"Choose a batch of {', '.join(TestBatch.values)}.", details={"field": "batch"})
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    items = _set_items(application)
    counts: Counter[str] = Counter(item.row.inclusion.value for item in items)
    counts["required_unplanned"] = sum(1 for i in items if i.row.required and i.planned is None)
    batch_counts: Counter[str] = Counter(item.row.version.batch for item in items)
    shown = [
        i
        for i in items
        if (not inclusion or i.row.inclusion == inclusion) and (not batch or i.row.version.batch == batch)
    ]
    return SetView(
        application=application,
        task=task,
        plan=plan_of(application),
        items=shown,
        total=len(items),
        counts=dict(counts),
        batch_counts=dict(batch_counts),
        inclusion=inclusion or None,
        batch=batch or None,
        can_plan=qt_work_refusal(user, task, "the test execution plan") is None,
    )


@dataclass(frozen=True)
class ScheduleEntry:
    planned: PlannedExecution
    item: SetItem | None  # None: the case has left the application's role set since it was planned

    @property
    def still_run(self) -> bool:
        return self.item is not None and self.item.plannable


@dataclass(frozen=True)
class ScheduleWeek:
    starts_on: datetime.date  # the Monday
    entries: list[ScheduleEntry]

    @property
    def ends_on(self) -> datetime.date:
        return self.starts_on + datetime.timedelta(days=6)


@dataclass(frozen=True)
class Schedule:
    application: Application
    task: Task
    plan: QtPlan
    weeks: list[ScheduleWeek]
    unplanned_required: list[SetItem]
    outside_schedule: list[ScheduleEntry] = field(default_factory=list)


def qt_schedule(*, user: Any, application_id: int) -> Schedule:
    """The execution plan as a schedule by week (Monday to Sunday), with the required cases that have
    no date yet and any planned date that falls outside the plan's schedule."""
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    plan = plan_of(application)
    items = {i.row.case_id: i for i in _set_items(application)}
    planned = PlannedExecution.objects.filter(application=application).select_related("case")
    weeks: dict[datetime.date, list[ScheduleEntry]] = {}
    outside = []
    for p in planned.order_by("planned_on", "case__identifier"):
        entry = ScheduleEntry(p, items.get(p.case_id))
        monday = p.planned_on - datetime.timedelta(days=p.planned_on.weekday())
        weeks.setdefault(monday, []).append(entry)
        if not within_schedule(plan, p.planned_on):
            outside.append(entry)
    return Schedule(
        application=application,
        task=task,
        plan=plan,
        weeks=[ScheduleWeek(monday, entries) for monday, entries in sorted(weeks.items())],
        unplanned_required=[i for i in items.values() if i.row.required and i.planned is None],
        outside_schedule=outside,
    )


def within_schedule(plan: QtPlan, day: datetime.date) -> bool:
    if plan.starts_on and day < plan.starts_on:
        return False
    return not (plan.ends_on and day > plan.ends_on)


# --- readiness ---------------------------------------------------------------------------------------


def readiness_items_for(application: Application) -> list[ReadinessItem]:
    """The active readiness items for the application's role group (an item naming no role group
    applies to every one), in order."""
    items = ReadinessItem.objects.filter(is_active=True).prefetch_related("role_groups").order_by("order", "code")
    group = application.market_role.role_group_id
    return [i for i in items if _applies({g.pk for g in i.role_groups.all()}, group)]


def _applies(named: set[int], value: int) -> bool:
    return not named or value in named


@dataclass(frozen=True)
class ReadinessRow:
    item: ReadinessItem
    confirmation: ReadinessConfirmation | None

    @property
    def status(self) -> str:
        if self.confirmation is None:
            return "not_recorded"
        return "ready" if self.confirmation.ready else "not_ready"


@dataclass(frozen=True)
class ReadinessView:
    application: Application
    task: Task
    plan: QtPlan
    rows: list[ReadinessRow]
    missing: list[str]
    can_edit: bool
    can_review: bool

    @property
    def ready_count(self) -> int:
        return sum(1 for r in self.rows if r.status == "ready")

    @property
    def can_submit(self) -> bool:
        return self.can_edit and self.plan.readiness_status in SUBMITTABLE_STATUSES and not self.missing

    @property
    def awaiting_review(self) -> bool:
        return self.plan.readiness_status == ReviewStatus.SUBMITTED


def readiness_rows(application: Application) -> list[ReadinessRow]:
    confirmations = {
        c.item_id: c
        for c in ReadinessConfirmation.objects.filter(application=application).select_related("recorded_by")
    }
    return [ReadinessRow(item, confirmations.get(item.pk)) for item in readiness_items_for(application)]


def readiness_missing(plan: QtPlan, rows: list[ReadinessRow]) -> list[str]:
    """What stops the readiness report from being submitted, in checklist order."""
    missing = []
    if plan.status != ReviewStatus.AGREED:
        missing.append("the QT plan must be agreed by Testing Assurance first")
    for row in rows:
        if row.status == "not_recorded":
            missing.append(f"“{row.item.title}” has not been recorded")
        elif row.status == "not_ready":
            missing.append(f"“{row.item.title}” is not ready")
    return missing


def qt_readiness(*, user: Any, application_id: int) -> ReadinessView:
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    plan = plan_of(application)
    rows = readiness_rows(application)
    return ReadinessView(
        application=application,
        task=task,
        plan=plan,
        rows=rows,
        missing=readiness_missing(plan, rows),
        can_edit=qt_work_refusal(user, task, "the readiness report") is None,
        can_review=plan.readiness_status == ReviewStatus.SUBMITTED
        and qt_review_refusal(user, task, "the readiness report") is None,
    )


def qt_readiness_confirmed(application: Application) -> bool:
    """Testing Assurance has confirmed the application's readiness report: test executions may be
    recorded. Not scoped: the caller already holds an application the user may see."""
    return QtPlan.objects.filter(application_id=application.pk, readiness_status=ReviewStatus.AGREED).exists()


# --- the exit checklist and the overview --------------------------------------------------------------


@dataclass(frozen=True)
class ExitView:
    application: Application
    task: Task
    results: list[RuleResult]
    can_submit_task: bool  # the user is the participant and the task is with them

    @property
    def blockers(self) -> list[RuleResult]:
        return exit_blockers(self.results)

    @property
    def passed_count(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def all_passed(self) -> bool:
        return not self.blockers


def qt_exit(*, user: Any, application_id: int) -> ExitView:
    """The live QT exit checklist of the application."""
    task = qt_task_get(user=user, application_id=application_id)
    return ExitView(
        application=task.application,
        task=task,
        results=exit_checklist(task.application),
        can_submit_task=qt_work_refusal(user, task) is None,
    )


@dataclass(frozen=True)
class Overview:
    application: Application
    task: Task
    plan: QtPlan
    set_counts: dict[str, int]
    set_total: int
    planned_count: int
    readiness_ready: int
    readiness_total: int
    exit: ExitView
    is_participant: bool
    is_assurer: bool


def qt_overview(*, user: Any, application_id: int) -> Overview:
    """The hub of QT for one application: plan and readiness status, the set's counts, the exit
    checklist."""
    task = qt_task_get(user=user, application_id=application_id)
    application = task.application
    items = _set_items(application)
    counts: Counter[str] = Counter(i.row.inclusion.value for i in items)
    rows = readiness_rows(application)
    return Overview(
        application=application,
        task=task,
        plan=plan_of(application),
        set_counts=dict(counts),
        set_total=len(items),
        planned_count=sum(1 for i in items if i.planned is not None and i.plannable),
        readiness_ready=sum(1 for r in rows if r.status == "ready"),
        readiness_total=len(rows),
        exit=ExitView(application, task, exit_checklist(application), qt_work_refusal(user, task) is None),
        is_participant=works_on_qt(user, task),
        is_assurer=assures_qt(user, task),
    )


def set_row_for(application: Application, identifier: str) -> SetRow:
    for row in required_set(application):
        if row.identifier == identifier:
            return row
    raise NotFound(f"{identifier[:40]} is not a test case of this application's role.")
