"""The public register pages and files: the current register, its full history, and both as CSV and
JSON. No sign-in is needed; each view parses the filters, calls one selector and renders.

The CSV passes every text cell through `safe_cell`, so an organisation name written as a formula is
shown as text in a spreadsheet, never run."""

import csv
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.core.workbooks import safe_cell
from portal.registry import selectors
from portal.registry.forms import RegisterFilterForm
from portal.registry.models import Register

HISTORY_PAGE_SIZE = 50
# Each section of the register is shown a page at a time, each with its own page number in the query.
REGISTER_PAGE_SIZE = 100
SECTION_PAGE_PARAMS = {Register.REC_PARTY: "rec_page", Register.MHHS: "mhhs_page"}


def _filters(request: HttpRequest) -> tuple[RegisterFilterForm, dict[str, str]]:
    form = RegisterFilterForm(
        request.GET or None,
        roles=selectors.register_role_choices(),
        statuses=selectors.register_status_choices(),
    )
    return form, form.filters()


def _history(request: HttpRequest) -> bool:
    return request.GET.get("history", "") in {"1", "true", "yes"}


@require_GET
def register_page(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    sections = selectors.register_sections(
        market_role=filters.get("role", ""), status=filters.get("status", ""), search=filters.get("search", "")
    )
    paged = [
        {
            "section": section,
            "page": Paginator(section.entries, REGISTER_PAGE_SIZE).get_page(
                request.GET.get(SECTION_PAGE_PARAMS[section.register])
            ),
            "page_param": SECTION_PAGE_PARAMS[section.register],
        }
        for section in sections
    ]
    return render(
        request,
        "registry/register.html",
        {"nav": "register", "form": form, "filters": filters, "sections": paged, "query": request.GET.urlencode()},
    )


@require_GET
def register_history_page(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    entries = selectors.register_entries(
        history=True,
        market_role=filters.get("role", ""),
        status=filters.get("status", ""),
        search=filters.get("search", ""),
    )
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/history.html",
        {"nav": "register", "form": form, "filters": filters, "page": page, "query": query.urlencode()},
    )


class _Echo:
    """A file-like object whose write answers the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe_cell(selectors.json_value(value))


@require_GET
def register_csv(request: HttpRequest) -> StreamingHttpResponse:
    history = _history(request)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # A byte-order mark, so that spreadsheets read the file as UTF-8.
        yield "\ufeff" + writer.writerow(selectors.EXPORT_FIELDS)
        for record in selectors.register_records(history=history):
            yield writer.writerow([_csv_cell(record[name]) for name in selectors.EXPORT_FIELDS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = "mhhs-register-history.csv" if history else "mhhs-register.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def register_json(request: HttpRequest) -> JsonResponse:
    history = _history(request)
    entries = selectors.json_records(selectors.register_records(history=history))
    return JsonResponse(
        {
            "generated_at": timezone.now().isoformat(),
            "history": history,
            "count": len(entries),
            "entries": entries,
        },
        json_dumps_params={"ensure_ascii": False},
    )
