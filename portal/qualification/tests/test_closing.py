"""Side exits: withdrawal by the participant and non-completion recorded by a Code Body — who may,
from which statuses, with a reason — and what a closed application still allows (nothing)."""

from collections.abc import Callable

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.qualification.models import Application
from portal.qualification.selectors import task_available_transitions, task_get, work_queue
from portal.qualification.services import application_mark_non_completion, application_withdraw
from portal.qualification.tests.helpers import AT_STATUS, last_notification_id, organisation_people, snapshot
from portal.qualification.workflow import ApplicationStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("team")]

AS = ApplicationStatus
R = Role
OPEN_UNTIL_QUALIFIED = {AS.IN_PREPARATION, AS.IN_TESTING, AS.FINAL_QAD, AS.IN_APPROVAL}
CLOSES: dict[str, tuple[Callable[..., Application], ApplicationStatus, str]] = {
    "withdraw": (application_withdraw, AS.WITHDRAWN, "application.withdraw"),
    "non_completion": (application_mark_non_completion, AS.NON_COMPLETION, "application.non_completion"),
}
# Who may close an application each way; everyone else who can see it is refused.
MAY: dict[str, list[str | Role]] = {
    "withdraw": ["member", "director"],
    "non_completion": [R.ELEXON_ANALYST, R.REC_CODE_MANAGER, R.ADMINISTRATOR],
}
MAY_NOT: dict[str, list[str | Role]] = {
    "withdraw": [R.ELEXON_ANALYST, R.QSP, R.REC_CODE_MANAGER, R.ADMINISTRATOR, R.SERVICE_ACTIVATION],
    "non_completion": ["member", "director", R.QSP, R.TESTING_ASSURANCE, R.DIP_MANAGER, R.PAB_SECRETARY],
}


@pytest.fixture
def person(request, staff):
    def get(who):
        return staff(who) if isinstance(who, Role) else request.getfixturevalue(who)

    return get


@pytest.fixture
def application(make_application):
    return make_application(market_role="SUP", route="sit")


def close(how, user, application, reason="The participant has left the market."):
    service, _, _ = CLOSES[how]
    return service(actor=user, application_id=application.pk, reason=reason)


@pytest.mark.parametrize("status", list(AT_STATUS))
@pytest.mark.parametrize("how", list(CLOSES))
def test_closing_is_possible_only_until_qualified(application, driver, person, team, how, status):
    application = driver.at_status(application, status)
    user = person(MAY[how][0])
    before = snapshot()
    last_event = AuditEvent.objects.latest("sequence")
    since = last_notification_id()

    if status not in OPEN_UNTIL_QUALIFIED:
        with pytest.raises(InvalidTransition):
            close(how, user, application)
        assert snapshot() == before
        return

    closed = close(how, user, application)

    _, closed_status, audit_action = CLOSES[how]
    closed.refresh_from_db()
    assert closed.status == closed_status
    assert closed.closed_at is not None
    assert closed.closed_reason == "The participant has left the market."
    assert set(closed.tasks.values_list("waiting_on", flat=True)) == {""}
    event = AuditEvent.objects.get(sequence__gt=last_event.sequence)
    assert event.action == audit_action
    assert (event.before, event.after) == (
        {"status": status},
        {"status": closed_status, "reason": "The participant has left the market."},
    )
    told = {n.recipient for n in closed.notifications.filter(pk__gt=since)}
    assert told == (organisation_people(closed) | {*team[R.ELEXON_ANALYST], *team[R.REC_CODE_MANAGER]}) - {user}


@pytest.mark.parametrize(
    ("how", "who"), [pytest.param(how, who, id=f"{how}-{who}") for how, people in MAY.items() for who in people]
)
def test_each_permitted_person_can_close(application, person, how, who):
    closed = close(how, person(who), application)

    assert closed.status == CLOSES[how][1]


@pytest.mark.parametrize(
    ("how", "who"), [pytest.param(how, who, id=f"{how}-{who}") for how, people in MAY_NOT.items() for who in people]
)
def test_anyone_else_is_refused_and_nothing_changes(application, person, how, who):
    before = snapshot()

    with pytest.raises(PermissionDenied):
        close(how, person(who), application)

    assert snapshot() == before


@pytest.mark.parametrize("how", list(CLOSES))
def test_another_organisation_or_a_body_that_cannot_see_it_gets_not_found(make_application, other_member, staff, how):
    mem = make_application(market_role="MEM", route="sit")  # no BSC PAB approval: PAB cannot see it
    before = snapshot()

    for user in (other_member, staff(R.PAB_SECRETARY)):
        with pytest.raises(NotFound):
            close(how, user, mem)

    assert snapshot() == before


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", "x" * 5001, "held\x00back"])
@pytest.mark.parametrize("how", list(CLOSES))
def test_a_reason_is_required(application, person, how, reason):
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        close(how, person(MAY[how][0]), application, reason=reason)

    assert refused.value.details == {"field": "reason"}
    assert snapshot() == before


@pytest.mark.parametrize("how", list(CLOSES))
def test_a_closed_application_allows_nothing_more(application, driver, person, how):
    close(how, person(MAY[how][0]), application)
    member = driver.user_for(application, "pit", "actor")
    before = snapshot()

    for again in CLOSES:
        with pytest.raises(InvalidTransition):
            close(again, person(MAY[again][0]), application)
    with pytest.raises(InvalidTransition, match="nothing more can be done"):
        driver.take(application, "pit", "submit")

    assert snapshot() == before
    task = task_get(user=member, application_id=application.pk, task_code="pit")
    assert task_available_transitions(user=member, task=task) == []
    assert not [t for t in work_queue(user=member) if t.application_id == application.pk]
