"""Each application's deadlines, computed from the deadline rules and the dates they hang on.

Nothing here is stored: a deadline is worked out afresh from the rule (data), the anchor date (the
target PAB meeting and its paper deadline, or the QT start) and the state of the task it is about, so
that a moved meeting or an edited rule shows at once everywhere (the application page, the work queue,
the API, the calendar feeds and the reminder job all call `deadlines_for`).

The callers have already scoped the applications to the user; `deadlines_for` reads in a fixed
number of queries whatever the number of applications.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Max
from django.utils import timezone

from portal.approvals.models import DeadlineAnchor, DeadlineRule, MeetingStatus, Milestone, PabMeeting, PabTarget
from portal.core.calendar import UK, WorkingCalendar, uk_today
from portal.prequalification.models import PqsSubmission
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.workflow import DONE_STATES, Action, TaskState
from portal.testing.models import QtPlan

PAB_ANCHORS = frozenset({DeadlineAnchor.PAB_PAPER_DEADLINE, DeadlineAnchor.PAB_MEETING})
# An anchor date further than this from today is a typing slip in a plan, not a deadline to count to.
MAX_ANCHOR_DAYS = 10 * 366


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Anchor:
    """The date a rule counts back from, in words, and when it last changed."""

    on: date
    text: str
    changed_at: datetime


@dataclass(frozen=True)
class Deadline:
    application: Application
    rule: DeadlineRule
    task: Task
    due_on: date
    anchor: Anchor
    done_on: date | None
    today: date
    # Working days from today to the due date (negative once it has passed).
    working_days_left: int

    @property
    def title(self) -> str:
        return self.rule.title

    @property
    def done(self) -> bool:
        return self.done_on is not None

    @property
    def overdue(self) -> bool:
        return not self.done and self.due_on < self.today

    @property
    def due_soon(self) -> bool:
        return (
            not self.done
            and self.today <= self.due_on
            and (self.working_days_left <= self.rule.remind_working_days_before)
        )

    @property
    def status(self) -> str:
        """done, done_late, overdue, due_today, due_soon or upcoming."""
        if self.done_on is not None:
            return "done_late" if self.done_on > self.due_on else "done"
        if self.due_on < self.today:
            return "overdue"
        if self.due_on == self.today:
            return "due_today"
        return "due_soon" if self.due_soon else "upcoming"

    @property
    def explanation(self) -> str:
        """“5 working days before the paper deadline of the BSC PAB meeting on …” (lower case)."""
        days = self.rule.working_days_before
        count = "on" if days == 0 else f"{days} working day{'s' if days != 1 else ''} before"
        return f"{count} {self.anchor.text}"

    @property
    def changed_at(self) -> datetime:
        return max(self.anchor.changed_at, self.rule.updated_at)

    @property
    def uid_key(self) -> str:
        """Stable while the deadline is the same rule on the same application (its date may move)."""
        return f"deadline-{self.application.pk}-{self.rule.code}"


@dataclass(frozen=True)
class BackScheduled:
    """What a PAB-anchored rule asks for, to make one meeting."""

    rule: DeadlineRule
    due_on: date
    done: bool
    today: date

    @property
    def makeable(self) -> bool:
        return self.done or self.due_on >= self.today


@dataclass(frozen=True)
class MeetingOption:
    """An upcoming meeting and what the application would need to have done, and by when, to make it."""

    meeting: PabMeeting
    steps: list[BackScheduled]
    today: date

    @property
    def paper_deadline_passed(self) -> bool:
        return self.meeting.paper_deadline < self.today

    @property
    def makeable(self) -> bool:
        return not self.paper_deadline_passed and all(step.makeable for step in self.steps)


def active_rules() -> list[DeadlineRule]:
    return list(DeadlineRule.objects.filter(is_active=True).order_by("order", "code"))


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, UK).date() if moment is not None else None


def _done_on(rule: DeadlineRule, task: Task, latest_submit: datetime | None) -> date | None:
    """When the task reached the rule's milestone, if it has (and still has: a task sent back for
    changes, or a signature voided by a new QAD version, is not done)."""
    if task.state in DONE_STATES:
        return _local_date(task.completed_at or latest_submit or task.updated_at)
    if rule.milestone == Milestone.SUBMITTED and task.state == TaskState.SUBMITTED:
        return _local_date(latest_submit or task.updated_at)
    return None


def current_targets(application_ids: Iterable[int]) -> dict[int, PabTarget]:
    rows = PabTarget.objects.filter(application_id__in=list(application_ids), is_current=True).select_related(
        "meeting", "set_by"
    )
    return {t.application_id: t for t in rows}


def _pab_anchor(rule: DeadlineRule, target: PabTarget | None) -> Anchor | None:
    if target is None or target.meeting.status == MeetingStatus.CANCELLED:
        return None
    meeting = target.meeting
    changed = max(target.set_at, meeting.updated_at)
    if rule.anchor == DeadlineAnchor.PAB_PAPER_DEADLINE:
        return Anchor(
            meeting.paper_deadline,
            f"the paper deadline ({short_date(meeting.paper_deadline)}) of the BSC PAB meeting on "
            f"{short_date(meeting.date)}",
            changed,
        )
    return Anchor(meeting.date, f"the BSC PAB meeting on {short_date(meeting.date)}", changed)


def qt_starts(application_ids: Sequence[int]) -> dict[int, Anchor]:
    """When each application's Qualification Testing starts: the QT plan's start date, else the one
    planned in its PQS, else its preferred wave's."""
    found: dict[int, Anchor] = {}
    for plan in QtPlan.objects.filter(application_id__in=application_ids, starts_on__isnull=False):
        assert plan.starts_on is not None
        found[plan.application_id] = Anchor(
            plan.starts_on, f"the start of QT on {short_date(plan.starts_on)} (QT plan)", plan.updated_at
        )
    pqs_rows = PqsSubmission.objects.filter(application_id__in=application_ids).select_related("preferred_wave")
    for pqs in pqs_rows:
        if pqs.application_id in found:
            continue
        if pqs.qt_start_date is not None:
            found[pqs.application_id] = Anchor(
                pqs.qt_start_date, f"the start of QT on {short_date(pqs.qt_start_date)} (PQS)", pqs.updated_at
            )
        elif pqs.preferred_wave is not None and pqs.preferred_wave.starts_on is not None:
            wave = pqs.preferred_wave
            assert wave.starts_on is not None
            found[pqs.application_id] = Anchor(
                wave.starts_on,
                f"the start of QT on {short_date(wave.starts_on)} ({wave.name})",
                pqs.updated_at,
            )
    return found


def deadlines_for(
    applications: Sequence[Application],
    *,
    working: WorkingCalendar,
    today: date | None = None,
    rules: Sequence[DeadlineRule] | None = None,
    targets: dict[int, PabTarget] | None = None,
) -> dict[int, list[Deadline]]:
    """Every deadline of each open application whose anchor date is known, soonest first. `targets`:
    the applications' `current_targets`, when the caller has read them already."""
    today = today or uk_today()
    rules = list(rules) if rules is not None else active_rules()
    open_apps = [a for a in applications if not a.is_closed]
    result: dict[int, list[Deadline]] = {a.pk: [] for a in applications}
    if not rules or not open_apps:
        return result
    ids = [a.pk for a in open_apps]
    codes = {r.task_code for r in rules}
    tasks: dict[tuple[int, str], Task] = {
        (t.application_id, t.code): t
        for t in Task.objects.filter(application_id__in=ids, code__in=codes).select_related("definition")
    }
    submits = dict(
        TaskEntry.objects.filter(task__in=[t.pk for t in tasks.values()], action=Action.SUBMIT)
        .values("task_id")
        .annotate(latest=Max("created_at"))
        .values_list("task_id", "latest")
    )
    if targets is None:
        targets = current_targets(ids) if any(r.anchor in PAB_ANCHORS for r in rules) else {}
    starts = qt_starts(ids) if any(r.anchor == DeadlineAnchor.QT_START for r in rules) else {}
    for application in open_apps:
        found = []
        for rule in rules:
            task = tasks.get((application.pk, rule.task_code))
            if task is None:
                continue
            anchor = (
                starts.get(application.pk)
                if rule.anchor == DeadlineAnchor.QT_START
                else _pab_anchor(rule, targets.get(application.pk))
            )
            if anchor is None or abs((anchor.on - today).days) > MAX_ANCHOR_DAYS:
                continue
            due_on = working.add_working_days(anchor.on, -rule.working_days_before)
            task.application = application
            found.append(
                Deadline(
                    application=application,
                    rule=rule,
                    task=task,
                    due_on=due_on,
                    anchor=anchor,
                    done_on=_done_on(rule, task, submits.get(task.pk)),
                    today=today,
                    working_days_left=working.working_days_between(today, due_on),
                )
            )
        result[application.pk] = sorted(found, key=lambda d: (d.due_on, d.rule.order, d.rule.code))
    return result


def deadlines_by_task(
    tasks: Sequence[Task], *, working: WorkingCalendar, today: date | None = None
) -> dict[int, Deadline]:
    """For a list of tasks (a work queue), the most pressing open deadline of each task that has one."""
    applications = list({t.application_id: t.application for t in tasks}.values())
    by_application = deadlines_for(applications, working=working, today=today)
    result: dict[int, Deadline] = {}
    for task in tasks:
        open_ones = [d for d in by_application.get(task.application_id, []) if d.task.pk == task.pk and not d.done]
        if open_ones:
            result[task.pk] = open_ones[0]
    return result


def meeting_options(
    application: Application,
    meetings: Sequence[PabMeeting],
    *,
    working: WorkingCalendar,
    today: date | None = None,
    rules: Sequence[DeadlineRule] | None = None,
) -> list[MeetingOption]:
    """Back-scheduling: for each meeting, the date by which each PAB-anchored rule's task must be done
    to make it (“to make this meeting, the Final QAD must be signed by …”)."""
    today = today or uk_today()
    rules = [r for r in (rules if rules is not None else active_rules()) if r.anchor in PAB_ANCHORS]
    codes = {r.task_code for r in rules}
    tasks = {t.code: t for t in Task.objects.filter(application=application, code__in=codes)}
    submits = dict(
        TaskEntry.objects.filter(task__in=[t.pk for t in tasks.values()], action=Action.SUBMIT)
        .values("task_id")
        .annotate(latest=Max("created_at"))
        .values_list("task_id", "latest")
    )
    options = []
    for meeting in meetings:
        steps = []
        for rule in rules:
            task = tasks.get(rule.task_code)
            if task is None:
                continue
            anchor_on = meeting.paper_deadline if rule.anchor == DeadlineAnchor.PAB_PAPER_DEADLINE else meeting.date
            steps.append(
                BackScheduled(
                    rule=rule,
                    due_on=working.add_working_days(anchor_on, -rule.working_days_before),
                    done=_done_on(rule, task, submits.get(task.pk)) is not None,
                    today=today,
                )
            )
        options.append(MeetingOption(meeting=meeting, steps=steps, today=today))
    return options
