"""The QT pages in the browser: the overview is the `qt` task's page; the plan, readiness and exit pages
render for everyone who may see the application, show the participant's forms and the assurers'
review forms at the right time, post through the services, show refusals in the error summary, and
answer 404 to another organisation."""

import pytest
from django.urls import reverse

from portal.qualification.hooks import task_page_url_name
from portal.testing.models import DipFlowOptOut, QtPlan, ReadinessConfirmation, ReviewStatus
from portal.testing.plan_services import qt_plan_submit, qt_plan_update
from portal.testing.plan_testing_support import qt_plan_agree, qt_readiness_confirm
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import complete_fields, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.testing.tests.urls")]

# The shared fixtures of the QT plan tests.
catalogue, qt_app, ta = fixtures.catalogue, fixtures.qt_app, fixtures.ta


def url(name, application, *args):
    return reverse(f"testing:{name}", args=[application.pk, *args])


def test_the_overview_is_the_qt_task_page(login, member, qt_app, catalogue):
    assert task_page_url_name("qt") == "testing:qt_overview"
    task_page = login(member).get(reverse("web:task_detail", args=[qt_app.pk, "qt"])).content.decode()
    assert url("qt_overview", qt_app) in task_page


def test_the_overview_shows_status_counts_and_the_exit_checklist(login, member, qt_app, catalogue):
    response = login(member).get(url("qt_overview", qt_app))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Qualification Testing" in html
    assert "4 required, 1 optional" in html
    assert "Exit checklist" in html and "The QT approach and plan is agreed by Testing Assurance" in html
    assert "The QT plan has not been submitted to Testing Assurance yet." in html
    assert "exit rules not met" in html
    for name in ("qt_plan", "qt_set", "qt_schedule", "qt_readiness", "qt_exit"):
        assert url(name, qt_app) in html
    assert "OTHER QT PAGES" not in html  # the marker is a template comment


def test_the_exit_page_and_its_htmx_refresh(login, ta, qt_app, catalogue):
    client = login(ta)
    html = client.get(url("qt_exit", qt_app)).content.decode()
    assert "QT exit checklist" in html and "Check again" in html
    partial = client.get(url("qt_exit", qt_app), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="exit-checklist">')
    assert "<html" not in partial


@pytest.mark.parametrize("name", ["qt_overview", "qt_plan", "qt_set", "qt_schedule", "qt_readiness", "qt_exit"])
def test_another_organisation_gets_404(client, other_member, qt_app, name):
    client.force_login(other_member)
    assert client.get(url(name, qt_app)).status_code == 404


def test_signed_out_users_are_sent_to_sign_in(client, qt_app):
    response = client.get(url("qt_overview", qt_app))
    assert response.status_code == 302 and "login" in response["Location"]


# --- the plan pages ---------------------------------------------------------------------------------------


def test_the_participant_writes_the_plan_through_the_form(login, member, qt_app):
    client = login(member)
    assert "Write the plan" in client.get(url("qt_plan", qt_app)).content.decode()
    form = client.get(url("qt_plan_edit", qt_app))
    assert form.status_code == 200 and 'name="starts_on_day"' in form.content.decode()
    response = client.post(
        url("qt_plan_edit", qt_app),
        {
            "approach": "Functional first.",
            "reliance_approach": "",
            "test_data": "Test MPANs.",
            "starts_on_day": "7",
            "starts_on_month": "9",
            "starts_on_year": "2026",
            "ends_on_day": "27",
            "ends_on_month": "11",
            "ends_on_year": "2026",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your QT plan has been saved." in page and "Functional first." in page
    assert "Submit the QT plan" in page


def test_the_plan_form_shows_refusals(login, member, qt_app):
    client = login(member)
    response = client.post(
        url("qt_plan_edit", qt_app),
        {"approach": "A", "starts_on_day": "31", "starts_on_month": "2", "starts_on_year": "2026"},
    )
    assert response.status_code == 400
    assert "The QT start date must be a real date" in response.content.decode()
    response = client.post(
        url("qt_plan_edit", qt_app),
        {
            "approach": "A",
            "starts_on_day": "7",
            "starts_on_month": "9",
            "starts_on_year": "2026",
            "ends_on_day": "1",
            "ends_on_month": "9",
            "ends_on_year": "2026",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is a problem" in html and 'href="#id_ends_on_day"' in html
    assert not QtPlan.objects.exists()


def test_submitting_an_incomplete_plan_lists_what_is_missing(login, member, qt_app):
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields(test_data=""))
    client = login(member)
    page = client.get(url("qt_plan", qt_app)).content.decode()
    assert "Before the plan can be submitted" in page and "Enter the test data" in page
    response = client.post(url("qt_plan_submit", qt_app))
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is a problem" in html and "Enter the test data and how it will be loaded" in html


def test_submit_and_review_through_the_pages(login, member, qt_app, ta, client):
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields())
    participant = login(member)
    response = participant.post(url("qt_plan_submit", qt_app))
    assert response.status_code == 302
    page = participant.get(response["Location"]).content.decode()
    assert "You submitted version 1 of the QT plan" in page
    assert "Review the plan" not in page

    client.force_login(ta)
    page = client.get(url("qt_plan", qt_app)).content.decode()
    assert "Review the plan" in page
    response = client.post(url("qt_plan_review", qt_app), {"decision": "request_changes", "comment": ""})
    assert response.status_code == 422
    assert "Enter the changes you need" in response.content.decode()
    response = client.post(url("qt_plan_review", qt_app), {"decision": ""})
    assert response.status_code == 400 and "Select your decision" in response.content.decode()
    response = client.post(url("qt_plan_review", qt_app), {"decision": "agree", "comment": "Fine."})
    assert response.status_code == 302
    assert QtPlan.objects.get(application=qt_app).status == ReviewStatus.AGREED


def test_the_participant_cannot_review_and_staff_cannot_edit(login, member, qt_app, ta, client):
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields())
    qt_plan_submit(actor=member, application_id=qt_app.pk)
    before = snapshot()
    assert login(member).post(url("qt_plan_review", qt_app), {"decision": "agree"}).status_code == 403
    client.force_login(ta)
    assert client.get(url("qt_plan_edit", qt_app)).status_code == 403
    assert client.post(url("qt_plan_submit", qt_app)).status_code == 403
    assert snapshot() == before


def test_editing_an_agreed_plan_says_it_returns_to_draft(login, member, qt_app, ta):
    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    client = login(member)
    form = client.get(url("qt_plan_edit", qt_app)).content.decode()
    assert "Saving a change puts it back in draft" in form
    data = {
        "approach": "Changed.",
        "test_data": "Test MPANs.",
        "starts_on_day": "7",
        "starts_on_month": "9",
        "starts_on_year": "2026",
        "ends_on_day": "27",
        "ends_on_month": "11",
        "ends_on_year": "2026",
    }
    response = client.post(url("qt_plan_edit", qt_app), data, follow=True)
    assert "it is back in draft" in response.content.decode()


def test_opting_out_through_the_plan_page(login, member, qt_app, catalogue):
    client = login(member)
    page = client.get(url("qt_plan", qt_app)).content.decode()
    assert '<option value="IF-901">' in page and '<option value="IF-902">' not in page
    response = client.post(url("qt_opt_out_add", qt_app), {"flow": "IF-901", "reason": ""})
    assert response.status_code == 400 and "Enter why you will not use this DIP flow" in response.content.decode()
    response = client.post(url("qt_opt_out_add", qt_app), {"flow": "IF-902", "reason": "x"})
    assert response.status_code == 400 and "Choose a DIP flow from the list" in response.content.decode()
    response = client.post(url("qt_opt_out_add", qt_app), {"flow": "IF-901", "reason": "Not used."}, follow=True)
    assert "You opted out of IF-901" in response.content.decode()
    assert DipFlowOptOut.objects.count() == 1
    response = client.post(url("qt_opt_out_remove", qt_app, "IF-901"), follow=True)
    assert "You withdrew the opt-out of IF-901" in response.content.decode()
    assert client.post(url("qt_opt_out_remove", qt_app, "IF-901")).status_code == 404


# --- the readiness page -------------------------------------------------------------------------------------


def test_recording_readiness_through_the_page(login, member, qt_app):
    client = login(member)
    page = client.get(url("qt_readiness", qt_app)).content.decode()
    assert "Systems onboarded to the QT environment" in page
    assert "the QT plan must be agreed by Testing Assurance first" in page.replace("The QT plan", "the QT plan")
    target = url("qt_readiness_record", qt_app, "systems_onboarded")
    response = client.post(target, {"ready": "no", "note": ""})
    assert response.status_code == 422
    assert "Say what is outstanding" in response.content.decode()
    response = client.post(target, {"note": "x"})
    assert response.status_code == 400 and "Select whether this is ready" in response.content.decode()
    response = client.post(target, {"ready": "yes", "note": "Connected."}, follow=True)
    assert "You recorded “Systems onboarded to the QT environment” as ready." in response.content.decode()
    assert ReadinessConfirmation.objects.get().ready is True
    assert client.post(url("qt_readiness_record", qt_app, "no_such_item"), {"ready": "yes"}).status_code == 404


def test_submitting_and_confirming_readiness_through_the_pages(login, member, qt_app, ta, client):
    from portal.testing.plan_selectors import readiness_items_for
    from portal.testing.plan_services import qt_readiness_record

    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    for item in readiness_items_for(qt_app):
        qt_readiness_record(actor=member, application_id=qt_app.pk, item_code=item.code, ready=True)
    participant = login(member)
    response = participant.post(url("qt_readiness_submit", qt_app), {"note": "All set."}, follow=True)
    assert "You submitted the readiness report" in response.content.decode()
    client.force_login(ta)
    page = client.get(url("qt_readiness", qt_app)).content.decode()
    assert "Review the readiness report" in page and "All set." in page
    response = client.post(url("qt_readiness_review", qt_app), {"decision": "confirm"}, follow=True)
    assert "You confirmed the readiness report" in response.content.decode()
    assert QtPlan.objects.get(application=qt_app).readiness_status == ReviewStatus.AGREED


def test_the_overview_when_plan_and_readiness_are_done(login, member, qt_app, ta, catalogue):
    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    qt_readiness_confirm(qt_app, actor=member, reviewer=ta)
    html = login(ta).get(url("qt_overview", qt_app)).content.decode()
    assert "You review the plan and the readiness report" in html
    assert html.count("govuk-tag--green") >= 4  # plan agreed, readiness confirmed, the two defect rules
