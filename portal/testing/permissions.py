"""Who may work on the PIT checklist, and when.

The participant side of the `pit` task (by default a member of the applying organisation) records
results, evidence and RTTMs, and only while the task is with them: not started, in progress, or sent
back with changes requested. Everyone who may see the application may read the checklist."""

from collections.abc import Iterable
from typing import Any

from portal.accounts.roles import Role
from portal.accounts.selectors import user_roles
from portal.core.errors import ApplicationError, InvalidTransition, PermissionDenied
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party, TaskState

PIT_TASK = "pit"
QT_TASK = "qt"
# The tasks during which the participant keeps the RTTM.
RTTM_TASKS = (PIT_TASK, QT_TASK)
# The staff who keep the Qualification Testing catalogue (scenarios, cases, requirements, DIP flows).
CATALOGUE_ROLES = frozenset(
    {Role.TESTING_ASSURANCE, Role.ELEXON_ANALYST, Role.QSP, Role.PROGRAMME_ASSURANCE, Role.ADMINISTRATOR}
)
# The states in which the participant may change the checklist.
EDITABLE_STATES = frozenset({TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED})


def can_keep_catalogue(user: Any) -> bool:
    """May change the Qualification Testing catalogue (everyone signed in may read it)."""
    return bool(user_roles(user) & CATALOGUE_ROLES)


def can_work_on_pit(user: Any, task: Task) -> bool:
    """The user acts on the task for this application (ignoring its state)."""
    return user_holds_party(user, task, Party.ACTOR)


def can_work_on_rttm(user: Any, tasks: Iterable[Task]) -> bool:
    """The user acts on PIT or QT for the application whose tasks these are (ignoring their states):
    who changes and captures its RTTM."""
    return any(user_holds_party(user, task, Party.ACTOR) for task in tasks if task.code in RTTM_TASKS)


def works_on_qt(user: Any, task: Task) -> bool:
    """The user is on the participant side of the application's `qt` task (ignoring its state)."""
    return user_holds_party(user, task, Party.ACTOR)


def assures_qt(user: Any, task: Task) -> bool:
    """The user holds one of the `qt` task's assurer roles on this route."""
    return user_holds_party(user, task, Party.ASSURER)


def takes_part_in_qt(user: Any, task: Task) -> bool:
    """On either side of the application's `qt` task: who may move defects on and comment on them."""
    return works_on_qt(user, task) or assures_qt(user, task)


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
