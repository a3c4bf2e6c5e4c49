"""What Qualification Testing execution adds beside the executions and defects themselves (`qt.py`):
the thread of each defect (its status changes and comments), and the test completion reports generated
from the data in the background, stored as files so that what was downloaded can be shown again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.qualification.models import Application
from portal.testing.models.qt import Defect, DefectStatus

DEFECT_STATUS_OR_BLANK = [*DefectStatus.values, ""]


class DefectEntry(models.Model):
    """One entry of a defect's thread: a comment, a change of status, or both. Entries are only ever
    added, so the thread is the defect's history."""

    defect = models.ForeignKey(Defect, on_delete=models.PROTECT, related_name="entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=20, choices=DefectStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=DefectStatus.choices, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["defect", "created_at", "id"]
        verbose_name = "defect thread entry"
        verbose_name_plural = "defect thread entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(from_status__in=DEFECT_STATUS_OR_BLANK) & Q(to_status__in=DEFECT_STATUS_OR_BLANK),
                name="defect_entry_statuses_valid",
            ),
            # An entry says something: a comment, or a change of status (from one status to another).
            models.CheckConstraint(
                condition=~Q(text="") | (~Q(to_status="") & ~Q(from_status="")),
                name="defect_entry_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(to_status="") | ~Q(to_status=models.F("from_status")),
                name="defect_entry_status_changes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.defect.reference} entry {self.pk}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be generated"
    GENERATING = "generating", "Being generated"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class CompletionReport(models.Model):
    """A test completion report of one application, generated in the background from the data as it
    stood then: a PDF to read and an XLSX with the same content, sheet by sheet."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="completion_reports")
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="reports/%Y/%m/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    xlsx = models.FileField(upload_to="reports/%Y/%m/", max_length=200, blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    # The headline counts when it was generated, for the list of reports: {"cases": 40, "passed": 31, …}.
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="completion_report_status_valid"),
            # A ready report has both files and the time it was generated.
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.READY)
                | (Q(generated_at__isnull=False) & ~Q(pdf="") & ~Q(xlsx="") & ~Q(pdf_sha256="") & ~Q(xlsx_sha256="")),
                name="completion_report_ready_has_files",
            ),
        ]

    def __str__(self) -> str:
        return f"Test completion report {self.pk} of {self.application.reference} ({self.status})"
