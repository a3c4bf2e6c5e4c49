"""The DIP onboarding page in the browser: the steps as a checklist, the DIP IDs with the DIP
Manager's confirm button, the participant's forms, and refusals in the error summary."""

import pytest
from django.urls import reverse

from portal.dip.models import DipId, DipStepProgress
from portal.dip.services import dip_id_add, dip_id_confirm
from portal.dip.tests.conftest import snapshot
from portal.qualification.hooks import task_page_url_name
from portal.qualification.services import task_transition

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.dip.tests.urls")]


def page_url(application):
    return reverse("dip:onboarding", args=[application.pk])


def step_url(application, code="company_verified"):
    return reverse("dip:step_set", args=[application.pk, code])


def add_url(application):
    return reverse("dip:dip_id_add", args=[application.pk])


def test_the_task_page_is_registered():
    assert task_page_url_name("dip_onboarding") == "dip:onboarding"


def test_the_participant_sees_the_steps_and_the_form(login, member, dip_app):
    response = login(member).get(page_url(dip_app))
    assert response.status_code == 200
    html = response.content.decode()
    assert "DIP onboarding" in html
    assert "Access the DIP and verify company details" in html
    assert "Set up message channels" in html
    assert step_url(dip_app) in html
    assert "Record the pre-production (uit) DIP ID" in html
    assert "Before DIP onboarding can be submitted" in html


def test_marking_a_step_done_and_not_done(login, member, dip_app):
    client = login(member)
    response = client.post(step_url(dip_app), {"done": "yes", "note": "Verified."})
    assert response.status_code == 302
    assert response["Location"] == page_url(dip_app) + "#step-company_verified"
    progress = DipStepProgress.objects.get(application=dip_app, step__code="company_verified")
    assert progress.done and progress.done_by == member and progress.note == "Verified."
    html = client.get(page_url(dip_app)).content.decode()
    assert "You marked “Access the DIP and verify company details” as done." in html
    assert "Mark as not done" in html
    client.post(step_url(dip_app), {"done": "no"})
    progress.refresh_from_db()
    assert not progress.done


def test_a_bad_note_is_shown_in_the_error_summary(login, member, dip_app):
    before = snapshot()
    response = login(member).post(step_url(dip_app), {"done": "yes", "note": "bad\x01"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#note-company_verified"' in html
    assert "control characters" in html
    assert snapshot() == before


def test_recording_a_dip_id(login, member, dip_app):
    response = login(member).post(add_url(dip_app), {"environment": "pre_production", "value": "1009012345"})
    assert response.status_code == 302
    assert DipId.objects.get().value == "1009012345"
    html = login(member).get(page_url(dip_app)).content.decode()
    assert "Awaiting confirmation" in html
    assert "1009012345" in html
    assert reverse("dip:dip_id_remove", args=[dip_app.pk, DipId.objects.get().pk]) in html


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [
        ("12345", 422, "A DIP ID is exactly 10 digits"),
        ("", 422, "Enter the DIP ID."),
        ("1009012345", 409, "already has a Pre-production (UIT) DIP ID"),
    ],
)
def test_a_bad_or_duplicate_dip_id_is_shown_against_the_field(login, member, dip_app, value, status, message):
    dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012399")
    before = snapshot()
    response = login(member).post(add_url(dip_app), {"environment": "pre_production", "value": value})
    assert response.status_code == status
    html = response.content.decode()
    assert 'href="#dip-id-value"' in html
    assert message in html
    assert snapshot() == before


def test_the_dip_manager_confirms_on_the_page(login, member, dip_manager, dip_app):
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    confirm = reverse("dip:dip_id_confirm", args=[dip_app.pk, dip_id.pk])
    assert confirm not in login(member).get(page_url(dip_app)).content.decode()
    client = login(dip_manager)
    html = client.get(page_url(dip_app)).content.decode()
    assert confirm in html
    assert step_url(dip_app) not in html  # the DIP Manager does not mark steps
    response = client.post(confirm)
    assert response.status_code == 302
    dip_id.refresh_from_db()
    assert dip_id.confirmed_by == dip_manager
    html = client.get(page_url(dip_app)).content.decode()
    assert "You confirmed the DIP ID 1009012345." in html
    assert "Confirmed" in html
    # Confirming again is refused on the page.
    response = client.post(confirm)
    assert response.status_code == 409
    assert "already confirmed" in response.content.decode()


def test_the_participant_cannot_confirm(login, member, dip_app):
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    before = snapshot()
    assert login(member).post(reverse("dip:dip_id_confirm", args=[dip_app.pk, dip_id.pk])).status_code == 403
    assert snapshot() == before


def test_the_dip_manager_cannot_mark_steps_or_record_dip_ids(login, dip_manager, dip_app):
    before = snapshot()
    client = login(dip_manager)
    assert client.post(step_url(dip_app), {"done": "yes"}).status_code == 403
    assert client.post(add_url(dip_app), {"environment": "pre_production", "value": "1009012345"}).status_code == 403
    assert snapshot() == before


def test_another_organisation_gets_404(login, other_member, member, dip_app):
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    client = login(other_member)
    before = snapshot()
    assert client.get(page_url(dip_app)).status_code == 404
    assert client.post(step_url(dip_app), {"done": "yes"}).status_code == 404
    assert client.post(add_url(dip_app), {"environment": "pre_production", "value": "1111111111"}).status_code == 404
    assert client.post(reverse("dip:dip_id_remove", args=[dip_app.pk, dip_id.pk])).status_code == 404
    assert snapshot() == before


def test_removing_a_dip_id_on_the_page(login, member, dip_manager, dip_app):
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    assert login(member).post(reverse("dip:dip_id_remove", args=[dip_app.pk, dip_id.pk])).status_code == 302
    assert not DipId.objects.exists()
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    remove = reverse("dip:dip_id_remove", args=[dip_app.pk, dip_id.pk])
    assert remove not in login(member).get(page_url(dip_app)).content.decode()
    response = login(member).post(remove)
    assert response.status_code == 409
    assert "can no longer be removed" in response.content.decode()


def test_after_submitting_only_production_can_be_recorded(login, member, dip_manager, dip_app):
    from portal.dip.testing_support import dip_complete_onboarding

    dip_complete_onboarding(dip_app, actor=member)
    task_transition(actor=member, application_id=dip_app.pk, task_code="dip_onboarding", action="submit")
    html = login(member).get(page_url(dip_app)).content.decode()
    assert step_url(dip_app) not in html
    assert "Record the production DIP ID" in html
    before = snapshot()
    response = login(member).post(step_url(dip_app), {"done": "no"})
    assert response.status_code == 409
    assert snapshot() == before
    response = login(member).post(add_url(dip_app), {"environment": "production", "value": "2300000012"})
    assert response.status_code == 302
    assert DipId.objects.filter(environment="production").exists()


def test_signing_in_is_required(client, dip_app):
    assert client.get(page_url(dip_app)).status_code == 302


def test_the_task_page_links_to_dip_onboarding(login, member, dip_app):
    html = login(member).get(reverse("web:task_detail", args=[dip_app.pk, "dip_onboarding"])).content.decode()
    assert page_url(dip_app) in html
