"""The PQS through the API, as a client system calls it: bearer tokens, JSON, `{code, message, details}`
errors. The router is mounted on an API of its own here (see tests/urls.py) at /pqs-api/v1."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.audit.models import AuditEvent
from portal.prequalification.models import RelianceProposalItem
from portal.prequalification.services import pqs_save_draft, reliance_item_add
from portal.prequalification.tests.conftest import PDF, PLAN, RELIED_ON, snapshot, task_of
from portal.prequalification.tests.urls import API_PREFIX
from portal.qualification.services import task_transition
from portal.qualification.workflow import TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.prequalification.tests.urls")]


class Api:
    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str) -> Any:
        return self.client.get(API_PREFIX + path, headers=self.headers)

    def send(self, method: str, path: str, payload: Any = None) -> Any:
        body = json.dumps(payload if payload is not None else {})
        return self.client.generic(
            method, API_PREFIX + path, body, content_type="application/json", headers=self.headers
        )

    def put(self, path: str, payload: Any) -> Any:
        return self.send("PUT", path, payload)

    def post(self, path: str, payload: Any = None) -> Any:
        return self.send("POST", path, payload)

    def delete(self, path: str) -> Any:
        return self.send("DELETE", path)

    def upload(self, path: str, files: list[Any]) -> Any:
        return self.client.post(API_PREFIX + path, {"files": files}, headers=self.headers)


@pytest.fixture
def api_as() -> Callable[[User], Api]:
    made: dict[int, Api] = {}

    def make(user: User) -> Api:
        if user.pk not in made:
            _, secret = api_token_create(actor=user, user=user, name="tests")
            made[user.pk] = Api(secret)
        return made[user.pk]

    return make


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    assert body["message"]
    return body


def _pqs(application: Any) -> str:
    return f"/applications/{application.pk}/pqs"


PLAN_JSON = {
    "preferred_wave": "wave-3",
    "pit_approach": "PIT in our own environment.",
    "pit_start_date": "2027-01-04",
    "pit_completion_date": "2027-04-30",
    "qt_approach": "The QTC set in the QTF.",
    "qt_start_date": "2027-06-01",
    "qt_completion_date": "2027-09-30",
    "target_migration_date": "2027-12-01",
    "supplier_hub_relationships": "",
}

ITEM_JSON = {
    "title": "Vendor flow management",
    "relied_on": True,
    "scope": "test_cases",
    "identifiers": ["QTC-SUP-001", "QTC-SUP-002"],
    "provider_kind": "software_vendor",
    "provider_name": "Example Billing Systems Ltd",
    "artefacts": "Vendor test completion report",
    "rationale": "Tested end to end by the vendor.",
}


def _audit_count() -> int:
    return AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count()


# --- the PQS ----------------------------------------------------------------------------------------


def test_get_an_empty_pqs_lists_what_is_missing(api_as, member, make_application):
    application = make_application()
    body = api_as(member).get(_pqs(application)).json()
    assert body["status"] == "draft" and body["version"] == 0
    assert body["task_state"] == "not_started"
    assert body["complete"] is False
    assert body["missing"][0] == {"field": "preferred_wave", "message": "Select the preferred wave"}
    assert body["can_edit"] is True and body["can_decide"] is False
    assert body["items"] == []


def test_put_saves_the_draft(api_as, member, make_application):
    application = make_application()
    response = api_as(member).put(_pqs(application), PLAN_JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preferred_wave"]["code"] == "wave-3"
    assert body["target_migration_date"] == "2027-12-01"
    assert body["complete"] is True and body["missing"] == []
    assert body["task_state"] == "in_progress"


def test_put_with_bad_input_changes_nothing(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    client.get(_pqs(application))  # the token exists before the snapshot
    before = snapshot()
    body = assert_error(
        client.put(_pqs(application), {**PLAN_JSON, "qt_completion_date": "2027-05-01"}), 422, "invalid_input"
    )
    assert body["details"]["field"] == "qt_completion_date"
    assert_error(client.put(_pqs(application), {**PLAN_JSON, "pit_start_date": "31/02/2027"}), 422, "invalid_input")
    assert_error(client.put(_pqs(application), {**PLAN_JSON, "pit_approach": "x" * 5001}), 422, "invalid_input")
    assert snapshot() == before


def test_waves_are_listed(api_as, member):
    body = api_as(member).get("/pqs/waves").json()
    assert [w["code"] for w in body] == ["wave-1", "wave-2", "wave-3", "wave-4"]


def test_wrong_role_state_and_organisation(api_as, member, other_member, analyst, make_application):
    application = make_application()
    assert_error(api_as(analyst).put(_pqs(application), PLAN_JSON), 403, "permission_denied")
    assert_error(api_as(other_member).get(_pqs(application)), 404, "not_found")
    assert_error(api_as(other_member).put(_pqs(application), PLAN_JSON), 404, "not_found")
    assert_error(api_as(member).get(_pqs(make_application(route="sit", market_role="MEM"))), 404, "not_found")
    api_as(member).put(_pqs(application), PLAN_JSON)
    task_transition(actor=member, application_id=application.pk, task_code="pqs", action="submit")
    assert_error(api_as(member).put(_pqs(application), PLAN_JSON), 409, "invalid_transition")


def test_without_credentials_answers_401(make_application):
    response = Client().get(API_PREFIX + _pqs(make_application()))
    assert_error(response, 401, "not_authenticated")


# --- items ------------------------------------------------------------------------------------------


def test_item_crud(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    response = client.post(_pqs(application) + "/items", ITEM_JSON)
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["identifiers"] == ["QTC-SUP-001", "QTC-SUP-002"]
    assert item["decision"] == "pending" and item["decided_by"] is None
    url = f"{_pqs(application)}/items/{item['id']}"

    assert client.get(url).json()["title"] == "Vendor flow management"
    assert [i["id"] for i in client.get(_pqs(application) + "/items").json()] == [item["id"]]

    response = client.put(url, {**ITEM_JSON, "relied_on": False, "provider_kind": None, "provider_name": ""})
    assert response.status_code == 200, response.content
    assert response.json()["relied_on"] is False

    response = client.delete(url)
    assert response.status_code == 204
    assert_error(client.get(url), 404, "not_found")


def test_item_bad_input_lists_every_problem_and_stores_nothing(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    client.get(_pqs(application))
    before = snapshot()
    body = assert_error(
        client.post(_pqs(application) + "/items", {**ITEM_JSON, "provider_kind": None, "identifiers": ["a b c!"]}),
        422,
        "invalid_input",
    )
    assert [e["field"] for e in body["details"]["errors"]] == ["identifiers", "provider_kind"]
    assert_error(client.post(_pqs(application) + "/items", {**ITEM_JSON, "scope": "all"}), 422, "invalid_input")
    assert_error(client.post(_pqs(application) + "/items", {"title": "Only a title"}), 422, "invalid_input")
    assert snapshot() == before


def test_upload_evidence_to_an_item(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    item = client.post(_pqs(application) + "/items", ITEM_JSON).json()
    url = f"{_pqs(application)}/items/{item['id']}/evidence"
    response = client.upload(url, [SimpleUploadedFile("vendor.pdf", PDF)])
    assert response.status_code == 200, response.content
    [evidence] = response.json()["evidence"]
    assert evidence["name"] == "vendor.pdf" and len(evidence["sha256"]) == 64
    before = snapshot()
    body = assert_error(client.upload(url, [SimpleUploadedFile("fake.png", b"not a png")]), 422, "invalid_input")
    assert body["details"]["rule"] == "type"
    assert snapshot() == before


def test_items_of_another_organisation_answer_404(api_as, member, other_member, other_org, make_application):
    theirs = make_application(organisation=other_org, actor=other_member)
    item = reliance_item_add(actor=other_member, application_id=theirs.pk, fields=RELIED_ON)
    url = f"{_pqs(theirs)}/items/{item.pk}"
    client = api_as(member)
    assert_error(client.get(url), 404, "not_found")
    assert_error(client.put(url, ITEM_JSON), 404, "not_found")
    assert_error(client.delete(url), 404, "not_found")
    assert_error(client.post(url + "/decision", {"decision": "accepted"}), 404, "not_found")
    assert RelianceProposalItem.objects.filter(pk=item.pk).exists()


# --- decisions and the task transitions -------------------------------------------------------------


def test_review_cycle_through_the_api(api, api_as, member, analyst, make_application):
    application = make_application()
    participant = api_as(member)
    reviewer = api_as(analyst)
    participant.put(_pqs(application), PLAN_JSON)
    item = participant.post(_pqs(application) + "/items", ITEM_JSON).json()
    decision_url = f"{_pqs(application)}/items/{item['id']}/decision"

    assert_error(reviewer.post(decision_url, {"decision": "accepted"}), 409, "invalid_transition")
    api.post(participant, f"/api/v1/applications/{application.pk}/tasks/pqs/transitions", {"action": "submit"})
    assert task_of(application).state == TaskState.SUBMITTED
    assert reviewer.get(_pqs(application)).json()["can_decide"] is True

    assert_error(participant.post(decision_url, {"decision": "accepted"}), 403, "permission_denied")
    body = assert_error(reviewer.post(decision_url, {"decision": "rejected"}), 422, "invalid_input")
    assert body["details"]["field"] == "reason"
    assert_error(reviewer.post(decision_url, {"decision": "pending"}), 422, "invalid_input")

    response = api.post(reviewer, f"/api/v1/applications/{application.pk}/tasks/pqs/transitions", {"action": "accept"})
    body = assert_error(response, 409, "invalid_transition")
    assert body["details"]["pending"] == [item["id"]]

    response = reviewer.post(decision_url, {"decision": "accepted"})
    assert response.status_code == 200, response.content
    assert response.json()["decided_by"] == analyst.display_name
    response = api.post(reviewer, f"/api/v1/applications/{application.pk}/tasks/pqs/transitions", {"action": "accept"})
    assert response.status_code == 200, response.content
    assert task_of(application).state == TaskState.COMPLETED


def test_submit_through_the_task_endpoint_says_what_is_missing(api, api_as, member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    api_as(member).put(_pqs(application), {**PLAN_JSON, "qt_approach": ""})
    response = api.post(
        api_as(member), f"/api/v1/applications/{application.pk}/tasks/pqs/transitions", {"action": "submit"}
    )
    body = assert_error(response, 422, "invalid_input")
    assert body["details"]["missing"] == [{"field": "qt_approach", "message": "Enter the QT approach"}]


def test_a_body_that_cannot_see_the_application_gets_404(api_as, staff, member, make_application):
    application = make_application(market_role="ADS")
    assert_error(api_as(staff(Role.REC_CODE_MANAGER)).get(_pqs(application)), 404, "not_found")


@pytest.fixture
def api() -> Any:
    """Calls to the project's own API (for the task transitions, which it already serves)."""

    class ProjectApi:
        def post(self, as_client: Api, path: str, payload: Any) -> Any:
            return as_client.client.post(
                path, json.dumps(payload), content_type="application/json", headers=as_client.headers
            )

    return ProjectApi()


def test_openapi_describes_the_operations(api_as, member):
    schema = Client().get(API_PREFIX.removesuffix("/v1") + "/openapi.json").json()
    paths = schema["paths"]
    assert "/pqs-api/v1/applications/{application_id}/pqs" in paths
    assert set(paths["/pqs-api/v1/applications/{application_id}/pqs/items/{item_id}"]) == {"get", "put", "delete"}
    assert "pqs_item_decide" in json.dumps(schema)
