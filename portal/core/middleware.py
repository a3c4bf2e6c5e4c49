from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
