"""Each application's timeline: for every stage, the dates planned and the dates it actually happened,
with its deadlines and its target BSC PAB meeting.

Planned dates are what the data holds, nothing invented:
- Preparation: from the PIT start planned in the PQS (else the day the application was registered) to
  the planned start of testing (else the PIT completion planned in the PQS);
- Testing: the QT plan's dates, else the QT dates planned in the PQS, else the preferred wave's window;
- Final QAD: from the planned end of testing to the latest deadline of the stage's tasks, which the
  deadline rules back-schedule from the target PAB meeting (the Director's signature);
- Approval: to the date of the target BSC PAB meeting;
- Service Activation: to the go-live date planned in the hand-off.

Actual dates come from the tasks: a stage began when it became current (every earlier stage done) or
when work on one of its tasks was first recorded, whichever came first; it ended when its last task was
done. A closed application's unfinished stage ends on the day it closed.

`timelines` reads in a fixed number of queries whatever the number of applications.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.activation.models import Handoff
from portal.approvals.deadlines import Deadline, current_targets, deadlines_for
from portal.approvals.models import MeetingStatus, PabTarget
from portal.approvals.selectors import working_calendar
from portal.core.calendar import uk_today
from portal.qualification.models import Application
from portal.qualification.workflow import STAGE_ORDER, Stage
from portal.reports.selectors import application_for_report, pqs_of, wave_of
from portal.reports.stages import PIPELINE_LABELS, Facts, local_date, stage_facts
from portal.testing.models import QtPlan

STAGE_LABELS: dict[Stage, str] = {
    Stage.PREPARATION: "Preparation",
    Stage.TESTING: "Testing",
    Stage.FINAL_QAD: "Final QAD",
    Stage.APPROVAL: "Approval",
    Stage.SERVICE_ACTIVATION: "Service Activation",
}


@dataclass(frozen=True)
class Planned:
    start: date | None
    end: date | None
    basis: str  # where the dates come from, in words

    @property
    def known(self) -> bool:
        return self.start is not None and self.end is not None


NOT_PLANNED = Planned(None, None, "")
BACK_SCHEDULED = "the deadlines back-scheduled from the target PAB meeting"


@dataclass(frozen=True)
class StageTimeline:
    stage: Stage
    planned: Planned
    actual_start: date | None
    actual_end: date | None
    finished: bool
    # The day the bar of an unfinished stage is drawn to: today, or the day a closed application closed.
    open_until: date

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def started(self) -> bool:
        return self.actual_start is not None

    @property
    def ongoing(self) -> bool:
        return self.started and not self.finished

    @property
    def status(self) -> str:
        if self.finished:
            return "Done"
        return "In progress" if self.started else "Not started"

    @property
    def late(self) -> bool:
        """Finished after its planned end, or not finished and its planned end has passed."""
        end = self.planned.end
        if end is None:
            return False
        if self.finished:
            return self.actual_end is not None and self.actual_end > end
        return self.open_until > end

    @property
    def drawn_end(self) -> date | None:
        return self.actual_end if self.finished else (self.open_until if self.started else None)


@dataclass(frozen=True)
class Timeline:
    application: Application
    today: date
    stages: list[StageTimeline]
    deadlines: list[Deadline]
    target: PabTarget | None
    go_live: date | None
    closed_on: date | None

    @property
    def target_meeting_on(self) -> date | None:
        if self.target is None or self.target.meeting.status == MeetingStatus.CANCELLED:
            return None
        return self.target.meeting.date

    @property
    def current(self) -> StageTimeline | None:
        """The stage under way (None once the application is closed)."""
        if self.application.is_closed:
            return None
        return next((s for s in self.stages if s.ongoing), None)

    @property
    def stage_now(self) -> str:
        """Where the application stands, as the pipeline names it (or how it closed)."""
        return PIPELINE_LABELS.get(self.application.status, self.application.get_status_display())

    @property
    def next_deadline(self) -> Deadline | None:
        return next((d for d in self.deadlines if not d.done), None)

    def deadlines_of(self, stage: Stage) -> list[Deadline]:
        return [d for d in self.deadlines if d.task.definition.stage == stage]

    @property
    def started_on(self) -> date:
        created = local_date(self.application.created_at)
        assert created is not None
        return created

    @property
    def planned_start(self) -> date | None:
        starts = [s.planned.start for s in self.stages if s.planned.start is not None]
        return min(starts) if starts else None

    @property
    def planned_end(self) -> date | None:
        ends = [s.planned.end for s in self.stages if s.planned.end is not None]
        return max(ends) if ends else None


def _ordered(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    if start is not None and end is not None and end < start:
        return end, end
    return start, end


def _planned_testing(application: Application, plan: tuple[date | None, date | None] | None) -> Planned:
    if plan is not None and (plan[0] or plan[1]):
        return Planned(*_ordered(*plan), "the QT plan")
    pqs = pqs_of(application)
    if pqs is not None and (pqs.qt_start_date or pqs.qt_completion_date):
        return Planned(*_ordered(pqs.qt_start_date, pqs.qt_completion_date), "the QT dates planned in the PQS")
    wave = wave_of(application)
    if wave is not None and (wave.starts_on or wave.ends_on):
        return Planned(*_ordered(wave.starts_on, wave.ends_on), f"the window of {wave.name}")
    return NOT_PLANNED


def planned_dates(
    application: Application,
    *,
    deadlines: Sequence[Deadline],
    qt_plan: tuple[date | None, date | None] | None,
    target_on: date | None,
    go_live: date | None,
) -> dict[Stage, Planned]:
    pqs = pqs_of(application)
    created = local_date(application.created_at)
    testing = _planned_testing(application, qt_plan)

    prep_start = pqs.pit_start_date if pqs is not None and pqs.pit_start_date else created
    prep_basis = "the PIT start planned in the PQS" if pqs is not None and pqs.pit_start_date else "registration"
    prep_end = testing.start or (pqs.pit_completion_date if pqs is not None else None)
    end_basis = "the planned start of testing" if testing.start else "the PIT completion planned in the PQS"
    preparation = Planned(*_ordered(prep_start, prep_end), f"{prep_basis} to {end_basis}") if prep_end else NOT_PLANNED

    # The Final QAD is submitted and then signed by the deadlines the rules count back from the meeting.
    final_deadlines = [d.due_on for d in deadlines if d.task.definition.stage == Stage.FINAL_QAD]
    final_qad = Planned(min(final_deadlines), max(final_deadlines), BACK_SCHEDULED) if final_deadlines else NOT_PLANNED
    approval = (
        Planned(*_ordered(final_qad.end or target_on, target_on), "the target BSC PAB meeting")
        if target_on
        else NOT_PLANNED
    )
    activation = (
        Planned(*_ordered(approval.end or go_live, go_live), "the go-live date planned in the hand-off")
        if go_live
        else NOT_PLANNED
    )
    return {
        Stage.PREPARATION: preparation,
        Stage.TESTING: testing,
        Stage.FINAL_QAD: final_qad,
        Stage.APPROVAL: approval,
        Stage.SERVICE_ACTIVATION: activation,
    }


def actual_stages(
    application: Application, facts: Facts, planned: dict[Stage, Planned], today: date
) -> list[StageTimeline]:
    closed_on = local_date(application.closed_at)
    open_until = closed_on or today
    result = []
    became_current = application.created_at
    earlier_done = True
    for stage in STAGE_ORDER:
        fact = facts.get(stage)
        if fact is None or not fact.total:
            continue
        start_moments = [m for m in (fact.started_at, became_current if earlier_done else None) if m is not None]
        start = local_date(min(start_moments)) if start_moments else None
        end = local_date(fact.finished_at)
        result.append(
            StageTimeline(
                stage=stage,
                planned=planned.get(stage, NOT_PLANNED),
                actual_start=start,
                actual_end=end,
                finished=fact.finished,
                open_until=open_until,
            )
        )
        if fact.finished and fact.finished_at is not None:
            became_current = max(became_current, fact.finished_at)
        else:
            earlier_done = False
    return result


def timelines(applications: Sequence[Application], *, today: date | None = None) -> list[Timeline]:
    """The timeline of each application (already scoped by the caller, with its PQS and wave selected)."""
    today = today or uk_today()
    applications = list(applications)
    ids = [a.pk for a in applications]
    if not ids:
        return []
    facts = stage_facts(ids)
    deadlines = deadlines_for(applications, working=working_calendar(), today=today)
    targets = current_targets(ids)
    plans = {
        app_id: (starts, ends)
        for app_id, starts, ends in QtPlan.objects.filter(application_id__in=ids).values_list(
            "application_id", "starts_on", "ends_on"
        )
    }
    go_lives = dict(
        Handoff.objects.filter(application_id__in=ids, planned_go_live__isnull=False).values_list(
            "application_id", "planned_go_live"
        )
    )
    result = []
    for application in applications:
        target = targets.get(application.pk)
        target_on = (
            target.meeting.date if target is not None and target.meeting.status != MeetingStatus.CANCELLED else None
        )
        own = deadlines.get(application.pk, [])
        planned = planned_dates(
            application,
            deadlines=own,
            qt_plan=plans.get(application.pk),
            target_on=target_on,
            go_live=go_lives.get(application.pk),
        )
        result.append(
            Timeline(
                application=application,
                today=today,
                stages=actual_stages(application, facts.get(application.pk, {}), planned, today),
                deadlines=own,
                target=target,
                go_live=go_lives.get(application.pk),
                closed_on=local_date(application.closed_at),
            )
        )
    return result


def application_timeline(*, user: Any, application_id: int, today: date | None = None) -> Timeline:
    """One application's timeline; NotFound outside the user's scope."""
    application = application_for_report(user=user, application_id=application_id)
    return timelines([application], today=today)[0]
