"""Registering, withdrawing and recording non-completion through the web forms."""

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.qualification.models import Application
from portal.qualification.workflow import ApplicationStatus

pytestmark = pytest.mark.django_db


def _create_data(org, **overrides):
    data = {"organisation": org.pk, "mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"}
    data.update(overrides)
    return data


def test_participant_creates_an_application(login, member, org):
    response = login(member).post("/applications/new/", _create_data(org))
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.pk}/"
    assert application.organisation == org
    assert application.mpid.code == "NLEN"
    assert application.market_role.code == "SUP"
    page = login(member).get(response["Location"]).content.decode()
    assert f"Application {application.reference} registered." in page
    assert "govuk-notification-banner--success" in page


def test_form_shows_choices(login, member):
    html = login(member).get("/applications/new/").content.decode()
    assert "Northern Lights Energy Ltd" in html
    assert 'value="NLEN"' in html
    assert "Supplier (SUP)" in html
    assert "Non-SIT Supplier &amp; Agent" in html


@pytest.mark.parametrize(
    ("overrides", "message", "target"),
    [
        ({"mpid": ""}, "Select the MPID", "#id_mpid"),
        ({"market_role": "NOPE"}, "Select a market role from the list", "#id_market_role"),
        ({"route": ""}, "Select the qualification route", "#id_route"),
    ],
)
def test_incomplete_form_shows_error_summary_and_changes_nothing(login, member, org, overrides, message, target):
    before = AuditEvent.objects.count()
    response = login(member).post("/applications/new/", _create_data(org, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert f'<a href="{target}">{message}</a>' in html
    assert "govuk-form-group--error" in html
    assert "<title>Error: " in html
    assert not Application.objects.exists()
    assert AuditEvent.objects.count() == before


def test_route_that_does_not_take_the_role_is_refused_by_the_service(login, member, org):
    response = login(member).post("/applications/new/", _create_data(org, route="non_sit_ldso"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "does not take the Supplier role group" in html
    assert 'href="#id_route"' in html
    assert 'id="id_route-error"' in html
    # The form keeps what was entered.
    assert '<option value="SUP" selected>' in html
    assert not Application.objects.exists()


def test_second_open_application_for_the_same_mpid_and_role_conflicts(login, member, org, make_application):
    make_application()
    response = login(member).post("/applications/new/", _create_data(org))
    assert response.status_code == 409
    assert "There is already an open application" in response.content.decode()
    assert Application.objects.count() == 1


def test_participant_cannot_register_for_another_organisation(login, member, other_org):
    response = login(member).post("/applications/new/", _create_data(other_org, mpid="RIVP"))
    assert response.status_code == 400
    assert "Select an organisation from the list" in response.content.decode()
    assert not Application.objects.exists()


def test_participant_withdraws_with_a_reason(login, member, make_application):
    application = make_application()
    client = login(member)
    assert (
        "Are you sure you want to withdraw" in client.get(f"/applications/{application.pk}/withdraw/").content.decode()
    )

    response = client.post(f"/applications/{application.pk}/withdraw/", {"reason": ""})
    assert response.status_code == 400
    assert '<a href="#id_reason">Enter the reason</a>' in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PREPARATION

    response = client.post(f"/applications/{application.pk}/withdraw/", {"reason": "We are leaving the market."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.closed_reason == "We are leaving the market."
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Withdrawn" in html
    assert "Withdraw this application" not in html


def test_withdrawing_a_closed_application_is_refused(login, member, make_application):
    application = make_application()
    client = login(member)
    client.post(f"/applications/{application.pk}/withdraw/", {"reason": "First"})
    response = client.post(f"/applications/{application.pk}/withdraw/", {"reason": "Again"})
    assert response.status_code == 409
    assert "can no longer be withdrawn" in response.content.decode()


def test_staff_cannot_withdraw(login, staff, make_application):
    application = make_application()
    client = login(staff(Role.ELEXON_ANALYST))
    assert client.get(f"/applications/{application.pk}/withdraw/").status_code == 403
    assert client.post(f"/applications/{application.pk}/withdraw/", {"reason": "x"}).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PREPARATION


def test_code_body_records_non_completion(login, staff, make_application):
    application = make_application()
    client = login(staff(Role.ELEXON_ANALYST))
    assert client.get(f"/applications/{application.pk}/non-completion/").status_code == 200
    response = client.post(f"/applications/{application.pk}/non-completion/", {"reason": "Missed the window."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.NON_COMPLETION


def test_participant_cannot_record_non_completion(login, member, make_application):
    application = make_application()
    client = login(member)
    assert client.get(f"/applications/{application.pk}/non-completion/").status_code == 403
    assert client.post(f"/applications/{application.pk}/non-completion/", {"reason": "x"}).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PREPARATION
