"""Reads of Service Activation hand-offs, already scoped to what the user may see.

A hand-off is seen by whoever may see its application (`application_scope_for`); another
organisation's answers 404, the same as a missing one. The participant's view leaves out what is
internal to the bodies (the inputs and the notes on checklist items): see `permissions.py`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from portal.activation.models import ActivationChecklistItem, Handoff, HandoffCheck, HandoffInput, InputBody
from portal.activation.permissions import (
    ACTIVATION_TASK,
    can_run_handoff,
    has_handoff_stage,
    input_bodies_of,
    open_refusal,
    sees_internal,
)
from portal.dip.models import DipId
from portal.dip.selectors import dip_ids_for
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.permissions import application_scope_for
from portal.qualification.selectors import task_get
from portal.qualification.workflow import Decision, TaskKind, TaskState
from portal.workoff.selectors import ItemRow, workoff_conditions

UK = ZoneInfo("Europe/London")


def uk_today() -> date:
    return timezone.localdate(timezone=UK)


# --- the checklist -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRow:
    item: ActivationChecklistItem
    check: HandoffCheck | None

    @property
    def done(self) -> bool:
        return bool(self.check and self.check.done)

    @property
    def note(self) -> str:
        return self.check.note if self.check else ""


def checklist_items_active() -> list[ActivationChecklistItem]:
    return list(ActivationChecklistItem.objects.filter(is_active=True).order_by("order", "code"))


def check_rows(handoff: Handoff | None) -> list[CheckRow]:
    """The active checklist items with the hand-off's check on each, and any item since retired that was
    checked on this hand-off (its record stays visible), in checklist order."""
    checks: dict[int, HandoffCheck] = {}
    if handoff is not None:
        checks = {c.item_id: c for c in HandoffCheck.objects.filter(handoff=handoff).select_related("item", "done_by")}
    items = {item.pk: item for item in checklist_items_active()}
    for check in checks.values():
        items.setdefault(check.item_id, check.item)
    ordered = sorted(items.values(), key=lambda item: (item.order, item.code))
    return [CheckRow(item, checks.get(item.pk)) for item in ordered]


def handoff_missing_from(rows: Iterable[CheckRow], handoff: Handoff | None) -> list[str]:
    """What stops the hand-off from being completed, in checklist order: each required item not done,
    and the planned go-live date if it is not set."""
    missing = [
        f"the required item “{row.item.title}” is not done"
        for row in rows
        if row.item.is_active and row.item.is_required and not row.done
    ]
    if handoff is None or handoff.planned_go_live is None:
        missing.append("the planned go-live date is not set")
    return missing


def handoff_missing(application: Application) -> list[str]:
    """Everything that stops the application's hand-off from being completed."""
    handoff = Handoff.objects.filter(application=application).first()
    return handoff_missing_from(check_rows(handoff), handoff)


# --- one hand-off ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRow:
    """One approval task of the application, with its thread: the decision and what the body said."""

    task: Task
    entries: list[TaskEntry]

    @property
    def decision_label(self) -> str:
        return str(Decision(self.task.decision).label) if self.task.decision else ""

    @property
    def comments(self) -> list[TaskEntry]:
        return [entry for entry in self.entries if entry.comment]


def approval_rows(application: Application, tasks: Iterable[Task]) -> list[ApprovalRow]:
    approvals = sorted((t for t in tasks if t.definition.kind == TaskKind.APPROVAL), key=lambda t: t.order)
    entries: dict[int, list[TaskEntry]] = {t.pk: [] for t in approvals}
    for entry in (
        TaskEntry.objects.filter(task__in=[t.pk for t in approvals])
        .select_related("actor")
        .order_by("created_at", "id")
    ):
        entries[entry.task_id].append(entry)
    return [ApprovalRow(task, entries[task.pk]) for task in approvals]


class HandoffStatus(models.TextChoices):
    NOT_YET_QUALIFIED = "not_yet_qualified", "Not yet qualified"
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


def handoff_status(handoff: Handoff | None, task: Task | None = None) -> HandoffStatus:
    if handoff is not None and handoff.is_completed:
        return HandoffStatus.COMPLETED
    if handoff is not None and handoff.is_started:
        return HandoffStatus.IN_PROGRESS
    if task is not None and task.state == TaskState.IN_PROGRESS:
        return HandoffStatus.IN_PROGRESS
    if task is not None and task.state == TaskState.COMPLETED:
        return HandoffStatus.COMPLETED
    if task is not None and task.state == TaskState.CANNOT_START:
        return HandoffStatus.NOT_YET_QUALIFIED
    return HandoffStatus.NOT_STARTED


@dataclass(frozen=True)
class HandoffView:
    application: Application
    task: Task
    handoff: Handoff | None
    checks: list[CheckRow]
    approvals: list[ApprovalRow]
    conditions: list[ItemRow]
    dip_ids: list[DipId]
    inputs: list[HandoffInput]
    internal: bool  # the user sees the inputs and the notes on checklist items
    can_edit: bool  # tick items and set the go-live date now
    can_start: bool
    can_complete: bool  # the task may be completed by the user now (the checklist may still refuse)
    input_bodies: list[InputBody]  # the bodies the user may add an input for now (empty: none)

    @property
    def is_open(self) -> bool:
        """The application is MHHS Qualified (or further on), so the hand-off exists or is due."""
        return has_handoff_stage(self.application)

    @property
    def status(self) -> HandoffStatus:
        return handoff_status(self.handoff, self.task)

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def missing(self) -> list[str]:
        return handoff_missing_from(self.checks, self.handoff)

    @property
    def active_checks(self) -> list[CheckRow]:
        return [row for row in self.checks if row.item.is_active]

    @property
    def done_count(self) -> int:
        return sum(1 for row in self.active_checks if row.done)

    @property
    def total_count(self) -> int:
        return len(self.active_checks)

    @property
    def planned_go_live(self) -> date | None:
        return self.handoff.planned_go_live if self.handoff else None

    @property
    def can_add_input(self) -> bool:
        return bool(self.input_bodies)


def handoff_get(*, user: Any, application_id: int) -> HandoffView:
    """The hand-off page of one application: the hand-off, the approvals with their decisions and
    comments, the work-off conditions, the DIP IDs, the inputs and the checklist. NotFound when the user
    may not see the application."""
    task = task_get(user=user, application_id=application_id, task_code=ACTIVATION_TASK)
    application = task.application
    handoff = Handoff.objects.select_related("started_by", "completed_by").filter(application=application).first()
    internal = sees_internal(user)
    inputs: list[HandoffInput] = []
    if internal and handoff is not None:
        inputs = list(handoff.inputs.select_related("author").order_by("created_at", "id"))
    is_open = open_refusal(application, handoff) is None
    runs = can_run_handoff(user, task)
    return HandoffView(
        application=application,
        task=task,
        handoff=handoff,
        checks=check_rows(handoff),
        approvals=approval_rows(application, application.tasks.all()),
        conditions=workoff_conditions(application),
        dip_ids=dip_ids_for(application),
        inputs=inputs,
        internal=internal,
        can_edit=is_open and runs,
        can_start=is_open and runs and task.state == TaskState.NOT_STARTED,
        can_complete=is_open and runs and task.state == TaskState.IN_PROGRESS,
        input_bodies=input_bodies_of(user) if is_open else [],
    )


# --- the queue -----------------------------------------------------------------------------------------


class HandoffFilter(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    ALL = "all", "All"


@dataclass(frozen=True)
class ChecklistTotals:
    total: int
    required: int


def checklist_totals() -> ChecklistTotals:
    counts = ActivationChecklistItem.objects.filter(is_active=True).aggregate(
        total=Count("id"), required=Count("id", filter=Q(is_required=True))
    )
    return ChecklistTotals(total=counts["total"] or 0, required=counts["required"] or 0)


def handoff_list(*, user: Any, status: str = HandoffFilter.OPEN) -> QuerySet[Handoff]:
    """The hand-offs of every application the user may see, each annotated with its checklist progress
    (`done_count`, `required_done_count`, counting active items only). Open ones oldest first (the
    order the team works them); completed ones most recently completed first; all: open ones first."""
    done = Q(checks__done=True, checks__item__is_active=True)
    qs = (
        Handoff.objects.filter(application__in=application_scope_for(user))
        .select_related("application__organisation", "application__mpid", "application__market_role")
        .annotate(
            done_count=Count("checks", filter=done),
            required_done_count=Count("checks", filter=done & Q(checks__item__is_required=True)),
        )
    )
    if status == HandoffFilter.OPEN:
        return qs.filter(completed_at__isnull=True).order_by("created_at", "id")
    if status == HandoffFilter.COMPLETED:
        return qs.filter(completed_at__isnull=False).order_by("-completed_at", "-id")
    return qs.order_by(models.F("completed_at").asc(nulls_first=True), "created_at", "id")


@dataclass(frozen=True)
class HandoffRow:
    handoff: Handoff
    totals: ChecklistTotals

    @property
    def application(self) -> Application:
        return self.handoff.application

    @property
    def done_count(self) -> int:
        return int(getattr(self.handoff, "done_count", 0))

    @property
    def required_done_count(self) -> int:
        return int(getattr(self.handoff, "required_done_count", 0))

    @property
    def status(self) -> HandoffStatus:
        return handoff_status(self.handoff)

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def ready(self) -> bool:
        """Every required item is done and the go-live date is set (it may be completed)."""
        return self.required_done_count >= self.totals.required and self.handoff.planned_go_live is not None


def rows_of(handoffs: Iterable[Handoff], totals: ChecklistTotals | None = None) -> list[HandoffRow]:
    totals = totals or checklist_totals()
    return [HandoffRow(handoff, totals) for handoff in handoffs]
