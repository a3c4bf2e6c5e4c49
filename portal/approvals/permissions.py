"""Who may do what with the PAB calendar and targets.

- The PAB secretary (and an administrator) keeps the meeting calendar: generates meetings from the
  rule, adds extra ones, moves, cancels and marks them held.
- Elexon analysts and the Qualification Service Provider, who present applications to the Board, give
  an application its target meeting. No task definition names them for this (the `approval_bsc_pab`
  task's assurers are the Board's secretary and chair, who decide), so the roles are named here.
- Everyone signed in may read the calendar; application details on it follow `application_scope_for`.
"""

from typing import Any

from portal.accounts.roles import Role
from portal.accounts.selectors import user_roles
from portal.approvals.models import PabPaper, PabRecommendation
from portal.core.errors import ApplicationError, InvalidTransition, PermissionDenied
from portal.qualification.models import Application, Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party, TaskState

PAB_TASK = "approval_bsc_pab"
SIGNOFF_TASK = "director_signoff"
MEETING_MANAGERS = frozenset({Role.PAB_SECRETARY, Role.ADMINISTRATOR})
TARGETING_ROLES = frozenset({Role.ELEXON_ANALYST, Role.QSP})


def can_manage_meetings(user: Any) -> bool:
    return bool(user_roles(user) & MEETING_MANAGERS)


def can_target(user: Any) -> bool:
    return bool(user_roles(user) & TARGETING_ROLES)


def meeting_manage_refusal(user: Any) -> PermissionDenied | None:
    if can_manage_meetings(user):
        return None
    return PermissionDenied("Only the PAB secretary can change the BSC PAB meeting calendar.")


def target_refusal(user: Any, application: Application, tasks: dict[str, Task]) -> ApplicationError | None:
    """Why the user may not give this application a target meeting now (the error the service raises),
    or None. `tasks` are the application's tasks by code."""
    if not can_target(user):
        return PermissionDenied("Only an Elexon qualification analyst or the QSP can set the target PAB meeting.")
    return target_state_refusal(application, tasks)


def target_state_refusal(application: Application, tasks: dict[str, Task]) -> ApplicationError | None:
    """Why the application cannot be given a target meeting now, whoever asks, or None."""
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    pab = tasks.get(PAB_TASK)
    if pab is None:
        return InvalidTransition(
            f"{application.reference} ({application.market_role.name}) does not need BSC PAB approval, so it has "
            "no target PAB meeting."
        )
    signoff = tasks.get(SIGNOFF_TASK)
    if signoff is None or signoff.state != TaskState.COMPLETED:
        return InvalidTransition(
            f"{application.reference} can be given a target PAB meeting once a Director has signed its Final QAD."
        )
    if pab.state == TaskState.COMPLETED:
        return InvalidTransition(f"BSC PAB has already decided on {application.reference}.")
    return None


# --- decisions ----------------------------------------------------------------------------------------


def can_decide(user: Any, task: Task) -> bool:
    """The user records decisions of the approval body whose task this is (its assurers), before the
    conflict rule (`decision_conflict`) is asked."""
    return user_holds_party(user, task, Party.ASSURER)


def decision_conflict(user: Any, application: Application) -> str:
    """Why the user may not record a decision on the application although their role decides, or "":
    whoever prepared the Board's summary paper on it, or made the Elexon recommendation, cannot also
    decide it (for any body)."""
    if PabPaper.objects.filter(application=application, prepared_by=user).exists():
        return (
            f"You prepared the summary paper on {application.reference}, so someone else must record a decision on it."
        )
    if PabRecommendation.objects.filter(application=application, recommended_by=user).exists():
        return f"You made the recommendation on {application.reference}, so someone else must record a decision on it."
    return ""
