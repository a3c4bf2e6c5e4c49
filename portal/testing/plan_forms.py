"""Parsing of the QT plan pages' forms. They check shape only (a real date, a choice that was offered,
not too long); every rule of the plan is checked by the services, whose refusals the pages show in the
same error summary, each linked to its field."""

from datetime import date
from typing import Any

from django import forms

from portal.prequalification.forms import DateInputField, DateInputView
from portal.qualification.services import MAX_COMMENT_LENGTH
from portal.testing.plan_services import (
    MAX_NOTE_LENGTH,
    MAX_PLAN_TEXT,
    MAX_PLANNED_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    PlanFields,
)


def _text(label: str, limit: int, *, hint: str = "", required: bool = False, message: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        help_text=hint,
        widget=forms.Textarea,
        error_messages={
            "max_length": f"{label} must be {limit:,} characters or fewer",
            "required": message or f"Enter {label.lower()}",
        },
    )


def date_input_view(form: forms.Form, name: str, error: str = "") -> DateInputView:
    """What the GOV.UK date-input template needs for one of the form's date fields."""
    field = form.fields[name]
    value = form[name].value()
    if isinstance(value, date):
        parts = [str(value.day), str(value.month), str(value.year)]
    elif isinstance(value, list | tuple):
        parts = [str(v or "") for v in value] + ["", "", ""]
    else:
        parts = ["", "", ""]
    return DateInputView(
        name=name,
        label=str(field.label),
        hint=str(field.help_text),
        day=parts[0],
        month=parts[1],
        year=parts[2],
        error=error,
    )


class PlanForm(forms.Form):
    approach = _text(
        "QT approach",
        MAX_PLAN_TEXT,
        hint="How you will run Qualification Testing: the scenarios and cases you will run and in what order, "
        "environments, who tests, how defects are triaged.",
    )
    reliance_approach = _text(
        "Placing-reliance approach",
        MAX_PLAN_TEXT,
        hint="How you use the placing reliance the Code Bodies accepted: which cases you will not run again and "
        "where the artefacts of the testing relied on are. Needed only when reliance was accepted.",
    )
    test_data = _text(
        "Test data",
        MAX_PLAN_TEXT,
        hint="The test data you will use (test MPANs, market domain data, your own data) and how it will be loaded.",
    )
    starts_on = DateInputField(
        label="When will QT start?", name_in_message="The QT start date", hint="For example, 7 9 2026"
    )
    ends_on = DateInputField(
        label="When will QT end?", name_in_message="The QT end date", hint="For example, 27 11 2026"
    )

    DATE_FIELDS = ("starts_on", "ends_on")

    def to_fields(self) -> PlanFields:
        data = self.cleaned_data
        return PlanFields(
            approach=data.get("approach", ""),
            reliance_approach=data.get("reliance_approach", ""),
            test_data=data.get("test_data", ""),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
        )


class OptOutForm(forms.Form):
    flow = forms.ChoiceField(
        label="DIP flow",
        error_messages={
            "required": "Choose the DIP flow to opt out of",
            "invalid_choice": "Choose a DIP flow from the list",
        },
    )
    reason = _text("Reason", MAX_REASON_LENGTH, required=True, message="Enter why you will not use this DIP flow")

    def __init__(self, *args: Any, flows: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["flow"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = flows


PLAN_DECISION_CHOICES = [("agree", "Agree the plan"), ("request_changes", "Request changes")]
READINESS_DECISION_CHOICES = [("confirm", "Confirm readiness"), ("request_changes", "Request changes")]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        error_messages={"required": "Select your decision", "invalid_choice": "Select your decision"}
    )
    comment = _text("Comment", MAX_COMMENT_LENGTH)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


EXECUTION_PLAN_ACTIONS = [("plan", "Plan"), ("clear", "Take off the plan")]


class ExecutionPlanForm(forms.Form):
    cases = forms.MultipleChoiceField(
        error_messages={
            "required": "Select at least one test case",
            "invalid_choice": "Select test cases from the list",
        }
    )
    planned_on = DateInputField(
        label="Planned date",
        name_in_message="The planned date",
        hint="For example, 14 9 2026. Every selected case is planned on this date.",
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=MAX_PLANNED_NOTE_LENGTH,
        error_messages={"max_length": f"The note must be {MAX_PLANNED_NOTE_LENGTH} characters or fewer"},
    )
    action = forms.ChoiceField(choices=EXECUTION_PLAN_ACTIONS, initial="plan", required=False)

    def __init__(self, *args: Any, cases: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cases"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c, c) for c in cases]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action", "plan") != "clear" and not data.get("planned_on") and "planned_on" not in self.errors:
            self.add_error("planned_on", "Enter the planned date")
        return data

    @property
    def clears(self) -> bool:
        return self.cleaned_data.get("action") == "clear"


READY_CHOICES = [("yes", "Ready"), ("no", "Not ready")]


class ReadinessItemForm(forms.Form):
    ready = forms.ChoiceField(
        choices=READY_CHOICES,
        error_messages={"required": "Select whether this is ready", "invalid_choice": "Select ready or not ready"},
    )
    note = _text("Note", MAX_NOTE_LENGTH)

    @property
    def is_ready(self) -> bool:
        return self.cleaned_data["ready"] == "yes"


class ReadinessSubmitForm(forms.Form):
    note = _text("Note", MAX_NOTE_LENGTH)
