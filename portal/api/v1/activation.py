"""Service Activation hand-offs. Mounted at `/v1`: the queue is `/activation/handoffs`, an application's
hand-off is under `/applications/{application_id}/activation`.

A hand-off opens when the application becomes MHHS Qualified. The Service Activation team starts it,
ticks and unticks checklist items, sets the planned go-live date and completes it (refused until every
required item is done and the go-live date is set); the Code Bodies and the DIP Manager add inputs.
Starting and completing are also the `service_activation` task's own transitions
(`/applications/{application_id}/tasks/service_activation/transitions`). The participant reads its
hand-off without the bodies' internal notes: `inputs` is empty and each check's `note` and `done_by`
are blank for it."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from portal.activation import selectors, services
from portal.activation.models import HandoffInput, InputBody
from portal.activation.permissions import ACTIVATION_TASK, can_add_input, can_run_handoff
from portal.activation.selectors import CheckRow, HandoffFilter, HandoffRow, HandoffStatus, HandoffView
from portal.activation.services import MAX_INPUT_LENGTH, MAX_NOTE_LENGTH
from portal.api.errors import responses
from portal.api.gates import may_call, on_application_by_role, on_task
from portal.api.pagination import LimitOffset, PresentedPages
from portal.api.schemas import ApplicationRef, TaskSummary
from portal.api.v1._request import ObjectId, caller
from portal.dip.models import DipEnvironment
from portal.qualification.workflow import Action, Decision, TaskState
from portal.workoff.models import WorkOffStatus

router = Router(tags=["Service Activation"])

ItemCode = PathEx[str, P(max_length=40, description="The checklist item's code, e.g. standing_data.")]

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_RUN_HANDOFF = may_call(
    on_task(ACTIVATION_TASK, can_run_handoff), refusal="Only the Service Activation team can work on the hand-off."
)
MAY_ADD_INPUT = may_call(
    on_application_by_role(can_add_input),
    refusal="Only the Code Bodies and the DIP Manager can add inputs to the hand-off.",
)


# --- shapes ----------------------------------------------------------------------------------------


class HandoffCheckOut(Schema):
    code: str
    title: str
    description: str
    order: int
    is_required: bool
    is_active: bool = Field(description="False for an item since retired that was checked on this hand-off.")
    done: bool
    done_at: datetime | None
    done_by: str | None = Field(description="Who ticked it; null for the participant.")
    note: str = Field(description="The team's note; empty for the participant.")


class HandoffInputOut(Schema):
    id: int
    body: InputBody
    body_label: str
    author: str
    text: str
    created_at: datetime


class HandoffApprovalEntryOut(Schema):
    action: Action
    actor: str
    decision: Decision | None
    comment: str
    created_at: datetime


class HandoffApprovalOut(Schema):
    code: str
    title: str
    state: TaskState
    decision: Decision | None
    completed_at: datetime | None
    entries: list[HandoffApprovalEntryOut] = Field(description="The approval task's thread, oldest first.")


class HandoffConditionOut(Schema):
    id: int
    reference: str = Field(description="WO-001, counted per application.")
    covers: str
    action: str
    due_on: date
    status: WorkOffStatus
    overdue: bool


class HandoffDipIdOut(Schema):
    environment: DipEnvironment
    value: str
    confirmed: bool


class HandoffProgressOut(Schema):
    done: int = Field(description="Active checklist items done.")
    total: int = Field(description="Active checklist items.")


class HandoffOut(Schema):
    application: ApplicationRef
    task: TaskSummary
    status: HandoffStatus
    status_label: str
    opened_at: datetime | None = Field(
        description="When the application became MHHS Qualified and the hand-off opened."
    )
    planned_go_live: date | None
    started_at: datetime | None
    completed_at: datetime | None
    progress: HandoffProgressOut
    missing: list[str] = Field(description="What stops the hand-off from being completed; empty when ready.")
    can_edit: bool = Field(description="Whether you may tick items and set the go-live date now.")
    can_start: bool
    can_complete: bool = Field(description="Whether you may complete it now (the checklist may still refuse).")
    input_bodies: list[InputBody] = Field(description="The bodies you may add an input for now; empty: none.")
    checks: list[HandoffCheckOut]
    approvals: list[HandoffApprovalOut]
    conditions: list[HandoffConditionOut] = Field(description="The agreed (and since closed) work-off items.")
    dip_ids: list[HandoffDipIdOut]
    inputs: list[HandoffInputOut] = Field(description="Notes from the Code Bodies and the DIP Manager; staff only.")


class HandoffSummaryOut(Schema):
    application: ApplicationRef
    status: HandoffStatus
    status_label: str
    opened_at: datetime
    planned_go_live: date | None
    started_at: datetime | None
    completed_at: datetime | None
    progress: HandoffProgressOut
    required_done: int
    required_total: int
    ready: bool = Field(description="Every required item is done and the go-live date is set.")


class HandoffListFilters(Schema):
    status: HandoffFilter = Field(
        HandoffFilter.OPEN,
        description="open (oldest first, the default), completed (latest first) or all (open ones first).",
    )


class HandoffCheckIn(Schema):
    done: bool
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class HandoffGoLiveIn(Schema):
    planned_go_live: date = Field(description="Today or later (in the UK).")


class HandoffInputIn(Schema):
    text: str = Field(max_length=MAX_INPUT_LENGTH)
    body: InputBody | None = Field(None, description="Which body it is from; may be left out if you hold one.")


class HandoffCompleteIn(Schema):
    comment: str = Field("", max_length=MAX_NOTE_LENGTH, description="An optional message to the participant.")


# --- presenting --------------------------------------------------------------------------------------


def _check(row: CheckRow, internal: bool) -> dict[str, Any]:
    check = row.check
    return {
        "code": row.item.code,
        "title": row.item.title,
        "description": row.item.description,
        "order": row.item.order,
        "is_required": row.item.is_required,
        "is_active": row.item.is_active,
        "done": row.done,
        "done_at": check.done_at if check else None,
        "done_by": check.done_by.display_name if internal and check and check.done_by else None,
        "note": row.note if internal else "",
    }


def _input(entry: HandoffInput) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "body": entry.body,
        "body_label": InputBody(entry.body).label,
        "author": entry.author.display_name,
        "text": entry.text,
        "created_at": entry.created_at,
    }


def _handoff(view: HandoffView) -> dict[str, Any]:
    handoff = view.handoff
    return {
        "application": view.application,
        "task": view.task,
        "status": view.status,
        "status_label": view.status_label,
        "opened_at": handoff.created_at if handoff else None,
        "planned_go_live": view.planned_go_live,
        "started_at": handoff.started_at if handoff else None,
        "completed_at": handoff.completed_at if handoff else None,
        "progress": {"done": view.done_count, "total": view.total_count},
        "missing": view.missing if view.is_open and view.status != HandoffStatus.COMPLETED else [],
        "can_edit": view.can_edit,
        "can_start": view.can_start,
        "can_complete": view.can_complete,
        "input_bodies": view.input_bodies,
        "checks": [_check(row, view.internal) for row in view.checks],
        "approvals": [
            {
                "code": row.task.code,
                "title": row.task.definition.title,
                "state": row.task.state,
                "decision": row.task.decision or None,
                "completed_at": row.task.completed_at,
                "entries": [
                    {
                        "action": e.action,
                        "actor": e.actor.display_name,
                        "decision": e.decision or None,
                        "comment": e.comment,
                        "created_at": e.created_at,
                    }
                    for e in row.entries
                ],
            }
            for row in view.approvals
        ],
        "conditions": [
            {
                "id": row.item.pk,
                "reference": row.reference,
                "covers": row.covers,
                "action": row.item.action,
                "due_on": row.item.due_on,
                "status": row.item.status,
                "overdue": row.overdue,
            }
            for row in view.conditions
        ],
        "dip_ids": [
            {"environment": d.environment, "value": d.value, "confirmed": d.is_confirmed} for d in view.dip_ids
        ],
        "inputs": [_input(entry) for entry in view.inputs],
    }


def _summary(row: HandoffRow) -> dict[str, Any]:
    handoff = row.handoff
    return {
        "application": handoff.application,
        "status": row.status,
        "status_label": row.status_label,
        "opened_at": handoff.created_at,
        "planned_go_live": handoff.planned_go_live,
        "started_at": handoff.started_at,
        "completed_at": handoff.completed_at,
        "progress": {"done": row.done_count, "total": row.totals.total},
        "required_done": row.required_done_count,
        "required_total": row.totals.required,
        "ready": row.ready,
    }


def _get(request: HttpRequest, application_id: int) -> dict[str, Any]:
    return _handoff(selectors.handoff_get(user=caller(request), application_id=application_id))


# --- the queue ---------------------------------------------------------------------------------------------


@router.get("/activation/handoffs", response={200: list[HandoffSummaryOut], **responses()})
@paginate(LimitOffset)
def handoff_list(request: HttpRequest, filters: Query[HandoffListFilters]) -> Any:
    """The hand-offs of every application you may see, with their checklist progress and planned go-live
    date: open ones oldest first (the order the Service Activation team works them), or completed ones."""
    handoffs = selectors.handoff_list(user=caller(request), status=filters.status)
    totals = selectors.checklist_totals()
    return PresentedPages(handoffs, lambda rows: [_summary(row) for row in selectors.rows_of(rows, totals)])


# --- one application's hand-off ----------------------------------------------------------------------


@router.get("/applications/{int:application_id}/activation", response={200: HandoffOut, **responses(404)})
def handoff_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's hand-off: its status, planned go-live date and checklist, the approvals with their
    decisions and comments, the work-off conditions, the DIP IDs, the inputs (staff only), and what stops
    it from being completed."""
    return _get(request, application_id)


@router.post(
    "/applications/{int:application_id}/activation/start",
    response={200: HandoffOut, **WRITE_ERRORS},
    auth=MAY_RUN_HANDOFF,
)
def handoff_start(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """Start the hand-off (the Service Activation team). The participant is told."""
    services.handoff_start(actor=caller(request), application_id=application_id)
    return _get(request, application_id)


@router.post(
    "/applications/{int:application_id}/activation/checks/{item_code}",
    response={200: HandoffCheckOut, **WRITE_ERRORS},
    auth=MAY_RUN_HANDOFF,
)
def handoff_check_set(
    request: HttpRequest, application_id: ObjectId, item_code: ItemCode, payload: HandoffCheckIn
) -> dict[str, Any]:
    """Tick a checklist item (recording who and when) or untick it, with an optional note (the Service
    Activation team). The first piece of work starts a hand-off not yet started."""
    services.handoff_check_set(
        actor=caller(request), application_id=application_id, item_code=item_code, done=payload.done, note=payload.note
    )
    view = selectors.handoff_get(user=caller(request), application_id=application_id)
    return _check(next(row for row in view.checks if row.item.code == item_code), view.internal)


@router.put(
    "/applications/{int:application_id}/activation/go-live",
    response={200: HandoffOut, **WRITE_ERRORS},
    auth=MAY_RUN_HANDOFF,
)
def handoff_go_live_set(request: HttpRequest, application_id: ObjectId, payload: HandoffGoLiveIn) -> dict[str, Any]:
    """Set or change the planned go-live date agreed with the participant (the Service Activation team):
    today or later. The participant is told."""
    services.handoff_go_live_set(
        actor=caller(request), application_id=application_id, planned_go_live=payload.planned_go_live
    )
    return _get(request, application_id)


@router.post(
    "/applications/{int:application_id}/activation/inputs",
    response={201: HandoffInputOut, **WRITE_ERRORS},
    auth=MAY_ADD_INPUT,
)
def handoff_input_add(
    request: HttpRequest, application_id: ObjectId, payload: HandoffInputIn
) -> Status[dict[str, Any]]:
    """Add a note for the Service Activation team (a Code Body or the DIP Manager). The team is told."""
    entry = services.handoff_input_add(
        actor=caller(request),
        application_id=application_id,
        text=payload.text,
        body=payload.body.value if payload.body else None,
    )
    return Status(201, _input(entry))


@router.post("/applications/{int:application_id}/activation/complete", response={200: HandoffOut, **WRITE_ERRORS})
def handoff_complete(request: HttpRequest, application_id: ObjectId, payload: HandoffCompleteIn) -> dict[str, Any]:
    """Complete the hand-off (the Service Activation team): refused, naming what is missing, until every
    required checklist item is done and the planned go-live date is set. The participant's members are
    told that they may now operate, and the Elexon analysts are told."""
    services.handoff_complete(actor=caller(request), application_id=application_id, comment=payload.comment)
    return _get(request, application_id)
