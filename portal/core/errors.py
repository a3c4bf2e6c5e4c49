"""The one application error hierarchy.

Services raise these; the web UI shows `message` in a GOV.UK error summary and the API renders
`{code, message, details}` with the status below. A refusal is always raised before anything is
written, or inside the transaction that it rolls back, so a refused action changes nothing.
"""

from collections.abc import Mapping
from typing import Any, ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(ApplicationError):
    code = "invalid_input"
    status = 422


class NotFound(ApplicationError):
    """Also raised for objects that exist but belong to another organisation (tenancy answers 404)."""

    code = "not_found"
    status = 404


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status = 409


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
