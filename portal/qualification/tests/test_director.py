"""Director sign-off: only a director of the applying organisation signs, and only once the Final QAD
is accepted."""

import pytest

from portal.accounts.roles import Role
from portal.core.errors import InvalidTransition, NotFound, PermissionDenied
from portal.factories import make_member
from portal.participants.models import Membership
from portal.qualification.selectors import task_available_transitions, task_get, work_queue
from portal.qualification.services import task_transition
from portal.qualification.tests.helpers import last_notification_id, recipients_of, snapshot
from portal.qualification.workflow import Action, ApplicationStatus, TaskState

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting_signoff(make_application, driver):
    application = make_application()
    driver.place(application, "director_signoff", TaskState.NOT_STARTED)
    application.refresh_from_db()
    return application


@pytest.fixture
def director_elsewhere(org, other_org):
    """A plain member of the applying organisation who is a director of another one."""
    user = make_member(other_org, director=True, email="two.hats@example.test")
    Membership.objects.create(user=user, organisation=org)
    return user


def sign(user, application):
    return task_transition(actor=user, application_id=application.pk, task_code="director_signoff", action="sign")


def test_a_director_of_the_organisation_signs(awaiting_signoff, director):
    task = sign(director, awaiting_signoff)

    assert task.state == TaskState.COMPLETED
    awaiting_signoff.refresh_from_db()
    assert awaiting_signoff.status == ApplicationStatus.IN_APPROVAL
    assert task.entries.get().actor == director


@pytest.mark.parametrize("who", ["member", "director_elsewhere", Role.ELEXON_ANALYST, Role.ADMINISTRATOR])
def test_anyone_but_a_director_of_the_organisation_is_refused(request, staff, awaiting_signoff, who):
    user = staff(who) if isinstance(who, Role) else request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises(PermissionDenied):
        sign(user, awaiting_signoff)

    assert snapshot() == before


def test_a_director_who_stepped_down_can_no_longer_sign(awaiting_signoff, director):
    Membership.objects.filter(user=director).update(is_director=False)
    director.refresh_from_db()
    before = snapshot()

    with pytest.raises(PermissionDenied):
        sign(director, awaiting_signoff)

    assert snapshot() == before


def test_a_director_of_another_organisation_finds_nothing(awaiting_signoff, other_org):
    outsider = make_member(other_org, director=True)
    before = snapshot()

    with pytest.raises(NotFound):
        sign(outsider, awaiting_signoff)

    assert snapshot() == before


@pytest.mark.parametrize("final_qad", [TaskState.NOT_STARTED, TaskState.SUBMITTED, TaskState.CHANGES_REQUESTED])
def test_no_signature_before_the_final_qad_is_accepted(make_application, driver, director, final_qad):
    application = make_application()
    driver.place(application, "final_qad", final_qad)
    before = snapshot()

    with pytest.raises(InvalidTransition, match="cannot start yet"):
        sign(director, application)

    assert snapshot() == before
    task = task_get(user=director, application_id=application.pk, task_code="director_signoff")
    assert task_available_transitions(user=director, task=task) == []


def test_only_directors_of_the_organisation_are_asked_to_sign(
    make_application, driver, director, member, director_elsewhere
):
    application = make_application()
    driver.place(application, "final_qad", TaskState.SUBMITTED)
    since = last_notification_id()

    driver.take(application, "final_qad", Action.ACCEPT)

    # This organisation's one director, not its plain members, nor a member who directs another one.
    assert recipients_of("Ready for you: Director sign-off", since=since) == {director}
    assert {member, director_elsewhere}.isdisjoint(recipients_of("Ready for you", since=since))


def test_the_work_queue_offers_the_signature_only_to_directors_of_the_organisation(
    awaiting_signoff, director, member, director_elsewhere
):
    def signoffs(user):
        return [t.code for t in work_queue(user=user) if t.code == "director_signoff"]

    assert signoffs(director) == ["director_signoff"]
    assert signoffs(member) == []
    assert signoffs(director_elsewhere) == []
    task = task_get(user=director, application_id=awaiting_signoff.pk, task_code="director_signoff")
    assert [t.action for t in task_available_transitions(user=director, task=task)] == [Action.SIGN]
    task = task_get(user=director_elsewhere, application_id=awaiting_signoff.pk, task_code="director_signoff")
    assert task_available_transitions(user=director_elsewhere, task=task) == []
