"""The execution, defect and report pages: reachable from the QT overview, thin over the services,
refusals shown in the GOV.UK error summary with what was typed kept, another organisation's pages 404,
and the list pages' queries constant in the number of rows."""

import datetime
import html
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from portal.testing import execution_services as services
from portal.testing import reports
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import Defect, EvidenceReview, TestExecution
from portal.testing.models.execution import CompletionReport, ReportStatus
from portal.testing.tests.execution_support import (
    good_rows,
    pdf,
    raise_defect,
    record,
    results_workbook,
    snapshot,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db


def url(application, path=""):
    return f"/applications/{application.pk}/qt/{path}"


def import_runs(member, application, count, start):
    job = import_job_create(
        actor=member,
        kind="results",
        upload=xlsx_upload(results_workbook(good_rows(count, start=start))),
        application_id=application.pk,
    )
    assert import_job_run(job_id=job.pk).status == "succeeded"


def test_the_qt_overview_links_to_the_execution_pages(client, member, execution_app):
    client.force_login(member)
    page = client.get(url(execution_app)).content.decode()
    for path in ("executions/", "defects/", "report/"):
        assert f'href="{url(execution_app, path)}"' in page


def test_the_executions_page_for_the_participant(client, member, execution_app):
    run = record(member, execution_app)
    client.force_login(member)
    page = client.get(url(execution_app, "executions/")).content.decode()
    assert "Test executions" in page and "QTC-EX-001" in page
    assert f'href="{url(execution_app, f"executions/{run.pk}/")}"' in page
    assert f'href="{url(execution_app, "executions/new/")}"' in page
    assert f'action="{url(execution_app, "results/import/")}"' in page
    assert "Awaiting review" in page and "Latest" in page


def test_testing_assurance_reads_but_does_not_record(client, member, execution_app, execution_assurer):
    record(member, execution_app)
    client.force_login(execution_assurer)
    page = client.get(url(execution_app, "executions/")).content.decode()
    assert "QTC-EX-001" in page
    assert "Record a test run" not in page and "results/import/" not in page


def test_the_page_says_why_runs_cannot_be_recorded_yet(client, member, execution_unready_app):
    client.force_login(member)
    page = client.get(url(execution_unready_app, "executions/")).content.decode()
    assert 'id="cannot-record"' in page and "confirmed the readiness report" in page


def test_filters_and_pages(client, member, execution_app):
    import_runs(member, execution_app, 60, datetime.datetime(2026, 3, 1, 9, 0))  # noqa: DTZ001
    client.force_login(member)
    first = client.get(url(execution_app, "executions/")).content.decode()
    assert "60 runs" in first and "50 on this page" in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    # Paged by cursor: the next page holds the other 10 and leads back; a position that cannot be read shows
    # the first page.
    after = re.search(r'href="\?after=([^"]+)" rel="next"', first)
    assert after is not None
    second = client.get(url(execution_app, "executions/"), {"after": html.unescape(after.group(1))}).content.decode()
    assert "10 on this page" in second and 'rel="prev"' in second and 'rel="next"' not in second
    before = re.search(r'href="\?before=([^"]+)" rel="prev"', second)
    assert before is not None
    back = client.get(url(execution_app, "executions/"), {"before": html.unescape(before.group(1))}).content.decode()
    assert "50 on this page" in back and 'rel="prev"' not in back
    nonsense = client.get(url(execution_app, "executions/"), {"after": "nonsense"})
    assert nonsense.status_code == 200 and "50 on this page" in nonsense.content.decode()
    failed = client.get(url(execution_app, "executions/"), {"status": "failed"}).content.decode()
    assert "15 runs matching the filters" in failed
    assert "Clear filters" in failed
    latest = client.get(url(execution_app, "executions/"), {"latest": "1"}).content.decode()
    assert "4 runs matching the filters" in latest
    awaiting = client.get(url(execution_app, "executions/"), {"review": "awaiting_evidence"}).content.decode()
    assert "30 runs matching the filters" in awaiting  # the passed and failed ones
    export = client.get(url(execution_app, "results/export/"), {"status": "failed"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment;")
    rows = list(
        load_workbook(io.BytesIO(export.content), read_only=True)["Results"].iter_rows(min_row=2, values_only=True)
    )
    assert len(rows) == 15 and {r[1] for r in rows} == {"Failed"}


def _queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_the_list_pages_make_the_same_number_of_queries_for_10_and_50_rows(client, member, execution_app):
    start = datetime.datetime(2026, 3, 1, 9, 0)  # noqa: DTZ001
    import_runs(member, execution_app, 10, start)
    runs = list(TestExecution.objects.order_by("id"))
    services.execution_evidence_add(
        actor=member, application_id=execution_app.pk, execution_id=runs[0].pk, files=[pdf()]
    )
    for n in range(10):
        raise_defect(member, execution_app, execution_ids=[runs[n].pk])
    client.force_login(member)
    executions_10 = _queries(client, url(execution_app, "executions/"))
    defects_10 = _queries(client, url(execution_app, "defects/"))

    import_runs(member, execution_app, 40, start + datetime.timedelta(days=1))
    runs = list(TestExecution.objects.order_by("id"))
    services.execution_evidence_add(
        actor=member, application_id=execution_app.pk, execution_id=runs[-1].pk, files=[pdf()]
    )
    for n in range(40):
        raise_defect(member, execution_app, execution_ids=[runs[10 + n].pk])
    assert TestExecution.objects.count() == 50 and Defect.objects.count() == 50
    assert _queries(client, url(execution_app, "executions/")) == executions_10
    assert _queries(client, url(execution_app, "defects/")) == defects_10


# --- recording a run ------------------------------------------------------------------------------------


def test_recording_a_run_on_the_page(client, member, execution_app):
    client.force_login(member)
    page = client.get(url(execution_app, "executions/new/")).content.decode()
    assert '<option value="QTC-EX-004">' in page and "QTC-EX-005" not in page and "QTC-EX-LD1" not in page
    chosen = client.get(url(execution_app, "executions/new/"), {"case": "QTC-EX-001"}).content.decode()
    assert chosen.count('name="step-') == 6 and "Send flow 3 to the DIP." in chosen
    fragment = client.get(url(execution_app, "executions/new/"), {"case": "QTC-EX-002"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert fragment.content.decode().count('<select class="govuk-select" id="step-') == 2

    when = timezone.localtime(timezone.now() - datetime.timedelta(days=1))
    response = client.post(
        url(execution_app, "executions/new/"),
        {
            "case": "QTC-EX-001",
            "status": "passed",
            "tester": "Tess Tester",
            "executed_at_day": str(when.day),
            "executed_at_month": str(when.month),
            "executed_at_year": str(when.year),
            "executed_at_time": "09:15",
            "step-1-status": "passed",
            "step-2-status": "passed",
            "step-3-status": "passed",
            "step-3-actual": "Ack received in 2s",
            "notes": "",
            "files": [pdf("run.pdf")],
        },
    )
    run = TestExecution.objects.get()
    assert response.status_code == 302 and response["Location"] == url(execution_app, f"executions/{run.pk}/")
    assert timezone.localtime(run.executed_at).strftime("%H:%M") == "09:15"
    assert run.step_results[2] == {"step": 3, "status": "passed", "actual": "Ack received in 2s"}
    detail = client.get(response["Location"]).content.decode()
    assert "You recorded a run of QTC-EX-001" in detail and "run.pdf" in detail and "Ack received in 2s" in detail


def test_a_refused_run_shows_every_problem_and_keeps_what_was_typed(client, member, execution_app):
    client.force_login(member)
    before = snapshot()
    response = client.post(
        url(execution_app, "executions/new/"),
        {
            "case": "QTC-EX-001",
            "status": "failed",
            "tester": "Tess Tester",
            "executed_at_day": "31",
            "executed_at_month": "2",
            "executed_at_year": "2026",
            "executed_at_time": "9",
            "step-1-status": "passed",
            "notes": "",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "There is a problem" in page
    assert '<a href="#executed_at_day">Enter a real date, and a time such as 14:30.</a>' in page
    assert '<a href="#notes">Enter notes saying why the run is failed' in page
    assert 'href="#step-1-status"' in page and 'href="#files"' in page
    assert 'value="Tess Tester"' in page and 'value="31"' in page
    assert re.search(r'value="failed"\s+checked', page)
    assert snapshot() == before


def test_the_record_page_before_readiness_and_for_others(client, member, execution_unready_app, other_member):
    client.force_login(member)
    page = client.get(url(execution_unready_app, "executions/new/")).content.decode()
    assert 'id="cannot-record"' in page and 'name="status"' not in page
    response = client.post(url(execution_unready_app, "executions/new/"), {"case": "QTC-EX-001", "status": "passed"})
    assert response.status_code == 409 and "readiness report" in response.content.decode()
    client.force_login(other_member)
    assert client.get(url(execution_unready_app, "executions/new/")).status_code == 404
    assert client.post(url(execution_unready_app, "executions/new/"), {"case": "QTC-EX-001"}).status_code == 404


# --- one run ----------------------------------------------------------------------------------------------


def test_reviewing_evidence_on_the_run_page(client, member, execution_app, execution_assurer):
    run = record(member, execution_app)
    page_url = url(execution_app, f"executions/{run.pk}/")
    client.force_login(member)
    own = client.get(page_url).content.decode()
    assert "Review the evidence" not in own and "Attach evidence" in own and "Raise a defect found in this run" in own

    client.force_login(execution_assurer)
    theirs = client.get(page_url).content.decode()
    assert "Review the evidence" in theirs and "Attach evidence" not in theirs
    refused = client.post(page_url + "review/", {"decision": "reject", "comment": ""})
    assert refused.status_code == 422 and 'href="#review-comment"' in refused.content.decode()
    done = client.post(page_url + "review/", {"decision": "reject", "comment": "Wrong environment."})
    assert done.status_code == 302
    run.refresh_from_db()
    assert run.review == EvidenceReview.REJECTED

    client.force_login(member)
    rejected = client.get(page_url).content.decode()
    assert 'id="rejected"' in rejected and "Wrong environment." in rejected
    attached = client.post(page_url + "evidence/", {"files": [pdf("better.pdf")]})
    assert attached.status_code == 302
    run.refresh_from_db()
    assert run.review == EvidenceReview.PENDING
    bad = client.post(page_url + "evidence/", {})
    assert bad.status_code == 422 and "Choose the evidence files to attach" in bad.content.decode()


def test_evidence_downloads_from_the_run_page(client, member, execution_app, other_member):
    run = record(member, execution_app)
    evidence = run.evidence.get()
    client.force_login(member)
    response = client.get(url(execution_app, f"executions/{run.pk}/evidence/{evidence.pk}/"))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert 'filename="evidence.pdf"' in response["Content-Disposition"]
    client.force_login(other_member)
    assert client.get(url(execution_app, f"executions/{run.pk}/")).status_code == 404
    assert client.get(url(execution_app, f"executions/{run.pk}/evidence/{evidence.pk}/")).status_code == 404
    assert client.get(url(execution_app, "executions/")).status_code == 404
    assert client.get(url(execution_app, "results/export/")).status_code == 404


# --- defects ------------------------------------------------------------------------------------------------


def test_raising_and_working_a_defect_on_the_pages(client, member, execution_app, execution_assurer):
    run = record(member, execution_app)
    client.force_login(member)
    form = client.get(url(execution_app, "defects/new/"), {"execution": run.pk}).content.decode()
    assert re.search(rf'value="{run.pk}"\s+checked', form)
    refused = client.post(url(execution_app, "defects/new/"), {"title": "", "severity": "9"})
    assert refused.status_code == 422
    assert 'href="#title"' in refused.content.decode() and 'href="#severity"' in refused.content.decode()
    raised = client.post(
        url(execution_app, "defects/new/"),
        {"title": "Flow 2 rejected", "description": "Twice.", "severity": "2", "executions": [str(run.pk)]},
    )
    defect = Defect.objects.get()
    assert raised.status_code == 302 and raised["Location"] == url(execution_app, f"defects/{defect.pk}/")
    detail = client.get(raised["Location"]).content.decode()
    assert "DEF-0001: Flow 2 rejected" in detail and "2 – High" in detail and "Change the title" in detail

    edited = client.post(
        url(execution_app, f"defects/{defect.pk}/edit/"),
        {"title": "Flow 2 rejected by the DIP", "description": "Twice.", "severity": "2", "executions": [str(run.pk)]},
    )
    assert edited.status_code == 302
    refused_status = client.post(url(execution_app, f"defects/{defect.pk}/status/"), {"status": "deferred"})
    assert refused_status.status_code == 422 and 'href="#status-comment"' in refused_status.content.decode()
    assert client.post(url(execution_app, f"defects/{defect.pk}/status/"), {"status": "fixed"}).status_code == 302

    client.force_login(execution_assurer)
    theirs = client.get(url(execution_app, f"defects/{defect.pk}/")).content.decode()
    assert "Change the title" not in theirs and "Change the status" in theirs
    assert (
        client.post(url(execution_app, f"defects/{defect.pk}/comments/"), {"comment": "Retested: fine."}).status_code
        == 302
    )
    assert client.post(url(execution_app, f"defects/{defect.pk}/status/"), {"status": "closed"}).status_code == 302
    listed = client.get(url(execution_app, "defects/"), {"status": "closed"}).content.decode()
    assert "DEF-0001" in listed and "Flow 2 rejected by the DIP" in listed
    thread = client.get(url(execution_app, f"defects/{defect.pk}/")).content.decode()
    assert "Retested: fine." in thread and "fixed, awaiting retest → closed" in thread


def test_defect_pages_of_another_organisation_are_not_found(client, member, execution_app, other_member):
    defect = raise_defect(member, execution_app)
    client.force_login(other_member)
    for path in ("defects/", "defects/new/", f"defects/{defect.pk}/", f"defects/{defect.pk}/edit/"):
        assert client.get(url(execution_app, path)).status_code == 404, path
    assert client.post(url(execution_app, f"defects/{defect.pk}/status/"), {"status": "fixed"}).status_code == 404


# --- the report -----------------------------------------------------------------------------------------------


def test_the_report_page_from_request_to_download(client, member, execution_app, other_member):
    record(member, execution_app)
    client.force_login(member)
    empty = client.get(url(execution_app, "report/")).content.decode()
    assert "No report has been generated yet" in empty and "Generate the report" in empty
    assert client.post(url(execution_app, "report/")).status_code == 302
    waiting = client.get(url(execution_app, "report/")).content.decode()
    assert (
        "Being generated" in waiting and 'hx-trigger="every 2s"' in waiting and "Generate a new report" not in waiting
    )
    report = CompletionReport.objects.get()
    assert client.get(url(execution_app, f"report/{report.pk}/pdf/")).status_code == 404  # not ready yet
    again = client.post(url(execution_app, "report/"))
    assert again.status_code == 409 and "already being generated" in again.content.decode()

    reports.completion_report_generate(report_id=report.pk)
    fragment = client.get(url(execution_app, "report/status/")).content.decode()
    assert "hx-trigger" not in fragment and "Download the report (PDF)" in fragment
    assert "1 of 3" in fragment  # required cases passed
    pdf_response = client.get(url(execution_app, f"report/{report.pk}/pdf/"))
    assert pdf_response.status_code == 200 and pdf_response["Content-Type"] == "application/pdf"
    assert b"".join(pdf_response.streaming_content).startswith(b"%PDF")
    xlsx_response = client.get(url(execution_app, f"report/{report.pk}/xlsx/"))
    book = load_workbook(io.BytesIO(b"".join(xlsx_response.streaming_content)), read_only=True)
    assert book.sheetnames == ["Summary", "Cases", "Defects", "Work-off"]
    assert client.get(url(execution_app, f"report/{report.pk}/docx/")).status_code == 404

    client.force_login(other_member)
    assert client.get(url(execution_app, "report/")).status_code == 404
    assert client.get(url(execution_app, f"report/{report.pk}/pdf/")).status_code == 404
    assert client.post(url(execution_app, "report/")).status_code == 404
    assert CompletionReport.objects.get().status == ReportStatus.READY


def test_the_admin_shows_runs_defects_and_reports_read_only(client, member, execution_app):
    from portal.factories import UserFactory

    run = record(member, execution_app)
    defect = raise_defect(member, execution_app, execution_ids=[run.pk])
    services.defect_comment(actor=member, application_id=execution_app.pk, defect_id=defect.pk, text="Seen again.")
    reports.completion_report_request(actor=member, application_id=execution_app.pk)
    client.force_login(UserFactory(email="root@portal.test", is_staff=True, is_superuser=True))
    for model in ("testexecution", "defect", "completionreport"):
        assert client.get(f"/admin/testing/{model}/").status_code == 200, model
        assert client.get(f"/admin/testing/{model}/add/").status_code == 403, model
    page = client.get(f"/admin/testing/defect/{defect.pk}/change/")
    assert page.status_code == 200 and "Seen again." in page.content.decode()
