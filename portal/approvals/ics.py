"""Calendar feeds (iCalendar, RFC 5545) to subscribe to.

- The public feed of BSC PAB meetings: each meeting (timed, UK time, with its VTIMEZONE) and its paper
  deadline (an all-day event). Dates, times, place and status only: no notes, no applications.
- A user's private feed: the open deadlines of the applications they may see (all-day events) and the
  target meetings of those applications.

Each event has a UID that stays the same while it is the same thing (a meeting, a meeting's paper
deadline, a rule's deadline on an application, an application's target), so a calendar updates an
event in place when its date moves. The feeds carry no METHOD, so DTSTAMP (and LAST-MODIFIED) is when
the event's information last changed in the portal, which keeps a feed byte-for-byte the same between
changes; SEQUENCE counts a meeting's changes. Cancelled meetings stay in the feed, STATUS:CANCELLED,
so subscribed calendars strike them out.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

from django.conf import settings
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration

from portal.approvals.deadlines import Deadline, long_date
from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
from portal.core.calendar import UK
from portal.qualification.models import Application

PRODID = "-//MHHS Qualification Portal//PAB meetings and deadlines//EN"
REFRESH = timedelta(hours=6)


def _domain() -> str:
    return urlparse(settings.PORTAL_BASE_URL).hostname or "mhhs-qualification-portal"


def _url(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _label(application: Application) -> str:
    return f"{application.reference} ({application.mpid.code} {application.market_role.code})"


def _calendar(name: str, description: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", "Europe/London")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    calendar.add_component(_london())
    return calendar


def _london() -> Timezone:
    """Europe/London as the rule it has kept since 1996 (BST from the last Sunday of March at 01:00 UTC to
    the last Sunday of October): compact, and valid for every year ahead, unlike a list of dates."""
    zone = Timezone()
    zone.add("tzid", "Europe/London")
    # A VTIMEZONE's DTSTART is local time without a zone (RFC 5545 3.6.5): naive on purpose.
    bst_from = datetime(1970, 3, 29, 1, 0)  # noqa: DTZ001
    gmt_from = datetime(1970, 10, 25, 2, 0)  # noqa: DTZ001
    for kind, start, month, offset_from, offset_to, name in (
        (TimezoneDaylight, bst_from, 3, timedelta(0), timedelta(hours=1), "BST"),
        (TimezoneStandard, gmt_from, 10, timedelta(hours=1), timedelta(0), "GMT"),
    ):
        part = kind()
        part.add("dtstart", start)
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1SU"})
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", offset_to)
        part.add("tzname", name)
        zone.add_component(part)
    return zone


def _stamp(event: Event, changed: datetime) -> None:
    moment = changed.astimezone(UTC).replace(microsecond=0)
    event.add("dtstamp", moment)
    event.add("last-modified", moment)


def _all_day(event: Event, day: date) -> None:
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")


def _meeting_times(meeting: PabMeeting) -> tuple[datetime, datetime]:
    start = datetime.combine(meeting.date, meeting.starts_at, tzinfo=UK)
    return start, start + timedelta(minutes=meeting.duration_minutes)


def _meeting_event(
    meeting: PabMeeting, *, summary: str, description: str, uid: str, changed: datetime, sequence: int
) -> Event:
    event = Event()
    event.add("uid", uid)
    _stamp(event, changed)
    start, end = _meeting_times(meeting)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("location", meeting.location)
    event.add("description", description)
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    event.add("sequence", sequence)
    return event


def _bytes(calendar: Calendar) -> bytes:
    return calendar.to_ical()


def pab_meetings_ics(meetings: Iterable[PabMeeting]) -> bytes:
    """The public feed: each meeting and its paper deadline."""
    domain = _domain()
    calendar = _calendar(
        "BSC PAB meetings",
        "Meetings of the BSC Performance Assurance Board on MHHS qualification, with their paper deadlines.",
    )
    for meeting in meetings:
        cancelled = meeting.status == MeetingStatus.CANCELLED
        note = " (cancelled)" if cancelled else ""
        calendar.add_component(
            _meeting_event(
                meeting,
                summary=f"BSC PAB meeting{note}",
                description=f"Papers are due by {long_date(meeting.paper_deadline)}."
                + (" This meeting is cancelled." if cancelled else ""),
                uid=f"pab-meeting-{meeting.pk}@{domain}",
                changed=meeting.updated_at,
                sequence=meeting.revision,
            )
        )
        deadline = Event()
        deadline.add("uid", f"pab-paper-deadline-{meeting.pk}@{domain}")
        _stamp(deadline, meeting.updated_at)
        _all_day(deadline, meeting.paper_deadline)
        deadline.add("summary", f"BSC PAB paper deadline{note}")
        deadline.add("description", f"The last day for papers for the BSC PAB meeting on {long_date(meeting.date)}.")
        deadline.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        deadline.add("sequence", meeting.revision)
        calendar.add_component(deadline)
    return _bytes(calendar)


def user_ics(*, deadlines: Iterable[Deadline], targets: Iterable[PabTarget]) -> bytes:
    """A user's private feed: the open deadlines and target meetings of the applications they may see."""
    domain = _domain()
    calendar = _calendar(
        "MHHS qualification deadlines",
        "Your deadlines and target BSC PAB meetings in the MHHS Qualification Portal.",
    )
    for deadline in deadlines:
        application = deadline.application
        event = Event()
        event.add("uid", f"{deadline.uid_key}@{domain}")
        _stamp(event, deadline.changed_at)
        _all_day(event, deadline.due_on)
        prefix = "Overdue: " if deadline.overdue else ""
        event.add("summary", f"{prefix}{deadline.title}: {_label(application)}")
        event.add(
            "description",
            f"{deadline.title} for {application.reference}, {application.organisation.name}. "
            f"Due {deadline.explanation}.",
        )
        event.add("url", _url(f"/applications/{application.pk}/"))
        calendar.add_component(event)
    for target in targets:
        application, meeting = target.application, target.meeting
        event = _meeting_event(
            meeting,
            summary=f"BSC PAB meeting: {_label(application)}",
            description=f"{application.reference} ({application.organisation.name}) is targeted at this meeting. "
            f"Papers are due by {long_date(meeting.paper_deadline)}.",
            uid=f"pab-target-{application.pk}@{domain}",
            # The event is the application's target: it changes when the meeting changes and when the
            # target moves to another meeting, so its sequence is the minute of the latest change.
            changed=max(meeting.updated_at, target.set_at),
            sequence=int(max(meeting.updated_at, target.set_at).timestamp() // 60),
        )
        event.add("url", _url(f"/applications/{application.pk}/pab-target/"))
        calendar.add_component(event)
    return _bytes(calendar)
