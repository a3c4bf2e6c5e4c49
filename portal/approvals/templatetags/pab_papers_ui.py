"""Template helpers of the BSC PAB's agenda, papers and packs on the meeting page."""

from typing import Any

from django import template

from portal.approvals.models import PabMeeting
from portal.approvals.paper_selectors import Agenda, meeting_agenda

register = template.Library()


@register.simple_tag(takes_context=True)
def pab_agenda(context: Any, meeting: PabMeeting) -> Agenda:
    """The meeting's agenda as the signed-in user may see it (`paper_selectors.meeting_agenda`): for the
    meeting page, whose view has already found the meeting. A fixed number of queries."""
    return meeting_agenda(user=context["request"].user, meeting_id=meeting.pk)
