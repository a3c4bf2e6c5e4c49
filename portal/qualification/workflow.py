"""The rules of the qualification process, as data and pure functions (no database access).

Every task of an application has a *kind*; each kind has a transition table
`(kind, action) -> Transition`. A transition names the states it may start from, the state it ends
in, and which *party* of the task may take it: the actor (who does the work), or the assurer (who
reviews, assures or decides). Who the actor and the assurer are is data on the task definition of
each route (`process.py`). An action without a transition, or taken by the wrong party, is refused.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models


class TaskKind(models.TextChoices):
    SUBMISSION = "submission", "Submission reviewed by an assurer"
    SIGNOFF = "signoff", "Director sign-off"
    APPROVAL = "approval", "Approval decision"
    ACTIVATION = "activation", "Service Activation"


class TaskState(models.TextChoices):
    CANNOT_START = "cannot_start", "Cannot start yet"
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    COMPLETED = "completed", "Completed"
    NOT_REQUIRED = "not_required", "Not required"


DONE_STATES = frozenset({TaskState.COMPLETED, TaskState.NOT_REQUIRED})
# Nobody has begun work on a task in these states.
NOT_BEGUN_STATES = frozenset({TaskState.CANNOT_START, TaskState.NOT_STARTED})


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    DEFERRED = "deferred", "Deferred"
    REJECTED = "rejected", "Rejected"


APPROVING_DECISIONS = frozenset({Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS})


class Action(models.TextChoices):
    START = "start", "Start"
    SUBMIT = "submit", "Submit"
    REQUEST_CHANGES = "request_changes", "Request changes"
    ACCEPT = "accept", "Accept"
    MARK_NOT_REQUIRED = "mark_not_required", "Mark as not required"
    SIGN = "sign", "Sign"
    APPROVE = "approve", "Approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
    DEFER = "defer", "Defer"
    REJECT = "reject", "Reject"
    COMPLETE = "complete", "Complete"


class Party(models.TextChoices):
    ACTOR = "actor", "Actor"
    ASSURER = "assurer", "Assurer"


class ApplicationStatus(models.TextChoices):
    IN_PREPARATION = "in_preparation", "In preparation"
    IN_TESTING = "in_testing", "In testing"
    FINAL_QAD = "final_qad", "Final QAD"
    IN_APPROVAL = "in_approval", "In approval"
    QUALIFIED = "qualified", "Qualified"
    IN_SERVICE_ACTIVATION = "in_service_activation", "In Service Activation"
    ACTIVE = "active", "Active"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NON_COMPLETION = "non_completion", "Non-completion"
    REJECTED = "rejected", "Rejected"


CLOSED_STATUSES = frozenset({ApplicationStatus.WITHDRAWN, ApplicationStatus.NON_COMPLETION, ApplicationStatus.REJECTED})
# A participant may withdraw until it is qualified; after that the application is operational history.
WITHDRAWABLE_STATUSES = frozenset(
    {
        ApplicationStatus.IN_PREPARATION,
        ApplicationStatus.IN_TESTING,
        ApplicationStatus.FINAL_QAD,
        ApplicationStatus.IN_APPROVAL,
    }
)


class Stage(models.TextChoices):
    """The stage a task belongs to; the application's status follows its earliest unfinished stage."""

    PREPARATION = "preparation", "Preparation"
    TESTING = "testing", "Testing"
    FINAL_QAD = "final_qad", "Final QAD"
    APPROVAL = "approval", "Approval"
    SERVICE_ACTIVATION = "service_activation", "Service Activation"


STAGE_ORDER: tuple[Stage, ...] = (
    Stage.PREPARATION,
    Stage.TESTING,
    Stage.FINAL_QAD,
    Stage.APPROVAL,
    Stage.SERVICE_ACTIVATION,
)
STAGE_STATUS: Mapping[Stage, ApplicationStatus] = {
    Stage.PREPARATION: ApplicationStatus.IN_PREPARATION,
    Stage.TESTING: ApplicationStatus.IN_TESTING,
    Stage.FINAL_QAD: ApplicationStatus.FINAL_QAD,
    Stage.APPROVAL: ApplicationStatus.IN_APPROVAL,
    Stage.SERVICE_ACTIVATION: ApplicationStatus.IN_SERVICE_ACTIVATION,
}


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[TaskState]
    target: TaskState
    party: Party
    comment_required: bool = False
    decision: Decision | None = None
    # Only optional tasks may be marked not required.
    optional_only: bool = False


def _t(
    action: Action,
    sources: Iterable[TaskState],
    target: TaskState,
    party: Party,
    *,
    comment_required: bool = False,
    decision: Decision | None = None,
    optional_only: bool = False,
) -> Transition:
    return Transition(action, frozenset(sources), target, party, comment_required, decision, optional_only)


S = TaskState
_OPEN_FOR_ACTOR = (S.NOT_STARTED, S.IN_PROGRESS, S.CHANGES_REQUESTED)
_AWAITING_DECISION = (S.NOT_STARTED, S.SUBMITTED)

TRANSITIONS: Mapping[tuple[TaskKind, Action], Transition] = {
    (TaskKind.SUBMISSION, Action.START): _t(Action.START, [S.NOT_STARTED], S.IN_PROGRESS, Party.ACTOR),
    (TaskKind.SUBMISSION, Action.SUBMIT): _t(Action.SUBMIT, _OPEN_FOR_ACTOR, S.SUBMITTED, Party.ACTOR),
    (TaskKind.SUBMISSION, Action.MARK_NOT_REQUIRED): _t(
        Action.MARK_NOT_REQUIRED,
        [S.NOT_STARTED, S.IN_PROGRESS],
        S.NOT_REQUIRED,
        Party.ACTOR,
        comment_required=True,
        optional_only=True,
    ),
    (TaskKind.SUBMISSION, Action.REQUEST_CHANGES): _t(
        Action.REQUEST_CHANGES, [S.SUBMITTED], S.CHANGES_REQUESTED, Party.ASSURER, comment_required=True
    ),
    (TaskKind.SUBMISSION, Action.ACCEPT): _t(Action.ACCEPT, [S.SUBMITTED], S.COMPLETED, Party.ASSURER),
    (TaskKind.SIGNOFF, Action.SIGN): _t(Action.SIGN, [S.NOT_STARTED], S.COMPLETED, Party.ACTOR),
    (TaskKind.APPROVAL, Action.APPROVE): _t(
        Action.APPROVE, _AWAITING_DECISION, S.COMPLETED, Party.ASSURER, decision=Decision.APPROVED
    ),
    (TaskKind.APPROVAL, Action.APPROVE_WITH_CONDITIONS): _t(
        Action.APPROVE_WITH_CONDITIONS,
        _AWAITING_DECISION,
        S.COMPLETED,
        Party.ASSURER,
        comment_required=True,
        decision=Decision.APPROVED_WITH_CONDITIONS,
    ),
    (TaskKind.APPROVAL, Action.DEFER): _t(
        Action.DEFER,
        _AWAITING_DECISION,
        S.CHANGES_REQUESTED,
        Party.ASSURER,
        comment_required=True,
        decision=Decision.DEFERRED,
    ),
    (TaskKind.APPROVAL, Action.REJECT): _t(
        Action.REJECT,
        _AWAITING_DECISION,
        S.COMPLETED,
        Party.ASSURER,
        comment_required=True,
        decision=Decision.REJECTED,
    ),
    # After a deferral the participant provides the information asked for and the body decides again.
    (TaskKind.APPROVAL, Action.SUBMIT): _t(
        Action.SUBMIT, [S.CHANGES_REQUESTED], S.SUBMITTED, Party.ACTOR, comment_required=True
    ),
    (TaskKind.ACTIVATION, Action.START): _t(Action.START, [S.NOT_STARTED], S.IN_PROGRESS, Party.ASSURER),
    (TaskKind.ACTIVATION, Action.COMPLETE): _t(Action.COMPLETE, [S.IN_PROGRESS], S.COMPLETED, Party.ASSURER),
}

# Which party holds a task in each state, per kind: "who is waiting on whom".
_HOLDER: Mapping[TaskKind, Mapping[TaskState, Party]] = {
    TaskKind.SUBMISSION: {
        S.NOT_STARTED: Party.ACTOR,
        S.IN_PROGRESS: Party.ACTOR,
        S.CHANGES_REQUESTED: Party.ACTOR,
        S.SUBMITTED: Party.ASSURER,
    },
    TaskKind.SIGNOFF: {S.NOT_STARTED: Party.ACTOR},
    TaskKind.APPROVAL: {
        S.NOT_STARTED: Party.ASSURER,
        S.SUBMITTED: Party.ASSURER,
        S.CHANGES_REQUESTED: Party.ACTOR,
    },
    TaskKind.ACTIVATION: {S.NOT_STARTED: Party.ASSURER, S.IN_PROGRESS: Party.ASSURER},
}


def transition_for(kind: TaskKind | str, action: Action | str) -> Transition | None:
    try:
        return TRANSITIONS.get((TaskKind(kind), Action(action)))
    except ValueError:
        return None


def actions_for_kind(kind: TaskKind | str) -> list[Transition]:
    return [t for (k, _), t in TRANSITIONS.items() if k == TaskKind(kind)]


def holder(kind: TaskKind | str, state: TaskState | str) -> Party | None:
    """The party that must act next on a task in `state`, or None when nobody need act."""
    return _HOLDER[TaskKind(kind)].get(TaskState(state))


def dependencies_met(depends_on: Iterable[str], states: Mapping[str, TaskState | str]) -> bool:
    """A task may start when every dependency that exists on the application is done.

    Dependencies on tasks the application does not have (an approval body its role does not need,
    a task its route does not include) are ignored."""
    return all(TaskState(states[code]) in DONE_STATES for code in depends_on if code in states)


@dataclass(frozen=True)
class TaskSnapshot:
    code: str
    stage: Stage
    state: TaskState
    kind: TaskKind
    decision: Decision | None


def derive_status(tasks: Iterable[TaskSnapshot]) -> ApplicationStatus:
    """The application's status follows the earliest stage that still has unfinished work.

    Closed statuses (withdrawn, non-completion, rejected) are recorded on the application itself and
    are not derived. The approval stage is finished only when the application `is_qualified`: it has
    approval tasks and every one of them is done with an approving decision (an application without
    any approval task is never qualified). Once qualified it stays *qualified* until Service Activation
    begins.
    """
    tasks = list(tasks)
    for stage in STAGE_ORDER:
        unfinished = [t for t in tasks if t.stage == stage and t.state not in DONE_STATES]
        if stage == Stage.APPROVAL and not unfinished and not is_qualified(tasks):
            return ApplicationStatus.IN_APPROVAL
        if not unfinished:
            continue
        if stage == Stage.SERVICE_ACTIVATION and all(t.state in NOT_BEGUN_STATES for t in unfinished):
            return ApplicationStatus.QUALIFIED
        return STAGE_STATUS[stage]
    return ApplicationStatus.ACTIVE


def is_qualified(tasks: Iterable[TaskSnapshot]) -> bool:
    """Every required body has approved: there are approval tasks, all completed with an approving
    decision (approved, or approved with conditions)."""
    approvals = [t for t in tasks if t.kind == TaskKind.APPROVAL]
    return bool(approvals) and all(
        t.state == TaskState.COMPLETED and t.decision in APPROVING_DECISIONS for t in approvals
    )
