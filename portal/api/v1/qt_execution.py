"""Qualification Testing execution: test runs with their evidence and Testing Assurance's review,
defects, the results export and the test completion report. Mounted at `/v1`: every path starts
`/applications/{application_id}/qt/`.

The participant records runs, evidence and defects while the `qt` task is with them (not started, in
progress, changes requested) and once Testing Assurance has confirmed the readiness report. Testing
Assurance (the task's assurers) reviews each run's evidence and may change a defect's status and
comment on it. A results workbook is imported through `POST /v1/imports` with `kind=results`.

**Evidence.** A passed, passed-with-observations or failed run needs evidence files: recorded here, it
must carry them (`.../executions/upload`). A run imported from a workbook carries none and is
`awaiting_evidence` until files are added (`.../evidence`); until then it cannot be accepted and does
not count as passed for exit.
"""

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, P, PathEx, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.pagination import Keyset, LimitOffset, PresentedPages, each
from portal.api.schemas import ApplicationRef
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.core.errors import InvalidInput
from portal.core.pages import safe_download_name
from portal.core.workbooks import XLSX_CONTENT_TYPE
from portal.documents.models import EvidenceFile
from portal.qualification.services import MAX_COMMENT_LENGTH
from portal.testing import execution_selectors as selectors
from portal.testing import execution_services as services
from portal.testing import reports
from portal.testing.execution_selectors import (
    DefectFilters,
    ExecutionFilters,
    ReviewState,
    StepStatus,
    review_state,
    step_lines,
)
from portal.testing.models import (
    Defect,
    DefectStatus,
    ExecutionStatus,
    TestBatch,
    TestExecution,
)
from portal.testing.models.execution import CompletionReport, ReportStatus
from portal.testing.permissions import QT_TASK, assures_qt, takes_part_in_qt, works_on_qt

router = Router(tags=["qualification testing: execution"])

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_WORK_ON_QT = may_call(
    on_task(QT_TASK, works_on_qt), refusal="Only the applying organisation can record runs and raise defects."
)
MAY_ASSURE_QT = may_call(
    on_task(QT_TASK, assures_qt),
    refusal="Only the assurers of Qualification Testing can review the evidence of test executions.",
)
MAY_TAKE_PART_IN_QT = may_call(
    on_task(QT_TASK, takes_part_in_qt),
    refusal="Only the applying organisation and Testing Assurance can change defects.",
)
Severity = Annotated[int, Field(ge=1, le=4, description="1 critical, 2 high, 3 medium, 4 low.")]
FileFormat = PathEx[Literal["pdf", "xlsx"], P(description="The report as a PDF or as an Excel workbook.")]
BINARY = {"schema": {"type": "string", "format": "binary"}}


# --- schemas ---------------------------------------------------------------------------------------


class QtEvidenceOut(Schema):
    id: int
    name: str
    file_type: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class StepResultIn(Schema):
    step: int = Field(ge=1, le=10_000, description="The step's number in the case version.")
    status: StepStatus
    actual: str = Field("", max_length=services.MAX_ACTUAL_LENGTH, description="What the step actually did.")


class ExecutionStepOut(Schema):
    step: int
    action: str
    expected: str
    status: str = Field(description="passed, failed, blocked or not_run; empty when the run gave no step results.")
    actual: str


class ExecutionIn(Schema):
    case: str = Field(min_length=1, max_length=40, description="The test case identifier, e.g. QTC-SUP-001.")
    status: ExecutionStatus
    tester: str = Field(min_length=1, max_length=services.MAX_TESTER_LENGTH, description="Who ran the test.")
    executed_at: datetime = Field(description="When it ran; not in the future. Without a zone, UK time.")
    notes: str = Field(
        "", max_length=services.MAX_NOTES_LENGTH, description="Required for failed, blocked, observations."
    )
    step_results: list[StepResultIn] | None = Field(
        None, max_length=1_000, description="One per step of the current version (required for an outcome)."
    )


class ExecutionSummary(Schema):
    id: int
    case: str
    title: str
    batch: TestBatch
    case_version: int
    status: ExecutionStatus
    tester: str
    executed_at: datetime
    review: ReviewState = Field(description="awaiting_evidence, pending (awaiting review), accepted or rejected.")
    evidence_count: int
    defect_count: int
    is_latest: bool = Field(description="Whether this is the case's latest run, and so its result.")
    recorded_by: str
    recorded_at: datetime


class DefectRef(Schema):
    id: int
    reference: str
    title: str
    severity: int
    status: DefectStatus


class ExecutionOut(ExecutionSummary):
    application: ApplicationRef
    notes: str
    steps: list[ExecutionStepOut]
    evidence: list[QtEvidenceOut]
    review_comment: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    defects: list[DefectRef]


class ReviewIn(Schema):
    decision: Literal["accept", "reject"]
    comment: str = Field("", max_length=MAX_COMMENT_LENGTH, description="Required when rejecting.")


class ExecutionListFilters(Schema):
    status: ExecutionStatus | None = Field(None, description="Only runs with this result.")
    batch: TestBatch | None = Field(None, description="Only runs of cases in this batch.")
    review: ReviewState | None = Field(None, description="Only runs whose evidence is in this state.")
    case: str | None = Field(None, max_length=40, description="Only runs of this case (its identifier).")
    latest_only: bool = Field(False, description="Only the latest run of each case.")


class DefectIn(Schema):
    title: str = Field(min_length=1, max_length=services.MAX_TITLE_LENGTH)
    description: str = Field("", max_length=services.MAX_DESCRIPTION_LENGTH)
    severity: Severity
    execution_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=services.MAX_LINKED_EXECUTIONS, description="Runs it was found in."
    )


class DefectStatusIn(Schema):
    status: DefectStatus
    comment: str = Field("", max_length=MAX_COMMENT_LENGTH, description="Required to close unfixed, defer or reopen.")


class CommentIn(Schema):
    comment: str = Field(min_length=1, max_length=MAX_COMMENT_LENGTH)


class DefectEntryOut(Schema):
    author: str
    from_status: DefectStatus | None
    to_status: DefectStatus | None
    text: str
    created_at: datetime


class DefectSummary(Schema):
    id: int
    reference: str = Field(description="DEF-0001, numbered per application.")
    title: str
    severity: int
    status: DefectStatus
    raised_by: str
    raised_at: datetime
    closed_at: datetime | None


class DefectOut(DefectSummary):
    application: ApplicationRef
    description: str
    executions: list[ExecutionSummary]
    entries: list[DefectEntryOut] = Field(description="Its thread: status changes and comments, oldest first.")
    next_statuses: list[DefectStatus] = Field(description="The statuses you may move it to now.")


class DefectListFilters(Schema):
    status: DefectStatus | None = None
    severity: Severity | None = None


class ReportOut(Schema):
    id: int
    status: ReportStatus
    requested_by: str
    requested_at: datetime
    generated_at: datetime | None
    pdf_sha256: str
    xlsx_sha256: str
    summary: dict[str, int] = Field(description="Headline counts when it was generated.")
    error: str


# --- shaping ---------------------------------------------------------------------------------------


def _evidence(evidence: EvidenceFile) -> dict[str, Any]:
    return {
        "id": evidence.pk,
        "name": evidence.original_name,
        "file_type": evidence.file_type,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "uploaded_by": evidence.uploaded_by.display_name,
        "uploaded_at": evidence.uploaded_at,
    }


def _summary(run: TestExecution) -> dict[str, Any]:
    evidence_count = int(getattr(run, "evidence_count", 0))
    return {
        "id": run.pk,
        "case": run.case.identifier,
        "title": run.case_version.title,
        "batch": run.case_version.batch,
        "case_version": run.case_version.version,
        "status": run.status,
        "tester": run.tester,
        "executed_at": run.executed_at,
        "review": review_state(status=run.status, review=run.review, evidence_count=evidence_count),
        "evidence_count": evidence_count,
        "defect_count": int(getattr(run, "defect_count", 0)),
        "is_latest": bool(getattr(run, "is_latest", False)),
        "recorded_by": run.recorded_by.display_name,
        "recorded_at": run.recorded_at,
    }


def _defect_ref(defect: Defect) -> dict[str, Any]:
    return {
        "id": defect.pk,
        "reference": defect.reference,
        "title": defect.title,
        "severity": defect.severity,
        "status": defect.status,
    }


def _execution(request: HttpRequest, application_id: int, execution_id: int) -> dict[str, Any]:
    detail = selectors.execution_get(user=caller(request), application_id=application_id, execution_id=execution_id)
    run = detail.execution
    return {
        **_summary(run),
        "application": detail.application,
        "notes": run.notes,
        "steps": [
            {"step": s.number, "action": s.action, "expected": s.expected, "status": s.status, "actual": s.actual}
            for s in step_lines(run.case_version, run.step_results)
        ],
        "evidence": [_evidence(e) for e in detail.evidence],
        "review_comment": run.review_comment,
        "reviewed_by": run.reviewed_by.display_name if run.reviewed_by else None,
        "reviewed_at": run.reviewed_at,
        "defects": [_defect_ref(d) for d in detail.defects],
    }


def _defect_summary(defect: Defect) -> dict[str, Any]:
    return {
        **_defect_ref(defect),
        "raised_by": defect.raised_by.display_name,
        "raised_at": defect.raised_at,
        "closed_at": defect.closed_at,
    }


def _defect(request: HttpRequest, application_id: int, defect_id: int) -> dict[str, Any]:
    detail = selectors.defect_get(user=caller(request), application_id=application_id, defect_id=defect_id)
    return {
        **_defect_summary(detail.defect),
        "application": detail.application,
        "description": detail.defect.description,
        "executions": [_summary(run) for run in detail.executions],
        "entries": [
            {
                "author": entry.author.display_name,
                "from_status": entry.from_status or None,
                "to_status": entry.to_status or None,
                "text": entry.text,
                "created_at": entry.created_at,
            }
            for entry in detail.entries
        ],
        "next_statuses": [status for status, _, _ in detail.next_statuses],
    }


def _report(report: CompletionReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "status": report.status,
        "requested_by": report.requested_by.display_name,
        "requested_at": report.requested_at,
        "generated_at": report.generated_at,
        "pdf_sha256": report.pdf_sha256,
        "xlsx_sha256": report.xlsx_sha256,
        "summary": {k: int(v) for k, v in (report.summary or {}).items() if isinstance(v, int)},
        "error": report.error,
    }


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _download(handle: Any, name: str, content_type: str) -> FileResponse:
    return FileResponse(handle, as_attachment=True, filename=safe_download_name(name), content_type=content_type)


# --- executions -------------------------------------------------------------------------------------

EXEC = "/applications/{int:application_id}/qt/executions"


@router.get(EXEC, response={200: list[ExecutionSummary], **responses(404)})
@paginate(Keyset, fields=("executed_at", "id"))
def qt_execution_list(request: HttpRequest, application_id: ObjectId, filters: Query[ExecutionListFilters]) -> Any:
    """The application's test runs, newest first, with filters. Paged by cursor (a results import can add a
    hundred thousand runs at once): follow `next_cursor` until it is null."""
    view = selectors.execution_list(
        user=caller(request),
        application_id=application_id,
        filters=ExecutionFilters(
            status=filters.status or "",
            batch=filters.batch or "",
            review=filters.review or "",
            case=filters.case or "",
            latest_only=filters.latest_only,
        ),
    )
    return PresentedPages(view.executions, each(_summary))


@router.post(EXEC, response={201: ExecutionOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT)
def qt_execution_record(request: HttpRequest, application_id: ObjectId, payload: ExecutionIn) -> Status[dict[str, Any]]:
    """Record a run without files: only a blocked or not-run run needs none. Send a run that claims an
    outcome, with its evidence, to `.../executions/upload`."""
    run = services.execution_record(
        actor=caller(request),
        application_id=application_id,
        case=payload.case,
        status=payload.status,
        tester=payload.tester,
        executed_at=_aware(payload.executed_at),
        notes=payload.notes,
        step_results=[s.model_dump() for s in payload.step_results] if payload.step_results is not None else None,
    )
    return Status(201, _execution(request, application_id, run.pk))


@router.post(f"{EXEC}/upload", response={201: ExecutionOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT)
def qt_execution_record_upload(
    request: HttpRequest,
    application_id: ObjectId,
    case: Form[Annotated[str, Field(min_length=1, max_length=40)]],
    status: Form[ExecutionStatus],
    tester: Form[Annotated[str, Field(min_length=1, max_length=services.MAX_TESTER_LENGTH)]],
    executed_at: Form[datetime],
    notes: Form[str] = "",
    step_results: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]  # optional upload field
) -> Status[dict[str, Any]]:
    """Record a run as multipart/form-data with its evidence files (field `files`). `step_results` is
    JSON text: `[{"step": 1, "status": "passed", "actual": "…"}, …]`."""
    parsed: Any = None
    if step_results.strip():
        try:
            parsed = json.loads(step_results)
        except ValueError as exc:
            raise InvalidInput(
                'step_results must be JSON: a list of {"step", "status", "actual"}.',
                details={"field": "step_results"},
            ) from exc
    run = services.execution_record(
        actor=caller(request),
        application_id=application_id,
        case=case,
        status=status,
        tester=tester,
        executed_at=_aware(executed_at),
        notes=notes,
        step_results=parsed,
        files=files or [],
    )
    return Status(201, _execution(request, application_id, run.pk))


@router.get(EXEC + "/{int:execution_id}", response={200: ExecutionOut, **responses(404)})
def qt_execution_get(request: HttpRequest, application_id: ObjectId, execution_id: ObjectId) -> dict[str, Any]:
    """One run: its steps with their results, evidence, review and defects."""
    return _execution(request, application_id, execution_id)


@router.post(EXEC + "/{int:execution_id}/evidence", response={200: ExecutionOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT)
def qt_execution_evidence_add(
    request: HttpRequest,
    application_id: ObjectId,
    execution_id: ObjectId,
    files: File[list[UploadedFile]],
) -> dict[str, Any]:
    """Attach evidence files (multipart, field `files`) to a run awaiting evidence or whose evidence was
    rejected; a rejected run goes back to Testing Assurance for review."""
    services.execution_evidence_add(
        actor=caller(request), application_id=application_id, execution_id=execution_id, files=files
    )
    return _execution(request, application_id, execution_id)


@router.post(EXEC + "/{int:execution_id}/review", response={200: ExecutionOut, **WRITE_ERRORS}, auth=MAY_ASSURE_QT)
def qt_execution_review(
    request: HttpRequest, application_id: ObjectId, execution_id: ObjectId, payload: ReviewIn
) -> dict[str, Any]:
    """Testing Assurance accepts a run's evidence, or rejects it with a comment."""
    services.execution_review(
        actor=caller(request),
        application_id=application_id,
        execution_id=execution_id,
        decision=payload.decision,
        comment=payload.comment,
    )
    return _execution(request, application_id, execution_id)


@router.get(
    EXEC + "/{int:execution_id}/evidence/{int:evidence_id}",
    response=responses(404),
    openapi_extra={
        "responses": {
            200: {"description": "The file, as an attachment.", "content": {"application/octet-stream": BINARY}}
        }
    },
)
def qt_execution_evidence_download(
    request: HttpRequest, application_id: ObjectId, execution_id: ObjectId, evidence_id: ObjectId
) -> FileResponse:
    """Download an evidence file of a run. Downloads by reviewers are audited."""
    evidence = services.execution_evidence_open(
        actor=caller(request), application_id=application_id, execution_id=execution_id, evidence_id=evidence_id
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return _download(handle, evidence.original_name, "application/octet-stream")


@router.get(
    "/applications/{int:application_id}/qt/results.xlsx",
    response=responses(404),
    openapi_extra={
        "responses": {200: {"description": "The runs as an XLSX workbook.", "content": {XLSX_CONTENT_TYPE: BINARY}}}
    },
)
def qt_results_export(
    request: HttpRequest, application_id: ObjectId, filters: Query[ExecutionListFilters]
) -> HttpResponse:
    """The runs matching the filters as an Excel workbook (sheet Results; its first six columns are the
    results import's own)."""
    view = selectors.execution_list(
        user=caller(request),
        application_id=application_id,
        filters=ExecutionFilters(
            status=filters.status or "",
            batch=filters.batch or "",
            review=filters.review or "",
            case=filters.case or "",
            latest_only=filters.latest_only,
        ),
    )
    response = HttpResponse(reports.results_xlsx(view.executions), content_type=XLSX_CONTENT_TYPE)
    name = safe_download_name(f"{view.application.reference} test results.xlsx")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- defects ------------------------------------------------------------------------------------------

DEFECTS = "/applications/{int:application_id}/qt/defects"


@router.get(DEFECTS, response={200: list[DefectSummary], **responses(404)})
@paginate(LimitOffset)
def qt_defect_list(request: HttpRequest, application_id: ObjectId, filters: Query[DefectListFilters]) -> Any:
    """The application's defects, by number."""
    view = selectors.defect_list(
        user=caller(request),
        application_id=application_id,
        filters=DefectFilters(status=filters.status or "", severity=filters.severity),
    )
    return PresentedPages(view.defects, each(_defect_summary))


@router.post(DEFECTS, response={201: DefectOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT)
def qt_defect_raise(request: HttpRequest, application_id: ObjectId, payload: DefectIn) -> Status[dict[str, Any]]:
    """Raise a defect, linked to the runs it was found in. Testing Assurance is told of severity 1 and 2."""
    defect = services.defect_raise(
        actor=caller(request),
        application_id=application_id,
        fields=services.DefectFields(
            title=payload.title,
            description=payload.description,
            severity=payload.severity,
            execution_ids=payload.execution_ids,
        ),
    )
    return Status(201, _defect(request, application_id, defect.pk))


@router.get(DEFECTS + "/{int:defect_id}", response={200: DefectOut, **responses(404)})
def qt_defect_get(request: HttpRequest, application_id: ObjectId, defect_id: ObjectId) -> dict[str, Any]:
    """One defect with its runs and its thread."""
    return _defect(request, application_id, defect_id)


@router.put(DEFECTS + "/{int:defect_id}", response={200: DefectOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT)
def qt_defect_update(
    request: HttpRequest, application_id: ObjectId, defect_id: ObjectId, payload: DefectIn
) -> dict[str, Any]:
    """Replace a defect's title, description, severity and linked runs (the participant)."""
    services.defect_update(
        actor=caller(request),
        application_id=application_id,
        defect_id=defect_id,
        fields=services.DefectFields(
            title=payload.title,
            description=payload.description,
            severity=payload.severity,
            execution_ids=payload.execution_ids,
        ),
    )
    return _defect(request, application_id, defect_id)


@router.post(DEFECTS + "/{int:defect_id}/status", response={200: DefectOut, **WRITE_ERRORS}, auth=MAY_TAKE_PART_IN_QT)
def qt_defect_status_change(
    request: HttpRequest, application_id: ObjectId, defect_id: ObjectId, payload: DefectStatusIn
) -> dict[str, Any]:
    """Move a defect on: open → fixed → closed; open or fixed → deferred (to work-off); reopen. The
    participant or Testing Assurance."""
    services.defect_status_change(
        actor=caller(request),
        application_id=application_id,
        defect_id=defect_id,
        status=payload.status,
        comment=payload.comment,
    )
    return _defect(request, application_id, defect_id)


@router.post(DEFECTS + "/{int:defect_id}/comments", response={201: DefectOut, **WRITE_ERRORS}, auth=MAY_TAKE_PART_IN_QT)
def qt_defect_comment(
    request: HttpRequest, application_id: ObjectId, defect_id: ObjectId, payload: CommentIn
) -> Status[dict[str, Any]]:
    """Comment on a defect (the participant or Testing Assurance); the other side is told."""
    services.defect_comment(
        actor=caller(request), application_id=application_id, defect_id=defect_id, text=payload.comment
    )
    return Status(201, _defect(request, application_id, defect_id))


# --- the test completion report --------------------------------------------------------------------------

REPORTS = "/applications/{int:application_id}/qt/completion-reports"


@router.get(REPORTS, response={200: list[ReportOut], **responses(404)})
def qt_completion_report_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """The application's latest test completion reports (at most 20), newest first."""
    _, found = selectors.completion_reports(user=caller(request), application_id=application_id)
    return [_report(r) for r in found]


@router.post(REPORTS, response={202: ReportOut, **WRITE_ERRORS})
def qt_completion_report_request(request: HttpRequest, application_id: ObjectId) -> Status[dict[str, Any]]:
    """Ask for a test completion report: it is generated in the background. Poll it until its status
    is `ready`, then download it as PDF or XLSX."""
    report = reports.completion_report_request(actor=caller(request), application_id=application_id)
    found = selectors.completion_report_get(user=caller(request), application_id=application_id, report_id=report.pk)
    return Status(202, _report(found))


@router.get(REPORTS + "/{int:report_id}", response={200: ReportOut, **responses(404)})
def qt_completion_report_get(request: HttpRequest, application_id: ObjectId, report_id: ObjectId) -> dict[str, Any]:
    """A report's status: queued, generating, ready or failed."""
    return _report(
        selectors.completion_report_get(user=caller(request), application_id=application_id, report_id=report_id)
    )


@router.get(
    REPORTS + "/{int:report_id}/{file_format}",
    response=responses(404),
    openapi_extra={
        "responses": {
            200: {
                "description": "The report, as an attachment.",
                "content": {"application/pdf": BINARY, XLSX_CONTENT_TYPE: BINARY},
            }
        }
    },
)
def qt_completion_report_download(
    request: HttpRequest, application_id: ObjectId, report_id: ObjectId, file_format: FileFormat
) -> FileResponse:
    """Download a ready report as `pdf` or `xlsx`; 404 until it is ready."""
    report = selectors.completion_report_get(user=caller(request), application_id=application_id, report_id=report_id)
    if report.status != ReportStatus.READY:
        raise Http404("The report is not ready.")
    stored = report.pdf if file_format == "pdf" else report.xlsx
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    content_type = "application/pdf" if file_format == "pdf" else XLSX_CONTENT_TYPE
    return _download(handle, f"{report.application.reference} test completion report.{file_format}", content_type)
