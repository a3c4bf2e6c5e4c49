"""Reads of work-off plans, already scoped to what the user may see.

Everyone who may see an application (`application_scope_for`) sees its work-off items: the
participant's members and the staff whose body follows the application. "Today" is the date in the UK
(Europe/London), whatever the server's clock zone, so an item is overdue from the first minute of the
day after its due date in the UK.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import NotFound
from portal.documents.models import EvidenceFile
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for
from portal.qualification.selectors import task_get
from portal.qualification.workflow import NOT_BEGUN_STATES
from portal.testing.models import (
    PASSING_STATUSES,
    Defect,
    DefectStatus,
    ExecutionStatus,
    TestCase,
    TestCaseVersion,
    TestExecution,
)
from portal.testing.required_set import Inclusion, required_set
from portal.workoff.models import WorkOffItem, WorkOffStatus
from portal.workoff.permissions import QT_TASK, WORKOFF_TASK, parties_of_user
from portal.workoff.workflow import (
    CONDITION_STATUSES,
    LIVE_STATUSES,
    ItemTransition,
    WorkOffAction,
    WorkOffParty,
    is_overdue,
    next_parties,
    transition_for,
)

UK = ZoneInfo("Europe/London")
# The statuses a case's latest run may have for a work-off item to cover it.
COVERABLE_EXECUTION_STATUSES = frozenset({ExecutionStatus.FAILED, ExecutionStatus.BLOCKED, ExecutionStatus.NOT_RUN})
# The cases of the role set a participant runs itself, and so may need to work off.
COVERABLE_INCLUSIONS = frozenset({Inclusion.REQUIRED, Inclusion.OPTIONAL})
AUDIT_TARGET_TYPE = WorkOffItem._meta.label_lower


def uk_today() -> date:
    return timezone.localdate(timezone=UK)


# --- one item as the pages show it -----------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    item: WorkOffItem
    today: date
    # The status of the covered case's latest run ("" when it has never run, None for a defect).
    latest_execution: str | None = None

    @property
    def reference(self) -> str:
        return self.item.reference

    @property
    def overdue(self) -> bool:
        return is_overdue(self.item.status, self.item.due_on, self.today)

    @property
    def covers_kind(self) -> str:
        return "case" if self.item.case_id else "defect"

    @property
    def covers(self) -> str:
        """What the item covers, as people name it: "QTC-014 Meter read rejection" or "DEF-0003 …"."""
        if self.item.case is not None:
            title = case_title(self.item.case)
            return f"{self.item.case.identifier} {title}".strip()
        assert self.item.defect is not None
        return f"{self.item.defect.reference} {self.item.defect.title}"

    @property
    def covers_identifier(self) -> str:
        if self.item.case is not None:
            return self.item.case.identifier
        assert self.item.defect is not None
        return self.item.defect.reference

    @property
    def latest_execution_label(self) -> str:
        if self.latest_execution is None:
            return ""
        if not self.latest_execution:
            return "Never run"
        return str(ExecutionStatus(self.latest_execution).label)

    @property
    def waiting_for(self) -> frozenset[WorkOffParty]:
        return next_parties(self.item.status)


def case_title(case: TestCase) -> str:
    """The title of the case's current version (prefetched as `current_versions` where possible)."""
    versions = getattr(case, "current_versions", None)
    if versions is None:
        versions = list(case.versions.filter(is_current=True))
    return versions[0].title if versions else ""


def _latest_execution_status() -> Subquery:
    return Subquery(
        TestExecution.objects.filter(application_id=OuterRef("application_id"), case_id=OuterRef("case_id"))
        .order_by("-executed_at", "-id")
        .values("status")[:1]
    )


def _items() -> QuerySet[WorkOffItem]:
    current = TestCaseVersion.objects.filter(is_current=True)
    return (
        WorkOffItem.objects.select_related(
            "application__organisation",
            "application__mpid",
            "application__market_role",
            "case",
            "defect",
            "proposed_by",
            "reviewed_by",
            "agreed_by",
            "closed_by",
        )
        .prefetch_related(Prefetch("case__versions", queryset=current, to_attr="current_versions"))
        .annotate(latest_execution_status=_latest_execution_status())
    )


def row_of(item: WorkOffItem, today: date | None = None) -> ItemRow:
    latest: str | None = None
    if item.case_id:
        latest = getattr(item, "latest_execution_status", None) or ""
    return ItemRow(item=item, today=today or uk_today(), latest_execution=latest)


def rows_of(items: Iterable[WorkOffItem], today: date | None = None) -> list[ItemRow]:
    today = today or uk_today()
    return [row_of(item, today) for item in items]


# --- the plan of one application -----------------------------------------------------------------


def missing_for_submit(items: Iterable[WorkOffItem]) -> list[str]:
    """What stops the `workoff` task from being submitted: it needs at least one item, and every item
    not withdrawn must have been reviewed by Testing Assurance (or agreed already)."""
    live = [i for i in items if i.status in LIVE_STATUSES]
    if not live:
        return ["there are no work-off items: propose one for each test not completed, or mark the task not required"]
    missing = []
    for item in live:
        if item.status == WorkOffStatus.PROPOSED:
            missing.append(f"{item.reference} has not been reviewed by Testing Assurance yet")
        elif item.status == WorkOffStatus.CHANGES_REQUESTED:
            missing.append(f"{item.reference} has changes requested")
    return missing


def missing_for_accept(items: Iterable[WorkOffItem]) -> list[str]:
    """What stops the plan from being accepted: every item not withdrawn must be agreed (or already
    closed) by a Code Body."""
    live = [i for i in items if i.status in LIVE_STATUSES]
    if not live:
        return ["there are no work-off items"]
    return [
        f"{item.reference} is not agreed by a Code Body yet" for item in live if item.status not in CONDITION_STATUSES
    ]


def application_items(application: Application) -> list[WorkOffItem]:
    """Every item of the application, by number (for the guards: no scoping, the caller has it)."""
    return list(WorkOffItem.objects.filter(application=application).order_by("number"))


def testing_has_begun(tasks: Iterable[Task]) -> bool:
    """Items are raised once QT (or the work-off task itself) is under way, and any time after."""
    states = {t.code: t.state for t in tasks}
    return any(code in states and states[code] not in NOT_BEGUN_STATES for code in (QT_TASK, WORKOFF_TASK))


@dataclass(frozen=True)
class WorkOffPlan:
    application: Application
    task: Task
    rows: list[ItemRow]
    parties: frozenset[WorkOffParty]
    # Why the user may not propose an item now ("" when they may).
    propose_refusal: str

    @property
    def can_propose(self) -> bool:
        return not self.propose_refusal

    @property
    def items(self) -> list[WorkOffItem]:
        return [row.item for row in self.rows]

    @property
    def live_rows(self) -> list[ItemRow]:
        return [row for row in self.rows if row.item.status in LIVE_STATUSES]

    @property
    def conditions(self) -> list[ItemRow]:
        return [row for row in self.rows if row.item.status in CONDITION_STATUSES]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.rows if row.overdue)

    @property
    def missing_for_submit(self) -> list[str]:
        return missing_for_submit(self.items)

    @property
    def missing_for_accept(self) -> list[str]:
        return missing_for_accept(self.items)

    @property
    def is_participant(self) -> bool:
        return WorkOffParty.PARTICIPANT in self.parties


def propose_refusal(user: Any, task: Task, tasks: Iterable[Task]) -> str:
    """Why the user may not propose an item on the application now, or ""."""
    application = task.application
    if WorkOffParty.PARTICIPANT not in parties_of_user(user, task):
        return "Only the applying organisation can propose work-off items."
    if application.is_closed:
        return f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
    if not testing_has_begun(tasks):
        return "Work-off items can be proposed once Qualification Testing is in progress."
    return ""


def workoff_plan(*, user: Any, application_id: int) -> WorkOffPlan:
    """The application's work-off plan: every item (withdrawn ones too, for the record), what the
    plan still lacks, and what the user may do. NotFound when the user may not see the application."""
    task = task_get(user=user, application_id=application_id, task_code=WORKOFF_TASK)
    application = task.application
    items = _items().filter(application=application).order_by("number")
    return WorkOffPlan(
        application=application,
        task=task,
        rows=rows_of(items),
        parties=parties_of_user(user, task),
        propose_refusal=propose_refusal(user, task, application.tasks.all()),
    )


# --- one item, with its history --------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDetail:
    row: ItemRow
    task: Task
    parties: frozenset[WorkOffParty]
    # The audit events of the item, oldest first: its history.
    history: list[AuditEvent] = field(default_factory=list)
    evidence: list[EvidenceFile] = field(default_factory=list)

    @property
    def item(self) -> WorkOffItem:
        return self.row.item

    @property
    def application(self) -> Application:
        return self.task.application

    def may(self, action: WorkOffAction | str) -> bool:
        return available(self.item, self.application, self.parties, action) is not None

    @property
    def actions(self) -> list[ItemTransition]:
        """The comment-only actions the user may take now, in the order the page offers them."""
        order = [
            WorkOffAction.REVIEW,
            WorkOffAction.AGREE,
            WorkOffAction.REQUEST_CHANGES,
            WorkOffAction.REOPEN,
            WorkOffAction.WITHDRAW,
        ]
        found = [available(self.item, self.application, self.parties, a) for a in order]
        return [t for t in found if t is not None]

    @property
    def can_edit(self) -> bool:
        return self.may(WorkOffAction.EDIT)

    @property
    def can_close(self) -> bool:
        return self.may(WorkOffAction.CLOSE)


def available(
    item: WorkOffItem, application: Application, parties: frozenset[WorkOffParty], action: WorkOffAction | str
) -> ItemTransition | None:
    """The transition for `action` if a user holding `parties` may take it on the item now."""
    if application.is_closed:
        return None
    transition = transition_for(action, item.status)
    if transition is None or not (transition.parties & parties):
        return None
    return transition


def item_history(item: WorkOffItem) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type=AUDIT_TARGET_TYPE, target_id=str(item.pk))
        .select_related("actor")
        .order_by("sequence")
    )


def workoff_item_get(*, user: Any, application_id: int, item_id: int) -> ItemDetail:
    """One item of the application with its history and closure evidence, and what the user may do.
    NotFound for an item of another application, or of an application the user may not see."""
    task = task_get(user=user, application_id=application_id, task_code=WORKOFF_TASK)
    item = _items().filter(application=task.application, pk=item_id).first()
    if item is None:
        raise NotFound("This application has no such work-off item.")
    return ItemDetail(
        row=row_of(item),
        task=task,
        parties=parties_of_user(user, task),
        history=item_history(item),
        evidence=list(item.closure_evidence.select_related("uploaded_by").order_by("uploaded_at", "pk")),
    )


# --- what an item may cover -------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverChoice:
    value: str  # "case:<id>" or "defect:<id>"
    label: str
    reason: str


def coverable(application: Application) -> list[CoverChoice]:
    """The cases and defects a new item may cover: the application's role-set cases it runs itself
    whose latest run failed, was blocked or was not run (or that never ran), and its defects not
    closed; none already covered by a live item."""
    taken_cases = set(
        WorkOffItem.objects.filter(application=application, case__isnull=False, status__in=LIVE_STATUSES).values_list(
            "case_id", flat=True
        )
    )
    taken_defects = set(
        WorkOffItem.objects.filter(application=application, defect__isnull=False, status__in=LIVE_STATUSES).values_list(
            "defect_id", flat=True
        )
    )
    rows = [
        r for r in required_set(application) if r.inclusion in COVERABLE_INCLUSIONS and r.case_id not in taken_cases
    ]
    latest = latest_execution_statuses(application, [r.case_id for r in rows])
    choices = []
    for row in rows:
        status = latest.get(row.case_id, "")
        if status in PASSING_STATUSES:
            continue
        ran = f"latest run {ExecutionStatus(status).label.lower()}" if status else "never run"
        choices.append(CoverChoice(f"case:{row.case_id}", f"{row.identifier} {row.version.title}", ran))
    for defect in (
        Defect.objects.filter(application=application)
        .exclude(status=DefectStatus.CLOSED)
        .exclude(pk__in=taken_defects)
        .order_by("number")
    ):
        choices.append(
            CoverChoice(
                f"defect:{defect.pk}",
                f"{defect.reference} {defect.title}",
                f"severity {defect.get_severity_display()}, {defect.get_status_display().lower()}",
            )
        )
    return choices


def latest_execution_statuses(application: Application, case_ids: Iterable[int]) -> dict[int, str]:
    """The status of the latest run of each of the cases that has run, by case id."""
    ids = list(case_ids)
    if not ids:
        return {}
    latest = Subquery(
        TestExecution.objects.filter(application=application, case_id=OuterRef("pk"))
        .order_by("-executed_at", "-id")
        .values("status")[:1]
    )
    return {
        pk: status
        for pk, status in TestCase.objects.filter(pk__in=ids).annotate(s=latest).values_list("pk", "s")
        if status
    }


# --- across applications ----------------------------------------------------------------------------

SORTS = {"due_on": ("due_on", "application_id", "number"), "-due_on": ("-due_on", "application_id", "number")}


def workoff_item_list(
    *,
    user: Any,
    status: str | None = None,
    overdue: bool | None = None,
    organisation_id: int | None = None,
    application_id: int | None = None,
    sort: str = "due_on",
) -> QuerySet[WorkOffItem]:
    """Work-off items of every application the user may see: for staff, across the market; for a
    participant, across its own applications. Filter by status, overdue (agreed and past its due
    date), organisation or application; sorted by due date (`due_on` soonest first, `-due_on`
    latest first)."""
    qs = _items().filter(application__in=application_scope_for(user))
    if status:
        qs = qs.filter(status=status)
    today = uk_today()
    overdue_q = Q(status=WorkOffStatus.AGREED, due_on__lt=today)
    if overdue is True:
        qs = qs.filter(overdue_q)
    elif overdue is False:
        qs = qs.exclude(overdue_q)
    if organisation_id is not None:
        qs = qs.filter(application__organisation_id=organisation_id)
    if application_id is not None:
        qs = qs.filter(application_id=application_id)
    return qs.order_by(*SORTS.get(sort, SORTS["due_on"]))


def workoff_list_organisations(*, user: Any) -> list[tuple[int, str]]:
    """The organisations that have work-off items the user may see, for the list's filter."""
    return list(
        WorkOffItem.objects.filter(application__in=application_scope_for(user))
        .values_list("application__organisation_id", "application__organisation__name")
        .distinct()
        .order_by("application__organisation__name")
    )


# --- for other apps ---------------------------------------------------------------------------------


def workoff_conditions(application: Application) -> list[ItemRow]:
    """The application's agreed work-off items, and those since closed: the conditions the approval
    bodies see, soonest due first, each with its status and overdue flag. The caller has already
    decided that the user may see the application."""
    items = (
        _items()
        .filter(application=application, status__in=[s.value for s in CONDITION_STATUSES])
        .order_by("due_on", "number")
    )
    return rows_of(items)


def workoff_covered_case_ids(application: Application) -> set[int]:
    """The cases covered by an agreed (or closed) work-off item: for the QT exit rule "every mandatory
    case passed or covered by agreed work-off"."""
    return set(
        WorkOffItem.objects.filter(
            application=application, case__isnull=False, status__in=[s.value for s in CONDITION_STATUSES]
        ).values_list("case_id", flat=True)
    )


def workoff_open_item_count(application: Application) -> int:
    return WorkOffItem.objects.filter(
        application=application, status__in=[s.value for s in LIVE_STATUSES - {WorkOffStatus.CLOSED}]
    ).count()
