"""Approval decisions: each body's rolling queue, its view of one application, its decision, and every
decision on an application. Mounted at `/v1`.

The DIP Manager, the BSC PAB (recorded by its secretary or chair, against the application's target
meeting) and the REC Code Manager each decide their own approval task: approved, approved with
conditions (agreed work-off items), deferred or rejected, always with a rationale the participant reads.
Whoever prepared the Board's summary paper or made the recommendation may not record the decision."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from ninja import Field, Header, Path, Router, Schema
from ninja.responses import Status

from portal.accounts.stepup import step_up_check
from portal.api.errors import responses
from portal.api.gates import may_call
from portal.api.schemas import ApplicationRef
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.approvals import decision_selectors, decision_services
from portal.approvals.decision_selectors import DecisionPage, DueDate, QueueRow
from portal.approvals.decision_services import MAX_CONDITIONS, MAX_RATIONALE_LENGTH
from portal.approvals.models import ApprovalDecision
from portal.approvals.permissions import can_decide
from portal.participants.models import ApprovalBody
from portal.qualification.selectors import application_get
from portal.qualification.workflow import Decision, TaskState

router = Router(tags=["approvals: decisions"])

BODY = Path(..., description="The approval body: dip_manager, bsc_pab or rec_code_manager.")


class DecisionConditionOut(Schema):
    id: int
    reference: str = Field(description="WO-<number>.")
    action: str
    due_on: dt.date
    status: str


class ApprovalDecisionOut(Schema):
    id: int
    body: ApprovalBody
    outcome: Decision
    rationale: str
    conditions: list[DecisionConditionOut]
    meeting_id: int | None = Field(description="The BSC PAB meeting that decided (the Board's decisions only).")
    decided_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


class DueOut(Schema):
    due_on: dt.date | None
    basis: str = Field(description="Where the due date comes from.")
    overdue: bool


class QueueRowOut(Schema):
    application: ApplicationRef
    task_state: TaskState
    status: str
    signed_at: dt.datetime | None = Field(description="When the Director signed: when it entered the queue.")
    due: DueOut
    latest_decision: ApprovalDecisionOut | None


class QueueOut(Schema):
    body: ApprovalBody
    overdue_count: int
    waiting: list[QueueRowOut] = Field(description="Open applications waiting on the body, soonest due first.")
    decided: list[ApprovalDecisionOut] = Field(description="The body's latest decisions, newest first.")


class DecisionViewOut(Schema):
    application: ApplicationRef
    body: ApprovalBody
    task_state: TaskState
    can_decide: bool = Field(description="Whether you may record the decision now.")
    refusal: str | None = Field(description="Why you cannot decide now, when your role decides.")
    due: DueOut
    target_meeting_id: int | None = Field(description="The Board's view: the application's target meeting.")
    agreed_items: list[DecisionConditionOut] = Field(description="The agreed work-off items, the possible conditions.")
    decisions: list[ApprovalDecisionOut] = Field(description="This body's decisions on the application, newest first.")


class ApprovalDecisionIn(Schema):
    outcome: Decision
    rationale: str = Field(min_length=1, max_length=MAX_RATIONALE_LENGTH, description="Read by the participant.")
    conditions: list[int] = Field(
        default_factory=list,
        max_length=MAX_CONDITIONS,
        description="Ids of agreed work-off items: required with approved_with_conditions, else empty.",
    )
    meeting_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="The Board only: its meeting (defaults to the application's target meeting). Omit otherwise.",
    )
    otp_code: str = Field(
        "",
        max_length=12,
        description="The current code of your authenticator app, unless sent in the X-OTP header.",
    )


def _condition(item: Any) -> dict[str, Any]:
    return {
        "id": item.pk,
        "reference": item.reference,
        "action": item.action,
        "due_on": item.due_on,
        "status": item.status,
    }


def _decision(decision: ApprovalDecision) -> dict[str, Any]:
    return {
        "id": decision.pk,
        "body": decision.body,
        "outcome": decision.outcome,
        "rationale": decision.rationale,
        "conditions": [_condition(item) for item in decision.conditions.all()],
        "meeting_id": decision.meeting_id,
        "decided_on": decision.decided_on,
        "recorded_by": decision.recorded_by.display_name,
        "recorded_at": decision.recorded_at,
    }


def _due(due: DueDate) -> dict[str, Any]:
    return {"due_on": due.due_on, "basis": due.basis, "overdue": due.overdue}


def _row(row: QueueRow) -> dict[str, Any]:
    return {
        "application": row.application,
        "task_state": row.task.state,
        "status": row.status,
        "signed_at": row.entered_at,
        "due": _due(row.due),
        "latest_decision": _decision(row.latest) if row.latest else None,
    }


def _view(page: DecisionPage) -> dict[str, Any]:
    return {
        "application": page.application,
        "body": page.body,
        "task_state": page.task.state,
        "can_decide": page.can_decide,
        "refusal": page.refusal or None,
        "due": _due(page.due),
        "target_meeting_id": page.target.meeting_id if page.target else None,
        "agreed_items": [_condition(item) for item in page.agreed_items],
        "decisions": [_decision(d) for d in page.decisions],
    }


@router.get("/approvals/{body}/queue", response={200: QueueOut, **responses(404)})
def approval_queue_get(request: HttpRequest, body: str = BODY) -> dict[str, Any]:
    """The body's rolling queue: the open applications waiting on its decision that you may see."""
    queue = decision_selectors.approval_queue(user=caller(request), body=body)
    return {
        "body": queue.body,
        "overdue_count": queue.overdue_count,
        "waiting": [_row(row) for row in queue.rows],
        "decided": [_decision(d) for d in queue.decided],
    }


@router.get("/applications/{int:application_id}/decisions", response={200: list[ApprovalDecisionOut], **responses(404)})
def application_decision_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """Every decision of every body on the application, oldest first, with its reasons and conditions."""
    return [
        _decision(d)
        for d in decision_selectors.application_decisions(user=caller(request), application_id=application_id)
    ]


@router.get("/applications/{int:application_id}/approvals/{body}", response={200: DecisionViewOut, **responses(404)})
def approval_view_get(request: HttpRequest, application_id: ObjectId, body: str = BODY) -> dict[str, Any]:
    """One body's approval of the application: its state, due date, the possible conditions and its
    decisions so far, and whether you may decide now."""
    return _view(
        decision_selectors.approval_decision_page(user=caller(request), application_id=application_id, body=body)
    )


def _decides_for_the_body(user: Any, path_kwargs: Mapping[str, Any]) -> bool:
    """The path names the application and the approval body: is the user among that body's deciders?"""
    application = application_get(user=user, application_id=path_kwargs["application_id"])
    return can_decide(user, decision_selectors.approval_task_for(application, str(path_kwargs["body"])))


@router.post(
    "/applications/{int:application_id}/approvals/{body}/decisions",
    response={201: ApprovalDecisionOut, **responses(400, 403, 404, 409)},
    auth=may_call(_decides_for_the_body, refusal="Only the approval body can record its decision."),
)
def approval_decision_create(
    request: HttpRequest,
    application_id: ObjectId,
    payload: ApprovalDecisionIn,
    body: str = BODY,
    x_otp: str = Header(
        "",
        alias="X-OTP",
        max_length=12,
        description="The current code of your authenticator app (or send it as otp_code in the body).",
    ),
) -> Status[dict[str, Any]]:
    """Record the body's decision. The participant is told at once; a Board approval prepares the
    qualification letter, a Board deferral moves the application to the next meeting.

    A decision needs step-up authentication: the current code of your authenticator app, in the X-OTP
    header or the otp_code field, each code accepted once (a browser session that entered a code in the
    last 10 minutes needs none). Without a valid code the answer is 403 with code step_up_required,
    given once every other check has passed."""
    actor = caller(request)
    code = x_otp or payload.otp_code
    decision = decision_services.approval_decide(
        actor=actor,
        step_up=lambda: step_up_check(request=request, user=actor, code=code),
        application_id=application_id,
        body=body,
        outcome=payload.outcome,
        rationale=payload.rationale,
        condition_ids=payload.conditions,
        meeting_id=payload.meeting_id,
    )
    return Status(201, _decision(decision))
