import logging
from collections.abc import Callable

from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("portal.core")


class NoStoreForAuthenticatedMiddleware:
    """Pages shown to a signed-in user may hold another company's evidence: never let a shared or
    browser cache keep them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


class DatabaseUnavailableMiddleware:
    """A request that cannot get a database connection (the pool has none free within its timeout,
    PostgreSQL refuses more clients, or it is down) answers 503 with Retry-After, so that the load
    balancer and the client see "busy, try again" rather than a server error or a hang. Errors of a
    query on an open connection (a deadlock, a constraint) are not this: they go on as before."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError) or connection.connection is not None:
            return None
        logger.error("No database connection for %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(
            "The service is busy. Please try again in a few seconds.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
