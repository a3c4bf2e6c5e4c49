"""What every view shares: sign-in required, tenancy answered as 404, and pages re-shown with errors."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.core.pages import PageErrors

PAGE_SIZE = 25


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
