"""`may_call` (portal/api/gates.py): an operation refuses a caller who may not call it before it reads
the body — 403 in the API's error shape with one `authz.denied` event, or 404 for an application out
of the caller's sight — and authenticates exactly as every other operation."""

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.api.tests.conftest import CSRF_TOKEN, ApiClient, assert_error, counts
from portal.audit.models import AuditEvent
from portal.core.authz_audit import DENIED_ACTION
from portal.factories import make_member

pytestmark = pytest.mark.django_db


def _denied() -> int:
    return AuditEvent.objects.filter(action=DENIED_ACTION).count()


def test_a_wrong_role_is_refused_before_the_body_is_read(api_as, staff, make_application):
    application = make_application()
    before, denied = counts(), _denied()
    # An empty body would be 422 for a caller who may withdraw; staff may not withdraw at all.
    response = api_as(staff(Role.ELEXON_ANALYST)).post(f"/api/v1/applications/{application.pk}/withdraw", {})
    body = assert_error(response, 403, "permission_denied")
    assert "withdraw" in body["message"]
    assert counts() == before
    assert _denied() == denied + 1
    event = AuditEvent.objects.filter(action=DENIED_ACTION).latest("pk")
    assert event.after["route"] == "api:application_withdraw"


def test_a_body_that_is_not_even_json_is_refused_for_the_role_first(api_as, staff, make_application):
    application = make_application()
    response = api_as(staff(Role.PAB_MEMBER)).post_raw(f"/api/v1/applications/{application.pk}/withdraw", "{nope")
    assert_error(response, 403, "permission_denied")


def test_the_right_role_still_gets_the_body_checked(api_as, member, make_application):
    application = make_application()
    response = api_as(member).post(f"/api/v1/applications/{application.pk}/withdraw", {})
    assert_error(response, 422, "invalid_input")


def test_another_organisations_application_answers_as_a_missing_one(api_as, other_org, make_application):
    application = make_application()
    stranger = api_as(make_member(other_org))
    missing = stranger.post("/api/v1/applications/987654/withdraw", {})
    other = stranger.post(f"/api/v1/applications/{application.pk}/withdraw", {})
    assert_error(other, 404, "not_found")
    assert other.json() == missing.json()


def test_an_id_beyond_the_database_range_is_not_found_not_a_server_error(api_as, member):
    response = api_as(member).post(f"/api/v1/applications/{2**70}/withdraw", {})
    assert response.status_code in (404, 422)


def test_anonymous_callers_are_asked_to_authenticate(anonymous, make_application):
    application = make_application()
    assert_error(anonymous.post(f"/api/v1/applications/{application.pk}/withdraw", {}), 401, "not_authenticated")


def test_a_session_without_the_csrf_token_is_refused_for_that_first(staff, make_application):
    application = make_application()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(Role.ELEXON_ANALYST))
    client.cookies["csrftoken"] = CSRF_TOKEN
    path = f"/api/v1/applications/{application.pk}/withdraw"
    assert_error(client.post(path, "{}", content_type="application/json"), 403, "csrf_failed")
    refused = client.post(path, "{}", content_type="application/json", headers={"X-CSRFToken": CSRF_TOKEN})
    assert_error(refused, 403, "permission_denied")


def test_a_role_gate_on_an_application_asks_for_sight_first(api_as, member, other_org, make_application):
    # Recording non-completion is for the Code Bodies, whoever's application it is; an application out
    # of sight still answers 404 first, exactly as a missing one.
    application = make_application()
    path = "/api/v1/applications/{}/non-completion"
    assert_error(api_as(member).post(path.format(application.pk), {}), 403, "permission_denied")
    assert_error(api_as(member).post(path.format(987654), {}), 404, "not_found")
    assert_error(api_as(make_member(other_org)).post(path.format(application.pk), {}), 404, "not_found")


def test_gated_operations_name_the_same_security_schemes(client: Client):
    document = client.get("/api/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"BearerTokenAuth", "SessionAuth"}
    withdraw = document["paths"]["/api/v1/applications/{application_id}/withdraw"]["post"]
    assert withdraw["security"] == [{"BearerTokenAuth": []}, {"SessionAuth": []}]


def test_bearer_and_session_callers_are_gated_alike(member, make_application):
    application = make_application()
    path = f"/api/v1/applications/{application.pk}/non-completion"
    _, secret = api_token_create(actor=member, user=member, name="t")
    assert_error(ApiClient(secret).post(path, {}), 403, "permission_denied")
    session = Client()
    session.force_login(member)
    assert_error(session.post(path, "{}", content_type="application/json"), 403, "permission_denied")
