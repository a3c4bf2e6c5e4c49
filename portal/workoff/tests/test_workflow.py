"""The work-off item's state machine as data: every action's sources, target and parties, and the
overdue rule. No database."""

from datetime import date

import pytest

from portal.workoff.models import WorkOffStatus as S
from portal.workoff.workflow import (
    TRANSITIONS,
    is_overdue,
    next_parties,
    parties_of,
    transition_for,
)
from portal.workoff.workflow import (
    WorkOffAction as A,
)
from portal.workoff.workflow import (
    WorkOffParty as P,
)

# (action, from) -> (to, parties); everything else is refused.
EXPECTED = {
    (A.EDIT, S.PROPOSED): (S.PROPOSED, {P.PARTICIPANT}),
    (A.EDIT, S.CHANGES_REQUESTED): (S.PROPOSED, {P.PARTICIPANT}),
    (A.WITHDRAW, S.PROPOSED): (S.WITHDRAWN, {P.PARTICIPANT}),
    (A.WITHDRAW, S.REVIEWED): (S.WITHDRAWN, {P.PARTICIPANT}),
    (A.WITHDRAW, S.CHANGES_REQUESTED): (S.WITHDRAWN, {P.PARTICIPANT}),
    (A.REVIEW, S.PROPOSED): (S.REVIEWED, {P.TESTING_ASSURANCE}),
    (A.REQUEST_CHANGES, S.PROPOSED): (S.CHANGES_REQUESTED, {P.TESTING_ASSURANCE}),
    (A.REQUEST_CHANGES, S.REVIEWED): (S.CHANGES_REQUESTED, {P.CODE_BODY}),
    (A.AGREE, S.REVIEWED): (S.AGREED, {P.CODE_BODY}),
    (A.CLOSE, S.AGREED): (S.CLOSED, {P.PARTICIPANT}),
    (A.REOPEN, S.CLOSED): (S.AGREED, {P.TESTING_ASSURANCE, P.CODE_BODY}),
}


@pytest.mark.parametrize("action", [a for a in A if a != A.PROPOSE])
@pytest.mark.parametrize("status", list(S))
def test_the_table_allows_exactly_the_designed_moves(action, status):
    transition = transition_for(action, status)
    expected = EXPECTED.get((action, status))
    if expected is None:
        assert transition is None
    else:
        assert transition is not None
        assert (transition.target, set(transition.parties)) == expected


def test_nothing_leaves_a_withdrawn_item_and_every_action_has_a_party():
    assert all(S.WITHDRAWN not in t.sources for t in TRANSITIONS)
    assert all(t.parties for t in TRANSITIONS)
    assert parties_of(A.REQUEST_CHANGES) == {P.TESTING_ASSURANCE, P.CODE_BODY}
    assert parties_of("no_such_action") == frozenset()


def test_comments_are_required_where_someone_must_read_why():
    required = {(t.action, frozenset(t.sources)) for t in TRANSITIONS if t.comment_required}
    assert {action for action, _ in required} == {A.WITHDRAW, A.REQUEST_CHANGES, A.REOPEN}


def test_who_acts_next():
    assert next_parties(S.PROPOSED) == {P.TESTING_ASSURANCE}
    assert next_parties(S.REVIEWED) == {P.CODE_BODY}
    assert next_parties(S.AGREED) == {P.PARTICIPANT}
    assert next_parties(S.CLOSED) == frozenset()


@pytest.mark.parametrize(
    ("status", "due_on", "overdue"),
    [
        (S.AGREED, date(2026, 3, 8), True),
        (S.AGREED, date(2026, 3, 9), False),  # due today is not overdue yet
        (S.CLOSED, date(2026, 1, 1), False),
        (S.PROPOSED, date(2026, 1, 1), False),
        (S.REVIEWED, date(2026, 1, 1), False),
    ],
)
def test_only_an_agreed_item_past_its_due_date_is_overdue(status, due_on, overdue):
    assert is_overdue(status, due_on, date(2026, 3, 9)) is overdue
