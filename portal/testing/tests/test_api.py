"""The PIT API: read the checklist and the RTTM versions, record results (JSON or multipart with
evidence), remove evidence, upload RTTMs, download files; errors as `{code, message, details}`."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.api.tests.conftest import assert_error
from portal.testing.models import PitCriterionResult
from portal.testing.services import pit_criterion_record
from portal.testing.testing_support import pit_complete_checklist
from portal.testing.tests.conftest import csv, pdf, snapshot, xlsx
from portal.testing.tests.urls import API_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.testing.tests.urls")]


def pit_url(application, rest=""):
    return f"{API_PREFIX}/applications/{application.pk}/pit{rest}"


def test_read_the_checklist(api_as, member, pit_app):
    pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf("dbt1.pdf")]
    )
    response = api_as(member).get(pit_url(pit_app))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["application"]["id"] == pit_app.pk
    assert body["task"]["code"] == "pit"
    assert body["task"]["state"] == "in_progress"
    assert body["can_edit"] is True
    criteria = {c["code"]: c for c in body["criteria"]}
    dbt1 = criteria["pit_dbt1_complete"]
    assert dbt1["status"] == "met"
    assert dbt1["result"]["met"] is True
    assert dbt1["result"]["recorded_by"] == member.display_name
    assert dbt1["evidence"][0]["name"] == "dbt1.pdf"
    assert dbt1["evidence"][0]["file_type"] == "pdf"
    assert dbt1["missing"] == []
    assert criteria["functional_tests_complete"]["status"] == "not_recorded"
    assert [c["checkpoint"] for c in body["rttm"]] == ["pit_entry", "pit_exit"]
    assert body["rttm"][0]["current_version"] is None
    assert "the RTTM at PIT exit has not been uploaded" in body["missing"]


def test_staff_read_but_may_not_edit(api_as, programme, pit_app):
    body = api_as(programme).get(pit_url(pit_app)).json()
    assert body["can_edit"] is False


def test_record_a_result_as_json(api_as, member, pit_app):
    response = api_as(member).post(
        pit_url(pit_app, "/criteria/defects_triaged"), {"met": False, "note": "Two severity 1 defects open."}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "not_met"
    assert body["missing"] == [
        "“All defects triaged, with no open severity 1 defect” is not met",
        "“All defects triaged, with no open severity 1 defect” needs evidence",
    ]


def test_record_a_result_with_evidence_as_multipart(api_as, member, pit_app):
    response = api_as(member).post_multipart(
        pit_url(pit_app, "/criteria/defects_triaged/upload"),
        {"met": "true", "note": "Log attached.", "files": [pdf("log.pdf"), csv("defects.csv")]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "met"
    assert sorted(e["name"] for e in body["evidence"]) == ["defects.csv", "log.pdf"]


def test_remove_evidence(api_as, member, pit_app):
    result = pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf()]
    )
    evidence = result.evidence.get()
    url = pit_url(pit_app, f"/criteria/pit_dbt1_complete/evidence/{evidence.pk}")
    response = api_as(member).delete(url)
    assert response.status_code == 200, response.content
    assert response.json()["evidence"] == []
    assert_error(api_as(member).delete(url), 404, "not_found")


def test_upload_rttm_versions(api_as, member, pit_app):
    client = api_as(member)
    first = client.post_multipart(pit_url(pit_app, "/rttm/pit_entry"), {"file": csv("v1.csv"), "note": "Baseline"})
    assert first.status_code == 201, first.content
    assert first.json()["version"] == 1
    assert first.json()["file"]["name"] == "v1.csv"
    second = client.post_multipart(pit_url(pit_app, "/rttm/pit_entry"), {"file": xlsx("v2.xlsx")})
    assert second.json()["version"] == 2
    listing = client.get(pit_url(pit_app, "/rttm")).json()
    assert listing[0]["current_version"] == 2
    assert [v["version"] for v in listing[0]["versions"]] == [2, 1]
    assert listing[0]["versions"][1]["note"] == "Baseline"
    assert listing[1]["versions"] == []


def test_download_a_file(api_as, member, programme, other_member, pit_app):
    result = pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf("d.pdf")]
    )
    evidence = result.evidence.get()
    url = pit_url(pit_app, f"/evidence/{evidence.pk}")
    response = api_as(programme).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert_error(api_as(other_member).get(url), 404, "not_found")


# --- refusals --------------------------------------------------------------------------------------


def test_refusals_change_nothing(api_as, member, other_member, programme, pit_app):
    before = snapshot()
    assert_error(api_as(other_member).get(pit_url(pit_app)), 404, "not_found")
    assert_error(
        api_as(other_member).post(pit_url(pit_app, "/criteria/pit_dbt1_complete"), {"met": True}), 404, "not_found"
    )
    assert_error(
        api_as(programme).post(pit_url(pit_app, "/criteria/pit_dbt1_complete"), {"met": True}), 403, "permission_denied"
    )
    assert_error(api_as(member).post(pit_url(pit_app, "/criteria/nope"), {"met": True}), 404, "not_found")
    assert_error(
        api_as(member).post(pit_url(pit_app, "/criteria/pit_dbt1_complete"), {"note": "x"}), 422, "invalid_input"
    )
    body = assert_error(
        api_as(member).post_multipart(pit_url(pit_app, "/rttm/pit_exit"), {"file": pdf("rttm.pdf")}),
        422,
        "invalid_input",
    )
    assert body["message"].startswith("An RTTM must be an XLSX or CSV file")
    assert body["details"]["field"] == "file"
    assert_error(
        api_as(member).post_multipart(pit_url(pit_app, "/rttm/qt_entry"), {"file": csv()}), 422, "invalid_input"
    )
    assert_error(
        api_as(member).post_multipart(
            pit_url(pit_app, "/criteria/pit_dbt1_complete/upload"),
            {"met": "true", "files": [SimpleUploadedFile("x.pdf", b"not a pdf")]},
        ),
        422,
        "invalid_input",
    )
    assert snapshot() == before


def test_submitting_through_the_task_api_names_what_is_missing(api_as, member, pit_app):
    response = api_as(member).post(f"/api/v1/applications/{pit_app.pk}/tasks/pit/transitions", {"action": "submit"})
    body = assert_error(response, 409, "invalid_transition")
    assert body["message"].startswith("PIT cannot be submitted yet:")
    assert "the RTTM at PIT entry has not been uploaded" in body["details"]["missing"]
    pit_complete_checklist(pit_app, actor=member)
    response = api_as(member).post(f"/api/v1/applications/{pit_app.pk}/tasks/pit/transitions", {"action": "submit"})
    assert response.status_code == 200, response.content
    assert PitCriterionResult.objects.filter(application=pit_app).exists()


def test_a_frozen_checklist_answers_409(api_as, member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    api_as(member).post(f"/api/v1/applications/{pit_app.pk}/tasks/pit/transitions", {"action": "submit"})
    before = snapshot()
    response = api_as(member).post(pit_url(pit_app, "/criteria/pit_dbt1_complete"), {"met": False})
    assert_error(response, 409, "invalid_transition")
    assert snapshot() == before
