"""Parsing of the hand-off pages' forms. They check shape only (a choice made, a real date, text not too
long); every rule of the hand-off is checked by the services, whose refusals the pages show in the same
error summary."""

from datetime import date
from typing import Any

from django import forms

from portal.activation.models import InputBody
from portal.activation.selectors import HandoffFilter
from portal.activation.services import MAX_INPUT_LENGTH, MAX_NOTE_LENGTH


class CheckForm(forms.Form):
    done = forms.ChoiceField(
        choices=[("yes", "Done"), ("no", "Not done")],
        error_messages={"required": "Choose done or not done", "invalid_choice": "Choose done or not done"},
    )
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={"max_length": f"The note must be {MAX_NOTE_LENGTH} characters or fewer"},
    )

    @property
    def is_done(self) -> bool:
        return self.cleaned_data["done"] == "yes"


class GoLiveForm(forms.Form):
    """The GOV.UK date input: three boxes, day, month and year, read as one date."""

    planned_go_live_day = forms.CharField(required=False, max_length=2)
    planned_go_live_month = forms.CharField(required=False, max_length=2)
    planned_go_live_year = forms.CharField(required=False, max_length=4)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parts = [str(data.get(f"planned_go_live_{p}") or "").strip() for p in ("day", "month", "year")]
        field = "planned_go_live_day"
        if not any(parts):
            self.add_error(field, forms.ValidationError("Enter the planned go-live date", code="date"))
            return data
        if not all(parts):
            missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
            self.add_error(field, forms.ValidationError(f"The go-live date must include a {missing[0]}", code="date"))
            return data
        if len(parts[2]) != 4 or not all(p.isdigit() for p in parts):
            self.add_error(
                field, forms.ValidationError("Enter the go-live date in numbers, for example 27 3 2027", code="date")
            )
            return data
        try:
            day, month, year = (int(p) for p in parts)
            data["planned_go_live"] = date(year, month, day)
        except ValueError:
            self.add_error(field, forms.ValidationError("The go-live date must be a real date", code="date"))
        return data

    @property
    def planned_go_live(self) -> date | None:
        return getattr(self, "cleaned_data", {}).get("planned_go_live")


class InputForm(forms.Form):
    body = forms.ChoiceField(
        required=False,
        choices=[("", ""), *InputBody.choices],
        error_messages={"invalid_choice": "Choose who the input is from"},
    )
    text = forms.CharField(
        max_length=MAX_INPUT_LENGTH,
        error_messages={
            "required": "Enter the input for the Service Activation team",
            "max_length": f"The input must be {MAX_INPUT_LENGTH} characters or fewer",
        },
    )


class CompleteForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={"max_length": f"The comment must be {MAX_NOTE_LENGTH} characters or fewer"},
    )


class QueueFilterForm(forms.Form):
    """The filter of the queue. A value that is not offered is ignored, not refused."""

    status = forms.ChoiceField(required=False, choices=HandoffFilter.choices)

    def status_value(self) -> str:
        if self.is_bound and self.is_valid() and self.cleaned_data.get("status"):
            return str(self.cleaned_data["status"])
        return HandoffFilter.OPEN.value
