"""DIP onboarding: the onboarding steps (reference data), each application's progress through them,
and the DIP IDs of each MPID and market role, per DIP environment."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portal.participants.models import MarketRole, Mpid
from portal.qualification.models import Application

DIP_ID_PATTERN = r"^[0-9]{10}$"
dip_id_validator = RegexValidator(DIP_ID_PATTERN, "A DIP ID is exactly 10 digits, like 1009012345.")


class DipOnboardingStep(models.Model):
    """One step of onboarding to the Data Integration Platform, as the DIP Manager's guidance lists them."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="What the step involves and how to know it is done.")
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Inactive steps are no longer asked for.")

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "DIP onboarding step"

    def __str__(self) -> str:
        return self.title


class DipStepProgress(models.Model):
    """Where an application stands on one step: done or not, by whom and when, with a note."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="dip_steps")
    step = models.ForeignKey(DipOnboardingStep, on_delete=models.PROTECT, related_name="progress")
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "step__order", "step__code"]
        verbose_name = "DIP onboarding progress"
        verbose_name_plural = "DIP onboarding progress"
        constraints = [
            models.UniqueConstraint(fields=["application", "step"], name="dip_progress_one_per_step"),
            models.CheckConstraint(
                condition=Q(done=True, done_by__isnull=False, done_at__isnull=False)
                | Q(done=False, done_by__isnull=True, done_at__isnull=True),
                name="dip_progress_done_by_iff_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.step.code}: {'done' if self.done else 'not done'}"


class DipEnvironment(models.TextChoices):
    """Onboarding is to pre-production (UIT, where Qualification Testing runs); an MPID and role are
    promoted to production after qualification."""

    PRE_PRODUCTION = "pre_production", "Pre-production (UIT)"
    PRODUCTION = "production", "Production"


# A list in declaration order, so that the constraint (and so the migrations) is the same everywhere.
DIP_ENVIRONMENT_VALUES = [e.value for e in DipEnvironment]


class DipId(models.Model):
    """The DIP ID of one MPID in one market role on one DIP environment: recorded by the participant,
    confirmed by the DIP Manager.

    The database holds the rules that matter most: the format (10 digits), one DIP ID per MPID, role
    and environment, and a DIP ID used only once in an environment."""

    mpid = models.ForeignKey(Mpid, on_delete=models.PROTECT, related_name="dip_ids")
    market_role = models.ForeignKey(MarketRole, on_delete=models.PROTECT, related_name="dip_ids")
    environment = models.CharField(max_length=20, choices=DipEnvironment.choices)
    value = models.CharField("DIP ID", max_length=10, validators=[dip_id_validator])
    # The application on which it was recorded (the DIP ID itself belongs to the MPID and role).
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="dip_ids")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mpid__code", "market_role__order", "environment"]
        verbose_name = "DIP ID"
        verbose_name_plural = "DIP IDs"
        constraints = [
            models.CheckConstraint(
                condition=Q(value__regex=DIP_ID_PATTERN),
                name="dip_id_value_format",
                violation_error_message="A DIP ID is exactly 10 digits.",
            ),
            models.CheckConstraint(
                condition=Q(environment__in=DIP_ENVIRONMENT_VALUES), name="dip_id_environment_valid"
            ),
            models.UniqueConstraint(
                fields=["mpid", "market_role", "environment"],
                name="dip_id_one_per_mpid_role_environment",
                violation_error_message="This MPID and role already have a DIP ID in this environment.",
            ),
            models.UniqueConstraint(
                fields=["environment", "value"],
                name="dip_id_value_unique_per_environment",
                violation_error_message="This DIP ID is already in use.",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="dip_id_confirmed_by_iff_at",
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
