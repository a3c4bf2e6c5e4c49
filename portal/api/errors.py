"""Every API error is JSON `{code, message, details}`.

Domain refusals are `portal.core.errors.ApplicationError` and keep their own code and status. The
handlers here translate everything else the HTTP layer can raise (failed validation, missing
credentials, unknown routes, wrong methods, unexpected failures) into the same shape. An unexpected
failure is logged with its traceback and answered with a generic message: nothing internal leaks.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from portal.core.errors import ApplicationError

logger = logging.getLogger("portal.api")


class CsrfFailed(ApplicationError):
    code = "csrf_failed"
    status = 403


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


_CODE_FOR_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "throttled",
}

NOT_FOUND_MESSAGE = "Nothing was found at this address."
SERVER_ERROR_MESSAGE = "Something went wrong on our side. The error has been logged; try again later."
# Validation failures listed in `details.errors` at most; a body of a million bad items answers in bounds.
MAX_LISTED_ERRORS = 50
NOT_AUTHENTICATED_MESSAGE = "Authentication is required: send Authorization: Bearer <token>, or sign in to the portal."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def error_json(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JsonResponse:
    """For answers made outside an API operation (unknown routes, wrong methods)."""
    return JsonResponse(error_body(code, message, details), status=status)


def responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation may give, for the OpenAPI document. Any operation may answer 401
    (no valid credentials) and 422 (a parameter out of range)."""
    return {status: ErrorOut for status in sorted({401, 422, *statuses})}


def _location(loc: Iterable[Any]) -> str:
    parts = [str(part) for part in loc]
    # ("body", "payload", "action") reads best as "action"; keep the source for query and path fields.
    if len(parts) >= 3 and parts[0] in {"body", "form"}:
        parts = parts[2:]
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def on_application_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        assert isinstance(exc, ApplicationError)
        return respond(request, exc.status, exc.as_dict())

    def on_validation_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        assert isinstance(exc, ValidationError)
        errors = [
            {
                "loc": list(error.get("loc", ())),
                "field": _location(error.get("loc", ())),
                "message": str(error.get("msg", "Invalid value.")),
                "type": str(error.get("type", "invalid")),
            }
            for error in exc.errors[:MAX_LISTED_ERRORS]
        ]
        total = len(exc.errors)
        first = errors[0] if errors else None
        message = "The request is not valid."
        if first is not None:
            message = f"The request is not valid: {first['field'] or 'request'}: {first['message']}"
            if total > 1:
                message += f" (and {total - 1} more)"
        details: dict[str, Any] = {"errors": errors}
        if total > len(errors):
            details["error_count"] = total
        return respond(request, 422, error_body("invalid_input", message, details))

    def on_not_authenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = respond(request, 401, error_body("not_authenticated", NOT_AUTHENTICATED_MESSAGE))
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def on_http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        assert isinstance(exc, HttpError)
        status = exc.status_code
        code = _CODE_FOR_STATUS.get(status, "error" if status < 500 else "server_error")
        message = str(exc) if status < 500 else SERVER_ERROR_MESSAGE
        response = respond(request, status, error_body(code, message))
        if isinstance(exc, Throttled) and exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait))
        return response

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, error_body("not_found", NOT_FOUND_MESSAGE))

    def on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 403, error_body("permission_denied", "You may not do that."))

    def on_too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return respond(
            request,
            413,
            error_body(
                "too_large",
                f"The request body is larger than the {limit // (1024 * 1024)} MB allowed; send files as "
                "multipart/form-data uploads.",
                {"limit_bytes": limit},
            ),
        )

    def on_suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Too many fields or files, a malformed multipart body and the like: the client's fault, not ours.
        logger.warning("Refused request %s %s: %s", request.method, request.path, type(exc).__name__)
        return respond(request, 400, error_body("bad_request", "The request could not be read: " + str(exc)))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unexpected error in %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, error_body("server_error", SERVER_ERROR_MESSAGE))

    handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
        ApplicationError: on_application_error,
        ValidationError: on_validation_error,
        AuthenticationError: on_not_authenticated,
        HttpError: on_http_error,
        Http404: on_not_found,
        DjangoPermissionDenied: on_permission_denied,
        RequestDataTooBig: on_too_large,
        SuspiciousOperation: on_suspicious,
        MultiPartParserError: on_suspicious,
        Exception: on_unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
