"""Where an application stands and since when, worked out from its tasks' aggregates (pure)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from portal.qualification.workflow import ApplicationStatus, Stage
from portal.reports.stages import StageFact, days_between, entered_current_stage, reached_status

S = ApplicationStatus


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def app(status: str, **kwargs: Any) -> Any:
    values = {"created_at": at(1), "qualified_at": None, "activated_at": None, "updated_at": at(20)}
    values.update(kwargs)
    return SimpleNamespace(status=status, **values)


def done(day: int) -> StageFact:
    return StageFact(total=2, unfinished=0, completed_at=at(day), first_entry_at=at(day - 1), last_done_at=at(day))


def open_(first: int | None = None) -> StageFact:
    return StageFact(total=2, unfinished=1, first_entry_at=at(first) if first else None)


def test_an_application_enters_a_stage_when_every_earlier_stage_is_done():
    facts = {Stage.PREPARATION: done(5), Stage.TESTING: done(9), Stage.FINAL_QAD: open_(7)}
    assert entered_current_stage(app(S.FINAL_QAD), facts) == at(9)
    assert entered_current_stage(app(S.IN_PREPARATION), {Stage.PREPARATION: open_()}) == at(1)


def test_a_stage_finishes_when_its_last_task_is_done_even_one_marked_not_required():
    # A task marked not required has no completed_at: the thread's entry says when it was done.
    fact = StageFact(total=2, unfinished=0, completed_at=at(4), last_done_at=at(6))
    assert fact.finished and fact.finished_at == at(6)
    assert StageFact(total=2, unfinished=1, completed_at=at(4)).finished_at is None
    assert not StageFact().finished


def test_qualified_and_active_count_from_their_own_moments():
    assert entered_current_stage(app(S.QUALIFIED, qualified_at=at(12)), {}) == at(12)
    assert entered_current_stage(app(S.ACTIVE, activated_at=at(15)), {}) == at(15)
    activation = {Stage.SERVICE_ACTIVATION: open_(14)}
    assert entered_current_stage(app(S.IN_SERVICE_ACTIVATION, qualified_at=at(12)), activation) == at(14)


def test_a_closed_application_reached_the_stage_it_was_in_when_it_closed():
    withdrawn = app(S.WITHDRAWN)
    assert reached_status(withdrawn, {Stage.PREPARATION: done(3), Stage.TESTING: open_(4)}) == S.IN_TESTING
    rejected = {
        Stage.PREPARATION: done(3),
        Stage.TESTING: done(5),
        Stage.FINAL_QAD: done(7),
        Stage.APPROVAL: StageFact(total=2, unfinished=0, rejected=1),
        Stage.SERVICE_ACTIVATION: open_(),
    }
    assert reached_status(app(S.REJECTED), rejected) == S.IN_APPROVAL
    assert reached_status(app(S.IN_TESTING), {}) == S.IN_TESTING


def test_days_are_counted_in_uk_dates():
    # 23:30 UTC is still that day in the UK in winter (GMT) and already the next day in summer (BST).
    assert days_between(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), date(2026, 3, 11)) == 10
    assert days_between(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), date(2026, 6, 12)) == 10
    assert days_between(at(20), date(2026, 3, 10)) == 0
