"""Deadlines: computed from the rules and the dates they hang on (the target meeting, the QT start),
done or not from the tasks' states, back-scheduled for the meetings ahead, and flagged in the work
queue."""

from datetime import date, timedelta

import pytest

from portal.approvals.models import DeadlineRule
from portal.approvals.selectors import (
    application_deadlines,
    application_pab_panel,
    user_deadlines,
    work_queue_deadlines,
    working_calendar,
)
from portal.approvals.services import pab_target_set
from portal.core.calendar import uk_today
from portal.core.errors import NotFound
from portal.prequalification.models import PqsSubmission, Wave
from portal.qualification.models import Task
from portal.qualification.selectors import work_queue
from portal.qualification.services import application_withdraw, task_reopen, task_transition
from portal.testing.models import QtPlan

pytestmark = pytest.mark.django_db


def by_rule(deadlines):
    return {d.rule.code: d for d in deadlines}


def test_the_initial_qad_deadline_hangs_on_the_qt_start(make_application, member):
    application = make_application()
    assert application_deadlines(user=member, application_id=application.pk) == []  # no QT date known yet

    wave = Wave.objects.create(code="wave-9", name="Wave 9", starts_on=date(2027, 5, 3))
    pqs = PqsSubmission.objects.create(application=application, preferred_wave=wave)
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["initial_qad_before_qt"]
    assert deadline.anchor.on == date(2027, 5, 3) and "(Wave 9)" in deadline.anchor.text

    pqs.qt_start_date = date(2027, 4, 5)
    pqs.save()
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["initial_qad_before_qt"]
    assert deadline.anchor.on == date(2027, 4, 5) and "(PQS)" in deadline.anchor.text

    QtPlan.objects.create(application=application, starts_on=date(2027, 4, 12))
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["initial_qad_before_qt"]
    assert deadline.anchor.on == date(2027, 4, 12) and "(QT plan)" in deadline.anchor.text
    # Ten working days before Monday 12 April 2027, over Easter Monday and Good Friday: Thursday 25 March.
    assert deadline.due_on == date(2027, 3, 25)
    assert not deadline.done and deadline.status in {"upcoming", "due_soon"}
    assert deadline.explanation == "10 working days before the start of QT on 12 April 2027 (QT plan)"


def test_a_submitted_task_is_done_until_it_is_sent_back(
    make_application, advance, content_rules_off, member, staff, analyst
):
    application = advance(make_application(route="sit"), stop_at_state=("initial_qad", "submitted"))
    QtPlan.objects.create(application=application, starts_on=uk_today() - timedelta(days=3))
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["initial_qad_before_qt"]
    assert deadline.done and deadline.done_on == uk_today()
    assert deadline.status == "done_late"  # submitted after the date it was due

    task_transition(
        actor=analyst,
        application_id=application.pk,
        task_code="initial_qad",
        action="request_changes",
        comment="Section 3.2 is missing.",
    )
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["initial_qad_before_qt"]
    assert not deadline.done and deadline.overdue and deadline.status == "overdue"
    assert deadline.working_days_left < 0


def test_deadlines_are_back_scheduled_from_the_target_meeting(signed, make_meeting, analyst, member):
    application = signed()
    assert "final_qad_signed_before_pab" not in by_rule(
        application_deadlines(user=member, application_id=application.pk)
    )  # no target, nothing to count back from
    meeting = make_meeting(60)
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    deadlines = by_rule(application_deadlines(user=member, application_id=application.pk))
    working = working_calendar()
    signed_by = deadlines["final_qad_signed_before_pab"]
    assert signed_by.due_on == working.add_working_days(meeting.paper_deadline, -5)
    assert signed_by.done and signed_by.done_on == uk_today()
    assert signed_by.explanation.startswith("5 working days before the paper deadline")
    submitted_by = deadlines["final_qad_submitted_before_pab"]
    assert submitted_by.due_on == working.add_working_days(meeting.paper_deadline, -20)
    assert submitted_by.done


def test_a_voided_signature_opens_the_deadline_again(signed, make_meeting, analyst, member):
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=make_meeting(60).pk)
    task_reopen(actor=None, application_id=application.pk, task_code="director_signoff", reason="A new QAD version.")
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["final_qad_signed_before_pab"]
    assert not deadline.done


def test_a_changed_rule_applies_at_once(signed, make_meeting, analyst, member):
    application = signed()
    meeting = make_meeting(60)
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    DeadlineRule.objects.filter(code="final_qad_signed_before_pab").update(working_days_before=10)
    deadline = by_rule(application_deadlines(user=member, application_id=application.pk))["final_qad_signed_before_pab"]
    assert deadline.due_on == working_calendar().add_working_days(meeting.paper_deadline, -10)
    DeadlineRule.objects.filter(code="final_qad_signed_before_pab").update(is_active=False)
    assert "final_qad_signed_before_pab" not in by_rule(
        application_deadlines(user=member, application_id=application.pk)
    )


def test_a_date_typed_centuries_away_is_not_counted_to(make_application, member):
    application = make_application()
    PqsSubmission.objects.create(application=application, qt_start_date=date(9999, 12, 31))
    assert application_deadlines(user=member, application_id=application.pk) == []


def test_a_closed_application_has_no_deadlines(make_application, member):
    application = make_application()
    QtPlan.objects.create(application=application, starts_on=uk_today() + timedelta(days=30))
    assert application_deadlines(user=member, application_id=application.pk)
    application_withdraw(actor=member, application_id=application.pk, reason="Not going ahead.")
    assert application_deadlines(user=member, application_id=application.pk) == []


def test_deadlines_are_read_only_by_those_who_may_see_the_application(make_application, other_member, member):
    application = make_application()
    QtPlan.objects.create(application=application, starts_on=uk_today() + timedelta(days=30))
    with pytest.raises(NotFound):
        application_deadlines(user=other_member, application_id=application.pk)
    assert user_deadlines(user=other_member) == []
    assert [d.application for d in user_deadlines(user=member)] == [application]


def test_back_scheduling_says_what_it_takes_to_make_each_meeting(
    make_application, advance, content_rules_off, make_meeting, member
):
    application = advance(make_application(route="sit"), stop_before="director_signoff")
    working = working_calendar()
    soon = make_meeting(on=working.add_working_days(uk_today(), 8))  # papers in 3 working days
    later = make_meeting(60)
    panel = application_pab_panel(user=member, application_id=application.pk)
    assert not panel.can_target and panel.target is None
    options = {o.meeting.pk: o for o in panel.options}
    first = {s.rule.code: s for s in options[soon.pk].steps}
    assert first["final_qad_submitted_before_pab"].done  # the Code Bodies accepted it
    signing = first["final_qad_signed_before_pab"]
    assert not signing.done and signing.due_on == working.add_working_days(soon.paper_deadline, -5)
    assert not signing.makeable and not options[soon.pk].makeable
    assert options[later.pk].makeable
    assert panel.earliest_makeable is not None and panel.earliest_makeable.meeting == later


def test_the_work_queue_flags_an_overdue_task(signed, make_meeting, analyst, director):
    application = signed()
    meeting = make_meeting(3, paper_deadline=uk_today() - timedelta(days=1))
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk, late_reason="Agreed late.")
    task_reopen(actor=None, application_id=application.pk, task_code="director_signoff", reason="A new QAD version.")
    tasks = list(work_queue(user=director))
    signoff = next(t for t in tasks if t.application_id == application.pk and t.code == "director_signoff")
    flags = work_queue_deadlines(tasks)
    assert flags[signoff.pk].overdue and flags[signoff.pk].rule.code == "final_qad_signed_before_pab"
    other = Task.objects.get(application=application, code="approval_bsc_pab")
    assert other.pk not in flags
