"""Background workbook imports: queue one, then poll it. Mounted at `/v1/imports`.

`POST /v1/imports` takes multipart/form-data: `kind` (catalogue, rttm or results), `application_id` for
an application's RTTM or results, and the workbook in `file`. It answers 202 with the job at once; the
rows are checked and stored by a worker. Poll `GET /v1/imports/{job_id}` until `status` is `succeeded`
or `failed`; a failed job lists each problem with its row, column and reason, and stored nothing."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, UploadedFile
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.testing.imports import import_job_create, import_job_get, import_percent
from portal.testing.models import ImportJob, ImportKind, ImportStatus

router = Router(tags=["imports"])

ApplicationId = Annotated[int, Field(ge=1, le=MAX_ID, description="The application, for an RTTM or results import.")]


class ImportProblemOut(Schema):
    row: int = Field(description="The spreadsheet row (1 is the header row; 0 when about the whole file).")
    column: str
    reason: str
    sheet: str = Field("", description="The sheet, for imports that read several (the catalogue).")


class ImportJobOut(Schema):
    id: int
    kind: ImportKind
    application_id: int | None
    file_name: str
    sha256: str
    status: ImportStatus
    percent: int = Field(description="How far the checks have got, 0–100 (100 once finished).")
    total_rows: int
    processed_rows: int
    stored_rows: int
    error_count: int
    errors: list[ImportProblemOut] = Field(description="The first problems found (at most 500).")
    created_by: str
    created_at: datetime
    finished_at: datetime | None


def _job(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "application_id": job.application_id,
        "file_name": job.original_name,
        "sha256": job.sha256,
        "status": job.status,
        "percent": import_percent(job),
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "stored_rows": job.stored_rows,
        "error_count": job.error_count,
        "errors": job.errors,
        "created_by": job.created_by.display_name,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@router.post("", response={202: ImportJobOut, **responses(400, 403, 404, 409)})
def import_job_queue(
    request: HttpRequest,
    kind: Form[Literal["catalogue", "rttm", "results"]],
    file: File[UploadedFile],
    application_id: Form[ApplicationId | None] = None,
) -> Status[dict[str, Any]]:
    """Queue a workbook import. The catalogue is imported by the staff who keep it; an application's
    RTTM and results by its participant while Qualification Testing is with them."""
    job = import_job_create(actor=caller(request), kind=kind, upload=file, application_id=application_id)
    return Status(202, _job(job))


@router.get("/{int:job_id}", response={200: ImportJobOut, **responses(404)})
def import_job_status(request: HttpRequest, job_id: ObjectId) -> dict[str, Any]:
    """An import's progress, and when it has finished, what was stored or every problem found."""
    return _job(import_job_get(user=caller(request), job_id=job_id))
