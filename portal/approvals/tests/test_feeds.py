"""Calendar feeds: the public one of BSC PAB meetings and each user's private one of their deadlines,
read back with icalendar."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from portal.approvals.models import CalendarFeed
from portal.approvals.selectors import calendar_feed_info
from portal.approvals.services import (
    MeetingFields,
    calendar_feed_reset,
    pab_meeting_cancel,
    pab_meeting_update,
    pab_target_set,
)
from portal.approvals.tests.conftest import working_day_after
from portal.audit.models import AuditEvent
from portal.core.calendar import UK, uk_today
from portal.factories import MpidFactory
from portal.testing.models import QtPlan

pytestmark = pytest.mark.django_db


def read(response) -> Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, Any]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_public_feed_holds_meetings_and_paper_deadlines_and_nothing_confidential(
    make_meeting, signed, analyst, secretary
):
    meeting = make_meeting(30, notes="Teams passcode 1234")
    cancelled = make_meeting(60, status="cancelled")
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)

    response = Client().get("/calendar/pab.ics")  # no sign-in
    calendar = read(response)
    assert response["Cache-Control"] == "public, max-age=900"
    assert str(calendar["X-WR-CALNAME"]) == "BSC PAB meetings"
    assert calendar.walk("VTIMEZONE") and str(calendar.walk("VTIMEZONE")[0]["TZID"]) == "Europe/London"
    found = events(calendar)
    assert set(found) == {
        f"pab-meeting-{meeting.pk}@127.0.0.1",
        f"pab-paper-deadline-{meeting.pk}@127.0.0.1",
        f"pab-meeting-{cancelled.pk}@127.0.0.1",
        f"pab-paper-deadline-{cancelled.pk}@127.0.0.1",
    }
    event = found[f"pab-meeting-{meeting.pk}@127.0.0.1"]
    start = event.decoded("DTSTART")
    assert start == datetime.combine(meeting.date, time(10, 0), tzinfo=UK)
    assert event.decoded("DTEND") - start == timedelta(minutes=meeting.duration_minutes)
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["LOCATION"]) == meeting.location
    assert event.decoded("DTSTAMP") == meeting.updated_at.astimezone(UTC).replace(microsecond=0)
    paper = found[f"pab-paper-deadline-{meeting.pk}@127.0.0.1"]
    assert paper.decoded("DTSTART") == meeting.paper_deadline  # an all-day event: a date, not a time
    assert paper.decoded("DTEND") == meeting.paper_deadline + timedelta(days=1)
    assert str(found[f"pab-meeting-{cancelled.pk}@127.0.0.1"]["STATUS"]) == "CANCELLED"
    text = response.content.decode()
    for secret in ("passcode", application.reference, application.organisation.name, application.mpid.code):
        assert secret not in text


def test_the_public_feed_is_stable_and_follows_a_moved_meeting(make_meeting, secretary):
    meeting = make_meeting(30)
    first = Client().get("/calendar/pab.ics").content
    assert Client().get("/calendar/pab.ics").content == first  # nothing changed, nothing differs
    before = events(Calendar.from_ical(first))[f"pab-meeting-{meeting.pk}@127.0.0.1"]

    new_date = working_day_after(45)
    pab_meeting_update(
        actor=secretary,
        meeting_id=meeting.pk,
        fields=MeetingFields(date=new_date, starts_at=time(14, 0), location=meeting.location),
    )
    after = events(read(Client().get("/calendar/pab.ics")))[f"pab-meeting-{meeting.pk}@127.0.0.1"]
    assert after.decoded("DTSTART") == datetime.combine(new_date, time(14, 0), tzinfo=UK)
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTAMP") >= before.decoded("DTSTAMP")

    pab_meeting_cancel(actor=secretary, meeting_id=meeting.pk, reason="Not quorate.")
    cancelled = events(read(Client().get("/calendar/pab.ics")))[f"pab-meeting-{meeting.pk}@127.0.0.1"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == int(before["SEQUENCE"]) + 2


def test_a_private_feed_holds_the_users_own_deadlines_and_targets(
    make_application, make_meeting, signed, analyst, member, other_org, other_member
):
    mine = signed()
    meeting = make_meeting(30)
    pab_target_set(actor=analyst, application_id=mine.pk, meeting_id=meeting.pk)
    waiting = make_application(mpid=MpidFactory(organisation=mine.organisation).code)
    QtPlan.objects.create(application=waiting, starts_on=uk_today() + timedelta(days=40))
    theirs = make_application(organisation=other_org, actor=other_member)
    QtPlan.objects.create(application=theirs, starts_on=uk_today() + timedelta(days=40))

    token = calendar_feed_reset(actor=member)
    response = Client().get(f"/calendar/private/{token}.ics")
    calendar = read(response)
    assert response["Cache-Control"] == "private, no-store"
    found = events(calendar)
    assert set(found) == {
        f"deadline-{waiting.pk}-initial_qad_before_qt@127.0.0.1",
        f"pab-target-{mine.pk}@127.0.0.1",
    }
    deadline = found[f"deadline-{waiting.pk}-initial_qad_before_qt@127.0.0.1"]
    assert isinstance(deadline.decoded("DTSTART"), date) and not isinstance(deadline.decoded("DTSTART"), datetime)
    assert waiting.reference in str(deadline["SUMMARY"])
    target = found[f"pab-target-{mine.pk}@127.0.0.1"]
    assert target.decoded("DTSTART") == datetime.combine(meeting.date, time(10, 0), tzinfo=UK)
    assert mine.reference in str(target["SUMMARY"])
    text = response.content.decode()
    assert theirs.reference not in text and other_org.name not in text

    # The other organisation's own feed never shows ours.
    their_token = calendar_feed_reset(actor=other_member)
    text = Client().get(f"/calendar/private/{their_token}.ics").content.decode()
    assert theirs.reference in text and mine.reference not in text and waiting.reference not in text


def test_a_bad_reset_or_missing_token_answers_not_found(member):
    assert Client().get("/calendar/private/" + "A" * 32 + ".ics").status_code == 404
    assert Client().get("/calendar/private/short.ics").status_code == 404
    old = calendar_feed_reset(actor=member)
    assert Client().get(f"/calendar/private/{old}.ics").status_code == 200
    new = calendar_feed_reset(actor=member)
    assert new != old
    assert Client().get(f"/calendar/private/{old}.ics").status_code == 404
    assert Client().get(f"/calendar/private/{new}.ics").status_code == 200
    member.is_active = False
    member.save()
    assert Client().get(f"/calendar/private/{new}.ics").status_code == 404


def test_the_feed_address_is_not_stored_and_its_use_is_noted(member):
    token = calendar_feed_reset(actor=member)
    feed = CalendarFeed.objects.get(user=member)
    assert token not in (feed.nonce, feed.token_hash)
    assert calendar_feed_info(user=member).token == token  # the user can always see it again
    assert feed.last_used_at is None
    Client().get(f"/calendar/private/{token}.ics")
    feed.refresh_from_db()
    assert feed.last_used_at is not None
    events = AuditEvent.objects.filter(action__startswith="calendar_feed.")
    assert [e.action for e in events] == ["calendar_feed.create"]
    assert token not in str(events[0].after)
