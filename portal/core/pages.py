"""What every HTML page of the portal shares, whichever app serves it.

- `portal_page`: sign-in required; a `NotFound` answers 404 (the same for another organisation's
  object as for a missing one) and a `PermissionDenied` answers 403.
- `PageErrors`: what a page shows when input is refused — one GOV.UK error summary, each message
  linked to its field. Form validation and the services' `ApplicationError`s end up in the same shape,
  so every page renders its errors with the same include (`components/error_summary.html`).
- `safe_download_name`: a stored file's original name reduced to a harmless download name.
"""

import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, TypeVar, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from portal.core.errors import ApplicationError, NotFound, PermissionDenied

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

# The status a page answers with when a form is re-shown because its input was incomplete.
FORM_INVALID_STATUS = 400


def portal_page(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc

    return cast(View, login_required(wrapper))


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
        """A service's refusal: every problem it lists in `details["errors"]` (each with its `field` and
        `message`), else its message, linked to `details["field"]` when the service names one."""
        targets = targets or {}
        errors = cls(status=error.status)
        listed = error.details.get("errors")
        if isinstance(listed, list) and listed and all(isinstance(p, Mapping) for p in listed):
            for problem in listed:
                name = str(problem.get("field", ""))
                errors.add(str(problem.get("message", error.message)), field_name=name, target=targets.get(name, ""))
            return errors
        name = str(error.details.get("field") or "")
        errors.add(error.message, field_name=name, target=targets.get(name, ""))
        return errors


def safe_download_name(name: str, *, default: str = "evidence") -> str:
    """The stored original name, reduced to a harmless file name for Content-Disposition."""
    base = PurePath(name.replace("\\", "/")).name
    cleaned = "".join(
        ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable() and ch not in '"<>|:*?;/\\'
    ).strip(" .")
    return cleaned[:150] or default
