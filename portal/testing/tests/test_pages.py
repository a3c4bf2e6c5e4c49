"""The PIT page in the browser: it renders for everyone who may see the application, the participant's
forms post and show refusals in the error summary, files download, and the task page links here."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.qualification.hooks import task_page_url_name
from portal.qualification.services import task_transition
from portal.testing.models import PitCriterionResult, RttmUpload
from portal.testing.services import pit_criterion_record
from portal.testing.testing_support import pit_complete_checklist
from portal.testing.tests.conftest import csv, pdf, snapshot, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.testing.tests.urls")]


def page_url(application):
    return reverse("testing:pit_checklist", args=[application.pk])


def record_url(application, code="pit_dbt1_complete"):
    return reverse("testing:pit_criterion_record", args=[application.pk, code])


def rttm_url(application, checkpoint="pit_entry"):
    return reverse("testing:pit_rttm_upload", args=[application.pk, checkpoint])


def test_the_task_page_is_registered():
    assert task_page_url_name("pit") == "testing:pit_checklist"


def test_the_participant_sees_the_checklist_with_its_forms(login, member, pit_app):
    response = login(member).get(page_url(pit_app))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pre-Integration Testing" in html
    assert "PIT DBT1 completed" in html
    assert "Before PIT can be submitted" in html
    assert record_url(pit_app) in html
    assert rttm_url(pit_app, "pit_exit") in html
    assert 'id="met-pit_dbt1_complete"' in html
    assert "settlement_volume_tests_complete" not in html  # Data Services only


def test_staff_see_the_checklist_without_forms(login, programme, member, pit_app):
    pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf("dbt1.pdf")]
    )
    response = login(programme).get(page_url(pit_app))
    assert response.status_code == 200
    html = response.content.decode()
    assert "dbt1.pdf" in html
    assert record_url(pit_app) not in html
    assert rttm_url(pit_app) not in html


def test_another_organisation_gets_404(login, other_member, pit_app):
    client = login(other_member)
    assert client.get(page_url(pit_app)).status_code == 404
    before = snapshot()
    assert client.post(record_url(pit_app), {"met": "yes"}).status_code == 404
    assert client.post(rttm_url(pit_app), {"file": csv()}).status_code == 404
    assert snapshot() == before


def test_signing_in_is_required(client, pit_app):
    response = client.get(page_url(pit_app))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_recording_a_result_with_evidence(login, member, pit_app):
    response = login(member).post(
        record_url(pit_app), {"met": "yes", "note": "Signed off.", "files": [pdf("a.pdf"), pdf("b.pdf")]}
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(pit_app) + "#criterion-pit_dbt1_complete"
    result = PitCriterionResult.objects.get(application=pit_app, criterion__code="pit_dbt1_complete")
    assert result.met and result.note == "Signed off."
    assert result.evidence.count() == 2
    page = login(member).get(page_url(pit_app)).content.decode()
    assert "You recorded “PIT DBT1 completed”." in page
    assert "a.pdf" in page and "b.pdf" in page


def test_a_missing_choice_is_shown_in_the_error_summary(login, member, pit_app):
    before = snapshot()
    response = login(member).post(record_url(pit_app), {"note": "Forgot the choice"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#met-pit_dbt1_complete"' in html
    assert "Select whether the criterion is met" in html
    assert "Forgot the choice" in html  # what was entered is kept
    assert snapshot() == before


def test_a_bad_file_is_shown_against_the_field(login, member, pit_app):
    before = snapshot()
    response = login(member).post(
        record_url(pit_app), {"met": "yes", "files": [SimpleUploadedFile("fake.pdf", b"MZ\x90binary")]}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#files-pit_dbt1_complete"' in html
    assert "is not a PDF file" in html
    assert snapshot() == before


def test_staff_posting_a_result_is_forbidden(login, programme, pit_app):
    before = snapshot()
    assert login(programme).post(record_url(pit_app), {"met": "yes"}).status_code == 403
    assert snapshot() == before


def test_a_submitted_checklist_refuses_changes_on_the_page(login, member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    before = snapshot()
    response = login(member).post(record_url(pit_app), {"met": "no"})
    assert response.status_code == 409
    assert "is submitted, so its checklist cannot be changed now" in response.content.decode()
    assert snapshot() == before
    assert record_url(pit_app) not in login(member).get(page_url(pit_app)).content.decode()


def test_an_unknown_criterion_or_checkpoint_is_404(login, member, pit_app):
    client = login(member)
    assert client.post(record_url(pit_app, "no_such_thing"), {"met": "yes"}).status_code == 404
    assert client.post(rttm_url(pit_app, "qt_exit"), {"file": csv()}).status_code == 404


def test_uploading_rttm_versions(login, member, pit_app):
    client = login(member)
    response = client.post(rttm_url(pit_app), {"file": csv("v1.csv"), "note": "Baseline"})
    assert response.status_code == 302
    assert response["Location"].endswith("#rttm-pit_entry")
    client.post(rttm_url(pit_app), {"file": xlsx("v2.xlsx")})
    html = client.get(page_url(pit_app)).content.decode()
    assert "v1.csv" in html and "v2.xlsx" in html and "Baseline" in html
    assert "You uploaded version 2 of the RTTM at PIT entry." in html
    assert RttmUpload.objects.filter(application=pit_app).count() == 2


def test_a_wrong_rttm_file_is_shown_against_the_field(login, member, pit_app):
    before = snapshot()
    response = login(member).post(rttm_url(pit_app, "pit_exit"), {"file": pdf("rttm.pdf")})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#file-pit_exit"' in html
    assert "An RTTM must be an XLSX or CSV file" in html
    response = login(member).post(rttm_url(pit_app, "pit_exit"), {})
    assert "Choose the RTTM file to upload." in response.content.decode()
    assert snapshot() == before


def test_removing_evidence_on_the_page(login, member, pit_app):
    result = pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf("x.pdf")]
    )
    evidence = result.evidence.get()
    url = reverse("testing:pit_evidence_remove", args=[pit_app.pk, "pit_dbt1_complete", evidence.pk])
    assert login(member).post(url).status_code == 302
    assert not result.evidence.exists()
    assert login(member).post(url).status_code == 404


def test_downloads_are_attachments_and_reviewer_downloads_are_audited(login, member, programme, other_member, pit_app):
    result = pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", met=True, files=[pdf("dbt1.pdf")]
    )
    evidence = result.evidence.get()
    url = reverse("testing:pit_evidence_download", args=[pit_app.pk, evidence.pk])
    response = login(member).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="dbt1.pdf"')
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    login(programme).get(url)
    assert AuditEvent.objects.filter(action="evidence.download", actor=programme).count() == 1
    assert login(other_member).get(url).status_code == 404


def test_the_complete_checklist_links_to_submitting(login, member, pit_app, staff):
    pit_complete_checklist(pit_app, actor=member)
    html = login(member).get(page_url(pit_app)).content.decode()
    assert "Submit PIT for assurance" in html
    assert reverse("web:task_detail", args=[pit_app.pk, "pit"]) in html
    assert login(staff(Role.DIP_MANAGER)).get(page_url(pit_app)).status_code == 200


def test_submitting_on_the_task_page_shows_what_is_missing(login, member, pit_app):
    url = reverse("web:task_action", args=[pit_app.pk, "pit", "submit"])
    before = snapshot()
    response = login(member).post(url, {"comment": ""})
    assert response.status_code == 409
    html = response.content.decode()
    assert "There is a problem" in html
    assert "PIT cannot be submitted yet:" in html
    assert "the RTTM at PIT exit has not been uploaded" in html
    assert snapshot() == before


def test_the_task_page_links_to_the_checklist(login, member, pit_app):
    html = login(member).get(reverse("web:task_detail", args=[pit_app.pk, "pit"])).content.decode()
    assert page_url(pit_app) in html
