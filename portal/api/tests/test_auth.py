from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.accounts.models import ApiToken
from portal.accounts.services import api_token_create, api_token_revoke
from portal.api.tests.conftest import CSRF_TOKEN, ApiClient, assert_error, counts
from portal.qualification.models import Application

pytestmark = pytest.mark.django_db


def test_bearer_token_authenticates_as_its_user(member):
    _, secret = api_token_create(actor=member, user=member, name="erp")
    response = ApiClient(secret).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == member.email
    assert response["Cache-Control"] == "no-store"


def test_bearer_token_use_is_recorded(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    assert token.last_used_at is None
    ApiClient(secret).get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_no_credentials_answer_401(anonymous):
    response = anonymous.get("/api/v1/applications")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_answers_401(member):
    assert_error(ApiClient("not-a-real-token").get("/api/v1/me"), 401, "not_authenticated")


def test_other_authorization_schemes_answer_401(member):
    client = Client()
    response = client.get("/api/v1/me", headers={"Authorization": "Basic bWVtYmVyOnNlY3JldA=="})
    assert_error(response, 401, "not_authenticated")


def test_revoked_token_answers_401(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    api_token_revoke(actor=member, token_id=token.pk)
    assert_error(ApiClient(secret).get("/api/v1/me"), 401, "not_authenticated")


def test_token_of_deactivated_user_answers_401(member):
    _, secret = api_token_create(actor=member, user=member, name="erp")
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert_error(ApiClient(secret).get("/api/v1/me"), 401, "not_authenticated")


def test_only_the_hash_of_the_secret_is_stored(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == ApiToken.hash_secret(secret)
    assert secret not in (stored.key_hash, stored.key_prefix)


def test_session_authenticates_reads(member):
    client = Client()
    client.force_login(member)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == member.email


def _session_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _create_body(org):
    return {"organisation_id": org.pk, "mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"}


def test_session_writes_without_csrf_token_are_refused(member, org):
    client = _session_client(member)
    before = counts()
    response = client.post("/api/v1/applications", _create_body(org), content_type="application/json")
    assert_error(response, 403, "csrf_failed")
    assert counts() == before


def test_session_writes_with_csrf_token_are_accepted(member, org):
    client = _session_client(member)
    client.cookies["csrftoken"] = CSRF_TOKEN
    response = client.post(
        "/api/v1/applications",
        _create_body(org),
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_TOKEN},
    )
    assert response.status_code == 201, response.content
    assert Application.objects.filter(pk=response.json()["id"]).exists()


def test_bearer_writes_need_no_csrf_token(member, org):
    _, secret = api_token_create(actor=member, user=member, name="erp")
    client = ApiClient(secret, client=Client(enforce_csrf_checks=True))
    response = client.post("/api/v1/applications", _create_body(org))
    assert response.status_code == 201, response.content


def test_anonymous_write_answers_401_not_a_csrf_error(anonymous, org):
    assert_error(anonymous.post("/api/v1/applications", _create_body(org)), 401, "not_authenticated")


def test_a_token_acts_only_as_its_user(member, other_member, make_application):
    application = make_application()
    _, secret = api_token_create(actor=other_member, user=other_member, name="rival")
    assert_error(ApiClient(secret).get(f"/api/v1/applications/{application.pk}"), 404, "not_found")
