"""Work-off plans: the items that close tests not completed in QT (a failed or not-run case, or a
defect still open). The participant proposes an item, Testing Assurance reviews it, the Code Bodies
agree it; an agreed item is a condition the approval bodies see, and it stays tracked after
qualification until it is closed with evidence."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.documents.models import EvidenceFile
from portal.qualification.models import Application
from portal.testing.models import Defect, TestCase


class WorkOffStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    REVIEWED = "reviewed", "Reviewed by Testing Assurance"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    AGREED = "agreed", "Agreed"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WorkOffItem(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="workoff_items")
    number = models.PositiveIntegerField(help_text="WO-<number>, counted per application.")
    case = models.ForeignKey(TestCase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    defect = models.ForeignKey(Defect, null=True, blank=True, on_delete=models.PROTECT, related_name="workoff_items")
    action = models.TextField(help_text="What will be done to close the item.")
    owner = models.CharField(max_length=200, help_text="Who at the participant owns the action.")
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=WorkOffStatus.choices, default=WorkOffStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    last_comment = models.TextField(blank=True, help_text="The latest reviewer's comment.")
    closure_note = models.TextField(blank=True)
    closure_evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="+")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "number"]
        verbose_name = "work-off item"
        indexes = [models.Index(fields=["status", "due_on"], name="workoff_status_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="workoff_number_unique"),
            models.CheckConstraint(condition=Q(status__in=WorkOffStatus.values), name="workoff_status_valid"),
            # Each item covers exactly one thing: a test case or a defect.
            models.CheckConstraint(
                condition=Q(case__isnull=False, defect__isnull=True) | Q(case__isnull=True, defect__isnull=False),
                name="workoff_covers_case_or_defect",
            ),
            # One live item per case and per defect: a second proposal for the same thing is refused
            # even when two arrive at once. A withdrawn item frees it for a new proposal.
            models.UniqueConstraint(
                fields=["application", "case"],
                condition=Q(case__isnull=False) & ~Q(status=WorkOffStatus.WITHDRAWN),
                name="workoff_one_live_item_per_case",
            ),
            models.UniqueConstraint(
                fields=["application", "defect"],
                condition=Q(defect__isnull=False) & ~Q(status=WorkOffStatus.WITHDRAWN),
                name="workoff_one_live_item_per_defect",
            ),
            # An agreed or closed item records who agreed it and when; a closed item when it closed.
            models.CheckConstraint(
                condition=~Q(status__in=[WorkOffStatus.AGREED, WorkOffStatus.CLOSED])
                | Q(agreed_at__isnull=False, agreed_by__isnull=False),
                name="workoff_agreed_has_agreement",
            ),
            models.CheckConstraint(
                condition=Q(status=WorkOffStatus.CLOSED, closed_at__isnull=False, closed_by__isnull=False)
                | (~Q(status=WorkOffStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="workoff_closed_at_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.action[:60]}"

    @property
    def reference(self) -> str:
        return f"WO-{self.number:03d}"


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due within 5 working days"
    DUE_TODAY = "due_today", "Due today"
    OVERDUE = "overdue", "Overdue"


class WorkOffReminder(models.Model):
    """A reminder sent about an agreed item to one person: what the reminder job has already sent, so
    that it never sends the same kind of reminder about the same item to the same person twice on one
    day, however often it runs (the unique constraint holds even when two runs overlap)."""

    item = models.ForeignKey(WorkOffItem, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_on = models.DateField(help_text="The day in the UK the reminder was sent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_on", "item", "kind"]
        verbose_name = "work-off reminder"
        constraints = [
            models.UniqueConstraint(
                fields=["item", "recipient", "kind", "sent_on"], name="workoff_reminder_once_a_day"
            ),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="workoff_reminder_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.item.reference} {self.kind} to {self.recipient_id} on {self.sent_on}"
