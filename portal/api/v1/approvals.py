"""Approvals: the BSC PAB meeting calendar, an application's target meeting and its deadlines, and the
caller's private calendar feed. Mounted at `/v1`.

Everyone signed in may read the calendar; the applications targeted at a meeting are counted and listed
only where the caller may see them. A meeting carries the number of them and the address of their
list (`applications_url`), read a page at a time. The PAB secretary changes the calendar; Elexon
analysts and the QSP set an application's target meeting once its Final QAD is signed."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import by_role, may_call, on_application_by_role
from portal.api.pagination import LimitOffset, PresentedPages, each
from portal.api.schemas import ApplicationRef
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.approvals import selectors, services
from portal.approvals.deadlines import Deadline, MeetingOption
from portal.approvals.models import (
    DeadlineAnchor,
    MeetingStatus,
    Milestone,
    PabMeeting,
    PabTarget,
    Weekday,
    WeekOfMonth,
)
from portal.approvals.permissions import can_manage_meetings, can_target
from portal.approvals.services import MAX_LOCATION_LENGTH, MAX_TEXT_LENGTH, MeetingFields

router = Router(tags=["approvals: PAB meetings and deadlines"])

# Where the API is mounted, for the addresses in answers.
API = "/api/v1"
MEETINGS = "/pab/meetings"
MEETING = "/pab/meetings/{int:meeting_id}"
TARGET = "/applications/{int:application_id}/pab-target"
WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_MANAGE_MEETINGS = may_call(
    by_role(can_manage_meetings), refusal="Only the PAB secretary can change the BSC PAB meeting calendar."
)
MAY_TARGET = may_call(
    on_application_by_role(can_target),
    refusal="Only an Elexon qualification analyst or the QSP can set the target PAB meeting.",
)


# --- shapes ---------------------------------------------------------------------------------------------


class MeetingApplicationOut(Schema):
    application: ApplicationRef
    targeted_at: dt.datetime
    late_reason: str = Field(description="Why the paper is late, when the paper deadline had passed; else empty.")


# A time of day in the UK, as hours and minutes. (Not `format: time`, which needs a UTC offset.)
HOURS_MINUTES = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class MeetingBrief(Schema):
    id: int
    date: dt.date
    starts_at: str = Field(pattern=HOURS_MINUTES, description="UK time, HH:MM.")
    paper_deadline: dt.date
    status: MeetingStatus


class MeetingOut(MeetingBrief):
    duration_minutes: int
    location: str
    notes: str
    cancelled_reason: str
    generated: bool = Field(description="Generated from the meeting rule (else added by the PAB secretary).")
    set_by_hand: bool = Field(description="Date, time or paper deadline set by the secretary: the generator leaves it.")
    revision: int = Field(description="Goes up with every change of date, time, place or status.")
    application_count: int = Field(description="How many open applications targeted at it you may see.")
    applications_url: str = Field(
        description="Where to list them, a page at a time: `GET /v1/pab/meetings/{meeting_id}/applications`."
    )


class MeetingIn(Schema):
    date: dt.date = Field(description="A working day, today or later (UK).")
    starts_at: str = Field(pattern=HOURS_MINUTES, description="UK time, HH:MM.")
    duration_minutes: int | None = Field(None, ge=15, le=720, description="Default: the rule's.")
    location: str = Field(min_length=1, max_length=MAX_LOCATION_LENGTH, description="Shown in the public calendar.")
    paper_deadline: dt.date | None = Field(None, description="Default: the rule's working days before the meeting.")
    notes: str = Field("", max_length=MAX_TEXT_LENGTH, description="Never in the public calendar.")


class CancelIn(Schema):
    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH, description="Sent to everyone affected.")


class MeetingFilters(Schema):
    date_from: dt.date | None = Field(None, description="Meetings on or after this date.")
    date_to: dt.date | None = Field(None, description="Meetings on or before this date.")
    status: MeetingStatus | None = None


class RuleOut(Schema):
    name: str
    description: str
    is_active: bool
    weekday: Weekday = Field(description="0 = Monday … 4 = Friday.")
    week_of_month: WeekOfMonth = Field(description="1–4, or -1 for the last.")
    starts_at: str = Field(pattern=HOURS_MINUTES, description="UK time, HH:MM.")
    duration_minutes: int
    location: str
    paper_deadline_working_days: int
    months_ahead: int


class GenerateOut(Schema):
    created: list[MeetingBrief]
    realigned: list[MeetingBrief] = Field(description="Untouched meetings moved to follow a changed rule or calendar.")
    adopted: list[MeetingBrief] = Field(description="Extra meetings already on the rule's day, taken as that month's.")
    kept: list[MeetingBrief] = Field(description="Meetings left where they are although the rule would move them.")


class TargetOut(Schema):
    meeting: MeetingBrief
    is_current: bool
    reason: str
    late_reason: str
    set_by: str
    set_at: dt.datetime
    superseded_at: dt.datetime | None


class TargetIn(Schema):
    meeting_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field("", max_length=MAX_TEXT_LENGTH, description="Required when the target moves.")
    late_reason: str = Field(
        "", max_length=MAX_TEXT_LENGTH, description="Required when the meeting's paper deadline has passed."
    )


class DeadlineOut(Schema):
    rule: str
    title: str
    task_code: str
    milestone: Milestone
    due_on: dt.date
    anchor: DeadlineAnchor
    anchor_on: dt.date
    explanation: str
    status: Literal["done", "done_late", "overdue", "due_today", "due_soon", "upcoming"]
    done_on: dt.date | None
    overdue: bool
    working_days_left: int = Field(description="Working days from today (UK) to the due date; negative once passed.")


class DeadlineStepOut(Schema):
    rule: str
    title: str
    due_on: dt.date
    done: bool
    makeable: bool


class MeetingOptionOut(Schema):
    meeting: MeetingBrief
    paper_deadline_passed: bool
    makeable: bool = Field(description="Every step can still be done in time (or is done).")
    steps: list[DeadlineStepOut] = Field(description="By when each step must be done to make this meeting.")


class PabTargetOut(Schema):
    application: ApplicationRef
    needs_pab: bool
    can_target: bool = Field(description="Whether you may set or move the target now.")
    refusal: str | None = Field(description="Why the target cannot be set now, for those who could otherwise.")
    target: TargetOut | None
    history: list[TargetOut] = Field(description="Every target, newest first.")
    deadlines: list[DeadlineOut]
    options: list[MeetingOptionOut] = Field(description="Upcoming meetings, with back-scheduled dates.")


class FeedOut(Schema):
    public_url: str = Field(description="The public feed of BSC PAB meetings (no sign-in).")
    url: str | None = Field(description="Your private deadlines feed; null until you create it. Keep it secret.")
    created_at: dt.datetime | None
    reset_at: dt.datetime | None
    last_used_at: dt.datetime | None


# --- conversions ---------------------------------------------------------------------------------------


def _brief(meeting: PabMeeting) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "date": meeting.date,
        "starts_at": f"{meeting.starts_at:%H:%M}",
        "paper_deadline": meeting.paper_deadline,
        "status": meeting.status,
    }


def _meeting(meeting: PabMeeting, application_count: int) -> dict[str, Any]:
    return {
        **_brief(meeting),
        "duration_minutes": meeting.duration_minutes,
        "location": meeting.location,
        "notes": meeting.notes,
        "cancelled_reason": meeting.cancelled_reason,
        "generated": meeting.rule_month is not None,
        "set_by_hand": meeting.set_by_hand,
        "revision": meeting.revision,
        "application_count": application_count,
        "applications_url": f"{API}{MEETINGS}/{meeting.pk}/applications",
    }


def _meeting_application(target: PabTarget) -> dict[str, Any]:
    return {"application": target.application, "targeted_at": target.set_at, "late_reason": target.late_reason}


def _target(target: PabTarget) -> dict[str, Any]:
    return {
        "meeting": _brief(target.meeting),
        "is_current": target.is_current,
        "reason": target.reason,
        "late_reason": target.late_reason,
        "set_by": target.set_by.display_name,
        "set_at": target.set_at,
        "superseded_at": target.superseded_at,
    }


def _deadline(deadline: Deadline) -> dict[str, Any]:
    return {
        "rule": deadline.rule.code,
        "title": deadline.title,
        "task_code": deadline.rule.task_code,
        "milestone": deadline.rule.milestone,
        "due_on": deadline.due_on,
        "anchor": deadline.rule.anchor,
        "anchor_on": deadline.anchor.on,
        "explanation": deadline.explanation,
        "status": deadline.status,
        "done_on": deadline.done_on,
        "overdue": deadline.overdue,
        "working_days_left": deadline.working_days_left,
    }


def _option(option: MeetingOption) -> dict[str, Any]:
    return {
        "meeting": _brief(option.meeting),
        "paper_deadline_passed": option.paper_deadline_passed,
        "makeable": option.makeable,
        "steps": [
            {"rule": s.rule.code, "title": s.rule.title, "due_on": s.due_on, "done": s.done, "makeable": s.makeable}
            for s in option.steps
        ],
    }


def _panel(request: HttpRequest, application_id: int) -> dict[str, Any]:
    panel = selectors.application_pab_panel(user=caller(request), application_id=application_id)
    return {
        "application": panel.application,
        "needs_pab": panel.needs_pab,
        "can_target": panel.can_target,
        "refusal": panel.refusal or None,
        "target": _target(panel.target) if panel.target else None,
        "history": [_target(t) for t in panel.history],
        "deadlines": [_deadline(d) for d in panel.deadlines],
        "options": [_option(o) for o in panel.options],
    }


def _fields(payload: MeetingIn) -> MeetingFields:
    return MeetingFields(
        date=payload.date,
        starts_at=dt.time.fromisoformat(payload.starts_at),
        duration_minutes=payload.duration_minutes,
        location=payload.location,
        paper_deadline=payload.paper_deadline,
        notes=payload.notes,
    )


def _meetings(user: Any, meetings: list[PabMeeting]) -> list[dict[str, Any]]:
    counts = selectors.meeting_application_counts(user=user, meeting_ids=[m.pk for m in meetings])
    return [_meeting(m, counts[m.pk].applications if m.pk in counts else 0) for m in meetings]


def _meeting_for(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    user = caller(request)
    return _meetings(user, [selectors.pab_meeting_get(user=user, meeting_id=meeting_id)])[0]


# --- meetings ---------------------------------------------------------------------------------------------


@router.get(MEETINGS, response={200: list[MeetingOut], **responses()})
@paginate(LimitOffset)
def pab_meeting_list(request: HttpRequest, filters: Query[MeetingFilters]) -> Any:
    """BSC PAB meetings in date order, each with the number of applications targeted at it that you
    may see and the address of their list."""
    user = caller(request)
    meetings = selectors.pab_meetings(
        user=user, date_from=filters.date_from, date_to=filters.date_to, status=filters.status
    )
    # The applications of a page's meetings are counted in one query.
    return PresentedPages(meetings, lambda page: _meetings(user, page))


@router.get(MEETING, response={200: MeetingOut, **responses(404)})
def pab_meeting_get(request: HttpRequest, meeting_id: ObjectId) -> dict[str, Any]:
    """One meeting."""
    return _meeting_for(request, meeting_id)


@router.get(MEETING + "/applications", response={200: list[MeetingApplicationOut], **responses(404)})
@paginate(LimitOffset)
def pab_meeting_application_list(request: HttpRequest, meeting_id: ObjectId) -> Any:
    """The open applications targeted at the meeting that you may see, by application id, a page at a
    time: when each was targeted at it, and why its paper is late if it is."""
    targets = selectors.meeting_applications(user=caller(request), meeting_id=meeting_id)
    return PresentedPages(targets, each(_meeting_application))


@router.post(MEETINGS, response={201: MeetingOut, **WRITE_ERRORS}, auth=MAY_MANAGE_MEETINGS)
def pab_meeting_create(request: HttpRequest, payload: MeetingIn) -> Status[dict[str, Any]]:
    """The PAB secretary adds a meeting the rule does not generate. The analysts are told."""
    meeting = services.pab_meeting_create(actor=caller(request), fields=_fields(payload))
    return Status(201, _meeting_for(request, meeting.pk))


@router.put(MEETING, response={200: MeetingOut, **WRITE_ERRORS}, auth=MAY_MANAGE_MEETINGS)
def pab_meeting_update(request: HttpRequest, meeting_id: ObjectId, payload: MeetingIn) -> dict[str, Any]:
    """The PAB secretary moves or changes a scheduled meeting (every field is replaced; an omitted
    paper deadline is set from the rule). The participants of targeted applications are told."""
    services.pab_meeting_update(actor=caller(request), meeting_id=meeting_id, fields=_fields(payload))
    return _meeting_for(request, meeting_id)


@router.post(MEETING + "/cancel", response={200: MeetingOut, **WRITE_ERRORS}, auth=MAY_MANAGE_MEETINGS)
def pab_meeting_cancel(request: HttpRequest, meeting_id: ObjectId, payload: CancelIn) -> dict[str, Any]:
    """The PAB secretary cancels a scheduled meeting, with the reason. It stays, marked cancelled; the
    participants of targeted applications and the analysts are told."""
    services.pab_meeting_cancel(actor=caller(request), meeting_id=meeting_id, reason=payload.reason)
    return _meeting_for(request, meeting_id)


@router.post(MEETING + "/held", response={200: MeetingOut, **WRITE_ERRORS}, auth=MAY_MANAGE_MEETINGS)
def pab_meeting_mark_held(request: HttpRequest, meeting_id: ObjectId) -> dict[str, Any]:
    """The PAB secretary records that a meeting took place (on or after its date)."""
    services.pab_meeting_mark_held(actor=caller(request), meeting_id=meeting_id)
    return _meeting_for(request, meeting_id)


@router.post(MEETINGS + "/generate", response={200: GenerateOut, **responses(403, 409)})
def pab_meetings_generate(request: HttpRequest) -> dict[str, Any]:
    """The PAB secretary generates the meetings of the months ahead from the rule (idempotent)."""
    report = services.pab_meetings_generate(actor=caller(request))
    return {
        "created": [_brief(m) for m in report.created],
        "realigned": [_brief(m) for m in report.realigned],
        "adopted": [_brief(m) for m in report.adopted],
        "kept": [_brief(m) for m in report.kept],
    }


@router.get("/pab/rule", response={200: RuleOut, **responses()})
def pab_meeting_rule_get(request: HttpRequest) -> dict[str, Any]:
    """The rule meetings are generated from (administrators change it in the admin)."""
    rule = selectors.pab_rule()
    return {
        "name": rule.name,
        "description": rule.description,
        "is_active": rule.is_active,
        "weekday": rule.weekday,
        "week_of_month": rule.week_of_month,
        "starts_at": f"{rule.starts_at:%H:%M}",
        "duration_minutes": rule.duration_minutes,
        "location": rule.location,
        "paper_deadline_working_days": rule.paper_deadline_working_days,
        "months_ahead": rule.months_ahead,
    }


# --- an application's target and deadlines ------------------------------------------------------------


@router.get(TARGET, response={200: PabTargetOut, **responses(404)})
def application_pab_target_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's target BSC PAB meeting, its history, its deadlines, and for each upcoming
    meeting the dates by which each step must be done to make it."""
    return _panel(request, application_id)


@router.post(TARGET, response={200: PabTargetOut, **WRITE_ERRORS}, auth=MAY_TARGET)
def application_pab_target_set(request: HttpRequest, application_id: ObjectId, payload: TargetIn) -> dict[str, Any]:
    """An Elexon analyst or the QSP sets or moves the target meeting (once the Final QAD is signed). A
    meeting whose paper deadline has passed needs `late_reason`; a move needs `reason`. The participant
    is told at once."""
    services.pab_target_set(
        actor=caller(request),
        application_id=application_id,
        meeting_id=payload.meeting_id,
        reason=payload.reason,
        late_reason=payload.late_reason,
    )
    return _panel(request, application_id)


@router.get("/applications/{int:application_id}/deadlines", response={200: list[DeadlineOut], **responses(404)})
def application_deadline_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """The application's deadlines, soonest first: what, by when, done or not, overdue."""
    return [_deadline(d) for d in selectors.application_deadlines(user=caller(request), application_id=application_id)]


# --- the caller's calendar feed --------------------------------------------------------------------------


def _feed(request: HttpRequest) -> dict[str, Any]:
    info = selectors.calendar_feed_info(user=caller(request))
    feed = info.feed
    return {
        "public_url": request.build_absolute_uri(reverse("approvals:pab_ics")),
        "url": request.build_absolute_uri(reverse("approvals:user_ics", args=[info.token])) if feed else None,
        "created_at": feed.created_at if feed else None,
        "reset_at": feed.reset_at if feed else None,
        "last_used_at": feed.last_used_at if feed else None,
    }


@router.get("/me/calendar-feed", response={200: FeedOut, **responses()})
def calendar_feed_get(request: HttpRequest) -> dict[str, Any]:
    """The addresses of the public PAB meetings feed and of your private deadlines feed."""
    return _feed(request)


@router.post("/me/calendar-feed/reset", response={200: FeedOut, **responses(403)})
def calendar_feed_reset(request: HttpRequest) -> dict[str, Any]:
    """Create your private feed, or give it a new address (the old one stops working at once)."""
    services.calendar_feed_reset(actor=caller(request))
    return _feed(request)
