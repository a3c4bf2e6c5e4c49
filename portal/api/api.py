"""The HTTP API, version 1: `/api/v1/…`, described at `/api/openapi.json`, browsable at `/api/docs`.

A thin face over the same services and selectors as the web pages: each operation parses its input,
calls one service or selector and returns a schema. Errors are JSON `{code, message, details}`, also
for addresses and methods the API does not have.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.utils.datastructures import MultiValueDict
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.parser import Parser

from portal.api import errors, idempotency
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import (
    activation,
    applications,
    approvals,
    decisions,
    dip,
    imports,
    me,
    notifications,
    pab_papers,
    pit,
    prequalification,
    qad,
    qt_catalogue,
    qt_execution,
    qt_plan,
    reference,
    registry,
    reports,
    tasks,
    workoff,
)
from portal.core.errors import ApplicationError, InvalidInput
from portal.qualification.services import MAX_ATTACHMENTS

DESCRIPTION = """
The MHHS Qualification Portal's API for participants' and Code Bodies' systems.

**Authentication.** Send `Authorization: Bearer <token>`. Create a token on the portal's *Your account*
page or with `POST /api/v1/me/tokens` while signed in (staff and directors confirm with a current
authenticator code, `X-OTP`), or ask an administrator (`manage.py create_api_token`). A token acts as its user,
with exactly that user's roles and organisations. The portal's own pages may use the session cookie;
unsafe methods then need the CSRF token in `X-CSRFToken`.

**Errors** are `{"code", "message", "details"}`: `not_authenticated` 401, `permission_denied` 403,
`not_found` 404 (also for another organisation's objects), `invalid_transition` / `conflict` 409,
`invalid_input` 422 (validation failures list each problem in `details.errors`).

**Retries.** Every write (POST, PUT, PATCH, DELETE) accepts an `Idempotency-Key` header: an opaque
string of 1 to 255 printable ASCII characters that you choose, unique per distinct request (a UUID).
Send the same key when you retry the same request: the first answer is kept for 24 hours and repeated
(with `Idempotent-Replayed: true`), and nothing is done twice. The same key with a different request
answers 422 `idempotency_key_reused`; while the first request is still running, 409
`idempotency_key_in_use`. Server errors (5xx) are not kept: retry them with the same key.

**Lists** take `limit` (default 50, at most 200) and `offset`, and answer
`{"count", "limit", "offset", "items"}`.
"""


def _json_errors_for_http_layer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a wrong method (405) and a missing address (404) in the API's error shape."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return errors.error_json(404, "not_found", errors.NOT_FOUND_MESSAGE)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = sorted(method.strip() for method in response["Allow"].split(",") if method.strip())
            answer = errors.error_json(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                {"allowed": allowed},
            )
            answer["Allow"] = response["Allow"]
            return answer
        return response

    return wrapper


@csrf_exempt
@no_append_slash
def _no_such_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return errors.error_json(404, "not_found", errors.NOT_FOUND_MESSAGE)


def _idempotency_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return errors.error_json(exc.status, exc.code, exc.message, exc.details)


IDEMPOTENCY_KEY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retried write safe: the first answer to this key is kept for 24 hours and repeated for "
        "the same request (`Idempotent-Replayed: true`). The same key with a different request answers 422; "
        "while the first request is running, 409."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "pattern": idempotency.KEY_PATTERN,
    },
}
_WRITE_METHODS = {method.lower() for method in idempotency.UNSAFE_METHODS}


def _require_some_content_in_uploads(operation: dict[str, Any]) -> None:
    """A required file of a multipart body must hold something, and a required list of files at least one
    (an empty file part is no file to Django); a list of files holds at most the ten a request may attach.
    The document says so rather than promising to accept what the operation refuses."""
    body = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {})
    required = set(body.get("required", ()))
    for name, field in body.get("properties", {}).items():
        if field.get("type") == "array" and field.get("items", {}).get("format") == "binary":
            field.setdefault("maxItems", MAX_ATTACHMENTS)
            if name in required:
                field.setdefault("minItems", 1)
                field["items"].setdefault("minLength", 1)
        elif name in required and field.get("format") == "binary":
            field.setdefault("minLength", 1)


class SingleValueParser(Parser):
    """Query strings as ninja reads them, except that a parameter that takes one value given several
    times (`?route=a&route=b`) is refused rather than silently read as its last value."""

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        # Query strings only: a form body may carry fields the operation does not read, repeated or not.
        for key in data if data is request.GET else ():
            if key not in list_fields and len(data.getlist(key)) > 1:
                raise InvalidInput(
                    f"The parameter “{key[:40]}” takes one value; it was given {len(data.getlist(key))}.",
                    details={"field": key[:40]},
                )
        return super().parse_querydict(data, list_fields, request)


class PortalAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """Every write documents the `Idempotency-Key` header and its 409 and 422 answers, and one with a
        body the 413 of a body over the size limit."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error_ref = {"$ref": "#/components/schemas/ErrorOut"}
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method not in _WRITE_METHODS:
                    continue
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == idempotency.HEADER for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
                _require_some_content_in_uploads(operation)
                answers = operation.setdefault("responses", {})
                statuses = [(409, "Conflict"), (422, "Unprocessable Entity")]
                if "requestBody" in operation:
                    statuses.append((413, "Content Too Large"))
                for status, description in statuses:
                    if status not in answers and str(status) not in answers:
                        answers[status] = {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        }
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Operation ids are the view names (`application_list`), stable and readable in generated clients.
        return operation.view_func.__name__

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[URLResolver | URLPattern] = []
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                # Outermost, so that a kept answer is the one the client saw.
                view = idempotency.idempotent(_json_errors_for_http_layer(pattern.callback), _idempotency_error)
                pattern = URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)
            wrapped.append(pattern)
        # Any other address under the API, newlines included, is an unknown endpoint.
        wrapped.append(re_path(r"^[\s\S]*$", _no_such_endpoint))
        return wrapped, app_name, namespace


api = PortalAPI(
    title="MHHS Qualification Portal API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="api",
    auth=[bearer_auth, session_auth],
    parser=SingleValueParser(),
)
errors.install(api)

api.add_router("/v1/me", me.router)
api.add_router("/v1/applications", applications.router)
api.add_router("/v1", tasks.router)
api.add_router("/v1/reference", reference.router)
api.add_router("/v1/notifications", notifications.router)
api.add_router("/v1", prequalification.router)
api.add_router("/v1", pit.router)
api.add_router("/v1", dip.router)
api.add_router("/v1/qad", qad.router)
api.add_router("/v1", qt_catalogue.router)
api.add_router("/v1", qt_plan.router)
api.add_router("/v1", qt_execution.router)
api.add_router("/v1", workoff.router)
api.add_router("/v1", approvals.router)
api.add_router("/v1", decisions.router)
api.add_router("/v1", pab_papers.router)
api.add_router("/v1/imports", imports.router)
api.add_router("/v1", registry.router)
api.add_router("/v1", activation.router)
api.add_router("/v1", reports.router)
