"""Every write to DIP onboarding goes through here.

Each service runs in one transaction: lock the application row, check that the user may see it
(NotFound otherwise, the same as a missing one), that they hold the right side of the
`dip_onboarding` task (PermissionDenied), that the task or application is in a state that allows it
(InvalidTransition), and that the input is sound (InvalidInput, Conflict for a DIP ID already in
use); then change, write one audit event, and notify whoever must act next. The first piece of work
on a task that has not started starts it, exactly as the task's own "start" action would. A refusal
changes nothing.

DIP IDs: one per MPID, market role and environment; pre-production first (recorded during onboarding,
while the task is with the participant), production only once the pre-production one exists (it is
promoted after qualification, so it may be recorded as long as the application is open). A DIP ID is
used only once in an environment, and never for another MPID or role in the other environment. The
DIP Manager confirms each one; a confirmed DIP ID can no longer be removed.
"""

import re
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError, Conflict, InvalidInput, InvalidTransition, NotFound
from portal.dip.models import DipEnvironment, DipId, DipOnboardingStep, DipStepProgress, dip_id_validator
from portal.dip.permissions import DIP_TASK, dip_confirm_refusal, dip_edit_refusal, dip_participant_refusal
from portal.dip.selectors import dip_id_for, dip_missing
from portal.notifications.services import notify
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.services import MAX_COMMENT_LENGTH, task_lock, task_start_on_first_work

MAX_NOTE_LENGTH = MAX_COMMENT_LENGTH
DIP_ID_RE = re.compile(r"\A[0-9]{10}\Z")


# --- onboarding steps ----------------------------------------------------------------------------


@transaction.atomic
def dip_step_set(*, actor: Any, application_id: int, step_code: str, done: bool, note: str = "") -> DipStepProgress:
    """Mark one onboarding step done (recording who and when) or not done, with an optional note.
    Marking a step done again keeps who did it first and updates the note."""
    application, task = _lock(actor, application_id)
    _require_editable(actor, task)
    step = DipOnboardingStep.objects.filter(code=step_code, is_active=True).first()
    if step is None:
        raise NotFound("DIP onboarding has no such step.")
    note = _clean_note(note)
    task_start_on_first_work(actor=actor, task=task)

    progress = DipStepProgress.objects.select_for_update().filter(application=application, step=step).first()
    before = _progress_snapshot(progress) if progress else {}
    if progress is None:
        progress = DipStepProgress(application=application, step=step)
    if done and not progress.done:
        progress.done_by, progress.done_at = actor, timezone.now()
    elif not done:
        progress.done_by, progress.done_at = None, None
    progress.done = done
    progress.note = note
    progress.save()
    audit_record(
        actor=actor,
        action="dip.step.done" if done else "dip.step.undone",
        target=progress,
        summary=f"DIP onboarding step “{step.title}” marked {'done' if done else 'not done'} on "
        f"{application.reference}",
        before=before,
        after=_progress_snapshot(progress),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return progress


def _progress_snapshot(progress: DipStepProgress) -> dict[str, Any]:
    return {
        "step": progress.step.code,
        "done": progress.done,
        "done_by": progress.done_by_id,
        "done_at": progress.done_at,
        "note": progress.note,
    }


# --- DIP IDs -------------------------------------------------------------------------------------


@transaction.atomic
def dip_id_add(*, actor: Any, application_id: int, environment: str, value: str) -> DipId:
    """Record the DIP ID of the application's MPID and market role in one environment. The DIP
    Manager is asked to confirm it."""
    application, task = _lock(actor, application_id)
    _require_participant(actor, task)
    env = _environment(environment)
    if env == DipEnvironment.PRE_PRODUCTION:
        _require_editable(actor, task)
    elif dip_id_for(application, DipEnvironment.PRE_PRODUCTION) is None:
        raise InvalidTransition(
            "A production DIP ID can be recorded only after the pre-production one.",
            details={"field": "environment"},
        )
    value = _dip_id_value(value)
    _refuse_duplicates(application, env, value)
    if env == DipEnvironment.PRE_PRODUCTION:
        task_start_on_first_work(actor=actor, task=task)

    try:
        with transaction.atomic():
            dip_id = DipId.objects.create(
                mpid=application.mpid,
                market_role=application.market_role,
                environment=env,
                value=value,
                application=application,
                created_by=actor,
            )
    except IntegrityError as exc:  # the same DIP ID, or one for this MPID and role, recorded a moment ago
        raise Conflict(
            f"The DIP ID {value}, or a {env.label} DIP ID for {application.mpid.code} as "
            f"{application.market_role.name}, was recorded a moment ago. Reload the page to see it.",
            details={"field": "value"},
        ) from exc

    audit_record(
        actor=actor,
        action="dip.id.add",
        target=dip_id,
        summary=f"{env.label} DIP ID {value} recorded for {application.mpid.code} as "
        f"{application.market_role.name} on {application.reference}",
        after=_dip_id_snapshot(dip_id),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_assurers(task),
        subject=f"DIP ID to confirm: {application.reference} {application.mpid.code} {application.market_role.code}",
        body=f"{_name(actor)} recorded the {env.label} DIP ID {value} for {application.mpid.code} as "
        f"{application.market_role.name} ({application.organisation.name}). Check it against the DIP and "
        "confirm it.",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    return dip_id


@transaction.atomic
def dip_id_remove(*, actor: Any, application_id: int, dip_id_id: int) -> None:
    """Remove a DIP ID recorded in error, before the DIP Manager has confirmed it."""
    application, task = _lock(actor, application_id)
    _require_participant(actor, task)
    dip_id = _dip_id(application, dip_id_id)
    if dip_id.is_confirmed:
        raise Conflict(
            f"The DIP ID {dip_id.value} has been confirmed by the DIP Manager and can no longer be removed; "
            "ask the DIP Manager if it is wrong."
        )
    if dip_id.environment == DipEnvironment.PRE_PRODUCTION:
        _require_editable(actor, task)
        if dip_id_for(application, DipEnvironment.PRODUCTION) is not None:
            raise Conflict("Remove the production DIP ID first: it rests on the pre-production one.")
    before = _dip_id_snapshot(dip_id)
    audit_record(
        actor=actor,
        action="dip.id.remove",
        target=dip_id,
        summary=f"{DipEnvironment(dip_id.environment).label} DIP ID {dip_id.value} removed from "
        f"{application.mpid.code} as {application.market_role.name} on {application.reference}",
        before=before,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    dip_id.delete()


@transaction.atomic
def dip_id_confirm(*, actor: Any, application_id: int, dip_id_id: int) -> DipId:
    """The DIP Manager confirms that a DIP ID is the one the DIP holds for the MPID and role."""
    application, task = _lock(actor, application_id)
    _raise(dip_confirm_refusal(actor, task))
    dip_id = _dip_id(application, dip_id_id)
    if dip_id.is_confirmed:
        raise Conflict(f"The DIP ID {dip_id.value} is already confirmed.")
    before = _dip_id_snapshot(dip_id)
    dip_id.confirmed_by, dip_id.confirmed_at = actor, timezone.now()
    dip_id.save(update_fields=["confirmed_by", "confirmed_at"])
    label = DipEnvironment(dip_id.environment).label
    audit_record(
        actor=actor,
        action="dip.id.confirm",
        target=dip_id,
        summary=f"{label} DIP ID {dip_id.value} of {application.mpid.code} as {application.market_role.name} "
        f"confirmed on {application.reference}",
        before=before,
        after=_dip_id_snapshot(dip_id),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"DIP ID confirmed: {application.reference} {application.mpid.code} {application.market_role.code}",
        body=f"The DIP Manager confirmed the {label} DIP ID {dip_id.value} for {application.mpid.code} as "
        f"{application.market_role.name}.",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    return dip_id


def _dip_id_snapshot(dip_id: DipId) -> dict[str, Any]:
    return {
        "value": dip_id.value,
        "environment": dip_id.environment,
        "mpid": dip_id.mpid.code,
        "market_role": dip_id.market_role.code,
        "confirmed_by": dip_id.confirmed_by_id,
        "confirmed_at": dip_id.confirmed_at,
    }


def _environment(value: str) -> DipEnvironment:
    try:
        return DipEnvironment(value)
    except ValueError:
        raise InvalidInput(
            "Choose the DIP environment: pre-production or production.", details={"field": "environment"}
        ) from None


def _dip_id_value(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("Enter the DIP ID.", details={"field": "value"})
    if not DIP_ID_RE.match(text):
        shown = "".join(ch for ch in text if ch.isprintable())[:20]
        raise InvalidInput(f"“{shown}” is not a DIP ID. {dip_id_validator.message}", details={"field": "value"})
    return text


def _refuse_duplicates(application: Application, env: DipEnvironment, value: str) -> None:
    existing = dip_id_for(application, env)
    if existing is not None:
        raise Conflict(
            f"{application.mpid.code} as {application.market_role.name} already has a {env.label} DIP ID "
            f"({existing.value}). Remove it first if it is wrong.",
            details={"field": "value"},
        )
    # A DIP ID identifies one MPID and role: once in an environment, and never another MPID or role.
    same_value = DipId.objects.filter(value=value)
    if (
        same_value.filter(environment=env).exists()
        or same_value.exclude(mpid_id=application.mpid_id, market_role_id=application.market_role_id).exists()
    ):
        raise Conflict(f"The DIP ID {value} is already in use. Check it and try again.", details={"field": "value"})


def _dip_id(application: Application, dip_id_id: int) -> DipId:
    dip_id = (
        DipId.objects.select_for_update()
        .filter(pk=dip_id_id, mpid_id=application.mpid_id, market_role_id=application.market_role_id)
        .first()
    )
    if dip_id is None:
        raise NotFound("No DIP ID was found with that reference.")
    dip_id.mpid, dip_id.market_role = application.mpid, application.market_role
    return dip_id


# --- guards on the task --------------------------------------------------------------------------


def dip_submit_guard(context: TransitionContext) -> None:
    """DIP onboarding is submitted only when every step is done and the pre-production DIP ID of the
    application's MPID and role is recorded."""
    missing = dip_missing(context.application)
    if missing:
        raise InvalidTransition(
            "DIP onboarding cannot be submitted yet: " + "; ".join(missing) + ".", details={"missing": missing}
        )


def dip_accept_guard(context: TransitionContext) -> None:
    """The DIP Manager accepts DIP onboarding only once the pre-production DIP ID is confirmed."""
    application = context.application
    dip_id = dip_id_for(application, DipEnvironment.PRE_PRODUCTION)
    if dip_id is None:
        raise InvalidTransition(
            f"DIP onboarding cannot be accepted: no pre-production DIP ID has been recorded for "
            f"{application.mpid.code} as {application.market_role.name}.",
            details={"missing": ["pre_production_dip_id"]},
        )
    if not dip_id.is_confirmed:
        raise InvalidTransition(
            f"DIP onboarding cannot be accepted until the pre-production DIP ID {dip_id.value} is confirmed.",
            details={"missing": ["pre_production_dip_id_confirmation"]},
        )


# --- internals ---------------------------------------------------------------------------------


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=DIP_TASK,
        missing="This application has no DIP onboarding task.",
    )


def _require_participant(actor: Any, task: Task) -> None:
    _raise(dip_participant_refusal(actor, task))


def _require_editable(actor: Any, task: Task) -> None:
    _raise(dip_edit_refusal(actor, task))


def _raise(refusal: ApplicationError | None) -> None:
    if refusal is not None:
        raise refusal


def _clean_note(value: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"The note must be {MAX_NOTE_LENGTH} characters or fewer.", details={"field": "note"})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            "The note contains control characters; remove them and try again.", details={"field": "note"}
        )
    return text


def _assurers(task: Task) -> list[Any]:
    roles = {Role(name) for name in task.definition.assurer_roles} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))


def _link(application: Application) -> str:
    return f"/applications/{application.pk}/dip/"
