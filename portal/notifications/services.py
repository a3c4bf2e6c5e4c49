"""Notifications and e-mail: created in the transaction of the change that causes them, sent by the
task worker, never lost and never sent twice.

**The outbox.** `notify` (to users) and `email_distribution_list` (to addresses that are not users)
write one row per recipient and enqueue one send job per row, inside the caller's transaction. With
the database task backend the job is a row in the same database: it commits or rolls back with the
change, so nobody is told about something that did not happen, and nothing that happened goes untold
because a process died after the commit. With the RQ backend (ADR 0011) the job goes to Redis when the
transaction commits, never on a rollback; a job lost between the commit and Redis leaves its row
unsent, and the requeue below sends it.

**Sending once.** A send job reads the message and does nothing if it is sent (or being sent by
another job). Otherwise it connects to the mail server, then *claims* the message — `queued` or
`failed` becomes `sending` in one conditional UPDATE, which only one worker can win — and commits that
before MAIL FROM, RCPT TO and DATA; it marks the message `sent` (another commit) as soon as the server
has accepted it, and only then says QUIT. No transaction or row lock is held while the mail server
answers (on SQLite a held write lock would stop every other writer for as long as the server stalls).
A second job, or a second worker, finds the message `sending` or `sent` and sends nothing.

**Recognisably the same message, and what "never sent twice" means.** Every e-mail carries a
Message-ID built from its row (`<notification-123.20261122102700@qualification.example>`; see
`message_id`), the same on every attempt. Where a worker can die:

- before the claim (while connecting, say): the message is still `queued`, certainly not sent; it is
  sent once later;
- after the server accepted it and the "sent" mark committed (waiting for the reply to QUIT, say): it
  is `sent` and never sent again;
- between the claim and the "sent" mark (the message is on the wire, or the server has it but its
  acceptance has not been recorded): the message stays `sending`. SMTP gives no way to ask a server
  whether it holds a message, so the portal cannot know whether it arrived. The requeue records that
  the attempt was interrupted (`INTERRUPTED`, and a warning in the log) and sends it again, with the
  same Message-ID, so that the receiving system (or a person) can drop the duplicate. In that window,
  and only there, delivery is "at least once, with a stable identity"; everywhere else it is exactly
  once.

**Never lost.** A job whose worker died mid-send stays "running" for ever (its message `queued` or
`sending`); a failed send (a refused recipient, the relay down) leaves the row `failed`.
`email_requeue_stale` (the command `manage.py requeue_stale_email --older-than-minutes 15`, run from
cron) finds queued, sending or failed messages older than the threshold with no pending job, and
queues a new job for each, at most `MAX_ATTEMPTS` jobs per message in all; a message that reaches the
limit stays `failed` and is reported (the command's output and an error in the log) for an operator.
"""

import contextlib
import logging
import re
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from portal.core.tasks import rq_pending_first_args, uses_rq
from portal.notifications.models import DistributionList, EmailStatus, Notification, OutboundEmail
from portal.notifications.tasks import send_notification_email, send_outbound_email

logger = logging.getLogger("portal.notifications")

SUBJECT_PREFIX = "[MHHS Qualification] "
# How many send jobs a message gets in all (the first and the requeues) before it is left failed.
MAX_ATTEMPTS = 5
MAX_ERROR_LENGTH = 1000
INTERRUPTED = (
    "The worker stopped while handing this e-mail to the mail server, which may have accepted it; "
    "it is sent again with the same Message-ID."
)
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


# --- attachments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailAttachment:
    """A file already saved in Django's default storage, to attach to an e-mail: the name the
    recipient sees, its content type, and its name in the storage. The file's bytes are read when
    the e-mail is sent, so the file must stay in the storage until then."""

    filename: str
    content_type: str
    storage_name: str

    def __post_init__(self) -> None:
        name = self.filename
        if not name or len(name) > 150 or any(not ch.isprintable() or ch in '/\\"' for ch in name):
            raise ValueError(f"{name!r} is not a usable attachment file name.")
        if not _CONTENT_TYPE.match(self.content_type):
            raise ValueError(f"{self.content_type!r} is not a content type such as application/pdf.")
        if not self.storage_name:
            raise ValueError("An attachment needs the name of its file in the storage.")

    def as_json(self) -> dict[str, str]:
        return {"filename": self.filename, "content_type": self.content_type, "storage_name": self.storage_name}


def _stored_attachments(attachments: Sequence[MailAttachment]) -> list[dict[str, str]]:
    """The attachments as stored on the message; each file must exist in the storage now (a missing
    file is a mistake of the caller, refused before anything is written)."""
    stored = []
    for attachment in attachments:
        if not isinstance(attachment, MailAttachment):
            raise TypeError("Attachments must be MailAttachment values.")
        if not default_storage.exists(attachment.storage_name):
            raise ValueError(f"The file {attachment.storage_name!r} to attach is not in the storage.")
        stored.append(attachment.as_json())
    return stored


# --- to users: the inbox and its e-mail ----------------------------------------------------------


def notify(
    *,
    recipients: Iterable[Any],
    subject: str,
    body: str,
    link: str = "",
    application: Any = None,
    exclude: Any = None,
    attachments: Sequence[MailAttachment] = (),
) -> list[Notification]:
    """Create one inbox notification per distinct active recipient (never `exclude`, usually the
    person who acted) and enqueue its e-mail, with `attachments` attached, in the caller's transaction."""
    stored = _stored_attachments(attachments)
    seen: set[int] = set()
    created: list[Notification] = []
    for user in recipients:
        if user.pk in seen or (exclude is not None and user.pk == exclude.pk) or not user.is_active:
            continue
        seen.add(user.pk)
        notification = Notification.objects.create(
            recipient=user,
            application=application,
            subject=subject[:200],
            body=body,
            link=link,
            attachments=stored,
        )
        send_notification_email.enqueue(notification.pk)
        created.append(notification)
    return created


def notification_send_email(*, notification_id: int) -> None:
    """Send one notification's e-mail, once. See the module docstring for the guarantee.

    A failed attempt is recorded on the notification (`failed`, with the error) and the error raised
    again, so the job is recorded as failed too; the requeue command tries again later."""

    def build(notification: Notification) -> tuple[EmailMessage, dict[str, Any]]:
        return (
            _message(
                to=notification.recipient.email,
                subject=notification.subject,
                body=notification.body,
                link=notification.link,
                attachments=notification.attachments,
                message_id=message_id("notification", notification.pk, notification.created_at),
            ),
            {},
        )

    _deliver(
        Notification._default_manager.select_related("recipient"),
        notification_id,
        status_field="email_status",
        sent_field="emailed_at",
        build=build,
    )


def notification_mark_read(*, user: Any, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def notification_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- to addresses that are not users: distribution lists -----------------------------------------


def email_distribution_list(
    *,
    code: str,
    subject: str,
    body: str,
    link: str = "",
    application: Any = None,
    attachments: Sequence[MailAttachment] = (),
) -> list[OutboundEmail]:
    """E-mail every address of the distribution list `code`: one `OutboundEmail` per address, each
    with its send job enqueued in the caller's transaction (the same outbox as `notify`).

    An unknown or inactive list, or one with no usable address, sends nothing and logs a warning: the
    caller's business (an approval, say) must not fail because a mailing list is misconfigured."""
    distribution = DistributionList.objects.filter(code=code).first()
    if distribution is None or not distribution.is_active:
        logger.warning(
            "No e-mail “%s” sent to the distribution list %r: the list %s.",
            subject,
            code,
            "does not exist" if distribution is None else "is inactive",
        )
        return []
    try:
        addresses = distribution.address_list
    except ValidationError as exc:
        logger.warning("No e-mail “%s” sent to the distribution list %r: %s", subject, code, " ".join(exc.messages))
        return []
    if not addresses:
        logger.warning("No e-mail “%s” sent to the distribution list %r: the list has no address.", subject, code)
        return []
    stored = _stored_attachments(attachments)
    created: list[OutboundEmail] = []
    with transaction.atomic():
        for address in addresses:
            email = OutboundEmail.objects.create(
                to_address=address,
                subject=subject[:200],
                body=body,
                link=link,
                attachments=stored,
                application=application,
                list_code=code,
            )
            email.message_id = message_id("outbound", email.pk, email.created_at)
            email.save(update_fields=["message_id"])
            send_outbound_email.enqueue(email.pk)
            created.append(email)
    return created


def outbound_email_send(*, outbound_email_id: int) -> None:
    """Send one e-mail to a distribution list's address, once (as `notification_send_email`)."""

    def build(email: OutboundEmail) -> tuple[EmailMessage, dict[str, Any]]:
        email_id = email.message_id or message_id("outbound", email.pk, email.created_at)
        message = _message(
            to=email.to_address,
            subject=email.subject,
            body=email.body,
            link=email.link,
            attachments=email.attachments,
            message_id=email_id,
        )
        return message, {"message_id": email_id}

    _deliver(
        OutboundEmail._default_manager.all(),
        outbound_email_id,
        status_field="status",
        sent_field="sent_at",
        build=build,
    )


def _deliver(
    rows: Any,
    pk: int,
    *,
    status_field: str,
    sent_field: str,
    build: Callable[[Any], tuple[EmailMessage, dict[str, Any]]],
) -> None:
    """Hand one message to the mail server, recording each stage in a commit of its own, outside any
    long transaction (no row or database lock is held while the mail server answers):

    1. connect to the server (and greet it): nothing of the message has been sent;
    2. claim the message — `queued` or `failed` becomes `sending`, a conditional UPDATE that only one
       worker can win — just before MAIL FROM, RCPT TO and DATA;
    3. once the server has answered the end of DATA with its acceptance, mark it `sent`;
    4. only then say QUIT.

    A worker that dies before step 2 leaves the message `queued`: certainly not sent, the requeue sends
    it. One that dies between 2 and 3 leaves it `sending`: the server may or may not hold it, which SMTP
    gives no way to ask; the requeue sends it again with the same Message-ID (see the module docstring).
    One that dies after 3 (waiting for the reply to QUIT, say) leaves it `sent`: never sent again."""
    row = rows.filter(pk=pk).first()
    if row is None or getattr(row, status_field) in (EmailStatus.SENT, EmailStatus.SENDING):
        # Sent already; or another job is sending it now, or died doing so (the requeue decides).
        return
    claimable = {f"{status_field}__in": [EmailStatus.QUEUED, EmailStatus.FAILED]}
    try:
        message, also = build(row)
        connection = get_connection(fail_silently=False)
        connection.open()
        try:
            if not rows.model._default_manager.filter(pk=pk, **claimable).update(
                **{status_field: EmailStatus.SENDING}, **also
            ):
                return  # another worker claimed it between our read and now
            connection.send_messages([message])
            rows.model._default_manager.filter(pk=pk, **{status_field: EmailStatus.SENDING}).update(
                **{status_field: EmailStatus.SENT, sent_field: timezone.now(), "last_error": ""}
            )
        finally:
            # QUIT after the "sent" mark: a failure to say goodbye does not unsend the message.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
    except Exception as exc:
        rows.model._default_manager.filter(pk=pk).exclude(**{status_field: EmailStatus.SENT}).update(
            **{status_field: EmailStatus.FAILED, "last_error": _describe(exc)}
        )
        raise


# --- the message ---------------------------------------------------------------------------------


def message_id(kind: str, pk: int, created_at: datetime) -> str:
    """The Message-ID of a message: from its kind, id and creation time (so that ids stay unique when
    a database is recreated and its ids start again), at the domain `PORTAL_EMAIL_MESSAGE_ID_DOMAIN`,
    else the host of `PORTAL_BASE_URL`. The same for every attempt to send the message."""
    domain = getattr(settings, "PORTAL_EMAIL_MESSAGE_ID_DOMAIN", "") or urlsplit(settings.PORTAL_BASE_URL).hostname
    created = created_at.astimezone(UTC)
    return f"<{kind}-{pk}.{created:%Y%m%d%H%M%S}@{domain or 'qualification.portal'}>"


def _message(
    *, to: str, subject: str, body: str, link: str, attachments: list[dict[str, str]], message_id: str
) -> EmailMessage:
    """The e-mail in the portal's one plain-English shape: the body, then where to open it."""
    url = f"{settings.PORTAL_BASE_URL}{link}" if link else settings.PORTAL_BASE_URL
    message = EmailMessage(
        subject=f"{SUBJECT_PREFIX}{subject}",
        body=f"{body}\n\nOpen in the portal: {url}\n",
        to=[to],
        headers={"Message-ID": message_id},
    )
    for item in attachments:
        with default_storage.open(item["storage_name"], "rb") as handle:
            message.attach(item["filename"], handle.read(), item["content_type"])
    return message


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


# --- requeueing what was lost or failed ----------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    label: str
    model: type[models.Model]
    status_field: str
    task: Any


_KINDS = (
    _Kind("notification", Notification, "email_status", send_notification_email),
    _Kind("outbound e-mail", OutboundEmail, "status", send_outbound_email),
)


@dataclass
class RequeueReport:
    """What one run of the requeue found: the messages given a new job, and those left failed because
    they had had `MAX_ATTEMPTS` jobs already (each as "notification 12" or "outbound e-mail 3")."""

    requeued: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)


def email_requeue_stale(*, older_than: timedelta, max_attempts: int = MAX_ATTEMPTS, limit: int = 1000) -> RequeueReport:
    """Queue a new send job for every message (notification or outbound e-mail) that is queued or
    failed, was created more than `older_than` ago, and has no pending job: none ready to run, and
    none running that started within `older_than` (a job running longer than that belongs to a worker
    that died). A message that has had `max_attempts` jobs is marked failed and reported instead.
    At most `limit` messages of each kind are looked at per run."""
    cutoff = timezone.now() - older_than
    report = RequeueReport()
    for kind in _KINDS:
        pending = _pending_ids(kind, cutoff)
        candidates = (
            kind.model._default_manager.filter(created_at__lt=cutoff)
            .exclude(**{kind.status_field: EmailStatus.SENT})
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in candidates:
            if pk in pending:
                continue
            outcome = _requeue_one(kind, pk, cutoff=cutoff, max_attempts=max_attempts)
            if outcome == "requeued":
                report.requeued.append(f"{kind.label} {pk}")
            elif outcome == "given_up":
                report.given_up.append(f"{kind.label} {pk}")
    if report.requeued:
        logger.warning("Requeued %d e-mails: %s", len(report.requeued), ", ".join(report.requeued))
    if report.given_up:
        logger.error(
            "%d e-mails were not sent after %d attempts: %s",
            len(report.given_up),
            max_attempts,
            ", ".join(report.given_up),
        )
    return report


def _pending_jobs(kind: _Kind, cutoff: datetime) -> Any:
    return DBTaskResult.objects.filter(task_path=kind.task.module_path).filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=cutoff)
    )


def _pending_ids(kind: _Kind, cutoff: datetime) -> set[int]:
    if uses_rq(kind.task):  # the jobs are in Redis, not in the database (ADR 0011)
        return {pk for pk in rq_pending_first_args(kind.task, running_since=cutoff) if isinstance(pk, int)}
    ids = set()
    for args_kwargs in _pending_jobs(kind, cutoff).values_list("args_kwargs", flat=True):
        args = (args_kwargs.get("args") or []) if isinstance(args_kwargs, dict) else []
        if args and isinstance(args[0], int):
            ids.add(args[0])
    return ids


def _has_pending_job(kind: _Kind, pk: int, cutoff: datetime) -> bool:
    if uses_rq(kind.task):
        return pk in _pending_ids(kind, cutoff)
    return bool(_pending_jobs(kind, cutoff).filter(args_kwargs__args__0=pk).exists())


def _requeue_one(kind: _Kind, pk: int, *, cutoff: datetime, max_attempts: int) -> str:
    """Under the message's lock (so two requeue runs at once queue one job): check again that it is
    unsent and has no pending job, then queue a job, or give up on it."""
    with transaction.atomic():
        message: Any = kind.model._default_manager.select_for_update().filter(pk=pk).first()
        if message is None or getattr(message, kind.status_field) == EmailStatus.SENT:
            return ""
        if _has_pending_job(kind, pk, cutoff):
            return ""
        if getattr(message, kind.status_field) == EmailStatus.SENDING:
            # Its worker died while handing it to the mail server (its job is no longer pending): the
            # server may hold it. It is sent again, with the same Message-ID, and the log says so.
            setattr(message, kind.status_field, EmailStatus.FAILED)
            message.last_error = INTERRUPTED
            message.save(update_fields=[kind.status_field, "last_error"])
            logger.warning("%s %s was interrupted while being handed to the mail server.", kind.label, pk)
        if message.attempts >= max_attempts:
            if getattr(message, kind.status_field) != EmailStatus.FAILED or not message.last_error:
                setattr(message, kind.status_field, EmailStatus.FAILED)
                message.last_error = message.last_error or f"Not sent after {message.attempts} attempts."
                message.save(update_fields=[kind.status_field, "last_error"])
            return "given_up"
        message.attempts += 1
        message.save(update_fields=["attempts"])
        kind.task.enqueue(pk)
        return "requeued"
