"""Reads of the PAB calendar, targets, deadlines and calendar feeds, already scoped to the user.

Meetings are not confidential (their dates and paper deadlines are public); the applications
targeted at a meeting are shown only to users who may see them (`application_scope_for`). A list of
meetings carries the number of applications targeted at each, never the applications themselves:
those are read one meeting at a time, a page at a time (`meeting_applications`)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.approvals.deadlines import (
    Deadline,
    MeetingOption,
    active_rules,
    deadlines_by_task,
    deadlines_for,
    meeting_options,
)
from portal.approvals.feeds import feed_token, looks_like_token, token_hash
from portal.approvals.models import (
    BSC_PAB_RULE,
    CalendarFeed,
    MeetingStatus,
    NonWorkingDay,
    PabMeeting,
    PabMeetingRule,
    PabTarget,
)
from portal.approvals.permissions import (
    PAB_TASK,
    can_manage_meetings,
    can_target,
    target_refusal,
)
from portal.approvals.schedule import months_from
from portal.core.calendar import WorkingCalendar, uk_today
from portal.core.errors import NotFound
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for
from portal.qualification.selectors import application_get
from portal.qualification.workflow import CLOSED_STATUSES

# How many upcoming meetings the target form and the back-scheduling table offer.
UPCOMING_MEETINGS = 12
# How far back the public calendar feed reaches.
FEED_HISTORY_DAYS = 366


def working_calendar() -> WorkingCalendar:
    """Working days in England and Wales, with the extra non-working days an administrator added."""
    return WorkingCalendar(frozenset(NonWorkingDay.objects.values_list("date", flat=True)))


def pab_rule() -> PabMeetingRule:
    """The BSC PAB meeting rule (the shipped default, unsaved, if an administrator removed it)."""
    return PabMeetingRule.objects.filter(code=BSC_PAB_RULE).first() or PabMeetingRule()


# --- meetings ----------------------------------------------------------------------------------------


def _targets_in_scope(user: Any, **where: Any) -> QuerySet[PabTarget]:
    """The current targets (`where` narrows them, to some meetings say) of the open applications the
    user may see. The scope is itself narrowed to the applications of those targets, so that the
    database matches the targets against their own applications rather than against every
    application the user may see."""
    targets = PabTarget.objects.filter(is_current=True, **where)
    scope = (
        application_scope_for(user)
        .exclude(status__in=_closed())
        .filter(pk__in=targets.order_by().values("application_id"))
        .order_by()
    )
    return targets.filter(application__in=scope)


def _visible_targets(user: Any) -> Prefetch:
    """A meeting's current targets, of open applications the user may see, as `meeting.visible_targets`."""
    targets = (
        _targets_in_scope(user)
        .select_related("application__organisation", "application__mpid", "application__market_role", "set_by")
        .order_by("application_id")
    )
    return Prefetch("targets", queryset=targets, to_attr="visible_targets")


def _closed() -> list[str]:
    return [s.value for s in CLOSED_STATUSES]


def pab_meetings(
    *,
    user: Any,
    date_from: date | None = None,
    date_to: date | None = None,
    status: str | None = None,
) -> QuerySet[PabMeeting]:
    """Meetings in date order (without their applications: `meeting_application_counts` counts them,
    `meeting_applications` lists them)."""
    qs = PabMeeting.objects.all()
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("date", "starts_at", "id")


def pab_meeting_get(*, user: Any, meeting_id: int, with_applications: bool = False) -> PabMeeting:
    """One meeting; `with_applications`: with every open application targeted at it that the user may
    see, as `visible_targets` (for the secretary's forms, which name them)."""
    meetings = pab_meetings(user=user)
    if with_applications:
        meetings = meetings.prefetch_related(_visible_targets(user))
    meeting = meetings.filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("No BSC PAB meeting was found with that reference.")
    return meeting


@dataclass(frozen=True)
class AgendaCount:
    """How many open applications the user may see are targeted at a meeting, and how many of them
    were targeted after its paper deadline (a late paper)."""

    applications: int = 0
    late: int = 0


def meeting_application_counts(*, user: Any, meeting_ids: list[int]) -> dict[int, AgendaCount]:
    """The `AgendaCount` of each of these meetings (one query, whatever the number of meetings and
    applications; a meeting with none is left out)."""
    if not meeting_ids:
        return {}
    rows = (
        _targets_in_scope(user, meeting_id__in=meeting_ids)
        .order_by()
        .values("meeting_id")
        .annotate(applications=Count("id"), late=Count("id", filter=~Q(late_reason="")))
        .values_list("meeting_id", "applications", "late")
    )
    return {meeting_id: AgendaCount(applications, late) for meeting_id, applications, late in rows}


def meeting_applications(*, user: Any, meeting_id: int) -> QuerySet[PabTarget]:
    """The current targets of the open applications the user may see at the meeting, by application,
    each with its application: a query to read a page at a time. NotFound for a missing meeting."""
    if not PabMeeting.objects.filter(pk=meeting_id).exists():
        raise NotFound("No BSC PAB meeting was found with that reference.")
    return (
        _targets_in_scope(user, meeting_id=meeting_id)
        .select_related("application__organisation", "application__mpid", "application__market_role")
        .order_by("application_id")
    )


@dataclass(frozen=True)
class CalendarEntry:
    meeting: PabMeeting
    agenda: AgendaCount


@dataclass(frozen=True)
class MonthOfMeetings:
    month: date
    meetings: list[CalendarEntry]


@dataclass(frozen=True)
class MeetingCalendar:
    # None: the months ahead, from this month on; else one calendar year.
    year: int | None
    months: list[MonthOfMeetings]
    years: list[int]
    rule: PabMeetingRule
    can_manage: bool
    today: date


def pab_meeting_calendar(*, user: Any, year: int | None = None) -> MeetingCalendar:
    """The meetings month by month: by default from this month for the rule's months ahead (at least
    a year); or one calendar year. Each with the number of applications targeted at it that the user
    may see (the meeting's page lists them): a fixed number of queries and rows, whatever the number
    of applications."""
    today = uk_today()
    rule = pab_rule()
    if year is None:
        start = today.replace(day=1)
        months = list(months_from(start, max(rule.months_ahead, 12) + 1))
        found = pab_meetings(user=user, date_from=start, date_to=months[-1] - timedelta(days=1))
    else:
        found = pab_meetings(user=user, date_from=date(year, 1, 1), date_to=date(year, 12, 31))
    meetings = list(found)
    counts = meeting_application_counts(user=user, meeting_ids=[m.pk for m in meetings])
    by_month: dict[date, list[CalendarEntry]] = defaultdict(list)
    for meeting in meetings:
        by_month[meeting.date.replace(day=1)].append(CalendarEntry(meeting, counts.get(meeting.pk, AgendaCount())))
    years = sorted({d.year for d in PabMeeting.objects.dates("date", "year")} | {today.year})
    return MeetingCalendar(
        year=year,
        months=[MonthOfMeetings(month, by_month[month]) for month in sorted(by_month)],
        years=years,
        rule=rule,
        can_manage=can_manage_meetings(user),
        today=today,
    )


def upcoming_meetings(*, today: date | None = None, limit: int = UPCOMING_MEETINGS) -> list[PabMeeting]:
    """Scheduled meetings from today on, soonest first: those an application can be targeted at."""
    today = today or uk_today()
    return list(PabMeeting.objects.filter(status=MeetingStatus.SCHEDULED, date__gte=today).order_by("date")[:limit])


def public_meetings(*, today: date | None = None) -> list[PabMeeting]:
    """Every meeting from a year ago on, for the public calendar feed (cancelled ones included, so that
    subscribed calendars remove them)."""
    today = today or uk_today()
    return list(PabMeeting.objects.filter(date__gte=date.fromordinal(today.toordinal() - FEED_HISTORY_DAYS)))


# --- an application's target and deadlines ----------------------------------------------------------


@dataclass(frozen=True)
class PabPanel:
    """The application's BSC PAB target, its history and its deadlines, as the application page, the
    target page and the API show them."""

    application: Application
    needs_pab: bool
    target: PabTarget | None
    history: list[PabTarget]
    deadlines: list[Deadline]
    options: list[MeetingOption] = field(default_factory=list)
    can_target: bool = False
    # Why the application cannot be given a target now (shown to those who could otherwise set it).
    refusal: str = ""

    @property
    def overdue(self) -> list[Deadline]:
        return [d for d in self.deadlines if d.overdue]

    @property
    def target_cancelled(self) -> bool:
        return self.target is not None and self.target.meeting.status == MeetingStatus.CANCELLED

    @property
    def show_options(self) -> bool:
        """Back-scheduling helps while there is no (live) target, or a step it counts on is not done."""
        if not self.options:
            return False
        if self.target is None or self.target_cancelled:
            return True
        return any(not step.done for option in self.options for step in option.steps)

    @property
    def earliest_makeable(self) -> MeetingOption | None:
        return next((o for o in self.options if o.makeable), None)


def pab_panel_for(user: Any, application: Application) -> PabPanel:
    """For an application the caller has already found in the user's scope."""
    tasks = {t.code: t for t in Task.objects.filter(application=application).select_related("definition")}
    for task in tasks.values():
        task.application = application
    working = working_calendar()
    history = list(
        PabTarget.objects.filter(application=application).select_related("meeting", "set_by").order_by("-set_at", "-id")
    )
    target = next((t for t in history if t.is_current), None)
    rules = active_rules()
    deadlines = deadlines_for([application], working=working, rules=rules)[application.pk]
    needs_pab = PAB_TASK in tasks
    options: list[MeetingOption] = []
    if needs_pab and not application.is_closed:
        options = meeting_options(application, upcoming_meetings(), working=working, rules=rules)
    refusal = target_refusal(user, application, tasks) if can_target(user) else None
    return PabPanel(
        application=application,
        needs_pab=needs_pab,
        target=target,
        history=history,
        deadlines=deadlines,
        options=options,
        can_target=can_target(user) and refusal is None,
        refusal=refusal.message if refusal is not None else "",
    )


def application_pab_panel(*, user: Any, application_id: int) -> PabPanel:
    """NotFound when the user may not see the application."""
    return pab_panel_for(user, application_get(user=user, application_id=application_id))


def application_deadlines(*, user: Any, application_id: int) -> list[Deadline]:
    application = application_get(user=user, application_id=application_id)
    return deadlines_for([application], working=working_calendar())[application.pk]


def work_queue_deadlines(tasks: list[Task]) -> dict[int, Deadline]:
    """The most pressing open deadline of each task of a work queue (already scoped by its selector)."""
    return deadlines_by_task(tasks, working=working_calendar()) if tasks else {}


def user_deadlines(*, user: Any) -> list[Deadline]:
    """The open deadlines of every open application the user may see, soonest first: the user's own
    calendar feed. A participant's are only their own organisations'."""
    applications = list(
        application_scope_for(user)
        .exclude(status__in=_closed())
        .select_related("organisation", "mpid", "market_role")
        .order_by("pk")
    )
    found = deadlines_for(applications, working=working_calendar())
    return sorted((d for rows in found.values() for d in rows if not d.done), key=lambda d: (d.due_on, d.uid_key))


def user_targets(*, user: Any) -> list[PabTarget]:
    """The current targets of the open applications the user may see (for their calendar feed)."""
    scope = application_scope_for(user).exclude(status__in=_closed())
    return list(
        PabTarget.objects.filter(is_current=True, application__in=scope)
        .select_related("meeting", "application__organisation", "application__mpid", "application__market_role")
        .order_by("meeting__date", "application_id")
    )


# --- calendar feeds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedInfo:
    feed: CalendarFeed | None

    @property
    def token(self) -> str:
        return feed_token(self.feed.user_id, self.feed.nonce) if self.feed else ""


def calendar_feed_info(*, user: Any) -> FeedInfo:
    return FeedInfo(CalendarFeed.objects.filter(user=user).first())


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The feed whose address holds this token, of an active user; None for anything else."""
    if not looks_like_token(token):
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=token_hash(token)).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed
