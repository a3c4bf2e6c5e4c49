"""Pre-Integration Testing: the PIT exit criteria (reference data), each application's result per
criterion with its evidence, and the RTTM uploaded at each checkpoint, kept as versioned evidence."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.documents.models import EvidenceFile
from portal.participants.models import RoleGroup
from portal.qualification.models import Application, Route


class PitCriterion(models.Model):
    """One PIT exit criterion. Which applications it applies to is data: the routes and role groups it
    names (none named means every route, or every role group)."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=300, help_text="The criterion as the participant reads it.")
    guidance = models.TextField(blank=True, help_text="What meeting it means and what evidence is expected.")
    order = models.PositiveSmallIntegerField(default=0)
    is_required = models.BooleanField(
        default=True, help_text="Must be met before PIT can be submitted. Optional criteria are recorded if relevant."
    )
    evidence_required = models.BooleanField(default=True, help_text="Must have at least one evidence file.")
    routes = models.ManyToManyField(
        Route, blank=True, related_name="pit_criteria", help_text="Leave empty for every route."
    )
    role_groups = models.ManyToManyField(
        RoleGroup, blank=True, related_name="pit_criteria", help_text="Leave empty for every role group."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive criteria are no longer asked for.")

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "PIT exit criterion"
        verbose_name_plural = "PIT exit criteria"

    def __str__(self) -> str:
        return self.title


class PitCriterionResult(models.Model):
    """An application's answer to one criterion: met or not, a note, and the evidence files."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="pit_results")
    criterion = models.ForeignKey(PitCriterion, on_delete=models.PROTECT, related_name="results")
    met = models.BooleanField()
    note = models.TextField(blank=True)
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "criterion__order", "criterion__code"]
        verbose_name = "PIT criterion result"
        constraints = [
            models.UniqueConstraint(fields=["application", "criterion"], name="pit_result_one_per_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.criterion.code}: {'met' if self.met else 'not met'}"


class RttmCheckpoint(models.TextChoices):
    """The four points at which the Requirements Traceability Matrix is submitted."""

    PIT_ENTRY = "pit_entry", "PIT entry"
    PIT_EXIT = "pit_exit", "PIT exit"
    QT_ENTRY = "qt_entry", "QT entry"
    QT_EXIT = "qt_exit", "QT exit"


# The checkpoints the PIT task collects (in this order); the QT ones belong to Qualification Testing.
PIT_CHECKPOINTS: tuple[RttmCheckpoint, ...] = (RttmCheckpoint.PIT_ENTRY, RttmCheckpoint.PIT_EXIT)
# A list, so that the constraint (and so the migrations) is the same in every process.
RTTM_CHECKPOINT_VALUES = [c.value for c in RttmCheckpoint]


class RttmUpload(models.Model):
    """One version of the RTTM at one checkpoint. A new upload adds a version; none is replaced."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rttm_uploads")
    checkpoint = models.CharField(max_length=20, choices=RttmCheckpoint.choices)
    version = models.PositiveIntegerField()
    evidence = models.OneToOneField(EvidenceFile, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "checkpoint", "-version"]
        verbose_name = "RTTM upload"
        constraints = [
            models.UniqueConstraint(fields=["application", "checkpoint", "version"], name="rttm_upload_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="rttm_upload_version_positive"),
            models.CheckConstraint(
                condition=Q(checkpoint__in=RTTM_CHECKPOINT_VALUES), name="rttm_upload_checkpoint_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} RTTM at {self.get_checkpoint_display()} v{self.version}"
