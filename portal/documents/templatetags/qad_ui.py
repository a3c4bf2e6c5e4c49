"""Small template helpers for the QAD pages."""

from datetime import timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def filesize(size: int) -> str:
    """Bytes in the units people use: 900 bytes, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def duration(value: timedelta | None) -> str:
    """A length of time in days, hours and minutes: "2 days 3 hours", "45 minutes"."""
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes and not days:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) or "less than a minute"


@register.filter
def working_days(value: timedelta | None) -> str:
    """Working time expressed in working days, to one decimal place."""
    if value is None:
        return "–"
    days = value.total_seconds() / 86400
    return f"{days:.1f} working day{'s' if round(days, 1) != 1 else ''}"


@register.filter
def get_item(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key) if mapping else None


_TASK_COLOURS = {
    "cannot_start": "grey",
    "not_started": "blue",
    "in_progress": "light-blue",
    "submitted": "yellow",
    "changes_requested": "orange",
    "completed": "green",
    "not_required": "grey",
}
_SECTION_TAGS = {
    "completed": ("Completed", ""),
    "in_progress": ("In progress", "light-blue"),
    "not_started": ("Not started", "blue"),
}
_STATUS_COLOURS = {
    "draft": "light-blue",
    "submitted": "yellow",
    "superseded": "grey",
    "open": "orange",
    "answered": "yellow",
    "closed": "green",
    "valid": "green",
    "voided": "red",
}


@register.filter
def task_state_tag(task: Any) -> dict[str, str]:
    """A GOV.UK tag for a task's state: `{% include "components/tag.html" with tag=task|task_state_tag %}`."""
    return {"text": str(task.get_state_display()), "colour": _TASK_COLOURS.get(task.state, "")}


@register.filter
def section_tag(status: str) -> dict[str, str]:
    text, colour = _SECTION_TAGS.get(status, (status, ""))
    return {"text": text, "colour": colour}


@register.filter
def status_tag(obj: Any) -> dict[str, str]:
    """A tag for a QAD version, clarification or signature, from its `status` and its display."""
    return {"text": str(obj.get_status_display()), "colour": _STATUS_COLOURS.get(obj.status, "")}
