"""The results workbook import: every row checked first, each problem reported with its row, column and
reason, nothing stored unless the whole workbook is valid; then every run stored at once, awaiting its
evidence. Hostile workbooks (formulas, a huge declared size, wrong types, an executable in disguise, an
external entity) are refused with clear messages and store nothing."""

import datetime
import io
import re
import zipfile
from typing import Any

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.qualification.services import task_transition
from portal.qualification.workflow import TaskState
from portal.testing.execution_selectors import ReviewState, review_state
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import ImportJob, ImportStatus, TestExecution
from portal.testing.tests.execution_support import (
    HEADERS,
    good_rows,
    import_jobs,
    qt_task,
    record,
    results_workbook,
    snapshot,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db

A_MONTH_AGO = timezone.localtime(timezone.now() - datetime.timedelta(days=30)).replace(
    hour=9, minute=30, second=0, microsecond=0, tzinfo=None
)


def run_import(actor, application, content, name="results.xlsx"):
    job = import_job_create(
        actor=actor, kind="results", upload=xlsx_upload(content, name), application_id=application.pk
    )
    return import_job_run(job_id=job.pk)


def problems(job):
    return {(p["row"], p["column"]): p["reason"] for p in job.errors}


def test_a_valid_workbook_stores_every_run_awaiting_evidence(member, execution_app, execution_assurer):
    rows: list[list[Any]] = [
        ["QTC-EX-001", "Passed", "Tess Tester", A_MONTH_AGO, None, "1:passed; 2:passed; 3:PASS"],
        ["qtc-ex-002", "failed", "Tess Tester", A_MONTH_AGO, "Flow 2 timed out.", "1:passed, 2:fail"],
        ["QTC-EX-003", "Blocked", "Bob", "2026-01-14 09:30", "The stub was down.", None],
        ["QTC-EX-004", "not run", "Bob", "14/01/2026 10:00", None, "1: not run"],
        ["QTC-EX-001", "passed with observations", "Bob", A_MONTH_AGO + datetime.timedelta(hours=1), "Slow.", None],
    ]
    job = run_import(member, execution_app, results_workbook(rows))

    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.stored_rows == 5 and job.processed_rows == 5 and job.total_rows == 5
    runs = {(r.case.identifier, r.status): r for r in TestExecution.objects.filter(application=execution_app)}
    assert set(runs) == {
        ("QTC-EX-001", "passed"),
        ("QTC-EX-002", "failed"),
        ("QTC-EX-003", "blocked"),
        ("QTC-EX-004", "not_run"),
        ("QTC-EX-001", "passed_with_observations"),
    }
    passed = runs[("QTC-EX-001", "passed")]
    assert passed.case_version.is_current and passed.recorded_by == member and passed.tester == "Tess Tester"
    assert [s["status"] for s in passed.step_results] == ["passed", "passed", "passed"]
    assert runs[("QTC-EX-002", "failed")].step_results[1] == {"step": 2, "status": "failed", "actual": ""}
    # Times are UK time, as the spreadsheet shows them.
    blocked_at = timezone.localtime(runs[("QTC-EX-003", "blocked")].executed_at)
    assert (blocked_at.year, blocked_at.month, blocked_at.day, blocked_at.hour, blocked_at.minute) == (
        2026,
        1,
        14,
        9,
        30,
    )

    assert timezone.localtime(passed.executed_at).replace(tzinfo=None) == A_MONTH_AGO
    # No files come with a workbook: the runs that claim an outcome await evidence; the others do not.
    states = {key: review_state(status=r.status, review=r.review, evidence_count=0) for key, r in runs.items()}
    assert states[("QTC-EX-001", "passed")] == ReviewState.AWAITING_EVIDENCE
    assert states[("QTC-EX-002", "failed")] == ReviewState.AWAITING_EVIDENCE
    assert states[("QTC-EX-003", "blocked")] == ReviewState.PENDING
    assert qt_task(execution_app).state == TaskState.IN_PROGRESS

    stored = AuditEvent.objects.get(action="import.results.store")
    assert stored.after["rows"] == 5 and stored.after["by_status"]["passed"] == 1
    assert stored.application_id == execution_app.pk
    assert AuditEvent.objects.filter(action="import.results.queue").count() == 1
    mine = Notification.objects.get(recipient=member, subject__startswith="Import finished")
    assert mine.link == f"/applications/{execution_app.pk}/qt/executions/"
    told = Notification.objects.get(recipient=execution_assurer, subject__startswith="Test results imported")
    assert "3 of them claim an outcome and await evidence" in told.body


def test_every_bad_row_is_reported_and_nothing_is_stored(member, execution_app):
    record(member, execution_app, executed_at=timezone.make_aware(A_MONTH_AGO))  # already recorded
    future = timezone.localtime(timezone.now() + datetime.timedelta(days=2)).replace(tzinfo=None)
    rows: list[list[Any]] = [
        ["QTC-NOPE", "passed", "Tess", A_MONTH_AGO, None, None],  # 2
        ["QTC-EX-LD1", "passed", "Tess", A_MONTH_AGO, None, None],  # 3
        ["QTC-EX-005", "passed", "Tess", A_MONTH_AGO, None, None],  # 4
        ["QTC-EX-002", "sort of", "Tess", A_MONTH_AGO, None, None],  # 5
        ["QTC-EX-002", "passed", "Tess", "next Tuesday", None, None],  # 6
        ["QTC-EX-002", "passed", "Tess", future, None, None],  # 7
        ["QTC-EX-002", "passed", "Tess", datetime.datetime(2019, 5, 1, 9, 0), None, None],  # noqa: DTZ001  (8)
        ["QTC-EX-002", "passed", "Tess", 45123.5, None, None],  # 9
        ["QTC-EX-002", "passed", 12345, A_MONTH_AGO, None, None],  # 10
        ["QTC-EX-002", "passed", None, A_MONTH_AGO, None, None],  # 11
        ["QTC-EX-002", "failed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=1), None, None],  # 12
        ["QTC-EX-002", "blocked", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=2), "x" * 5001, None],  # 13
        ["QTC-EX-002", "passed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=3), None, "one passed"],  # 14
        ["QTC-EX-002", "passed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=4), None, "1:passed; 2:failed"],  # 15
        ["QTC-EX-002", "passed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=5), None, "1:passed; 7:passed"],  # 16
        ["QTC-EX-004", "passed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=6), None, None],  # 17
        ["QTC-EX-004", "passed", "Tess", A_MONTH_AGO + datetime.timedelta(minutes=6), None, None],  # 18: duplicate
        ["QTC-EX-001", "passed", "Tess", A_MONTH_AGO, None, None],  # 19: already recorded
        [12, "passed", "Tess", A_MONTH_AGO, None, None],  # 20
    ]
    before = snapshot()
    job = run_import(member, execution_app, results_workbook(rows))

    assert job.status == ImportStatus.FAILED and job.stored_rows == 0
    found = problems(job)
    expected = {
        (2, "Case"): "QTC-NOPE is not a test case of the Supplier role",
        (3, "Case"): "QTC-EX-LD1 is not a test case of the Supplier role",
        (4, "Case"): "QTC-EX-005 is not run in QT for this application: Exercises IF-951",
        (5, "Status"): "must be one of: passed, passed with observations, failed, blocked, not run",
        (6, "Executed at"): "must be a date and time",
        (7, "Executed at"): "cannot be in the future",
        (8, "Executed at"): "must be after 2020",
        (9, "Executed at"): "must be a date and time",
        (10, "Tester"): "must be text",
        (11, "Tester"): "enter the name of the person who ran the test",
        (12, "Notes"): "enter notes saying why the run is failed",
        (13, "Notes"): "5,000 characters or fewer",
        (14, "Step results"): "is not a step result",
        (15, "Step results"): "A passed run must have every step passed",
        (16, "Step results"): "step 7 is not a step of QTC-EX-002 version 1",
        (18, "Case"): "is also on row 17",
        (19, "Case"): "is already recorded; import each run once",
        (20, "Case"): "must be text",
    }
    for key, reason in expected.items():
        assert key in found, (key, found)
        assert reason in found[key], (key, found[key])
    assert job.error_count == len(job.errors) == len(expected)
    assert (17, "Case") not in found
    # Nothing stored, the participant told; the refusal is audited with its first problems.
    after = snapshot()
    assert after.executions == before.executions and after.evidence == before.evidence
    refused = AuditEvent.objects.get(action="import.results.refuse")
    assert refused.after["problems"] == len(expected)
    assert "nothing was imported" in Notification.objects.get(subject__startswith="Import refused").body


def test_a_formula_is_refused_as_a_row_problem(member, execution_app):
    content = results_workbook(
        [["QTC-EX-004", "passed", '=CONCAT("Te","ss")', A_MONTH_AGO, None, None]], write_only=False
    )
    job = run_import(member, execution_app, content)
    assert job.status == ImportStatus.FAILED
    assert problems(job) == {(2, "Tester"): "holds a formula; enter the value itself"}
    assert not TestExecution.objects.exists()


def _rewrite(content: bytes, name: str, change) -> bytes:
    """The workbook with one of its XML parts changed, as a hostile file would be built."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, change(data) if item.filename == name else data)
    return buffer.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def test_a_sheet_declaring_300_000_rows_is_refused_before_any_row_is_read(member, execution_app):
    content = _rewrite(
        results_workbook(good_rows(3), write_only=False),
        SHEET,
        lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:F300001"', xml),
    )
    job = run_import(member, execution_app, content)
    assert job.status == ImportStatus.FAILED and job.processed_rows == 0
    assert "has 300,000 rows; at most 100,000 can be imported at once" in job.errors[0]["reason"]
    assert not TestExecution.objects.exists()


def test_a_sheet_longer_than_allowed_is_refused_even_without_a_declared_size(member, execution_app, settings):
    from portal.testing.execution_imports import RESULTS_IMPORTER

    original = RESULTS_IMPORTER.max_rows
    RESULTS_IMPORTER.max_rows = 10
    try:
        job = run_import(member, execution_app, results_workbook(good_rows(12)))  # write-only: no dimension
    finally:
        RESULTS_IMPORTER.max_rows = original
    assert job.status == ImportStatus.FAILED and "has 12 rows; at most 10" in job.errors[0]["reason"]
    assert not TestExecution.objects.exists()


def test_an_external_entity_in_the_sheet_is_refused(member, execution_app):
    evil = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    )

    def inject(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return evil + body.replace(b"<t>Tess Tester</t>", b"<t>&secret;</t>", 1)

    content = _rewrite(results_workbook(good_rows(2), write_only=False), SHEET, inject)
    before, jobs = snapshot(), import_jobs()
    # Refused when it is sent, before a job is queued or the entity read.
    with pytest.raises(InvalidInput, match="not allowed in an Office document") as refused:
        run_import(member, execution_app, content)
    assert "root:" not in str(refused.value)
    assert snapshot().executions == before.executions
    assert import_jobs() == jobs


def test_an_entity_in_the_workbook_part_is_refused_too(member, execution_app):
    def inject(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return b'<?xml version="1.0"?><!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa">]>' + body

    with pytest.raises(InvalidInput, match="not allowed in an Office document"):
        run_import(member, execution_app, _rewrite(results_workbook(good_rows(2)), "xl/workbook.xml", inject))


def test_an_executable_renamed_xlsx_is_refused_before_anything_is_queued(member, execution_app):
    before, jobs = snapshot(), import_jobs()
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(400)
    with pytest.raises(InvalidInput, match="is not a XLSX file, although its name says so"):
        import_job_create(
            actor=member, kind="results", upload=xlsx_upload(exe, "results.xlsx"), application_id=execution_app.pk
        )
    # A zip that is not a workbook, and a workbook of another kind, likewise.
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(InvalidInput):
        import_job_create(
            actor=member, kind="results", upload=xlsx_upload(plain.getvalue()), application_id=execution_app.pk
        )
    assert snapshot() == before and import_jobs() == jobs


@pytest.mark.parametrize(
    ("headers", "sheet", "message"),
    [
        (HEADERS, "Sheet1", "has no sheet named “Results”"),
        (["Case", "Status", "Tester"], "Results", "missing: Executed at"),
        ([*HEADERS, "Colour"], "Results", "columns this import does not know: Colour"),
        (["Case", "Case", "Status", "Tester", "Executed at"], "Results", "names a column more than once: Case"),
    ],
)
def test_a_workbook_of_the_wrong_shape_is_refused(member, execution_app, headers, sheet, message):
    job = run_import(member, execution_app, results_workbook([], headers=headers, sheet=sheet))
    assert job.status == ImportStatus.FAILED and message in job.errors[0]["reason"]


def test_an_empty_sheet_is_refused(member, execution_app):
    job = run_import(member, execution_app, results_workbook([]))
    assert job.status == ImportStatus.FAILED and job.errors[0]["reason"] == "the sheet has no rows to import"


def test_who_may_import_results_and_when(member, execution_app, execution_unready_app, execution_assurer, other_member):
    content = results_workbook(good_rows(2))
    jobs = import_jobs()
    with pytest.raises(PermissionDenied, match="Only the applying organisation can change test results"):
        import_job_create(
            actor=execution_assurer, kind="results", upload=xlsx_upload(content), application_id=execution_app.pk
        )
    with pytest.raises(NotFound):
        import_job_create(
            actor=other_member, kind="results", upload=xlsx_upload(content), application_id=execution_app.pk
        )
    assert import_jobs() == jobs


def test_results_wait_for_the_readiness_report(member, make_application, advance, execution_cases):
    unready = advance(make_application(), stop_before="qt")
    with pytest.raises(InvalidTransition, match="readiness report"):
        import_job_create(
            actor=member, kind="results", upload=xlsx_upload(results_workbook(good_rows(1))), application_id=unready.pk
        )
    assert not ImportJob.objects.exists()


def test_a_job_refused_at_store_time_stores_nothing(content_rules_off, member, execution_app):
    """The task moved on between queueing and storing: the import is refused then, and stores nothing."""
    job = import_job_create(
        actor=member,
        kind="results",
        upload=xlsx_upload(results_workbook(good_rows(4))),
        application_id=execution_app.pk,
    )
    task_transition(actor=member, application_id=execution_app.pk, task_code="qt", action="submit", comment="Done.")
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "is submitted" in job.errors[0]["reason"]
    assert not TestExecution.objects.exists()


def test_the_results_template_round_trips(client, member, execution_app):
    from openpyxl import load_workbook

    client.force_login(member)
    response = client.get(f"/applications/{execution_app.pk}/qt/results/template/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Results", "Cases", "Instructions"]
    cases = [row[0] for row in book["Cases"].iter_rows(min_row=2, values_only=True)]
    assert cases == ["QTC-EX-001", "QTC-EX-002", "QTC-EX-003", "QTC-EX-004"]
    header = next(book["Results"].iter_rows(values_only=True))
    assert list(header) == HEADERS
