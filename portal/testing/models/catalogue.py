"""The Qualification Testing catalogue: requirements, DIP flows, test scenarios and versioned test
cases, as reference data the Code Bodies keep (loaded from workbooks or edited in the admin).

A test case's content lives in `TestCaseVersion` rows; a change adds a version and never rewrites one,
so an execution always says exactly which wording it ran. The current version of each case is marked,
and the database allows only one current version per case.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.participants.models import RoleGroup


class RequirementArea(models.TextChoices):
    FUNCTIONAL = "functional", "Functional"
    MIGRATION = "migration", "Migration"
    NON_FUNCTIONAL = "non_functional", "Non-functional"
    OPERATIONAL = "operational", "Operational"


class TestBatch(models.TextChoices):
    __test__ = False  # not a pytest test class

    FUNCTIONAL = "functional", "Functional"
    MIGRATION = "migration", "Migration"
    DIP = "dip", "DIP"
    NON_FUNCTIONAL = "non_functional", "Non-functional"
    OPERATIONAL = "operational", "Operational"


class Requirement(models.Model):
    """An MHHS requirement the RTTM traces to tests and QAD evidence."""

    identifier = models.CharField(max_length=40, unique=True)
    area = models.CharField(max_length=20, choices=RequirementArea.choices)
    text = models.TextField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["identifier"]
        constraints = [
            models.CheckConstraint(condition=Q(area__in=RequirementArea.values), name="requirement_area_valid"),
        ]

    def __str__(self) -> str:
        return self.identifier


class DipFlow(models.Model):
    """A DIP interface or publication (IF-033, PUB-035) that test cases exercise. A participant may opt
    out of a flow it will not use, with a reason recorded in its QT plan, when the flow allows it."""

    code = models.CharField(max_length=20, unique=True, help_text="The interface ID, e.g. IF-033 or PUB-035.")
    title = models.CharField(max_length=200)
    opt_out_allowed = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "DIP flow"

    def __str__(self) -> str:
        return self.code


class TestScenario(models.Model):
    __test__ = False  # not a pytest test class

    identifier = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    batch = models.CharField(max_length=20, choices=TestBatch.choices)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["identifier"]
        constraints = [
            models.CheckConstraint(condition=Q(batch__in=TestBatch.values), name="scenario_batch_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} {self.title}"


class TestCase(models.Model):
    """A test case's identity; what it says is in its versions."""

    __test__ = False  # not a pytest test class

    identifier = models.CharField(max_length=40, unique=True)
    scenario = models.ForeignKey(TestScenario, on_delete=models.PROTECT, related_name="cases")
    is_active = models.BooleanField(default=True, help_text="Retired cases are no longer required of anyone.")

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier


class TestCaseVersion(models.Model):
    __test__ = False  # not a pytest test class

    case = models.ForeignKey(TestCase, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    title = models.CharField(max_length=300)
    batch = models.CharField(max_length=20, choices=TestBatch.choices)
    mandatory = models.BooleanField(default=True)
    role_groups = models.ManyToManyField(RoleGroup, related_name="test_case_versions")
    dip_flows = models.ManyToManyField(DipFlow, blank=True, related_name="test_case_versions")
    requirements = models.ManyToManyField(Requirement, blank=True, related_name="test_case_versions")
    # [{"step": 1, "action": "…", "expected": "…"}], in order.
    steps = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case__identifier", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="test_case_version_unique"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(is_current=True), name="test_case_one_current_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="test_case_version_positive"),
            models.CheckConstraint(condition=Q(batch__in=TestBatch.values), name="test_case_batch_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.case.identifier} v{self.version}"
