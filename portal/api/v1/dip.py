"""DIP onboarding: the onboarding steps, and the DIP IDs of the application's MPID and market role.
Mounted at `/v1`: every path starts `/applications/{application_id}/dip`.

The participant marks steps and records DIP IDs (pre-production while the `dip_onboarding` task is
with them; production once the pre-production one exists); the DIP Manager confirms DIP IDs.
Submitting DIP onboarding, and the DIP Manager's decision, are the task's own transitions
(`/applications/{application_id}/tasks/dip_onboarding/transitions`)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Router, Schema
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.schemas import ApplicationRef, TaskSummary
from portal.api.v1._request import ObjectId, caller
from portal.dip import selectors, services
from portal.dip.models import DipEnvironment, DipId, DipStepProgress
from portal.dip.permissions import DIP_TASK, can_work_on_dip
from portal.dip.selectors import StepRow
from portal.dip.services import MAX_NOTE_LENGTH

router = Router(tags=["DIP onboarding"])

StepCode = PathEx[str, P(max_length=40, description="The step's code, e.g. users_set_up.")]

WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_WORK_ON_DIP = may_call(
    on_task(DIP_TASK, can_work_on_dip),
    refusal="Only the applying organisation can record DIP onboarding and DIP IDs.",
)


class DipStepOut(Schema):
    code: str
    title: str
    guidance: str
    order: int
    done: bool
    done_by: str | None
    done_at: datetime | None
    note: str


class DipIdOut(Schema):
    id: int
    value: str = Field(description="The 10-digit DIP ID.")
    environment: DipEnvironment
    environment_label: str
    mpid: str
    market_role: str
    recorded_by: str
    recorded_at: datetime
    confirmed: bool
    confirmed_by: str | None
    confirmed_at: datetime | None


class DipOnboardingOut(Schema):
    application: ApplicationRef
    task: TaskSummary
    can_edit: bool = Field(description="Whether you may mark steps and record the pre-production DIP ID now.")
    can_record_production: bool = Field(description="Whether you may record the production DIP ID now.")
    can_confirm: bool = Field(description="Whether you may confirm DIP IDs (the DIP Manager).")
    missing: list[str] = Field(description="Everything that stops DIP onboarding from being submitted.")
    steps: list[DipStepOut]
    dip_ids: list[DipIdOut]


class DipStepIn(Schema):
    done: bool
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class DipIdIn(Schema):
    environment: DipEnvironment
    value: str = Field(max_length=20, description="The DIP ID: exactly 10 digits, e.g. 1009012345.")


def _step(row: StepRow) -> dict[str, Any]:
    progress = row.progress
    return {
        "code": row.step.code,
        "title": row.step.title,
        "guidance": row.step.guidance,
        "order": row.step.order,
        "done": row.done,
        "done_by": progress.done_by.display_name if progress and progress.done_by else None,
        "done_at": progress.done_at if progress else None,
        "note": progress.note if progress else "",
    }


def _dip_id(dip_id: DipId) -> dict[str, Any]:
    return {
        "id": dip_id.pk,
        "value": dip_id.value,
        "environment": dip_id.environment,
        "environment_label": DipEnvironment(dip_id.environment).label,
        "mpid": dip_id.mpid.code,
        "market_role": dip_id.market_role.code,
        "recorded_by": dip_id.created_by.display_name,
        "recorded_at": dip_id.created_at,
        "confirmed": dip_id.is_confirmed,
        "confirmed_by": dip_id.confirmed_by.display_name if dip_id.confirmed_by else None,
        "confirmed_at": dip_id.confirmed_at,
    }


def _dip_id_of(request: HttpRequest, application_id: int, dip_id_id: int) -> dict[str, Any]:
    onboarding = selectors.dip_onboarding(user=caller(request), application_id=application_id)
    return _dip_id(next(d for d in onboarding.dip_ids if d.pk == dip_id_id))


@router.get("/applications/{int:application_id}/dip", response={200: DipOnboardingOut, **responses(404)})
def dip_onboarding_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """DIP onboarding: each step with who marked it done and when, the DIP IDs of the application's
    MPID and role (pre-production first), and what is still missing before it can be submitted."""
    onboarding = selectors.dip_onboarding(user=caller(request), application_id=application_id)
    return {
        "application": onboarding.application,
        "task": onboarding.task,
        "can_edit": onboarding.can_edit,
        "can_record_production": onboarding.can_record_production,
        "can_confirm": onboarding.can_confirm,
        "missing": onboarding.missing,
        "steps": [_step(row) for row in onboarding.steps],
        "dip_ids": [_dip_id(d) for d in onboarding.dip_ids],
    }


@router.post(
    "/applications/{int:application_id}/dip/steps/{step_code}",
    response={200: DipStepOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_DIP,
)
def dip_step_set(
    request: HttpRequest, application_id: ObjectId, step_code: StepCode, payload: DipStepIn
) -> dict[str, Any]:
    """Mark an onboarding step done (recording who and when) or not done, with an optional note."""
    progress: DipStepProgress = services.dip_step_set(
        actor=caller(request), application_id=application_id, step_code=step_code, done=payload.done, note=payload.note
    )
    return _step(StepRow(progress.step, progress))


@router.post(
    "/applications/{int:application_id}/dip/ids", response={201: DipIdOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_DIP
)
def dip_id_add(request: HttpRequest, application_id: ObjectId, payload: DipIdIn) -> Status[dict[str, Any]]:
    """Record the DIP ID of the application's MPID and role in an environment (pre-production first).
    The DIP Manager is asked to confirm it."""
    dip_id = services.dip_id_add(
        actor=caller(request), application_id=application_id, environment=payload.environment, value=payload.value
    )
    return Status(201, _dip_id_of(request, application_id, dip_id.pk))


@router.delete("/applications/{int:application_id}/dip/ids/{int:dip_id_id}", response={204: None, **WRITE_ERRORS})
def dip_id_remove(request: HttpRequest, application_id: ObjectId, dip_id_id: ObjectId) -> Status[None]:
    """Remove a DIP ID recorded in error, before the DIP Manager has confirmed it."""
    services.dip_id_remove(actor=caller(request), application_id=application_id, dip_id_id=dip_id_id)
    return Status(204, None)


@router.post(
    "/applications/{int:application_id}/dip/ids/{int:dip_id_id}/confirm", response={200: DipIdOut, **WRITE_ERRORS}
)
def dip_id_confirm(request: HttpRequest, application_id: ObjectId, dip_id_id: ObjectId) -> dict[str, Any]:
    """Confirm a DIP ID (the DIP Manager)."""
    dip_id = services.dip_id_confirm(actor=caller(request), application_id=application_id, dip_id_id=dip_id_id)
    return _dip_id_of(request, application_id, dip_id.pk)
