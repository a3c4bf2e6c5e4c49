"""Writing and verifying the audit chain. `audit_record` is called only from services, inside the
transaction of the change it describes.

`audit_verify` walks the chain; given anchors (external copies of the chain head, exported with
`manage.py audit_head export`) it also proves that the chain still holds each anchored event, so that a
chain rewritten from some point onwards, or cut short at the end, is detected too."""

import hashlib
import ipaddress
import json
import json.scanner
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.request_context import current_request_origin

GENESIS_HASH = "0" * 64


# One encoder, made once: the same output as json.dumps(value, sort_keys=True, separators=(",", ":"),
# default=str, ensure_ascii=False), without building an encoder for every event.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
_canonical = _ENCODER.encode
_sha256 = hashlib.sha256
# For verifying, the C encoder behind it, called directly: the values come from JSON already, so they
# hold no cycles to look for and nothing to convert. The same bytes (see the tests).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encoder = (
    _c_make_encoder(None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    if _c_make_encoder is not None
    else None
)


_c_make_scanner = getattr(json.scanner, "c_make_scanner", None)
_scan = _c_make_scanner(json.JSONDecoder()) if _c_make_scanner is not None else None


def _decode_stored(text: str) -> Any:
    """JSON text as stored, decoded by the C scanner directly; anything but exactly one JSON value (say,
    text appended after it) raises, as json.loads would."""
    if _scan is not None:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            end = -1
        if end == len(text):
            return value
    return json.loads(text)


def _encode_verified(value: Any) -> str:
    if _c_encoder is None:
        return _canonical(value)
    return "".join(_c_encoder(value, 0))


def canonical_address(address: Any) -> str:
    """A client address in one written form, whatever form the database returns it in (PostgreSQL's
    `inet` and Django write some IPv6 addresses differently), so that the stored address verifies on
    every database. ValueError if it is not an address."""
    return str(ipaddress.ip_address(str(address)))


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
    client_address: str | None = None,
    request_id: str = "",
) -> str:
    """The SHA-256 of the event's canonical JSON content (ADR 0004). The client address and the request
    id are hashed only when the event has them: an event written before they were recorded, or outside
    a request, is hashed exactly as before, so every existing chain still verifies."""
    content: dict[str, Any] = {
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
    if client_address:
        content["client_address"] = canonical_address(client_address)
    if request_id:
        content["request_id"] = request_id
    return _sha256(_canonical(content).encode()).hexdigest()


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
        client_address=event.client_address,
        request_id=event.request_id,
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
    """Append one event to the chain. Must run inside the caller's transaction. Written while a web or
    API request is answered, the event also records the request's client address and request id."""
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
    origin = current_request_origin()
    client_address = origin.client_address if origin is not None else None
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
        client_address=canonical_address(client_address) if client_address else None,
        request_id=origin.request_id if origin is not None else "",
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
    """The outcome of a walk along the chain. `checked` events verified before `broken_at` (if any);
    `last_sequence` and `last_hash` are those of the last event verified."""

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""
    last_sequence: int = 0
    last_hash: str = GENESIS_HASH
    last_occurred_at: str = ""


ANCHOR_FORMAT = "mhhs-portal-audit-head/1"


@dataclass(frozen=True)
class ChainAnchor:
    """An external copy of the chain head (`manage.py audit_head export`): the event at `sequence` had
    `hash` when it was exported. A chain that no longer holds that event with that hash was cut short
    or rewritten, even if it is internally consistent again."""

    sequence: int
    hash: str
    event_count: int = 0
    last_event_at: str = ""
    exported_at: str = ""

    def to_json(self) -> str:
        data = {
            "format": ANCHOR_FORMAT,
            "sequence": self.sequence,
            "hash": self.hash,
            "event_count": self.event_count,
            "last_event_at": self.last_event_at,
            "exported_at": self.exported_at,
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ChainAnchor":
        """Read an exported head; ValueError says what is wrong with it."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"it is not JSON ({error})") from None
        if not isinstance(data, dict) or data.get("format") != ANCHOR_FORMAT:
            raise ValueError(f'it is not an exported audit chain head (expected "format": "{ANCHOR_FORMAT}")')
        sequence, digest = data.get("sequence"), data.get("hash")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise ValueError('"sequence" must be a whole number, 0 or more')
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError('"hash" must be 64 lower-case hexadecimal characters')
        return cls(
            sequence=sequence,
            hash=digest,
            event_count=int(data.get("event_count") or 0),
            last_event_at=str(data.get("last_event_at") or ""),
            exported_at=str(data.get("exported_at") or ""),
        )


# The columns of an event that the chain covers, in the order the verifier reads them; `hash` last.
# The client address and the request id are hashed only when they are not empty (`event_digest`).
CHAIN_COLUMNS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "organisation_id",
    "application_id",
    "summary",
    "before",
    "after",
    "client_address",
    "request_id",
    "prev_hash",
    "hash",
)


class _Walk:
    """The state of one walk along the chain, so that it can continue past events appended while it
    ran. Rows are read as tuples in keyset batches: no model instances, one query per batch."""

    def __init__(self, anchors: Sequence[ChainAnchor]) -> None:
        self.anchors = {anchor.sequence: anchor for anchor in anchors}
        self.checked = 0
        self.last_sequence = 0
        self.last_hash = GENESIS_HASH
        self.last_occurred_at = ""

    def failure(self, broken_at: int, reason: str) -> ChainReport:
        return ChainReport(
            False, self.checked, broken_at, reason, self.last_sequence, self.last_hash, self.last_occurred_at
        )

    def success(self) -> ChainReport:
        return ChainReport(True, self.checked, None, "", self.last_sequence, self.last_hash, self.last_occurred_at)

    def run(self, batch_size: int) -> ChainReport | None:
        """Walk every event after the last one verified; the report of the first broken one, or None."""
        encode, sha256, anchors, loads, utc_suffix = _encode_verified, _sha256, self.anchors, _decode_stored, "+00:00"
        expected_prev, expected_sequence = self.last_hash, self.last_sequence + 1
        occurred, query = "", _verify_query()
        with connection.cursor() as cursor:
            while True:
                cursor.execute(query, [expected_sequence - 1, batch_size])
                batch = cursor.fetchall()
                for row in batch:
                    sequence, occurred_at, prev_hash, stored_hash = row[0], row[1], row[14], row[15]
                    if sequence != expected_sequence:
                        return self.failure(expected_sequence, f"event #{expected_sequence} is missing")
                    if prev_hash != expected_prev:
                        return self.failure(sequence, "its previous-hash link does not match")
                    # As audit_record hashed it: the UTC time with its offset (stored without one on SQLite).
                    if type(occurred_at) is not datetime:
                        occurred_at = _as_datetime(occurred_at)
                    if occurred_at.tzinfo is None:
                        occurred = occurred_at.isoformat() + utc_suffix
                    else:
                        occurred = occurred_at.astimezone(UTC).isoformat()
                    before, after = row[10], row[11]
                    try:
                        before = loads(before) if type(before) is str else before
                        after = loads(after) if type(after) is str else after
                    except ValueError:
                        return self.failure(sequence, "its content does not match its hash")
                    content = {
                        "sequence": sequence,
                        "occurred_at": occurred,
                        "actor_id": row[2],
                        "actor_label": row[3],
                        "action": row[4],
                        "target_type": row[5],
                        "target_id": row[6],
                        "organisation_id": row[7],
                        "application_id": row[8],
                        "summary": row[9],
                        "before": before,
                        "after": after,
                        "prev_hash": prev_hash,
                    }
                    # As event_digest: the address and the request id only when the event has them.
                    client_address, request_id = row[12], row[13]
                    if client_address:
                        try:
                            content["client_address"] = canonical_address(client_address)
                        except ValueError:
                            return self.failure(sequence, "its content does not match its hash")
                    if request_id:
                        content["request_id"] = request_id
                    if sha256(encode(content).encode()).hexdigest() != stored_hash:
                        return self.failure(sequence, "its content does not match its hash")
                    if anchors and sequence in anchors and anchors[sequence].hash != stored_hash:
                        return self.failure(
                            sequence,
                            f"it differs from the external copy of the chain head exported "
                            f"{anchors[sequence].exported_at or 'earlier'}: the history up to it was rewritten",
                        )
                    expected_prev = stored_hash
                    expected_sequence += 1
                    self.checked += 1
                    self.last_sequence, self.last_hash, self.last_occurred_at = sequence, stored_hash, occurred
                if len(batch) < batch_size:
                    return None


def _verify_query() -> str:
    """One batch of rows as plain tuples, straight from the database cursor: no model instances and no
    field converters (the JSON text and the timestamp are read the way they were hashed)."""
    quote = connection.ops.quote_name
    column = {field.attname: quote(str(field.column)) for field in AuditEvent._meta.concrete_fields}
    columns = ", ".join(column[name] for name in CHAIN_COLUMNS)
    sequence = column["sequence"]
    return (
        f"SELECT {columns} FROM {quote(AuditEvent._meta.db_table)} WHERE {sequence} > %s "  # noqa: S608 - names from the model
        f"ORDER BY {sequence} LIMIT %s"
    )


def _as_datetime(value: Any) -> datetime:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed


def audit_verify(*, batch_size: int = 5000, anchors: Sequence[ChainAnchor] = ()) -> ChainReport:
    """Walk the whole chain in order and report the first broken link: a missing event, a previous-hash
    that does not match, content that does not match its hash, a chain head that does not record the
    last event, or an event that differs from (or no longer reaches) one of the `anchors`.

    Events appended while the walk runs are walked too: the walk is not fooled by a busy portal."""
    walk = _Walk(anchors)
    for _ in range(100):
        broken = walk.run(batch_size)
        if broken is not None:
            return broken
        head = AuditChainHead.objects.filter(id=1).values_list("last_sequence", "last_hash").first()
        # A writer adds its event and moves the head in one transaction: a head beyond the last event
        # walked, with events now beyond it, means they were appended during the walk.
        if (
            head is not None
            and head[0] > walk.last_sequence
            and AuditEvent.objects.filter(sequence__gt=walk.last_sequence).exists()
        ):
            continue
        break
    checked = walk.checked
    if head is None:
        # The head is written with the first event: events without it mean it was removed.
        if checked:
            return walk.failure(checked, "the chain head recording it as the last event is missing")
    elif head[0] > checked:
        return walk.failure(checked + 1, "events at the end of the chain are missing")
    elif head[0] < checked:
        return walk.failure(head[0] + 1, "it was added after the chain head's last event")
    elif head[1] != walk.last_hash:
        return walk.failure(checked, "it is not the last event the chain head recorded")
    for anchor in sorted(anchors, key=lambda a: a.sequence):
        if anchor.sequence > walk.last_sequence:
            return walk.failure(
                walk.last_sequence + 1,
                f"the chain ends at event #{walk.last_sequence}, but the external copy of the chain head "
                f"exported {anchor.exported_at or 'earlier'} records event #{anchor.sequence}: "
                "events at the end were removed",
            )
        if anchor.sequence == 0 and anchor.hash != GENESIS_HASH:
            return walk.failure(1, "the external copy of the chain head is not of this chain")
    return walk.success()


def audit_anchor(report: ChainReport) -> ChainAnchor:
    """The chain head as verified by `report`, to keep outside the database."""
    return ChainAnchor(
        sequence=report.last_sequence,
        hash=report.last_hash,
        event_count=report.checked,
        last_event_at=report.last_occurred_at,
        exported_at=timezone.now().replace(microsecond=0).isoformat(),
    )
