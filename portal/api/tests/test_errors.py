import logging

import pytest

from portal.api.tests.conftest import assert_error, counts
from portal.qualification import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as, member):
    return api_as(member)


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/applications", "/api/", "/api/v1/applications/"])
def test_unknown_addresses_answer_404_json(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_unknown_addresses_answer_404_json_without_credentials_too(anonymous):
    assert_error(anonymous.post("/api/v1/nothing-here", {}), 404, "not_found")


def test_a_non_numeric_id_is_an_unknown_address(client):
    assert_error(client.get("/api/v1/applications/QA-00001"), 404, "not_found")
    assert_error(client.get("/api/v1/applications/1%0A/tasks/pqs"), 404, "not_found")


def test_wrong_method_answers_405_json_with_allow(client):
    response = client.delete("/api/v1/applications")
    body = assert_error(response, 405, "method_not_allowed")
    assert body["details"]["allowed"] == ["GET", "POST"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert_error(client.request("PUT", "/api/v1/me"), 405, "method_not_allowed")


def test_validation_errors_answer_422_with_every_problem(client, org):
    before = counts()
    response = client.post("/api/v1/applications", {"organisation_id": "x", "mpid": "", "route": "sit"})
    body = assert_error(response, 422, "invalid_input")
    fields = {error["field"] for error in body["details"]["errors"]}
    assert fields == {"organisation_id", "mpid", "market_role"}
    for error in body["details"]["errors"]:
        assert set(error) == {"loc", "field", "message", "type"}
    assert counts() == before


def test_query_validation_errors_answer_422(client):
    body = assert_error(client.get("/api/v1/applications", {"limit": 0}), 422, "invalid_input")
    assert body["details"]["errors"][0]["loc"] == ["query", "limit"]
    assert_error(client.get("/api/v1/applications", {"status": "nonsense"}), 422, "invalid_input")
    assert_error(client.get("/api/v1/applications", {"limit": 201}), 422, "invalid_input")


def test_ids_beyond_the_database_range_are_bad_input(client):
    assert_error(client.get(f"/api/v1/applications/{2**64}"), 422, "invalid_input")


def test_malformed_json_answers_400(client):
    before = counts()
    assert_error(client.post_raw("/api/v1/applications", "{not json"), 400, "bad_request")
    assert counts() == before


def test_domain_errors_keep_their_code_and_status(client, org):
    body = assert_error(
        client.post(
            "/api/v1/applications",
            {"organisation_id": org.pk, "mpid": "ZZZZ", "market_role": "SUP", "route": "non_sit_supplier_agent"},
        ),
        422,
        "invalid_input",
    )
    assert body["details"] == {"field": "mpid"}


def test_unexpected_errors_answer_500_without_internals(client, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(selectors, "application_list", broken)
    with caplog.at_level(logging.ERROR, logger="portal.api"):
        response = client.get("/api/v1/applications")
    body = assert_error(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert body["details"] == {}
    assert "hunter2" in caplog.text  # logged for the operators, not told to the client
