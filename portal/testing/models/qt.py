"""An application's Qualification Testing: its plan and opt-outs, the execution plan, the readiness
report, its RTTM and the frozen snapshots of it, the executions with their evidence, defects, the
configurable exit rules, and background workbook imports.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.documents.models import EvidenceFile
from portal.qualification.models import Application, Route
from portal.testing.models.catalogue import DipFlow, Requirement, TestCase, TestCaseVersion
from portal.testing.models.pit import RTTM_CHECKPOINT_VALUES, RttmCheckpoint


class ReviewStatus(models.TextChoices):
    """A document the participant drafts and Testing Assurance reviews: the QT plan, the readiness
    report."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    AGREED = "agreed", "Agreed"


class QtPlan(models.Model):
    """The QT approach & plan and the readiness report of one application (one row each; both are
    reviewed by Testing Assurance, each with its own status)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="qt_plan")
    approach = models.TextField(blank=True, help_text="How the participant will run QT.")
    reliance_approach = models.TextField(blank=True, help_text="How accepted placing reliance is used.")
    test_data = models.TextField(blank=True, help_text="The test data and how it will be loaded.")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    version = models.PositiveIntegerField(default=0, help_text="How many times the plan has been submitted.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    readiness_status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    readiness_note = models.TextField(blank=True)
    readiness_submitted_at = models.DateTimeField(null=True, blank=True)
    readiness_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    readiness_confirmed_at = models.DateTimeField(null=True, blank=True)
    readiness_comment = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "QT plan"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReviewStatus.values), name="qt_plan_status_valid"),
            models.CheckConstraint(
                condition=Q(readiness_status__in=ReviewStatus.values), name="qt_plan_readiness_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="qt_plan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"QT plan of {self.application.reference}"


class DipFlowOptOut(models.Model):
    """The participant will not use this DIP flow: its test cases leave the required set."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="dip_flow_opt_outs")
    flow = models.ForeignKey(DipFlow, on_delete=models.PROTECT, related_name="opt_outs")
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flow__code"]
        verbose_name = "DIP flow opt-out"
        constraints = [
            models.UniqueConstraint(fields=["application", "flow"], name="dip_flow_opt_out_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} opts out of {self.flow.code}"


class PlannedExecution(models.Model):
    """The test execution plan: when each case of the required set will run."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="planned_executions")
    case = models.ForeignKey(TestCase, on_delete=models.PROTECT, related_name="+")
    planned_on = models.DateField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["planned_on", "case__identifier"]
        constraints = [
            models.UniqueConstraint(fields=["application", "case"], name="planned_execution_one_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.case.identifier} on {self.planned_on}"


class ReadinessItem(models.Model):
    """A QT prerequisite the participant confirms in its readiness report (reference data)."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    role_groups = models.ManyToManyField(
        "participants.RoleGroup", blank=True, related_name="+", help_text="Leave empty for every role group."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.title


class ReadinessConfirmation(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="readiness_confirmations")
    item = models.ForeignKey(ReadinessItem, on_delete=models.PROTECT, related_name="+")
    ready = models.BooleanField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["item__order", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["application", "item"], name="readiness_confirmation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.item.code}: {'ready' if self.ready else 'not ready'}"


class RttmEntry(models.Model):
    """The participant's row of its RTTM for one requirement: the PIT tests that cover it and where the
    QAD evidences it. The QT cases come from the catalogue."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="rttm_entries")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="rttm_entries")
    pit_tests = models.CharField(max_length=1000, blank=True, help_text="PIT test identifiers, comma-separated.")
    qad_reference = models.CharField(max_length=200, blank=True, help_text="QAD section or question, e.g. 4.5.2.")
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requirement__identifier"]
        verbose_name = "RTTM entry"
        verbose_name_plural = "RTTM entries"
        constraints = [
            models.UniqueConstraint(fields=["application", "requirement"], name="rttm_entry_one_per_requirement"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} RTTM {self.requirement.identifier}"


class RttmSnapshot(models.Model):
    """The whole RTTM of an application frozen at a checkpoint; a new capture adds a version."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rttm_snapshots")
    checkpoint = models.CharField(max_length=20, choices=RttmCheckpoint.choices)
    version = models.PositiveIntegerField()
    # [{"requirement", "area", "text", "pit_tests", "qt_cases", "qad_reference", "covered"}], by requirement.
    rows = models.JSONField()
    row_count = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "checkpoint", "-version"]
        verbose_name = "RTTM snapshot"
        constraints = [
            models.UniqueConstraint(fields=["application", "checkpoint", "version"], name="rttm_snapshot_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="rttm_snapshot_version_positive"),
            models.CheckConstraint(
                condition=Q(checkpoint__in=RTTM_CHECKPOINT_VALUES), name="rttm_snapshot_checkpoint_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} RTTM snapshot at {self.get_checkpoint_display()} v{self.version}"


class ExecutionStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    PASSED_WITH_OBSERVATIONS = "passed_with_observations", "Passed with observations"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    NOT_RUN = "not_run", "Not run"


PASSING_STATUSES = frozenset({ExecutionStatus.PASSED, ExecutionStatus.PASSED_WITH_OBSERVATIONS})


class EvidenceReview(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class TestExecution(models.Model):
    """One run of one test case by the participant. The latest run of a case is its result."""

    __test__ = False  # not a pytest test class

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="test_executions")
    case = models.ForeignKey(TestCase, on_delete=models.PROTECT, related_name="executions")
    case_version = models.ForeignKey(TestCaseVersion, on_delete=models.PROTECT, related_name="executions")
    status = models.CharField(max_length=30, choices=ExecutionStatus.choices)
    tester = models.CharField(max_length=200, help_text="Who ran the test.")
    executed_at = models.DateTimeField()
    # [{"step": 1, "status": "passed", "actual": "…"}], one per step of the case version.
    step_results = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="+")
    review = models.CharField(max_length=20, choices=EvidenceReview.choices, default=EvidenceReview.PENDING)
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [
            models.Index(fields=["application", "case", "-executed_at", "-id"], name="execution_latest_idx"),
            models.Index(fields=["application", "-executed_at", "-id"], name="execution_list_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExecutionStatus.values), name="execution_status_valid"),
            models.CheckConstraint(condition=Q(review__in=EvidenceReview.values), name="execution_review_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.case.identifier} {self.status}"


class DefectSeverity(models.IntegerChoices):
    CRITICAL = 1, "1 – Critical"
    HIGH = 2, "2 – High"
    MEDIUM = 3, "3 – Medium"
    LOW = 4, "4 – Low"


class DefectStatus(models.TextChoices):
    OPEN = "open", "Open"
    FIXED = "fixed", "Fixed, awaiting retest"
    CLOSED = "closed", "Closed"
    DEFERRED = "deferred", "Deferred to work-off"


OPEN_DEFECT_STATUSES = frozenset({DefectStatus.OPEN, DefectStatus.FIXED})


class Defect(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="defects")
    number = models.PositiveIntegerField(help_text="DEF-<number>, counted per application.")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    severity = models.PositiveSmallIntegerField(choices=DefectSeverity.choices)
    status = models.CharField(max_length=20, choices=DefectStatus.choices, default=DefectStatus.OPEN)
    executions = models.ManyToManyField(TestExecution, blank=True, related_name="defects")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="defect_number_unique"),
            models.CheckConstraint(condition=Q(severity__gte=1, severity__lte=4), name="defect_severity_valid"),
            models.CheckConstraint(condition=Q(status__in=DefectStatus.values), name="defect_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"DEF-{self.number:04d}"


class ExitRuleKind(models.TextChoices):
    """What each kind of rule checks; the evaluation of each kind is in `testing/exit_rules.py`."""

    PLAN_AGREED = "plan_agreed", "The QT plan is agreed by Testing Assurance"
    READINESS_CONFIRMED = "readiness_confirmed", "The readiness report is confirmed"
    MANDATORY_CASES_PASSED = "mandatory_cases_passed", "Every mandatory case passed or covered by agreed work-off"
    NO_OPEN_DEFECTS = "no_open_defects", "No open defect at or above a severity"
    EVIDENCE_ACCEPTED = "evidence_accepted", "No execution's evidence rejected or awaiting review"
    RTTM_CAPTURED = "rttm_captured", "The RTTM is captured at a checkpoint"


class ExitRule(models.Model):
    """A QT exit criterion, declared as data: its kind, parameters ({"max_severity": 1} for
    no_open_defects, {"checkpoint": "qt_exit"} for rttm_captured) and the routes it applies to."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=40, choices=ExitRuleKind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    routes = models.ManyToManyField(Route, blank=True, related_name="+", help_text="Leave empty for every route.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "QT exit rule"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ExitRuleKind.values), name="exit_rule_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class ImportKind(models.TextChoices):
    CATALOGUE = "catalogue", "Test catalogue"
    RTTM = "rttm", "RTTM"
    RESULTS = "results", "Test results"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Checking rows"
    STORING = "storing", "Storing"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Refused"


class ImportJob(models.Model):
    """A workbook import running in the background. Every row is checked before any is stored; the
    page polls `processed_rows / total_rows` for its progress bar."""

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="import_jobs"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    stored_rows = models.PositiveIntegerField(default=0)
    # [{"sheet", "row", "column", "reason"}], at most a few hundred: the first problems found.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="import_job_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"),
            models.CheckConstraint(
                condition=Q(kind=ImportKind.CATALOGUE) | Q(application__isnull=False),
                name="import_job_application_unless_catalogue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk} ({self.status})"
