"""Writing and verifying the audit chain. `audit_record` is called only from services, inside the
transaction of the change it describes."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.audit.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def event_digest(
    *,
    sequence: int,
    occurred_at: str,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    organisation_id: int | None,
    application_id: int | None,
    summary: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    prev_hash: str,
) -> str:
    payload = _canonical(
        {
            "sequence": sequence,
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "organisation_id": organisation_id,
            "application_id": application_id,
            "summary": summary,
            "before": before,
            "after": after,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _digest_of(event: AuditEvent) -> str:
    return event_digest(
        sequence=event.sequence,
        occurred_at=event.occurred_at.isoformat(),
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        organisation_id=event.organisation_id,
        application_id=event.application_id,
        summary=event.summary,
        before=event.before,
        after=event.after,
        prev_hash=event.prev_hash,
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    target: Any,
    summary: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    organisation_id: int | None = None,
    application_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change it records")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_label = getattr(actor, "email", "") if actor_id else "system"
    # JSON round-trip so the stored values and the hashed values are the same (dates become strings).
    before_data = json.loads(_canonical(before or {}))
    after_data = json.loads(_canonical(after or {}))
    # Microseconds are dropped because not every database keeps them the same way.
    occurred_at = timezone.now().replace(microsecond=0)
    event = AuditEvent(
        sequence=head.last_sequence + 1,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target._meta.label_lower if hasattr(target, "_meta") else str(type(target).__name__),
        target_id=str(getattr(target, "pk", target)),
        organisation_id=organisation_id,
        application_id=application_id,
        summary=summary[:500],
        before=before_data,
        after=after_data,
        prev_hash=head.last_hash,
    )
    event.hash = _digest_of(event)
    event.save(force_insert=True)
    head.last_sequence = event.sequence
    head.last_hash = event.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def audit_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first broken link."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events: Iterable[AuditEvent] = AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size)
    for event in events:
        if event.sequence != expected_sequence:
            return ChainReport(False, checked, expected_sequence, f"event #{expected_sequence} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.sequence, "its previous-hash link does not match")
        if _digest_of(event) != event.hash:
            return ChainReport(False, checked, event.sequence, "its content does not match its hash")
        expected_prev = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None:
        # The head is written with the first event: events without it mean it was removed.
        if checked:
            return ChainReport(False, checked - 1, checked, "the chain head recording it as the last event is missing")
    elif head.last_sequence > checked:
        return ChainReport(False, checked, checked + 1, "events at the end of the chain are missing")
    elif head.last_sequence < checked:
        return ChainReport(
            False, head.last_sequence, head.last_sequence + 1, "it was added after the chain head's last event"
        )
    elif head.last_hash != expected_prev:
        return ChainReport(False, checked - 1, checked, "it is not the last event the chain head recorded")
    return ChainReport(True, checked)
