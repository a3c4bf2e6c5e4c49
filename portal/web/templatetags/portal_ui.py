"""Small template helpers for the portal's pages."""

from typing import Any

from django import forms, template
from django.core.paginator import Page
from django.forms.boundfield import BoundField
from django.http import QueryDict
from django.utils.safestring import SafeString

from portal.accounts.roles import Role
from portal.qualification.models import Task
from portal.web.presenters import Tag, application_status_tag, task_status_tag, waiting_for

register = template.Library()


@register.filter
def status_tag(status: str) -> Tag:
    """`{% include "components/tag.html" with tag=application.status|status_tag %}`"""
    return application_status_tag(status)


@register.filter
def task_tag(task: Task) -> Tag:
    return task_status_tag(task)


@register.simple_tag
def waiting_text(user: Any, task: Task) -> str:
    return waiting_for(user, task)


@register.filter
def role_label(name: str) -> str:
    try:
        return str(Role(name).label)
    except ValueError:
        return name


@register.simple_tag
def page_url(query: str, number: int, param: str = "page", anchor: str = "") -> str:
    """The current list's query string with another page number (in `param`, for a page holding more
    than one paged list), ending at `anchor` when given."""
    params = QueryDict(query, mutable=True)
    params[param] = str(number)
    return f"?{params.urlencode()}" + (f"#{anchor}" if anchor else "")


@register.filter
def page_numbers(page: Page) -> list[int | None]:
    """The page numbers to link to: the first and last, and two either side of the current one; None
    where others are left out. Worked out here rather than by looping over every page in the template,
    which took milliseconds on a list of thousands of pages."""
    elided = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return [number if isinstance(number, int) else None for number in elided]


@register.filter
def filesize(size: int) -> str:
    """Bytes in the units people use: 900 bytes, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def widget_kind(field: BoundField) -> str:
    """How a form field is laid out in GOV.UK markup: "checkbox" or "input"."""
    return "checkbox" if isinstance(field.field.widget, forms.CheckboxInput) else "input"


@register.filter
def govuk_widget(field: BoundField) -> SafeString:
    """A Django form field's widget with GOV.UK Frontend's classes and its hint and error linked."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "govuk-checkboxes__input"
    elif isinstance(widget, forms.Textarea):
        css = "govuk-textarea"
    elif isinstance(widget, forms.Select):
        css = "govuk-select"
    elif isinstance(widget, forms.FileInput):
        css = "govuk-file-upload"
    else:
        css = "govuk-input"
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
        if css != "govuk-checkboxes__input":
            css += f" {css}--error"
    attrs: dict[str, str | bool] = {"class": css}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)
