"""Reads for the dashboards, already scoped to what the user may see.

Everything starts from `application_scope_for(user)`: a participant sees only its organisations'
applications, the REC Code Manager and the BSC PAB only the roles that need their approval, the other
staff every application. Filters (route, role group, wave) narrow that scope; they never widen it.

Every read here takes a fixed number of queries, whatever the number of applications: aggregates
grouped per application, and batch reads (`deadlines_for`, `due_dates`, `agenda_rows`) of the other
apps, which are written the same way.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from portal.accounts.roles import CODE_BODY_ROLES, PARTICIPANT_ROLES, Role
from portal.approvals.deadlines import Deadline, current_targets, deadlines_for
from portal.approvals.decision_selectors import QueueRow, approval_queue
from portal.approvals.models import PabMeeting, PabTarget
from portal.approvals.paper_selectors import AgendaRow, agenda_rows
from portal.approvals.selectors import upcoming_meetings, working_calendar
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput, NotFound
from portal.participants.models import ApprovalBody, RoleGroup
from portal.prequalification.models import PqsSubmission, Wave
from portal.qualification.models import Application, Route, Task
from portal.qualification.permissions import application_scope_for
from portal.qualification.workflow import ApplicationStatus
from portal.reports.models import PortfolioReport
from portal.reports.stages import (
    AGE_BUCKETS,
    AGEING_STATUSES,
    CLOSED,
    PIPELINE,
    PIPELINE_LABELS,
    Facts,
    age_bucket,
    days_between,
    entered_current_stage,
    local_date,
    median_days,
    reached_status,
    stage_facts,
)
from portal.workoff.selectors import ItemRow, rows_of, workoff_item_list

# How much of each list the dashboard shows (the full lists are a click or an export away).
DASHBOARD_LIST_LENGTH = 10
DASHBOARD_MEETINGS = 3
AT_RISK = frozenset({"due_today", "due_soon"})
MAX_CODE_LENGTH = 40


# --- filters -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineFilters:
    route: str = ""
    role_group: str = ""
    wave: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("route", self.route), ("role_group", self.role_group), ("wave", self.wave)) if v}

    def __bool__(self) -> bool:
        return bool(self.as_dict())


@dataclass(frozen=True)
class FilterChoices:
    routes: list[tuple[str, str]]
    role_groups: list[tuple[str, str]]
    waves: list[tuple[str, str]]


def pipeline_filter_choices() -> FilterChoices:
    """What the pipeline may be filtered by: every route, role group and QT wave (reference data)."""
    return FilterChoices(
        routes=list(Route.objects.order_by("order", "name").values_list("code", "name")),
        role_groups=list(RoleGroup.objects.order_by("order", "name").values_list("code", "name")),
        waves=list(Wave.objects.order_by("order", "name").values_list("code", "name")),
    )


def pipeline_filters(
    *, route: str | None = None, role_group: str | None = None, wave: str | None = None
) -> PipelineFilters:
    """The filters, each checked against the reference data: an unknown code is refused with a message
    naming the field, rather than silently showing nothing."""
    choices = pipeline_filter_choices()
    problems = []
    values: dict[str, str] = {}
    for name, value, offered, label in (
        ("route", route, choices.routes, "route"),
        ("role_group", role_group, choices.role_groups, "role group"),
        ("wave", wave, choices.waves, "QT wave"),
    ):
        value = (value or "").strip()
        if value and value not in {code for code, _ in offered}:
            shown = value if len(value) <= MAX_CODE_LENGTH and value.isprintable() else "that value"
            problems.append({"field": name, "message": f"There is no {label} “{shown}”: choose one from the list."})
        values[name] = value
    if problems:
        raise InvalidInput(problems[0]["message"], details={"field": problems[0]["field"], "errors": problems})
    return PipelineFilters(**values)


def filtered_scope(user: Any, filters: PipelineFilters) -> QuerySet[Application]:
    """The applications the user may see, narrowed by the filters."""
    qs = application_scope_for(user)
    if filters.route:
        qs = qs.filter(route__code=filters.route)
    if filters.role_group:
        qs = qs.filter(market_role__role_group__code=filters.role_group)
    if filters.wave:
        qs = qs.filter(pqs_submission__preferred_wave__code=filters.wave)
    return qs


def _with_related(qs: QuerySet[Application]) -> QuerySet[Application]:
    return qs.select_related(
        "organisation", "mpid", "market_role__role_group", "route", "pqs_submission__preferred_wave"
    )


def pqs_of(application: Application) -> PqsSubmission | None:
    """The application's PQS (selected with it), or None when its route has none or it is not written."""
    try:
        return application.pqs_submission
    except PqsSubmission.DoesNotExist:
        return None


def wave_of(application: Application) -> Wave | None:
    """The application's preferred QT wave (from its PQS), if it has one."""
    pqs = pqs_of(application)
    return pqs.preferred_wave if pqs is not None else None


# --- who holds a task, in words ------------------------------------------------------------------------

_BODY_NAMES: dict[Role, str] = {
    Role.ELEXON_ANALYST: "Elexon",
    Role.QSP: "the Qualification Service Provider",
    Role.TESTING_ASSURANCE: "Testing Assurance",
    Role.PROGRAMME_ASSURANCE: "the MHHS Programme",
    Role.DIP_MANAGER: "the DIP Manager",
    Role.REC_CODE_MANAGER: "the REC Code Manager",
    Role.PAB_SECRETARY: "the BSC PAB",
    Role.PAB_CHAIR: "the BSC PAB",
    Role.PAB_MEMBER: "the BSC PAB",
    Role.SERVICE_ACTIVATION: "the Service Activation team",
    Role.ADMINISTRATOR: "an administrator",
}


def holder_label(task: Task, application: Application) -> str:
    """Who the task waits on: the participant by its organisation's name, staff by their body."""
    party = task.waiting_on
    if not party or application.is_closed:
        return ""
    roles = [Role(name) for name in task.definition.roles_for(party) if name in Role.values]
    if set(roles) & PARTICIPANT_ROLES:
        name = application.organisation.name
        return f"{name} (a Company Director)" if Role.PARTICIPANT_DIRECTOR in roles else name
    names: list[str] = []
    if set(roles) >= CODE_BODY_ROLES:
        names.append("the Code Bodies")
        roles = [r for r in roles if r not in CODE_BODY_ROLES]
    for role in roles:
        phrase = _BODY_NAMES.get(role, role.label)
        if phrase not in names:
            names.append(phrase)
    if not names:
        return "nobody"
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class WaitingTask:
    task: Task
    holder: str
    party: str


def waiting_tasks(application_ids: Sequence[int]) -> dict[int, list[Task]]:
    """The tasks of each application that wait on somebody, in process order. One query."""
    found: dict[int, list[Task]] = defaultdict(list)
    tasks = (
        Task.objects.filter(application_id__in=list(application_ids))
        .exclude(waiting_on="")
        .select_related("definition")
        .order_by("application_id", "order")
    )
    for task in tasks:
        found[task.application_id].append(task)
    return found


# --- one application's row in the pipeline --------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRow:
    application: Application
    wave: Wave | None
    entered_on: date | None  # when it entered the step it is in now (None once closed)
    days_in_stage: int | None
    deadlines: list[Deadline]
    target: PabTarget | None
    waiting: list[WaitingTask]

    @property
    def stage_label(self) -> str:
        return PIPELINE_LABELS.get(self.application.status, self.application.get_status_display())

    @property
    def open_deadlines(self) -> list[Deadline]:
        return [d for d in self.deadlines if not d.done]

    @property
    def next_deadline(self) -> Deadline | None:
        """The most pressing deadline not yet met: the soonest (overdue ones first)."""
        pending = self.open_deadlines
        return pending[0] if pending else None

    @property
    def overdue_count(self) -> int:
        return sum(1 for d in self.deadlines if d.overdue)

    @property
    def holders(self) -> str:
        """Everyone the application waits on, each once."""
        seen: list[str] = []
        for item in self.waiting:
            if item.holder and item.holder not in seen:
                seen.append(item.holder)
        return "; ".join(seen)

    @property
    def next_steps(self) -> str:
        return "; ".join(f"{w.task.definition.title} ({w.holder})" for w in self.waiting if w.holder)


def pipeline_rows(
    applications: Sequence[Application], *, today: date | None = None, facts: dict[int, Facts] | None = None
) -> list[PipelineRow]:
    """A row per application (already scoped by the caller, with its related rows selected): the step
    it is in and since when, its deadlines, its target PAB meeting and who it waits on. A fixed
    number of queries."""
    today = today or uk_today()
    applications = list(applications)
    ids = [a.pk for a in applications]
    if not ids:
        return []
    facts = facts if facts is not None else stage_facts(ids)
    targets = current_targets(ids)
    deadlines = deadlines_for(applications, working=working_calendar(), today=today, targets=targets)
    waiting = waiting_tasks(ids)
    rows = []
    for application in applications:
        entered = None if application.is_closed else entered_current_stage(application, facts.get(application.pk, {}))
        holders = [WaitingTask(t, holder_label(t, application), t.waiting_on) for t in waiting.get(application.pk, [])]
        rows.append(
            PipelineRow(
                application=application,
                wave=wave_of(application),
                entered_on=local_date(entered),
                days_in_stage=days_between(entered, today) if entered is not None else None,
                deadlines=deadlines.get(application.pk, []),
                target=targets.get(application.pk),
                waiting=[h for h in holders if h.holder],
            )
        )
    return rows


def pipeline_applications(*, user: Any, filters: PipelineFilters) -> QuerySet[Application]:
    """The applications of the pipeline, soonest-created first within each status's order; page them
    and pass the page to `pipeline_rows`."""
    return _with_related(filtered_scope(user, filters)).order_by("organisation__name", "mpid__code", "pk")


# --- the pipeline dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageCount:
    status: ApplicationStatus
    label: str
    now: int
    reached: int


@dataclass(frozen=True)
class AgeingRow:
    status: ApplicationStatus
    label: str
    buckets: tuple[int, ...]
    median_days: int | None
    oldest: PipelineRow | None

    @property
    def count(self) -> int:
        return sum(self.buckets)


@dataclass(frozen=True)
class MeetingAgenda:
    meeting: PabMeeting
    rows: list[AgendaRow]  # every row, or in a `Pipeline.summary` the first few on the agenda
    on_agenda_count: int

    @property
    def on_agenda(self) -> list[AgendaRow]:
        return [row for row in self.rows if row.on_agenda]


@dataclass(frozen=True)
class Pipeline:
    filters: PipelineFilters
    today: date
    worked_out_at: datetime
    total: int
    stages: list[StageCount]
    closed: list[tuple[ApplicationStatus, str, int]]
    ageing: list[AgeingRow]
    # Deadlines of open applications not yet met, soonest first: every one, or in a `summary` the
    # first few of each kind (the counts are always of every one).
    deadlines: list[Deadline]
    deadline_counts: dict[str, int]  # by status: overdue, due_today, due_soon, upcoming
    meetings: list[MeetingAgenda]
    rec_queue: list[QueueRow]  # every row, or in a `summary` the first few
    rec_queue_count: int
    rec_overdue_count: int
    workoff_overdue: list[ItemRow]
    workoff_overdue_count: int
    rows: list[PipelineRow] = field(repr=False, default_factory=list)  # empty in a `summary`

    @property
    def open_count(self) -> int:
        return sum(s.now for s in self.stages)

    @property
    def closed_count(self) -> int:
        return sum(n for _, _, n in self.closed)

    @property
    def overdue(self) -> list[Deadline]:
        return [d for d in self.deadlines if d.overdue]

    @property
    def at_risk(self) -> list[Deadline]:
        """Not yet overdue, but due today or within the rule's reminder window."""
        return [d for d in self.deadlines if d.status in AT_RISK]

    @property
    def overdue_count(self) -> int:
        return self.deadline_counts.get("overdue", 0)

    @property
    def at_risk_count(self) -> int:
        return sum(self.deadline_counts.get(status, 0) for status in AT_RISK)

    @property
    def upcoming_count(self) -> int:
        return self.deadline_counts.get("upcoming", 0)

    def summary(self, length: int = DASHBOARD_LIST_LENGTH) -> "Pipeline":
        """The same picture with only what the dashboard shows of each list (the first `length` overdue
        and at-risk deadlines, REC queue rows and applications on each meeting's agenda) and no rows:
        small enough to keep and share."""
        return replace(
            self,
            deadlines=sorted(
                self.overdue[:length] + self.at_risk[:length], key=lambda d: (d.due_on, d.application.pk, d.rule.order)
            ),
            rec_queue=self.rec_queue[:length],
            meetings=[replace(item, rows=item.on_agenda[:length]) for item in self.meetings],
            rows=[],
        )


def pipeline(*, user: Any, filters: PipelineFilters | None = None, today: date | None = None) -> Pipeline:
    """The Code Bodies' picture of where everything stands, within the user's scope and the filters."""
    filters = filters or PipelineFilters()
    today = today or uk_today()
    scope = filtered_scope(user, filters)
    applications = list(_with_related(scope).order_by("organisation__name", "mpid__code", "pk"))
    facts = stage_facts([a.pk for a in applications]) if applications else {}
    rows = pipeline_rows(applications, today=today, facts=facts)

    now: dict[str, int] = defaultdict(int)
    reached: dict[str, int] = defaultdict(int)
    for application in applications:
        now[application.status] += 1
        furthest = reached_status(application, facts.get(application.pk, {}))
        for status in PIPELINE[: PIPELINE.index(furthest) + 1]:
            reached[status] += 1
    stages = [StageCount(s, PIPELINE_LABELS[s], now[s], reached[s]) for s in PIPELINE]
    closed = [(s, ApplicationStatus(s).label, now[s]) for s in CLOSED]

    ageing = []
    for status in AGEING_STATUSES:
        in_status = [r for r in rows if r.application.status == status and r.days_in_stage is not None]
        buckets = [0] * len(AGE_BUCKETS)
        for row in in_status:
            assert row.days_in_stage is not None
            buckets[age_bucket(row.days_in_stage)] += 1
        oldest = max(in_status, key=lambda r: (r.days_in_stage or 0, -r.application.pk), default=None)
        ageing.append(
            AgeingRow(
                status,
                PIPELINE_LABELS[status],
                tuple(buckets),
                median_days(r.days_in_stage for r in in_status if r.days_in_stage is not None),
                oldest,
            )
        )

    deadlines = sorted(
        (d for row in rows for d in row.deadlines if not d.done),
        key=lambda d: (d.due_on, d.application.pk, d.rule.order),
    )
    deadline_counts = Counter(d.status for d in deadlines)
    meetings = []
    for meeting in upcoming_meetings(today=today, limit=DASHBOARD_MEETINGS):
        agenda = agenda_rows(meeting, scope=scope, board=False)
        meetings.append(MeetingAgenda(meeting, agenda, sum(1 for row in agenda if row.on_agenda)))
    ids = {a.pk for a in applications}
    rec_queue = [
        row
        for row in approval_queue(user=user, body=ApprovalBody.REC_CODE_MANAGER, decided_limit=0).rows
        if row.application.pk in ids
    ]
    overdue_items = workoff_item_list(user=user, overdue=True).filter(application__in=scope.values("pk"))
    return Pipeline(
        filters=filters,
        today=today,
        worked_out_at=timezone.now(),
        total=len(applications),
        stages=stages,
        closed=closed,
        ageing=ageing,
        deadlines=deadlines,
        deadline_counts=dict(deadline_counts),
        meetings=meetings,
        rec_queue=rec_queue,
        rec_queue_count=len(rec_queue),
        rec_overdue_count=sum(1 for row in rec_queue if row.due.overdue and not row.waiting_on_participant),
        workoff_overdue=rows_of(overdue_items[:DASHBOARD_LIST_LENGTH], today),
        workoff_overdue_count=overdue_items.count(),
        rows=rows,
    )


# --- one application ---------------------------------------------------------------------------------


def application_for_report(*, user: Any, application_id: int) -> Application:
    """One application in the user's scope, with what the reports show of it; else NotFound."""
    application = _with_related(application_scope_for(user)).filter(pk=application_id).first()
    if application is None:
        raise NotFound("No application was found with that reference.")
    return application


def next_deadlines(applications: Sequence[Application], *, today: date | None = None) -> dict[int, Deadline | None]:
    """For the participant's home: the most pressing deadline not yet met of each application."""
    found = deadlines_for(list(applications), working=working_calendar(), today=today)
    return {app_id: next((d for d in items if not d.done), None) for app_id, items in found.items()}


# --- portfolio reports --------------------------------------------------------------------------------

PORTFOLIO_REPORTS_SHOWN = 10


def portfolio_reports(*, user: Any) -> list[PortfolioReport]:
    """The user's own latest portfolio reports, newest first."""
    reports = PortfolioReport.objects.filter(requested_by=user).order_by("-requested_at", "-id")
    return list(reports[:PORTFOLIO_REPORTS_SHOWN])


def portfolio_report_get(*, user: Any, report_id: int) -> PortfolioReport:
    """One of the user's own reports; anyone else's answers NotFound, exactly like a missing one."""
    report = PortfolioReport.objects.filter(pk=report_id, requested_by=user).first() if user.is_authenticated else None
    if report is None:
        raise NotFound("There is no such report.")
    return report
