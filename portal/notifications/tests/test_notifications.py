"""Inbox notifications go to the right people for each step, once each, and only when the change they
describe is committed: the e-mail job is written in the same transaction (an outbox)."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.factories import make_member, make_staff
from portal.notifications.models import Notification
from portal.notifications.selectors import notification_list, notification_unread_count
from portal.notifications.services import notification_mark_all_read, notification_mark_read, notify
from portal.qualification import services
from portal.qualification.tests.helpers import last_notification_id, recipients_of, snapshot
from portal.qualification.workflow import Action, TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("team")]

R = Role


@pytest.fixture
def colleague(org):
    """Another member of the applying organisation, who hears what the acting member does not."""
    return make_member(org, email="colleague@northern.test")


def test_registration_tells_the_analysts_and_the_organisation_what_can_start(
    make_application, member, colleague, director, team
):
    application = make_application(route="sit")

    assert recipients_of(f"New application {application.reference}") == set(team[R.ELEXON_ANALYST])
    for title in ("Pre-Integration Testing", "DIP onboarding"):
        assert recipients_of(f"Ready for you: {title} on {application.reference}") == {colleague, director}


@pytest.mark.parametrize(
    ("code", "assurers"),
    [
        ("pit", {R.PROGRAMME_ASSURANCE}),
        ("dip_onboarding", {R.DIP_MANAGER}),
        ("initial_qad", {R.ELEXON_ANALYST, R.QSP, R.REC_CODE_MANAGER}),
        ("qt", {R.PROGRAMME_ASSURANCE}),  # SIT is assured by the Programme
        ("workoff", {R.ELEXON_ANALYST, R.REC_CODE_MANAGER, R.TESTING_ASSURANCE}),
        ("final_qad", {R.ELEXON_ANALYST, R.QSP, R.REC_CODE_MANAGER}),
    ],
)
def test_a_submission_tells_its_assurers(make_application, driver, team, code, assurers):
    application = make_application(route="sit")
    driver.place(application, code, TaskState.NOT_STARTED)
    since = last_notification_id()

    task = driver.take(application, code, Action.SUBMIT)

    assert recipients_of(f"{task.definition.title} submitted", since=since) == {
        user for role in assurers for user in team[role]
    }


@pytest.mark.parametrize(
    ("market_role", "told"),
    [
        # A Data Service needs no REC approval: the REC Code Manager neither sees nor hears of it.
        ("ADS", {R.ELEXON_ANALYST, R.QSP}),
        ("MEM", {R.ELEXON_ANALYST, R.QSP, R.REC_CODE_MANAGER}),
    ],
)
def test_a_body_hears_only_of_applications_it_may_see(make_application, driver, team, market_role, told):
    application = make_application(market_role=market_role, route="sit")
    driver.place(application, "initial_qad", TaskState.NOT_STARTED)
    since = last_notification_id()

    driver.take(application, "initial_qad", Action.SUBMIT)

    assert recipients_of("Initial QAD submitted", since=since) == {u for role in told for u in team[role]}


@pytest.mark.parametrize(
    ("action", "past"), [(Action.REQUEST_CHANGES, "sent back for changes"), (Action.ACCEPT, "accepted")]
)
def test_the_organisation_hears_the_assurers_answer(make_application, driver, member, colleague, action, past):
    application = make_application(route="sit")
    driver.place(application, "pit", TaskState.SUBMITTED)
    since = last_notification_id()

    driver.take(application, "pit", action, comment="Evidence for criterion 4 is missing.")

    participants = {member, colleague, driver.user_for(application, "pit", "actor")}
    assert recipients_of(f"Pre-Integration Testing {past}", since=since) == participants
    notice = Notification.objects.get(pk__gt=since, recipient=member, subject__contains=past)
    assert "Evidence for criterion 4 is missing." in notice.body
    assert notice.link == f"/applications/{application.pk}/tasks/pit/"
    assert notice.application == application


def test_the_next_actors_hear_when_their_task_becomes_available(make_application, driver, member, colleague):
    application = make_application(route="sit")
    driver.place(application, "pit", TaskState.COMPLETED)
    driver.place(application, "dip_onboarding", TaskState.SUBMITTED)
    since = last_notification_id()

    driver.take(application, "dip_onboarding", Action.ACCEPT)

    participants = {member, colleague, driver.user_for(application, "pit", "actor")}
    assert recipients_of(f"Ready for you: Initial QAD on {application.reference}", since=since) == participants


def test_service_activation_hears_once_when_an_application_is_qualified(make_application, driver, team, member):
    application = make_application(route="sit", market_role="MEM")
    driver.place(application, "approval_rec_code_manager", TaskState.NOT_STARTED)
    since = last_notification_id()

    driver.take(application, "approval_rec_code_manager", Action.APPROVE)

    qualified = Notification.objects.filter(pk__gt=since, subject=f"{application.reference} is MHHS Qualified")
    told = {n.recipient for n in qualified}
    assert member in told
    # Service Activation hears of it once, as its own task becoming ready for it.
    ready = Notification.objects.filter(pk__gt=since, subject__startswith="Ready for you: Service Activation")
    assert {n.recipient for n in ready} == set(team[R.SERVICE_ACTIVATION])
    assert not told & set(team[R.SERVICE_ACTIVATION])
    assert not told & {*team[R.PAB_SECRETARY], *team[R.DIP_MANAGER]}
    assert "every required body has approved" in qualified.earliest("pk").body


def test_each_person_is_told_once_and_inactive_people_not_at_all(make_application, driver, team):
    both = make_staff(R.ELEXON_ANALYST, email="two.roles@bodies.test")
    both.groups.add(*team[R.QSP][0].groups.all())
    gone = make_staff(R.QSP, email="left@bodies.test", is_active=False)
    application = make_application(route="sit")
    driver.place(application, "initial_qad", TaskState.NOT_STARTED)
    since = last_notification_id()

    driver.take(application, "initial_qad", Action.SUBMIT)

    notices = Notification.objects.filter(pk__gt=since, subject__startswith="Initial QAD submitted")
    assert notices.filter(recipient=both).count() == 1
    assert not notices.filter(recipient=gone).exists()


def test_every_notification_has_one_email_job():
    recipients = [make_staff(R.QSP), make_staff(R.QSP)]

    with transaction.atomic():
        created = notify(recipients=recipients * 2, subject="Hello", body="Body")

    jobs = DBTaskResult.objects.order_by("enqueued_at")
    assert len(created) == 2
    assert sorted(job.args_kwargs["args"][0] for job in jobs) == sorted(n.pk for n in created)
    assert {job.task_path for job in jobs} == {"portal.notifications.tasks.send_notification_email"}


# --- the outbox --------------------------------------------------------------------------------


def test_a_transition_that_fails_late_leaves_no_notification_and_no_job(make_application, driver, monkeypatch):
    """The transition's own notification is written before the failure, and rolled back with it."""
    application = make_application(route="sit")
    driver.place(application, "pit", TaskState.SUBMITTED)

    def fail(*args, **kwargs):
        assert Notification.objects.filter(subject__startswith="Pre-Integration Testing accepted").exists()
        raise RuntimeError("the mail relay is misconfigured")

    monkeypatch.setattr(services, "_notify_newly_available", fail)
    before = snapshot()

    with pytest.raises(RuntimeError, match="misconfigured"):
        driver.take(application, "pit", Action.ACCEPT)

    assert snapshot() == before


def test_a_registration_that_fails_late_leaves_nothing(make_application, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_notify_newly_available", fail)
    before = snapshot()

    with pytest.raises(RuntimeError):
        make_application(route="sit")

    assert snapshot() == before


def test_a_rolled_back_caller_takes_the_notifications_and_jobs_with_it(make_application, driver):
    application = make_application(route="sit")
    before = snapshot()

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        driver.take(application, "pit", Action.SUBMIT)
        assert Notification.objects.count() > before.notifications
        assert DBTaskResult.objects.count() > before.jobs
        raise Abandon

    assert snapshot() == before


# --- the inbox ---------------------------------------------------------------------------------


def test_the_inbox_is_personal_and_counts_unread(make_application, member, colleague, other_member):
    make_application(route="sit")
    mine = list(notification_list(user=colleague))

    assert mine and all(n.recipient == colleague for n in mine)
    assert notification_unread_count(user=colleague) == len(mine)
    assert notification_list(user=other_member).count() == 0

    notification_mark_read(user=other_member, notification_id=mine[0].pk)  # not theirs: no effect
    assert notification_unread_count(user=colleague) == len(mine)
    notification_mark_read(user=colleague, notification_id=mine[0].pk)
    assert notification_unread_count(user=colleague) == len(mine) - 1
    assert notification_mark_all_read(user=colleague) == len(mine) - 1
    assert notification_unread_count(user=colleague) == 0
