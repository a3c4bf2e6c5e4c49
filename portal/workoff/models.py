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
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.action[:60]}"

    @property
    def reference(self) -> str:
        return f"WO-{self.number:03d}"
