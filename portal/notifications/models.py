"""What the portal tells people, and the e-mails that carry it.

- `Notification`: a message to one user, in their in-app inbox and sent to them by e-mail.
- `DistributionList`: a named list of e-mail addresses of people without accounts (the REC Contract
  Manager, the relevant industry parties), kept by administrators.
- `OutboundEmail`: one e-mail to one such address.

Each e-mail has a delivery state (`queued`, `sending`, `sent`, `failed`), a count of the jobs queued to send it,
and a stable Message-ID; see `portal.notifications.services` for the delivery guarantee.
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q

from portal.core.models import TimeStampedModel


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Being handed to the mail server: recorded (committed) just before MAIL FROM, RCPT TO and DATA.
    # Left so by a worker that died mid-conversation: the server may or may not hold the message.
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """A message to one person: shown in their in-app inbox and sent to them by e-mail."""

    EmailStatus = EmailStatus

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    application = models.ForeignKey(
        "qualification.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="Path in the portal, e.g. /applications/12/")
    attachments = models.JSONField(
        default=list,
        blank=True,
        help_text="Files attached to the e-mail: [{filename, content_type, storage_name}] in the default storage.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    emailed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=1, help_text="How many jobs have been queued to send the e-mail: the first, and each requeue."
    )
    last_error = models.TextField(blank=True, help_text="Why the last attempt to send the e-mail failed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx"),
            # The requeue command looks only at e-mails not yet sent: a small part of the table.
            models.Index(fields=["created_at"], condition=~Q(email_status="sent"), name="notification_unsent_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


# --- e-mail to people without an account ---------------------------------------------------------------

MAX_LIST_ADDRESSES = 200


def parse_addresses(value: str) -> list[str]:
    """The addresses of a distribution list as an administrator wrote them: a JSON list of strings, or
    one address per line (blank lines ignored). Each must be a valid e-mail address; duplicates (in
    any case) are dropped. Raises ValidationError naming the first bad line."""
    text = (value or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise ValidationError("The addresses look like a JSON list but are not valid JSON.") from exc
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValidationError('A JSON list of addresses must hold only text, e.g. ["a@example.org"].')
        candidates = [item.strip() for item in items]
    else:
        candidates = [line.strip() for line in text.splitlines()]
    addresses: list[str] = []
    seen: set[str] = set()
    for number, address in enumerate(candidates, start=1):
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            printable = "".join(ch for ch in address if ch.isprintable())[:80]
            raise ValidationError(f"Address {number}, “{printable}”, is not a valid e-mail address.") from exc
        if address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    if len(addresses) > MAX_LIST_ADDRESSES:
        raise ValidationError(f"A list may hold at most {MAX_LIST_ADDRESSES} addresses.")
    return addresses


def validate_addresses(value: str) -> None:
    parse_addresses(value)


class DistributionList(TimeStampedModel):
    """A named list of e-mail addresses that the portal writes to, for people who have no account
    (the REC Contract Manager, the relevant industry parties). Reference data: administrators keep
    the addresses in the admin, and the code names the list by its `code`."""

    code = models.SlugField(max_length=60, unique=True, help_text="How the portal names the list; do not change it.")
    name = models.CharField(max_length=200)
    addresses = models.TextField(
        blank=True,
        validators=[validate_addresses],
        help_text="One e-mail address per line (or a JSON list of addresses).",
    )
    is_active = models.BooleanField(default=True, help_text="An inactive list receives nothing.")

    class Meta:
        ordering = ["name"]
        verbose_name = "distribution list"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            addresses = parse_addresses(self.addresses)
        except ValidationError as exc:
            raise ValidationError({"addresses": exc.messages}) from exc
        if self.is_active and not addresses:
            raise ValidationError({"addresses": "An active list needs at least one address."})

    @property
    def address_list(self) -> list[str]:
        return parse_addresses(self.addresses)


class OutboundEmail(models.Model):
    """One e-mail to one address that is not a portal user (a member of a distribution list)."""

    EmailStatus = EmailStatus

    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="Path in the portal, e.g. /register/")
    attachments = models.JSONField(
        default=list,
        blank=True,
        help_text="Files attached: [{filename, content_type, storage_name}] in the default storage.",
    )
    application = models.ForeignKey(
        "qualification.Application",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_emails",
    )
    list_code = models.SlugField(max_length=60, blank=True, help_text="The distribution list it was sent to.")
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    message_id = models.CharField(max_length=255, blank=True, help_text="The Message-ID header of the e-mail.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=1, help_text="How many jobs have been queued to send it: the first, and each requeue."
    )
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound e-mail"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EmailStatus.values), name="outbound_email_status_valid"),
            models.CheckConstraint(
                condition=Q(status=EmailStatus.SENT, sent_at__isnull=False)
                | (~Q(status=EmailStatus.SENT) & Q(sent_at__isnull=True)),
                name="outbound_email_sent_at_iff_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=~Q(status="sent"), name="outbound_email_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"
