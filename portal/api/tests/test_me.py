import pytest

from portal.accounts.models import ApiToken
from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.api.tests.conftest import ApiClient, assert_error
from portal.audit.models import AuditEvent
from portal.factories import MpidFactory

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
