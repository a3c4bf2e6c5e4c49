"""The Pre-Qualification Submission (PQS) of an application and its placing-reliance proposal.

One `PqsSubmission` per application: the participant's plan (preferred wave, PIT and QT approach and
timescales, target migration date, supplier-hub relationships) and a version counter that goes up each
time it is submitted. Each `RelianceProposalItem` says which test scenarios or test cases the
participant relies on (or explicitly does *not* rely on), whose testing it is, which artefacts evidence
it and why, and carries the Code Bodies' decision on it. Accepted reliance reduces the set of test
cases the participant must run in Qualification Testing.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.core.models import TimeStampedModel


class Wave(models.Model):
    """A Qualification Testing wave a participant may prefer: reference data an administrator keeps.

    The number of waves, their capacity and their dates are set by the Code Bodies, so they are rows,
    not code."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    starts_on = models.DateField(null=True, blank=True, help_text="When QT in this wave is planned to start.")
    ends_on = models.DateField(null=True, blank=True, help_text="When QT in this wave is planned to end.")
    is_active = models.BooleanField(default=True, help_text="Only active waves are offered to participants.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="pqs_wave_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PqsStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class PqsSubmission(TimeStampedModel):
    application = models.OneToOneField(
        "qualification.Application", on_delete=models.CASCADE, related_name="pqs_submission"
    )
    preferred_wave = models.ForeignKey(Wave, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pit_approach = models.TextField(blank=True)
    pit_start_date = models.DateField(null=True, blank=True)
    pit_completion_date = models.DateField(null=True, blank=True)
    qt_approach = models.TextField(blank=True)
    qt_start_date = models.DateField(null=True, blank=True)
    qt_completion_date = models.DateField(null=True, blank=True)
    target_migration_date = models.DateField(null=True, blank=True)
    supplier_hub_relationships = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=PqsStatus.choices, default=PqsStatus.DRAFT)
    # How many times it has been submitted; each submission freezes a `PqsVersion`.
    version = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "Pre-Qualification Submission"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PqsStatus.values), name="pqs_status_valid"),
            models.CheckConstraint(
                condition=Q(pit_start_date__isnull=True)
                | Q(pit_completion_date__isnull=True)
                | Q(pit_completion_date__gte=F("pit_start_date")),
                name="pqs_pit_completes_after_start",
            ),
            models.CheckConstraint(
                condition=Q(qt_start_date__isnull=True)
                | Q(qt_completion_date__isnull=True)
                | Q(qt_completion_date__gte=F("qt_start_date")),
                name="pqs_qt_completes_after_start",
            ),
            models.CheckConstraint(
                condition=Q(qt_completion_date__isnull=True)
                | Q(target_migration_date__isnull=True)
                | Q(target_migration_date__gt=F("qt_completion_date")),
                name="pqs_migration_after_qt",
            ),
            # Submitted at least once exactly when it has a version, a time and a submitter.
            models.CheckConstraint(
                condition=Q(version=0, submitted_at__isnull=True, submitted_by__isnull=True)
                | Q(version__gte=1, submitted_at__isnull=False, submitted_by__isnull=False),
                name="pqs_version_iff_submitted",
            ),
            models.CheckConstraint(
                condition=Q(status=PqsStatus.DRAFT) | Q(version__gte=1), name="pqs_submitted_has_version"
            ),
        ]

    def __str__(self) -> str:
        return f"PQS of application {self.application_id} (v{self.version}, {self.status})"


class PqsVersion(models.Model):
    """What was submitted, frozen: the PQS and its proposal items as they stood at each submission."""

    pqs = models.ForeignKey(PqsSubmission, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pqs", "number"]
        constraints = [
            models.UniqueConstraint(fields=["pqs", "number"], name="pqs_version_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="pqs_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"PQS {self.pqs_id} version {self.number}"


class RelianceScope(models.TextChoices):
    TEST_SCENARIOS = "test_scenarios", "Test scenarios"
    TEST_CASES = "test_cases", "Test cases"


class TestingProvider(models.TextChoices):
    """Whose testing the participant relies on."""

    SOFTWARE_VENDOR = "software_vendor", "A software vendor"
    MARKET_PARTICIPANT = "market_participant", "Another market participant"
    SERVICE_PROVIDER = "service_provider", "A service provider or agent"
    OTHER = "other", "Someone else"


class ItemDecision(models.TextChoices):
    PENDING = "pending", "Awaiting decision"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


# The decisions that must give a reason (sorted: constraints and migrations are the same every time).
DECISIONS_NEEDING_REASON = (ItemDecision.CHANGES_REQUESTED.value, ItemDecision.REJECTED.value)


class RelianceProposalItem(TimeStampedModel):
    """One line of the placing-reliance proposal, and the Code Bodies' decision on it."""

    pqs = models.ForeignKey(PqsSubmission, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=200, help_text="What the testing covers, e.g. automated flow management.")
    scope = models.CharField(max_length=20, choices=RelianceScope.choices)
    identifiers = models.JSONField(default=list, help_text="The test scenario or test case identifiers.")
    relied_on = models.BooleanField(help_text="False: explicitly not relied on (the participant tests it in QT).")
    provider_kind = models.CharField(max_length=30, choices=TestingProvider.choices, blank=True)
    provider_name = models.CharField(max_length=200, blank=True)
    artefacts = models.TextField(blank=True, help_text="The artefacts that evidence the testing.")
    evidence = models.ManyToManyField("documents.EvidenceFile", blank=True, related_name="+")
    rationale = models.TextField()
    decision = models.CharField(max_length=20, choices=ItemDecision.choices, default=ItemDecision.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Edited by the participant since the Code Bodies last decided on it: its decision is reset when
    # the PQS is submitted again.
    changed_since_decision = models.BooleanField(default=False)

    class Meta:
        ordering = ["pqs", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="reliance_item_title_present"),
            models.CheckConstraint(condition=~Q(rationale=""), name="reliance_item_rationale_present"),
            models.CheckConstraint(condition=Q(scope__in=RelianceScope.values), name="reliance_item_scope_valid"),
            models.CheckConstraint(condition=~Q(identifiers=[]), name="reliance_item_identifiers_present"),
            models.CheckConstraint(
                condition=Q(provider_kind="") | Q(provider_kind__in=TestingProvider.values),
                name="reliance_item_provider_kind_valid",
            ),
            # Relying on testing means naming whose testing it is.
            models.CheckConstraint(
                condition=Q(relied_on=False) | (~Q(provider_kind="") & ~Q(provider_name="")),
                name="reliance_item_relied_on_names_provider",
            ),
            models.CheckConstraint(condition=Q(decision__in=ItemDecision.values), name="reliance_item_decision_valid"),
            # Pending: nobody has decided. Decided: by someone, at a time.
            models.CheckConstraint(
                condition=Q(
                    decision=ItemDecision.PENDING, decided_by__isnull=True, decided_at__isnull=True, decision_reason=""
                )
                | (~Q(decision=ItemDecision.PENDING) & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="reliance_item_decided_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=~Q(decision__in=DECISIONS_NEEDING_REASON) | ~Q(decision_reason=""),
                name="reliance_item_reason_for_reject_or_changes",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def identifiers_text(self) -> str:
        return ", ".join(self.identifiers)
