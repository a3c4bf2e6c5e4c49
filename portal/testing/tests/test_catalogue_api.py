"""The catalogue API: everyone reads it (lists are paged), the staff who keep it write it; a new
version of a case, its difference from the previous one, retiring and reinstating it; refusals as
`{code, message, details}` that change nothing; the workbook export."""

import pytest

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.audit.models import AuditEvent
from portal.testing.models import Requirement, TestCaseVersion
from portal.testing.tests.catalogue_support import XLSX, read_workbook, state, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

API = "/api/v1/qt/catalogue"


@pytest.fixture
def ta(staff):
    return staff(Role.TESTING_ASSURANCE)


def put(client, path, payload):
    return client.client.put(path, payload, content_type="application/json", headers=client.headers)


CONTENT = {
    "title": "Supplier objects to a change of supplier",
    "batch": "functional",
    "mandatory": False,
    "role_groups": ["supplier"],
    "dip_flows": ["IF-001"],
    "requirements": ["REQ-FUN-001"],
    "steps": [
        {"action": "Raise an objection.", "expected": "The objection is accepted."},
        {"action": "Receive the outcome.", "expected": "The registration is withdrawn."},
    ],
}


def test_reading_the_catalogue(api_as, member):
    client = api_as(member)
    body = client.get(f"{API}/cases", {"role_group": "ldso", "batch": "migration", "limit": 1}).json()
    assert body["count"] == 2 and body["limit"] == 1
    item = body["items"][0]
    assert item["identifier"] == "QTC-MIG-01-02" and item["scenario"] == "QTS-MIG-01"
    assert item["current"]["role_groups"] == ["ldso"] and item["current"]["steps"][0]["step"] == 1
    assert client.get(f"{API}/cases", {"mandatory": "false", "dip_flow": "IF-015"}).json()["count"] == 2
    assert client.get(f"{API}/cases", {"search": "comms hub"}).json()["items"][0]["identifier"] == "QTC-FUN-03-06"

    case = client.get(f"{API}/cases/qtc-fun-01-01").json()
    assert case["identifier"] == "QTC-FUN-01-01" and case["current"]["dip_flows"] == ["IF-001"]
    assert [v["version"] for v in case["versions"]] == [1]
    assert client.get(f"{API}/cases/QTC-FUN-01-01/versions/1").json()["title"] == case["current"]["title"]
    assert_error(client.get(f"{API}/cases/QTC-FUN-01-01/versions/2"), 404, "not_found")
    assert_error(client.get(f"{API}/cases/QTC-NOPE"), 404, "not_found")

    assert client.get(f"{API}/scenarios").json()["count"] == 14
    assert client.get(f"{API}/scenarios/QTS-DIP-01").json()["active_cases"] == 4
    requirements = client.get(f"{API}/requirements", {"area": "migration"}).json()
    assert requirements["count"] == 7 and requirements["items"][0]["area_label"] == "Migration"
    assert client.get(f"{API}/requirements/REQ-OPS-003").json()["text"].startswith("Incidents")
    flow = client.get(f"{API}/dip-flows/if-041").json()
    assert flow == {
        "code": "IF-041",
        "title": "Meter Readings on Change of Supplier",
        "opt_out_allowed": False,
        "current_cases": 3,
    }
    coverage = client.get(f"{API}/coverage", {"uncovered": "true", "area": "operational"}).json()
    assert coverage["count"] == 3
    assert {row["requirement"]["identifier"] for row in coverage["items"]} == {
        "REQ-OPS-003",
        "REQ-OPS-004",
        "REQ-OPS-007",
    }
    first = client.get(f"{API}/coverage").json()["items"][0]
    assert first["covered"] is False and first["cases"] == []


def test_publishing_and_the_difference(api_as, ta, member):
    response = api_as(ta).post(f"{API}/cases/QTC-FUN-01-06/versions", {**CONTENT, "mandatory": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current"]["version"] == 2 and [v["version"] for v in body["versions"]] == [2, 1]
    assert body["current"]["created_by"] == ta.display_name
    diff = api_as(member).get(f"{API}/cases/QTC-FUN-01-06/diff", {"from_version": 1, "to_version": 2}).json()
    assert diff["from_version"] == 1 and diff["to_version"] == 2
    assert {c["field"] for c in diff["fields"]} == {"title", "mandatory"}
    assert {"field": "dip_flows", "added": ["IF-001"], "removed": ["IF-041"]} in diff["sets"]
    assert diff["steps"][0]["change"] == "changed" and diff["steps"][0]["after"]["action"] == "Raise an objection."
    body = assert_error(
        api_as(ta).post(f"{API}/cases/QTC-FUN-01-06/versions", {**CONTENT, "mandatory": True}), 422, "invalid_input"
    )
    assert body["message"].startswith("Nothing changed") and body["details"]["rule"] == "unchanged"


def test_adding_retiring_and_reinstating_a_case(api_as, ta):
    client = api_as(ta)
    response = client.post(f"{API}/cases", {**CONTENT, "identifier": "QTC-FUN-01-07", "scenario": "QTS-FUN-01"})
    assert response.status_code == 201, response.content
    assert response.json()["current"]["version"] == 1
    assert_error(
        client.post(f"{API}/cases", {**CONTENT, "identifier": "QTC-FUN-01-07", "scenario": "QTS-FUN-01"}),
        409,
        "conflict",
    )
    response = client.post(f"{API}/cases/QTC-FUN-01-07/retire", {"reason": "Replaced."})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert_error(client.post(f"{API}/cases/QTC-FUN-01-07/versions", CONTENT), 409, "invalid_transition")
    assert client.get(f"{API}/cases", {"search": "QTC-FUN-01-07"}).json()["count"] == 0
    assert client.get(f"{API}/cases", {"search": "QTC-FUN-01-07", "include_retired": "true"}).json()["count"] == 1
    assert client.post(f"{API}/cases/QTC-FUN-01-07/reinstate").json()["is_active"] is True


def test_scenarios_requirements_and_flows(api_as, ta):
    client = api_as(ta)
    response = client.post(f"{API}/scenarios", {"identifier": "QTS-FUN-07", "title": "Replays", "batch": "functional"})
    assert response.status_code == 201 and response.json()["active_cases"] == 0
    response = put(client, f"{API}/scenarios/QTS-FUN-07", {"title": "Reading replays", "batch": "functional"})
    assert response.status_code == 200 and response.json()["title"] == "Reading replays"
    body = assert_error(
        put(
            client,
            f"{API}/scenarios/QTS-FUN-01",
            {"title": "Change of supplier", "batch": "functional", "is_active": False},
        ),
        409,
        "invalid_transition",
    )
    assert "still has 6 active cases" in body["message"]

    response = client.post(
        f"{API}/requirements", {"identifier": "REQ-OPS-008", "area": "operational", "text": "Records kept."}
    )
    assert response.status_code == 201 and response.json()["identifier"] == "REQ-OPS-008"
    response = put(
        client, f"{API}/requirements/REQ-OPS-008", {"area": "operational", "text": "Records kept.", "is_active": False}
    )
    assert response.json()["is_active"] is False
    assert not Requirement.objects.get(identifier="REQ-OPS-008").is_active

    response = client.post(f"{API}/dip-flows", {"code": "IF-042", "title": "Reading replay"})
    assert response.status_code == 201 and response.json()["opt_out_allowed"] is True
    response = put(client, f"{API}/dip-flows/IF-042", {"title": "Reading replay", "opt_out_allowed": False})
    assert response.json()["opt_out_allowed"] is False
    assert AuditEvent.objects.filter(action__startswith="catalogue.").count() == 6


def test_refusals_change_nothing(api_as, member, ta):
    before = state()
    assert_error(api_as(member).post(f"{API}/cases/QTC-FUN-01-01/versions", CONTENT), 403, "permission_denied")
    assert_error(
        api_as(member).post(f"{API}/requirements", {"identifier": "REQ-X-1", "area": "functional", "text": "x"}),
        403,
        "permission_denied",
    )
    assert_error(
        put(api_as(member), f"{API}/dip-flows/IF-001", {"title": "x", "opt_out_allowed": True}),
        403,
        "permission_denied",
    )
    assert_error(api_as(ta).post(f"{API}/cases/QTC-NOPE/versions", CONTENT), 404, "not_found")
    body = assert_error(
        api_as(ta).post(f"{API}/cases/QTC-FUN-01-01/versions", {**CONTENT, "dip_flows": ["IF-999"]}),
        422,
        "invalid_input",
    )
    assert body["details"]["field"] == "dip_flows"
    body = assert_error(
        api_as(ta).post(f"{API}/cases/QTC-FUN-01-01/versions", {**CONTENT, "steps": []}), 422, "invalid_input"
    )
    assert body["details"]["errors"][0]["field"] == "steps"
    assert_error(api_as(ta).post(f"{API}/cases/QTC-FUN-01-01/retire", {"reason": ""}), 422, "invalid_input")
    assert_error(api_as(ta).post(f"{API}/dip-flows", {"code": "FLOW", "title": "x"}), 422, "invalid_input")
    assert state() == before
    assert TestCaseVersion.objects.filter(version=2).count() == 0


def test_the_catalogue_workbook(api_as, member):
    response = api_as(member).get(f"{API}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="QT test catalogue.xlsx"'
    assert list(read_workbook(response.content)) == ["Scenarios", "Cases", "Steps", "Requirements", "DIP flows"]


def test_the_import_goes_through_the_imports_api(api_as, ta, member):
    content = xlsx_bytes(
        {
            "Cases": [
                ["Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups"],
                ["QTC-FUN-01-07", "QTS-FUN-01", "Objection", "Functional", "No", "supplier"],
            ],
            "Steps": [["Case", "Step", "Action", "Expected result"], ["QTC-FUN-01-07", 1, "Object.", "Accepted."]],
        }
    )
    response = api_as(ta).post_multipart("/api/v1/imports", {"kind": "catalogue", "file": upload(content)})
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "catalogue" and response.json()["status"] == "queued"
    assert_error(
        api_as(member).post_multipart("/api/v1/imports", {"kind": "catalogue", "file": upload(content)}),
        403,
        "permission_denied",
    )
