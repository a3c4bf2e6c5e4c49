import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.core.models import TimeStampedModel
from portal.participants.models import ApprovalBody, MarketRole, Mpid, Organisation, RoleGroup
from portal.qualification.workflow import (
    CLOSED_STATUSES,
    Action,
    ApplicationStatus,
    Decision,
    Party,
    Stage,
    TaskKind,
    TaskState,
)

# Sorted, so that the constraints below (and so the migrations) are the same in every process.
CLOSED_STATUS_VALUES = sorted(s.value for s in CLOSED_STATUSES)


class Route(models.Model):
    """A qualification route (SIT, Non-SIT Supplier & Agent, …): configuration, not a code branch."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    role_groups = models.ManyToManyField(RoleGroup, related_name="routes")
    new_entrants_only = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class TaskDefinition(models.Model):
    """One task of a route's process: who acts, who assures, what it waits for."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="task_definitions")
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    stage = models.CharField(max_length=30, choices=Stage.choices)
    order = models.PositiveSmallIntegerField()
    depends_on = models.JSONField(default=list, blank=True, help_text="Codes of the tasks this one waits for.")
    actor_roles = models.JSONField(default=list, blank=True)
    assurer_roles = models.JSONField(default=list, blank=True)
    is_optional = models.BooleanField(default=False)
    approval_body = models.CharField(max_length=30, choices=ApprovalBody.choices, blank=True)

    class Meta:
        ordering = ["route", "order"]
        constraints = [
            models.UniqueConstraint(fields=["route", "code"], name="task_definition_unique_code"),
            models.CheckConstraint(condition=Q(kind__in=TaskKind.values), name="task_definition_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=TaskKind.APPROVAL, approval_body__in=ApprovalBody.values)
                | (~Q(kind=TaskKind.APPROVAL) & Q(approval_body="")),
                name="task_definition_approval_body_iff_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route.code}: {self.title}"

    def roles_for(self, party: Party | str) -> list[str]:
        return list(self.actor_roles if party == Party.ACTOR else self.assurer_roles)


class Application(TimeStampedModel):
    """The unit of qualification: organisation × MPID × market role, on one route."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    mpid = models.ForeignKey(Mpid, on_delete=models.PROTECT, related_name="applications")
    market_role = models.ForeignKey(MarketRole, on_delete=models.PROTECT, related_name="applications")
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(
        max_length=30,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.IN_PREPARATION,
        db_index=True,
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    qualified_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mpid", "market_role"],
                condition=~Q(status__in=CLOSED_STATUS_VALUES),
                name="application_one_open_per_mpid_role",
                violation_error_message="There is already an open application for this MPID and market role.",
            ),
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"),
            models.CheckConstraint(
                condition=Q(status__in=CLOSED_STATUS_VALUES, closed_at__isnull=False)
                | (~Q(status__in=CLOSED_STATUS_VALUES) & Q(closed_at__isnull=True)),
                name="application_closed_at_iff_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="application_org_status_idx"),
            # The applications list (page and API) shows the most recently changed first.
            models.Index(fields=["-updated_at", "-id"], name="application_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.mpid.code} {self.market_role.code}"

    @property
    def reference(self) -> str:
        return f"QA-{self.pk:05d}" if self.pk else "QA-new"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class Task(models.Model):
    """One task of one application, in one state of its kind's state machine."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    definition = models.ForeignKey(TaskDefinition, on_delete=models.PROTECT, related_name="tasks")
    code = models.SlugField(max_length=40)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.CANNOT_START)
    decision = models.CharField(max_length=30, choices=Decision.choices, blank=True)
    # Which party must act next ("who is waiting on whom"); empty when nobody need act.
    waiting_on = models.CharField(max_length=10, choices=Party.choices, blank=True, db_index=True)
    order = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "order"]
        constraints = [
            models.UniqueConstraint(fields=["application", "code"], name="task_unique_code_per_application"),
            models.CheckConstraint(condition=Q(state__in=TaskState.values), name="task_state_valid"),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=Decision.values), name="task_decision_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["waiting_on", "definition"], name="task_waiting_idx"),
            # The work queues list waiting tasks oldest first: this index reads them in that order, so a
            # page of the queue is found without sorting every waiting task (make bench, docs/performance.md).
            models.Index(fields=["waiting_on", "updated_at", "id"], name="task_queue_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} {self.code} ({self.state})"

    @property
    def kind(self) -> str:
        return self.definition.kind


class TaskEntry(models.Model):
    """One step in a task's thread: who did what, from which state to which, and why."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    from_state = models.CharField(max_length=20, choices=TaskState.choices)
    to_state = models.CharField(max_length=20, choices=TaskState.choices)
    decision = models.CharField(max_length=30, choices=Decision.choices, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "task entries"

    def __str__(self) -> str:
        return f"{self.action} on {self.task}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Server-generated name: the uploaded name is kept only as data, never as a path.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    entry = models.ForeignKey(TaskEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty")]

    def __str__(self) -> str:
        return self.original_name
