"""Parsing of the approvals pages' forms. They check shape only (a real date, a time, text not too
long); the rules (a working day, not in the past, the paper deadline, who may act) are the services',
whose refusals the pages show in the same error summary."""

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from django import forms

from portal.approvals.services import MAX_LOCATION_LENGTH, MAX_TEXT_LENGTH, MeetingFields
from portal.qualification.workflow import Decision

TIME_PATTERN = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


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


def read_date(form: forms.Form, data: Mapping[str, Any], prefix: str, label: str, *, required: bool) -> date | None:
    """The GOV.UK date input: three boxes, `<prefix>_day`, `_month` and `_year`, read as one date; an
    error is put on the day box."""
    parts = [str(data.get(f"{prefix}_{p}") or "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        if required:
            form.add_error(f"{prefix}_day", f"Enter the {label}")
        return None
    if not all(parts):
        missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
        form.add_error(f"{prefix}_day", f"The {label} must include a {missing[0]}")
        return None
    if len(parts[2]) != 4 or not parts[2].isdigit():
        form.add_error(f"{prefix}_day", "The year must be 4 numbers, for example 2026")
        return None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day)
    except ValueError:
        form.add_error(f"{prefix}_day", f"The {label} must be a real date")
        return None


class MeetingForm(forms.Form):
    date_day = forms.CharField(required=False, max_length=2)
    date_month = forms.CharField(required=False, max_length=2)
    date_year = forms.CharField(required=False, max_length=4)
    starts_at = forms.CharField(
        max_length=5, error_messages={"required": "Enter the time the meeting starts, for example 10:00"}
    )
    duration_minutes = forms.IntegerField(
        min_value=15,
        max_value=720,
        error_messages={
            "required": "Enter how long the meeting lasts, in minutes",
            "invalid": "Enter how long the meeting lasts as a number of minutes",
            "min_value": "The meeting must last at least 15 minutes",
            "max_value": "The meeting must last 12 hours or less",
        },
    )
    location = _text(
        "place", MAX_LOCATION_LENGTH, required="Enter where the meeting is held, or “Online”", textarea=False
    )
    paper_deadline_day = forms.CharField(required=False, max_length=2)
    paper_deadline_month = forms.CharField(required=False, max_length=2)
    paper_deadline_year = forms.CharField(required=False, max_length=4)
    notes = _text("notes", MAX_TEXT_LENGTH)

    def clean_starts_at(self) -> time:
        match = TIME_PATTERN.match(self.cleaned_data["starts_at"])
        try:
            if match is None:
                raise ValueError
            return time(int(match.group(1)), int(match.group(2)))
        except ValueError:
            raise forms.ValidationError("Enter the time as hours and minutes, for example 10:00") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["date"] = read_date(self, self.data, "date", "meeting date", required=True)
        data["paper_deadline"] = read_date(self, self.data, "paper_deadline", "paper deadline", required=False)
        return data

    def fields_for_service(self) -> MeetingFields:
        data = self.cleaned_data
        return MeetingFields(
            date=data["date"],
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            location=data["location"],
            paper_deadline=data["paper_deadline"],
            notes=data["notes"],
        )


class CancelForm(forms.Form):
    reason = _text("reason", MAX_TEXT_LENGTH, required="Enter why the meeting is cancelled")


class TargetForm(forms.Form):
    meeting = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose the meeting",
            "invalid_choice": "Choose a meeting from the list",
        },
    )
    reason = _text("reason", MAX_TEXT_LENGTH)
    late_reason = _text("reason for the late paper", MAX_TEXT_LENGTH)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices


class DecisionForm(forms.Form):
    """An approval body's decision. The choices of conditions are the application's agreed work-off
    items; whether they fit the outcome is the service's rule."""

    outcome = forms.ChoiceField(
        choices=Decision.choices,
        error_messages={"required": "Choose the outcome", "invalid_choice": "Choose one of the outcomes"},
    )
    rationale = _text("rationale", MAX_TEXT_LENGTH, required="Enter the reasons for the decision")
    conditions = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "Choose the conditions from the agreed work-off items"},
    )

    def __init__(self, *args: Any, condition_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conditions"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = condition_choices
