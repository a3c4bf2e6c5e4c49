"""Every way of changing the audit log behind the services' back is detected.

Each hashed field edited in turn, events deleted at the start, middle and end, two events swapped,
and the two changes that leave an internally consistent chain (the tail cut off with the chain head
moved back, and the history rewritten with every hash recomputed) which only an external copy of the
head (`manage.py audit_head export`, `verify_audit --against`) can reveal. On PostgreSQL the table
itself refuses UPDATE and DELETE."""

import hashlib
import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit import services
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.services import (
    GENESIS_HASH,
    ChainAnchor,
    _digest_of,
    audit_record,
    audit_verify,
    event_digest,
)
from portal.audit.tests.tampering import raw_sql
from portal.factories import UserFactory

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def events() -> list[AuditEvent]:
    """Twelve events with every kind of content: an actor and none, organisation and application ids,
    nested before/after values, dates and non-ASCII text."""
    people = [UserFactory(email=f"person{i}@example.test") for i in range(3)]
    with transaction.atomic():
        for i in range(12):
            audit_record(
                actor=people[i % 3] if i % 4 else None,
                action=f"test.step{i % 5}",
                target=people[i % 3],
                summary=f"Step {i}: Prüfung ✓ — “quoted” text",
                before={"state": "draft", "n": i, "nested": {"list": [1, 2.5, None, True]}},
                after={"state": "submitted", "on": date(2026, 3, 1 + i), "note": "ünïcode"},
                organisation_id=100 + i if i % 2 else None,
                application_id=200 + i if i % 3 else None,
            )
    chain = list(AuditEvent.objects.order_by("sequence"))
    assert len(chain) == 12 and audit_verify().ok
    return chain


def _update(sequence: int, column: str, value: Any) -> None:
    raw_sql(f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s", [value, sequence])  # noqa: S608


def _other_value(event: AuditEvent, field: str) -> Any:
    """A different, well-formed value for `field`, as the database column takes it."""
    if field == "occurred_at":
        return connection.ops.adapt_datetimefield_value(event.occurred_at + timedelta(seconds=1))
    if field == "actor_id":
        return UserFactory.create(email="forger@example.test").pk
    if field in {"organisation_id", "application_id"}:
        return (getattr(event, field) or 0) + 1000
    if field in {"before", "after"}:
        return json.dumps({**getattr(event, field), "state": "approved"})
    if field in {"prev_hash", "hash"}:
        return "f" * 64
    if field == "sequence":
        return 10_000
    return getattr(event, field) + " (changed)"


HASHED_FIELDS = [
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
    "prev_hash",
    "hash",
]


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_editing_any_hashed_field_of_an_event_is_detected_at_that_event(events, field):
    n = 6
    _update(n, field, _other_value(events[n - 1], field))

    report = audit_verify()

    assert not report.ok
    assert report.broken_at == n
    assert report.checked == n - 1
    expected = {
        "sequence": f"event #{n} is missing",
        "prev_hash": "its previous-hash link does not match",
    }.get(field, "its content does not match its hash")
    assert report.reason == expected


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_deleting_an_event_is_detected(events, where):
    n = {"first": 1, "middle": 6, "last": 12}[where]
    raw_sql("DELETE FROM audit_auditevent WHERE sequence = %s", [n])

    report = audit_verify()

    assert not report.ok and report.broken_at == n


@pytest.mark.parametrize(("i", "j"), [(1, 2), (3, 9), (11, 12)])
def test_swapping_two_events_is_detected_at_the_first_of_them(events, i, j):
    raw_sql("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [99_999, i])
    raw_sql("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [i, j])
    raw_sql("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [j, 99_999])

    report = audit_verify()

    assert not report.ok
    assert (report.broken_at, report.reason) == (i, "its previous-hash link does not match")


@pytest.mark.skipif(ON_POSTGRESQL, reason="PostgreSQL's jsonb keeps no formatting to change")
def test_stored_json_laid_out_differently_is_the_same_content(events):
    """What is hashed is the value, not the stored text: white space around it changes nothing (and the
    database refuses text that is not JSON at all)."""
    raw_sql("UPDATE audit_auditevent SET after = ' ' || after || char(10) WHERE sequence = %s", [5])

    assert audit_verify().ok


def test_verification_streams_rows_in_batches(events, django_assert_max_num_queries):
    """Batches of rows as tuples: a batch size of 5 reads 12 events in 3 queries, plus the head."""
    with django_assert_max_num_queries(5):
        report = audit_verify(batch_size=5)
    assert report.ok and report.checked == 12
    assert (report.last_sequence, report.last_hash) == (12, events[-1].hash)


def test_events_appended_while_the_chain_is_walked_are_not_mistaken_for_tampering(events, monkeypatch):
    walk = services._Walk.run
    appended: list[AuditEvent] = []

    def walk_then_append(self: Any, batch_size: int) -> Any:
        result = walk(self, batch_size)
        if not appended:  # another request commits an event after the walk's last batch
            with transaction.atomic():
                appended.append(audit_record(actor=None, action="test.late", target=events[0]))
        return result

    monkeypatch.setattr(services._Walk, "run", walk_then_append)

    report = audit_verify()

    assert report.ok and report.checked == 13 and report.last_hash == appended[0].hash


# --- the chain head kept outside the database ----------------------------------------------------


def _export(path: Path) -> dict[str, Any]:
    err = StringIO()
    call_command("audit_head", "export", "--output", str(path), stderr=err)
    assert f"written to {path}" in err.getvalue()
    return json.loads(path.read_text())


def _verify_against(*paths: Path) -> str:
    out = StringIO()
    call_command("verify_audit", *[arg for path in paths for arg in ("--against", str(path))], stdout=out)
    return out.getvalue()


def test_the_head_is_exported_and_a_longer_chain_still_holds_it(events, tmp_path):
    head = _export(tmp_path / "head.json")

    assert head["format"] == "mhhs-portal-audit-head/1"
    assert (head["sequence"], head["hash"], head["event_count"]) == (12, events[-1].hash, 12)
    assert head["last_event_at"] == events[-1].occurred_at.isoformat()
    assert head["exported_at"].endswith("+00:00")
    with transaction.atomic():
        audit_record(actor=None, action="test.later", target=events[0])

    output = _verify_against(tmp_path / "head.json")

    assert "Audit chain intact: 13 events verified." in output
    assert f"It holds the exported head: event #12 with hash {events[-1].hash}." in output


def test_the_head_printed_without_an_output_file(events):
    out = StringIO()
    call_command("audit_head", "export", stdout=out)
    assert ChainAnchor.from_json(out.getvalue()).hash == events[-1].hash


def test_the_head_of_an_empty_chain_is_held_by_any_chain(tmp_path):
    head = _export(tmp_path / "empty.json")
    assert (head["sequence"], head["hash"], head["event_count"]) == (0, GENESIS_HASH, 0)
    with transaction.atomic():
        audit_record(actor=None, action="test.first", target=UserFactory())
    assert "1 events verified" in _verify_against(tmp_path / "empty.json")


def test_a_tail_cut_off_with_the_head_moved_back_is_caught_only_by_the_exported_head(events, tmp_path):
    _export(tmp_path / "head.json")
    raw_sql("DELETE FROM audit_auditevent WHERE sequence > %s", [9])
    AuditChainHead.objects.filter(id=1).update(last_sequence=9, last_hash=events[8].hash)

    assert audit_verify().ok  # consistent in itself: the database alone cannot tell
    with pytest.raises(CommandError) as refused:
        _verify_against(tmp_path / "head.json")

    message = str(refused.value)
    assert message.startswith("Audit chain broken at event #10: the chain ends at event #9, but the external")
    assert "records event #12: events at the end were removed" in message


def test_history_rewritten_with_every_hash_recomputed_is_caught_only_by_the_exported_head(events, tmp_path):
    older = _export(tmp_path / "older.json")
    with transaction.atomic():
        audit_record(actor=None, action="test.more", target=events[0])
    _export(tmp_path / "newer.json")
    # The forger edits event 5 and recomputes its hash and every later hash and link, and the head.
    forged = list(AuditEvent.objects.order_by("sequence"))
    forged[4].summary = "Nothing to see here."
    for index in range(4, len(forged)):
        forged[index].prev_hash = forged[index - 1].hash
        forged[index].hash = _digest_of(forged[index])
        raw_sql(
            "UPDATE audit_auditevent SET summary = %s, prev_hash = %s, hash = %s WHERE sequence = %s",
            [forged[index].summary, forged[index].prev_hash, forged[index].hash, forged[index].sequence],
        )
    AuditChainHead.objects.filter(id=1).update(last_sequence=len(forged), last_hash=forged[-1].hash)
    assert audit_verify().ok

    with pytest.raises(CommandError) as refused:
        _verify_against(tmp_path / "newer.json", tmp_path / "older.json")

    # The earliest anchor that the rewrite reached is the one reported.
    assert f"Audit chain broken at event #{older['sequence']}: it differs from the external copy" in str(refused.value)
    assert "the history up to it was rewritten" in str(refused.value)


def test_a_broken_chain_is_not_exported(events, tmp_path):
    _update(3, "summary", "changed")

    with pytest.raises(CommandError, match="Not exported: the audit chain is broken at event #3"):
        call_command("audit_head", "export", "--output", str(tmp_path / "head.json"))

    assert not (tmp_path / "head.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read the chain head"),
        ("not json", "it is not JSON"),
        ('{"sequence": 3, "hash": "ab"}', "it is not an exported audit chain head"),
        ('{"format": "mhhs-portal-audit-head/1", "sequence": -1, "hash": "' + "a" * 64 + '"}', '"sequence" must'),
        ('{"format": "mhhs-portal-audit-head/1", "sequence": 1, "hash": "' + "A" * 64 + '"}', '"hash" must be 64'),
    ],
    ids=["missing", "not-json", "not-a-head", "bad-sequence", "bad-hash"],
)
def test_an_unusable_head_file_is_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "head.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(CommandError, match=message):
        _verify_against(path)


def test_a_head_from_another_chain_is_refused(events, tmp_path):
    (tmp_path / "other.json").write_text(ChainAnchor(sequence=4, hash="a" * 64).to_json())

    with pytest.raises(CommandError, match="Audit chain broken at event #4: it differs from the external copy"):
        _verify_against(tmp_path / "other.json")


# --- the hashed form ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(),
    before=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    after=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    number=st.none() | st.integers(min_value=0, max_value=2**62),
)
def test_the_hashed_form_has_not_changed(text, before, after, number):
    """The reused encoder gives the bytes ADR 0004 defines, so every event already stored still verifies."""
    fields = {
        "sequence": 7,
        "occurred_at": "2026-03-01T09:30:00+00:00",
        "actor_id": number,
        "actor_label": text,
        "action": text[:100],
        "target_type": "x",
        "target_id": text[:64],
        "organisation_id": number,
        "application_id": None,
        "summary": text,
        "before": before,
        "after": after,
        "prev_hash": GENESIS_HASH,
    }
    reference = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    # The verifier's decoder and encoder, used directly for speed, give the same bytes.
    stored = {key: services._decode_stored(json.dumps(value)) for key, value in fields.items()}
    assert services._encode_verified(stored) == reference
    assert event_digest(**fields) == hashlib.sha256(reference.encode()).hexdigest()


# --- the database itself -------------------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no trigger the application cannot bypass; the chain detects")
def test_postgresql_holds_the_append_only_trigger(events):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = 'audit_auditevent' AND t.tgname = 'audit_event_no_update_delete'"
        )
        enabled, definition = cursor.fetchone()
    assert enabled == "O"  # fires for ordinary sessions
    assert "BEFORE DELETE OR UPDATE ON public.audit_auditevent FOR EACH ROW" in definition


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no trigger the application cannot bypass; the chain detects")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET summary = 'changed' WHERE sequence = 2",
        "UPDATE audit_auditevent SET sequence = sequence + 100",
        "DELETE FROM audit_auditevent WHERE sequence = 12",
        "DELETE FROM audit_auditevent",
    ],
    ids=["update-one", "update-all", "delete-last", "delete-all"],
)
def test_postgresql_refuses_raw_sql_update_and_delete(events, statement):
    with (
        pytest.raises(ProgrammingError, match="audit events are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert audit_verify().ok
    assert list(AuditEvent.objects.order_by("sequence").values_list("hash", flat=True)) == [e.hash for e in events]
