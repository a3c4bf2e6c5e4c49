"""The BSC PAB meeting calendar: generating meetings from the rule (idempotent, never moving a meeting
someone relies on), and the secretary's changes with whom they tell."""

from datetime import date, time, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from portal.accounts.roles import Role
from portal.approvals.models import MeetingStatus, NonWorkingDay, PabMeeting, PabMeetingRule
from portal.approvals.schedule import months_from
from portal.approvals.selectors import application_pab_panel, pab_rule, working_calendar
from portal.approvals.services import (
    MeetingFields,
    pab_meeting_cancel,
    pab_meeting_create,
    pab_meeting_mark_held,
    pab_meeting_update,
    pab_meetings_generate,
    pab_target_set,
)
from portal.approvals.tests.conftest import inbox, snapshot, working_day_after
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db

# A fixed "today" for the generator: Monday 6 July 2026.
TODAY = date(2026, 7, 6)


def fields(day: date | None, **kwargs: Any) -> MeetingFields:
    values: dict[str, Any] = {"date": day, "starts_at": time(10, 0), "location": "Elexon, 350 Euston Road, London"}
    values.update(kwargs)
    return MeetingFields(**values)


# --- generating from the rule ------------------------------------------------------------------------


def test_the_default_rule_is_monthly_on_the_last_thursday_with_papers_five_working_days_before():
    rule = pab_rule()
    assert rule.pk is not None  # shipped by the data migration
    assert (rule.weekday, rule.week_of_month, rule.paper_deadline_working_days, rule.months_ahead) == (3, -1, 5, 12)
    assert rule.description == "Monthly, on the last Thursday at 10:00; papers due 5 working days before"


def test_generating_adds_twelve_months_of_meetings_once(secretary):
    report = pab_meetings_generate(actor=secretary, today=TODAY)

    meetings = list(PabMeeting.objects.order_by("date"))
    assert [m.date for m in meetings][:6] == [
        date(2026, 7, 30),
        date(2026, 8, 27),
        date(2026, 9, 24),
        date(2026, 10, 29),
        date(2026, 11, 26),
        date(2026, 12, 31),
    ]
    assert len(meetings) == 12 and report.created == meetings
    assert meetings[-1].date == date(2027, 6, 24)
    working = working_calendar()
    for meeting in meetings:
        assert meeting.date.weekday() == 3 and working.is_working_day(meeting.date)
        assert working.working_days_between(meeting.paper_deadline, meeting.date) == 5
        assert meeting.rule_month == meeting.date.replace(day=1)
        assert meeting.status == MeetingStatus.SCHEDULED and not meeting.set_by_hand
    # 27 August 2026: papers due Thursday 20 August. 31 December 2026: back over Christmas and Boxing Day.
    assert meetings[1].paper_deadline == date(2026, 8, 20)
    assert meetings[5].paper_deadline == date(2026, 12, 22)  # 30, 29, 24, 23, 22 December
    event = AuditEvent.objects.get(action="pab.meetings.generate")
    assert event.actor == secretary and len(event.after["created"]) == 12

    again = pab_meetings_generate(actor=secretary, today=TODAY)
    assert not again.changed and not again.created
    assert PabMeeting.objects.count() == 12
    assert AuditEvent.objects.filter(action="pab.meetings.generate").count() == 1  # nothing to record


def test_a_month_whose_meeting_has_passed_gets_none(secretary):
    pab_meetings_generate(actor=secretary, today=date(2026, 7, 31))
    assert not PabMeeting.objects.filter(date__month=7, date__year=2026).exists()
    first = PabMeeting.objects.order_by("date").first()
    assert first is not None and first.date == date(2026, 8, 27)


def test_a_changed_rule_moves_only_the_meetings_nobody_relies_on(secretary, analyst, signed, make_meeting, monkeypatch):
    pab_meetings_generate(actor=None, today=TODAY)
    by_month = {m.rule_month: m for m in PabMeeting.objects.all()}
    august, september, october, november = (by_month[date(2026, m, 1)] for m in (8, 9, 10, 11))
    # September has an application targeted at it, October was moved by hand, November was cancelled.
    monkeypatch.setattr("portal.approvals.services.uk_today", lambda: TODAY)
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=september.pk)
    pab_meeting_update(actor=secretary, meeting_id=october.pk, fields=fields(date(2026, 10, 22)))
    pab_meeting_cancel(actor=secretary, meeting_id=november.pk, reason="Not enough business this month.")

    PabMeetingRule.objects.filter(code="bsc_pab").update(week_of_month=2)  # the second Thursday
    report = pab_meetings_generate(actor=secretary, today=TODAY)

    for meeting in (august, september, october, november):
        meeting.refresh_from_db()
    assert august.date == date(2026, 8, 13) and august.revision == 1  # followed the rule
    assert september.date == date(2026, 9, 24)  # targeted: kept
    assert october.date == date(2026, 10, 22)  # moved by hand: kept
    assert november.status == MeetingStatus.CANCELLED and november.date == date(2026, 11, 26)  # stays cancelled
    assert not PabMeeting.objects.filter(rule_month=date(2026, 11, 1)).exclude(pk=november.pk).exists()
    assert {m.pk for m in report.kept} >= {september.pk, october.pk, november.pk}
    assert august in report.realigned
    assert PabMeeting.objects.count() == 12  # nothing added, nothing deleted


def test_an_extra_non_working_day_moves_the_paper_deadline_of_untouched_meetings(secretary):
    pab_meetings_generate(actor=secretary, today=TODAY)
    meeting = PabMeeting.objects.get(date=date(2026, 7, 30))
    assert meeting.paper_deadline == date(2026, 7, 23)
    NonWorkingDay.objects.create(date=date(2026, 7, 27), reason="Office move")
    pab_meetings_generate(actor=secretary, today=TODAY)
    meeting.refresh_from_db()
    assert meeting.paper_deadline == date(2026, 7, 22)


def test_an_extra_meeting_on_the_rules_day_is_taken_as_that_months(secretary):
    extra = PabMeeting.objects.create(
        date=date(2026, 8, 27), starts_at=time(14, 0), location="Online", paper_deadline=date(2026, 8, 20)
    )
    report = pab_meetings_generate(actor=secretary, today=TODAY)
    extra.refresh_from_db()
    assert extra.rule_month == date(2026, 8, 1) and report.adopted == [extra]
    assert PabMeeting.objects.filter(date=date(2026, 8, 27)).count() == 1


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.PAB_MEMBER, Role.PAB_CHAIR])
def test_only_the_secretary_generates(staff, role):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="PAB secretary"):
        pab_meetings_generate(actor=staff(role), today=TODAY)
    assert snapshot() == before


def test_a_switched_off_rule_generates_nothing(secretary):
    PabMeetingRule.objects.update(is_active=False)
    with pytest.raises(InvalidTransition, match="switched off"):
        pab_meetings_generate(actor=secretary, today=TODAY)
    PabMeetingRule.objects.all().delete()
    with pytest.raises(InvalidTransition, match="no BSC PAB meeting rule"):
        pab_meetings_generate(actor=secretary, today=TODAY)
    assert not PabMeeting.objects.exists()


def test_the_command_generates_and_can_run_again(secretary):
    out = StringIO()
    call_command("generate_pab_meetings", "--date", "2026-07-06", stdout=out)
    assert "12 added" in out.getvalue() and "added Thu 30 Jul 2026, papers due Thu 23 Jul 2026" in out.getvalue()
    out = StringIO()
    call_command("generate_pab_meetings", "--date", "2026-07-06", stdout=out)
    assert "0 added" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("generate_pab_meetings", "--date", "6/7/2026")
    assert AuditEvent.objects.get(action="pab.meetings.generate").actor is None  # the scheduled job


# --- the secretary's changes -------------------------------------------------------------------------


def test_the_secretary_adds_an_extra_meeting_and_the_analysts_are_told(secretary, analyst, staff):
    qsp = staff(Role.QSP)
    day = working_day_after(20)
    meeting = pab_meeting_create(actor=secretary, fields=fields(day, notes="Teams link in the invitation."))
    assert meeting.date == day and meeting.set_by_hand and meeting.rule_month is None
    assert meeting.paper_deadline == working_calendar().add_working_days(day, -5)
    assert meeting.duration_minutes == pab_rule().duration_minutes
    assert meeting.created_by == secretary
    assert AuditEvent.objects.get(action="pab.meeting.create").after["date"] == day.isoformat()
    for person in (analyst, qsp):
        assert [n.subject for n in inbox(person)] == [f"BSC PAB meeting added: {day.day} {day:%B %Y}"]
    assert not inbox(secretary)


def test_a_meeting_is_refused_on_a_bad_day_with_a_clear_message(secretary, make_meeting):
    taken = make_meeting(30)
    saturday = uk_today() + timedelta(days=(5 - uk_today().weekday()) % 7 or 7)
    christmas = date(uk_today().year + 1, 12, 25)
    while christmas.weekday() >= 5:
        christmas = date(christmas.year + 1, 12, 25)
    cases = [
        (fields(None), "date", "Enter the date"),
        (fields(uk_today() - timedelta(days=1)), "date", "today or later"),
        (fields(uk_today() + timedelta(days=1200)), "date", "within the next three years"),
        (fields(saturday), "date", "is a Saturday"),
        (fields(christmas), "date", "Christmas Day, a bank holiday"),
        (fields(taken.date), "date", "already a BSC PAB meeting"),
        (fields(working_day_after(20), starts_at=None), "starts_at", "time the meeting starts"),
        (fields(working_day_after(20), location="  "), "location", "where the meeting is held"),
        (fields(working_day_after(20), location="a\nb"), "location", "one line"),
        (fields(working_day_after(20), duration_minutes=5), "duration_minutes", "between 15 minutes"),
        (fields(working_day_after(20), paper_deadline=working_day_after(40)), "paper_deadline", "on or before"),
        (
            fields(working_day_after(20), paper_deadline=uk_today() - timedelta(days=200)),
            "paper_deadline",
            "within 90 days",
        ),
        (fields(working_day_after(20), notes="x" * 5001), "notes", "5000 characters"),
    ]
    before = snapshot()
    for given, field, message in cases:
        with pytest.raises(InvalidInput, match=message) as refused:
            pab_meeting_create(actor=secretary, fields=given)
        assert refused.value.details == {"field": field}, given
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.PAB_MEMBER, Role.REC_CODE_MANAGER])
def test_only_the_secretary_changes_the_calendar(staff, make_meeting, member, role):
    meeting = make_meeting(30)
    before = snapshot()
    for person in (staff(role), member):
        with pytest.raises(PermissionDenied):
            pab_meeting_create(actor=person, fields=fields(working_day_after(20)))
        with pytest.raises(PermissionDenied):
            pab_meeting_update(actor=person, meeting_id=meeting.pk, fields=fields(working_day_after(20)))
        with pytest.raises(PermissionDenied):
            pab_meeting_cancel(actor=person, meeting_id=meeting.pk, reason="No.")
    assert snapshot() == before


def test_an_unknown_meeting_is_not_found(secretary):
    with pytest.raises(NotFound):
        pab_meeting_update(actor=secretary, meeting_id=10**9, fields=fields(working_day_after(20)))
    with pytest.raises(NotFound):
        pab_meeting_cancel(actor=secretary, meeting_id=10**9, reason="Gone.")


def test_moving_a_meeting_tells_the_participants_of_targeted_applications_from_and_to(
    secretary, analyst, signed, make_meeting, member, other_member, make_application
):
    meeting = make_meeting(30)
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    old_date = meeting.date
    new_date = working_day_after(45)

    moved = pab_meeting_update(actor=secretary, meeting_id=meeting.pk, fields=fields(new_date, starts_at=time(13, 30)))

    assert moved.date == new_date and moved.set_by_hand and moved.revision == 1
    assert moved.paper_deadline == working_calendar().add_working_days(new_date, -5)
    event = AuditEvent.objects.get(action="pab.meeting.update")
    assert event.before["date"] == old_date.isoformat() and event.after["date"] == new_date.isoformat()
    told = inbox(member)[-1]
    assert told.subject == f"Your target BSC PAB meeting has changed: {application.reference}"
    assert f"from {old_date:%A} {old_date.day} {old_date:%B %Y} at 10:00" in told.body
    assert f"to {new_date:%A} {new_date.day} {new_date:%B %Y} at 13:30" in told.body
    assert "paper deadline has moved" in told.body
    assert application.reference in inbox(analyst)[-1].body
    assert not inbox(other_member)


def test_saving_a_meeting_unchanged_records_and_tells_nothing(secretary, make_meeting):
    meeting = make_meeting(30)
    before = snapshot()
    same = fields(meeting.date, location=meeting.location, paper_deadline=meeting.paper_deadline)
    pab_meeting_update(actor=secretary, meeting_id=meeting.pk, fields=same)
    assert snapshot() == before


def test_changing_only_the_notes_tells_nobody(secretary, analyst, signed, make_meeting, member):
    meeting = make_meeting(30)
    pab_target_set(actor=analyst, application_id=signed().pk, meeting_id=meeting.pk)
    told = len(inbox(member))
    pab_meeting_update(
        actor=secretary,
        meeting_id=meeting.pk,
        fields=fields(meeting.date, location=meeting.location, paper_deadline=meeting.paper_deadline, notes="Room 2"),
    )
    meeting.refresh_from_db()
    assert meeting.notes == "Room 2" and meeting.revision == 0 and not meeting.set_by_hand
    assert len(inbox(member)) == told


def test_cancelling_tells_the_participants_and_asks_the_analysts_for_a_new_target(
    secretary, analyst, signed, make_meeting, member
):
    meeting = make_meeting(30)
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    before = snapshot()
    with pytest.raises(InvalidInput, match="why the meeting is cancelled"):
        pab_meeting_cancel(actor=secretary, meeting_id=meeting.pk, reason=" ")
    assert snapshot() == before

    pab_meeting_cancel(actor=secretary, meeting_id=meeting.pk, reason="The Board is not quorate.")

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED and meeting.cancelled_reason == "The Board is not quorate."
    assert PabMeeting.objects.filter(pk=meeting.pk).exists()  # it stays, marked cancelled
    assert "cancelled" in inbox(member)[-1].subject and "new target meeting" in inbox(member)[-1].body
    assert "Give each of them a new target meeting." in inbox(analyst)[-1].body
    panel = application_pab_panel(user=analyst, application_id=application.pk)
    assert panel.target_cancelled
    assert not [d for d in panel.deadlines if d.rule.anchor != "qt_start"]  # nothing hangs on a cancelled meeting
    with pytest.raises(InvalidTransition, match="cancelled already"):
        pab_meeting_cancel(actor=secretary, meeting_id=meeting.pk, reason="Again.")
    with pytest.raises(InvalidTransition, match="can no longer be changed"):
        pab_meeting_update(actor=secretary, meeting_id=meeting.pk, fields=fields(working_day_after(50)))
    # A new target at another meeting.
    later = make_meeting(60)
    assert pab_target_set(
        actor=analyst, application_id=application.pk, meeting_id=later.pk, reason="Meeting cancelled."
    ).is_current


def test_a_meeting_is_marked_held_on_or_after_its_day(secretary, make_meeting):
    future = make_meeting(30)
    with pytest.raises(InvalidTransition, match="has not happened yet"):
        pab_meeting_mark_held(actor=secretary, meeting_id=future.pk)
    past = make_meeting(on=uk_today() - timedelta(days=1), paper_deadline=uk_today() - timedelta(days=10))
    held = pab_meeting_mark_held(actor=secretary, meeting_id=past.pk)
    assert held.status == MeetingStatus.HELD
    assert AuditEvent.objects.filter(action="pab.meeting.held").count() == 1
    with pytest.raises(InvalidTransition, match="held already"):
        pab_meeting_mark_held(actor=secretary, meeting_id=past.pk)


def test_the_database_keeps_the_calendar_consistent(make_meeting):
    meeting = make_meeting(30)
    for change in (
        {"status": MeetingStatus.CANCELLED},  # without a reason
        {"paper_deadline": meeting.date + timedelta(days=1)},
        {"status": "postponed"},
        {"duration_minutes": 1},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            PabMeeting.objects.filter(pk=meeting.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_meeting(on=meeting.date)  # two meetings on one day
    make_meeting(on=meeting.date, status=MeetingStatus.CANCELLED)  # a cancelled one may share the day
    first = next(months_from(meeting.date, 1))
    PabMeeting.objects.filter(pk=meeting.pk).update(rule_month=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_meeting(90, rule_month=first)
