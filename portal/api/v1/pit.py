"""Pre-Integration Testing: the PIT exit criteria checklist with its evidence, and the RTTM versions
at PIT entry and PIT exit. Mounted at `/v1`: every path starts `/applications/{application_id}/pit`.

The participant records results and uploads files while the `pit` task is with them (not started, in
progress, or changes requested); submitting PIT, and the Programme's decision, are the task's own
transitions (`/applications/{application_id}/tasks/pit/transitions`)."""

from datetime import datetime
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, File, Form, P, PathEx, Router, Schema, UploadedFile
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.schemas import ApplicationRef, TaskSummary
from portal.api.v1._request import ObjectId, caller
from portal.documents.models import EvidenceFile
from portal.testing import selectors, services
from portal.testing.models import RttmCheckpoint, RttmUpload
from portal.testing.permissions import PIT_TASK, can_work_on_pit
from portal.testing.selectors import CriterionRow, RttmCheckpointRow
from portal.testing.services import MAX_NOTE_LENGTH

router = Router(tags=["pre-integration testing"])

CriterionCode = PathEx[str, P(max_length=40, description="The criterion's code, e.g. pit_dbt1_complete.")]
Checkpoint = PathEx[Literal["pit_entry", "pit_exit"], P(description="The RTTM checkpoint of PIT.")]

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_WORK_ON_PIT = may_call(
    on_task(PIT_TASK, can_work_on_pit),
    refusal="Only the applying organisation can record PIT results and upload RTTMs.",
)


class PitEvidenceOut(Schema):
    id: int
    name: str
    file_type: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class PitResultOut(Schema):
    met: bool
    note: str
    recorded_by: str
    recorded_at: datetime


class PitCriterionOut(Schema):
    code: str
    title: str
    guidance: str
    order: int
    is_required: bool
    evidence_required: bool
    status: Literal["met", "not_met", "not_recorded"]
    result: PitResultOut | None
    evidence: list[PitEvidenceOut]
    missing: list[str] = Field(description="What this criterion still lacks before PIT can be submitted.")


class RttmVersionOut(Schema):
    checkpoint: RttmCheckpoint
    version: int
    note: str
    created_at: datetime
    file: PitEvidenceOut


class RttmCheckpointOut(Schema):
    checkpoint: RttmCheckpoint
    label: str
    current_version: int | None
    versions: list[RttmVersionOut] = Field(description="Every version, newest first.")


class PitChecklistOut(Schema):
    application: ApplicationRef
    task: TaskSummary
    can_edit: bool = Field(description="Whether you may record results and upload files now.")
    missing: list[str] = Field(description="Everything that stops PIT from being submitted; empty when ready.")
    criteria: list[PitCriterionOut]
    rttm: list[RttmCheckpointOut]


class PitResultIn(Schema):
    met: bool
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


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


def _criterion(row: CriterionRow) -> dict[str, Any]:
    criterion, result = row.criterion, row.result
    return {
        "code": criterion.code,
        "title": criterion.title,
        "guidance": criterion.guidance,
        "order": criterion.order,
        "is_required": criterion.is_required,
        "evidence_required": criterion.evidence_required,
        "status": row.status,
        "result": None
        if result is None
        else {
            "met": result.met,
            "note": result.note,
            "recorded_by": result.recorded_by.display_name,
            "recorded_at": result.recorded_at,
        },
        "evidence": [_evidence(e) for e in row.evidence],
        "missing": row.missing,
    }


def _version(upload: RttmUpload) -> dict[str, Any]:
    return {
        "checkpoint": upload.checkpoint,
        "version": upload.version,
        "note": upload.note,
        "created_at": upload.created_at,
        "file": _evidence(upload.evidence),
    }


def _checkpoint(row: RttmCheckpointRow) -> dict[str, Any]:
    return {
        "checkpoint": row.checkpoint,
        "label": row.label,
        "current_version": row.current.version if row.current else None,
        "versions": [_version(v) for v in row.versions],
    }


def _row(request: HttpRequest, application_id: int, code: str) -> dict[str, Any]:
    return _criterion(
        selectors.pit_criterion_row(user=caller(request), application_id=application_id, criterion_code=code)
    )


@router.get("/applications/{int:application_id}/pit", response={200: PitChecklistOut, **responses(404)})
def pit_checklist_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The PIT checklist: each exit criterion with its result and evidence, the RTTM versions at PIT
    entry and PIT exit, and what is still missing before PIT can be submitted."""
    checklist = selectors.pit_checklist(user=caller(request), application_id=application_id)
    return {
        "application": checklist.application,
        "task": checklist.task,
        "can_edit": checklist.can_edit,
        "missing": checklist.missing,
        "criteria": [_criterion(row) for row in checklist.rows],
        "rttm": [_checkpoint(row) for row in checklist.rttm],
    }


@router.post(
    "/applications/{int:application_id}/pit/criteria/{criterion_code}",
    response={200: PitCriterionOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_PIT,
)
def pit_criterion_record(
    request: HttpRequest, application_id: ObjectId, criterion_code: CriterionCode, payload: PitResultIn
) -> dict[str, Any]:
    """Record whether a criterion is met, with a note (recording again replaces both)."""
    services.pit_criterion_record(
        actor=caller(request),
        application_id=application_id,
        criterion_code=criterion_code,
        met=payload.met,
        note=payload.note,
    )
    return _row(request, application_id, criterion_code)


@router.post(
    "/applications/{int:application_id}/pit/criteria/{criterion_code}/upload",
    response={200: PitCriterionOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_PIT,
)
def pit_criterion_record_upload(
    request: HttpRequest,
    application_id: ObjectId,
    criterion_code: CriterionCode,
    met: Form[bool],
    note: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]  # optional upload field
) -> dict[str, Any]:
    """The same as recording a result, sent as multipart/form-data with evidence files (field
    `files`), which are added to those already attached."""
    services.pit_criterion_record(
        actor=caller(request),
        application_id=application_id,
        criterion_code=criterion_code,
        met=met,
        note=note,
        files=files or [],
    )
    return _row(request, application_id, criterion_code)


@router.delete(
    "/applications/{int:application_id}/pit/criteria/{criterion_code}/evidence/{int:evidence_id}",
    response={200: PitCriterionOut, **WRITE_ERRORS},
)
def pit_criterion_evidence_remove(
    request: HttpRequest, application_id: ObjectId, criterion_code: CriterionCode, evidence_id: ObjectId
) -> dict[str, Any]:
    """Take an evidence file off a criterion. The file itself is kept, as all evidence is."""
    services.pit_criterion_evidence_remove(
        actor=caller(request), application_id=application_id, criterion_code=criterion_code, evidence_id=evidence_id
    )
    return _row(request, application_id, criterion_code)


@router.get("/applications/{int:application_id}/pit/rttm", response={200: list[RttmCheckpointOut], **responses(404)})
def pit_rttm_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """The RTTM versions at PIT entry and PIT exit, newest first."""
    return [
        _checkpoint(row) for row in selectors.pit_rttm_versions(user=caller(request), application_id=application_id)
    ]


@router.post(
    "/applications/{int:application_id}/pit/rttm/{checkpoint}",
    response={201: RttmVersionOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_PIT,
)
def pit_rttm_upload(
    request: HttpRequest,
    application_id: ObjectId,
    checkpoint: Checkpoint,
    file: File[UploadedFile],
    note: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Upload the RTTM at a PIT checkpoint as multipart/form-data (field `file`, XLSX or CSV). Each
    upload is a new version; earlier versions are kept."""
    upload = services.pit_rttm_upload(
        actor=caller(request), application_id=application_id, checkpoint=checkpoint, upload=file, note=note
    )
    return Status(201, _version(upload))


@router.get(
    "/applications/{int:application_id}/pit/evidence/{int:evidence_id}",
    response=responses(404),
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment.",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def pit_evidence_download(request: HttpRequest, application_id: ObjectId, evidence_id: ObjectId) -> FileResponse:
    """Download a PIT evidence file or RTTM of the application. Downloads by reviewers are audited."""
    evidence = services.pit_evidence_open(actor=caller(request), application_id=application_id, evidence_id=evidence_id)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(evidence.original_name),
        content_type="application/octet-stream",
    )


def _download_name(name: str) -> str:
    cleaned = "".join(
        ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable() and ch not in '"<>|:*?;'
    )
    return cleaned.strip(" .")[:150] or "evidence"
