"""Reads of DIP onboarding, already scoped to what the user may see."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.dip.models import DipEnvironment, DipId, DipOnboardingStep, DipStepProgress
from portal.dip.permissions import DIP_TASK, can_confirm_dip_ids, can_edit_dip, can_work_on_dip
from portal.qualification.models import Application, Task
from portal.qualification.selectors import task_get


@dataclass(frozen=True)
class StepRow:
    step: DipOnboardingStep
    progress: DipStepProgress | None

    @property
    def done(self) -> bool:
        return bool(self.progress and self.progress.done)


def dip_steps_active() -> list[DipOnboardingStep]:
    return list(DipOnboardingStep.objects.filter(is_active=True).order_by("order", "code"))


def dip_ids_for(application: Application) -> list[DipId]:
    """The DIP IDs of the application's MPID and market role (they belong to the MPID and role, so an
    earlier application's are the same), pre-production first."""
    ids = DipId.objects.filter(mpid_id=application.mpid_id, market_role_id=application.market_role_id).select_related(
        "created_by", "confirmed_by", "mpid", "market_role"
    )
    order = {value: position for position, value in enumerate(DipEnvironment.values)}
    return sorted(ids, key=lambda d: order.get(d.environment, len(order)))


def dip_id_for(application: Application, environment: str) -> DipId | None:
    return next((d for d in dip_ids_for(application) if d.environment == environment), None)


def dip_step_rows(application: Application) -> list[StepRow]:
    progress = {p.step_id: p for p in DipStepProgress.objects.filter(application=application).select_related("done_by")}
    return [StepRow(step, progress.get(step.pk)) for step in dip_steps_active()]


def dip_missing_from(application: Application, rows: Iterable[StepRow], dip_ids: Iterable[DipId]) -> list[str]:
    missing = [f"the step “{row.step.title}” is not done" for row in rows if not row.done]
    if not any(d.environment == DipEnvironment.PRE_PRODUCTION for d in dip_ids):
        missing.append(
            f"no pre-production DIP ID has been recorded for {application.mpid.code} as {application.market_role.name}"
        )
    return missing


def dip_missing(application: Application) -> list[str]:
    """Everything that stops the application's DIP onboarding from being submitted, in order."""
    return dip_missing_from(application, dip_step_rows(application), dip_ids_for(application))


@dataclass(frozen=True)
class DipOnboarding:
    application: Application
    task: Task
    steps: list[StepRow]
    dip_ids: list[DipId]
    can_edit: bool  # mark steps, record or remove the pre-production DIP ID
    can_record_production: bool
    can_confirm: bool
    removable_ids: frozenset[int]  # the DIP IDs the user may remove now

    @property
    def missing(self) -> list[str]:
        return dip_missing_from(self.application, self.steps, self.dip_ids)

    @property
    def pre_production(self) -> DipId | None:
        return next((d for d in self.dip_ids if d.environment == DipEnvironment.PRE_PRODUCTION), None)

    @property
    def production(self) -> DipId | None:
        return next((d for d in self.dip_ids if d.environment == DipEnvironment.PRODUCTION), None)


def dip_onboarding(*, user: Any, application_id: int) -> DipOnboarding:
    """The application's DIP onboarding: each step with its progress, and the DIP IDs of its MPID and
    role. NotFound when the user may not see the application."""
    task = task_get(user=user, application_id=application_id, task_code=DIP_TASK)
    application = task.application
    dip_ids = dip_ids_for(application)
    has_pre_production = any(d.environment == DipEnvironment.PRE_PRODUCTION for d in dip_ids)
    has_production = any(d.environment == DipEnvironment.PRODUCTION for d in dip_ids)
    participant = not application.is_closed and can_work_on_dip(user, task)
    can_edit = can_edit_dip(user, task)
    removable = frozenset(
        d.pk
        for d in dip_ids
        if participant
        and not d.is_confirmed
        and (d.environment == DipEnvironment.PRODUCTION or (can_edit and not has_production))
    )
    return DipOnboarding(
        application=application,
        task=task,
        steps=dip_step_rows(application),
        dip_ids=dip_ids,
        can_edit=can_edit,
        can_record_production=participant and has_pre_production and not has_production,
        can_confirm=not application.is_closed and can_confirm_dip_ids(user, task),
        removable_ids=removable,
    )
