"""Every write to the PAB calendar, the targets, the deadline reminders and the calendar feeds.

Each service runs in one transaction: lock the row it changes (the application for a target, the
meeting or the rule for the calendar), check that the user may see it (NotFound otherwise, the same as
a missing one), check the role (PermissionDenied), the state (InvalidTransition) and the input
(InvalidInput naming the field); then change, write one audit event, and notify whoever must know or
act next. A refusal changes nothing.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.roles import Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.approvals.deadlines import Deadline, deadlines_for, long_date, short_date
from portal.approvals.feeds import feed_token, new_nonce, token_hash
from portal.approvals.models import (
    BSC_PAB_RULE,
    CalendarFeed,
    DeadlineAnchor,
    DeadlineReminder,
    MeetingStatus,
    PabMeeting,
    PabMeetingRule,
    PabTarget,
    ReminderKind,
)
from portal.approvals.permissions import meeting_manage_refusal, target_refusal
from portal.approvals.schedule import months_from, paper_deadline_for, rule_meeting_day
from portal.approvals.selectors import calendar_feed_by_token, pab_rule, working_calendar
from portal.audit.services import audit_record
from portal.core.calendar import WorkingCalendar, uk_today
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.services import notify
from portal.qualification.models import Application, Task
from portal.qualification.services import application_lock
from portal.qualification.workflow import CLOSED_STATUSES

MAX_TEXT_LENGTH = 5000
MAX_LOCATION_LENGTH = 200
# A meeting further ahead than this is a typing slip, not a plan.
MAX_MEETING_DAYS_AHEAD = 3 * 366
MIN_DURATION, MAX_DURATION = 15, 720
# A paper deadline further before its meeting than this is a typing slip.
MAX_PAPER_LEAD_DAYS = 90
# The Code Bodies' staff who present applications to the Board and are told about its calendar.
PRESENTERS = frozenset({Role.ELEXON_ANALYST, Role.QSP})
# `last_used_at` of a calendar feed is written at most this often: calendar apps poll every few minutes.
FEED_USE_RESOLUTION = timedelta(hours=1)


# --- generating meetings from the rule -----------------------------------------------------------------


@dataclass
class GenerateReport:
    created: list[PabMeeting] = field(default_factory=list)
    realigned: list[PabMeeting] = field(default_factory=list)
    adopted: list[PabMeeting] = field(default_factory=list)
    # Months whose meeting the generator left as it was although the rule would put it elsewhere
    # (moved by the secretary, cancelled, held, or with applications targeted at it).
    kept: list[PabMeeting] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.realigned or self.adopted)


@transaction.atomic
def pab_meetings_generate(*, actor: Any | None, today: date | None = None) -> GenerateReport:
    """Make sure every month from this one to the rule's horizon has its meeting.

    Idempotent: a month that has its meeting is left alone, except that a meeting nobody has touched
    (scheduled, not set by hand, no application targeted at it) follows the rule if the rule or the
    working-day calendar changed. A meeting the secretary moved or cancelled, or one with applications
    targeted at it, is never moved; nothing is ever deleted. `actor` None is the scheduled job."""
    if actor is not None:
        refusal = meeting_manage_refusal(actor)
        if refusal is not None:
            raise refusal
    rule = PabMeetingRule.objects.select_for_update().filter(code=BSC_PAB_RULE).first()
    if rule is None:
        raise InvalidTransition("There is no BSC PAB meeting rule; an administrator must add one first.")
    if not rule.is_active:
        raise InvalidTransition("The BSC PAB meeting rule is switched off, so no meetings are generated.")
    today = today or uk_today()
    working = working_calendar()
    report = GenerateReport()
    for month in months_from(today, rule.months_ahead):
        day = rule_meeting_day(month, weekday=rule.weekday, week_of_month=rule.week_of_month, working=working)
        if day < today:
            continue  # this month's meeting day has passed
        wanted = {
            "date": day,
            "starts_at": rule.starts_at,
            "duration_minutes": rule.duration_minutes,
            "location": rule.location,
            "paper_deadline": paper_deadline_for(day, rule.paper_deadline_working_days, working=working),
        }
        existing = PabMeeting.objects.select_for_update().filter(rule_month=month).first()
        if existing is None:
            _generate_one(month, wanted, actor, report)
        elif any(getattr(existing, name) != value for name, value in wanted.items()):
            _realign(existing, wanted, today, report)
    if report.changed:
        audit_record(
            actor=actor,
            action="pab.meetings.generate",
            target=rule,
            summary=f"BSC PAB meetings generated from the rule: {len(report.created)} added, "
            f"{len(report.realigned)} realigned",
            after={
                "rule": rule.description,
                "created": [m.date.isoformat() for m in report.created],
                "realigned": [m.date.isoformat() for m in report.realigned],
                "adopted": [m.date.isoformat() for m in report.adopted],
            },
        )
    return report


def _generate_one(month: date, wanted: dict[str, Any], actor: Any | None, report: GenerateReport) -> None:
    clash = PabMeeting.objects.filter(date=wanted["date"]).exclude(status=MeetingStatus.CANCELLED).first()
    if clash is not None:
        # An extra meeting is already on the rule's day: it is this month's meeting.
        if clash.rule_month is None:
            clash.rule_month = month
            clash.save(update_fields=["rule_month", "updated_at"])
            report.adopted.append(clash)
        else:
            report.kept.append(clash)
        return
    report.created.append(PabMeeting.objects.create(rule_month=month, created_by=actor, **wanted))


def _realign(meeting: PabMeeting, wanted: dict[str, Any], today: date, report: GenerateReport) -> None:
    untouched = meeting.status == MeetingStatus.SCHEDULED and not meeting.set_by_hand and meeting.date >= today
    # Any current target counts here, even of a since-closed application: its history points at this date.
    if not untouched or PabTarget.objects.filter(meeting=meeting, is_current=True).exists():
        report.kept.append(meeting)
        return
    clash = (
        PabMeeting.objects.filter(date=wanted["date"])
        .exclude(status=MeetingStatus.CANCELLED)
        .exclude(pk=meeting.pk)
        .exists()
    )
    if clash:
        report.kept.append(meeting)
        return
    for name, value in wanted.items():
        setattr(meeting, name, value)
    meeting.revision += 1
    meeting.save()
    report.realigned.append(meeting)


def _targeted(meeting: PabMeeting) -> Any:
    """The current targets at the meeting of applications still open."""
    return PabTarget.objects.filter(meeting=meeting, is_current=True).exclude(
        application__status__in=[s.value for s in CLOSED_STATUSES]
    )


# --- the secretary's changes ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingFields:
    date: "dt.date | None"
    starts_at: time | None
    location: str
    duration_minutes: int | None = None
    paper_deadline: "dt.date | None" = None
    notes: str = ""


@transaction.atomic
def pab_meeting_create(*, actor: Any, fields: MeetingFields) -> PabMeeting:
    """Add an extra meeting (one the rule does not generate). The paper deadline defaults to the rule's
    number of working days before it. The analysts who target applications are told."""
    refusal = meeting_manage_refusal(actor)
    if refusal is not None:
        raise refusal
    rule = pab_rule()
    working = working_calendar()
    cleaned = _clean_meeting(fields, rule=rule, working=working, today=uk_today(), current=None)
    meeting = PabMeeting.objects.create(created_by=actor, set_by_hand=True, **cleaned)
    audit_record(
        actor=actor,
        action="pab.meeting.create",
        target=meeting,
        summary=f"Added {meeting.title}",
        after=_meeting_snapshot(meeting),
    )
    notify(
        recipients=users_with_roles(PRESENTERS),
        subject=f"BSC PAB meeting added: {short_date(meeting.date)}",
        body=f"{_name(actor)} added a BSC PAB meeting on {long_date(meeting.date)} at {meeting.starts_at:%H:%M}. "
        f"Papers are due by {long_date(meeting.paper_deadline)}.",
        link=_meeting_link(meeting),
        exclude=actor,
    )
    return meeting


@transaction.atomic
def pab_meeting_update(*, actor: Any, meeting_id: int, fields: MeetingFields) -> PabMeeting:
    """Change a scheduled meeting: move it, change its time, place, paper deadline or notes. The
    generator leaves a meeting changed here alone. If the date, time, place or paper deadline changed,
    the participants of every application targeted at it are told (from and to), and so are the
    analysts."""
    meeting = _lock_meeting(meeting_id)
    refusal = meeting_manage_refusal(actor)
    if refusal is not None:
        raise refusal
    if meeting.status != MeetingStatus.SCHEDULED:
        raise InvalidTransition(
            f"The {meeting.title} is {meeting.get_status_display().lower()}, so it can no longer be changed."
        )
    rule = pab_rule()
    cleaned = _clean_meeting(fields, rule=rule, working=working_calendar(), today=uk_today(), current=meeting)
    before = _meeting_snapshot(meeting)
    old = PabMeeting(**{name: getattr(meeting, name) for name in cleaned})
    for name, value in cleaned.items():
        setattr(meeting, name, value)
    moved = any(
        getattr(old, name) != getattr(meeting, name)
        for name in ("date", "starts_at", "duration_minutes", "location", "paper_deadline")
    )
    if not moved and old.notes == meeting.notes:
        return meeting  # nothing changed: nothing to record or tell
    if moved:
        meeting.set_by_hand = True
        meeting.revision += 1
    meeting.save()
    audit_record(
        actor=actor,
        action="pab.meeting.update",
        target=meeting,
        summary=f"Changed the {meeting.title}" + (f" (was {short_date(old.date)})" if old.date != meeting.date else ""),
        before=before,
        after=_meeting_snapshot(meeting),
    )
    if moved:
        _tell_targeted(
            meeting,
            actor=actor,
            subject="Your target BSC PAB meeting has changed",
            what=_change_text(old, meeting),
        )
    return meeting


@transaction.atomic
def pab_meeting_cancel(*, actor: Any, meeting_id: int, reason: str) -> PabMeeting:
    """Cancel a scheduled meeting, with the reason. It stays on the calendar, marked cancelled. The
    applications targeted at it need a new target: their participants are told, and the analysts, who
    set the new one."""
    meeting = _lock_meeting(meeting_id)
    refusal = meeting_manage_refusal(actor)
    if refusal is not None:
        raise refusal
    if meeting.status != MeetingStatus.SCHEDULED:
        raise InvalidTransition(f"The {meeting.title} is {meeting.get_status_display().lower()} already.")
    reason = _clean_text(reason, field="reason", label="reason", required="Enter why the meeting is cancelled.")
    before = _meeting_snapshot(meeting)
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_reason = reason
    meeting.revision += 1
    meeting.save()
    audit_record(
        actor=actor,
        action="pab.meeting.cancel",
        target=meeting,
        summary=f"Cancelled the {meeting.title}",
        before=before,
        after=_meeting_snapshot(meeting),
    )
    _tell_targeted(
        meeting,
        actor=actor,
        subject="Your target BSC PAB meeting is cancelled",
        what=f"The BSC PAB meeting on {long_date(meeting.date)} is cancelled: {reason}\n\n"
        "An Elexon analyst will give the application a new target meeting, and you will be told its date.",
        analysts_act=True,
    )
    return meeting


@transaction.atomic
def pab_meeting_mark_held(*, actor: Any, meeting_id: int) -> PabMeeting:
    """Record that a meeting took place (on or after its date)."""
    meeting = _lock_meeting(meeting_id)
    refusal = meeting_manage_refusal(actor)
    if refusal is not None:
        raise refusal
    if meeting.status != MeetingStatus.SCHEDULED:
        raise InvalidTransition(f"The {meeting.title} is {meeting.get_status_display().lower()} already.")
    if meeting.date > uk_today():
        raise InvalidTransition(f"The {meeting.title} has not happened yet.")
    before = _meeting_snapshot(meeting)
    meeting.status = MeetingStatus.HELD
    meeting.revision += 1
    meeting.save()
    audit_record(
        actor=actor,
        action="pab.meeting.held",
        target=meeting,
        summary=f"Recorded that the {meeting.title} was held",
        before=before,
        after=_meeting_snapshot(meeting),
    )
    return meeting


def _lock_meeting(meeting_id: int) -> PabMeeting:
    meeting = PabMeeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("No BSC PAB meeting was found with that reference.")
    return meeting


def _clean_meeting(
    fields: MeetingFields, *, rule: PabMeetingRule, working: WorkingCalendar, today: date, current: PabMeeting | None
) -> dict[str, Any]:
    day = fields.date
    if day is None:
        raise InvalidInput("Enter the date of the meeting.", details={"field": "date"})
    if current is None or day != current.date:
        if day < today:
            raise InvalidInput("The meeting date must be today or later.", details={"field": "date"})
        if day > today + timedelta(days=MAX_MEETING_DAYS_AHEAD):
            raise InvalidInput("The meeting date must be within the next three years.", details={"field": "date"})
        reason = working.non_working_reason(day)
        if reason:
            raise InvalidInput(
                f"{long_date(day)} is {reason}: choose a working day for the meeting.", details={"field": "date"}
            )
        clash = PabMeeting.objects.filter(date=day).exclude(status=MeetingStatus.CANCELLED)
        if current is not None:
            clash = clash.exclude(pk=current.pk)
        if clash.exists():
            raise InvalidInput(f"There is already a BSC PAB meeting on {long_date(day)}.", details={"field": "date"})
    if fields.starts_at is None:
        raise InvalidInput("Enter the time the meeting starts.", details={"field": "starts_at"})
    if fields.starts_at.tzinfo is not None:
        raise InvalidInput("Give the start time in UK time, without a time zone.", details={"field": "starts_at"})
    duration = fields.duration_minutes if fields.duration_minutes is not None else rule.duration_minutes
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise InvalidInput(
            f"The meeting must last between {MIN_DURATION} minutes and {MAX_DURATION // 60} hours.",
            details={"field": "duration_minutes"},
        )
    location = _clean_text(
        fields.location, field="location", label="place", required="Enter where the meeting is held, or “Online”."
    )
    if len(location) > MAX_LOCATION_LENGTH or "\n" in location or "\r" in location:
        raise InvalidInput(
            f"The place must be one line of {MAX_LOCATION_LENGTH} characters or fewer.", details={"field": "location"}
        )
    paper_deadline = fields.paper_deadline
    if paper_deadline is None:
        paper_deadline = paper_deadline_for(day, rule.paper_deadline_working_days, working=working)
    elif current is None or paper_deadline != current.paper_deadline or day != current.date:
        if paper_deadline > day:
            raise InvalidInput(
                "The paper deadline must be on or before the meeting date.", details={"field": "paper_deadline"}
            )
        if paper_deadline < day - timedelta(days=MAX_PAPER_LEAD_DAYS):
            raise InvalidInput(
                "The paper deadline must be within 90 days before the meeting.", details={"field": "paper_deadline"}
            )
        reason = working.non_working_reason(paper_deadline)
        if reason:
            raise InvalidInput(
                f"{long_date(paper_deadline)} is {reason}: choose a working day for the paper deadline.",
                details={"field": "paper_deadline"},
            )
    return {
        "date": day,
        "starts_at": fields.starts_at.replace(second=0, microsecond=0),
        "duration_minutes": duration,
        "location": location,
        "paper_deadline": paper_deadline,
        "notes": _clean_text(fields.notes, field="notes", label="notes"),
    }


def _meeting_snapshot(meeting: PabMeeting) -> dict[str, Any]:
    return {
        "date": meeting.date.isoformat(),
        "starts_at": meeting.starts_at.strftime("%H:%M"),
        "duration_minutes": meeting.duration_minutes,
        "location": meeting.location,
        "paper_deadline": meeting.paper_deadline.isoformat(),
        "status": meeting.status,
        "notes": meeting.notes,
        "cancelled_reason": meeting.cancelled_reason,
    }


def _change_text(old: PabMeeting, new: PabMeeting) -> str:
    lines = []
    if old.date != new.date or old.starts_at != new.starts_at:
        lines.append(
            f"The BSC PAB meeting has moved from {long_date(old.date)} at {old.starts_at:%H:%M} to "
            f"{long_date(new.date)} at {new.starts_at:%H:%M}."
        )
    if old.paper_deadline != new.paper_deadline:
        lines.append(
            f"The paper deadline has moved from {long_date(old.paper_deadline)} to {long_date(new.paper_deadline)}."
        )
    if old.location != new.location:
        lines.append(f"It will now be held at: {new.location}.")
    if old.duration_minutes != new.duration_minutes:
        lines.append(f"It is now planned to last {new.duration_minutes} minutes.")
    return "\n".join(lines)


def _tell_targeted(meeting: PabMeeting, *, actor: Any, subject: str, what: str, analysts_act: bool = False) -> None:
    """Tell the participants of each open application targeted at the meeting, and the analysts once."""
    targets = list(_targeted(meeting).select_related("application__mpid", "application__market_role"))
    for target in targets:
        application = target.application
        notify(
            recipients=organisation_users(application.organisation_id),
            subject=f"{subject}: {application.reference}",
            body=f"{application.reference} ({application.mpid.code} as {application.market_role.name}) is "
            f"targeted at the BSC PAB meeting on {long_date(meeting.date)}.\n\n{what}",
            link=_target_link(application),
            application=application,
            exclude=actor,
        )
    if not targets:
        return
    references = ", ".join(t.application.reference for t in targets)
    body = f"{what}\n\nApplications targeted at it: {references}."
    if analysts_act:
        body += "\n\nGive each of them a new target meeting."
    notify(
        recipients=users_with_roles(PRESENTERS),
        subject=f"{meeting.title}: {'cancelled' if meeting.is_cancelled else 'changed'}",
        body=body,
        link=_meeting_link(meeting),
        exclude=actor,
    )


# --- targeting an application at a meeting -----------------------------------------------------------


@transaction.atomic
def pab_target_set(
    *, actor: Any, application_id: int, meeting_id: int | None, reason: str = "", late_reason: str = ""
) -> PabTarget:
    """Give the application its target BSC PAB meeting, or move it to another.

    Only for an open application whose role needs BSC PAB approval, once a Director has signed its
    Final QAD and until the Board has decided. A meeting whose paper deadline has passed is refused
    unless `late_reason` says why the paper will be late; moving the target needs `reason`. The earlier
    target is kept, marked superseded. The participant is told the date at once (and, on a move, from
    and to), and so is the PAB secretary."""
    application = application_lock(actor=actor, application_id=application_id)
    tasks = {t.code: t for t in Task.objects.filter(application=application).select_related("definition")}
    refusal = target_refusal(actor, application, tasks)
    if refusal is not None:
        raise refusal
    if meeting_id is None:
        raise InvalidInput("Choose the meeting.", details={"field": "meeting"})
    meeting = PabMeeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise InvalidInput("Choose a meeting from the calendar.", details={"field": "meeting"})
    today = uk_today()
    if meeting.status != MeetingStatus.SCHEDULED:
        raise InvalidInput(
            f"The {meeting.title} is {meeting.get_status_display().lower()}: choose a scheduled meeting.",
            details={"field": "meeting"},
        )
    if meeting.date < today:
        raise InvalidInput(f"The {meeting.title} has passed: choose a later one.", details={"field": "meeting"})
    current = PabTarget.objects.select_for_update().filter(application=application, is_current=True).first()
    if current is not None and current.meeting_id == meeting.pk:
        raise InvalidInput(
            f"{application.reference} is already targeted at the {meeting.title}.", details={"field": "meeting"}
        )
    reason = _clean_text(reason, field="reason", label="reason")
    if current is not None and not reason:
        raise InvalidInput(
            "Enter why the target meeting is moving: the participant is told.", details={"field": "reason"}
        )
    late_reason = _clean_text(late_reason, field="late_reason", label="reason for the late paper")
    late = meeting.paper_deadline < today
    if late and not late_reason:
        raise InvalidInput(
            f"The paper deadline of the {meeting.title} was {long_date(meeting.paper_deadline)}. To target it "
            "anyway, enter why the paper will be late.",
            details={"field": "late_reason"},
        )
    if not late:
        late_reason = ""

    before = _target_snapshot(current) if current is not None else {}
    target = record_target(application, meeting, current, actor=actor, reason=reason, late_reason=late_reason)
    moved = current is not None
    audit_record(
        actor=actor,
        action="pab.target.move" if moved else "pab.target.set",
        target=target,
        summary=(
            f"Moved the target BSC PAB meeting of {application.reference} from "
            f"{short_date(current.meeting.date)} to {short_date(meeting.date)}"
            if current is not None
            else f"Targeted {application.reference} at the {meeting.title}"
        )
        + (" (late paper)" if late else ""),
        before=before,
        after=_target_snapshot(target),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify_target_change(application, target, current, actor=actor)
    return target


def record_target(
    application: Application,
    meeting: PabMeeting,
    current: PabTarget | None,
    *,
    actor: Any,
    reason: str = "",
    late_reason: str = "",
) -> PabTarget:
    """Target the application at `meeting`, keeping `current` (locked by the caller) as history. The
    caller has checked that the move is allowed, and audits and tells."""
    now = timezone.now()
    if current is not None:
        current.is_current = False
        current.superseded_at = now
        current.save(update_fields=["is_current", "superseded_at"])
    return PabTarget.objects.create(
        application=application,
        meeting=meeting,
        previous=current,
        reason=reason,
        late_reason=late_reason,
        set_by=actor,
        set_at=now,
    )


def _target_snapshot(target: PabTarget) -> dict[str, Any]:
    return {
        "meeting_id": target.meeting_id,
        "meeting_date": target.meeting.date.isoformat(),
        "paper_deadline": target.meeting.paper_deadline.isoformat(),
        "reason": target.reason,
        "late_reason": target.late_reason,
    }


def notify_target_change(
    application: Application, target: PabTarget, previous: PabTarget | None, *, actor: Any
) -> None:
    """Tell the participant and the PAB secretary the target meeting, or where it moved from and to."""
    meeting = target.meeting
    ref = f"{application.reference} ({application.mpid.code} as {application.market_role.name})"
    if previous is None:
        subject = f"Target BSC PAB meeting for {application.reference}: {short_date(meeting.date)}"
        body = f"{ref} is targeted at the BSC PAB meeting on {long_date(meeting.date)} at {meeting.starts_at:%H:%M}."
    else:
        subject = f"Target BSC PAB meeting moved for {application.reference}: now {short_date(meeting.date)}"
        body = (
            f"The target BSC PAB meeting of {ref} has moved from {long_date(previous.meeting.date)} to "
            f"{long_date(meeting.date)} at {meeting.starts_at:%H:%M}.\n\nWhy: {target.reason}"
        )
    body += f"\n\nThe paper deadline for that meeting is {long_date(meeting.paper_deadline)}."
    if target.late_reason:
        body += f" It has passed; the paper will be late: {target.late_reason}"
    notify(
        recipients=[*organisation_users(application.organisation_id), *users_with_roles({Role.PAB_SECRETARY})],
        subject=subject,
        body=body,
        link=_target_link(application),
        application=application,
        exclude=actor,
    )


# --- deadline reminders ------------------------------------------------------------------------------


@dataclass
class ReminderReport:
    day: date
    deadlines: int = 0
    sent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def reminder_kind(deadline: Deadline) -> ReminderKind | None:
    """Which reminder a deadline calls for today, if any."""
    if deadline.done:
        return None
    if deadline.overdue:
        return ReminderKind.OVERDUE
    if deadline.due_on == deadline.today:
        return ReminderKind.DUE_TODAY
    if deadline.due_soon:
        return ReminderKind.DUE_SOON
    return None


def deadline_reminders_send(*, today: date | None = None) -> ReminderReport:
    """Remind the applying organisation's members, and the Elexon analysts, of deadlines due within the
    rule's reminder period ("due soon"), due today, or overdue.

    Each person gets each kind of reminder about a deadline once (`DeadlineReminder` is unique per
    application, rule, due date, kind and person), so running the job again, or two runs at once,
    sends nothing twice; an overdue deadline is reminded of once. Each application is handled in its
    own transaction, so one failure does not hold back the others' reminders."""
    today = today or uk_today()
    report = ReminderReport(day=today)
    candidates = (
        Application.objects.exclude(status__in=[s.value for s in CLOSED_STATUSES])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    working = working_calendar()
    for application_id in list(candidates):
        for kind, count in _remind(application_id, today, working):
            report.deadlines += 1
            report.sent += count
            report.by_kind[kind] = report.by_kind.get(kind, 0) + count
    return report


@transaction.atomic
def _remind(application_id: int, today: date, working: WorkingCalendar) -> list[tuple[str, int]]:
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("organisation", "mpid", "market_role")
        .filter(pk=application_id)
        .first()
    )
    if application is None or application.is_closed:
        return []
    sent = []
    deadlines = deadlines_for([application], working=working, today=today)[application.pk]
    members = list(organisation_users(application.organisation_id))
    analysts = list(users_with_roles({Role.ELEXON_ANALYST}))
    for deadline in deadlines:
        kind = reminder_kind(deadline)
        if kind is None:
            continue
        reminded = []
        for user in {u.pk: u for u in [*members, *analysts]}.values():
            try:
                with transaction.atomic():
                    DeadlineReminder.objects.create(
                        application=application, rule=deadline.rule, due_on=deadline.due_on, kind=kind, recipient=user
                    )
            except IntegrityError:  # sent already, by an earlier run or one running at the same moment
                continue
            notify(
                recipients=[user],
                subject=_reminder_subject(deadline, kind),
                body=_reminder_body(deadline, kind),
                link=_application_link(application)
                if deadline.rule.anchor == DeadlineAnchor.QT_START
                else _target_link(application),
                application=application,
            )
            reminded.append(user.email)
        if not reminded:
            continue
        audit_record(
            actor=None,
            action="deadline.remind",
            target=deadline.rule,
            summary=f"Reminded {len(reminded)} people that “{deadline.title}” on {application.reference} is "
            f"{ReminderKind(kind).label.lower()} ({short_date(deadline.due_on)})",
            after={
                "kind": kind.value,
                "rule": deadline.rule.code,
                "due_on": deadline.due_on.isoformat(),
                "to": reminded,
            },
            organisation_id=application.organisation_id,
            application_id=application.pk,
        )
        sent.append((kind.value, len(reminded)))
    return sent


def _reminder_subject(deadline: Deadline, kind: ReminderKind) -> str:
    ref = deadline.application.reference
    if kind == ReminderKind.OVERDUE:
        return f"Deadline missed: {deadline.title} on {ref}"
    if kind == ReminderKind.DUE_TODAY:
        return f"Due today: {deadline.title} on {ref}"
    return f"Due {short_date(deadline.due_on)}: {deadline.title} on {ref}"


def _reminder_body(deadline: Deadline, kind: ReminderKind) -> str:
    application = deadline.application
    when = {
        ReminderKind.OVERDUE: f"was due on {long_date(deadline.due_on)} and is not done yet",
        ReminderKind.DUE_TODAY: "is due today",
        ReminderKind.DUE_SOON: f"is due on {long_date(deadline.due_on)}, in {deadline.working_days_left} working "
        f"day{'s' if deadline.working_days_left != 1 else ''}",
    }[kind]
    return (
        f"“{deadline.title}” on {application.reference} ({application.organisation.name}, {application.mpid.code} "
        f"as {application.market_role.name}) {when}.\n\nThe deadline is {deadline.explanation}."
    )


# --- calendar feeds ----------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_reset(*, actor: Any) -> str:
    """Create the user's private calendar feed, or give it a new address (the old one stops working at
    once). Returns the new secret token for the address."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in to have a calendar feed.")
    nonce = new_nonce()
    token = feed_token(actor.pk, nonce)
    feed = CalendarFeed.objects.select_for_update().filter(user=actor).first()
    created = feed is None
    if feed is None:
        feed = CalendarFeed.objects.create(user=actor, nonce=nonce, token_hash=token_hash(token))
    else:
        feed.nonce, feed.token_hash, feed.reset_at, feed.last_used_at = nonce, token_hash(token), timezone.now(), None
        feed.save(update_fields=["nonce", "token_hash", "reset_at", "last_used_at"])
    audit_record(
        actor=actor,
        action="calendar_feed.create" if created else "calendar_feed.reset",
        target=feed,
        summary=f"{'Created' if created else 'Reset'} the private calendar feed address of {actor.email}",
        # The address is a secret: only that it changed is recorded.
        after={"token_prefix": token[:4]},
    )
    return token


def calendar_feed_open(*, token: str) -> Any | None:
    """The user whose private feed this token opens, or None (an unknown, reset or malformed token, or
    an inactive user). Notes when the feed was last read, at most once an hour."""
    feed = calendar_feed_by_token(token)
    if feed is None:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > FEED_USE_RESOLUTION:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


# --- internals ---------------------------------------------------------------------------------------


def _clean_text(value: str, *, field: str, label: str, required: str = "") -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(required, details={"field": field})
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"The {label} must be {MAX_TEXT_LENGTH} characters or fewer.", details={"field": field})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            f"The {label} contains control characters; remove them and try again.", details={"field": field}
        )
    return text


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))


def _meeting_link(meeting: PabMeeting) -> str:
    return f"/pab/meetings/{meeting.pk}/"


def _target_link(application: Application) -> str:
    return f"/applications/{application.pk}/pab-target/"


def _application_link(application: Application) -> str:
    return f"/applications/{application.pk}/"
