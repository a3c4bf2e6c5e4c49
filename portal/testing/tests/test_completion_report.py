"""The test completion report, generated from the data in the background as a PDF and an XLSX, read
back here with pypdf and openpyxl; and the results export."""

import datetime
import hashlib
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, NotFound
from portal.notifications.models import Notification
from portal.testing import execution_services as services
from portal.testing import reports
from portal.testing.execution_selectors import ExecutionFilters, execution_list
from portal.testing.models.execution import ReportStatus
from portal.testing.tests.execution_support import passed_steps, raise_defect, record, snapshot
from portal.workoff.models import WorkOffItem, WorkOffStatus

pytestmark = pytest.mark.django_db


def workoff_item(application, member, number, *, case=None, defect=None, status=WorkOffStatus.PROPOSED, agreed_by=None):
    """Set-up only: a work-off item as the work-off area stores it (its own tests cover how)."""
    now = timezone.now()
    return WorkOffItem.objects.create(
        application=application,
        number=number,
        case=case,
        defect=defect,
        action=f"Rerun in the next window (item {number}).",
        owner="Test lead",
        due_on=datetime.date(2027, 3, 31),
        status=status,
        proposed_by=member,
        proposed_at=now,
        agreed_by=agreed_by,
        agreed_at=now if agreed_by else None,
    )


@pytest.fixture
def tested(member, execution_app, execution_assurer, execution_cases):
    """QT part way: QTC-EX-001 passed and accepted, QTC-EX-002 failed with a critical defect and an agreed
    work-off item, QTC-EX-003 not run yet; a defect whose title looks like a formula."""
    passed = record(member, execution_app)
    services.execution_review(
        actor=execution_assurer, application_id=execution_app.pk, execution_id=passed.pk, decision="accept"
    )
    failed = record(
        member,
        execution_app,
        case="QTC-EX-002",
        status="failed",
        notes="Flow 2 timed out.",
        step_results=[{"step": 1, "status": "passed"}, {"step": 2, "status": "failed"}],
    )
    critical = raise_defect(member, execution_app, title="Timeout on flow 2", severity=1, execution_ids=[failed.pk])
    raise_defect(member, execution_app, title='=HYPERLINK("http://evil.example","click")', severity=4)
    workoff_item(
        execution_app,
        member,
        1,
        case=execution_cases["QTC-EX-002"],
        status=WorkOffStatus.AGREED,
        agreed_by=execution_assurer,
    )
    workoff_item(execution_app, member, 2, defect=critical)
    return execution_app


def test_the_data_of_the_report(tested, member):
    data = reports.completion_data(tested)
    assert [line.identifier for line in data.required] == ["QTC-EX-001", "QTC-EX-002", "QTC-EX-003"]
    assert [line.status_label for line in data.required] == ["Passed", "Failed", "No run recorded"]
    assert [line.identifier for line in data.optional] == ["QTC-EX-004"]
    assert [line.identifier for line in data.not_run_in_qt] == ["QTC-EX-005"]
    assert data.required[1].covered_by == "WO-001"
    counts = dict(data.status_counts)
    assert counts["Passed"] == 1 and counts["Failed"] == 1 and counts["No run recorded"] == 1
    assert dict(data.review_counts)["Accepted"] == 1
    assert [(row.label, row.total) for row in data.batch_rows] == [("Functional", 1), ("Migration", 1), ("DIP", 1)]
    assert [row.total for row in data.defect_rows] == [1, 0, 0, 1]
    assert [item.reference for item in data.workoff] == ["WO-001", "WO-002"]
    assert data.exit and not data.exit_passed  # the shipped exit rules, judged live
    assert data.summary() == {
        "required_cases": 3,
        "passed": 1,
        "failed": 1,
        "blocked": 0,
        "not_run": 1,
        "open_defects": 2,
        "workoff_items": 2,
        "exit_rules_passed": data.summary()["exit_rules_passed"],
        "exit_rules": len(data.exit),
    }


def test_the_pdf_says_it_all(tested):
    data = reports.completion_data(tested)
    pdf = reports.completion_report_pdf(data)
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "Test completion report" in flat and tested.reference in flat
    assert "Northern Lights Energy Ltd" in flat
    for expected in (
        "1 of 3 required cases passed",
        "QTC-EX-001",
        "QTC-EX-002",
        "No run recorded",
        "covered by WO-001",
        "DEF-0001",
        "Timeout on flow 2",
        "=HYPERLINK",  # shown as the text it is
        "WO-002",
        "Exit checklist",
        "Every required test case passed, or is covered by an agreed work-off item",
        "QTC-EX-005",
        "opted out of",
    ):
        assert expected in flat, expected


def test_the_workbook_has_the_four_sheets_and_no_live_formula(tested):
    data = reports.completion_data(tested)
    book = load_workbook(io.BytesIO(reports.completion_report_xlsx(data)), read_only=True)
    assert book.sheetnames == ["Summary", "Cases", "Defects", "Work-off"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert summary["Application"] == tested.reference and summary["Required cases"] == 3
    assert summary["Passed"] == 1 and summary["No run recorded"] == 1
    assert summary["Exit checklist"] == "Not met"
    cases = list(book["Cases"].iter_rows(min_row=2, values_only=True))
    assert [(c[0], c[5]) for c in cases[:3]] == [
        ("QTC-EX-001", "Passed"),
        ("QTC-EX-002", "Failed"),
        ("QTC-EX-003", "No run recorded"),
    ]
    assert cases[1][11] == "WO-001"
    defects = list(book["Defects"].iter_rows(min_row=2, values_only=True))
    titles = {d[0]: d[1] for d in defects}
    assert titles["DEF-0001"] == "Timeout on flow 2"
    assert titles["DEF-0002"].startswith("'=HYPERLINK")  # escaped: text, never a formula
    workoff = list(book["Work-off"].iter_rows(min_row=2, values_only=True))
    assert [(w[0], w[1], w[2], w[6]) for w in workoff] == [
        ("WO-001", "QTC-EX-002", None, "Agreed"),
        ("WO-002", None, "DEF-0001", "Proposed"),
    ]


def test_requesting_and_generating_a_report(tested, member, execution_assurer):
    before = snapshot()
    report = reports.completion_report_request(actor=execution_assurer, application_id=tested.pk)
    assert report.status == ReportStatus.QUEUED
    assert snapshot().jobs == before.jobs + 1
    assert AuditEvent.objects.get(action="qt.report.request").actor == execution_assurer
    with pytest.raises(Conflict, match="already being generated"):
        reports.completion_report_request(actor=member, application_id=tested.pk)

    done = reports.completion_report_generate(report_id=report.pk)
    assert done.status == ReportStatus.READY and done.generated_at is not None
    assert hashlib.sha256(done.pdf.read()).hexdigest() == done.pdf_sha256
    assert hashlib.sha256(done.xlsx.read()).hexdigest() == done.xlsx_sha256
    assert done.summary["required_cases"] == 3 and done.summary["passed"] == 1
    event = AuditEvent.objects.get(action="qt.report.generate")
    assert event.after["pdf_sha256"] == done.pdf_sha256
    told = Notification.objects.get(recipient=execution_assurer, subject__startswith="Test completion report ready")
    assert told.link == f"/applications/{tested.pk}/qt/report/"

    # Delivered twice, it is generated once.
    again = reports.completion_report_generate(report_id=report.pk)
    assert again.pdf_sha256 == done.pdf_sha256
    assert AuditEvent.objects.filter(action="qt.report.generate").count() == 1
    # Once one is ready, another may be asked for.
    assert reports.completion_report_request(actor=member, application_id=tested.pk).status == ReportStatus.QUEUED


def test_a_report_that_cannot_be_generated_says_so(tested, member, monkeypatch):
    def broken(data):
        raise OSError("no fonts")

    monkeypatch.setattr(reports, "completion_report_pdf", broken)
    report = reports.completion_report_request(actor=member, application_id=tested.pk)
    failed = reports.completion_report_generate(report_id=report.pk)
    assert failed.status == ReportStatus.FAILED and "Request it again" in failed.error and not failed.pdf
    assert AuditEvent.objects.get(action="qt.report.fail").after == {"error": "OSError"}
    assert Notification.objects.filter(recipient=member, subject__startswith="Test completion report failed").exists()


def test_another_organisation_cannot_ask_for_or_see_reports(tested, member, other_member):
    report = reports.completion_report_request(actor=member, application_id=tested.pk)
    before = snapshot()
    with pytest.raises(NotFound):
        reports.completion_report_request(actor=other_member, application_id=tested.pk)
    assert snapshot() == before
    from portal.testing.execution_selectors import completion_report_get

    with pytest.raises(NotFound):
        completion_report_get(user=other_member, application_id=tested.pk, report_id=report.pk)


def test_the_results_export_reads_back_with_its_filters(tested, member):
    record(member, tested, case="QTC-EX-004", step_results=passed_steps(1), notes="+44 contact")
    view = execution_list(user=member, application_id=tested.pk, filters=ExecutionFilters())
    book = load_workbook(io.BytesIO(reports.results_xlsx(view.executions)), read_only=True)
    rows = list(book["Results"].iter_rows(values_only=True))
    assert list(rows[0][:6]) == ["Case", "Status", "Tester", "Executed at", "Notes", "Step results"]
    by_case = {row[0]: row for row in rows[1:]}
    assert set(by_case) == {"QTC-EX-001", "QTC-EX-002", "QTC-EX-004"}
    assert by_case["QTC-EX-002"][1] == "Failed" and by_case["QTC-EX-002"][5] == "1:passed; 2:failed"
    assert by_case["QTC-EX-001"][10] == "Accepted" and by_case["QTC-EX-002"][13] == 1
    assert by_case["QTC-EX-004"][4] == "'+44 contact"  # escaped
    assert isinstance(by_case["QTC-EX-001"][3], datetime.datetime)

    failed_only = execution_list(user=member, application_id=tested.pk, filters=ExecutionFilters(status="failed"))
    rows = list(
        load_workbook(io.BytesIO(reports.results_xlsx(failed_only.executions)), read_only=True)["Results"].iter_rows(
            values_only=True
        )
    )
    assert [row[0] for row in rows[1:]] == ["QTC-EX-002"]
