"""What every view shares: sign-in required, tenancy answered as 404, and pages re-shown with errors."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portal.core.errors import NotFound, PermissionDenied
from portal.web.errors import PageErrors

View = TypeVar("View", bound=Callable[..., HttpResponse])

PAGE_SIZE = 25


def portal_view(view: View) -> View:
    """Sign-in required; a `NotFound` from a selector or service answers 404 (the same for another
    organisation's object as for a missing one) and a `PermissionDenied` answers 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc

    return cast(View, login_required(wrapper))


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    errors: PageErrors | None = None,
) -> HttpResponse:
    """Render a page; with errors, show them in the error summary and answer with their status."""
    context = {**context, "errors": errors or PageErrors()}
    status = errors.status if errors else 200
    return render(request, template, context, status=status)


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    """The requested page; a page number out of range shows the nearest page rather than an error."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
