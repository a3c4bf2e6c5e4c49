"""Where each application stands in the process, and since when, from its tasks and their threads.

An application's status follows the earliest stage that still has unfinished work (`derive_status`),
so it *entered* its current stage when the last task of the stages before it was done. Two aggregate
queries give, per application and stage: how many tasks there are and how many are unfinished, when
its tasks were completed, when work on it began (the first entry in any of its tasks' threads) and
when its last task was finished (the latest entry that took a task to completed or not required, which
also covers tasks marked not required, whose `completed_at` stays empty).

`stage_facts` reads in those two queries whatever the number of applications; everything else here is
pure.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from portal.core.calendar import UK
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.workflow import (
    CLOSED_STATUSES,
    DONE_STATES,
    STAGE_ORDER,
    STAGE_STATUS,
    ApplicationStatus,
    Decision,
    Stage,
)

S = ApplicationStatus
# The statuses an application passes through, in order: the steps of the funnel.
PIPELINE: tuple[ApplicationStatus, ...] = (
    S.IN_PREPARATION,
    S.IN_TESTING,
    S.FINAL_QAD,
    S.IN_APPROVAL,
    S.QUALIFIED,
    S.IN_SERVICE_ACTIVATION,
    S.ACTIVE,
)
# How the dashboards name each step (shorter than the statuses' own labels).
PIPELINE_LABELS: dict[str, str] = {
    S.IN_PREPARATION: "Preparation",
    S.IN_TESTING: "Testing",
    S.FINAL_QAD: "Final QAD",
    S.IN_APPROVAL: "Approval",
    S.QUALIFIED: "Qualified",
    S.IN_SERVICE_ACTIVATION: "Service Activation",
    S.ACTIVE: "Active",
}
# The open statuses whose age means something: an active application has nowhere further to go.
AGEING_STATUSES: tuple[ApplicationStatus, ...] = PIPELINE[:-1]
CLOSED: tuple[ApplicationStatus, ...] = (S.WITHDRAWN, S.NON_COMPLETION, S.REJECTED)
_STAGE_OF_STATUS: dict[str, Stage] = {status: stage for stage, status in STAGE_STATUS.items()}
DONE_VALUES = [s.value for s in DONE_STATES]


@dataclass(frozen=True)
class AgeBucket:
    label: str
    low: int  # days, inclusive
    high: int | None  # days, inclusive; None: no upper end


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("Under 2 weeks", 0, 13),
    AgeBucket("2 to 4 weeks", 14, 27),
    AgeBucket("1 to 2 months", 28, 59),
    AgeBucket("2 to 3 months", 60, 89),
    AgeBucket("Over 3 months", 90, None),
)


def age_bucket(days: int) -> int:
    """The index in AGE_BUCKETS of an age in days."""
    for index, bucket in enumerate(AGE_BUCKETS):
        if bucket.high is None or days <= bucket.high:
            return index
    return len(AGE_BUCKETS) - 1


@dataclass
class StageFact:
    """One application's tasks of one stage, in aggregate."""

    total: int = 0
    unfinished: int = 0
    rejected: int = 0
    completed_at: datetime | None = None
    first_entry_at: datetime | None = None
    last_done_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.unfinished == 0

    @property
    def finished_at(self) -> datetime | None:
        """When the stage's last task was done, once every task of the stage is."""
        if not self.finished:
            return None
        moments = [m for m in (self.completed_at, self.last_done_at) if m is not None]
        return max(moments) if moments else None

    @property
    def started_at(self) -> datetime | None:
        return self.first_entry_at


Facts = dict[Stage, StageFact]


def stage_facts(applications: QuerySet[Application] | Sequence[int]) -> dict[int, Facts]:
    """Per application id, per stage: the aggregate of its tasks. Two queries."""
    if isinstance(applications, QuerySet):
        tasks = Task.objects.filter(application__in=applications.values("pk"))
        entries = TaskEntry.objects.filter(task__application__in=applications.values("pk"))
    else:
        tasks = Task.objects.filter(application_id__in=list(applications))
        entries = TaskEntry.objects.filter(task__application_id__in=list(applications))
    found: dict[int, Facts] = defaultdict(dict)
    task_rows = (
        tasks.values("application_id", "definition__stage")
        .annotate(
            total=Count("id"),
            unfinished=Count("id", filter=~Q(state__in=DONE_VALUES)),
            rejected=Count("id", filter=Q(decision=Decision.REJECTED)),
            completed=Max("completed_at"),
        )
        .order_by()
    )
    for row in task_rows:
        found[row["application_id"]][Stage(row["definition__stage"])] = StageFact(
            total=row["total"], unfinished=row["unfinished"], rejected=row["rejected"], completed_at=row["completed"]
        )
    entry_rows = (
        entries.values("task__application_id", "task__definition__stage")
        .annotate(first=Min("created_at"), last_done=Max("created_at", filter=Q(to_state__in=DONE_VALUES)))
        .order_by()
    )
    for row in entry_rows:
        fact = found[row["task__application_id"]].setdefault(Stage(row["task__definition__stage"]), StageFact())
        fact.first_entry_at = row["first"]
        fact.last_done_at = row["last_done"]
    return dict(found)


def local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, UK).date() if moment is not None else None


def reached_status(application: Application, facts: Facts) -> ApplicationStatus:
    """The furthest step of the pipeline the application reached: its status while open; for a closed
    one, the stage it was in when it closed (its earliest stage with unfinished work; a rejection is a
    decision of the approval stage)."""
    status = ApplicationStatus(application.status)
    if status not in CLOSED_STATUSES:
        return status
    for stage in STAGE_ORDER:
        fact = facts.get(stage)
        if fact is None:
            continue
        if fact.unfinished or (stage == Stage.APPROVAL and fact.rejected):
            return STAGE_STATUS[stage]
    return ApplicationStatus.IN_APPROVAL


def entered_current_stage(application: Application, facts: Facts) -> datetime:
    """When the application entered the step it is in now (for an open application)."""
    status = application.status
    if status == S.ACTIVE:
        return application.activated_at or application.updated_at
    if status == S.QUALIFIED:
        approval = facts.get(Stage.APPROVAL)
        return application.qualified_at or (approval.finished_at if approval else None) or application.created_at
    stage = _STAGE_OF_STATUS.get(status, Stage.PREPARATION)
    if stage == Stage.SERVICE_ACTIVATION:
        activation = facts.get(Stage.SERVICE_ACTIVATION)
        started = activation.started_at if activation else None
        return started or application.qualified_at or application.created_at
    earlier = [
        fact.finished_at
        for s in STAGE_ORDER[: STAGE_ORDER.index(stage)]
        if (fact := facts.get(s)) is not None and fact.finished_at is not None
    ]
    return max([application.created_at, *earlier])


def days_between(start: datetime, today: date) -> int:
    started = local_date(start)
    assert started is not None
    return max((today - started).days, 0)


def median_days(values: Iterable[int]) -> int | None:
    values = list(values)
    return int(median(values)) if values else None
