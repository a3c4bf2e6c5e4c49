"""The Qualification Testing execution pages of an application: the executions list (filters, the
latest-only view, pagination, the results workbook import and the XLSX export), recording a run with
its step results and evidence, one run with its evidence and Testing Assurance's review, the defects
list, raising, editing and moving a defect along with its thread, and the test completion report.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied
from portal.core.keyset import keyset_page
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.core.workbooks import XLSX_CONTENT_TYPE
from portal.prequalification.forms import DateInputView
from portal.qualification.services import MAX_ATTACHMENTS
from portal.testing import execution_selectors as selectors
from portal.testing import execution_services as services
from portal.testing import reports
from portal.testing.execution_selectors import (
    DEFECT_STATUS_COLOURS,
    EVIDENCE_REQUIRED,
    NOTES_REQUIRED,
    REVIEW_COLOURS,
    SEVERITY_COLOURS,
    STATUS_COLOURS,
    DefectFilters,
    ExecutionFilters,
    ReviewState,
    StepStatus,
    review_state,
)
from portal.testing.imports import import_job_create
from portal.testing.models import (
    Defect,
    DefectSeverity,
    DefectStatus,
    ExecutionStatus,
    ImportKind,
    TestBatch,
    TestExecution,
)
from portal.testing.models.execution import ReportStatus

PAGE_SIZE = 50
_QT = "applications/<int:application_id>/qt/"


@dataclass(frozen=True)
class Tag:
    """What `components/tag.html` reads."""

    text: str
    colour: str = ""


@dataclass(frozen=True)
class ExecutionRow:
    """A run as a table row shows it: its status and evidence review as tags."""

    run: TestExecution

    @property
    def status_tag(self) -> Tag:
        return Tag(selectors.status_label(self.run.status), STATUS_COLOURS.get(self.run.status, "grey"))

    @property
    def state(self) -> ReviewState:
        return review_state(
            status=self.run.status,
            review=self.run.review,
            evidence_count=getattr(self.run, "evidence_count", 0),
        )

    @property
    def review_tag(self) -> Tag:
        return Tag(str(self.state.label), REVIEW_COLOURS[self.state])


def defect_tags(defect: Defect) -> dict[str, Tag]:
    return {
        "severity": Tag(str(DefectSeverity(defect.severity).label), SEVERITY_COLOURS.get(defect.severity, "grey")),
        "status": Tag(defect.get_status_display(), DEFECT_STATUS_COLOURS.get(defect.status, "grey")),
    }


def _query(request: HttpRequest) -> str:
    """The list's query string without its page position, for the pagination and export links."""
    params = request.GET.copy()
    for name in ("page", "after", "before"):
        params.pop(name, None)
    return params.urlencode()


def _cursor_url(query: str, name: str, cursor: str | None) -> str:
    """The list's query string positioned after (or before) a cursor; empty without a cursor."""
    if cursor is None:
        return ""
    params = QueryDict(query, mutable=True)
    params[name] = cursor
    return f"?{params.urlencode()}"


def _paginate(request: HttpRequest, queryset: Any) -> Page[Any]:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _id(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 1 <= number <= services.MAX_ID else None


def _page_with_errors(
    request: HttpRequest, template: str, context: dict[str, Any], errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "applications", "errors": errors or PageErrors(), **context}
    return render(request, template, context, status=errors.status if errors else 200)


# --- executions: the list, the import and the export ----------------------------------------------------


def _execution_filters(request: HttpRequest) -> ExecutionFilters:
    get = request.GET
    return ExecutionFilters(
        status=get.get("status", "")[:40],
        batch=get.get("batch", "")[:40],
        review=get.get("review", "")[:40],
        case=get.get("case", "")[:40],
        latest_only=get.get("latest") == "1",
    )


def _executions_page(request: HttpRequest, application_id: int, errors: PageErrors | None = None) -> HttpResponse:
    view = selectors.execution_list(
        user=request.user, application_id=application_id, filters=_execution_filters(request)
    )
    # Keyset pages: a results import can add a hundred thousand runs, and every page must cost the same.
    # A position that cannot be read shows the first page, as a page number out of range shows the nearest.
    try:
        page = keyset_page(
            view.executions,
            fields=("executed_at", "id"),
            limit=PAGE_SIZE,
            after=request.GET.get("after") or None,
            before=request.GET.get("before") or None,
        )
    except InvalidInput:
        page = keyset_page(view.executions, fields=("executed_at", "id"), limit=PAGE_SIZE)
    query = _query(request)
    context = {
        "view": view,
        "application": view.application,
        "task": view.task,
        "page": page,
        "count": view.executions.count(),
        "next_url": _cursor_url(query, "after", page.next_cursor),
        "previous_url": _cursor_url(query, "before", page.previous_cursor),
        "rows": [ExecutionRow(run) for run in page.items],
        "query": query,
        "status_choices": selectors.choices_with_all(ExecutionStatus.choices, "Any status"),
        "batch_choices": selectors.choices_with_all(TestBatch.choices, "Any batch"),
        "review_choices": selectors.choices_with_all(ReviewState.choices, "Any"),
        "qt_section": "executions",
    }
    return _page_with_errors(request, "testing/qt_executions.html", context, errors)


@require_GET
@portal_page
def qt_executions_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _executions_page(request, application_id)


@require_POST
@portal_page
def qt_results_import_page(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        job = import_job_create(
            actor=request.user,
            kind=ImportKind.RESULTS,
            upload=request.FILES.get("file"),
            application_id=application_id,
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _executions_page(request, application_id, PageErrors.from_error(exc, {"file": "results-file"}))
    return redirect("testing:import_job", job.pk)


@require_GET
@portal_page
def qt_results_export(request: HttpRequest, application_id: int) -> HttpResponse:
    view = selectors.execution_list(
        user=request.user, application_id=application_id, filters=_execution_filters(request)
    )
    content = reports.results_xlsx(view.executions)
    name = f"{view.application.reference} test results {timezone.localdate():%Y-%m-%d}.xlsx"
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_download_name(name)}"'
    return response


@require_GET
@portal_page
def qt_results_template(request: HttpRequest, application_id: int) -> HttpResponse:
    form = selectors.execution_record_form(user=request.user, application_id=application_id)
    content = reports.results_template_xlsx(form.cases)
    name = f"{form.application.reference} results workbook.xlsx"
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_download_name(name)}"'
    return response


# --- recording a run -------------------------------------------------------------------------------------

RECORD_TARGETS = {
    "case": "case",
    "status": "status",
    "tester": "tester",
    "executed_at": "executed_at_day",
    "notes": "notes",
    "step_results": "step-1-status",
    "files": "files",
}


@dataclass
class RunEntry:
    """What was typed into the record form, to show it again after a refusal."""

    status: str = ""
    tester: str = ""
    day: str = ""
    month: str = ""
    year: str = ""
    time: str = ""
    notes: str = ""
    steps: dict[int, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_post(cls, post: Mapping[str, Any], numbers: list[int]) -> "RunEntry":
        return cls(
            status=str(post.get("status", "")),
            tester=str(post.get("tester", "")),
            day=str(post.get("executed_at_day", "")).strip(),
            month=str(post.get("executed_at_month", "")).strip(),
            year=str(post.get("executed_at_year", "")).strip(),
            time=str(post.get("executed_at_time", "")).strip(),
            notes=str(post.get("notes", "")),
            steps={n: (str(post.get(f"step-{n}-status", "")), str(post.get(f"step-{n}-actual", ""))) for n in numbers},
        )

    def executed_at(self) -> tuple[datetime.datetime | None, str]:
        """The date and time entered (UK time), or None with why it could not be read ("" when blank)."""
        if not any((self.day, self.month, self.year, self.time)):
            return None, ""
        try:
            day = datetime.date(int(self.year), int(self.month), int(self.day))
            hours, _, minutes = self.time.replace(".", ":").partition(":")
            clock = datetime.time(int(hours), int(minutes or 0))
        except ValueError:
            return None, "Enter a real date, and a time such as 14:30."
        return timezone.make_aware(datetime.datetime.combine(day, clock)), ""

    def step_results(self) -> list[dict[str, Any]] | None:
        if not any(status or actual.strip() for status, actual in self.steps.values()):
            return None
        return [{"step": n, "status": status, "actual": actual} for n, (status, actual) in self.steps.items()]

    def date_view(self, error: str) -> DateInputView:
        return DateInputView(
            name="executed_at",
            label="Date the test was run",
            hint="For example, 14 3 2026",
            day=self.day,
            month=self.month,
            year=self.year,
            error=error,
        )


def _record_page(
    request: HttpRequest,
    form: selectors.RecordForm,
    *,
    entry: RunEntry | None = None,
    errors: PageErrors | None = None,
) -> HttpResponse:
    entry = entry or RunEntry(tester=getattr(request.user, "display_name", ""))
    steps = [(line, *entry.steps.get(line.number, ("", ""))) for line in form.steps]
    context = {
        "form": form,
        "application": form.application,
        "task": form.task,
        "entry": entry,
        "date": entry.date_view(errors.by_field.get("executed_at", "") if errors else ""),
        "steps": steps,
        "status_choices": ExecutionStatus.choices,
        "step_choices": StepStatus.choices,
        "evidence_required": sorted(str(ExecutionStatus(s).label).lower() for s in EVIDENCE_REQUIRED),
        "notes_required": sorted(str(ExecutionStatus(s).label).lower() for s in NOTES_REQUIRED),
        "max_files": MAX_ATTACHMENTS,
        "qt_section": "executions",
    }
    template = "testing/qt_execution_steps.html" if request.htmx and request.method == "GET" else None  # type: ignore[attr-defined]
    return _page_with_errors(request, template or "testing/qt_execution_record.html", context, errors)


@require_http_methods(["GET", "POST"])
@portal_page
def qt_execution_record_page(request: HttpRequest, application_id: int) -> HttpResponse:
    case = (request.POST.get("case") if request.method == "POST" else request.GET.get("case")) or ""
    form = selectors.execution_record_form(user=request.user, application_id=application_id, case_identifier=case[:40])
    if request.method == "GET":
        return _record_page(request, form)
    entry = RunEntry.from_post(request.POST, [line.number for line in form.steps])
    executed_at, unreadable = entry.executed_at()
    try:
        if form.refusal is not None:
            raise form.refusal
        run = services.execution_record(
            actor=request.user,
            application_id=application_id,
            case=case,
            status=entry.status,
            tester=entry.tester,
            executed_at=executed_at,
            notes=entry.notes,
            step_results=entry.step_results(),
            files=request.FILES.getlist("files"),
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        if unreadable and isinstance(exc, InvalidInput):
            exc = _with_message(exc, "executed_at", unreadable)
        return _record_page(request, form, entry=entry, errors=PageErrors.from_error(exc, RECORD_TARGETS))
    messages.success(request, f"You recorded a run of {form.chosen.row.identifier if form.chosen else case}.")
    return redirect("testing:qt_execution_detail", application_id, run.pk)


def _with_message(exc: InvalidInput, field_name: str, message: str) -> InvalidInput:
    """The same refusal, with the message about one field replaced by a more precise one."""
    listed = exc.details.get("errors")
    if isinstance(listed, list):
        listed = [
            {**p, "message": message} if isinstance(p, Mapping) and p.get("field") == field_name else p for p in listed
        ]
        return InvalidInput(exc.message, details={**exc.details, "errors": listed})
    if exc.details.get("field") == field_name:
        return InvalidInput(message, details=exc.details)
    return exc


# --- one run: evidence and review --------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    application_id: int,
    execution_id: int,
    *,
    errors: PageErrors | None = None,
    failed: str = "",
    comment: str = "",
) -> HttpResponse:
    detail = selectors.execution_get(user=request.user, application_id=application_id, execution_id=execution_id)
    context = {
        "detail": detail,
        "application": detail.application,
        "task": detail.task,
        "run": detail.execution,
        "status_tag": Tag(
            selectors.status_label(detail.execution.status), STATUS_COLOURS.get(detail.execution.status, "grey")
        ),
        "review_tag": Tag(str(detail.state.label), REVIEW_COLOURS[detail.state]),
        "defects": [(defect, defect_tags(defect)) for defect in detail.defects],
        "failed": failed,
        "comment": comment,
        "max_files": MAX_ATTACHMENTS,
        "qt_section": "executions",
    }
    return _page_with_errors(request, "testing/qt_execution_detail.html", context, errors)


@require_GET
@portal_page
def qt_execution_detail_page(request: HttpRequest, application_id: int, execution_id: int) -> HttpResponse:
    return _detail_page(request, application_id, execution_id)


@require_POST
@portal_page
def qt_execution_evidence_page(request: HttpRequest, application_id: int, execution_id: int) -> HttpResponse:
    files = request.FILES.getlist("files")
    try:
        services.execution_evidence_add(
            actor=request.user, application_id=application_id, execution_id=execution_id, files=files
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, {"files": "files"})
        return _detail_page(request, application_id, execution_id, errors=errors, failed="evidence")
    messages.success(request, f"You attached {len(files)} evidence file{'s' if len(files) != 1 else ''}.")
    return redirect("testing:qt_execution_detail", application_id, execution_id)


@require_POST
@portal_page
def qt_execution_review_page(request: HttpRequest, application_id: int, execution_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        services.execution_review(
            actor=request.user,
            application_id=application_id,
            execution_id=execution_id,
            decision=decision,
            comment=comment,
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, {"decision": "decision", "comment": "review-comment"})
        return _detail_page(request, application_id, execution_id, errors=errors, failed="review", comment=comment)
    verb = "accepted" if decision == "accept" else "rejected"
    messages.success(request, f"You {verb} the evidence of the run.")
    return redirect("testing:qt_execution_detail", application_id, execution_id)


@require_GET
@portal_page
def qt_execution_evidence_download(
    request: HttpRequest, application_id: int, execution_id: int, evidence_id: int
) -> FileResponse:
    evidence = services.execution_evidence_open(
        actor=request.user, application_id=application_id, execution_id=execution_id, evidence_id=evidence_id
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=safe_download_name(evidence.original_name),
        content_type=evidence.content_type or "application/octet-stream",
    )


# --- defects ---------------------------------------------------------------------------------------------

DEFECT_TARGETS = {"title": "title", "description": "description", "severity": "severity", "executions": "executions"}


@require_GET
@portal_page
def qt_defects_page(request: HttpRequest, application_id: int) -> HttpResponse:
    severity = _id(request.GET.get("severity"))
    filters = DefectFilters(status=request.GET.get("status", "")[:40], severity=severity)
    view = selectors.defect_list(user=request.user, application_id=application_id, filters=filters)
    page = _paginate(request, view.defects)
    context = {
        "view": view,
        "application": view.application,
        "task": view.task,
        "page": page,
        "rows": [(defect, defect_tags(defect)) for defect in page.object_list],
        "query": _query(request),
        "status_choices": selectors.choices_with_all(DefectStatus.choices, "Any status"),
        "severity_choices": selectors.choices_with_all(DefectSeverity.choices, "Any severity"),
        "qt_section": "defects",
    }
    return _page_with_errors(request, "testing/qt_defects.html", context)


@dataclass
class DefectEntryForm:
    title: str = ""
    description: str = ""
    severity: str = ""
    executions: list[str] = field(default_factory=list)

    @classmethod
    def from_post(cls, post: Any) -> "DefectEntryForm":
        return cls(
            title=post.get("title", ""),
            description=post.get("description", ""),
            severity=post.get("severity", ""),
            executions=post.getlist("executions")[: services.MAX_LINKED_EXECUTIONS + 1],
        )

    @classmethod
    def from_defect(cls, defect: Defect) -> "DefectEntryForm":
        return cls(
            title=defect.title,
            description=defect.description,
            severity=str(defect.severity),
            executions=[str(pk) for pk in defect.executions.values_list("pk", flat=True)],
        )

    def fields(self) -> services.DefectFields:
        return services.DefectFields(
            title=self.title, description=self.description, severity=self.severity, execution_ids=self.executions
        )


def _defect_form_page(
    request: HttpRequest,
    application_id: int,
    entry: DefectEntryForm,
    *,
    defect: Defect | None = None,
    errors: PageErrors | None = None,
) -> HttpResponse:
    application, task, runs = selectors.executions_for_defect_form(user=request.user, application_id=application_id)
    context = {
        "application": application,
        "task": task,
        "defect": defect,
        "entry": entry,
        "runs": [ExecutionRow(run) for run in runs],
        "severity_choices": [(str(value), label) for value, label in DefectSeverity.choices],
        "qt_section": "defects",
    }
    return _page_with_errors(request, "testing/qt_defect_form.html", context, errors)


@require_http_methods(["GET", "POST"])
@portal_page
def qt_defect_raise_page(request: HttpRequest, application_id: int) -> HttpResponse:
    if request.method == "GET":
        linked = _id(request.GET.get("execution"))
        return _defect_form_page(request, application_id, DefectEntryForm(executions=[str(linked)] if linked else []))
    entry = DefectEntryForm.from_post(request.POST)
    try:
        defect = services.defect_raise(actor=request.user, application_id=application_id, fields=entry.fields())
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _defect_form_page(request, application_id, entry, errors=PageErrors.from_error(exc, DEFECT_TARGETS))
    messages.success(request, f"You raised {defect.reference}.")
    return redirect("testing:qt_defect_detail", application_id, defect.pk)


@require_http_methods(["GET", "POST"])
@portal_page
def qt_defect_edit_page(request: HttpRequest, application_id: int, defect_id: int) -> HttpResponse:
    detail = selectors.defect_get(user=request.user, application_id=application_id, defect_id=defect_id)
    if request.method == "GET":
        return _defect_form_page(
            request, application_id, DefectEntryForm.from_defect(detail.defect), defect=detail.defect
        )
    entry = DefectEntryForm.from_post(request.POST)
    try:
        services.defect_update(
            actor=request.user, application_id=application_id, defect_id=defect_id, fields=entry.fields()
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, DEFECT_TARGETS)
        return _defect_form_page(request, application_id, entry, defect=detail.defect, errors=errors)
    messages.success(request, f"You saved {detail.defect.reference}.")
    return redirect("testing:qt_defect_detail", application_id, defect_id)


def _defect_page(
    request: HttpRequest,
    application_id: int,
    defect_id: int,
    *,
    errors: PageErrors | None = None,
    failed: str = "",
    values: dict[str, str] | None = None,
) -> HttpResponse:
    detail = selectors.defect_get(user=request.user, application_id=application_id, defect_id=defect_id)
    context = {
        "detail": detail,
        "application": detail.application,
        "task": detail.task,
        "defect": detail.defect,
        "tags": defect_tags(detail.defect),
        "runs": [ExecutionRow(run) for run in detail.executions],
        "failed": failed,
        "values": values or {},
        "qt_section": "defects",
    }
    return _page_with_errors(request, "testing/qt_defect_detail.html", context, errors)


@require_GET
@portal_page
def qt_defect_detail_page(request: HttpRequest, application_id: int, defect_id: int) -> HttpResponse:
    return _defect_page(request, application_id, defect_id)


@require_POST
@portal_page
def qt_defect_status_page(request: HttpRequest, application_id: int, defect_id: int) -> HttpResponse:
    status = request.POST.get("status", "")
    comment = request.POST.get("comment", "")
    try:
        defect = services.defect_status_change(
            actor=request.user, application_id=application_id, defect_id=defect_id, status=status, comment=comment
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, {"status": "status", "comment": "status-comment"})
        values = {"status": status, "comment": comment}
        return _defect_page(request, application_id, defect_id, errors=errors, failed="status", values=values)
    messages.success(request, f"{defect.reference} is now {defect.get_status_display().lower()}.")
    return redirect("testing:qt_defect_detail", application_id, defect_id)


@require_POST
@portal_page
def qt_defect_comment_page(request: HttpRequest, application_id: int, defect_id: int) -> HttpResponse:
    text = request.POST.get("comment", "")
    try:
        services.defect_comment(actor=request.user, application_id=application_id, defect_id=defect_id, text=text)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, {"comment": "thread-comment"})
        return _defect_page(
            request, application_id, defect_id, errors=errors, failed="comment", values={"comment": text}
        )
    messages.success(request, "You added a comment.")
    return redirect(reverse("testing:qt_defect_detail", args=[application_id, defect_id]) + "#thread")


# --- the test completion report ----------------------------------------------------------------------------


def _report_context(request: HttpRequest, application_id: int) -> dict[str, Any]:
    task, found = selectors.completion_reports(user=request.user, application_id=application_id)
    latest = found[0] if found else None
    return {
        "application": task.application,
        "task": task,
        "reports": found,
        "latest": latest,
        "generating": latest is not None and latest.status in reports.ACTIVE_REPORT_STATUSES,
        "ready": ReportStatus.READY,
        "qt_section": "report",
    }


@require_http_methods(["GET", "POST"])
@portal_page
def qt_report_page(request: HttpRequest, application_id: int) -> HttpResponse:
    if request.method == "POST":
        try:
            reports.completion_report_request(actor=request.user, application_id=application_id)
        except (NotFound, PermissionDenied):
            raise
        except ApplicationError as exc:
            context = _report_context(request, application_id)
            return _page_with_errors(request, "testing/qt_report.html", context, PageErrors.from_error(exc))
        messages.success(request, "The test completion report is being generated. This page shows it when it is ready.")
        return redirect("testing:qt_report", application_id)
    return _page_with_errors(request, "testing/qt_report.html", _report_context(request, application_id))


@require_GET
@portal_page
def qt_report_status(request: HttpRequest, application_id: int) -> HttpResponse:
    """The report panel alone, which the page polls while a report is being generated."""
    return render(request, "testing/qt_report_status.html", _report_context(request, application_id))


@require_GET
@portal_page
def qt_report_download(request: HttpRequest, application_id: int, report_id: int, file_format: str) -> FileResponse:
    if file_format not in ("pdf", "xlsx"):
        raise NotFound("A report is downloaded as pdf or xlsx.")
    report = selectors.completion_report_get(user=request.user, application_id=application_id, report_id=report_id)
    if report.status != ReportStatus.READY:
        raise NotFound("This report is not ready yet.")
    stored = report.pdf if file_format == "pdf" else report.xlsx
    content_type = "application/pdf" if file_format == "pdf" else XLSX_CONTENT_TYPE
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    stamp = timezone.localtime(report.generated_at or report.requested_at)
    name = f"{report.application.reference} test completion report {stamp:%Y-%m-%d %H%M}.{file_format}"
    return FileResponse(handle, as_attachment=True, filename=safe_download_name(name), content_type=content_type)


urlpatterns: list[URLPattern] = [
    path(f"{_QT}executions/", qt_executions_page, name="qt_executions"),
    path(f"{_QT}executions/new/", qt_execution_record_page, name="qt_execution_record"),
    path(f"{_QT}executions/<int:execution_id>/", qt_execution_detail_page, name="qt_execution_detail"),
    path(f"{_QT}executions/<int:execution_id>/evidence/", qt_execution_evidence_page, name="qt_execution_evidence"),
    path(f"{_QT}executions/<int:execution_id>/review/", qt_execution_review_page, name="qt_execution_review"),
    path(
        f"{_QT}executions/<int:execution_id>/evidence/<int:evidence_id>/",
        qt_execution_evidence_download,
        name="qt_execution_evidence_download",
    ),
    path(f"{_QT}results/import/", qt_results_import_page, name="qt_results_import"),
    path(f"{_QT}results/export/", qt_results_export, name="qt_results_export"),
    path(f"{_QT}results/template/", qt_results_template, name="qt_results_template"),
    path(f"{_QT}defects/", qt_defects_page, name="qt_defects"),
    path(f"{_QT}defects/new/", qt_defect_raise_page, name="qt_defect_raise"),
    path(f"{_QT}defects/<int:defect_id>/", qt_defect_detail_page, name="qt_defect_detail"),
    path(f"{_QT}defects/<int:defect_id>/edit/", qt_defect_edit_page, name="qt_defect_edit"),
    path(f"{_QT}defects/<int:defect_id>/status/", qt_defect_status_page, name="qt_defect_status"),
    path(f"{_QT}defects/<int:defect_id>/comments/", qt_defect_comment_page, name="qt_defect_comment"),
    path(f"{_QT}report/", qt_report_page, name="qt_report"),
    path(f"{_QT}report/status/", qt_report_status, name="qt_report_status"),
    path(f"{_QT}report/<int:report_id>/<str:file_format>/", qt_report_download, name="qt_report_download"),
]
