"""Work-off plans: the items that close tests not completed in QT (a failed, blocked or not-run case, or
a defect still open). Mounted at `/v1`: an application's plan is under
`/applications/{application_id}/workoff`, and the list across applications at `/workoff/items`.

The participant proposes, changes, withdraws and closes items (closing with evidence files, as
multipart/form-data); Testing Assurance reviews or asks for changes; a Code Body agrees or asks for
changes; Testing Assurance or a Code Body may reopen a closed item. Submitting and accepting the plan
as a whole are the `workoff` task's own transitions (`/applications/{application_id}/tasks/workoff/
transitions`), which refuse until every item is reviewed (submit) or agreed (accept)."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.pagination import LimitOffset, PresentedPages, each
from portal.api.schemas import ApplicationRef, TaskSummary
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.core.pages import safe_download_name
from portal.documents.models import EvidenceFile
from portal.testing.models import ExecutionStatus
from portal.workoff import selectors, services
from portal.workoff.models import WorkOffItem, WorkOffStatus
from portal.workoff.permissions import WORKOFF_TASK, can_take_workoff_action, holds_party, takes_part_in_workoff
from portal.workoff.selectors import ItemDetail, row_of
from portal.workoff.services import MAX_ACTION_LENGTH, MAX_COMMENT_LENGTH, MAX_OWNER_LENGTH
from portal.workoff.workflow import WorkOffAction, WorkOffParty

router = Router(tags=["work-off plans"])

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_PROPOSE_WORKOFF = may_call(
    on_task(WORKOFF_TASK, lambda user, task: holds_party(user, task, WorkOffParty.PARTICIPANT)),
    refusal="Only the applying organisation can propose work-off items.",
)
MAY_EDIT_WORKOFF = may_call(
    on_task(WORKOFF_TASK, lambda user, task: can_take_workoff_action(user, task, WorkOffAction.EDIT)),
    refusal="Only the participant can edit a work-off item.",
)
MAY_CLOSE_WORKOFF = may_call(
    on_task(WORKOFF_TASK, lambda user, task: can_take_workoff_action(user, task, WorkOffAction.CLOSE)),
    refusal="Only the participant can close a work-off item.",
)
# The action is in the body: before reading it, refuse whoever takes no part in work-off items.
MAY_ACT_ON_WORKOFF = may_call(
    on_task(WORKOFF_TASK, takes_part_in_workoff),
    refusal="Only the participant, Testing Assurance and the Code Bodies act on work-off items.",
)
TransitionAction = Literal["review", "request_changes", "agree", "withdraw", "reopen"]


# --- shapes ----------------------------------------------------------------------------------------


class EvidenceOut(Schema):
    id: int
    name: str
    file_type: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class CoversOut(Schema):
    kind: Literal["case", "defect"]
    id: int = Field(description="The test case's or the defect's id.")
    identifier: str = Field(description="The case identifier (QTC-014) or the defect reference (DEF-0003).")
    title: str
    latest_execution: ExecutionStatus | None = Field(
        description="For a case: the status of its latest run; null when it never ran, and for a defect."
    )


class WorkOffItemOut(Schema):
    id: int
    reference: str = Field(description="WO-001, counted per application.")
    application_id: int
    status: WorkOffStatus
    status_label: str
    covers: CoversOut
    action: str
    owner: str
    due_on: date
    overdue: bool = Field(description="Agreed, not closed, and past its due date (in the UK).")
    waiting_on: list[WorkOffParty] = Field(description="Who must act next; empty when nobody need act.")
    proposed_by: str
    proposed_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    agreed_by: str | None
    agreed_at: datetime | None
    last_comment: str = Field(description="The latest reviewer's comment, or the reason it was withdrawn.")
    closure_note: str
    closed_by: str | None
    closed_at: datetime | None
    closure_evidence: list[EvidenceOut]


class WorkOffListItemOut(WorkOffItemOut):
    application: ApplicationRef


class HistoryEventOut(Schema):
    action: str = Field(description="What happened, e.g. workoff.propose or workoff.agree.")
    summary: str
    actor: str
    occurred_at: datetime
    comment: str


class WorkOffItemDetailOut(WorkOffItemOut):
    available_actions: list[WorkOffAction] = Field(description="What you may do on this item now.")
    history: list[HistoryEventOut] = Field(description="Everything that happened to the item, oldest first.")


class WorkOffPlanOut(Schema):
    application: ApplicationRef
    task: TaskSummary
    can_propose: bool = Field(description="Whether you may propose an item now.")
    propose_refusal: str = Field(description="Why you may not propose an item now; empty when you may.")
    missing_for_submit: list[str] = Field(description="What stops the plan from being submitted; empty when ready.")
    missing_for_accept: list[str] = Field(description="What stops the plan from being accepted; empty when ready.")
    items: list[WorkOffItemOut] = Field(description="Every item by number, withdrawn ones too.")


class CoverableOut(Schema):
    kind: Literal["case", "defect"]
    id: int = Field(description="Send it as case_id or defect_id when proposing an item.")
    label: str
    reason: str = Field(description="Why it may be covered, e.g. its latest run failed.")


class WorkOffItemEditIn(Schema):
    action: str = Field(min_length=1, max_length=MAX_ACTION_LENGTH, description="What will be done to close it.")
    owner: str = Field(min_length=1, max_length=MAX_OWNER_LENGTH, description="Who at the participant owns it.")
    due_on: date = Field(description="Today or later (in the UK).")


class WorkOffItemIn(WorkOffItemEditIn):
    case_id: int | None = Field(None, ge=1, le=MAX_ID, description="The test case the item covers…")
    defect_id: int | None = Field(None, ge=1, le=MAX_ID, description="…or the defect (exactly one of the two).")


class WorkOffTransitionIn(Schema):
    action: TransitionAction = Field(
        description="review / request_changes (Testing Assurance, on a proposed item); agree / request_changes "
        "(a Code Body, on a reviewed item); withdraw (the participant, before it is agreed); reopen (Testing "
        "Assurance or a Code Body, on a closed item)."
    )
    comment: str = Field(
        "", max_length=MAX_COMMENT_LENGTH, description="Required for request_changes, withdraw and reopen."
    )


class WorkOffListFilters(Schema):
    status: WorkOffStatus | None = Field(None, description="Only items in this status.")
    overdue: bool | None = Field(None, description="true: only overdue items; false: none that is overdue.")
    organisation_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this organisation's items.")
    application_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this application's items.")
    sort: Literal["due_on", "-due_on"] = Field("due_on", description="By due date, soonest (or latest) first.")


# --- presenting --------------------------------------------------------------------------------------


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


def _name(user: Any) -> str | None:
    return str(user.display_name) if user is not None else None


def _item(item: WorkOffItem, evidence: list[EvidenceFile] | None = None) -> dict[str, Any]:
    row = row_of(item)
    if item.case is not None:
        covers = {
            "kind": "case",
            "id": item.case.pk,
            "identifier": item.case.identifier,
            "title": selectors.case_title(item.case),
            "latest_execution": row.latest_execution or None,
        }
    else:
        assert item.defect is not None
        covers = {
            "kind": "defect",
            "id": item.defect.pk,
            "identifier": item.defect.reference,
            "title": item.defect.title,
            "latest_execution": None,
        }
    if evidence is None:
        evidence = sorted(item.closure_evidence.all(), key=lambda e: (e.uploaded_at, e.pk))
    return {
        "id": item.pk,
        "reference": item.reference,
        "application_id": item.application_id,
        "application": item.application,
        "status": item.status,
        "status_label": WorkOffStatus(item.status).label,
        "covers": covers,
        "action": item.action,
        "owner": item.owner,
        "due_on": item.due_on,
        "overdue": row.overdue,
        "waiting_on": sorted(row.waiting_for),
        "proposed_by": item.proposed_by.display_name,
        "proposed_at": item.proposed_at,
        "reviewed_by": _name(item.reviewed_by),
        "reviewed_at": item.reviewed_at,
        "agreed_by": _name(item.agreed_by),
        "agreed_at": item.agreed_at,
        "last_comment": item.last_comment,
        "closure_note": item.closure_note,
        "closed_by": _name(item.closed_by),
        "closed_at": item.closed_at,
        "closure_evidence": [_evidence(e) for e in evidence],
    }


def _detail(detail: ItemDetail) -> dict[str, Any]:
    order = [
        WorkOffAction.EDIT,
        WorkOffAction.REVIEW,
        WorkOffAction.AGREE,
        WorkOffAction.REQUEST_CHANGES,
        WorkOffAction.CLOSE,
        WorkOffAction.REOPEN,
        WorkOffAction.WITHDRAW,
    ]
    return {
        **_item(detail.item, detail.evidence),
        "available_actions": [a for a in order if detail.may(a)],
        "history": [
            {
                "action": event.action,
                "summary": event.summary,
                "actor": event.actor.display_name if event.actor else event.actor_label,
                "occurred_at": event.occurred_at,
                "comment": str(event.after.get("comment", "")) if isinstance(event.after, dict) else "",
            }
            for event in detail.history
        ],
    }


def _get(request: HttpRequest, application_id: int, item_id: int) -> dict[str, Any]:
    return _detail(selectors.workoff_item_get(user=caller(request), application_id=application_id, item_id=item_id))


# --- an application's plan -----------------------------------------------------------------------------


@router.get("/applications/{int:application_id}/workoff", response={200: WorkOffPlanOut, **responses(404)})
def workoff_plan_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's work-off plan: every item, whether you may propose one, and what stops the plan
    from being submitted or accepted."""
    plan = selectors.workoff_plan(user=caller(request), application_id=application_id)
    return {
        "application": plan.application,
        "task": plan.task,
        "can_propose": plan.can_propose,
        "propose_refusal": plan.propose_refusal,
        "missing_for_submit": plan.missing_for_submit,
        "missing_for_accept": plan.missing_for_accept,
        "items": [_item(row.item) for row in plan.rows],
    }


@router.get(
    "/applications/{int:application_id}/workoff/coverable", response={200: list[CoverableOut], **responses(404)}
)
def workoff_coverable_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """What a new item may cover: the role-set cases whose latest run failed, was blocked or was not run
    (or that never ran), and the defects not closed, none already covered by an item."""
    plan = selectors.workoff_plan(user=caller(request), application_id=application_id)
    result = []
    for choice in selectors.coverable(plan.application):
        kind, _, pk = choice.value.partition(":")
        result.append({"kind": kind, "id": int(pk), "label": choice.label, "reason": choice.reason})
    return result


@router.post(
    "/applications/{int:application_id}/workoff/items",
    response={201: WorkOffItemDetailOut, **WRITE_ERRORS},
    auth=MAY_PROPOSE_WORKOFF,
)
def workoff_item_propose(
    request: HttpRequest, application_id: ObjectId, payload: WorkOffItemIn
) -> Status[dict[str, Any]]:
    """Propose an item covering one test case or one defect (the participant). Testing Assurance is asked
    to review it."""
    item = services.workoff_item_propose(
        actor=caller(request),
        application_id=application_id,
        case_id=payload.case_id,
        defect_id=payload.defect_id,
        action=payload.action,
        owner=payload.owner,
        due_on=payload.due_on,
    )
    return Status(201, _get(request, application_id, item.pk))


@router.get(
    "/applications/{int:application_id}/workoff/items/{int:item_id}",
    response={200: WorkOffItemDetailOut, **responses(404)},
)
def workoff_item_get(request: HttpRequest, application_id: ObjectId, item_id: ObjectId) -> dict[str, Any]:
    """One item with its closure evidence, its history, and what you may do on it now."""
    return _get(request, application_id, item_id)


@router.put(
    "/applications/{int:application_id}/workoff/items/{int:item_id}",
    response={200: WorkOffItemDetailOut, **WRITE_ERRORS},
    auth=MAY_EDIT_WORKOFF,
)
def workoff_item_edit(
    request: HttpRequest, application_id: ObjectId, item_id: ObjectId, payload: WorkOffItemEditIn
) -> dict[str, Any]:
    """Change the action, owner and due date of an item that is proposed or has changes requested (the
    participant); it goes to Testing Assurance for review again."""
    services.workoff_item_edit(
        actor=caller(request),
        application_id=application_id,
        item_id=item_id,
        action=payload.action,
        owner=payload.owner,
        due_on=payload.due_on,
    )
    return _get(request, application_id, item_id)


@router.post(
    "/applications/{int:application_id}/workoff/items/{int:item_id}/transitions",
    response={200: WorkOffItemDetailOut, **WRITE_ERRORS},
    auth=MAY_ACT_ON_WORKOFF,
)
def workoff_item_transition(
    request: HttpRequest, application_id: ObjectId, item_id: ObjectId, payload: WorkOffTransitionIn
) -> dict[str, Any]:
    """Review, request changes, agree, withdraw or reopen an item."""
    services.workoff_item_transition(
        actor=caller(request),
        application_id=application_id,
        item_id=item_id,
        action=payload.action,
        comment=payload.comment,
    )
    return _get(request, application_id, item_id)


@router.post(
    "/applications/{int:application_id}/workoff/items/{int:item_id}/close",
    response={200: WorkOffItemDetailOut, **WRITE_ERRORS},
    auth=MAY_CLOSE_WORKOFF,
)
def workoff_item_close(
    request: HttpRequest,
    application_id: ObjectId,
    item_id: ObjectId,
    note: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]  # checked by the service
) -> dict[str, Any]:
    """Close an agreed item (the participant), as multipart/form-data: the closure note (`note`) and at
    least one evidence file (`files`). Testing Assurance and the Code Bodies are told."""
    services.workoff_item_close(
        actor=caller(request), application_id=application_id, item_id=item_id, note=note, files=files or []
    )
    return _get(request, application_id, item_id)


@router.get(
    "/applications/{int:application_id}/workoff/evidence/{int:evidence_id}",
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
def workoff_evidence_download(request: HttpRequest, application_id: ObjectId, evidence_id: ObjectId) -> FileResponse:
    """Download a closure evidence file of one of the application's items. Downloads by reviewers are
    audited."""
    evidence = services.workoff_evidence_open(
        actor=caller(request), application_id=application_id, evidence_id=evidence_id
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=safe_download_name(evidence.original_name),
        content_type="application/octet-stream",
    )


# --- across applications -------------------------------------------------------------------------------


@router.get("/workoff/items", response={200: list[WorkOffListItemOut], **responses()})
@paginate(LimitOffset)
def workoff_item_list(request: HttpRequest, filters: Query[WorkOffListFilters]) -> Any:
    """Work-off items of every application you may see (for staff, across the market), filtered by
    status, overdue, organisation or application, sorted by due date."""
    items = selectors.workoff_item_list(user=caller(request), **filters.model_dump())
    items = items.prefetch_related("closure_evidence__uploaded_by")
    return PresentedPages(items, each(_item))
