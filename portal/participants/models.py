from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portal.core.models import TimeStampedModel

MPID_PATTERN = r"\A[A-Z0-9]{4}\Z"
mpid_validator = RegexValidator(MPID_PATTERN, "An MPID is exactly 4 upper-case letters or digits, like SOUT.")


class ApprovalBody(models.TextChoices):
    """The bodies whose approval can be required. Which of them a role needs is data
    (`ApprovalRequirement`), because the matrix has changed before and will change again."""

    DIP_MANAGER = "dip_manager", "DIP Manager"
    BSC_PAB = "bsc_pab", "BSC PAB"
    REC_CODE_MANAGER = "rec_code_manager", "REC Code Manager"


class RoleGroup(models.Model):
    """Supplier, LDSO, MOA/MEM or Data Service: the unit the approval matrix is written in."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class MarketRole(models.Model):
    """A role a participant qualifies in (reference data: codes change with the industry data)."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=100)
    role_group = models.ForeignKey(RoleGroup, on_delete=models.PROTECT, related_name="market_roles")
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ApprovalRequirement(models.Model):
    """One row of the approval-routing matrix: role group × body that must approve."""

    role_group = models.ForeignKey(RoleGroup, on_delete=models.CASCADE, related_name="approval_requirements")
    body = models.CharField(max_length=30, choices=ApprovalBody.choices)

    class Meta:
        ordering = ["role_group__order", "body"]
        constraints = [
            models.UniqueConstraint(fields=["role_group", "body"], name="approval_requirement_unique"),
            models.CheckConstraint(condition=Q(body__in=ApprovalBody.values), name="approval_requirement_body_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.role_group}: {self.get_body_display()}"


class Organisation(TimeStampedModel):
    name = models.CharField(max_length=200, unique=True)
    company_number = models.CharField(
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"\A[A-Z0-9]{8}\Z", "A company number is 8 letters or digits, like 04256753.")],
    )
    is_new_entrant = models.BooleanField(default=False)
    is_bsc_party = models.BooleanField("BSC party", default=False)
    is_rec_party = models.BooleanField("REC party", default=False)
    contact_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Mpid(TimeStampedModel):
    """A Market Participant ID held by an organisation."""

    code = models.CharField("MPID", max_length=4, unique=True, validators=[mpid_validator])
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="mpids")

    class Meta:
        ordering = ["code"]
        verbose_name = "MPID"
        verbose_name_plural = "MPIDs"
        constraints = [models.CheckConstraint(condition=Q(code__regex=MPID_PATTERN), name="mpid_code_format")]

    def __str__(self) -> str:
        return self.code


class Membership(TimeStampedModel):
    """A participant user's place in their organisation. `is_director` records a Company Director,
    who alone may sign a Final QAD."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    is_director = models.BooleanField("Company Director", default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"
