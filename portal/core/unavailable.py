"""A request that cannot get a database connection answers 503, not 500.

That happens when the connection pool has no connection free within `PORTAL_DB_POOL_TIMEOUT`, when
PostgreSQL refuses more clients, or when it is down. The answer is "busy, try again" with `Retry-After`,
so that a load balancer and a client back off instead of counting a server fault, and nothing hangs
beyond the pool's timeout. `/health/ready` answers 503 in the same case (portal/core/health.py).

This is Django's `handler500` (config/urls.py): every uncaught exception reaches it, whether raised by
a view or by a middleware that read the session or the user first. Any other error gets the usual
500 page.
"""

import logging
import sys

from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.views import defaults

logger = logging.getLogger("portal.core")

RETRY_AFTER_SECONDS = 5

_PAGE = """<!DOCTYPE html>
<html lang="en-GB" class="govuk-template">
<head>
  <meta charset="utf-8">
  <title>Sorry, the service is busy – MHHS Qualification Portal</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/static/vendor/portal.css">
</head>
<body class="govuk-template__body">
  <div class="govuk-width-container">
    <main class="govuk-main-wrapper" id="main-content">
      <h1 class="govuk-heading-xl">Sorry, the service is busy</h1>
      <p class="govuk-body">Try again in a few seconds. Anything you had not yet sent was not saved.</p>
    </main>
  </div>
</body>
</html>
"""


def is_database_unavailable(exc: BaseException | None) -> bool:
    """An `OperationalError` raised while no connection was open: connecting failed (a query failing
    on an open connection, such as a deadlock, leaves the connection in place and is not this)."""
    return isinstance(exc, OperationalError) and connection.connection is None


def service_unavailable() -> HttpResponse:
    response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        logger.error("No database connection for %s %s: %s", request.method, request.path, exc)
        return service_unavailable()
    return defaults.server_error(request)
