"""Notifications are created inside the transaction of the change that causes them, and their e-mail
job is enqueued in that same transaction: with the database task backend the job row commits or
rolls back with the change (an outbox), so nobody is told about something that did not happen."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from portal.notifications.models import Notification
from portal.notifications.tasks import send_notification_email


def notify(
    *,
    recipients: Iterable[Any],
    subject: str,
    body: str,
    link: str = "",
    application: Any = None,
    exclude: Any = None,
) -> list[Notification]:
    """Create one inbox notification per distinct recipient and enqueue its e-mail."""
    seen: set[int] = set()
    created: list[Notification] = []
    for user in recipients:
        if user.pk in seen or (exclude is not None and user.pk == exclude.pk) or not user.is_active:
            continue
        seen.add(user.pk)
        notification = Notification.objects.create(
            recipient=user, application=application, subject=subject[:200], body=body, link=link
        )
        send_notification_email.enqueue(notification.pk)
        created.append(notification)
    return created


def notification_send_email(*, notification_id: int) -> None:
    """Send one notification's e-mail. Idempotent: a notification already sent is not sent again.

    A failed attempt is recorded on the notification (`failed`) and the error raised again, so the job
    is recorded as failed too; a later attempt may still send it."""
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update().select_related("recipient").filter(pk=notification_id).first()
            )
            if notification is None or notification.email_status == Notification.EmailStatus.SENT:
                return
            link = f"{settings.PORTAL_BASE_URL}{notification.link}" if notification.link else settings.PORTAL_BASE_URL
            message = EmailMessage(
                subject=f"[MHHS Qualification] {notification.subject}",
                body=f"{notification.body}\n\nOpen in the portal: {link}\n",
                to=[notification.recipient.email],
            )
            message.send(fail_silently=False)
            notification.email_status = Notification.EmailStatus.SENT
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["email_status", "emailed_at"])
    except Exception:
        Notification.objects.filter(pk=notification_id).exclude(email_status=Notification.EmailStatus.SENT).update(
            email_status=Notification.EmailStatus.FAILED
        )
        raise


def notification_mark_read(*, user: Any, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def notification_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
