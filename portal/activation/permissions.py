"""Who may see and do what on a Service Activation hand-off, and when.

Seeing a hand-off is seeing its application (`application_scope_for`); anything else answers 404.
Within that:

- the Service Activation team (the assurer of the `service_activation` task, by default
  `Role.SERVICE_ACTIVATION`) starts the hand-off, ticks and unticks checklist items, sets the planned
  go-live date and completes it;
- the Code Bodies (Elexon analysts, the QSP, the REC Code Manager) and the DIP Manager add inputs:
  notes for the Service Activation team;
- staff see everything; the participant sees the hand-off read-only: whether it has started, which
  checklist items are done, the planned go-live date, and when it was completed. The inputs and the
  notes on checklist items are the bodies' working notes to one another, so they are internal and the
  participant does not see them.

Nothing changes once the hand-off is completed.
"""

from typing import Any

from portal.accounts.roles import Role
from portal.accounts.selectors import user_is_staff_reviewer, user_roles
from portal.activation.models import Handoff, InputBody
from portal.core.errors import ApplicationError, InvalidTransition, PermissionDenied
from portal.qualification.models import Application, Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import ApplicationStatus, Party

ACTIVATION_TASK = "service_activation"
# The approval tasks whose approving decision may make an application MHHS Qualified.
APPROVAL_TASKS = ("approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager")
# The application is MHHS Qualified (or further on), so it has a hand-off.
HANDOFF_STATUSES = frozenset(
    {ApplicationStatus.QUALIFIED, ApplicationStatus.IN_SERVICE_ACTIVATION, ApplicationStatus.ACTIVE}
)
# Who may add an input, and the body each role speaks for, in the order a holder of several is offered.
INPUT_ROLES: dict[Role, InputBody] = {
    Role.ELEXON_ANALYST: InputBody.ELEXON,
    Role.QSP: InputBody.QSP,
    Role.REC_CODE_MANAGER: InputBody.REC_CODE_MANAGER,
    Role.DIP_MANAGER: InputBody.DIP_MANAGER,
}


def has_handoff_stage(application: Application) -> bool:
    """The application is MHHS Qualified, in Service Activation or active."""
    return application.status in HANDOFF_STATUSES


def can_run_handoff(user: Any, task: Task) -> bool:
    """The user is on the Service Activation team for this application (ignoring state)."""
    return user_holds_party(user, task, Party.ASSURER)


def input_bodies_of(user: Any) -> list[InputBody]:
    """The bodies the user may add an input for (empty when they may not add one)."""
    roles = user_roles(user)
    return [body for role, body in INPUT_ROLES.items() if role in roles]


def can_add_input(user: Any) -> bool:
    """The user speaks for a body that may add inputs to hand-offs."""
    return bool(input_bodies_of(user))


def sees_internal(user: Any) -> bool:
    """Staff see the inputs and the notes on checklist items; the participant does not."""
    return user_is_staff_reviewer(user)


def run_refusal(user: Any, task: Task, handoff: Handoff | None) -> ApplicationError | None:
    """Why the user may not work on the hand-off's checklist and go-live date now, or None."""
    if not can_run_handoff(user, task):
        return PermissionDenied("Only the Service Activation team can work on the hand-off.")
    return open_refusal(task.application, handoff)


def input_refusal(user: Any, application: Application, handoff: Handoff | None) -> ApplicationError | None:
    """Why the user may not add an input now, or None."""
    if not can_add_input(user):
        return PermissionDenied("Only the Code Bodies and the DIP Manager can add inputs to the hand-off.")
    return open_refusal(application, handoff)


def open_refusal(application: Application, handoff: Handoff | None) -> ApplicationError | None:
    """Why nothing may be changed on the hand-off now (not qualified yet, or completed), or None."""
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if not has_handoff_stage(application):
        return InvalidTransition(
            f"{application.reference} is not MHHS Qualified yet: the hand-off opens when every required body "
            "has approved."
        )
    if (handoff is not None and handoff.is_completed) or application.status == ApplicationStatus.ACTIVE:
        return InvalidTransition(
            f"The hand-off of {application.reference} is complete: nothing on it can be changed any more."
        )
    return None
