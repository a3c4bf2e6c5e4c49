"""The delivery guarantee, over a real SMTP conversation and the real task worker: one e-mail per
message, never sent when the change rolls back, never sent twice (a second job, a second run, two
workers at once), each with a stable Message-ID, and never lost (a job lost with its worker, or a
refused recipient, is queued again by `requeue_stale_email`, a bounded number of times)."""

import threading
from datetime import timedelta
from email.message import EmailMessage as ParsedMessage

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.factories import make_staff
from portal.notifications import services
from portal.notifications.models import DistributionList, EmailStatus, Notification, OutboundEmail
from portal.notifications.reference_data import REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES
from portal.notifications.services import (
    MAX_ATTEMPTS,
    MailAttachment,
    email_distribution_list,
    email_requeue_stale,
    notification_send_email,
    notify,
    outbound_email_send,
)
from portal.notifications.tasks import send_notification_email, send_outbound_email
from portal.notifications.tests.conftest import Mailbox

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_db", "distribution_lists"),
]

SENT = EmailStatus.SENT
FAILED = EmailStatus.FAILED
NOTIFICATION_TASK = "portal.notifications.tasks.send_notification_email"
OUTBOUND_TASK = "portal.notifications.tasks.send_outbound_email"


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def requeue(minutes: int = 15) -> None:
    call_command("requeue_stale_email", older_than_minutes=minutes, verbosity=0)


def age(model: type[Model], pk: int, minutes: int = 20) -> None:
    """Make a message look `minutes` old, as if it had been waiting that long."""
    model._default_manager.filter(pk=pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def to(mailbox: Mailbox, address: str) -> list[ParsedMessage]:
    return [r.message for r in mailbox.received if r.rcpt_tos == [address]]


@pytest.fixture
def base_url(settings):
    settings.PORTAL_BASE_URL = "https://qualification.example"


@pytest.fixture
def analyst():
    return make_staff(Role.ELEXON_ANALYST, email="analyst@bodies.test")


# --- what arrives ------------------------------------------------------------------------------------


def test_an_attachment_arrives_with_its_bytes_and_content_type(smtp_server, base_url, analyst):
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    stored = default_storage.save("letters/letter.pdf", ContentFile(pdf))
    sheet = default_storage.save("letters/conditions.csv", ContentFile(b"Item,Due\nQT-12,2026-01-05\n"))
    with transaction.atomic():
        (notification,) = notify(
            recipients=[analyst],
            subject="Qualification letter for QA-00001",
            body="The letter is attached.",
            link="/applications/1/",
            attachments=[
                MailAttachment("Qualification letter QA-00001.pdf", "application/pdf", stored),
                MailAttachment("Conditions.csv", "text/csv", sheet),
            ],
        )

    run_worker()

    (message,) = to(smtp_server, analyst.email)
    assert message["Subject"] == "[MHHS Qualification] Qualification letter for QA-00001"
    assert message["Message-ID"] == services.message_id("notification", notification.pk, notification.created_at)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert "The letter is attached.\n\nOpen in the portal: https://qualification.example/applications/1/" in text
    attached = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attached) == {"Qualification letter QA-00001.pdf", "Conditions.csv"}
    assert attached["Qualification letter QA-00001.pdf"].get_content_type() == "application/pdf"
    assert attached["Qualification letter QA-00001.pdf"].get_content() == pdf
    assert attached["Conditions.csv"].get_content_type() == "text/csv"
    assert attached["Conditions.csv"].get_content().replace("\r\n", "\n") == "Item,Due\nQT-12,2026-01-05\n"


def test_a_distribution_list_gets_one_email_per_address_each_with_its_message_id(smtp_server, base_url):
    with transaction.atomic():
        created = email_distribution_list(
            code=REC_INDUSTRY_PARTIES,
            subject="REC Party Register updated: Northern Lights Energy Ltd NLEN as Supplier",
            body="The REC Code Manager approved Northern Lights Energy Ltd (NLEN) as Supplier.",
            link="/register/",
        )

    run_worker()

    addresses = DistributionList.objects.get(code=REC_INDUSTRY_PARTIES).address_list
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(addresses)
    assert all(len(r.rcpt_tos) == 1 for r in smtp_server.received)
    for email in created:
        email.refresh_from_db()
        (message,) = to(smtp_server, email.to_address)
        assert message["To"] == email.to_address
        assert message["Message-ID"] == email.message_id
        assert message["Subject"] == f"[MHHS Qualification] {email.subject}"
        text = message.get_content().replace("\r\n", "\n")
        assert text.startswith("The REC Code Manager approved Northern Lights Energy Ltd (NLEN) as Supplier.")
        assert "Open in the portal: https://qualification.example/register/" in text
        assert email.status == SENT and email.sent_at is not None
    assert len({m["Message-ID"] for m in (r.message for r in smtp_server.received)}) == len(addresses)


# --- never sent when the change rolls back -----------------------------------------------------------


def test_a_rolled_back_change_sends_nothing(smtp_server, analyst):
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        notify(recipients=[analyst], subject="Approved", body="B")
        email_distribution_list(code=REC_INDUSTRY_PARTIES, subject="Register updated", body="B")
        assert DBTaskResult.objects.count() == 3
        raise Abandon

    run_worker()
    requeue(minutes=1)

    assert smtp_server.received == []
    assert not Notification.objects.exists() and not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


# --- never sent twice --------------------------------------------------------------------------------


def test_running_the_worker_twice_or_a_second_job_sends_once(smtp_server, analyst):
    with transaction.atomic():
        (notification,) = notify(recipients=[analyst], subject="Approved", body="B")
        (email,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Register updated", body="B")
    # Second jobs for both, as a duplicate enqueue or a retry would make.
    send_notification_email.enqueue(notification.pk)
    send_outbound_email.enqueue(email.pk)

    run_worker()
    run_worker()
    requeue(minutes=1)
    run_worker()

    assert len(to(smtp_server, analyst.email)) == 1
    assert len(to(smtp_server, email.to_address)) == 1
    assert DBTaskResult.objects.count() == 4
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks between two connections: on SQLite writers are already serialised by BEGIN IMMEDIATE",
)
@pytest.mark.parametrize("kind", ["notification", "outbound e-mail"])
def test_two_workers_at_once_send_once(smtp_server, analyst, kind):
    """Two workers take two jobs for the same e-mail at the same moment: the second waits for the
    first's row lock and then finds the e-mail sent."""
    message: Notification | OutboundEmail
    with transaction.atomic():
        if kind == "notification":
            (message,) = notify(recipients=[analyst], subject="Approved", body="B")
        else:
            (message,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Register updated", body="B")
    send = (
        (lambda: notification_send_email(notification_id=message.pk))
        if kind == "notification"
        else (lambda: outbound_email_send(outbound_email_id=message.pk))
    )
    smtp_server.delay = 0.5
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            send()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert SENT in (getattr(message, "status", None), getattr(message, "email_status", None))


# --- never lost --------------------------------------------------------------------------------------


def test_a_message_whose_job_was_lost_with_its_worker_is_requeued_and_sent_once(smtp_server, analyst):
    with transaction.atomic():
        (notification,) = notify(recipients=[analyst], subject="Approved", body="B")
        (email,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Register updated", body="B")
    # A worker claimed both jobs and died: the rows stay "running" for ever.
    long_ago = timezone.now() - timedelta(minutes=30)
    DBTaskResult.objects.update(status="RUNNING", started_at=long_ago, worker_ids=["dead-worker"])
    age(Notification, notification.pk)
    age(OutboundEmail, email.pk)

    run_worker()  # nothing ready to run
    assert smtp_server.received == []

    report = email_requeue_stale(older_than=timedelta(minutes=15))
    assert sorted(report.requeued) == [f"notification {notification.pk}", f"outbound e-mail {email.pk}"]
    assert email_requeue_stale(older_than=timedelta(minutes=15)).requeued == []  # a job is pending now
    run_worker()
    requeue()
    run_worker()

    assert len(to(smtp_server, analyst.email)) == 1
    assert len(to(smtp_server, email.to_address)) == 1
    notification.refresh_from_db()
    email.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (SENT, 2)
    assert (email.status, email.attempts) == (SENT, 2)


def test_a_young_message_or_one_with_a_job_running_recently_is_left_alone(smtp_server, analyst):
    with transaction.atomic():
        notify(recipients=[analyst], subject="Just now", body="B")
        (running,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Being sent", body="B")
    age(OutboundEmail, running.pk)
    DBTaskResult.objects.filter(task_path=OUTBOUND_TASK).update(status="RUNNING", started_at=timezone.now())

    assert email_requeue_stale(older_than=timedelta(minutes=15)).requeued == []
    assert DBTaskResult.objects.count() == 2


def test_a_refused_recipient_is_recorded_as_failed_and_sent_by_a_later_requeue(smtp_server):
    with transaction.atomic():
        (email,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Register updated", body="B")
    smtp_server.refuse.add(email.to_address)

    run_worker()

    email.refresh_from_db()
    assert email.status == FAILED and email.sent_at is None
    assert "SMTPRecipientsRefused" in email.last_error
    assert "SMTPRecipientsRefused" in DBTaskResult.objects.failed().get().exception_class_path

    requeue()  # too young yet: left for the next run
    assert DBTaskResult.objects.count() == 1

    smtp_server.refuse.clear()
    age(OutboundEmail, email.pk)
    requeue()
    run_worker()

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (SENT, 2, "")
    (message,) = to(smtp_server, email.to_address)
    assert message["Message-ID"] == email.message_id


def test_a_message_that_keeps_failing_is_tried_a_bounded_number_of_times_then_reported(smtp_server, analyst):
    with transaction.atomic():
        (notification,) = notify(recipients=[analyst], subject="Approved", body="B")
    smtp_server.refuse.add(analyst.email)
    run_worker()

    for _ in range(MAX_ATTEMPTS - 1):
        age(Notification, notification.pk)
        requeue()
        run_worker()
    age(Notification, notification.pk)
    with pytest.raises(CommandError, match="1 e-mails were not sent after 5 attempts"):
        requeue()

    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == (FAILED, MAX_ATTEMPTS)
    assert DBTaskResult.objects.count() == MAX_ATTEMPTS
    assert smtp_server.received == []
    assert email_requeue_stale(older_than=timedelta(minutes=15)).given_up == [f"notification {notification.pk}"]


def test_a_message_accepted_just_before_its_worker_died_is_sent_again_with_the_same_message_id(
    smtp_server, monkeypatch
):
    """The one window no database closes: the SMTP server accepted the message and the process died
    before the "sent" mark committed. The message was recorded as being sent; the requeue sends it
    again, recognisably the same, and records why. (With real processes and SIGKILL at each point of
    the conversation: `test_crash_safety.py`.)"""
    with transaction.atomic():
        (email,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Register updated", body="B")
    send_messages = SmtpBackend.send_messages

    def send_then_die(self: SmtpBackend, messages: list[EmailMessage]) -> int:
        sent = send_messages(self, messages)
        raise SystemExit("the worker was killed")  # before the "sent" mark is committed
        return sent  # pragma: no cover

    monkeypatch.setattr(SmtpBackend, "send_messages", send_then_die)
    run_worker()  # the worker records the job as failed; the message stays as the dying send left it
    monkeypatch.setattr(SmtpBackend, "send_messages", send_messages)

    email.refresh_from_db()
    assert email.status == EmailStatus.SENDING and len(smtp_server.received) == 1
    age(OutboundEmail, email.pk)
    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(minutes=30))  # its worker is long gone
    requeue()
    email.refresh_from_db()
    assert (email.status, email.last_error) == (FAILED, services.INTERRUPTED)
    run_worker()

    first, second = (r.message for r in smtp_server.received)
    assert first["Message-ID"] == second["Message-ID"] == email.message_id
    email.refresh_from_db()
    assert (email.status, email.last_error) == (SENT, "")
