"""Where the current request came from: its request id and the client's address (ASVS v5.0.0-16.2.1).

`RequestContextMiddleware`, placed first in `MIDDLEWARE`, gives every request a request id and echoes it
in the `X-Request-ID` response header, so that a user quoting it, a proxy's access log, the portal's
own log lines and the audit events written while the request ran can all be matched up. It keeps the
id and the client address in a `ContextVar` for the length of the request: a context variable, not a
thread-local or a global, so that each thread and each asyncio task sees only its own request, and
code without a request (workers, management commands, the demo loader) sees none.

`audit_record` reads it (`current_request_origin`) to stamp every event with where it came from; the
logging filter `RequestIdLogFilter` adds the id to every log line.

This module is imported by the logging configuration before the apps are loaded: it must import no
models at module level.
"""

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_LENGTH = 64
# An id from the caller (a proxy or an API client) is kept only if it cannot corrupt a log line or a
# header: a short token of letters, digits, dots, underscores and hyphens. Anything else is replaced.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{REQUEST_ID_MAX_LENGTH}}}")
# What a log line shows when it was not written while a request ran.
NO_REQUEST = "-"


@dataclass(frozen=True)
class RequestOrigin:
    """Where the request being answered came from. `client_address` is None when it cannot be read."""

    request_id: str
    client_address: str | None


_current_origin: ContextVar[RequestOrigin | None] = ContextVar("portal_request_origin", default=None)


def current_request_origin() -> RequestOrigin | None:
    """The origin of the request this code runs for; None outside a request."""
    return _current_origin.get()


def request_id_from(incoming: str | None) -> str:
    """The caller's request id if it is a safe token, so that one id follows the request through a
    proxy into the portal; otherwise a new random one."""
    if incoming and _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def client_address_of(request: HttpRequest) -> str | None:
    """The client's address by the rule sign-in throttling uses: allauth's, which reads
    `ALLAUTH_TRUSTED_PROXY_COUNT` (how many proxies of ours append to X-Forwarded-For; 0 means
    REMOTE_ADDR) and returns only a well-formed address. One rule, so the address an audit event records
    is the address the throttle counted. None when it cannot be read, for example when X-Forwarded-For
    holds fewer entries than the proxies we trust: the request is still answered, without an address."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request) or None
    except (PermissionDenied, ImproperlyConfigured, ValueError):
        return None


def _origin_of(request: HttpRequest) -> RequestOrigin:
    return RequestOrigin(
        request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER)),
        client_address=client_address_of(request),
    )


class RequestContextMiddleware:
    """First in `MIDDLEWARE`, so that everything after it (including the audit of refusals and the
    answers other middleware give without calling the view) runs inside the request's context, and
    every answer (pages, API, redirects, errors) carries the `X-Request-ID` header. Works under WSGI
    and ASGI alike."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        origin = _origin_of(request)
        token = _current_origin.set(origin)
        try:
            response: HttpResponse = self.get_response(request)
        finally:
            _current_origin.reset(token)
        response[REQUEST_ID_HEADER] = origin.request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        origin = _origin_of(request)
        token = _current_origin.set(origin)
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
            response = await get_response(request)
        finally:
            _current_origin.reset(token)
        response[REQUEST_ID_HEADER] = origin.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record (`-` outside a request), for the log format to show."""

    def filter(self, record: logging.LogRecord) -> bool:
        origin = _current_origin.get()
        record.request_id = origin.request_id if origin is not None else NO_REQUEST
        return True
