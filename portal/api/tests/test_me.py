import pytest
from django.conf import settings
from django.test import Client

from portal.accounts.mfa import totp_code
from portal.accounts.models import ApiToken, SignedInSession
from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.accounts.tests.conftest import sign_in
from portal.api.tests.conftest import ApiClient, assert_error
from portal.audit.models import AuditEvent
from portal.factories import TEST_TOTP_SECRET, MpidFactory
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_me_for_a_participant(api_as, director, org):
    MpidFactory(organisation=org, code="NLAB")
    body = api_as(director).get("/api/v1/me").json()
    assert body["email"] == "director@northern.test"
    assert body["full_name"] == "Dana Director"
    assert {role["code"] for role in body["roles"]} == {"participant_member", "participant_director"}
    assert body["organisations"] == [
        {"id": org.pk, "name": "Northern Lights Energy Ltd", "is_director": True, "mpids": ["NLAB", "NLEN"]}
    ]


def test_me_for_staff(api_as, staff):
    body = api_as(staff(Role.PAB_CHAIR)).get("/api/v1/me").json()
    assert body["roles"] == [{"code": "pab_chair", "name": "PAB chair"}]
    assert body["organisations"] == []


def test_me_needs_authentication(anonymous):
    assert_error(anonymous.get("/api/v1/me"), 401, "not_authenticated")


# --- tokens ------------------------------------------------------------------------------------


def test_create_list_and_revoke_own_tokens(api_as, member):
    client = api_as(member)
    response = client.post("/api/v1/me/tokens", {"name": "  Settlement system  "})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Settlement system"
    assert created["secret"].startswith(created["key_prefix"])
    assert created["revoked_at"] is None
    token = ApiToken.objects.get(pk=created["id"])
    assert token.key_hash == ApiToken.hash_secret(created["secret"])

    new_client = ApiClient(created["secret"])
    assert new_client.get("/api/v1/me").json()["email"] == member.email

    listed = client.get("/api/v1/me/tokens").json()
    assert listed["count"] == 2  # the test client's own token and the new one
    assert all("secret" not in item for item in listed["items"])
    assert listed["items"][0]["id"] == created["id"]

    response = client.delete(f"/api/v1/me/tokens/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(new_client.get("/api/v1/me"), 401, "not_authenticated")
    assert AuditEvent.objects.filter(action="api_token.revoke", target_id=str(created["id"])).exists()
    revoked = next(item for item in client.get("/api/v1/me/tokens").json()["items"] if item["id"] == created["id"])
    assert revoked["revoked_at"] is not None


def test_tokens_of_other_users_are_not_found(api_as, member, other_member):
    theirs, _ = api_token_create(actor=other_member, user=other_member, name="rival erp")
    client = api_as(member)
    assert theirs.pk not in {item["id"] for item in client.get("/api/v1/me/tokens").json()["items"]}
    assert_error(client.delete(f"/api/v1/me/tokens/{theirs.pk}"), 404, "not_found")
    assert_error(client.delete("/api/v1/me/tokens/999999"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_twice_answers_409(api_as, member):
    client = api_as(member)
    token, _ = api_token_create(actor=member, user=member, name="old")
    assert client.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 204
    assert_error(client.delete(f"/api/v1/me/tokens/{token.pk}"), 409, "conflict")


@pytest.mark.parametrize(
    ("payload", "status"), [({}, 422), ({"name": ""}, 422), ({"name": "   "}, 422), ({"name": "x" * 101}, 422)]
)
def test_token_names_are_required(api_as, member, payload, status):
    client = api_as(member)
    before = ApiToken.objects.count()
    assert_error(client.post("/api/v1/me/tokens", payload), status, "invalid_input")
    assert ApiToken.objects.count() == before


def test_duplicate_active_token_names_answer_409(api_as, member):
    client = api_as(member)
    assert client.post("/api/v1/me/tokens", {"name": "ERP"}).status_code == 201
    before = ApiToken.objects.count()
    assert_error(client.post("/api/v1/me/tokens", {"name": "erp"}), 409, "conflict")
    assert ApiToken.objects.count() == before


def test_creating_a_token_tells_its_owner(api_as, member):
    created = api_as(member).post("/api/v1/me/tokens", {"name": "ERP"}).json()
    told = Notification.objects.get(recipient=member)
    assert "ERP" in told.subject and created["key_prefix"] in told.body and created["secret"] not in told.body


def test_staff_send_a_current_code_to_create_a_token(api_as, staff):
    analyst = staff(Role.ELEXON_ANALYST)
    client = api_as(analyst)
    before = ApiToken.objects.count()
    assert_error(client.post("/api/v1/me/tokens", {"name": "Reviews"}), 403, "step_up_required")
    assert_error(client.post("/api/v1/me/tokens", {"name": "Reviews"}, HTTP_X_OTP="000000"), 403, "step_up_required")
    assert ApiToken.objects.count() == before
    made = client.post("/api/v1/me/tokens", {"name": "Reviews"}, HTTP_X_OTP=totp_code(TEST_TOTP_SECRET))
    assert made.status_code == 201, made.content


# --- sessions ----------------------------------------------------------------------------------


def _browser_session(user, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"):
    client = Client(HTTP_USER_AGENT=user_agent)
    sign_in(client, user)
    return client, SignedInSession.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_sessions_are_listed_without_their_keys(api_as, member, other_member):
    _, laptop = _browser_session(member)
    _, phone = _browser_session(member, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Safari/604.1")
    _browser_session(other_member)
    body = api_as(member).get("/api/v1/me/sessions").json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {laptop.pk, phone.pk}
    assert {item["browser"] for item in body["items"]} == {"Firefox on Linux", "Safari on iPhone"}
    assert all(item["current"] is False for item in body["items"])  # a bearer call has no session
    assert set(body["items"][0]) == {"id", "started_at", "last_seen_at", "browser", "ip_address", "current"}
    assert laptop.session_key not in str(body) and phone.session_key not in str(body)


def test_the_session_making_the_call_is_marked_current(member):
    client, row = _browser_session(member)
    items = client.get("/api/v1/me/sessions").json()["items"]
    assert [(item["id"], item["current"]) for item in items] == [(row.pk, True)]


def test_ending_a_session_through_the_api(api_as, member, other_member):
    laptop, row = _browser_session(member)
    _, theirs = _browser_session(other_member)
    client = api_as(member)
    assert_error(client.delete(f"/api/v1/me/sessions/{theirs.pk}"), 404, "not_found")
    assert_error(client.delete("/api/v1/me/sessions/999999"), 404, "not_found")
    assert SignedInSession.objects.filter(pk=theirs.pk).exists()

    response = client.delete(f"/api/v1/me/sessions/{row.pk}")
    assert response.status_code == 204 and response.content == b""
    assert laptop.get("/")["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="auth.session_ended")
    assert event.actor == member and event.after["session_id"] == row.pk
    assert_error(client.delete(f"/api/v1/me/sessions/{row.pk}"), 404, "not_found")


def test_the_session_making_the_call_is_not_ended_by_it(member):
    client, row = _browser_session(member)
    client.get("/")
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    refused = client.delete(f"/api/v1/me/sessions/{row.pk}", headers=csrf)
    assert_error(refused, 409, "conflict")
    assert SignedInSession.objects.filter(pk=row.pk).exists() and client.get("/").status_code == 200


def test_ending_every_other_session_through_the_api(api_as, member):
    laptop, _ = _browser_session(member)
    phone, _ = _browser_session(member)
    laptop.get("/")
    csrf = {"X-CSRFToken": laptop.cookies["csrftoken"].value}
    response = laptop.post("/api/v1/me/sessions/end-others", "{}", content_type="application/json", headers=csrf)
    assert response.status_code == 200 and response.json() == {"ended": 1}
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    # With a bearer token there is no session of the call's own: every session ends.
    assert api_as(member).post("/api/v1/me/sessions/end-others").json() == {"ended": 1}
    assert laptop.get("/").status_code == 302
    assert api_as(member).post("/api/v1/me/sessions/end-others").json() == {"ended": 0}
    assert AuditEvent.objects.filter(action="auth.sessions_ended").count() == 2


def test_ending_others_is_replayed_for_the_same_idempotency_key(api_as, member):
    _browser_session(member)
    client = api_as(member)
    first = client.post("/api/v1/me/sessions/end-others", HTTP_IDEMPOTENCY_KEY="end-1")
    again = client.post("/api/v1/me/sessions/end-others", HTTP_IDEMPOTENCY_KEY="end-1")
    assert first.json() == again.json() == {"ended": 1}
    assert again["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="auth.sessions_ended").count() == 1


def test_sessions_need_authentication(anonymous):
    assert_error(anonymous.get("/api/v1/me/sessions"), 401, "not_authenticated")
    assert_error(anonymous.delete("/api/v1/me/sessions/1"), 401, "not_authenticated")
    assert_error(anonymous.post("/api/v1/me/sessions/end-others"), 401, "not_authenticated")
