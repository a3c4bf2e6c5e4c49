"""Completing DIP onboarding through the real services, for tests, demo data and the journey helper.

`advance_application` submits and accepts tasks generically; the `dip_onboarding` task's guards
refuse that until every step is done and the pre-production DIP ID is recorded (to submit) and
confirmed by the DIP Manager (to accept). `dip_prepare_step` does what the participant and the DIP
Manager would have done first. Nothing here bypasses a rule.
"""

from typing import Any

from portal.dip.models import DipEnvironment, DipId
from portal.dip.permissions import DIP_TASK
from portal.dip.selectors import dip_id_for, dip_step_rows
from portal.dip.services import dip_id_add, dip_id_confirm, dip_step_set
from portal.qualification.models import Application
from portal.qualification.workflow import Action

# Generated DIP IDs start here, away from the ranges seen in the industry's examples.
GENERATED_BASE = 9_000_000_000


def free_dip_id(application: Application) -> str:
    """A 10-digit DIP ID not yet used anywhere, derived from the application's reference."""
    candidate = GENERATED_BASE + application.pk * 10
    while DipId.objects.filter(value=str(candidate)).exists():
        candidate += 1
    return str(candidate)


def dip_complete_onboarding(application: Application, *, actor: Any) -> None:
    """Mark every active step done and record a pre-production DIP ID if the MPID and role have none.
    `actor` must be a participant member of the application's organisation."""
    for row in dip_step_rows(application):
        if not row.done:
            dip_step_set(actor=actor, application_id=application.pk, step_code=row.step.code, done=True)
    if dip_id_for(application, DipEnvironment.PRE_PRODUCTION) is None:
        dip_id_add(
            actor=actor,
            application_id=application.pk,
            environment=DipEnvironment.PRE_PRODUCTION,
            value=free_dip_id(application),
        )


def dip_confirm_pre_production(application: Application, *, actor: Any) -> None:
    """Confirm the pre-production DIP ID, as the DIP Manager `actor`, if it is not confirmed yet."""
    dip_id = dip_id_for(application, DipEnvironment.PRE_PRODUCTION)
    if dip_id is not None and not dip_id.is_confirmed:
        dip_id_confirm(actor=actor, application_id=application.pk, dip_id_id=dip_id.pk)


def dip_prepare_step(*, application: Application, task_code: str, action: str, actor: Any, **_: Any) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before DIP onboarding is
    submitted it is completed, and before it is accepted the DIP Manager confirms the pre-production
    DIP ID. Anything else is left alone."""
    if task_code != DIP_TASK:
        return
    if action == Action.SUBMIT:
        dip_complete_onboarding(application, actor=actor)
    elif action == Action.ACCEPT:
        dip_confirm_pre_production(application, actor=actor)
