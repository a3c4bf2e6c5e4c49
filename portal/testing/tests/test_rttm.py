"""An application's RTTM: its rows (every active requirement with its PIT tests, the required QT cases
that trace to it and its QAD reference), who may change it and when, the snapshots at the four
checkpoints and their comparison, and the matrix as a workbook, out and in."""

import hashlib
import json

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.qualification.models import Task
from portal.qualification.services import application_withdraw, task_transition
from portal.testing.catalogue_services import requirement_create, requirement_update
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import DipFlow, DipFlowOptOut, ImportStatus, Requirement, RttmEntry, RttmSnapshot
from portal.testing.rttm_selectors import rttm_matrix, rttm_snapshot_compare, rttm_workbook
from portal.testing.rttm_services import EntryInput, rttm_entries_update, rttm_entry_set, rttm_snapshot_capture
from portal.testing.testing_support import pit_complete_checklist
from portal.testing.tests.catalogue_support import (
    raw_xlsx,
    read_workbook,
    reason,
    run_import,
    sheet_xml,
    state,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pit_app(make_application):
    """A Supplier on the SIT route: PIT is with the participant at once."""
    return make_application(route="sit")


@pytest.fixture
def qt_app(make_application, advance):
    """A Supplier on the Non-SIT Supplier & Agent route whose Qualification Testing is about to start."""
    return advance(make_application(), stop_before="qt")


def task(application, code):
    return Task.objects.get(application=application, code=code)


def rows_by_requirement(matrix):
    return {row.requirement.identifier: row for row in matrix.rows}


# --- the matrix ----------------------------------------------------------------------------------


def test_every_active_requirement_with_its_required_cases(member, pit_app):
    matrix = rttm_matrix(user=member, application_id=pit_app.pk)
    assert matrix.total == Requirement.objects.filter(is_active=True).count()
    rows = rows_by_requirement(matrix)
    assert [c.label for c in rows["REQ-FUN-001"].qt_cases] == ["QTC-FUN-01-01 v1", "QTC-FUN-01-02 v1"]
    assert rows["REQ-FUN-001"].covered
    # QTC-FUN-01-06 (optional) traces REQ-FUN-010 too, but only required cases count.
    assert [c.identifier for c in rows["REQ-FUN-010"].qt_cases] == ["QTC-FUN-01-05"]
    # REQ-FUN-014 is traced only by optional cases for a Supplier; REQ-FUN-004 only by MEM cases.
    assert not rows["REQ-FUN-014"].covered and not rows["REQ-FUN-004"].covered
    assert rows["REQ-FUN-004"].traced_for == ("MOA / MEM",)  # why it is not covered
    assert rows["REQ-FUN-014"].traced_for == ("Data Service", "Supplier")
    assert not rows["REQ-OPS-003"].covered  # no QT case at all
    # Uncovered first.
    assert not matrix.rows[0].covered and matrix.rows[-1].covered
    assert matrix.uncovered_count == sum(1 for row in matrix.rows if not row.covered)
    assert matrix.can_edit and matrix.edit_task is not None and matrix.edit_task.code == "pit"
    assert [(c.checkpoint.value, c.allowed) for c in matrix.captures] == [
        ("pit_entry", True),
        ("pit_exit", True),
        ("qt_entry", False),
        ("qt_exit", False),
    ]


def test_a_pit_test_covers_a_requirement(member, pit_app):
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-014")
    rows = rows_by_requirement(rttm_matrix(user=member, application_id=pit_app.pk))
    assert rows["REQ-OPS-003"].covered and rows["REQ-OPS-003"].pit_tests == ["PIT-OPS-014"]


def test_an_opted_out_flow_takes_its_cases_out_of_the_matrix(member, pit_app):
    flow = DipFlow.objects.get(code="IF-003")
    DipFlowOptOut.objects.create(
        application=pit_app, flow=flow, reason="We do not reverse-migrate.", recorded_by=member
    )
    rows = rows_by_requirement(rttm_matrix(user=member, application_id=pit_app.pk))
    assert rows["REQ-MIG-005"].qt_cases == [] and not rows["REQ-MIG-005"].covered


def test_filters(member, pit_app):
    uncovered = rttm_matrix(user=member, application_id=pit_app.pk, show="uncovered")
    assert uncovered.rows and not any(row.covered for row in uncovered.rows)
    migration = rttm_matrix(user=member, application_id=pit_app.pk, area="migration")
    assert {row.requirement.area for row in migration.rows} == {"migration"}
    assert migration.total == uncovered.total  # the counts are of the whole matrix


def test_another_organisation_cannot_see_it(other_member, pit_app):
    with pytest.raises(NotFound):
        rttm_matrix(user=other_member, application_id=pit_app.pk)


def test_staff_see_it_but_may_not_change_it(staff, pit_app):
    matrix = rttm_matrix(user=staff(Role.PROGRAMME_ASSURANCE), application_id=pit_app.pk)
    assert not matrix.can_edit and not matrix.can_capture


# --- rows ----------------------------------------------------------------------------------------


def test_setting_a_row(member, pit_app):
    entry = rttm_entry_set(
        actor=member,
        application_id=pit_app.pk,
        requirement="req-fun-001",
        pit_tests="PIT-FUN-001; PIT-FUN-002\nPIT-FUN-001",
        qad_reference="3.1.2",
        note="Covered by the regression pack.",
    )
    assert entry is not None
    assert entry.pit_tests == "PIT-FUN-001, PIT-FUN-002" and entry.qad_reference == "3.1.2"
    assert task(pit_app, "pit").state == "in_progress"  # the first work starts the task
    event = AuditEvent.objects.get(action="rttm.entry.set")
    assert event.before == {"pit_tests": [], "qad_reference": "", "note": ""}
    assert event.after["pit_tests"] == ["PIT-FUN-001", "PIT-FUN-002"]
    assert event.application_id == pit_app.pk

    before = state()
    with pytest.raises(InvalidInput, match="Nothing changed"):
        rttm_entry_set(
            actor=member,
            application_id=pit_app.pk,
            requirement="REQ-FUN-001",
            pit_tests=["PIT-FUN-001", "PIT-FUN-002"],
            qad_reference="3.1.2",
            note="Covered by the regression pack.",
        )
    assert state() == before

    assert rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-FUN-001") is None
    assert not RttmEntry.objects.filter(application=pit_app).exists()
    assert AuditEvent.objects.filter(action="rttm.entry.clear").exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"pit_tests": "P" * 61}, "pit_tests", "60 characters or fewer"),
        ({"pit_tests": ", ".join(f"PIT-{n:05d}" for n in range(120))}, "pit_tests", "must fit in 1,000 characters"),
        ({"qad_reference": "4" * 201}, "qad_reference", "200 characters or fewer"),
        ({"qad_reference": "4.5\x1b[31m"}, "qad_reference", "control characters"),
        ({"note": "x" * 5001}, "note", "characters or fewer"),
    ],
)
def test_bad_rows_are_refused(member, pit_app, values, field, message):
    before = state()
    with pytest.raises(InvalidInput, match=message) as refused:
        rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-FUN-001", **values)
    assert refused.value.details["field"] == field
    assert state() == before


def test_unknown_and_retired_requirements_have_no_row(staff, member, pit_app):
    requirement_update(
        actor=staff(Role.TESTING_ASSURANCE),
        identifier="REQ-OPS-007",
        area="operational",
        text=Requirement.objects.get(identifier="REQ-OPS-007").text,
        is_active=False,
    )
    before = state()
    for identifier in ("REQ-NOPE-001", "REQ-OPS-007"):
        with pytest.raises(NotFound):
            rttm_entry_set(actor=member, application_id=pit_app.pk, requirement=identifier, pit_tests="PIT-1")
    assert state() == before
    assert "REQ-OPS-007" not in rows_by_requirement(rttm_matrix(user=member, application_id=pit_app.pk))


def test_who_may_change_the_rows(staff, member, other_member, pit_app):
    before = state()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        rttm_entry_set(
            actor=staff(Role.PROGRAMME_ASSURANCE), application_id=pit_app.pk, requirement="REQ-FUN-001", pit_tests="X"
        )
    with pytest.raises(NotFound):
        rttm_entry_set(actor=other_member, application_id=pit_app.pk, requirement="REQ-FUN-001", pit_tests="X")
    assert state() == before


def test_rows_are_frozen_once_pit_is_submitted_until_qt_is_with_the_participant(member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    before = state()
    with pytest.raises(InvalidTransition, match="only while Pre-Integration Testing or Qualification Testing"):
        rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-FUN-001", pit_tests="X")
    assert state() == before
    assert not rttm_matrix(user=member, application_id=pit_app.pk).can_edit


def test_rows_change_while_qt_is_with_the_participant(member, qt_app):
    rttm_entry_set(actor=member, application_id=qt_app.pk, requirement="REQ-FUN-001", qad_reference="3.1")
    assert task(qt_app, "qt").state == "in_progress"
    assert task(qt_app, "pit").state == "completed"


def test_nothing_changes_on_a_closed_application(member, pit_app):
    application_withdraw(actor=member, application_id=pit_app.pk, reason="Leaving the market.")
    with pytest.raises(InvalidTransition, match="withdrawn"):
        rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-FUN-001", pit_tests="X")
    with pytest.raises(InvalidTransition):
        rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")


def test_many_rows_at_once_all_or_nothing(member, pit_app):
    result = rttm_entries_update(
        actor=member,
        application_id=pit_app.pk,
        entries=[
            EntryInput("REQ-FUN-001", ["PIT-FUN-001"], "3.1"),
            EntryInput("REQ-OPS-003", "PIT-OPS-002"),
            EntryInput("REQ-OPS-004", ""),  # nothing to set
        ],
    )
    assert result.changed == ["REQ-FUN-001", "REQ-OPS-003"] and result.unchanged == 1
    event = AuditEvent.objects.get(action="rttm.entries.update")
    assert set(event.after) == {"REQ-FUN-001", "REQ-OPS-003"}

    before = state()
    with pytest.raises(InvalidInput) as refused:
        rttm_entries_update(
            actor=member,
            application_id=pit_app.pk,
            entries=[
                EntryInput("REQ-FUN-002", ["PIT-FUN-003"]),
                EntryInput("REQ-NOPE", ["X"]),
                EntryInput("REQ-FUN-002", ["PIT-FUN-004"]),
                EntryInput("REQ-FUN-003", qad_reference="x" * 201),
            ],
        )
    assert [e["field"] for e in refused.value.details["errors"]] == [
        "entries.1.requirement",
        "entries.2.requirement",
        "entries.3.qad_reference",
    ]
    assert state() == before
    with pytest.raises(InvalidInput, match="Nothing changed"):
        rttm_entries_update(
            actor=member, application_id=pit_app.pk, entries=[EntryInput("REQ-FUN-001", ["PIT-FUN-001"], "3.1")]
        )
    with pytest.raises(InvalidInput, match="at least one"):
        rttm_entries_update(actor=member, application_id=pit_app.pk, entries=[])


# --- snapshots -----------------------------------------------------------------------------------


def test_capturing_at_pit_entry(staff, member, pit_app):
    programme = staff(Role.PROGRAMME_ASSURANCE)
    ta = staff(Role.TESTING_ASSURANCE)
    rttm_entry_set(
        actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-1", qad_reference="3.4"
    )
    snapshot = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    assert (snapshot.checkpoint, snapshot.version, snapshot.taken_by) == ("pit_entry", 1, member)
    assert snapshot.row_count == len(snapshot.rows) == Requirement.objects.filter(is_active=True).count()
    identifiers = [row["requirement"] for row in snapshot.rows]
    assert identifiers == sorted(identifiers)
    canonical = json.dumps(snapshot.rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert snapshot.sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    row = next(r for r in snapshot.rows if r["requirement"] == "REQ-OPS-003")
    assert row == {
        "requirement": "REQ-OPS-003",
        "area": "operational",
        "text": Requirement.objects.get(identifier="REQ-OPS-003").text,
        "pit_tests": ["PIT-OPS-1"],
        "qt_cases": [],
        "qad_reference": "3.4",
        "note": "",
        "covered": True,
    }
    assert next(r for r in snapshot.rows if r["requirement"] == "REQ-FUN-001")["qt_cases"] == [
        "QTC-FUN-01-01 v1",
        "QTC-FUN-01-02 v1",
    ]
    event = AuditEvent.objects.get(action="rttm.snapshot.capture")
    assert event.after["sha256"] == snapshot.sha256 and event.after["rows"] == snapshot.row_count
    notice = Notification.objects.get(recipient=programme, subject=f"RTTM at PIT entry captured: {pit_app.reference}")
    assert notice.link == f"/applications/{pit_app.pk}/qt/rttm/snapshots/{snapshot.pk}/"
    assert not Notification.objects.filter(recipient=ta, subject__startswith="RTTM at").exists()
    assert not Notification.objects.filter(recipient=member, subject__startswith="RTTM at").exists()

    # A snapshot is frozen: later changes to the matrix do not touch it; a new capture is version 2.
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-2")
    snapshot.refresh_from_db()
    assert next(r for r in snapshot.rows if r["requirement"] == "REQ-OPS-003")["pit_tests"] == ["PIT-OPS-1"]
    again = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    assert again.version == 2 and again.sha256 != snapshot.sha256


def test_the_qt_checkpoints_wait_for_qt(member, pit_app):
    before = state()
    for checkpoint in ("qt_entry", "qt_exit"):
        with pytest.raises(InvalidTransition, match="is captured while “Systems Integration Testing” is with you"):
            rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint=checkpoint)
    assert state() == before


def test_capturing_at_qt_entry_tells_testing_assurance(staff, member, qt_app):
    ta = staff(Role.TESTING_ASSURANCE)
    snapshot = rttm_snapshot_capture(actor=member, application_id=qt_app.pk, checkpoint="qt_entry")
    assert snapshot.version == 1
    assert task(qt_app, "qt").state == "in_progress"
    assert Notification.objects.filter(recipient=ta, subject=f"RTTM at QT entry captured: {qt_app.reference}").exists()
    with pytest.raises(InvalidTransition, match="PIT exit is captured while “Pre-Integration Testing”"):
        rttm_snapshot_capture(actor=member, application_id=qt_app.pk, checkpoint="pit_exit")


def test_who_may_capture(staff, member, other_member, pit_app):
    before = state()
    with pytest.raises(PermissionDenied, match="Only the applying organisation can capture"):
        rttm_snapshot_capture(actor=staff(Role.PROGRAMME_ASSURANCE), application_id=pit_app.pk, checkpoint="pit_entry")
    with pytest.raises(NotFound):
        rttm_snapshot_capture(actor=other_member, application_id=pit_app.pk, checkpoint="pit_entry")
    with pytest.raises(InvalidInput, match="Choose the checkpoint") as refused:
        rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="sit_exit")
    assert refused.value.details["field"] == "checkpoint"
    assert state() == before


def test_comparing_two_snapshots(staff, member, other_member, pit_app, make_application):
    ta = staff(Role.TESTING_ASSURANCE)
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-1")
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-004", qad_reference="3.9")
    first = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-1, PIT-OPS-2")
    requirement_update(
        actor=ta,
        identifier="REQ-OPS-004",
        area="operational",
        text=Requirement.objects.get(identifier="REQ-OPS-004").text,
        is_active=False,
    )
    requirement_create(actor=ta, identifier="REQ-OPS-008", area="operational", text="Records are kept for 7 years.")
    second = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_exit")

    comparison = rttm_snapshot_compare(user=member, application_id=pit_app.pk, from_id=first.pk, to_id=second.pk)
    assert [row["requirement"] for row in comparison.added] == ["REQ-OPS-008"]
    assert [row["requirement"] for row in comparison.removed] == ["REQ-OPS-004"]
    assert [(r.requirement, [(c.field, c.before, c.after) for c in r.changes]) for r in comparison.changed] == [
        ("REQ-OPS-003", [("pit_tests", ["PIT-OPS-1"], ["PIT-OPS-1", "PIT-OPS-2"])])
    ]
    assert comparison.unchanged == first.row_count - 2
    assert comparison.changed[0].changes[0].before_text == "PIT-OPS-1"

    # Staff compare too; another organisation cannot, nor can anyone name another application's snapshot.
    assert rttm_snapshot_compare(user=ta, application_id=pit_app.pk, from_id=first.pk, to_id=second.pk).has_changes
    with pytest.raises(NotFound):
        rttm_snapshot_compare(user=other_member, application_id=pit_app.pk, from_id=first.pk, to_id=second.pk)
    other = make_application(route="sit", market_role="MEM")
    theirs = rttm_snapshot_capture(actor=member, application_id=other.pk, checkpoint="pit_entry")
    with pytest.raises(NotFound):
        rttm_snapshot_compare(user=member, application_id=pit_app.pk, from_id=first.pk, to_id=theirs.pk)


# --- the workbook, out ---------------------------------------------------------------------------


def test_the_matrix_exported(member, pit_app):
    rttm_entry_set(
        actor=member,
        application_id=pit_app.pk,
        requirement="REQ-OPS-003",
        pit_tests='=HYPERLINK("http://evil.example")',
        qad_reference="@SUM(A1)",
        note="-2",
    )
    name, content = rttm_workbook(user=member, application_id=pit_app.pk)
    assert name == f"RTTM {pit_app.reference} NLEN SUP current.xlsx"
    sheets = read_workbook(content)
    assert list(sheets) == ["RTTM"]
    header, *rows = sheets["RTTM"]
    assert header == (
        "Requirement",
        "Area",
        "Requirement text",
        "PIT tests",
        "QT cases",
        "QAD reference",
        "Note",
        "Covered",
    )
    row = next(r for r in rows if r[0] == "REQ-OPS-003")
    assert row[1] == "Operational"
    assert row[3:] == ('\'=HYPERLINK("http://evil.example")', None, "'@SUM(A1)", "'-2", "Yes")
    fun = next(r for r in rows if r[0] == "REQ-FUN-001")
    assert fun[4] == "QTC-FUN-01-01 v1, QTC-FUN-01-02 v1"


def test_a_snapshot_exported(member, other_member, pit_app):
    snapshot = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    name, content = rttm_workbook(user=member, application_id=pit_app.pk, snapshot_id=snapshot.pk)
    assert name.endswith("pit_entry v1.xlsx")
    sheets = read_workbook(content)
    assert len(sheets["RTTM"]) - 1 == snapshot.row_count
    assert ("SHA-256 of the rows", snapshot.sha256) in sheets["Snapshot"]
    with pytest.raises(NotFound):
        rttm_workbook(user=other_member, application_id=pit_app.pk, snapshot_id=snapshot.pk)


# --- the workbook, in ----------------------------------------------------------------------------

HEADERS = ["Requirement", "PIT tests", "QAD reference", "Note"]


def test_importing_the_exported_matrix_filled_in(member, pit_app):
    _, content = rttm_workbook(user=member, application_id=pit_app.pk)
    sheets = read_workbook(content)
    header, *rows = sheets["RTTM"]
    filled = []
    for values in rows:
        row = list(values)
        if row[0] == "REQ-OPS-003":
            row[3], row[5], row[6] = "PIT-OPS-010, PIT-OPS-011", 4.5, "Service desk runbook."
        filled.append(row)
    job = run_import(member, "rttm", xlsx_bytes({"RTTM": [header, *filled]}), application_id=pit_app.pk)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    entry = RttmEntry.objects.get(application=pit_app, requirement__identifier="REQ-OPS-003")
    assert (entry.pit_tests, entry.qad_reference, entry.note) == (
        "PIT-OPS-010, PIT-OPS-011",
        "4.5",
        "Service desk runbook.",
    )
    assert job.stored_rows == 1
    event = AuditEvent.objects.get(action="import.rttm.store")
    assert event.after["rows_changed"] == ["REQ-OPS-003"] and event.application_id == pit_app.pk
    notice = Notification.objects.get(recipient=member, subject__startswith="Import finished")
    assert notice.link == f"/applications/{pit_app.pk}/qt/rttm/"


def test_every_bad_rttm_row_is_reported_and_nothing_is_stored(member, pit_app):
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-FUN-001", pit_tests="PIT-1")
    content = xlsx_bytes(
        {
            "RTTM": [
                HEADERS,
                ["REQ-FUN-002", "PIT-2", "3.2", ""],  # row 2: sound
                ["REQ-NOPE-001", "PIT-3", "", ""],  # row 3
                ["REQ-FUN-002", "PIT-4", "", ""],  # row 4: a duplicate
                [17, "PIT-5", "", ""],  # row 5
                ["REQ-FUN-003", "P" * 61, "", ""],  # row 6
                ["REQ-FUN-004", True, "x" * 201, ""],  # row 7
                ["REQ-FUN-005", "=A1", "", ""],  # row 8
            ]
        }
    )
    before = state()
    job = run_import(member, "rttm", content, application_id=pit_app.pk)
    assert job.status == ImportStatus.FAILED
    assert reason(job, "", 3, "Requirement") == "there is no active requirement REQ-NOPE-001 in the catalogue"
    assert reason(job, "", 4, "Requirement") == "REQ-FUN-002 is already on row 2"
    assert reason(job, "", 5, "Requirement") == "requirement must be text, such as REQ-FUN-001"
    assert "60 characters or fewer" in reason(job, "", 6, "PIT tests")
    assert reason(job, "", 7, "PIT tests") == "must be text, not a true/false value"
    assert reason(job, "", 7, "QAD reference") == "QAD reference must be 200 characters or fewer (it has 201)"
    assert reason(job, "", 8, "PIT tests") == "holds a formula; enter the value itself"
    after = state()
    assert after.entries == before.entries
    assert RttmEntry.objects.get(application=pit_app).pit_tests == "PIT-1"


def test_who_may_import_the_rttm(staff, member, other_member, pit_app):
    content = xlsx_bytes({"RTTM": [HEADERS, ["REQ-FUN-001", "PIT-1", "", ""]]})
    before = state()
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=staff(Role.PROGRAMME_ASSURANCE), kind="rttm", upload=upload(content), application_id=pit_app.pk
        )
    with pytest.raises(NotFound):
        import_job_create(actor=other_member, kind="rttm", upload=upload(content), application_id=pit_app.pk)
    with pytest.raises(InvalidInput, match="Say which application"):
        import_job_create(actor=member, kind="rttm", upload=upload(content))
    assert state() == before
    pit_complete_checklist(pit_app, actor=member)
    task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    with pytest.raises(InvalidTransition):
        import_job_create(actor=member, kind="rttm", upload=upload(content), application_id=pit_app.pk)


def test_the_rttm_import_is_checked_again_when_storing(member, pit_app):
    content = xlsx_bytes({"RTTM": [HEADERS, ["REQ-FUN-001", "PIT-1", "", ""]]})
    job = import_job_create(actor=member, kind="rttm", upload=upload(content), application_id=pit_app.pk)
    pit_complete_checklist(pit_app, actor=member)
    task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED
    assert not RttmEntry.objects.filter(application=pit_app, requirement__identifier="REQ-FUN-001").exists()


def test_hostile_rttm_workbooks(member, pit_app):
    huge = sheet_xml([HEADERS, ["REQ-FUN-001", "PIT-1", "", ""]], dimension="A1:D300001")
    job = run_import(member, "rttm", raw_xlsx({"RTTM": huge}), application_id=pit_app.pk)
    assert job.status == ImportStatus.FAILED and "300,000 rows" in job.errors[0]["reason"]
    prolog = '<?xml version="1.0"?>\n<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    entity = sheet_xml([HEADERS, ["REQ-FUN-001", "&x;", "", ""]], prolog=prolog)
    with pytest.raises(InvalidInput, match="not allowed in an Office document"):
        run_import(member, "rttm", raw_xlsx({"RTTM": entity}), application_id=pit_app.pk)
    with pytest.raises(InvalidInput, match="not a XLSX file"):
        import_job_create(
            actor=member, kind="rttm", upload=upload(b"PK\x03\x04 broken", "rttm.xlsx"), application_id=pit_app.pk
        )
    assert not RttmEntry.objects.filter(application=pit_app).exists()
    assert not RttmSnapshot.objects.exists()
