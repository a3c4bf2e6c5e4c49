"""The Pre-Qualification Submission (PQS) and its placing-reliance proposal.

Mounted at `/v1`: every path starts `/applications/{application_id}/pqs`. Submitting, accepting and
sending back the PQS are actions of the `pqs` task (`POST /applications/{id}/tasks/pqs/transitions`),
whose guards say what is missing. Another organisation's PQS answers 404."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Router, Schema, UploadedFile
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.core.errors import InvalidInput
from portal.prequalification import selectors, services
from portal.prequalification.models import (
    ItemDecision,
    PqsStatus,
    RelianceProposalItem,
    RelianceScope,
    TestingProvider,
    Wave,
)
from portal.prequalification.permissions import may_decide_role, may_edit_role
from portal.prequalification.rules import MAX_EVIDENCE_PER_ITEM, MAX_IDENTIFIERS, MAX_SHORT_TEXT, MAX_TEXT, PQS_TASK
from portal.prequalification.selectors import PqsDetail
from portal.qualification.workflow import TaskState

router = Router(tags=["pre-qualification"])

MAX_UPLOADS_AT_ONCE = 10
ItemId = ObjectId

# --- shapes ----------------------------------------------------------------------------------------


class WaveOut(Schema):
    code: str
    name: str
    description: str
    starts_on: date | None
    ends_on: date | None


class PqsIn(Schema):
    """The whole PQS form. A draft may leave fields empty; submitting needs all but the last."""

    preferred_wave: str | None = Field(None, max_length=40, description="A wave's code (see /pqs/waves).")
    pit_approach: str = Field("", max_length=MAX_TEXT)
    pit_start_date: date | None = None
    pit_completion_date: date | None = Field(None, description="On or after the PIT start date.")
    qt_approach: str = Field("", max_length=MAX_TEXT)
    qt_start_date: date | None = None
    qt_completion_date: date | None = Field(None, description="On or after the QT start date.")
    target_migration_date: date | None = Field(None, description="After the QT completion date.")
    supplier_hub_relationships: str = Field("", max_length=MAX_TEXT, description="Optional, for migration planning.")


class ItemIn(Schema):
    title: str = Field(max_length=MAX_SHORT_TEXT, description="What the testing covers.")
    relied_on: bool = Field(description="false: explicitly not relied on (tested by the participant in QT).")
    scope: RelianceScope
    identifiers: list[str] = Field(max_length=MAX_IDENTIFIERS, description="Test scenario or test case identifiers.")
    provider_kind: TestingProvider | None = Field(None, description="Whose testing it is; needed when relied on.")
    provider_name: str = Field("", max_length=MAX_SHORT_TEXT, description="Needed when relied on.")
    artefacts: str = Field("", max_length=MAX_TEXT, description="The artefacts that evidence the testing.")
    rationale: str = Field(max_length=MAX_TEXT)
    evidence_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None,
        max_length=MAX_EVIDENCE_PER_ITEM,
        description="Evidence files of this application to link; omit to keep the current links.",
    )


class DecisionIn(Schema):
    decision: Literal["accepted", "rejected", "changes_requested"]
    reason: str = Field("", max_length=MAX_TEXT, description="Needed to reject or to ask for changes.")


class PqsMissingOut(Schema):
    field: str
    message: str


class PqsEvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ItemOut(Schema):
    id: int
    title: str
    relied_on: bool
    scope: RelianceScope
    identifiers: list[str]
    provider_kind: TestingProvider | None
    provider_name: str
    artefacts: str
    rationale: str
    evidence: list[PqsEvidenceOut]
    decision: ItemDecision
    decision_reason: str
    decided_by: str | None
    decided_at: datetime | None
    changed_since_decision: bool = Field(description="Changed since the decision: decided again on resubmission.")
    created_at: datetime
    updated_at: datetime


class PqsOut(Schema):
    application_id: int
    task_state: TaskState
    status: PqsStatus
    version: int = Field(description="How many times it has been submitted.")
    submitted_at: datetime | None
    submitted_by: str | None
    preferred_wave: WaveOut | None
    pit_approach: str
    pit_start_date: date | None
    pit_completion_date: date | None
    qt_approach: str
    qt_start_date: date | None
    qt_completion_date: date | None
    target_migration_date: date | None
    supplier_hub_relationships: str
    complete: bool
    missing: list[PqsMissingOut] = Field(description="What is still needed before it can be submitted.")
    reliance_required: bool = Field(description="On this route the PQS must rely on at least one item.")
    can_edit: bool
    can_decide: bool
    items: list[ItemOut]


def _wave(wave: Wave | None) -> dict[str, Any] | None:
    if wave is None:
        return None
    return {
        "code": wave.code,
        "name": wave.name,
        "description": wave.description,
        "starts_on": wave.starts_on,
        "ends_on": wave.ends_on,
    }


def _item(item: RelianceProposalItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "title": item.title,
        "relied_on": item.relied_on,
        "scope": item.scope,
        "identifiers": list(item.identifiers),
        "provider_kind": item.provider_kind or None,
        "provider_name": item.provider_name,
        "artefacts": item.artefacts,
        "rationale": item.rationale,
        "evidence": [
            {
                "id": e.pk,
                "name": e.original_name,
                "content_type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
                "uploaded_at": e.uploaded_at,
            }
            for e in item.evidence.all()
        ],
        "decision": item.decision,
        "decision_reason": item.decision_reason,
        "decided_by": item.decided_by.display_name if item.decided_by else None,
        "decided_at": item.decided_at,
        "changed_since_decision": item.changed_since_decision,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _pqs(detail: PqsDetail) -> dict[str, Any]:
    pqs = detail.pqs
    return {
        "application_id": detail.application.pk,
        "task_state": detail.task.state,
        "status": pqs.status if pqs else PqsStatus.DRAFT,
        "version": pqs.version if pqs else 0,
        "submitted_at": pqs.submitted_at if pqs else None,
        "submitted_by": pqs.submitted_by.display_name if pqs and pqs.submitted_by else None,
        "preferred_wave": _wave(pqs.preferred_wave if pqs else None),
        "pit_approach": pqs.pit_approach if pqs else "",
        "pit_start_date": pqs.pit_start_date if pqs else None,
        "pit_completion_date": pqs.pit_completion_date if pqs else None,
        "qt_approach": pqs.qt_approach if pqs else "",
        "qt_start_date": pqs.qt_start_date if pqs else None,
        "qt_completion_date": pqs.qt_completion_date if pqs else None,
        "target_migration_date": pqs.target_migration_date if pqs else None,
        "supplier_hub_relationships": pqs.supplier_hub_relationships if pqs else "",
        "complete": detail.is_complete,
        "missing": [{"field": m.field, "message": m.message} for m in detail.missing],
        "reliance_required": detail.reliance_required,
        "can_edit": detail.can_edit,
        "can_decide": detail.can_decide,
        "items": [_item(i) for i in detail.items],
    }


def _item_fields(payload: ItemIn) -> services.ItemFields:
    return services.ItemFields(
        title=payload.title,
        scope=payload.scope,
        identifiers=payload.identifiers,
        relied_on=payload.relied_on,
        rationale=payload.rationale,
        provider_kind=payload.provider_kind or "",
        provider_name=payload.provider_name,
        artefacts=payload.artefacts,
        evidence_ids=payload.evidence_ids,
    )


def _item_answer(request: HttpRequest, application_id: int, item_id: int) -> dict[str, Any]:
    return _item(selectors.reliance_item_get(user=caller(request), application_id=application_id, item_id=item_id))


PQS = "/applications/{int:application_id}/pqs"
ITEM = PQS + "/items/{int:item_id}"
WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_EDIT_PQS = may_call(
    on_task(PQS_TASK, may_edit_role),
    refusal="Only a member of the applying organisation can change its Pre-Qualification Submission.",
)
MAY_DECIDE_PQS = may_call(
    on_task(PQS_TASK, may_decide_role),
    refusal="Only the Code Bodies can decide on the items of a placing-reliance proposal.",
)

# --- operations ------------------------------------------------------------------------------------


@router.get("/pqs/waves", response={200: list[WaveOut], **responses()})
def pqs_wave_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The Qualification Testing waves a participant may prefer."""
    return [w for w in (_wave(wave) for wave in selectors.wave_choices()) if w is not None]


@router.get(PQS, response={200: PqsOut, **responses(404)})
def pqs_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's PQS with its proposal items, what is still missing and what you may do."""
    return _pqs(selectors.pqs_detail(user=caller(request), application_id=application_id))


@router.put(PQS, response={200: PqsOut, **WRITE_ERRORS}, auth=MAY_EDIT_PQS)
def pqs_put(request: HttpRequest, application_id: ObjectId, payload: PqsIn) -> dict[str, Any]:
    """Save the whole PQS form as a draft (members of the applying organisation, while it is with them)."""
    services.pqs_save_draft(
        actor=caller(request), application_id=application_id, fields=services.PqsFields(**payload.model_dump())
    )
    return _pqs(selectors.pqs_detail(user=caller(request), application_id=application_id))


@router.get(PQS + "/items", response={200: list[ItemOut], **responses(404)})
def pqs_item_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """The items of the placing-reliance proposal, oldest first."""
    return [_item(i) for i in selectors.pqs_detail(user=caller(request), application_id=application_id).items]


@router.post(PQS + "/items", response={201: ItemOut, **WRITE_ERRORS}, auth=MAY_EDIT_PQS)
def pqs_item_create(request: HttpRequest, application_id: ObjectId, payload: ItemIn) -> Status[dict[str, Any]]:
    """Add an item to the placing-reliance proposal."""
    item = services.reliance_item_add(
        actor=caller(request), application_id=application_id, fields=_item_fields(payload)
    )
    return Status(201, _item_answer(request, application_id, item.pk))


@router.get(ITEM, response={200: ItemOut, **responses(404)})
def pqs_item_get(request: HttpRequest, application_id: ObjectId, item_id: ItemId) -> dict[str, Any]:
    """One proposal item with its evidence and the Code Bodies' decision."""
    return _item_answer(request, application_id, item_id)


@router.put(ITEM, response={200: ItemOut, **WRITE_ERRORS}, auth=MAY_EDIT_PQS)
def pqs_item_update(request: HttpRequest, application_id: ObjectId, item_id: ItemId, payload: ItemIn) -> dict[str, Any]:
    """Replace an item. If the Code Bodies had decided on it, they decide again when the PQS is resubmitted."""
    services.reliance_item_update(
        actor=caller(request), application_id=application_id, item_id=item_id, fields=_item_fields(payload)
    )
    return _item_answer(request, application_id, item_id)


@router.delete(ITEM, response={204: None, **WRITE_ERRORS}, auth=MAY_EDIT_PQS)
def pqs_item_delete(request: HttpRequest, application_id: ObjectId, item_id: ItemId) -> Status[None]:
    """Remove an item from the proposal (its evidence files stay with the application)."""
    services.reliance_item_remove(actor=caller(request), application_id=application_id, item_id=item_id)
    return Status(204, None)


@router.post(ITEM + "/evidence", response={200: ItemOut, **WRITE_ERRORS}, auth=MAY_EDIT_PQS)
def pqs_item_evidence_upload(
    request: HttpRequest,
    application_id: ObjectId,
    item_id: ItemId,
    files: File[list[UploadedFile]],
) -> dict[str, Any]:
    """Upload evidence files (multipart/form-data, field `files`) and link them to the item. A file that
    breaks a rule is refused with the rule named, and nothing is stored."""
    if len(files) > MAX_UPLOADS_AT_ONCE:
        raise InvalidInput(f"Upload {MAX_UPLOADS_AT_ONCE} files or fewer at a time.", details={"field": "files"})
    item = selectors.reliance_item_get(user=caller(request), application_id=application_id, item_id=item_id)
    services.reliance_item_update(
        actor=caller(request),
        application_id=application_id,
        item_id=item_id,
        fields=services.ItemFields(
            title=item.title,
            scope=item.scope,
            identifiers=item.identifiers,
            relied_on=item.relied_on,
            rationale=item.rationale,
            provider_kind=item.provider_kind,
            provider_name=item.provider_name,
            artefacts=item.artefacts,
        ),
        uploads=files,
    )
    return _item_answer(request, application_id, item_id)


@router.post(ITEM + "/decision", response={200: ItemOut, **responses(400, 403, 404, 409)}, auth=MAY_DECIDE_PQS)
def pqs_item_decide(
    request: HttpRequest, application_id: ObjectId, item_id: ItemId, payload: DecisionIn
) -> dict[str, Any]:
    """The Code Bodies' decision on one item, while the PQS is submitted for review."""
    services.reliance_item_decide(
        actor=caller(request),
        application_id=application_id,
        item_id=item_id,
        decision=payload.decision,
        reason=payload.reason,
    )
    return _item_answer(request, application_id, item_id)
