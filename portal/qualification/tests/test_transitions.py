"""Every transition of the table, on a task of its kind: allowed, wrong state, wrong role, other
organisation, missing reason. Every refusal changes nothing."""

from collections.abc import Iterator

import pytest

from portal.accounts.roles import STAFF_ROLES, Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.factories import make_member
from portal.qualification.models import Task, TaskEntry
from portal.qualification.process import APPROVAL_CODES
from portal.qualification.services import task_transition
from portal.qualification.tests.helpers import (
    last_notification_id,
    organisation_people,
    reachable_states,
    recipients_of,
    snapshot,
    without,
)
from portal.qualification.workflow import (
    TRANSITIONS,
    Action,
    ApplicationStatus,
    Party,
    TaskKind,
    TaskState,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("team")]

K = TaskKind
S = TaskState
A = Action
R = Role

# The tasks each kind is exercised on (an application of a Supplier on the Non-SIT Supplier & Agent
# route, which has every task and needs every approval body).
TASKS_OF_KIND = {
    K.SUBMISSION: ("pqs", "pit", "workoff"),
    K.SIGNOFF: ("director_signoff",),
    K.APPROVAL: APPROVAL_CODES,
    K.ACTIVATION: ("service_activation",),
}
OPTIONAL = {"workoff"}
ASSURERS = {
    "pqs": {R.ELEXON_ANALYST, R.QSP, R.REC_CODE_MANAGER},
    "pit": {R.PROGRAMME_ASSURANCE},
    "workoff": {R.ELEXON_ANALYST, R.REC_CODE_MANAGER, R.TESTING_ASSURANCE},
    "director_signoff": set(),
    "approval_dip_manager": {R.DIP_MANAGER},
    "approval_bsc_pab": {R.PAB_SECRETARY, R.PAB_CHAIR},
    "approval_rec_code_manager": {R.REC_CODE_MANAGER},
    "service_activation": {R.SERVICE_ACTIVATION},
}
# Who the task waits on after each transition.
WAITING_ON = {
    S.IN_PROGRESS: {K.SUBMISSION: "actor", K.ACTIVATION: "assurer"},
    S.SUBMITTED: {K.SUBMISSION: "assurer", K.APPROVAL: "assurer"},
    S.CHANGES_REQUESTED: {K.SUBMISSION: "actor", K.APPROVAL: "actor"},
    S.COMPLETED: {K.SUBMISSION: "", K.SIGNOFF: "", K.APPROVAL: "", K.ACTIVATION: ""},
    S.NOT_REQUIRED: {K.SUBMISSION: ""},
}
# Who hears about each transition: the participant organisation, or the task's assurers.
PARTICIPANTS, ASSURING = "participants", "assurers"
NOTIFIED = {
    (K.SUBMISSION, A.START): PARTICIPANTS,
    (K.SUBMISSION, A.SUBMIT): ASSURING,
    (K.SUBMISSION, A.MARK_NOT_REQUIRED): PARTICIPANTS,
    (K.SUBMISSION, A.REQUEST_CHANGES): PARTICIPANTS,
    (K.SUBMISSION, A.ACCEPT): PARTICIPANTS,
    (K.SIGNOFF, A.SIGN): PARTICIPANTS,
    (K.APPROVAL, A.APPROVE): PARTICIPANTS,
    (K.APPROVAL, A.APPROVE_WITH_CONDITIONS): PARTICIPANTS,
    (K.APPROVAL, A.DEFER): PARTICIPANTS,
    (K.APPROVAL, A.REJECT): PARTICIPANTS,
    (K.APPROVAL, A.SUBMIT): ASSURING,
    (K.ACTIVATION, A.START): ASSURING,
    (K.ACTIVATION, A.COMPLETE): PARTICIPANTS,
}
PAST = {
    A.START: "started",
    A.SUBMIT: "submitted",
    A.REQUEST_CHANGES: "sent back for changes",
    A.ACCEPT: "accepted",
    A.MARK_NOT_REQUIRED: "marked not required",
    A.SIGN: "signed",
    A.APPROVE: "approved",
    A.APPROVE_WITH_CONDITIONS: "approved with conditions",
    A.DEFER: "deferred",
    A.REJECT: "rejected",
    A.COMPLETE: "completed",
}
COMMENT = "Checked against the QA&P; see the attached notes."


def _transitions() -> Iterator[tuple[str, Action]]:
    for (kind, action), transition in TRANSITIONS.items():
        for code in TASKS_OF_KIND[kind]:
            if transition.optional_only and code not in OPTIONAL:
                continue
            yield code, action


def _kind(code: str) -> TaskKind:
    return next(kind for kind, codes in TASKS_OF_KIND.items() if code in codes)


ALLOWED = [
    pytest.param(code, action, source, id=f"{code}-{action}-from-{source}")
    for code, action in _transitions()
    for source in sorted(TRANSITIONS[_kind(code), action].sources)
]
WRONG_STATE = [
    pytest.param(code, action, state, id=f"{code}-{action}-when-{state}")
    for code, action in _transitions()
    for state in reachable_states(_kind(code), optional=code in OPTIONAL, has_dependencies=code != "pqs")
    if state not in TRANSITIONS[_kind(code), action].sources
]
EACH = [pytest.param(code, action, id=f"{code}-{action}") for code, action in _transitions()]


def first_source(code: str, action: Action) -> TaskState:
    return sorted(TRANSITIONS[_kind(code), action].sources)[0]


@pytest.fixture
def application(make_application):
    return make_application(market_role="SUP", route="non_sit_supplier_agent")


@pytest.mark.parametrize(("code", "action", "source"), ALLOWED)
def test_allowed_transition(application, driver, team, code, action, source):
    kind = _kind(code)
    transition = TRANSITIONS[kind, action]
    driver.place(application, code, source)
    actor = driver.user_for(application, code, transition.party)
    entries_before = TaskEntry.objects.count()
    last_event = AuditEvent.objects.latest("sequence")
    since = last_notification_id()

    task = task_transition(actor=actor, application_id=application.pk, task_code=code, action=action, comment=COMMENT)

    task = Task.objects.select_related("application", "definition").get(pk=task.pk)
    application = task.application
    assert task.state == transition.target
    # Resubmitting after a deferral keeps the decision it answers until the body decides again.
    assert task.decision == ("deferred" if (kind, action) == (K.APPROVAL, A.SUBMIT) else transition.decision or "")
    assert (task.completed_at is not None) == (task.state == S.COMPLETED)
    if action == A.REJECT:
        assert application.status == ApplicationStatus.REJECTED
        assert application.closed_at is not None and application.closed_reason == COMMENT
        assert set(application.tasks.values_list("waiting_on", flat=True)) == {""}
    else:
        assert not application.is_closed
        assert task.waiting_on == WAITING_ON[transition.target][kind]

    # One entry in the task's thread.
    assert TaskEntry.objects.count() == entries_before + 1
    entry = task.entries.latest("id")
    assert (entry.actor, entry.action, entry.from_state, entry.to_state) == (actor, action, source, task.state)
    assert entry.decision == (transition.decision or "")
    assert entry.comment == COMMENT

    # One audit event, with the state before and after.
    events = list(AuditEvent.objects.filter(sequence__gt=last_event.sequence))
    assert len(events) == 1
    event = events[0]
    assert event.action == f"task.{action}"
    assert (event.actor_id, event.target_type, event.target_id) == (actor.pk, "qualification.task", str(task.pk))
    assert (event.organisation_id, event.application_id) == (application.organisation_id, application.pk)
    assert event.before["state"] == source
    assert event.after["state"] == task.state
    assert event.after["application_status"] == application.status
    assert event.after["comment"] == COMMENT

    # The people who must hear about it, and nobody else.
    if NOTIFIED[kind, action] == PARTICIPANTS:
        expected = organisation_people(application)
        if action == A.REJECT:
            expected |= set(team[R.ELEXON_ANALYST])
    else:
        expected = {user for role in ASSURERS[code] for user in team[role]}
    subject = f"{task.definition.title} {PAST[action]}: {application.reference}"
    assert recipients_of(subject, since=since) == without(expected, actor)


def test_the_table_is_exercised_in_full():
    assert {(_kind(code), action) for code, action in _transitions()} == set(TRANSITIONS)


@pytest.mark.parametrize(("code", "action", "state"), WRONG_STATE)
def test_wrong_state_is_refused_and_changes_nothing(application, driver, code, action, state):
    transition = TRANSITIONS[_kind(code), action]
    driver.place(application, code, state)
    actor = driver.user_for(application, code, transition.party)
    before = snapshot()

    with pytest.raises(InvalidTransition) as refused:
        task_transition(actor=actor, application_id=application.pk, task_code=code, action=action, comment=COMMENT)

    assert refused.value.details == {"state": state}
    assert S(state).label.lower() in refused.value.message
    assert snapshot() == before


def _wrong_people(code: str, action: Action, member, director, team) -> list:
    """Everyone who may see the application but not take this action on this task."""
    transition = TRANSITIONS[_kind(code), action]
    if transition.party == Party.ACTOR:
        people = [team[role][0] for role in sorted(STAFF_ROLES)]
        return [*people, member] if code == "director_signoff" else people
    return [member, director] + [team[role][0] for role in sorted(STAFF_ROLES - ASSURERS[code])]


@pytest.mark.parametrize(("code", "action"), EACH)
def test_wrong_role_is_refused_and_changes_nothing(application, driver, member, director, team, code, action):
    driver.place(application, code, first_source(code, action))
    before = snapshot()

    for person in _wrong_people(code, action, member, director, team):
        with pytest.raises(PermissionDenied, match="You do not hold a role that may"):
            task_transition(actor=person, application_id=application.pk, task_code=code, action=action, comment=COMMENT)

    assert snapshot() == before


@pytest.mark.parametrize(("code", "action"), EACH)
def test_another_organisation_gets_not_found_and_changes_nothing(
    application, driver, other_org, other_member, code, action
):
    """Someone who would hold the role, were it their organisation's application, sees nothing."""
    driver.place(application, code, first_source(code, action))
    other_director = make_member(other_org, director=True)
    before = snapshot()

    for person in (other_member, other_director):
        with pytest.raises(NotFound, match="No application was found"):
            task_transition(actor=person, application_id=application.pk, task_code=code, action=action, comment=COMMENT)

    assert snapshot() == before


REASONED = [
    pytest.param(code, action, id=f"{code}-{action}")
    for code, action in _transitions()
    if TRANSITIONS[_kind(code), action].comment_required
]


@pytest.mark.parametrize("blank", ["", "   \n\t "])
@pytest.mark.parametrize(("code", "action"), REASONED)
def test_a_required_reason_cannot_be_blank(application, driver, code, action, blank):
    transition = TRANSITIONS[_kind(code), action]
    driver.place(application, code, first_source(code, action))
    actor = driver.user_for(application, code, transition.party)
    before = snapshot()

    with pytest.raises(InvalidInput, match="Enter the reason") as refused:
        task_transition(actor=actor, application_id=application.pk, task_code=code, action=action, comment=blank)

    assert refused.value.details == {"field": "comment"}
    assert snapshot() == before
