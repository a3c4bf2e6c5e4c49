"""The audit log is append-only and hash-chained: a journey leaves a chain that verifies; any edit or
deletion is detected and the first broken event named; on PostgreSQL the table refuses UPDATE and
DELETE outright."""

import json
from datetime import date
from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction

from portal.audit.management.commands.verify_audit import Command as VerifyAudit
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.services import GENESIS_HASH, _digest_of, audit_record, audit_verify
from portal.audit.tests.tampering import raw_sql
from portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(make_application, advance) -> list[AuditEvent]:
    """A few dozen real events: a SIT application walked to the end of testing."""
    advance(make_application(route="sit"), stop_before="final_qad")
    events = list(AuditEvent.objects.order_by("sequence"))
    assert len(events) >= 10
    return events


def verify_command() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_a_journey_leaves_a_chain_that_verifies(make_application, advance):
    application = advance(make_application(route="sit"))

    report = audit_verify()

    events = list(AuditEvent.objects.order_by("sequence"))
    assert report.ok and report.checked == len(events)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(_digest_of(e) == e.hash for e in events)
    head = AuditChainHead.objects.get()
    assert (head.last_sequence, head.last_hash) == (events[-1].sequence, events[-1].hash)
    assert {e.application_id for e in events} == {application.pk}
    assert f"Audit chain intact: {len(events)} events verified." in verify_command()


def test_an_empty_log_verifies():
    assert audit_verify().ok
    assert "0 events verified" in verify_command()


def test_events_are_written_only_inside_the_change_they_record(transactional_db):
    target = UserFactory()

    with pytest.raises(RuntimeError, match="inside the transaction of the change"):
        audit_record(actor=None, action="test.note", target=target)
    assert not AuditEvent.objects.exists()

    with transaction.atomic():
        event = audit_record(actor=None, action="test.note", target=target, summary="inside")
    assert (event.sequence, event.actor_label, event.target_type) == (1, "system", "accounts.user")
    assert audit_verify().ok


def test_before_and_after_are_stored_as_hashed(chain):
    """Values that are not JSON (dates) are stored as the same text that was hashed."""
    with transaction.atomic():
        event = audit_record(actor=None, action="test.note", target=chain[0], after={"on": date(2026, 3, 1)})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.after == {"on": "2026-03-01"}
    assert _digest_of(stored) == stored.hash


# --- tampering ---------------------------------------------------------------------------------


def _edit_summary(events: list[AuditEvent], n: int) -> int:
    raw_sql("UPDATE audit_auditevent SET summary = %s WHERE sequence = %s", ["Nothing happened here.", n])
    return n


def _edit_after(events: list[AuditEvent], n: int) -> int:
    after = {**events[n - 1].after, "status": "active", "tampered": True}
    raw_sql("UPDATE audit_auditevent SET after = %s WHERE sequence = %s", [json.dumps(after), n])
    return n


def _edit_actor_label(events: list[AuditEvent], n: int) -> int:
    raw_sql("UPDATE audit_auditevent SET actor_label = %s WHERE sequence = %s", ["someone.else@example.test", n])
    return n


def _edit_and_rehash(events: list[AuditEvent], n: int) -> int:
    """A careful forger recomputes the edited event's own hash: the next event's link breaks."""
    event = events[n - 1]
    event.summary = "Rewritten history."
    forged = _digest_of(event)
    raw_sql("UPDATE audit_auditevent SET summary = %s, hash = %s WHERE sequence = %s", [event.summary, forged, n])
    return n + 1


def _delete(events: list[AuditEvent], n: int) -> int:
    raw_sql("DELETE FROM audit_auditevent WHERE sequence = %s", [n])
    return n


TAMPERING = {
    "edited-summary": (_edit_summary, "its content does not match its hash"),
    "edited-after": (_edit_after, "its content does not match its hash"),
    "edited-actor": (_edit_actor_label, "its content does not match its hash"),
    "edited-and-rehashed": (_edit_and_rehash, "its previous-hash link does not match"),
    "deleted": (_delete, "is missing"),
}


@pytest.mark.parametrize("where", ["first", "middle"])
@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_detected_at_the_first_broken_event(chain, how, where):
    tamper, reason = TAMPERING[how]
    n = 1 if where == "first" else len(chain) // 2

    broken_at = tamper(chain, n)

    report = audit_verify()
    assert not report.ok
    assert report.broken_at == broken_at
    assert reason in report.reason
    assert report.checked == broken_at - 1
    with pytest.raises(CommandError, match=rf"Audit chain broken at event #{broken_at}: "):
        verify_command()


@pytest.mark.parametrize("how", ["edited-summary", "edited-and-rehashed", "deleted"])
def test_tampering_with_the_last_event_is_detected(chain, how):
    """The last event has no successor to break: the chain head remembers it."""
    tamper, _ = TAMPERING[how]
    last = len(chain)

    tamper(chain, last)

    report = audit_verify()
    assert not report.ok
    assert report.broken_at == last


def test_an_emptied_log_is_detected(chain):
    raw_sql("DELETE FROM audit_auditevent", [])

    report = audit_verify()

    assert not report.ok
    assert (report.broken_at, report.reason) == (1, "events at the end of the chain are missing")


def test_an_event_added_behind_the_services_back_is_detected(chain):
    """A forged event appended with a valid link, without the chain head knowing it."""
    last = chain[-1]
    forged = AuditEvent(
        sequence=last.sequence + 1,
        occurred_at=last.occurred_at,
        actor_label="system",
        action="application.create",
        target_type="qualification.application",
        target_id="1",
        summary="A forged event",
        prev_hash=last.hash,
    )
    forged.hash = _digest_of(forged)
    forged.save(force_insert=True)

    report = audit_verify()

    assert not report.ok
    assert report.broken_at == last.sequence + 1


def test_a_removed_chain_head_is_detected(chain):
    AuditChainHead.objects.all().delete()

    report = audit_verify()

    assert not report.ok
    assert report.broken_at == len(chain)


def test_the_command_exits_non_zero_and_names_the_event(chain, capsys):
    _edit_summary(chain, 3)

    with pytest.raises(SystemExit) as exited:
        VerifyAudit().run_from_argv(["manage.py", "verify_audit"])

    assert exited.value.code == 1
    assert "Audit chain broken at event #3: its content does not match its hash" in capsys.readouterr().err


# --- the database itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        ("UPDATE audit_auditevent SET summary = %s WHERE sequence = %s", ["Nothing happened here.", 2]),
        ("DELETE FROM audit_auditevent WHERE sequence = %s", [2]),
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_changes_to_events(chain, statement, params):
    """PostgreSQL refuses UPDATE and DELETE with a trigger; SQLite cannot refuse them, and there the
    hash chain detects the change instead."""
    if connection.vendor == "postgresql":
        with pytest.raises(ProgrammingError, match="audit events are append-only"), transaction.atomic():
            _execute(statement, params)
        assert audit_verify().ok
        assert AuditEvent.objects.get(sequence=2).summary == chain[1].summary
    else:
        _execute(statement, params)
        report = audit_verify()
        assert not report.ok and report.broken_at == 2


def test_the_orm_cannot_change_events_on_postgresql(chain):
    event = AuditEvent.objects.get(sequence=1)
    if connection.vendor == "postgresql":
        with pytest.raises(ProgrammingError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(summary="changed")
        with pytest.raises(ProgrammingError), transaction.atomic():
            event.delete()
        assert audit_verify().ok
    else:
        AuditEvent.objects.filter(pk=event.pk).update(summary="changed")
        assert audit_verify().broken_at == 1


def _execute(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
