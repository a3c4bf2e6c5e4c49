"""Template helpers of the work-off pages, and the conditions panel of the application page."""

from typing import Any

from django import template

from portal.qualification.models import Application
from portal.workoff.models import WorkOffStatus
from portal.workoff.selectors import ItemRow, workoff_conditions
from portal.workoff.workflow import WorkOffParty

register = template.Library()

STATUS_COLOURS = {
    WorkOffStatus.PROPOSED: "blue",
    WorkOffStatus.REVIEWED: "light-blue",
    WorkOffStatus.CHANGES_REQUESTED: "orange",
    WorkOffStatus.AGREED: "turquoise",
    WorkOffStatus.CLOSED: "green",
    WorkOffStatus.WITHDRAWN: "grey",
}

WAITING_PHRASES = {
    WorkOffParty.PARTICIPANT: "the participant",
    WorkOffParty.TESTING_ASSURANCE: "Testing Assurance",
    WorkOffParty.CODE_BODY: "the Code Bodies",
}


@register.filter
def workoff_tag(status: str) -> dict[str, str]:
    """`{% include "components/tag.html" with tag=item.status|workoff_tag %}`"""
    return {"text": str(WorkOffStatus(status).label), "colour": STATUS_COLOURS.get(WorkOffStatus(status), "")}


@register.filter
def workoff_waiting(row: ItemRow) -> str:
    """Who the item waits on, in words ("" when nobody need act)."""
    parties = sorted(WAITING_PHRASES[p] for p in row.waiting_for)
    return " or ".join(parties)


@register.simple_tag
def workoff_conditions_for(application: Application) -> list[Any]:
    """The application's agreed (and closed) work-off items: for the application page, whose view has
    already decided that the user may see the application."""
    return workoff_conditions(application)
