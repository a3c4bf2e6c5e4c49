"""The pure rules of the process: the transition table, who holds a task, and the derived status."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.qualification.process import ROUTES, RouteSpec
from portal.qualification.tests.helpers import PATHS
from portal.qualification.workflow import (
    DONE_STATES,
    TRANSITIONS,
    Action,
    ApplicationStatus,
    Decision,
    Party,
    Stage,
    TaskKind,
    TaskSnapshot,
    TaskState,
    actions_for_kind,
    dependencies_met,
    derive_status,
    holder,
    is_qualified,
    transition_for,
)

K = TaskKind
S = TaskState
AS = ApplicationStatus
ACTOR = Party.ACTOR
ASSURER = Party.ASSURER

# --- who holds a task --------------------------------------------------------------------------

HOLDERS = {
    K.SUBMISSION: {
        S.CANNOT_START: None,
        S.NOT_STARTED: ACTOR,
        S.IN_PROGRESS: ACTOR,
        S.SUBMITTED: ASSURER,
        S.CHANGES_REQUESTED: ACTOR,
        S.COMPLETED: None,
        S.NOT_REQUIRED: None,
    },
    K.SIGNOFF: {S.CANNOT_START: None, S.NOT_STARTED: ACTOR, S.COMPLETED: None},
    K.APPROVAL: {
        S.CANNOT_START: None,
        S.NOT_STARTED: ASSURER,
        S.SUBMITTED: ASSURER,
        S.CHANGES_REQUESTED: ACTOR,
        S.COMPLETED: None,
    },
    K.ACTIVATION: {S.CANNOT_START: None, S.NOT_STARTED: ASSURER, S.IN_PROGRESS: ASSURER, S.COMPLETED: None},
}


@pytest.mark.parametrize(
    ("kind", "state", "expected"),
    [(kind, state, party) for kind, table in HOLDERS.items() for state, party in table.items()],
)
def test_holder_names_the_party_that_must_act_next(kind, state, expected):
    assert holder(kind, state) == expected
    assert holder(kind.value, state.value) == expected


@pytest.mark.parametrize("kind", list(K))
@pytest.mark.parametrize("state", list(S))
def test_the_holder_of_a_task_can_act_on_it_and_the_other_party_cannot(kind, state):
    """ "Waiting on" and the transition table agree: whoever a task waits on has an action from that
    state, the other party has none, and a task that waits on nobody has no action at all."""
    parties = {t.party for t in actions_for_kind(kind) if state in t.sources}
    expected = holder(kind, state)
    assert parties == ({expected} if expected else set())


def test_every_transition_ends_in_a_different_state_and_names_a_party():
    for (kind, action), transition in TRANSITIONS.items():
        assert transition.action == action
        assert transition.target not in transition.sources, (kind, action)
        assert transition.party in (ACTOR, ASSURER)
        assert S.CANNOT_START not in transition.sources, "a task that cannot start yet takes no action"
        assert not transition.sources & DONE_STATES, "a finished task takes no action"


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        (Action.APPROVE, Decision.APPROVED),
        (Action.APPROVE_WITH_CONDITIONS, Decision.APPROVED_WITH_CONDITIONS),
        (Action.DEFER, Decision.DEFERRED),
        (Action.REJECT, Decision.REJECTED),
        (Action.SUBMIT, None),
    ],
)
def test_approval_actions_record_their_decision(action, decision):
    transition = transition_for(K.APPROVAL, action)
    assert transition is not None
    assert transition.decision == decision


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        (K.SUBMISSION, Action.MARK_NOT_REQUIRED),
        (K.SUBMISSION, Action.REQUEST_CHANGES),
        (K.APPROVAL, Action.APPROVE_WITH_CONDITIONS),
        (K.APPROVAL, Action.DEFER),
        (K.APPROVAL, Action.REJECT),
        (K.APPROVAL, Action.SUBMIT),
    ],
)
def test_actions_that_need_a_reason_say_so(kind, action):
    transition = transition_for(kind, action)
    assert transition is not None and transition.comment_required
    others = [t for t in TRANSITIONS.values() if t.comment_required]
    assert len(others) == 6


def test_only_marking_not_required_is_limited_to_optional_tasks():
    assert [key for key, t in TRANSITIONS.items() if t.optional_only] == [(K.SUBMISSION, Action.MARK_NOT_REQUIRED)]


@pytest.mark.parametrize(
    ("kind", "action"),
    [("submission", "approve"), ("signoff", "submit"), ("approval", "accept"), ("nonsense", "start"), ("signoff", "x")],
)
def test_an_action_outside_the_table_has_no_transition(kind, action):
    assert transition_for(kind, action) is None


def test_paths_used_by_the_tests_follow_the_table():
    """The state paths the other tests rely on are themselves legal walks through the table."""
    for kind, paths in PATHS.items():
        for target, actions in paths.items():
            state = S.NOT_STARTED
            for action in actions:
                transition = transition_for(kind, action)
                assert transition is not None and state in transition.sources, (kind, target, action)
                state = transition.target
            assert state == target


# --- dependencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depends_on", "states", "met"),
    [
        ((), {}, True),
        (("a",), {"a": S.COMPLETED}, True),
        (("a",), {"a": S.NOT_REQUIRED}, True),
        (("a", "b"), {"a": S.COMPLETED, "b": S.SUBMITTED}, False),
        (("a",), {"a": S.CHANGES_REQUESTED}, False),
        (("a",), {"a": S.CANNOT_START}, False),
        # A dependency the application does not have (a body its role does not need) is ignored.
        (("a", "missing"), {"a": S.COMPLETED}, True),
    ],
)
def test_dependencies_met(depends_on, states, met):
    assert dependencies_met(depends_on, states) is met


# --- derived status ----------------------------------------------------------------------------


def snap(code, stage, state, kind=K.SUBMISSION, decision=None):
    return TaskSnapshot(code, Stage(stage), S(state), K(kind), Decision(decision) if decision else None)


def process(*, prep=S.COMPLETED, test=S.COMPLETED, final=S.COMPLETED, approvals=(), activation=S.NOT_STARTED):
    """A small application: one task per stage before approval, the given approvals, one activation."""
    tasks = [
        snap("pit", Stage.PREPARATION, prep),
        snap("qt", Stage.TESTING, test),
        snap("director_signoff", Stage.FINAL_QAD, final, K.SIGNOFF),
    ]
    tasks += [
        snap(f"approval_{i}", Stage.APPROVAL, state, K.APPROVAL, decision)
        for i, (state, decision) in enumerate(approvals)
    ]
    tasks.append(snap("service_activation", Stage.SERVICE_ACTIVATION, activation, K.ACTIVATION))
    return tasks


APPROVED = (S.COMPLETED, Decision.APPROVED)
CONDITIONS = (S.COMPLETED, Decision.APPROVED_WITH_CONDITIONS)
WAITING = (S.NOT_STARTED, None)
BLOCKED = (S.CANNOT_START, None)
DEFERRED = (S.CHANGES_REQUESTED, Decision.DEFERRED)
RESUBMITTED = (S.SUBMITTED, Decision.DEFERRED)
REJECTED = (S.COMPLETED, Decision.REJECTED)


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        pytest.param(
            process(prep=S.NOT_STARTED, test=S.CANNOT_START, final=S.CANNOT_START, approvals=[BLOCKED] * 3),
            AS.IN_PREPARATION,
            id="fresh",
        ),
        pytest.param(process(prep=S.SUBMITTED, test=S.CANNOT_START), AS.IN_PREPARATION, id="preparation-submitted"),
        pytest.param(process(test=S.IN_PROGRESS, final=S.CANNOT_START), AS.IN_TESTING, id="testing"),
        pytest.param(process(test=S.NOT_REQUIRED, final=S.NOT_STARTED), AS.FINAL_QAD, id="testing-not-required"),
        pytest.param(process(final=S.NOT_STARTED, approvals=[BLOCKED] * 3), AS.FINAL_QAD, id="awaiting-signoff"),
        pytest.param(process(approvals=[WAITING] * 3), AS.IN_APPROVAL, id="approvals-open"),
        pytest.param(process(approvals=[APPROVED, APPROVED, WAITING]), AS.IN_APPROVAL, id="two-of-three"),
        pytest.param(process(approvals=[APPROVED, DEFERRED]), AS.IN_APPROVAL, id="deferred"),
        pytest.param(process(approvals=[APPROVED, RESUBMITTED]), AS.IN_APPROVAL, id="resubmitted"),
        pytest.param(process(approvals=[APPROVED, REJECTED]), AS.IN_APPROVAL, id="one-rejected"),
        pytest.param(process(approvals=[APPROVED, APPROVED, APPROVED]), AS.QUALIFIED, id="all-three"),
        pytest.param(process(approvals=[APPROVED, CONDITIONS]), AS.QUALIFIED, id="with-conditions"),
        pytest.param(
            process(approvals=[APPROVED, APPROVED], activation=S.CANNOT_START), AS.QUALIFIED, id="activation-blocked"
        ),
        pytest.param(
            process(approvals=[APPROVED], activation=S.IN_PROGRESS), AS.IN_SERVICE_ACTIVATION, id="activating"
        ),
        pytest.param(process(approvals=[APPROVED], activation=S.COMPLETED), AS.ACTIVE, id="active"),
        # Without any approval task nothing has approved: never qualified, never active.
        pytest.param(process(approvals=[]), AS.IN_APPROVAL, id="no-approvals"),
        pytest.param(process(approvals=[], activation=S.COMPLETED), AS.IN_APPROVAL, id="no-approvals-activated"),
    ],
)
def test_derive_status(tasks, expected):
    assert derive_status(tasks) == expected


# Realistic states (and decisions) a task of each kind can be in.
def _task_state(kind: TaskKind) -> st.SearchStrategy[tuple[TaskState, Decision | None]]:
    if kind == K.APPROVAL:
        return st.sampled_from([BLOCKED, WAITING, DEFERRED, RESUBMITTED, APPROVED, CONDITIONS, REJECTED])
    states = [S.CANNOT_START, *PATHS[kind]]
    return st.tuples(st.sampled_from(states), st.none())


def _done_state(kind: TaskKind) -> st.SearchStrategy[tuple[TaskState, Decision | None]]:
    if kind == K.APPROVAL:
        return st.sampled_from([APPROVED, CONDITIONS, REJECTED])
    return st.tuples(st.sampled_from([S.COMPLETED, S.NOT_REQUIRED]), st.none())


@st.composite
def applications(draw: st.DrawFn, route: RouteSpec | None = None) -> list[TaskSnapshot]:
    """An application of a shipped route with a subset of its approval tasks (as the matrix gives):
    the tasks up to a drawn point are done, the others are in any state their kind can be in."""
    route = route or draw(st.sampled_from(ROUTES))
    specs = [s for s in route.tasks if s.kind != K.APPROVAL or draw(st.booleans())]
    reached = draw(st.integers(0, len(specs)))
    tasks = []
    for position, spec in enumerate(specs):
        state, decision = draw(_done_state(spec.kind) if position < reached else _task_state(spec.kind))
        tasks.append(TaskSnapshot(spec.code, spec.stage, state, spec.kind, decision))
    return tasks


RANK = {
    AS.IN_PREPARATION: 0,
    AS.IN_TESTING: 1,
    AS.FINAL_QAD: 2,
    AS.IN_APPROVAL: 3,
    AS.QUALIFIED: 4,
    AS.IN_SERVICE_ACTIVATION: 5,
    AS.ACTIVE: 6,
}
STAGE_RANK = {Stage.PREPARATION: 0, Stage.TESTING: 1, Stage.FINAL_QAD: 2, Stage.APPROVAL: 3}


@given(applications())
def test_derived_status_is_never_a_closed_status(tasks):
    assert derive_status(tasks) in RANK


@given(applications())
def test_qualified_or_later_only_when_every_required_body_approved(tasks):
    status = derive_status(tasks)
    if RANK[status] >= RANK[AS.QUALIFIED]:
        assert is_qualified(tasks)
        assert all(t.state in DONE_STATES for t in tasks if t.stage != Stage.SERVICE_ACTIVATION)
    if not is_qualified(tasks):
        assert RANK[status] <= RANK[AS.IN_APPROVAL]


@given(applications())
def test_status_is_the_earliest_stage_with_unfinished_work(tasks):
    status = derive_status(tasks)
    unfinished = [STAGE_RANK[t.stage] for t in tasks if t.stage in STAGE_RANK and t.state not in DONE_STATES]
    if unfinished:
        assert RANK[status] == min(unfinished)


@given(applications(), st.data())
def test_finishing_a_task_never_moves_the_status_back(tasks, data):
    """Completing any unfinished task (approving it, for an approval) never gives an earlier status."""
    open_tasks = [i for i, t in enumerate(tasks) if t.state not in DONE_STATES]
    if not open_tasks:
        return
    i = data.draw(st.sampled_from(open_tasks))
    decision = Decision.APPROVED if tasks[i].kind == K.APPROVAL else None
    done = [*tasks[:i], tasks[i].__class__(tasks[i].code, tasks[i].stage, S.COMPLETED, tasks[i].kind, decision)]
    done += tasks[i + 1 :]
    assert RANK[derive_status(done)] >= RANK[derive_status(tasks)]


@given(applications())
def test_derive_status_ignores_task_order(tasks):
    assert derive_status(tasks) == derive_status(list(reversed(tasks)))
