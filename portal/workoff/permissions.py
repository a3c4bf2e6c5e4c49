"""Who takes which part in a work-off item. Views ask these to decide what to offer; the services ask
them again before any change.

Seeing an item is seeing its application (`application_scope_for`): the participant's own members,
and the staff whose body follows the application. Acting needs the party the workflow names:

- the participant: the actor of the application's `workoff` task (by default a member of the
  applying organisation, never a member of another one);
- Testing Assurance: a holder of that role;
- a Code Body: a holder of one of `CODE_BODY_ROLES` (Elexon analysts, the QSP, the REC Code Manager)
  who may see the application (the REC Code Manager sees only the roles the REC must approve).
"""

from typing import Any

from portal.accounts.roles import CODE_BODY_ROLES, Role
from portal.accounts.selectors import user_roles
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party
from portal.workoff.workflow import WorkOffAction, WorkOffParty, parties_of

WORKOFF_TASK = "workoff"
# The task during which (or after which) items are raised.
QT_TASK = "qt"


def holds_party(user: Any, task: Task, party: WorkOffParty | str) -> bool:
    """Does the user take part as `party` in the work-off items of the task's application? The caller
    has already checked that the user may see the application."""
    if party == WorkOffParty.PARTICIPANT:
        return user_holds_party(user, task, Party.ACTOR)
    roles = user_roles(user)
    if party == WorkOffParty.TESTING_ASSURANCE:
        return Role.TESTING_ASSURANCE in roles
    if party == WorkOffParty.CODE_BODY:
        return bool(roles & CODE_BODY_ROLES)
    return False


def parties_of_user(user: Any, task: Task) -> frozenset[WorkOffParty]:
    return frozenset(party for party in WorkOffParty if holds_party(user, task, party))


def can_take_workoff_action(user: Any, task: Task, action: WorkOffAction | str) -> bool:
    """Does the user hold a party that may take `action` on a work-off item in some state?"""
    return bool(parties_of_user(user, task) & parties_of(action))


def takes_part_in_workoff(user: Any, task: Task) -> bool:
    """Does the user take any part in the application's work-off items (whichever action they ask)?"""
    return bool(parties_of_user(user, task))
