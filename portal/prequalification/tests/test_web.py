"""The PQS pages: the form with its date inputs and error summary, proposal items, "check your answers"
and submitting, the Code Bodies' decisions, and what everyone else sees."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.prequalification.models import PqsSubmission, RelianceProposalItem
from portal.prequalification.services import pqs_save_draft, reliance_item_add
from portal.prequalification.tests.conftest import PDF, PLAN, RELIED_ON, snapshot, task_of
from portal.qualification.services import task_transition
from portal.qualification.workflow import TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.prequalification.tests.urls")]


def _url(application, rest=""):
    return f"/applications/{application.pk}/pqs/{rest}"


FORM = {
    "preferred_wave": "wave-1",
    "pit_approach": "PIT in our own environment.",
    "pit_start_date_day": "4",
    "pit_start_date_month": "1",
    "pit_start_date_year": "2027",
    "pit_completion_date_day": "30",
    "pit_completion_date_month": "4",
    "pit_completion_date_year": "2027",
    "qt_approach": "The QTC set in the QTF.",
    "qt_start_date_day": "1",
    "qt_start_date_month": "6",
    "qt_start_date_year": "2027",
    "qt_completion_date_day": "30",
    "qt_completion_date_month": "9",
    "qt_completion_date_year": "2027",
    "target_migration_date_day": "1",
    "target_migration_date_month": "12",
    "target_migration_date_year": "2027",
    "supplier_hub_relationships": "",
}

ITEM = {
    "title": "Vendor flow management",
    "relied_on": "yes",
    "scope": "test_cases",
    "identifiers": "QTC-SUP-001\nQTC-SUP-002",
    "provider_kind": "software_vendor",
    "provider_name": "Example Billing Systems Ltd",
    "artefacts": "Vendor test completion report",
    "rationale": "Tested end to end by the vendor.",
}


# --- the PQS form -----------------------------------------------------------------------------------


def test_an_empty_pqs_invites_the_participant_to_fill_it_in(login, member, make_application):
    application = make_application()
    html = login(member).get(_url(application)).content.decode()
    assert '<h1 class="govuk-heading-xl">Pre-Qualification Submission</h1>' in html
    assert "Fill in the PQS" in html
    assert "Enter the PIT approach" in html  # a missing answer links to its field
    assert "No items yet." in html
    assert _url(application, "items/new/") in html


def test_the_form_has_govuk_date_inputs_and_wave_radios(login, member, make_application):
    html = login(member).get(_url(make_application(), "edit/")).content.decode()
    for part in ("day", "month", "year"):
        assert f'name="pit_start_date_{part}"' in html
        assert f'id="id_target_migration_date_{part}"' in html
    assert 'class="govuk-date-input"' in html
    assert 'name="preferred_wave" type="radio" value="wave-1"' in html
    assert "Wave 4" in html
    assert "style=" not in html


def test_saving_the_form_stores_the_draft_and_shows_it(login, member, make_application):
    application = make_application()
    client = login(member)
    response = client.post(_url(application, "edit/"), FORM)
    assert response.status_code == 302
    assert response["Location"] == _url(application)
    pqs = PqsSubmission.objects.get(application=application)
    assert pqs.preferred_wave is not None
    assert pqs.preferred_wave.code == "wave-1"
    assert str(pqs.target_migration_date) == "2027-12-01"
    assert task_of(application).state == TaskState.IN_PROGRESS
    html = client.get(_url(application)).content.decode()
    assert "Your PQS has been saved." in html
    assert "1 December 2027" in html
    assert "Change the PQS details" in html
    # The form shows what was saved.
    html = client.get(_url(application, "edit/")).content.decode()
    assert 'name="pit_start_date_year" type="text" inputmode="numeric" value="2027"' in html
    assert 'value="wave-1" checked' in html


@pytest.mark.parametrize(
    ("changes", "message", "target"),
    [
        (
            {"pit_start_date_day": "31", "pit_start_date_month": "2"},
            "The PIT start date must be a real date",
            "id_pit_start_date_day",
        ),
        ({"qt_start_date_month": ""}, "The QT start date must include a month", "id_qt_start_date_day"),
        ({"target_migration_date_year": "27"}, "Year must include 4 numbers", "id_target_migration_date_day"),
        ({"preferred_wave": "wave-99"}, "Select a wave from the list", "id_preferred_wave"),
    ],
)
def test_a_malformed_answer_is_shown_in_the_error_summary(login, member, make_application, changes, message, target):
    application = make_application()
    before = snapshot()
    response = login(member).post(_url(application, "edit/"), {**FORM, **changes})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'<a href="#{target}">{message}</a>' in html
    assert "govuk-form-group--error" in html
    assert html.startswith("<!DOCTYPE html>") and "<title>Error: " in html
    assert snapshot() == before


def test_a_rule_the_service_checks_is_shown_against_its_field(login, member, make_application):
    application = make_application()
    before = snapshot()
    response = login(member).post(_url(application, "edit/"), {**FORM, "pit_completion_date_year": "2026"})
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        '<a href="#id_pit_completion_date_day">The PIT completion date must be on or after its start date</a>' in html
    )
    # What was typed is kept.
    assert 'name="pit_completion_date_year" type="text" inputmode="numeric" value="2026"' in html
    assert snapshot() == before


# --- proposal items ---------------------------------------------------------------------------------


def test_add_an_item_with_an_evidence_file_and_download_it(login, member, make_application):
    application = make_application()
    client = login(member)
    assert client.get(_url(application, "items/new/")).status_code == 200
    upload = SimpleUploadedFile("vendor report.pdf", PDF, content_type="application/pdf")
    response = client.post(_url(application, "items/new/"), {**ITEM, "files": [upload]})
    assert response.status_code == 302, response.content.decode()
    item = RelianceProposalItem.objects.get()
    assert item.identifiers == ["QTC-SUP-001", "QTC-SUP-002"]
    [evidence] = item.evidence.all()
    html = client.get(_url(application)).content.decode()
    assert "Vendor flow management" in html
    assert "QTC-SUP-001, QTC-SUP-002" in html
    download = _url(application, f"items/{item.pk}/evidence/{evidence.pk}/")
    assert download in html
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="vendor report.pdf"')
    assert b"".join(response.streaming_content) == PDF
    # The participant's own download is not a reviewer's: not audited.
    assert not AuditEvent.objects.filter(action="evidence.download").exists()


def test_an_incomplete_item_lists_every_problem(login, member, make_application):
    application = make_application()
    before = snapshot()
    response = login(member).post(_url(application, "items/new/"), {"title": "", "identifiers": "bad id!"})
    assert response.status_code == 422
    html = response.content.decode()
    for target, message in [
        ("id_title", "Enter what the testing covers"),
        ("id_relied_on", "Select whether you rely on this testing"),
        ("id_scope", "Select whether the item is about test scenarios or test cases"),
        ("id_rationale", "Explain why this testing is not relied on"),
    ]:
        assert f'<a href="#{target}">{message}</a>' in html
    assert "is not a test identifier" in html
    assert snapshot() == before


def test_a_bad_file_is_named_and_nothing_is_stored(login, member, make_application):
    application = make_application()
    before = snapshot()
    upload = SimpleUploadedFile("report.pdf", b"MZ not really a pdf")
    response = login(member).post(_url(application, "items/new/"), {**ITEM, "files": [upload]})
    assert response.status_code == 422
    assert '<a href="#id_files">The content of report.pdf is not a PDF file, although its name says so.</a>' in (
        response.content.decode()
    )
    assert snapshot() == before


def test_change_and_remove_an_item(login, member, make_application):
    application = make_application()
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    client = login(member)
    html = client.get(_url(application, f"items/{item.pk}/edit/")).content.decode()
    assert "QTC-SUP-001\nQTC-SUP-002" in html
    response = client.post(_url(application, f"items/{item.pk}/edit/"), {**ITEM, "identifiers": "QTC-SUP-003"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.identifiers == ["QTC-SUP-003"]

    html = client.get(_url(application, f"items/{item.pk}/remove/")).content.decode()
    assert "Are you sure you want to remove “Vendor flow management”?" in html
    response = client.post(_url(application, f"items/{item.pk}/remove/"))
    assert response.status_code == 302
    assert not RelianceProposalItem.objects.exists()


# --- check your answers and submit ------------------------------------------------------------------


def test_check_your_answers_says_what_is_missing_and_submit_is_refused(login, member, make_application):
    application = make_application()
    client = login(member)
    html = client.get(_url(application, "check/")).content.decode()
    assert "Check your answers before submitting your PQS" in html
    assert "You cannot submit yet" in html
    before = snapshot()
    response = client.post(_url(application, "submit/"), {"comment": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is a problem" in html
    assert "The PQS is not complete yet: select the preferred wave" in html
    assert snapshot() == before


def test_check_your_answers_then_submit(login, member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    client = login(member)
    html = client.get(_url(application, "check/")).content.decode()
    assert "You cannot submit yet" not in html
    assert "Wave 2" in html and "Vendor flow management" in html
    assert f'href="{_url(application, "edit/")}#id_qt_approach"' in html
    response = client.post(_url(application, "submit/"), {"comment": "Our PQS."})
    assert response.status_code == 302
    assert task_of(application).state == TaskState.SUBMITTED
    html = client.get(_url(application)).content.decode()
    assert "You submitted your PQS to the Code Bodies." in html
    assert "Version 1, submitted by Priya Member" in html
    assert "Change the PQS details" not in html
    # The editing pages now send the participant back, saying why.
    response = client.get(_url(application, "edit/"), follow=True)
    assert "The PQS is with the Code Bodies for review, so it cannot be changed now." in response.content.decode()


# --- the Code Bodies --------------------------------------------------------------------------------


@pytest.fixture
def submitted(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    item = reliance_item_add(
        actor=member,
        application_id=application.pk,
        fields=RELIED_ON,
        uploads=[SimpleUploadedFile("vendor.pdf", PDF)],
    )
    task_transition(actor=member, application_id=application.pk, task_code="pqs", action="submit")
    return application, item


def test_a_reviewer_decides_on_each_item(login, analyst, submitted):
    application, item = submitted
    client = login(analyst)
    html = client.get(_url(application)).content.decode()
    assert _url(application, f"items/{item.pk}/decision/") in html
    assert "Items awaiting a decision or with changes requested: 1." in html
    assert "Change the PQS details" not in html

    decide = _url(application, f"items/{item.pk}/decision/")
    assert "Record the decision" in client.get(decide).content.decode()
    before = snapshot()
    response = client.post(decide, {"decision": "rejected", "reason": ""})
    assert response.status_code == 422
    assert '<a href="#id_reason">Enter the reason for rejecting the item</a>' in response.content.decode()
    assert snapshot() == before

    response = client.post(decide, {"decision": "changes_requested", "reason": "Which release of the product?"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == "changes_requested"
    html = client.get(_url(application)).content.decode()
    assert "Which release of the product?" in html
    assert "govuk-tag--orange" in html


def test_a_reviewers_download_is_audited(login, analyst, submitted):
    application, item = submitted
    evidence = item.evidence.get()
    response = login(analyst).get(_url(application, f"items/{item.pk}/evidence/{evidence.pk}/"))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="evidence.download", target_id=str(evidence.pk)).count() == 1


def test_wrong_roles_get_403(login, member, analyst, staff, submitted, make_application):
    application, item = submitted
    assert login(member).get(_url(application, f"items/{item.pk}/decision/")).status_code == 403
    assert login(analyst).get(_url(application, "edit/")).status_code == 403
    assert login(analyst).post(_url(application, "items/new/"), ITEM).status_code == 403
    assert login(staff(Role.DIP_MANAGER)).get(_url(application, f"items/{item.pk}/decision/")).status_code == 403


def test_others_see_a_read_only_pqs(login, staff, submitted):
    application, _item = submitted
    html = login(staff(Role.DIP_MANAGER)).get(_url(application)).content.decode()
    assert "Vendor flow management" in html
    assert "/decision/" not in html
    assert "/edit/" not in html


def test_decisions_are_refused_outside_review(login, analyst, member, make_application):
    application = make_application()
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    response = login(analyst).get(_url(application, f"items/{item.pk}/decision/"), follow=True)
    assert "can be decided on only while the PQS is submitted" in response.content.decode()


# --- tenancy and sign-in ----------------------------------------------------------------------------


def test_another_organisation_gets_404_everywhere(login, other_member, submitted):
    application, item = submitted
    evidence = item.evidence.get()
    client = login(other_member)
    for path in (
        "",
        "edit/",
        "check/",
        "items/new/",
        f"items/{item.pk}/edit/",
        f"items/{item.pk}/remove/",
        f"items/{item.pk}/decision/",
        f"items/{item.pk}/evidence/{evidence.pk}/",
    ):
        assert client.get(_url(application, path)).status_code == 404, path
    assert client.post(_url(application, "submit/")).status_code == 404


def test_an_item_of_another_application_answers_404(login, member, make_application, submitted):
    _application, item = submitted
    # The same organisation's second application, on another MPID and role.
    other = make_application(market_role="MEM")
    assert login(member).get(_url(other, f"items/{item.pk}/edit/")).status_code == 404


def test_a_route_without_a_pqs_answers_404(login, member, make_application):
    assert login(member).get(_url(make_application(route="sit"))).status_code == 404


def test_sign_in_is_required(client, make_application):
    response = client.get(_url(make_application()))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
