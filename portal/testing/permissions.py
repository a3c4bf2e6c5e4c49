"""Who may work on the PIT checklist, and when.

The participant side of the `pit` task (by default a member of the applying organisation) records
results, evidence and RTTMs, and only while the task is with them: not started, in progress, or sent
back with changes requested. Everyone who may see the application may read the checklist."""

from typing import Any

from portal.accounts.roles import Role
from portal.core.errors import ApplicationError, InvalidTransition, PermissionDenied
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party, TaskState

PIT_TASK = "pit"
QT_TASK = "qt"
# The staff who keep the Qualification Testing catalogue (scenarios, cases, requirements, DIP flows).
CATALOGUE_ROLES = frozenset(
    {Role.TESTING_ASSURANCE, Role.ELEXON_ANALYST, Role.QSP, Role.PROGRAMME_ASSURANCE, Role.ADMINISTRATOR}
)
# The states in which the participant may change the checklist.
EDITABLE_STATES = frozenset({TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED})


def can_work_on_pit(user: Any, task: Task) -> bool:
    """The user acts on the task for this application (ignoring its state)."""
    return user_holds_party(user, task, Party.ACTOR)


def pit_is_editable(task: Task) -> bool:
    return not task.application.is_closed and task.state in EDITABLE_STATES


def can_edit_pit(user: Any, task: Task) -> bool:
    return pit_is_editable(task) and can_work_on_pit(user, task)


def pit_edit_refusal(user: Any, task: Task) -> ApplicationError | None:
    """Why the user may not change the checklist now (the error a service raises), or None."""
    if not can_work_on_pit(user, task):
        return PermissionDenied("Only the applying organisation can record PIT results and upload RTTMs.")
    application = task.application
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state not in EDITABLE_STATES:
        return InvalidTransition(
            f"“{task.definition.title}” is {TaskState(task.state).label.lower()}, so its checklist cannot be "
            "changed now.",
            details={"state": task.state},
        )
    return None
