"""The Service Activation hand-off: what the Service Activation team receives when an application becomes
MHHS Qualified, and works through until the participant may operate.

- `ActivationChecklistItem`: the checklist (reference data, edited in the admin).
- `Handoff`: one per application, opened when it becomes MHHS Qualified; its planned go-live date,
  when it was started and completed, and by whom.
- `HandoffCheck`: where a hand-off stands on one checklist item (done, by whom, when, a note).
- `HandoffInput`: a note from a Code Body or the DIP Manager for the Service Activation team.

The database holds the invariants: one hand-off per application, a done check records who and when
(and a check not done records neither), one check per item per hand-off, completion records who and
when and comes after the start, an input has text and names a body that may give one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.accounts.roles import Role
from portal.qualification.models import Application


class ActivationChecklistItem(models.Model):
    """One thing the Service Activation team confirms before the participant may operate."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What the item involves and how to know it is done.")
    order = models.PositiveSmallIntegerField(default=0)
    is_required = models.BooleanField(
        default=True, help_text="A required item must be done before the hand-off can be completed."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive items are no longer asked for.")

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "Service Activation checklist item"

    def __str__(self) -> str:
        return self.title


class Handoff(models.Model):
    """The hand-off of one MHHS Qualified application to the Service Activation team."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="handoff")
    created_at = models.DateTimeField(auto_now_add=True)
    planned_go_live = models.DateField(null=True, blank=True, help_text="The go-live date agreed with the participant.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "Service Activation hand-off"
        indexes = [models.Index(fields=["completed_at", "created_at"], name="handoff_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(started_by__isnull=True, started_at__isnull=True)
                | Q(started_by__isnull=False, started_at__isnull=False),
                name="handoff_started_by_iff_at",
            ),
            models.CheckConstraint(
                condition=Q(completed_by__isnull=True, completed_at__isnull=True)
                | Q(completed_by__isnull=False, completed_at__isnull=False, started_at__isnull=False),
                name="handoff_completed_by_iff_at_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Hand-off of {self.application.reference}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    @property
    def is_started(self) -> bool:
        return self.started_at is not None


class HandoffCheck(models.Model):
    """Where a hand-off stands on one checklist item."""

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="checks")
    item = models.ForeignKey(ActivationChecklistItem, on_delete=models.PROTECT, related_name="checks")
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["handoff", "item__order", "item__code"]
        verbose_name = "hand-off check"
        constraints = [
            models.UniqueConstraint(fields=["handoff", "item"], name="handoff_check_one_per_item"),
            models.CheckConstraint(
                condition=Q(done=True, done_by__isnull=False, done_at__isnull=False)
                | Q(done=False, done_by__isnull=True, done_at__isnull=True),
                name="handoff_check_done_by_iff_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handoff.application.reference} {self.item.code}: {'done' if self.done else 'not done'}"


class InputBody(models.TextChoices):
    """Who an input comes from: a Code Body or the DIP Manager (the roles that may give one)."""

    ELEXON = Role.ELEXON_ANALYST.value, "Elexon"
    QSP = Role.QSP.value, "Qualification Service Provider"
    REC_CODE_MANAGER = Role.REC_CODE_MANAGER.value, "REC Code Manager"
    DIP_MANAGER = Role.DIP_MANAGER.value, "DIP Manager"


# A list in declaration order, so that the constraint (and so the migrations) is the same everywhere.
INPUT_BODY_VALUES = [b.value for b in InputBody]


class HandoffInput(models.Model):
    """A note for the Service Activation team from a Code Body or the DIP Manager."""

    handoff = models.ForeignKey(Handoff, on_delete=models.PROTECT, related_name="inputs")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.CharField(max_length=30, choices=InputBody.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "hand-off input"
        constraints = [
            models.CheckConstraint(condition=Q(body__in=INPUT_BODY_VALUES), name="handoff_input_body_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="handoff_input_has_text"),
        ]

    def __str__(self) -> str:
        return f"{InputBody(self.body).label} on {self.handoff.application.reference}"
