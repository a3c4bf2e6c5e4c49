"""Who may change the PQS and who may decide on its proposal items.

Both follow the process definition of the application's route: the `pqs` task's actor roles edit
(a member of the applying organisation), its assurer roles decide (the Code Bodies). Views ask these
for the user interface; the services ask them again."""

from typing import Any

from portal.prequalification.rules import DECIDABLE_STATES, EDITABLE_STATES
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import Party


def may_edit_role(user: Any, task: Task) -> bool:
    return user_holds_party(user, task, Party.ACTOR)


def may_decide_role(user: Any, task: Task) -> bool:
    return user_holds_party(user, task, Party.ASSURER)


def can_edit(user: Any, task: Task) -> bool:
    """The user may change the PQS and its proposal now."""
    return not task.application.is_closed and task.state in EDITABLE_STATES and may_edit_role(user, task)


def can_decide(user: Any, task: Task) -> bool:
    """The user may decide on proposal items now."""
    return not task.application.is_closed and task.state in DECIDABLE_STATES and may_decide_role(user, task)
