import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q


def evidence_path(instance: "EvidenceFile", filename: str) -> str:
    # Server-generated and never reused: the participant's file name is kept only as data.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    key = uuid.uuid4().hex
    return f"evidence/{key[:2]}/{key}{suffix}"


class EvidenceFile(models.Model):
    """One uploaded evidence file. Stored once under a server-generated name, never overwritten;
    its SHA-256 is recorded at upload so that a sealed manifest can bind it."""

    organisation = models.ForeignKey("participants.Organisation", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        "qualification.Application", on_delete=models.PROTECT, related_name="evidence_files"
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=200)
    file_type = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    purpose = models.CharField(max_length=60, blank=True, help_text="What the file evidences, e.g. pit:criterion:3")

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="evidence_file_not_empty")]
        indexes = [models.Index(fields=["application", "purpose"], name="evidence_app_purpose_idx")]

    def __str__(self) -> str:
        return self.original_name
