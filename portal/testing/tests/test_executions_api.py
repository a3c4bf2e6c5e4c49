"""The QT execution API (`/v1/applications/{id}/qt/…`): runs, evidence and review, defects, the results
export and the completion report, as a client system uses them; refusals in the API's error shape,
changing nothing."""

import datetime
import io
import json

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from portal.api.tests.conftest import ApiClient, assert_error
from portal.testing import reports
from portal.testing.models import Defect, TestExecution
from portal.testing.models.execution import CompletionReport
from portal.testing.tests.execution_support import pdf, raise_defect, record, snapshot

pytestmark = pytest.mark.django_db


def base(application):
    return f"/api/v1/applications/{application.pk}/qt"


def when(hours=2):
    return (timezone.now() - datetime.timedelta(hours=hours)).isoformat()


def test_recording_a_blocked_run_as_json_and_a_passed_one_with_files(api_as, member, execution_app):
    client = api_as(member)
    blocked = client.post(
        f"{base(execution_app)}/executions",
        {"case": "QTC-EX-002", "status": "blocked", "tester": "Tess", "executed_at": when(), "notes": "Stub down."},
    )
    assert blocked.status_code == 201, blocked.content
    body = blocked.json()
    assert body["case"] == "QTC-EX-002" and body["status"] == "blocked" and body["review"] == "pending"
    assert body["application"]["reference"] == execution_app.reference and len(body["steps"]) == 2
    assert body["is_latest"] is True and body["evidence"] == []

    before = snapshot()
    no_files = client.post(
        f"{base(execution_app)}/executions",
        {
            "case": "QTC-EX-001",
            "status": "passed",
            "tester": "Tess",
            "executed_at": when(),
            "step_results": [{"step": n, "status": "passed"} for n in (1, 2, 3)],
        },
    )
    error = assert_error(no_files, 422, "invalid_input")
    assert error["details"]["field"] == "files"
    assert snapshot() == before

    uploaded = client.post_multipart(
        f"{base(execution_app)}/executions/upload",
        {
            "case": "QTC-EX-001",
            "status": "passed",
            "tester": "Tess",
            "executed_at": when(),
            "step_results": json.dumps([{"step": n, "status": "passed", "actual": "ok"} for n in (1, 2, 3)]),
            "files": [pdf("a.pdf"), pdf("b.pdf")],
        },
    )
    assert uploaded.status_code == 201, uploaded.content
    run = uploaded.json()
    assert [e["name"] for e in run["evidence"]] == ["a.pdf", "b.pdf"] and run["evidence_count"] == 2
    assert [s["status"] for s in run["steps"]] == ["passed"] * 3 and run["steps"][0]["actual"] == "ok"

    bad_json = client.post_multipart(
        f"{base(execution_app)}/executions/upload",
        {"case": "QTC-EX-001", "status": "passed", "tester": "Tess", "executed_at": when(), "step_results": "[{"},
    )
    assert assert_error(bad_json, 422, "invalid_input")["details"]["field"] == "step_results"


def test_listing_filtering_and_reading_runs(api_as, member, execution_app, other_member):
    first = record(member, execution_app, executed_at=timezone.now() - datetime.timedelta(days=2))
    record(member, execution_app)
    client = api_as(member)
    listed = client.get(f"{base(execution_app)}/executions").json()
    assert listed["count"] == 2 and [r["is_latest"] for r in listed["items"]] == [True, False]
    assert client.get(f"{base(execution_app)}/executions", {"latest_only": "true"}).json()["count"] == 1
    assert client.get(f"{base(execution_app)}/executions", {"status": "failed"}).json()["count"] == 0
    # Paged by cursor: the first page's next_cursor leads to the second; the last page has none.
    page_one = client.get(f"{base(execution_app)}/executions", {"limit": 1}).json()
    assert page_one["count"] == 2 and page_one["next_cursor"]
    page_two = client.get(f"{base(execution_app)}/executions", {"limit": 1, "cursor": page_one["next_cursor"]}).json()
    assert [r["id"] for r in page_two["items"]] == [first.pk] and page_two["next_cursor"] is None
    assert_error(client.get(f"{base(execution_app)}/executions", {"cursor": "not-a-cursor"}), 422, "invalid_input")
    assert_error(client.get(f"{base(execution_app)}/executions", {"review": "maybe"}), 422, "invalid_input")
    one = client.get(f"{base(execution_app)}/executions/{first.pk}").json()
    assert one["id"] == first.pk and one["is_latest"] is False
    assert_error(api_as(other_member).get(f"{base(execution_app)}/executions"), 404, "not_found")
    assert_error(api_as(other_member).get(f"{base(execution_app)}/executions/{first.pk}"), 404, "not_found")
    assert_error(ApiClient().get(f"{base(execution_app)}/executions"), 401, "not_authenticated")


def test_evidence_and_review_through_the_api(api_as, member, execution_app, execution_assurer):
    run = record(member, execution_app)
    ta = api_as(execution_assurer)
    refused = ta.post(f"{base(execution_app)}/executions/{run.pk}/review", {"decision": "reject"})
    assert assert_error(refused, 422, "invalid_input")["details"]["field"] == "comment"
    rejected = ta.post(
        f"{base(execution_app)}/executions/{run.pk}/review", {"decision": "reject", "comment": "Blurred."}
    )
    assert rejected.status_code == 200 and rejected.json()["review"] == "rejected"
    assert rejected.json()["review_comment"] == "Blurred." and rejected.json()["reviewed_by"]
    assert_error(
        api_as(member).post(f"{base(execution_app)}/executions/{run.pk}/review", {"decision": "accept"}),
        403,
        "permission_denied",
    )

    added = api_as(member).post_multipart(
        f"{base(execution_app)}/executions/{run.pk}/evidence", {"files": [pdf("sharp.pdf")]}
    )
    assert added.status_code == 200 and added.json()["review"] == "pending" and added.json()["evidence_count"] == 2
    accepted = ta.post(f"{base(execution_app)}/executions/{run.pk}/review", {"decision": "accept"})
    assert accepted.json()["review"] == "accepted"
    again = api_as(member).post_multipart(
        f"{base(execution_app)}/executions/{run.pk}/evidence", {"files": [pdf("more.pdf")]}
    )
    assert_error(again, 409, "invalid_transition")

    evidence_id = added.json()["evidence"][-1]["id"]
    download = ta.get(f"{base(execution_app)}/executions/{run.pk}/evidence/{evidence_id}")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_defects_through_the_api(api_as, member, execution_app, execution_assurer, other_member):
    run = record(member, execution_app)
    client = api_as(member)
    raised = client.post(
        f"{base(execution_app)}/defects",
        {"title": "Flow 2 rejected", "severity": 1, "execution_ids": [run.pk], "description": "Twice."},
    )
    assert raised.status_code == 201, raised.content
    defect = raised.json()
    assert defect["reference"] == "DEF-0001" and defect["status"] == "open" and defect["executions"][0]["id"] == run.pk
    assert defect["next_statuses"] == ["fixed", "closed", "deferred"]
    assert_error(client.post(f"{base(execution_app)}/defects", {"title": "x", "severity": 7}), 422, "invalid_input")
    assert_error(
        api_as(execution_assurer).post(f"{base(execution_app)}/defects", {"title": "x", "severity": 3}),
        403,
        "permission_denied",
    )

    updated = client.request("PUT", f"{base(execution_app)}/defects/{defect['id']}")
    assert updated.status_code == 422  # no body
    updated = client.client.put(
        f"{base(execution_app)}/defects/{defect['id']}",
        json.dumps({"title": "Flow 2 rejected by the DIP", "severity": 2, "execution_ids": []}),
        content_type="application/json",
        headers=client.headers,
    )
    assert updated.status_code == 200 and updated.json()["severity"] == 2 and updated.json()["executions"] == []

    fixed = client.post(
        f"{base(execution_app)}/defects/{defect['id']}/status", {"status": "fixed", "comment": "Patched."}
    )
    assert fixed.json()["status"] == "fixed" and fixed.json()["entries"][0]["to_status"] == "fixed"
    assert_error(
        client.post(f"{base(execution_app)}/defects/{defect['id']}/status", {"status": "deferred"}),
        422,
        "invalid_input",
    )
    commented = api_as(execution_assurer).post(
        f"{base(execution_app)}/defects/{defect['id']}/comments", {"comment": "Retest?"}
    )
    assert commented.status_code == 201 and commented.json()["entries"][-1]["text"] == "Retest?"
    closed = api_as(execution_assurer).post(
        f"{base(execution_app)}/defects/{defect['id']}/status", {"status": "closed"}
    )
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert_error(
        client.post(f"{base(execution_app)}/defects/{defect['id']}/status", {"status": "fixed"}),
        409,
        "invalid_transition",
    )

    listed = client.get(f"{base(execution_app)}/defects", {"status": "closed"}).json()
    assert listed["count"] == 1 and listed["items"][0]["reference"] == "DEF-0001"
    assert_error(api_as(other_member).get(f"{base(execution_app)}/defects/{defect['id']}"), 404, "not_found")
    assert Defect.objects.count() == 1


def test_the_results_export(api_as, member, execution_app):
    record(member, execution_app)
    response = api_as(member).get(f"{base(execution_app)}/results.xlsx", {"status": "passed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True)["Results"].iter_rows(values_only=True))
    assert rows[1][0] == "QTC-EX-001" and len(rows) == 2


def test_the_completion_report_through_the_api(api_as, member, execution_app, other_member):
    raise_defect(member, execution_app, severity=1)
    client = api_as(member)
    requested = client.post(f"{base(execution_app)}/completion-reports")
    assert requested.status_code == 202 and requested.json()["status"] == "queued"
    report_id = requested.json()["id"]
    assert_error(client.post(f"{base(execution_app)}/completion-reports"), 409, "conflict")
    assert_error(client.get(f"{base(execution_app)}/completion-reports/{report_id}/pdf"), 404, "not_found")

    reports.completion_report_generate(report_id=report_id)
    status = client.get(f"{base(execution_app)}/completion-reports/{report_id}").json()
    assert status["status"] == "ready" and status["summary"]["open_defects"] == 1 and len(status["pdf_sha256"]) == 64
    pdf_file = client.get(f"{base(execution_app)}/completion-reports/{report_id}/pdf")
    assert pdf_file.status_code == 200 and pdf_file["Content-Type"] == "application/pdf"
    xlsx_file = client.get(f"{base(execution_app)}/completion-reports/{report_id}/xlsx")
    assert xlsx_file.status_code == 200 and xlsx_file["Content-Type"].startswith("application/vnd.openxml")
    assert_error(client.get(f"{base(execution_app)}/completion-reports/{report_id}/docx"), 422, "invalid_input")
    assert [r["id"] for r in client.get(f"{base(execution_app)}/completion-reports").json()] == [report_id]

    other = api_as(other_member)
    assert_error(other.get(f"{base(execution_app)}/completion-reports"), 404, "not_found")
    assert_error(other.post(f"{base(execution_app)}/completion-reports"), 404, "not_found")
    assert_error(other.get(f"{base(execution_app)}/completion-reports/{report_id}/pdf"), 404, "not_found")
    assert CompletionReport.objects.count() == 1


def test_refused_writes_change_nothing(api_as, member, execution_app, execution_assurer, other_member):
    run = record(member, execution_app)
    before = snapshot()
    assert_error(
        api_as(execution_assurer).post(
            f"{base(execution_app)}/executions",
            {"case": "QTC-EX-002", "status": "blocked", "tester": "T", "executed_at": when(), "notes": "x"},
        ),
        403,
        "permission_denied",
    )
    assert_error(
        api_as(other_member).post(f"{base(execution_app)}/executions/{run.pk}/review", {"decision": "accept"}),
        404,
        "not_found",
    )
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    refused = api_as(member).post(
        f"{base(execution_app)}/executions",
        {"case": "QTC-EX-002", "status": "blocked", "tester": "T", "executed_at": future, "notes": "x"},
    )
    assert assert_error(refused, 422, "invalid_input")["details"]["field"] == "executed_at"
    assert snapshot() == before
    assert TestExecution.objects.count() == 1
