"""Every write to a PQS and its placing-reliance proposal goes through here.

Each service runs in one transaction: lock the application and its `pqs` task, check that the actor
may act and that the task's state allows it, check the input (a refusal raises before anything is
written), change, and write one audit event. Submitting, accepting and sending back the PQS are
transitions of the `pqs` task (`qualification.services.task_transition`); the guards and effects at
the end of this module take part in them.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.accounts.selectors import organisation_users
from portal.audit.services import audit_record
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import EvidenceFile
from portal.documents.services import evidence_store
from portal.notifications.services import notify
from portal.prequalification.models import (
    DECISIONS_NEEDING_REASON,
    ItemDecision,
    PqsStatus,
    PqsSubmission,
    PqsVersion,
    RelianceProposalItem,
    RelianceScope,
    TestingProvider,
    Wave,
)
from portal.prequalification.permissions import may_decide_role, may_edit_role
from portal.prequalification.rules import (
    DECIDABLE_STATES,
    EDITABLE_STATES,
    MAX_EVIDENCE_PER_ITEM,
    MAX_ITEMS,
    MAX_SHORT_TEXT,
    MAX_TEXT,
    PQS_TASK,
    IdentifierError,
    date_problems,
    describe_missing,
    missing_fields,
    parse_identifiers,
    reliance_required,
)
from portal.prequalification.snapshots import item_values, pqs_values
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.services import task_lock, task_start_on_first_work
from portal.qualification.workflow import TaskState

# Database keys are 64-bit; a wave's code is a slug. Anything else cannot name a row.
MAX_ID = 2**63 - 1
WAVE_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")

# --- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PqsFields:
    """The PQS form. A draft may leave anything empty; submitting needs every field but the last."""

    preferred_wave: str | None = None  # the wave's code
    pit_approach: str = ""
    pit_start_date: date | None = None
    pit_completion_date: date | None = None
    qt_approach: str = ""
    qt_start_date: date | None = None
    qt_completion_date: date | None = None
    target_migration_date: date | None = None
    supplier_hub_relationships: str = ""


@dataclass(frozen=True)
class ItemFields:
    """One placing-reliance proposal item."""

    title: str
    scope: str
    identifiers: str | Sequence[str]
    relied_on: bool | None  # None: not answered
    rationale: str
    provider_kind: str = ""
    provider_name: str = ""
    artefacts: str = ""
    # The evidence files (of this application) the item links to; None keeps the current links.
    evidence_ids: Sequence[int] | None = None


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


@dataclass
class _Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.items.append(Problem(name, message))

    def raise_if_any(self) -> None:
        """One InvalidInput naming the first problem and listing them all in `details.errors`."""
        if not self.items:
            return
        first = self.items[0]
        message = f"{first.message}."
        if len(self.items) > 1:
            message += f" (And {len(self.items) - 1} more problem{'s' if len(self.items) > 2 else ''}.)"
        raise InvalidInput(
            message,
            details={"field": first.field, "errors": [{"field": p.field, "message": p.message} for p in self.items]},
        )


# --- the PQS -------------------------------------------------------------------------------------


@transaction.atomic
def pqs_save_draft(*, actor: Any, application_id: int, fields: PqsFields) -> PqsSubmission:
    """Save the PQS form as it stands (a draft may be incomplete). The first save starts the task."""
    application, task = _lock(actor, application_id)
    _check_may_edit(actor, application, task)
    values = _clean_pqs(fields)
    pqs = _pqs_for_update(application)
    before = pqs_values(pqs)
    for name, value in values.items():
        setattr(pqs, name, value)
    after = pqs_values(pqs)
    if before == after and pqs.pk is not None:
        return pqs
    _touch(pqs, actor)
    audit_record(
        actor=actor,
        action="pqs.save_draft",
        target=pqs,
        summary=f"Saved the draft PQS of {application.reference}",
        before=before,
        after=after,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    task_start_on_first_work(actor=actor, task=task)
    return pqs


# --- proposal items ------------------------------------------------------------------------------


@transaction.atomic
def reliance_item_add(
    *, actor: Any, application_id: int, fields: ItemFields, uploads: Sequence[Any] = ()
) -> RelianceProposalItem:
    """Add an item to the placing-reliance proposal, with evidence files uploaded now or already stored."""
    application, task = _lock(actor, application_id)
    _check_may_edit(actor, application, task)
    values, evidence = _clean_item(application, fields, uploads=uploads, current=[])
    pqs = _pqs_for_update(application)
    if pqs.pk is not None and pqs.items.count() >= MAX_ITEMS:
        raise InvalidInput(f"A proposal may have at most {MAX_ITEMS} items.", details={"field": "items"})
    _touch(pqs, actor)
    item = RelianceProposalItem.objects.create(pqs=pqs, **values)
    item.evidence.set(evidence + _store_uploads(actor, application, item, uploads))
    audit_record(
        actor=actor,
        action="pqs.item.add",
        target=item,
        summary=f"Added “{item.title}” to the placing-reliance proposal of {application.reference}",
        after=item_values(item),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    task_start_on_first_work(actor=actor, task=task)
    return item


@transaction.atomic
def reliance_item_update(
    *, actor: Any, application_id: int, item_id: int, fields: ItemFields, uploads: Sequence[Any] = ()
) -> RelianceProposalItem:
    """Change an item. An item the Code Bodies have decided on is marked as changed: its decision is
    reset when the PQS is submitted again."""
    application, task = _lock(actor, application_id)
    item = _item_for_update(application, item_id)
    _check_may_edit(actor, application, task)
    current = list(item.evidence.all())
    values, evidence = _clean_item(application, fields, uploads=uploads, current=current)
    before = item_values(item)
    for name, value in values.items():
        setattr(item, name, value)
    new_files = _store_uploads(actor, application, item, uploads)
    item.evidence.set(evidence + new_files)
    after = item_values(item)
    if before == after:
        return item
    if item.decision != ItemDecision.PENDING:
        item.changed_since_decision = True
    item.save()
    _touch(_pqs_for_update(application), actor)
    audit_record(
        actor=actor,
        action="pqs.item.update",
        target=item,
        summary=f"Changed “{item.title}” in the placing-reliance proposal of {application.reference}",
        before=before,
        after=after,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return item


@transaction.atomic
def reliance_item_remove(*, actor: Any, application_id: int, item_id: int) -> None:
    """Remove an item from the proposal. Its evidence files stay with the application."""
    application, task = _lock(actor, application_id)
    item = _item_for_update(application, item_id)
    _check_may_edit(actor, application, task)
    before = item_values(item)
    title = item.title
    item_pk = item.pk
    item.delete()
    _touch(_pqs_for_update(application), actor)
    audit_record(
        actor=actor,
        action="pqs.item.remove",
        target=RelianceProposalItem(pk=item_pk),
        summary=f"Removed “{title}” from the placing-reliance proposal of {application.reference}",
        before=before,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )


@transaction.atomic
def reliance_item_decide(
    *, actor: Any, application_id: int, item_id: int, decision: str, reason: str = ""
) -> RelianceProposalItem:
    """A Code Body's decision on one item, while the PQS is submitted: accepted, rejected or changes
    requested (the last two with a reason)."""
    application, task = _lock(actor, application_id)
    item = _item_for_update(application, item_id)
    if not may_decide_role(actor, task):
        raise PermissionDenied("Only the Code Bodies can decide on the items of a placing-reliance proposal.")
    _check_open(application)
    if task.state not in DECIDABLE_STATES:
        raise InvalidTransition(
            f"The PQS is {TaskState(task.state).label.lower()}: its items can be decided on only while it is "
            "submitted for review.",
            details={"state": task.state},
        )
    offered = [d for d in ItemDecision.values if d != ItemDecision.PENDING]
    if decision not in offered:
        raise InvalidInput(
            "Choose whether to accept the item, reject it or ask for changes.", details={"field": "decision"}
        )
    reason = _text(reason, name="reason", label="The reason", limit=MAX_TEXT)
    if decision in DECISIONS_NEEDING_REASON and not reason:
        raise InvalidInput(
            "Enter the reason for rejecting the item"
            if decision == ItemDecision.REJECTED
            else "Enter the changes the participant must make to the item",
            details={"field": "reason"},
        )
    before = {"decision": item.decision, "reason": item.decision_reason}
    item.decision = decision
    item.decision_reason = reason
    item.decided_by = actor
    item.decided_at = timezone.now()
    item.changed_since_decision = False
    item.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at", "changed_since_decision"])
    audit_record(
        actor=actor,
        action="pqs.item.decide",
        target=item,
        summary=f"{ItemDecision(decision).label}: “{item.title}” in the placing-reliance proposal of "
        f"{application.reference}",
        before=before,
        after={"decision": item.decision, "reason": reason},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return item


# --- guards and effects on the `pqs` task ---------------------------------------------------------


def guard_submit(context: TransitionContext) -> None:
    """Submitting needs a complete PQS; on a route where the PQS exists for placing reliance, at least
    one item of testing relied on."""
    application = context.application
    pqs = PqsSubmission.objects.select_related("preferred_wave").filter(application=application).first()
    relied_on = pqs.items.filter(relied_on=True).count() if pqs is not None else 0
    missing = missing_fields(
        pqs_values(pqs) if pqs is not None else None,
        wave_active=bool(pqs and pqs.preferred_wave and pqs.preferred_wave.is_active),
        relied_on_items=relied_on,
        reliance_needed=reliance_required(application.route.code),
    )
    if missing:
        raise InvalidInput(
            describe_missing(missing),
            details={"missing": [{"field": m.field, "message": m.message} for m in missing]},
        )


def guard_accept(context: TransitionContext) -> None:
    """Accepting the PQS needs a decision on every item, and none of them "changes requested"."""
    items = list(RelianceProposalItem.objects.filter(pqs__application=context.application).order_by("id"))
    pending = [i for i in items if i.decision == ItemDecision.PENDING]
    changes = [i for i in items if i.decision == ItemDecision.CHANGES_REQUESTED]
    if not pending and not changes:
        return
    parts = []
    if pending:
        parts.append(f"{_count(len(pending), 'item')} still {'awaits' if len(pending) == 1 else 'await'} a decision")
    if changes:
        parts.append(f"{_count(len(changes), 'item')} {'has' if len(changes) == 1 else 'have'} changes requested")
    message = f"The PQS cannot be accepted yet: {' and '.join(parts)}."
    if changes:
        message += " Request changes to send it back to the participant."
    raise InvalidTransition(
        message, details={"pending": [i.pk for i in pending], "changes_requested": [i.pk for i in changes]}
    )


def guard_request_changes(context: TransitionContext) -> None:
    """Sending the PQS back needs something to change: an item marked "changes requested", or a comment."""
    if context.comment.strip():
        return
    if RelianceProposalItem.objects.filter(
        pqs__application=context.application, decision=ItemDecision.CHANGES_REQUESTED
    ).exists():
        return
    raise InvalidInput(
        "Say what must change: ask for changes on a proposal item, or write a comment.", details={"field": "comment"}
    )


def effect_submit(context: TransitionContext) -> None:
    """Freeze what was submitted as a new version; items changed since the Code Bodies decided on them
    go back to awaiting a decision."""
    application = context.application
    pqs = PqsSubmission.objects.select_for_update().get(application=application)
    items = list(pqs.items.select_for_update().order_by("id"))
    reset = []
    for item in items:
        if item.changed_since_decision and item.decision != ItemDecision.PENDING:
            reset.append({"id": item.pk, "title": item.title, "was": item.decision})
            item.decision = ItemDecision.PENDING
            item.decision_reason = ""
            item.decided_by = None
            item.decided_at = None
        item.changed_since_decision = False
        item.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at", "changed_since_decision"])
    pqs.version += 1
    pqs.status = PqsStatus.SUBMITTED
    pqs.submitted_at = timezone.now()
    pqs.submitted_by = context.actor
    pqs.save(update_fields=["version", "status", "submitted_at", "submitted_by", "updated_at"])
    content = {"pqs": pqs_values(pqs), "items": [item_values(i) for i in items]}
    PqsVersion.objects.create(
        pqs=pqs, number=pqs.version, content=content, submitted_at=pqs.submitted_at, submitted_by=context.actor
    )
    audit_record(
        actor=context.actor,
        action="pqs.submit",
        target=pqs,
        summary=f"Version {pqs.version} of the PQS of {application.reference} submitted"
        + (f"; {_count(len(reset), 'changed item')} to decide again" if reset else ""),
        after={"version": pqs.version, "items": len(items), "decisions_reset": reset},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )


def effect_request_changes(context: TransitionContext) -> None:
    """Back to the participant: the PQS is a draft again, and they are told the decision on each item."""
    PqsSubmission.objects.filter(application=context.application).update(
        status=PqsStatus.DRAFT, updated_at=timezone.now()
    )
    _notify_decisions(context, heading="The Code Bodies asked for changes to your PQS")


def effect_accept(context: TransitionContext) -> None:
    _notify_decisions(context, heading="The Code Bodies accepted your PQS")


# --- internals -----------------------------------------------------------------------------------


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    """Lock the application and its `pqs` task, or answer NotFound when the application is missing,
    not the actor's to see, or has no PQS on its route."""
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=PQS_TASK,
        missing="This application has no Pre-Qualification Submission: its route does not include one.",
    )


def _check_open(application: Application) -> None:
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )


def _check_may_edit(actor: Any, application: Application, task: Task) -> None:
    if not may_edit_role(actor, task):
        raise PermissionDenied(
            f"Only a member of {application.organisation.name} can change its Pre-Qualification Submission."
        )
    _check_open(application)
    if task.state not in EDITABLE_STATES:
        state = TaskState(task.state)
        why = {
            TaskState.SUBMITTED: "the Code Bodies are reviewing it",
            TaskState.COMPLETED: "the Code Bodies have accepted it",
            TaskState.NOT_REQUIRED: "it is not required for this application",
        }.get(state, "")
        raise InvalidTransition(
            f"The PQS is {state.label.lower()}{': ' + why if why else ''}, so it cannot be changed now.",
            details={"state": task.state},
        )


def _pqs_for_update(application: Application) -> PqsSubmission:
    """The application's PQS, locked; a new unsaved one when it has none yet."""
    pqs = PqsSubmission.objects.select_for_update().filter(application=application).first()
    if pqs is None:
        pqs = PqsSubmission(application=application)
    return pqs


def _touch(pqs: PqsSubmission, actor: Any) -> None:
    """Record who changed the PQS last. A PQS changed after it was submitted (sent back, or its task
    reopened) is a draft again until it is next submitted."""
    pqs.updated_by = actor
    if pqs.status == PqsStatus.SUBMITTED:
        pqs.status = PqsStatus.DRAFT
    pqs.save()


def _item_for_update(application: Application, item_id: int) -> RelianceProposalItem:
    item = (
        RelianceProposalItem.objects.select_for_update()
        .filter(pk=item_id, pqs__application=application)
        .select_related("pqs")
        .first()
    )
    if item is None:
        raise NotFound("That placing-reliance proposal has no such item.")
    return item


def _text(value: Any, *, name: str, label: str, limit: int, problems: _Problems | None = None) -> str:
    """Text a user wrote: trimmed, at most `limit` characters, no control characters but line breaks
    and tabs. With `problems`, a problem is collected (and "" returned); without, it is raised."""
    text = str(value or "").strip()
    message = ""
    if len(text) > limit:
        message = f"{label} must be {limit} characters or fewer"
    elif any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in text):
        message = f"{label} contains control characters: remove them"
    if not message:
        return text
    if problems is None:
        raise InvalidInput(f"{message}.", details={"field": name})
    problems.add(name, message)
    return ""


def _clean_pqs(fields: PqsFields) -> dict[str, Any]:
    problems = _Problems()
    values: dict[str, Any] = {}
    wave = None
    if fields.preferred_wave:
        code = str(fields.preferred_wave)
        wave = Wave.objects.filter(code=code, is_active=True).first() if WAVE_CODE.match(code) else None
        if wave is None:
            problems.add("preferred_wave", "Select a wave from the list")
    values["preferred_wave"] = wave
    values["pit_approach"] = _text(
        fields.pit_approach, name="pit_approach", label="The PIT approach", limit=MAX_TEXT, problems=problems
    )
    values["qt_approach"] = _text(
        fields.qt_approach, name="qt_approach", label="The QT approach", limit=MAX_TEXT, problems=problems
    )
    values["supplier_hub_relationships"] = _text(
        fields.supplier_hub_relationships,
        name="supplier_hub_relationships",
        label="The supplier-hub relationships",
        limit=MAX_TEXT,
        problems=problems,
    )
    dates = {
        "pit_start_date": fields.pit_start_date,
        "pit_completion_date": fields.pit_completion_date,
        "qt_start_date": fields.qt_start_date,
        "qt_completion_date": fields.qt_completion_date,
        "target_migration_date": fields.target_migration_date,
    }
    for problem in date_problems(dates):
        problems.add(problem.field, problem.message)
    values.update(dates)
    problems.raise_if_any()
    # Keep the form's order: the wave first, then PIT, QT, migration and the supplier hub.
    order = (
        "preferred_wave",
        "pit_approach",
        "pit_start_date",
        "pit_completion_date",
        "qt_approach",
        "qt_start_date",
        "qt_completion_date",
        "target_migration_date",
        "supplier_hub_relationships",
    )
    return {name: values[name] for name in order}


def _clean_item(
    application: Application, fields: ItemFields, *, uploads: Sequence[Any], current: list[EvidenceFile]
) -> tuple[dict[str, Any], list[EvidenceFile]]:
    problems = _Problems()
    title = _text(fields.title, name="title", label="The title", limit=MAX_SHORT_TEXT, problems=problems)
    if not title and not any(p.field == "title" for p in problems.items):
        problems.add("title", "Enter what the testing covers")
    if fields.relied_on is None:
        problems.add("relied_on", "Select whether you rely on this testing")
    relied_on = bool(fields.relied_on)
    if fields.scope not in RelianceScope.values:
        problems.add("scope", "Select whether the item is about test scenarios or test cases")
    identifiers: list[str] = []
    try:
        identifiers = parse_identifiers(fields.identifiers)
    except IdentifierError as exc:
        problems.add("identifiers", str(exc))
    provider_kind = str(fields.provider_kind or "")
    if provider_kind and provider_kind not in TestingProvider.values:
        problems.add("provider_kind", "Select whose testing it is from the list")
        provider_kind = ""
    elif relied_on and not provider_kind:
        problems.add("provider_kind", "Select whose testing you rely on")
    provider_name = _text(
        fields.provider_name, name="provider_name", label="The name", limit=MAX_SHORT_TEXT, problems=problems
    )
    if relied_on and not provider_name and not any(p.field == "provider_name" for p in problems.items):
        problems.add("provider_name", "Enter the name of the vendor or party whose testing you rely on")
    artefacts = _text(fields.artefacts, name="artefacts", label="The artefacts", limit=MAX_TEXT, problems=problems)
    rationale = _text(fields.rationale, name="rationale", label="The rationale", limit=MAX_TEXT, problems=problems)
    if not rationale and not any(p.field == "rationale" for p in problems.items):
        problems.add(
            "rationale",
            "Explain why the testing can be relied on" if relied_on else "Explain why this testing is not relied on",
        )
    evidence = current
    if fields.evidence_ids is not None:
        wanted = list(dict.fromkeys(int(i) for i in fields.evidence_ids))
        valid = [i for i in wanted if 1 <= i <= MAX_ID]
        evidence = list(EvidenceFile.objects.filter(pk__in=valid, application=application).order_by("id"))
        if len(evidence) != len(wanted):
            problems.add("evidence_ids", "Link only evidence files uploaded to this application")
    if len(evidence) + len(uploads) > MAX_EVIDENCE_PER_ITEM:
        problems.add("evidence", f"An item may have at most {MAX_EVIDENCE_PER_ITEM} evidence files")
    problems.raise_if_any()
    values = {
        "title": title,
        "scope": fields.scope,
        "identifiers": identifiers,
        "relied_on": relied_on,
        "provider_kind": provider_kind,
        "provider_name": provider_name,
        "artefacts": artefacts,
        "rationale": rationale,
    }
    return values, evidence


def _store_uploads(
    actor: Any, application: Application, item: RelianceProposalItem, uploads: Sequence[Any]
) -> list[EvidenceFile]:
    return [
        evidence_store(actor=actor, application=application, upload=upload, purpose=f"pqs:item:{item.pk}")
        for upload in uploads
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _notify_decisions(context: TransitionContext, *, heading: str) -> None:
    """One message to the participant listing the Code Bodies' decision on every proposal item."""
    application = context.application
    items = list(RelianceProposalItem.objects.filter(pqs__application=application).order_by("id"))
    if not items:
        return
    lines = []
    for item in items:
        line = f"- {item.title}: {ItemDecision(item.decision).label}"
        if item.decision_reason:
            line += f" ({item.decision_reason})"
        lines.append(line)
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Placing-reliance decisions: {application.reference}",
        body=f"{heading} ({application.reference}, {application.mpid.code} as {application.market_role.name}).\n\n"
        "The decision on each item of your placing-reliance proposal:\n" + "\n".join(lines),
        link=f"/applications/{application.pk}/pqs/",
        application=application,
        exclude=context.actor,
    )
