"""What a page shows when input is refused: one GOV.UK error summary, each message linked to its field.

Form validation and the services' `ApplicationError`s end up in the same shape, so every page renders
its errors with the same include (`components/error_summary.html`) and the same per-field messages.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms

from portal.core.errors import ApplicationError

# The status a page answers with when a form is re-shown because its input was incomplete.
FORM_INVALID_STATUS = 400


@dataclass(frozen=True)
class ErrorItem:
    text: str
    # The id of the field the message is about (the summary links to it); empty for a page-level error.
    target: str = ""


@dataclass
class PageErrors:
    items: list[ErrorItem] = field(default_factory=list)
    # Field name -> message, for the message shown beside the field itself.
    by_field: dict[str, str] = field(default_factory=dict)
    status: int = FORM_INVALID_STATUS

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, text: str, *, field_name: str = "", target: str = "") -> None:
        self.items.append(ErrorItem(text, target))
        if field_name and field_name not in self.by_field:
            self.by_field[field_name] = text

    @classmethod
    def from_form(cls, form: forms.BaseForm, targets: Mapping[str, str] | None = None) -> "PageErrors":
        """The errors of a bound Django form, in field order, non-field errors first."""
        targets = targets or {}
        errors = cls()
        for message in form.non_field_errors():
            errors.add(str(message), target=targets.get("__all__", ""))
        for name in form.fields:
            for message in form.errors.get(name, []):
                errors.add(str(message), field_name=name, target=targets.get(name, f"id_{name}"))
        return errors

    @classmethod
    def from_error(cls, error: ApplicationError, targets: Mapping[str, str] | None = None) -> "PageErrors":
        """A service's refusal. `details["field"]`, when the service names one, links the message to it."""
        targets = targets or {}
        errors = cls(status=error.status)
        name = str(error.details.get("field") or "")
        if name and name in targets:
            errors.add(error.message, field_name=name, target=targets[name])
        else:
            errors.add(error.message)
        return errors
