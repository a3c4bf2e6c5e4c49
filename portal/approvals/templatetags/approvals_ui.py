"""Template helpers of the approvals pages, the application page's PAB panel and the work queue's
deadline column."""

from typing import Any

from django import template

from portal.approvals.deadlines import Deadline, short_date
from portal.approvals.decision_selectors import decisions_of
from portal.approvals.models import ApprovalDecision, MeetingStatus, PabMeeting
from portal.approvals.selectors import PabPanel, pab_panel_for, work_queue_deadlines
from portal.qualification.models import Application, Task

register = template.Library()

MEETING_COLOURS = {MeetingStatus.SCHEDULED: "blue", MeetingStatus.HELD: "green", MeetingStatus.CANCELLED: "grey"}
DEADLINE_TAGS = {
    "done": ("Done", "green"),
    "done_late": ("Done late", "green"),
    "overdue": ("Overdue", "red"),
    "due_today": ("Due today", "orange"),
    "due_soon": ("Due soon", "yellow"),
    "upcoming": ("Upcoming", "grey"),
}


@register.simple_tag
def pab_panel(user: Any, application: Application) -> PabPanel:
    """The application's PAB target and deadlines: for the application page, whose view has already
    decided that the user may see the application."""
    return pab_panel_for(user, application)


@register.simple_tag
def approval_decisions(application: Application) -> list[ApprovalDecision]:
    """Every decision on the application, oldest first: for the application page, whose view has already
    decided that the user may see the application."""
    return decisions_of(application)


@register.simple_tag
def queue_deadlines(tasks: Any) -> dict[int, Deadline]:
    """The open deadline of each task on a work-queue page (one batch of queries for the page)."""
    return work_queue_deadlines(list(tasks))


@register.filter
def deadline_of(deadlines: dict[int, Deadline], task: Task) -> Deadline | None:
    return deadlines.get(task.pk) if deadlines else None


@register.filter
def deadline_tag(deadline: Deadline) -> dict[str, str]:
    """`{% include "components/tag.html" with tag=deadline|deadline_tag %}`"""
    text, colour = DEADLINE_TAGS[deadline.status]
    return {"text": text, "colour": colour}


@register.filter
def meeting_tag(meeting: PabMeeting) -> dict[str, str]:
    return {"text": str(MeetingStatus(meeting.status).label), "colour": MEETING_COLOURS[MeetingStatus(meeting.status)]}


@register.filter
def day_month_year(day: Any) -> str:
    return short_date(day) if day else ""
