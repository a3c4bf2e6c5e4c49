"""The public register: the REC Party Register and the register of MHHS Qualified participants.

Each change is a `RegisterEntry` of its own, kept for ever. An entry is never updated except to mark
it superseded when the next entry for the same register, MPID and market role is recorded, and never
deleted; the database allows one current entry per register, MPID and market role. The organisation
name, MPID and market role are copied onto the entry, so that the register keeps what was true at the
time even if the reference data changes later.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.participants.models import Organisation
from portal.qualification.models import Application


class Register(models.TextChoices):
    REC_PARTY = "rec_party", "REC Party Register"
    MHHS = "mhhs", "MHHS qualification"


class EntryStatus(models.TextChoices):
    REC_APPROVED = "rec_approved", "Approved by the REC Code Manager"
    QUALIFIED = "qualified", "MHHS Qualified"
    ACTIVE = "active", "Active (Service Activation complete)"
    WITHDRAWN = "withdrawn", "No longer qualified"


# Which statuses each register records.
REGISTER_STATUSES: dict[Register, tuple[EntryStatus, ...]] = {
    Register.REC_PARTY: (EntryStatus.REC_APPROVED,),
    Register.MHHS: (EntryStatus.QUALIFIED, EntryStatus.ACTIVE, EntryStatus.WITHDRAWN),
}


class RegisterEntry(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="register_entries")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="register_entries")
    organisation_name = models.CharField(max_length=200, help_text="The organisation's name when recorded.")
    mpid_code = models.CharField("MPID", max_length=4)
    market_role_code = models.CharField(max_length=10)
    market_role_name = models.CharField(max_length=100)
    register = models.CharField(max_length=20, choices=Register.choices)
    status = models.CharField(max_length=20, choices=EntryStatus.choices)
    conditions = models.TextField(blank=True, help_text="The conditions of an approval given with conditions.")
    effective_date = models.DateField(help_text="The date of the change, in the UK.")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next",
        help_text="The entry it replaced.",
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = "register entry"
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["register", "mpid_code", "market_role_code"],
                condition=Q(is_current=True),
                name="register_entry_one_current",
                violation_error_message="There is already a current entry for this MPID and market role.",
            ),
            models.CheckConstraint(
                condition=Q(is_current=True, superseded_at__isnull=True)
                | Q(is_current=False, superseded_at__isnull=False),
                name="register_entry_superseded_iff_not_current",
            ),
            models.CheckConstraint(
                condition=Q(register=Register.REC_PARTY, status__in=REGISTER_STATUSES[Register.REC_PARTY])
                | Q(register=Register.MHHS, status__in=REGISTER_STATUSES[Register.MHHS]),
                name="register_entry_status_of_its_register",
            ),
        ]
        indexes = [
            # The current register, a page at a time, in the order it is shown.
            models.Index(
                fields=["register", "organisation_name", "mpid_code", "market_role_code", "id"],
                condition=Q(is_current=True),
                name="register_entry_current_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_register_display()}: {self.organisation_name} {self.mpid_code} {self.market_role_code}"
