"""Qualification Testing plan: the QT plan and its DIP-flow opt-outs, its review by Testing Assurance,
the required test set, the test execution plan, the readiness report and its review, and the live
exit checklist. Mounted at `/v1`: every path starts `/applications/{application_id}/qt`.

The participant writes while the `qt` task is with them (not started, in progress, or changes
requested); the task's assurers (Testing Assurance; also the Programme on the Non-SIT LDSO route)
review. Submitting QT for exit is the task's own transition (`/applications/{id}/tasks/qt/transitions`),
refused while any exit rule fails. Another organisation's application answers 404."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.pagination import LimitOffset
from portal.api.schemas import ApplicationRef, TaskSummary
from portal.api.v1._request import ObjectId, caller
from portal.qualification.services import MAX_COMMENT_LENGTH
from portal.testing import plan_selectors as selectors
from portal.testing import plan_services as services
from portal.testing.models import ReviewStatus, TestBatch
from portal.testing.permissions import QT_TASK, assures_qt, works_on_qt
from portal.testing.plan_selectors import INCLUSION_LABELS, PlanDetail, ReadinessRow, ReadinessView, SetItem
from portal.testing.plan_services import (
    MAX_BULK_CASES,
    MAX_NOTE_LENGTH,
    MAX_PLAN_TEXT,
    MAX_PLANNED_NOTE_LENGTH,
    MAX_REASON_LENGTH,
)

router = Router(tags=["qualification testing plan"])

FlowCode = PathEx[str, P(max_length=20, description="The DIP flow's interface ID, e.g. IF-033.")]
ItemCode = PathEx[str, P(max_length=40, description="The readiness item's code, e.g. systems_onboarded.")]
Inclusion = Literal["required", "optional", "reliance", "opted_out"]

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_WORK_ON_QT = may_call(
    on_task(QT_TASK, works_on_qt), refusal="Only the applying organisation can change its Qualification Testing."
)
MAY_ASSURE_QT = may_call(
    on_task(QT_TASK, assures_qt), refusal="Only the assurers of Qualification Testing can review this application."
)


# --- shapes ----------------------------------------------------------------------------------------


class FlowOut(Schema):
    code: str
    title: str


class OptOutOut(Schema):
    flow: str
    title: str
    reason: str
    recorded_by: str
    recorded_at: datetime


class QtPlanMissingOut(Schema):
    field: str
    message: str


class QtPlanOut(Schema):
    application: ApplicationRef
    task: TaskSummary
    status: ReviewStatus
    status_label: str
    version: int = Field(description="How many times the plan has been submitted.")
    approach: str
    reliance_approach: str
    test_data: str
    starts_on: date | None
    ends_on: date | None
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str
    opt_outs: list[OptOutOut]
    opt_out_choices: list[FlowOut] = Field(description="The DIP flows you may still opt out of.")
    missing: list[QtPlanMissingOut] = Field(description="What the plan still needs before it can be submitted.")
    planned_count: int = Field(description="How many cases the test execution plan gives a date.")
    can_edit: bool = Field(description="Whether you may change the plan now (not while it is under review).")
    can_review: bool = Field(description="Whether you may review the plan now.")


class QtPlanChangeOut(QtPlanOut):
    returned_to_draft: bool = Field(description="The change took an agreed plan back to draft.")


class PlanIn(Schema):
    """The whole plan. A draft may leave fields empty; submitting needs them all (the placing-reliance
    approach only when placing reliance was accepted)."""

    approach: str = Field("", max_length=MAX_PLAN_TEXT)
    reliance_approach: str = Field("", max_length=MAX_PLAN_TEXT)
    test_data: str = Field("", max_length=MAX_PLAN_TEXT)
    starts_on: date | None = None
    ends_on: date | None = Field(None, description="On or after starts_on; every planned case must fall within.")


class OptOutIn(Schema):
    flow: str = Field(min_length=1, max_length=20, description="The DIP flow's interface ID, e.g. IF-033.")
    reason: str = Field(max_length=MAX_REASON_LENGTH, description="Why you will not use the flow.")


class PlanReviewIn(Schema):
    decision: Literal["agree", "request_changes"]
    comment: str = Field("", max_length=MAX_COMMENT_LENGTH, description="Required when requesting changes.")


class SetFilters(Schema):
    inclusion: Inclusion | None = Field(None, description="Only cases with this inclusion.")
    batch: TestBatch | None = Field(None, description="Only cases of this batch.")


class SetCaseOut(Schema):
    case: str = Field(description="The test case identifier.")
    title: str
    scenario: str
    version: int = Field(description="The current version of the case.")
    batch: TestBatch
    mandatory: bool
    dip_flows: list[str]
    inclusion: Inclusion
    inclusion_label: str
    reason: str = Field(description="Why the case is in or out of the required set.")
    planned_on: date | None
    planned_note: str


class SetSummaryOut(Schema):
    total: int
    required: int
    optional: int
    reliance: int
    opted_out: int
    required_unplanned: int = Field(description="Required cases with no planned date yet.")
    by_batch: dict[str, int]


class PlannedOut(Schema):
    case: str
    title: str
    planned_on: date
    note: str
    inclusion: Inclusion | None = Field(description="Null when the case has left the role's set since.")
    still_run: bool = Field(description="False when the case is no longer run (opted out, reliance, retired).")


class PlannedEntryIn(Schema):
    case: str = Field(min_length=1, max_length=40, description="The test case identifier.")
    planned_on: date | None = Field(description="The planned date; null takes the case off the plan.")
    note: str = Field("", max_length=MAX_PLANNED_NOTE_LENGTH)


class ExecutionPlanIn(Schema):
    entries: list[PlannedEntryIn] = Field(min_length=1, max_length=MAX_BULK_CASES)


class ReadinessItemOut(Schema):
    code: str
    title: str
    guidance: str
    status: Literal["ready", "not_ready", "not_recorded"]
    note: str
    recorded_by: str | None
    recorded_at: datetime | None


class ReadinessOut(Schema):
    application: ApplicationRef
    status: ReviewStatus
    status_label: str
    confirmed: bool = Field(description="Testing Assurance confirmed readiness: executions may be recorded.")
    note: str
    submitted_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    comment: str = Field(description="Testing Assurance's latest comment.")
    items: list[ReadinessItemOut]
    missing: list[str] = Field(description="What stops the report from being submitted; empty when ready.")
    can_edit: bool
    can_review: bool


class ReadinessRecordIn(Schema):
    ready: bool
    note: str = Field("", max_length=MAX_NOTE_LENGTH, description="Required when not ready.")


class ReadinessSubmitIn(Schema):
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class ReadinessReviewIn(Schema):
    decision: Literal["confirm", "request_changes"]
    comment: str = Field("", max_length=MAX_COMMENT_LENGTH, description="Required when requesting changes.")


class ExitRuleOut(Schema):
    code: str
    title: str
    kind: str
    passed: bool
    blocking: list[str] = Field(description="What still blocks the rule, one plain-English reason each.")


class ExitChecklistOut(Schema):
    application: ApplicationRef
    passed: bool = Field(description="Every rule passes: QT may be submitted for exit.")
    rules: list[ExitRuleOut]


# --- converting -------------------------------------------------------------------------------------


def _plan(detail: PlanDetail) -> dict[str, Any]:
    plan = detail.plan
    return {
        "application": detail.application,
        "task": detail.task,
        "status": plan.status,
        "status_label": ReviewStatus(plan.status).label,
        "version": plan.version,
        "approach": plan.approach,
        "reliance_approach": plan.reliance_approach,
        "test_data": plan.test_data,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "submitted_at": plan.submitted_at,
        "reviewed_by": plan.reviewed_by.display_name if plan.reviewed_by else None,
        "reviewed_at": plan.reviewed_at,
        "review_comment": plan.review_comment,
        "opt_outs": [
            {
                "flow": o.flow.code,
                "title": o.flow.title,
                "reason": o.reason,
                "recorded_by": o.recorded_by.display_name,
                "recorded_at": o.recorded_at,
            }
            for o in detail.opt_outs
        ],
        "opt_out_choices": [{"code": f.code, "title": f.title} for f in detail.opt_out_choices],
        "missing": [{"field": m.field, "message": m.message} for m in detail.missing],
        "planned_count": detail.planned_count,
        "can_edit": detail.can_edit and plan.status != ReviewStatus.SUBMITTED,
        "can_review": detail.can_review,
    }


def _plan_detail(request: HttpRequest, application_id: int) -> dict[str, Any]:
    return _plan(selectors.qt_plan_detail(user=caller(request), application_id=application_id))


def _change(request: HttpRequest, application_id: int, change: services.PlanChange) -> dict[str, Any]:
    return {**_plan_detail(request, application_id), "returned_to_draft": change.returned_to_draft}


def _set_case(item: SetItem) -> dict[str, Any]:
    row, version = item.row, item.row.version
    return {
        "case": row.identifier,
        "title": version.title,
        "scenario": version.case.scenario.identifier,
        "version": version.version,
        "batch": version.batch,
        "mandatory": version.mandatory,
        "dip_flows": [f.code for f in version.dip_flows.all()],
        "inclusion": row.inclusion.value,
        "inclusion_label": INCLUSION_LABELS[row.inclusion],
        "reason": row.reason,
        "planned_on": item.planned.planned_on if item.planned else None,
        "planned_note": item.planned.note if item.planned else "",
    }


def _readiness_item(row: ReadinessRow) -> dict[str, Any]:
    confirmation = row.confirmation
    return {
        "code": row.item.code,
        "title": row.item.title,
        "guidance": row.item.guidance,
        "status": row.status,
        "note": confirmation.note if confirmation else "",
        "recorded_by": confirmation.recorded_by.display_name if confirmation else None,
        "recorded_at": confirmation.recorded_at if confirmation else None,
    }


def _readiness(view: ReadinessView) -> dict[str, Any]:
    plan = view.plan
    return {
        "application": view.application,
        "status": plan.readiness_status,
        "status_label": "Confirmed"
        if plan.readiness_status == ReviewStatus.AGREED
        else ReviewStatus(plan.readiness_status).label,
        "confirmed": plan.readiness_status == ReviewStatus.AGREED,
        "note": plan.readiness_note,
        "submitted_at": plan.readiness_submitted_at,
        "confirmed_by": plan.readiness_confirmed_by.display_name if plan.readiness_confirmed_by else None,
        "confirmed_at": plan.readiness_confirmed_at,
        "comment": plan.readiness_comment,
        "items": [_readiness_item(row) for row in view.rows],
        "missing": view.missing,
        "can_edit": view.can_edit and plan.readiness_status != ReviewStatus.SUBMITTED,
        "can_review": view.can_review,
    }


def _readiness_view(request: HttpRequest, application_id: int) -> dict[str, Any]:
    return _readiness(selectors.qt_readiness(user=caller(request), application_id=application_id))


# --- the plan ----------------------------------------------------------------------------------------


@router.get("/applications/{int:application_id}/qt/plan", response={200: QtPlanOut, **responses(404)})
def qt_plan_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The QT approach and plan, its DIP-flow opt-outs, its review, and what it still needs."""
    return _plan_detail(request, application_id)


@router.put(
    "/applications/{int:application_id}/qt/plan", response={200: QtPlanChangeOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_QT
)
def qt_plan_update(request: HttpRequest, application_id: ObjectId, payload: PlanIn) -> dict[str, Any]:
    """Save the whole plan (fields may be empty in a draft). Changing an agreed plan returns it to draft:
    `returned_to_draft` says so. Refused while the plan is under review."""
    change = services.qt_plan_update(
        actor=caller(request),
        application_id=application_id,
        fields=services.PlanFields(**payload.model_dump()),
    )
    return _change(request, application_id, change)


@router.post(
    "/applications/{int:application_id}/qt/plan/opt-outs",
    response={201: QtPlanChangeOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_QT,
)
def qt_opt_out_add(request: HttpRequest, application_id: ObjectId, payload: OptOutIn) -> Status[dict[str, Any]]:
    """Opt out of a DIP flow your role's cases exercise and that allows it, with the reason: its cases
    leave the required set."""
    change = services.qt_opt_out_add(
        actor=caller(request), application_id=application_id, flow_code=payload.flow, reason=payload.reason
    )
    return Status(201, _change(request, application_id, change))


@router.delete(
    "/applications/{int:application_id}/qt/plan/opt-outs/{flow_code}", response={200: QtPlanChangeOut, **WRITE_ERRORS}
)
def qt_opt_out_remove(request: HttpRequest, application_id: ObjectId, flow_code: FlowCode) -> dict[str, Any]:
    """Withdraw an opt-out: the flow's cases come back into the required set."""
    change = services.qt_opt_out_remove(actor=caller(request), application_id=application_id, flow_code=flow_code)
    return _change(request, application_id, change)


@router.post("/applications/{int:application_id}/qt/plan/submit", response={200: QtPlanOut, **WRITE_ERRORS})
def qt_plan_submit(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """Submit the plan for review (a new version); Testing Assurance is told."""
    services.qt_plan_submit(actor=caller(request), application_id=application_id)
    return _plan_detail(request, application_id)


@router.post(
    "/applications/{int:application_id}/qt/plan/review", response={200: QtPlanOut, **WRITE_ERRORS}, auth=MAY_ASSURE_QT
)
def qt_plan_review(request: HttpRequest, application_id: ObjectId, payload: PlanReviewIn) -> dict[str, Any]:
    """Testing Assurance: agree the submitted plan, or request changes with a comment."""
    services.qt_plan_review(
        actor=caller(request), application_id=application_id, decision=payload.decision, comment=payload.comment
    )
    return _plan_detail(request, application_id)


# --- the required set and the execution plan ---------------------------------------------------------------


@router.get("/applications/{int:application_id}/qt/set", response={200: list[SetCaseOut], **responses(404)})
@paginate(LimitOffset)
def qt_set_list(request: HttpRequest, application_id: ObjectId, filters: Query[SetFilters]) -> object:
    """Every current test case for the application's role, with its inclusion (required, optional,
    covered by reliance, opted out), the reason, and its planned date; by case identifier."""
    view = selectors.qt_set(
        user=caller(request), application_id=application_id, inclusion=filters.inclusion, batch=filters.batch
    )
    return [_set_case(item) for item in view.items]


@router.get("/applications/{int:application_id}/qt/set/summary", response={200: SetSummaryOut, **responses(404)})
def qt_set_summary(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """How many cases of the role are required, optional, covered by reliance and opted out."""
    view = selectors.qt_set(user=caller(request), application_id=application_id)
    return {
        "total": view.total,
        "required": view.counts.get("required", 0),
        "optional": view.counts.get("optional", 0),
        "reliance": view.counts.get("reliance", 0),
        "opted_out": view.counts.get("opted_out", 0),
        "required_unplanned": view.required_unplanned,
        "by_batch": view.batch_counts,
    }


def _planned(entry: selectors.ScheduleEntry) -> dict[str, Any]:
    item = entry.item
    return {
        "case": entry.planned.case.identifier,
        "title": item.row.version.title if item else "",
        "planned_on": entry.planned.planned_on,
        "note": entry.planned.note,
        "inclusion": item.row.inclusion.value if item else None,
        "still_run": entry.still_run,
    }


def _execution_plan(request: HttpRequest, application_id: int) -> list[dict[str, Any]]:
    schedule = selectors.qt_schedule(user=caller(request), application_id=application_id)
    return [_planned(entry) for week in schedule.weeks for entry in week.entries]


@router.get("/applications/{int:application_id}/qt/execution-plan", response={200: list[PlannedOut], **responses(404)})
@paginate(LimitOffset)
def qt_execution_plan_get(request: HttpRequest, application_id: ObjectId) -> object:
    """The test execution plan: each planned case with its date and note, by date."""
    return _execution_plan(request, application_id)


@router.post(
    "/applications/{int:application_id}/qt/execution-plan",
    response={200: list[PlannedOut], **WRITE_ERRORS},
    auth=MAY_WORK_ON_QT,
)
def qt_execution_plan_set(request: HttpRequest, application_id: ObjectId, payload: ExecutionPlanIn) -> Any:
    """Set the planned date and note of one or more cases at once (a null date takes a case off the
    plan). Only cases run in QT, on dates within the plan's schedule when it has one. Every line is
    checked first: if any is refused, none is stored and `details.errors` lists each problem. Answers
    the lines as now planned."""
    entries = [services.PlannedEntry(case=e.case, planned_on=e.planned_on, note=e.note) for e in payload.entries]
    services.qt_execution_plan_set(actor=caller(request), application_id=application_id, entries=entries)
    wanted = {e.case.strip().upper() for e in payload.entries if e.planned_on is not None}
    return [p for p in _execution_plan(request, application_id) if p["case"].upper() in wanted]


# --- readiness ----------------------------------------------------------------------------------------------


@router.get("/applications/{int:application_id}/qt/readiness", response={200: ReadinessOut, **responses(404)})
def qt_readiness_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The readiness report: each QT prerequisite with whether it is ready, and the report's review."""
    return _readiness_view(request, application_id)


@router.post(
    "/applications/{int:application_id}/qt/readiness/items/{item_code}",
    response={200: ReadinessOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_QT,
)
def qt_readiness_record(
    request: HttpRequest, application_id: ObjectId, item_code: ItemCode, payload: ReadinessRecordIn
) -> dict[str, Any]:
    """Record one prerequisite as ready or not ready (a note is required when not ready). Recording on
    a confirmed report returns it to draft."""
    services.qt_readiness_record(
        actor=caller(request),
        application_id=application_id,
        item_code=item_code,
        ready=payload.ready,
        note=payload.note,
    )
    return _readiness_view(request, application_id)


@router.post("/applications/{int:application_id}/qt/readiness/submit", response={200: ReadinessOut, **WRITE_ERRORS})
def qt_readiness_submit(request: HttpRequest, application_id: ObjectId, payload: ReadinessSubmitIn) -> dict[str, Any]:
    """Submit the report once the plan is agreed and every prerequisite is ready; Testing Assurance is told."""
    services.qt_readiness_submit(actor=caller(request), application_id=application_id, note=payload.note)
    return _readiness_view(request, application_id)


@router.post(
    "/applications/{int:application_id}/qt/readiness/review",
    response={200: ReadinessOut, **WRITE_ERRORS},
    auth=MAY_ASSURE_QT,
)
def qt_readiness_review(request: HttpRequest, application_id: ObjectId, payload: ReadinessReviewIn) -> dict[str, Any]:
    """Testing Assurance: confirm the readiness report (executions may then be recorded) or request changes."""
    services.qt_readiness_review(
        actor=caller(request), application_id=application_id, decision=payload.decision, comment=payload.comment
    )
    return _readiness_view(request, application_id)


# --- the exit checklist -------------------------------------------------------------------------------------


@router.get("/applications/{int:application_id}/qt/exit-checklist", response={200: ExitChecklistOut, **responses(404)})
def qt_exit_checklist_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """Every QT exit rule of the application's route, judged now, with what still blocks each."""
    view = selectors.qt_exit(user=caller(request), application_id=application_id)
    return {
        "application": view.application,
        "passed": view.all_passed,
        "rules": [
            {"code": r.code, "title": r.title, "kind": r.kind, "passed": r.passed, "blocking": r.blocking}
            for r in view.results
        ],
    }
