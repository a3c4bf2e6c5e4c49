import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.approvals.models import GenerationStatus
from portal.core.calendar import UK

_GENERATION_STATUSES = [s.value for s in GenerationStatus]


def report_path(instance: "PortfolioReport", filename: str) -> str:
    # Server-generated and never reused.
    key = uuid.uuid4().hex
    return f"reports/portfolio/{key[:2]}/{key}.pdf"


class PortfolioReport(models.Model):
    """A portfolio report PDF one user asked for: the pipeline, the timelines and the lists, as that
    user may see them when it was generated, with the filters they chose. Only they may download it."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    filters = models.JSONField(default=dict, blank=True, help_text="Route, role group and wave codes.")
    status = models.CharField(max_length=10, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED)
    file = models.FileField(upload_to=report_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    application_count = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_GENERATION_STATUSES), name="portfolio_report_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=GenerationStatus.READY)
                | (~Q(file="") & ~Q(sha256="") & Q(generated_at__isnull=False)),
                name="portfolio_report_ready_has_file",
            ),
            models.UniqueConstraint(
                fields=["requested_by"],
                condition=Q(status=GenerationStatus.QUEUED),
                name="portfolio_report_one_queued_per_user",
            ),
        ]
        indexes = [models.Index(fields=["requested_by", "-requested_at"], name="portfolio_report_user_idx")]

    def __str__(self) -> str:
        return f"Portfolio report {self.pk} for {self.requested_by}"

    @property
    def file_name(self) -> str:
        at = timezone.localtime(self.requested_at, UK)
        return f"MHHS qualification portfolio {at:%Y-%m-%d %H%M}.pdf"
