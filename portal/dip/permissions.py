"""Who may work on DIP onboarding, and when.

The participant side of the `dip_onboarding` task (by default a member of the applying organisation)
marks steps done and records DIP IDs; the assurer side (the DIP Manager) confirms DIP IDs. Steps and
the pre-production DIP ID change only while the task is with the participant: not started, in
progress, or sent back with changes requested. Everyone who may see the application may read it."""

from typing import Any

from portal.core.errors import ApplicationError, InvalidTransition, PermissionDenied
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party, TaskState

DIP_TASK = "dip_onboarding"
EDITABLE_STATES = frozenset({TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED})


def can_work_on_dip(user: Any, task: Task) -> bool:
    """The user acts on the task for this application (ignoring its state)."""
    return user_holds_party(user, task, Party.ACTOR)


def can_confirm_dip_ids(user: Any, task: Task) -> bool:
    """The user assures the task: by default, the DIP Manager."""
    return user_holds_party(user, task, Party.ASSURER)


def dip_is_editable(task: Task) -> bool:
    return not task.application.is_closed and task.state in EDITABLE_STATES


def can_edit_dip(user: Any, task: Task) -> bool:
    return dip_is_editable(task) and can_work_on_dip(user, task)


def dip_participant_refusal(user: Any, task: Task) -> ApplicationError | None:
    """Why the user may not record anything on DIP onboarding at all (not the participant, or the
    application is closed), or None."""
    if not can_work_on_dip(user, task):
        return PermissionDenied("Only the applying organisation can record DIP onboarding and DIP IDs.")
    return closed_refusal(task)


def dip_edit_refusal(user: Any, task: Task) -> ApplicationError | None:
    """Why the user may not change the steps or the pre-production DIP ID now, or None."""
    refusal = dip_participant_refusal(user, task)
    if refusal is None and task.state not in EDITABLE_STATES:
        refusal = InvalidTransition(
            f"“{task.definition.title}” is {TaskState(task.state).label.lower()}, so its steps and its "
            "pre-production DIP ID cannot be changed now.",
            details={"state": task.state},
        )
    return refusal


def dip_confirm_refusal(user: Any, task: Task) -> ApplicationError | None:
    if not can_confirm_dip_ids(user, task):
        return PermissionDenied("Only the DIP Manager can confirm DIP IDs.")
    return closed_refusal(task)


def closed_refusal(task: Task) -> ApplicationError | None:
    application = task.application
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    return None
