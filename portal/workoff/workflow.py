"""The rules of a work-off item, as data and pure functions (no database access).

A work-off item covers one test case that failed, was blocked or was not run in QT, or one defect
still open. The participant proposes it, Testing Assurance reviews it, a Code Body agrees it; the
agreed item is a condition the approval bodies see. The participant closes it with a closure note and
evidence, and Testing Assurance or a Code Body may reopen it when the evidence is not enough.

The table below is the whole state machine: each row names the action, the states it may start from,
the state it ends in, the parties who may take it, and whether a comment is required. An action may
have several rows (a request for changes comes from Testing Assurance on a proposed item and from a
Code Body on a reviewed one); the row for the item's current state decides. An action taken in a
state no row starts from, or by a party the row does not name, is refused.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db import models

from portal.workoff.models import WorkOffStatus


class WorkOffAction(models.TextChoices):
    PROPOSE = "propose", "Propose"
    EDIT = "edit", "Change and send for review"
    WITHDRAW = "withdraw", "Withdraw"
    REVIEW = "review", "Mark as reviewed"
    REQUEST_CHANGES = "request_changes", "Request changes"
    AGREE = "agree", "Agree"
    CLOSE = "close", "Close with evidence"
    REOPEN = "reopen", "Reopen"


class WorkOffParty(models.TextChoices):
    """Who takes part in a work-off item. Which users these are is decided in `permissions.py`: the
    participant is the actor of the application's `workoff` task (a member of the applying
    organisation), Testing Assurance holds its role, and the Code Bodies are `CODE_BODY_ROLES`."""

    PARTICIPANT = "participant", "The participant"
    TESTING_ASSURANCE = "testing_assurance", "Testing Assurance"
    CODE_BODY = "code_body", "a Code Body"


S = WorkOffStatus
P = WorkOffParty
A = WorkOffAction

# An item is "live" until it is withdrawn: it counts in the plan, and no second item may cover what
# it covers.
LIVE_STATUSES = frozenset({S.PROPOSED, S.REVIEWED, S.CHANGES_REQUESTED, S.AGREED, S.CLOSED})
# Agreed and closed items are the conditions the approval bodies see.
CONDITION_STATUSES = frozenset({S.AGREED, S.CLOSED})


@dataclass(frozen=True)
class ItemTransition:
    action: WorkOffAction
    sources: frozenset[WorkOffStatus]
    target: WorkOffStatus
    parties: frozenset[WorkOffParty]
    comment_required: bool = False


def _t(
    action: WorkOffAction,
    sources: Iterable[WorkOffStatus],
    target: WorkOffStatus,
    parties: Iterable[WorkOffParty],
    *,
    comment_required: bool = False,
) -> ItemTransition:
    return ItemTransition(action, frozenset(sources), target, frozenset(parties), comment_required)


TRANSITIONS: tuple[ItemTransition, ...] = (
    # Proposing creates the item: it starts from no state.
    _t(A.PROPOSE, [], S.PROPOSED, [P.PARTICIPANT]),
    # Changing an item sends it (back) to Testing Assurance for review.
    _t(A.EDIT, [S.PROPOSED, S.CHANGES_REQUESTED], S.PROPOSED, [P.PARTICIPANT]),
    _t(A.WITHDRAW, [S.PROPOSED, S.REVIEWED, S.CHANGES_REQUESTED], S.WITHDRAWN, [P.PARTICIPANT], comment_required=True),
    _t(A.REVIEW, [S.PROPOSED], S.REVIEWED, [P.TESTING_ASSURANCE]),
    _t(A.REQUEST_CHANGES, [S.PROPOSED], S.CHANGES_REQUESTED, [P.TESTING_ASSURANCE], comment_required=True),
    _t(A.AGREE, [S.REVIEWED], S.AGREED, [P.CODE_BODY]),
    _t(A.REQUEST_CHANGES, [S.REVIEWED], S.CHANGES_REQUESTED, [P.CODE_BODY], comment_required=True),
    # Closing needs a closure note and evidence files (checked by the service).
    _t(A.CLOSE, [S.AGREED], S.CLOSED, [P.PARTICIPANT]),
    _t(A.REOPEN, [S.CLOSED], S.AGREED, [P.TESTING_ASSURANCE, P.CODE_BODY], comment_required=True),
)

# The actions a reviewer or the participant takes with a comment alone (closing carries files and
# proposing and editing carry the item's fields, so each has its own service and form).
COMMENT_ACTIONS = frozenset({A.WITHDRAW, A.REVIEW, A.REQUEST_CHANGES, A.AGREE, A.REOPEN})

# Who must act next on an item in each state (None: nobody, the item is finished).
_NEXT_PARTIES: Mapping[WorkOffStatus, frozenset[WorkOffParty]] = {
    S.PROPOSED: frozenset({P.TESTING_ASSURANCE}),
    S.REVIEWED: frozenset({P.CODE_BODY}),
    S.CHANGES_REQUESTED: frozenset({P.PARTICIPANT}),
    S.AGREED: frozenset({P.PARTICIPANT}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def transitions_for(action: WorkOffAction | str) -> list[ItemTransition]:
    """Every row of the table for `action` (empty for an unknown action)."""
    return [t for t in TRANSITIONS if t.action == action]


def transition_for(action: WorkOffAction | str, status: WorkOffStatus | str) -> ItemTransition | None:
    """The row that applies to `action` on an item in `status`, or None."""
    return next((t for t in transitions_for(action) if status in t.sources), None)


def parties_of(action: WorkOffAction | str) -> frozenset[WorkOffParty]:
    """Every party that may take `action` in some state."""
    parties: set[WorkOffParty] = set()
    for t in transitions_for(action):
        parties |= t.parties
    return frozenset(parties)


def next_parties(status: WorkOffStatus | str) -> frozenset[WorkOffParty]:
    return _NEXT_PARTIES[WorkOffStatus(status)]


def is_overdue(status: WorkOffStatus | str, due_on: date, today: date) -> bool:
    """An agreed item not closed by its due date. `today` is the date in the UK (Europe/London)."""
    return status == S.AGREED and due_on < today


_PAST: Mapping[WorkOffAction, str] = {
    A.PROPOSE: "proposed",
    A.EDIT: "changed",
    A.WITHDRAW: "withdrew",
    A.REVIEW: "reviewed",
    A.REQUEST_CHANGES: "asked for changes to",
    A.AGREE: "agreed",
    A.CLOSE: "closed",
    A.REOPEN: "reopened",
}


def past(action: WorkOffAction | str) -> str:
    """The action in the past tense, for "Priya Member proposed WO-001"."""
    return _PAST[WorkOffAction(action)]
