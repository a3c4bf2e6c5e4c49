"""E-mail goes out through the task queue and a real SMTP conversation: each notification once, to
its recipient, with its subject, body and link; a failure is recorded, not hidden."""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.notifications.models import Notification
from portal.notifications.services import notification_send_email
from portal.notifications.tasks import send_notification_email
from portal.notifications.tests.conftest import Received
from portal.qualification.services import task_transition
from portal.qualification.workflow import Action

pytestmark = pytest.mark.django_db(transaction=True)

SENT = Notification.EmailStatus.SENT


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def submitted_pit(transactional_db, settings, make_application, member, team):
    """A SIT application whose PIT the member has just submitted: the Programme's assurers are told."""
    settings.PORTAL_BASE_URL = "https://qualification.example"
    application = make_application(route="sit")
    task_transition(
        actor=member, application_id=application.pk, task_code="pit", action=Action.SUBMIT, comment="Exit report."
    )
    return application


def test_each_notification_is_mailed_once_to_its_recipient(transactional_db, smtp_server, submitted_pit, team):
    notifications = list(Notification.objects.select_related("recipient"))
    assert DBTaskResult.objects.ready().count() == len(notifications) > 0

    run_worker()

    assert len(smtp_server.received) == len(notifications)
    by_recipient: dict[str, list[Received]] = {}
    for received in smtp_server.received:
        assert len(received.rcpt_tos) == 1
        by_recipient.setdefault(received.rcpt_tos[0], []).append(received)
    for notification in notifications:
        mails = [
            r
            for r in by_recipient[notification.recipient.email]
            if r.message["Subject"] == f"[MHHS Qualification] {notification.subject}"
        ]
        assert len(mails) == 1, notification.subject
        mail = mails[0]
        assert mail.message["To"] == notification.recipient.email
        assert mail.message["From"] == django_settings.DEFAULT_FROM_EMAIL
        assert mail.mail_from == "no-reply@qualification.example"
        body = mail.message.get_content().replace("\r\n", "\n")
        assert notification.body in body
        assert f"Open in the portal: https://qualification.example{notification.link}" in body
    assert set(Notification.objects.values_list("email_status", flat=True)) == {SENT}
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert DBTaskResult.objects.successful().count() == len(notifications)


def test_the_assurers_hear_of_a_submission_by_email(transactional_db, smtp_server, submitted_pit, team):
    run_worker()

    subject = f"[MHHS Qualification] Pre-Integration Testing submitted: {submitted_pit.reference}"
    mails = [r for r in smtp_server.received if r.message["Subject"] == subject]
    assert sorted(r.rcpt_tos[0] for r in mails) == sorted(u.email for u in team[Role.PROGRAMME_ASSURANCE])
    body = mails[0].message.get_content().replace("\r\n", "\n")
    assert f"Priya Member submitted “Pre-Integration Testing” on {submitted_pit.reference} (NLEN SUP)." in body
    assert "Exit report." in body
    assert f"https://qualification.example/applications/{submitted_pit.pk}/tasks/pit/" in body


def test_sending_twice_does_not_send_twice(transactional_db, smtp_server, submitted_pit):
    notification = Notification.objects.filter(subject__startswith="Pre-Integration Testing submitted").earliest("pk")
    # A second job for the same notification, as a retry or a duplicate enqueue would make.
    send_notification_email.enqueue(notification.pk)

    run_worker()
    run_worker()
    notification_send_email(notification_id=notification.pk)

    to_them = [r for r in smtp_server.received if r.rcpt_tos == [notification.recipient.email]]
    assert [r.message["Subject"] for r in to_them].count(f"[MHHS Qualification] {notification.subject}") == 1
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0


def test_a_refused_recipient_is_recorded_as_failed_and_can_be_retried(transactional_db, smtp_server, submitted_pit):
    notification = Notification.objects.filter(subject__startswith="Pre-Integration Testing submitted").earliest("pk")
    smtp_server.refuse.add(notification.recipient.email)

    run_worker()

    notification.refresh_from_db()
    assert notification.email_status == Notification.EmailStatus.FAILED
    assert notification.emailed_at is None
    failed = DBTaskResult.objects.failed().get()
    assert failed.args_kwargs["args"] == [notification.pk]
    assert "SMTPRecipientsRefused" in failed.exception_class_path
    others = Notification.objects.exclude(pk=notification.pk)
    assert set(others.values_list("email_status", flat=True)) == {SENT}

    smtp_server.refuse.clear()
    notification_send_email(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.email_status == SENT
    assert [r.rcpt_tos for r in smtp_server.received].count([notification.recipient.email]) == 1
