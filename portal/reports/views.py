"""The dashboards: the pipeline, the timelines, search, the downloads of every list and the portfolio
report PDF.

Each view parses, calls the scoped selectors and renders. Another organisation's application answers
404, as everywhere; bad input is shown in the GOV.UK error summary with status 400.
"""

import csv
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.approvals.models import GenerationStatus
from portal.approvals.pdf import pdf_download
from portal.core.calendar import uk_today
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page
from portal.core.workbooks import XLSX_CONTENT_TYPE, Sheet, safe_cell, workbook_bytes
from portal.qualification.selectors import route_list
from portal.reports import exports, figures, selectors, services
from portal.reports.exports import Table
from portal.reports.forms import ApplicationListFilterForm, PipelineFilterForm, SearchForm
from portal.reports.search import KIND_LABELS, KIND_SINGULAR, search
from portal.reports.selectors import PipelineFilters
from portal.reports.snapshots import dashboard_pipeline
from portal.reports.timeline import application_timeline, timelines
from portal.workoff.forms import ItemFilterForm
from portal.workoff.selectors import workoff_list_organisations

PIPELINE_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = figures.GANTT_ROWS
SEARCH_PAGE_SIZE = 20
DASHBOARD_LIST = selectors.DASHBOARD_LIST_LENGTH


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "dashboard", "errors": errors or PageErrors(), **context}
    return render(request, template, context, status=errors.status if errors else 200)


def _query(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for name in ("page", *drop):
        query.pop(name, None)
    return query.urlencode()


def _filters(request: HttpRequest) -> tuple[PipelineFilterForm, PipelineFilters | None, PageErrors | None]:
    """The pipeline filters of the request; None and the errors when a value is not one offered."""
    form = PipelineFilterForm(request.GET or None, choices=selectors.pipeline_filter_choices())
    if not form.is_bound:
        return form, PipelineFilters(), None
    if not form.is_valid():
        return form, None, PageErrors.from_form(form)
    return form, PipelineFilters(**form.values()), None


# --- the pipeline dashboard ---------------------------------------------------------------------------


@require_GET
@portal_page
def dashboard_page(request: HttpRequest) -> HttpResponse:
    form, filters, errors = _filters(request)
    if filters is None:
        return _render(request, "reports/dashboard.html", {"form": form, "pipeline": None}, errors)
    picture, behind = dashboard_pipeline(user=request.user, filters=filters)
    return _render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "pipeline": picture,
            "behind": behind,
            "query": _query(request),
            "funnel": figures.funnel(picture),
            "ageing": figures.ageing(picture),
            "deadline_chart": figures.deadline_bars(picture),
            "overdue": picture.overdue[:DASHBOARD_LIST],
            "at_risk": picture.at_risk[:DASHBOARD_LIST],
            "rec_queue": picture.rec_queue[:DASHBOARD_LIST],
            "list_length": DASHBOARD_LIST,
        },
    )


@require_GET
@portal_page
def pipeline_page(request: HttpRequest) -> HttpResponse:
    form, filters, errors = _filters(request)
    if filters is None:
        return _render(request, "reports/pipeline.html", {"form": form, "page": None}, errors)
    applications = selectors.pipeline_applications(user=request.user, filters=filters)
    page = Paginator(applications, PIPELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "reports/pipeline.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.pipeline_rows(list(page.object_list)),
            "query": _query(request),
            "export_query": _query(request),
        },
    )


# --- timelines -----------------------------------------------------------------------------------------


@require_GET
@portal_page
def application_timeline_page(request: HttpRequest, application_id: int) -> HttpResponse:
    timeline = application_timeline(user=request.user, application_id=application_id)
    return _render(
        request,
        "reports/application_timeline.html",
        {
            "nav": "applications",
            "timeline": timeline,
            "application": timeline.application,
            "chart": figures.application_gantt(timeline),
        },
    )


@require_GET
@portal_page
def portfolio_timeline_page(request: HttpRequest) -> HttpResponse:
    form, filters, errors = _filters(request)
    if filters is None:
        return _render(request, "reports/portfolio_timeline.html", {"form": form, "page": None}, errors)
    applications = selectors.pipeline_applications(user=request.user, filters=filters)
    page = Paginator(applications, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    lines = timelines(list(page.object_list))
    return _render(
        request,
        "reports/portfolio_timeline.html",
        {"form": form, "page": page, "charts": figures.portfolio_gantts(lines), "query": _query(request)},
    )


# --- search --------------------------------------------------------------------------------------------


@require_GET
@portal_page
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"nav": "search", "form": form, "page": None, "kinds": KIND_LABELS}
    if not form.is_bound:
        return _render(request, "reports/search.html", context)
    if not form.is_valid():
        return _render(request, "reports/search.html", context, PageErrors.from_form(form))
    results = search(user=request.user, q=form.cleaned_data["q"], kind=form.cleaned_data["kind"])
    page = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        {
            "page": page,
            "results": results,
            "counts": [(kind, _kind_words(kind, n), n) for kind, n in results.counts.items() if n],
            "query": _query(request),
            "q": results.query,
        }
    )
    return _render(request, "reports/search.html", context)


def _kind_words(kind: str, count: int) -> str:
    return (KIND_SINGULAR if count == 1 else KIND_LABELS)[kind].lower()


# --- downloads -----------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write answers the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(value)


def _file_name(table: Table, extension: str) -> str:
    return f"mhhs-{table.name}-{uk_today():%Y-%m-%d}.{extension}"


def csv_response(table: Table) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # A byte-order mark, so that spreadsheets read the file as UTF-8.
        yield "\ufeff" + writer.writerow([safe_cell(h) for h in table.headers])
        for row in table.rows:
            yield writer.writerow([_csv_value(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(table, "csv")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(table: Table) -> HttpResponse:
    widths = [max(12, min(50, len(h) + 4)) for h in table.headers]
    content = workbook_bytes([Sheet(table.title, table.headers, table.rows, widths=widths)])
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(table, "xlsx")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pipeline_table(request: HttpRequest) -> Table | PageErrors:
    _, filters, errors = _filters(request)
    if filters is None:
        assert errors is not None
        return errors
    return exports.pipeline_table(user=request.user, filters=filters)


def _deadlines_table(request: HttpRequest) -> Table | PageErrors:
    _, filters, errors = _filters(request)
    if filters is None:
        assert errors is not None
        return errors
    return exports.deadlines_table(user=request.user, filters=filters)


def _applications_table(request: HttpRequest) -> Table | PageErrors:
    routes = [(route.code, route.name) for route in route_list()]
    form = ApplicationListFilterForm(request.GET or None, routes=routes)
    form.is_valid()
    values = form.values()
    return exports.applications_table(
        user=request.user, status=values.get("status", ""), route=values.get("route", ""), search=values.get("q", "")
    )


def _work_queue_table(request: HttpRequest) -> Table | PageErrors:
    return exports.work_queue_table(user=request.user)


def _workoff_table(request: HttpRequest) -> Table | PageErrors:
    form = ItemFilterForm(request.GET or None, organisations=workoff_list_organisations(user=request.user))
    values = form.filters()
    organisation = values.get("organisation")
    return exports.workoff_table(
        user=request.user,
        status=values.get("status", ""),
        overdue={"yes": True, "no": False}.get(values.get("overdue", "")),
        organisation_id=int(organisation) if organisation else None,
        sort=values.get("sort", ""),
    )


def _rec_queue_table(request: HttpRequest) -> Table | PageErrors:
    return exports.rec_queue_table(user=request.user)


def _search_table(request: HttpRequest) -> Table | PageErrors:
    form = SearchForm(request.GET or {"q": ""})
    if not form.is_valid():
        return PageErrors.from_form(form)
    return exports.search_table(search(user=request.user, q=form.cleaned_data["q"], kind=form.cleaned_data["kind"]))


EXPORTS = {
    "pipeline": _pipeline_table,
    "deadlines": _deadlines_table,
    "applications": _applications_table,
    "work-queue": _work_queue_table,
    "work-off-items": _workoff_table,
    "rec-queue": _rec_queue_table,
    "search": _search_table,
}
FORMATS = {"csv": csv_response, "xlsx": xlsx_response}


@require_GET
@portal_page
def export_download(request: HttpRequest, name: str, file_format: str) -> HttpResponseBase:
    """Any list as CSV or XLSX, with the filters of its page in the query string."""
    build = EXPORTS.get(name)
    respond = FORMATS.get(file_format)
    if build is None or respond is None:
        raise NotFound("There is no such download.")
    table = build(request)
    if isinstance(table, PageErrors):
        return _render(request, "reports/download_refused.html", {}, table)
    return respond(table)


EXPORT_LABELS = [
    ("pipeline", "The pipeline", "Every application you can see: stage, days in it, next deadline, target meeting."),
    ("deadlines", "Deadlines not yet met", "Every open deadline of the open applications you can see, soonest first."),
    ("applications", "Applications", "The applications list, as on the Applications page."),
    ("work-queue", "Your work queue", "The tasks waiting for you, with their deadlines."),
    ("work-off-items", "Work-off items", "Work-off items of the applications you can see."),
    ("rec-queue", "REC Code Manager queue", "Applications waiting on the REC Code Manager's decision, with due dates."),
]


@require_GET
@portal_page
def downloads_page(request: HttpRequest) -> HttpResponse:
    return _render(request, "reports/downloads.html", {"exports": EXPORT_LABELS})


# --- the portfolio report PDF --------------------------------------------------------------------------


def _portfolio(request: HttpRequest, form: PipelineFilterForm, errors: PageErrors | None = None) -> HttpResponse:
    reports = selectors.portfolio_reports(user=request.user)
    generating = any(r.status == GenerationStatus.QUEUED for r in reports)
    template = "reports/portfolio.html#reports" if getattr(request, "htmx", False) else "reports/portfolio.html"
    return _render(request, template, {"form": form, "reports": reports, "generating": generating}, errors)


@require_http_methods(["GET", "POST"])
@portal_page
def portfolio_page(request: HttpRequest) -> HttpResponse:
    choices = selectors.pipeline_filter_choices()
    if request.method != "POST":
        return _portfolio(request, PipelineFilterForm(choices=choices))
    form = PipelineFilterForm(request.POST, choices=choices)
    if not form.is_valid():
        return _portfolio(request, form, PageErrors.from_form(form))
    try:
        services.portfolio_report_request(actor=request.user, **form.values())
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _portfolio(request, form, PageErrors.from_error(exc))
    messages.success(request, "Your portfolio report is being generated. It appears below when it is ready.")
    return redirect(reverse("reports:portfolio"))


@require_GET
@portal_page
def portfolio_pdf(request: HttpRequest, report_id: int) -> FileResponse:
    report = selectors.portfolio_report_get(user=request.user, report_id=report_id)
    if report.status != GenerationStatus.READY:
        raise Http404("That report is not ready.")
    return pdf_download(report.file, report.file_name)
