"""`GET /api/v1/register`: the public register through the API, without a token, paged like every
list, with the history on request, and documented in the OpenAPI document as public."""

from datetime import date

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.registry.models import EntryStatus, Register
from portal.registry.services import register_record

pytestmark = pytest.mark.django_db

CONDITIONS = "Close work-off item WO-3 by 1 March 2027."
FIELDS = {
    "id",
    "register",
    "organisation",
    "mpid",
    "market_role",
    "market_role_name",
    "status",
    "with_conditions",
    "effective_date",
    "recorded_at",
    "is_current",
    "superseded_at",
    "previous_id",
}


@pytest.fixture
def entries(make_application, staff):
    """NLEN as MEM: approved by REC with conditions, qualified, then active."""
    application = make_application(route="sit", market_role="MEM")
    actor = staff(Role.REC_CODE_MANAGER)
    made = [
        register_record(
            actor=actor,
            application=application,
            register=Register.REC_PARTY,
            status=EntryStatus.REC_APPROVED,
            conditions=CONDITIONS,
            effective_date=date(2027, 1, 4),
        )
    ]
    for status, day in ((EntryStatus.QUALIFIED, 5), (EntryStatus.ACTIVE, 20)):
        made.append(
            register_record(
                actor=actor,
                application=application,
                register=Register.MHHS,
                status=status,
                effective_date=date(2027, 1, day),
            )
        )
    return made


def test_anyone_may_read_the_register_without_a_token(entries):
    response = Client().get("/api/v1/register")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 50, 0)
    by_register = {item["register"]: item for item in body["items"]}
    assert set(by_register) == {"rec_party", "mhhs"}
    assert set(by_register["mhhs"]) == FIELDS
    assert by_register["rec_party"] == {
        "id": entries[0].pk,
        "register": "rec_party",
        "organisation": "Northern Lights Energy Ltd",
        "mpid": "NLEN",
        "market_role": "MEM",
        "market_role_name": "Metering Equipment Manager (MOA)",
        "status": "rec_approved",
        "with_conditions": True,
        "effective_date": "2027-01-04",
        "recorded_at": by_register["rec_party"]["recorded_at"],
        "is_current": True,
        "superseded_at": None,
        "previous_id": None,
    }
    assert by_register["mhhs"]["status"] == "active"
    assert by_register["mhhs"]["previous_id"] == entries[1].pk
    assert CONDITIONS not in response.content.decode()


def test_a_token_or_a_session_changes_nothing(entries, api_as, member, client):
    anonymous = Client().get("/api/v1/register").json()
    assert api_as(member).get("/api/v1/register").json() == anonymous
    client.force_login(member)
    assert client.get("/api/v1/register").json() == anonymous


def test_the_history_lists_every_entry_newest_first_and_pages(entries):
    client = Client()

    body = client.get("/api/v1/register", {"history": "true"}).json()
    assert body["count"] == 3
    assert [item["id"] for item in body["items"]] == [e.pk for e in reversed(entries)]
    assert [item["is_current"] for item in body["items"]] == [True, False, True]

    page = client.get("/api/v1/register", {"history": "true", "limit": "1", "offset": "1"}).json()
    assert (page["count"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [item["id"] for item in page["items"]] == [entries[1].pk]


@pytest.mark.parametrize(
    ("params", "statuses"),
    [
        ({"register": "mhhs"}, ["active"]),
        ({"register": "rec_party"}, ["rec_approved"]),
        ({"status": "qualified", "history": "true"}, ["qualified"]),
        ({"market_role": "SUP"}, []),
        ({"market_role": "MEM", "history": "true"}, ["active", "qualified", "rec_approved"]),
    ],
)
def test_the_register_is_filtered(entries, params, statuses):
    body = Client().get("/api/v1/register", params).json()
    assert sorted(item["status"] for item in body["items"]) == sorted(statuses)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "approved"}, {"register": "x"}, {"history": "maybe"}],
)
def test_bad_parameters_are_refused_in_the_error_shape(params):
    assert_error(Client().get("/api/v1/register", params), 422, "invalid_input")


def test_the_operation_is_documented_as_public_and_paged():
    document = Client().get("/api/openapi.json").json()
    operation = document["paths"]["/api/v1/register"]["get"]

    assert operation["operationId"] == "register_list"
    assert not operation.get("security")  # no credentials needed
    assert "401" not in operation["responses"] and "422" in operation["responses"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"limit", "offset", "history", "register", "market_role", "status"} <= set(params)
    assert params["history"]["schema"]["type"] == "boolean"
    paged_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paged = document["components"]["schemas"][paged_ref.rsplit("/", 1)[-1]]
    assert set(paged["properties"]) == {"count", "limit", "offset", "items"}
    item_ref = paged["properties"]["items"]["items"]["$ref"]
    item = document["components"]["schemas"][item_ref.rsplit("/", 1)[-1]]
    assert set(item["properties"]) == FIELDS
    assert all(item["properties"][name].get("description") for name in ("status", "register", "with_conditions"))
