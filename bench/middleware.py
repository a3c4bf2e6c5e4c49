"""Bench-only: the number of SQL queries a request made, in an `X-Bench-Queries` response header.

`force_debug_cursor` makes the connection record its queries with DEBUG off; the recording costs a few
microseconds per query, the same for every page. For streamed responses the header counts the queries
made before the body is streamed.
"""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.force_debug_cursor = True
        connection.queries_log.clear()
        try:
            response = self.get_response(request)
            response["X-Bench-Queries"] = str(len(connection.queries_log))
        finally:
            connection.force_debug_cursor = False
            connection.queries_log.clear()
        return response
