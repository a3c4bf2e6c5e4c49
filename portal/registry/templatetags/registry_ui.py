"""Template helpers of the register pages."""

from django import template

from portal.registry.models import EntryStatus

register = template.Library()

_COLOURS = {
    EntryStatus.REC_APPROVED: "blue",
    EntryStatus.QUALIFIED: "green",
    EntryStatus.ACTIVE: "turquoise",
    EntryStatus.WITHDRAWN: "grey",
}


@register.filter
def entry_tag(status: str) -> dict[str, str]:
    """`{% include "components/tag.html" with tag=entry.status|entry_tag %}`"""
    try:
        value = EntryStatus(status)
    except ValueError:
        return {"text": status, "colour": "grey"}
    return {"text": str(value.label), "colour": _COLOURS[value]}
