"""How domain state reads on a page: status tags, and "who holds this task" in words.

Pure functions over objects the selectors already loaded; no queries of their own (the user's roles
and organisations are cached on the user for the request)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.accounts.roles import CODE_BODY_ROLES, PARTICIPANT_ROLES, Role
from portal.accounts.selectors import user_is_staff_reviewer
from portal.qualification.models import Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.workflow import (
    Action,
    ApplicationStatus,
    Decision,
    Party,
    TaskState,
    holder,
)


@dataclass(frozen=True)
class Tag:
    """A GOV.UK tag: its text and colour modifier (empty for the default dark blue)."""

    text: str
    colour: str = ""


APPLICATION_STATUS_COLOURS: dict[str, str] = {
    ApplicationStatus.IN_PREPARATION: "grey",
    ApplicationStatus.IN_TESTING: "light-blue",
    ApplicationStatus.FINAL_QAD: "purple",
    ApplicationStatus.IN_APPROVAL: "yellow",
    ApplicationStatus.QUALIFIED: "turquoise",
    ApplicationStatus.IN_SERVICE_ACTIVATION: "blue",
    ApplicationStatus.ACTIVE: "green",
    ApplicationStatus.WITHDRAWN: "grey",
    ApplicationStatus.NON_COMPLETION: "orange",
    ApplicationStatus.REJECTED: "red",
}

TASK_STATE_COLOURS: dict[str, str] = {
    TaskState.CANNOT_START: "grey",
    TaskState.NOT_STARTED: "blue",
    TaskState.IN_PROGRESS: "light-blue",
    TaskState.SUBMITTED: "yellow",
    TaskState.CHANGES_REQUESTED: "orange",
    TaskState.COMPLETED: "green",
    TaskState.NOT_REQUIRED: "grey",
}

DECISION_COLOURS: dict[str, str] = {
    Decision.APPROVED: "green",
    Decision.APPROVED_WITH_CONDITIONS: "green",
    Decision.DEFERRED: "orange",
    Decision.REJECTED: "red",
}

# Actions shown as warning (red) buttons: they send work back or end it.
WARNING_ACTIONS = frozenset({Action.REQUEST_CHANGES, Action.DEFER, Action.REJECT})
# Actions that carry evidence files.
FILE_ACTIONS = frozenset({Action.SUBMIT})


def application_status_tag(status: str) -> Tag:
    return Tag(ApplicationStatus(status).label, APPLICATION_STATUS_COLOURS.get(status, ""))


def task_status_tag(task: Task) -> Tag:
    """A task's state; a decided approval shows its decision instead ("Approved", "Deferred", …)."""
    if task.decision and task.state in (TaskState.COMPLETED, TaskState.CHANGES_REQUESTED):
        return Tag(Decision(task.decision).label, DECISION_COLOURS.get(task.decision, ""))
    return Tag(TaskState(task.state).label, TASK_STATE_COLOURS.get(task.state, ""))


# How each role is named in "Waiting for …". Roles that together make up one body are named once.
_ROLE_PHRASES: dict[Role, str] = {
    Role.PARTICIPANT_MEMBER: "the participant",
    Role.PARTICIPANT_DIRECTOR: "a Company Director",
    Role.ELEXON_ANALYST: "an Elexon qualification analyst",
    Role.QSP: "the Qualification Service Provider",
    Role.TESTING_ASSURANCE: "Testing Assurance",
    Role.PROGRAMME_ASSURANCE: "the MHHS Programme",
    Role.DIP_MANAGER: "the DIP Manager",
    Role.REC_CODE_MANAGER: "the REC Code Manager",
    Role.PAB_SECRETARY: "the BSC PAB",
    Role.PAB_CHAIR: "the BSC PAB",
    Role.PAB_MEMBER: "the BSC PAB",
    Role.SERVICE_ACTIVATION: "the Service Activation team",
    Role.ADMINISTRATOR: "an administrator",
}


def roles_phrase(role_names: Iterable[str], *, organisation_name: str = "") -> str:
    """`["elexon_analyst", "qsp", "rec_code_manager"]` -> "the Code Bodies"; others joined with "or"."""
    roles = [Role(name) for name in role_names]
    phrases: list[str] = []
    if set(roles) >= CODE_BODY_ROLES:
        phrases.append("the Code Bodies")
        roles = [r for r in roles if r not in CODE_BODY_ROLES]
    for role in roles:
        if role == Role.PARTICIPANT_MEMBER and organisation_name:
            phrase = organisation_name
        else:
            phrase = _ROLE_PHRASES.get(role, role.label)
        if phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return "nobody"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def task_holder(task: Task) -> Party | None:
    """The party the task waits on now, or None (done, cannot start yet, or the application closed)."""
    if task.application.is_closed:
        return None
    return holder(task.definition.kind, task.state)


def waiting_for(user: Any, task: Task) -> str:
    """ "Waiting for you", "Waiting for the DIP Manager", …, or "" when the task waits on nobody."""
    party = task_holder(task)
    if party is None:
        return ""
    if user_holds_party(user, task, party):
        return "Waiting for you"
    names = task.definition.roles_for(party)
    # Staff see the participant by its organisation's name.
    waits_on_participant = bool(PARTICIPANT_ROLES & {Role(name) for name in names})
    organisation_name = (
        task.application.organisation.name if waits_on_participant and user_is_staff_reviewer(user) else ""
    )
    return f"Waiting for {roles_phrase(names, organisation_name=organisation_name)}"
