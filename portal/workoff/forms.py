"""Parsing of the work-off pages' forms. They check shape only (something chosen, a real date, text not
too long); every rule of the work-off plan is checked by the services, whose refusals the pages show
in the same error summary."""

from datetime import date
from typing import Any

from django import forms

from portal.workoff.models import WorkOffStatus
from portal.workoff.services import MAX_ACTION_LENGTH, MAX_COMMENT_LENGTH, MAX_NOTE_LENGTH, MAX_OWNER_LENGTH


def _text(label: str, limit: int, *, required: str = "", textarea: bool = True) -> forms.CharField:
    messages = {"max_length": f"The {label} must be {limit} characters or fewer"}
    if required:
        messages["required"] = required
    return forms.CharField(
        required=bool(required),
        max_length=limit,
        strip=True,
        widget=forms.Textarea if textarea else forms.TextInput,
        error_messages=messages,
    )


class DueDateMixin(forms.Form):
    """The GOV.UK date input: three boxes, day, month and year, read as one date."""

    due_on_day = forms.CharField(required=False, max_length=2)
    due_on_month = forms.CharField(required=False, max_length=2)
    due_on_year = forms.CharField(required=False, max_length=4)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parts = [str(data.get(f"due_on_{p}") or "").strip() for p in ("day", "month", "year")]
        if not any(parts):
            self.add_error("due_on_day", forms.ValidationError("Enter the due date", code="due_on"))
            return data
        if not all(parts):
            missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
            self.add_error(
                "due_on_day", forms.ValidationError(f"The due date must include a {missing[0]}", code="due_on")
            )
            return data
        if len(parts[2]) != 4 or not parts[2].isdigit():
            self.add_error(
                "due_on_day", forms.ValidationError("The year must be 4 numbers, for example 2026", code="due_on")
            )
            return data
        try:
            day, month, year = (int(p) for p in parts)
            data["due_on"] = date(year, month, day)
        except ValueError:
            self.add_error("due_on_day", forms.ValidationError("The due date must be a real date", code="due_on"))
        return data

    @property
    def due_on(self) -> date | None:
        return getattr(self, "cleaned_data", {}).get("due_on")


class ItemEditForm(DueDateMixin):
    action = _text("action", MAX_ACTION_LENGTH, required="Enter the action that will close the item")
    owner = _text("owner", MAX_OWNER_LENGTH, required="Enter the owner", textarea=False)


class ItemProposeForm(ItemEditForm):
    covers = forms.ChoiceField(
        error_messages={
            "required": "Select the test case or defect the item covers",
            "invalid_choice": "Select a test case or defect from the list",
        }
    )

    field_order = ["covers", "action", "owner"]

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        covers = self.fields["covers"]
        assert isinstance(covers, forms.ChoiceField)
        covers.choices = choices

    @property
    def case_id(self) -> int | None:
        kind, _, pk = self.cleaned_data["covers"].partition(":")
        return int(pk) if kind == "case" else None

    @property
    def defect_id(self) -> int | None:
        kind, _, pk = self.cleaned_data["covers"].partition(":")
        return int(pk) if kind == "defect" else None


class CommentForm(forms.Form):
    comment = _text("comment", MAX_COMMENT_LENGTH)


class CloseForm(forms.Form):
    note = _text("closure note", MAX_NOTE_LENGTH, required="Enter the closure note: what was done to close the item")


SORT_CHOICES = [("due_on", "Due date, soonest first"), ("-due_on", "Due date, latest first")]
OVERDUE_CHOICES = [("", "Overdue or not"), ("yes", "Overdue only"), ("no", "Not overdue")]


class ItemFilterForm(forms.Form):
    """The filters of the work-off items list. Values that are not offered are ignored, not refused."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *WorkOffStatus.choices])
    overdue = forms.ChoiceField(required=False, choices=OVERDUE_CHOICES)
    organisation = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ChoiceField)
        organisation.choices = [("", "Any organisation"), *((str(pk), name) for pk, name in organisations)]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("status", "overdue", "organisation", "sort") if data.get(name)}
