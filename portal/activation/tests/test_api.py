"""The Service Activation API: the queue, one hand-off, starting, ticking, the go-live date, inputs and
completion; errors as `{code, message, details}`, and refusals that change nothing."""

import json
from datetime import timedelta

import pytest

from portal.accounts.roles import Role
from portal.activation.models import Handoff, HandoffCheck
from portal.activation.selectors import uk_today
from portal.activation.services import handoff_check_set, handoff_input_add
from portal.activation.testing_support import activation_complete_checklist
from portal.activation.tests.conftest import snapshot
from portal.api.tests.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"


def handoff_url(application, rest=""):
    return f"{API}/applications/{application.pk}/activation{rest}"


def put(client: ApiClient, path, payload):
    return client.client.put(path, json.dumps(payload), content_type="application/json", headers=client.headers)


def refused(response, status, code):
    return assert_error(response, status, code)


# --- reading -----------------------------------------------------------------------------------------


def test_the_team_reads_the_hand_off(api_as, team, staff, fully_qualified):
    qualified = fully_qualified
    handoff_input_add(actor=staff(Role.QSP), application_id=qualified.pk, text="Letter sent on Friday.")
    handoff_check_set(actor=team, application_id=qualified.pk, item_code="standing_data", done=True, note="ISD.")
    response = api_as(team).get(handoff_url(qualified))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["application"]["reference"] == qualified.reference
    assert body["task"]["code"] == "service_activation" and body["task"]["state"] == "in_progress"
    assert body["status"] == "in_progress" and body["status_label"] == "In progress"
    assert body["opened_at"] and body["started_at"] and body["completed_at"] is None
    assert body["progress"] == {"done": 1, "total": 8}
    assert body["can_edit"] is True and body["can_start"] is False and body["can_complete"] is True
    assert body["input_bodies"] == []
    assert "the planned go-live date is not set" in body["missing"]
    check = next(c for c in body["checks"] if c["code"] == "standing_data")
    assert check["done"] is True and check["note"] == "ISD." and check["done_by"] == team.display_name
    assert [a["code"] for a in body["approvals"]] == [
        "approval_dip_manager",
        "approval_bsc_pab",
        "approval_rec_code_manager",
    ]
    assert all(a["decision"] == "approved" for a in body["approvals"])
    assert all(a["entries"] for a in body["approvals"])
    assert body["dip_ids"] and body["dip_ids"][0]["environment"] == "pre_production"
    assert body["conditions"] == []
    [entry] = body["inputs"]
    assert entry["body"] == "qsp" and entry["body_label"] == "Qualification Service Provider"
    assert entry["text"] == "Letter sent on Friday."


def test_the_participant_reads_it_without_the_internal_notes(api_as, member, team, staff, qualified):
    handoff_input_add(actor=staff(Role.ELEXON_ANALYST), application_id=qualified.pk, text="Internal.")
    handoff_check_set(actor=team, application_id=qualified.pk, item_code="standing_data", done=True, note="Team.")
    body = api_as(member).get(handoff_url(qualified)).json()
    assert body["inputs"] == []
    check = next(c for c in body["checks"] if c["code"] == "standing_data")
    assert check["done"] is True and check["note"] == "" and check["done_by"] is None
    assert body["can_edit"] is False and body["input_bodies"] == []


def test_a_code_body_may_add_inputs(api_as, staff, qualified):
    body = api_as(staff(Role.REC_CODE_MANAGER)).get(handoff_url(qualified)).json()
    assert body["input_bodies"] == ["rec_code_manager"] and body["can_edit"] is False


def test_another_organisation_gets_not_found(api_as, other_member, qualified):
    client = api_as(other_member)
    before = snapshot()
    refused(client.get(handoff_url(qualified)), 404, "not_found")
    refused(client.post(handoff_url(qualified, "/start")), 404, "not_found")
    refused(client.post(handoff_url(qualified, "/checks/standing_data"), {"done": True}), 404, "not_found")
    refused(client.post(handoff_url(qualified, "/inputs"), {"text": "Hi"}), 404, "not_found")
    refused(client.post(handoff_url(qualified, "/complete"), {}), 404, "not_found")
    refused(put(client, handoff_url(qualified, "/go-live"), {"planned_go_live": str(uk_today())}), 404, "not_found")
    assert snapshot() == before


def test_anonymous_calls_are_refused(anonymous, qualified):
    refused(anonymous.get(handoff_url(qualified)), 401, "not_authenticated")
    refused(anonymous.get(f"{API}/activation/handoffs"), 401, "not_authenticated")


# --- the queue ---------------------------------------------------------------------------------------


def test_the_queue_is_paged_scoped_and_filtered(api_as, team, member, other_member, other_org, qualify):
    first = qualify()
    second = qualify(organisation=other_org, actor=other_member)
    response = api_as(team).get(f"{API}/activation/handoffs", {"limit": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and body["limit"] == 1 and body["offset"] == 0
    [item] = body["items"]
    assert item["application"]["id"] == first.pk  # oldest first
    assert item["status"] == "not_started" and item["progress"] == {"done": 0, "total": 8}
    assert item["required_total"] == 7 and item["required_done"] == 0 and item["ready"] is False
    body = api_as(team).get(f"{API}/activation/handoffs", {"limit": 1, "offset": 1}).json()
    assert body["items"][0]["application"]["id"] == second.pk

    activation_complete_checklist(first, actor=team)
    body = api_as(team).get(f"{API}/activation/handoffs").json()
    assert body["items"][0]["ready"] is True and body["items"][0]["planned_go_live"] == str(uk_today())
    api_as(team).post(handoff_url(first, "/complete"), {})
    body = api_as(team).get(f"{API}/activation/handoffs").json()
    assert [i["application"]["id"] for i in body["items"]] == [second.pk]
    body = api_as(team).get(f"{API}/activation/handoffs", {"status": "completed"}).json()
    assert [i["application"]["id"] for i in body["items"]] == [first.pk]
    assert body["items"][0]["status"] == "completed" and body["items"][0]["completed_at"]

    mine = api_as(member).get(f"{API}/activation/handoffs", {"status": "all"}).json()
    assert [i["application"]["id"] for i in mine["items"]] == [first.pk]


def test_a_bad_filter_is_refused(api_as, team):
    refused(api_as(team).get(f"{API}/activation/handoffs", {"status": "nonsense"}), 422, "invalid_input")
    refused(api_as(team).get(f"{API}/activation/handoffs", {"limit": 0}), 422, "invalid_input")


# --- the team's work -----------------------------------------------------------------------------------


def test_start_tick_set_the_go_live_date_and_complete(api_as, team, member, qualified):
    client = api_as(team)
    response = client.post(handoff_url(qualified, "/start"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"
    refused(client.post(handoff_url(qualified, "/start")), 409, "invalid_transition")

    response = client.post(handoff_url(qualified, "/checks/standing_data"), {"done": True, "note": "In ISD."})
    assert response.status_code == 200, response.content
    check = response.json()
    assert check["done"] is True and check["note"] == "In ISD." and check["done_by"] == team.display_name

    body = client.post(handoff_url(qualified, "/complete"), {}).json()
    assert body["code"] == "invalid_transition"
    assert "the planned go-live date is not set" in body["details"]["missing"]

    day = uk_today() + timedelta(days=3)
    response = put(client, handoff_url(qualified, "/go-live"), {"planned_go_live": str(day)})
    assert response.status_code == 200, response.content
    assert response.json()["planned_go_live"] == str(day)

    activation_complete_checklist(qualified, actor=team)
    response = client.post(handoff_url(qualified, "/complete"), {"comment": "All set."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["completed_at"] and body["missing"] == []
    assert body["application"]["status"] == "active"
    assert body["can_edit"] is False and body["can_complete"] is False
    refused(client.post(handoff_url(qualified, "/checks/standing_data"), {"done": False}), 409, "invalid_transition")


def test_the_wrong_role_is_refused_and_nothing_changes(api_as, staff, member, qualified):
    before = snapshot()
    for user in (member, staff(Role.ELEXON_ANALYST), staff(Role.DIP_MANAGER)):
        client = api_as(user)
        refused(client.post(handoff_url(qualified, "/start")), 403, "permission_denied")
        refused(client.post(handoff_url(qualified, "/checks/standing_data"), {"done": True}), 403, "permission_denied")
        refused(
            put(client, handoff_url(qualified, "/go-live"), {"planned_go_live": str(uk_today())}),
            403,
            "permission_denied",
        )
        refused(client.post(handoff_url(qualified, "/complete"), {}), 403, "permission_denied")
    body = refused(api_as(member).post(handoff_url(qualified, "/inputs"), {"text": "Hi"}), 403, "permission_denied")
    assert "Code Bodies and the DIP Manager" in body["message"]
    refused(
        api_as(staff(Role.SERVICE_ACTIVATION)).post(handoff_url(qualified, "/inputs"), {"text": "Hi"}),
        403,
        "permission_denied",
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        ("/checks/standing_data", {"done": "maybe"}, 422, "invalid_input"),
        ("/checks/standing_data", {"done": True, "note": "x" * 5001}, 422, "invalid_input"),
        ("/checks/standing_data", {"done": True, "note": "a\x00b"}, 422, "invalid_input"),
        ("/checks/no_such_item", {"done": True}, 404, "not_found"),
        ("/checks/" + "x" * 41, {"done": True}, 422, "invalid_input"),
        ("/complete", {"comment": "x" * 5001}, 422, "invalid_input"),
    ],
)
def test_bad_input_is_refused(api_as, team, qualified, path, payload, status, code):
    before = snapshot()
    refused(api_as(team).post(handoff_url(qualified, path), payload), status, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    "payload",
    [{}, {"planned_go_live": "2030-02-30"}, {"planned_go_live": "tomorrow"}, {"planned_go_live": "2001-01-01"}],
)
def test_a_bad_go_live_date_is_refused(api_as, team, qualified, payload):
    before = snapshot()
    body = refused(put(api_as(team), handoff_url(qualified, "/go-live"), payload), 422, "invalid_input")
    assert body["message"]
    assert snapshot() == before


# --- inputs ----------------------------------------------------------------------------------------------


def test_adding_an_input(api_as, staff, qualified):
    response = api_as(staff(Role.DIP_MANAGER)).post(
        handoff_url(qualified, "/inputs"), {"text": "Prod DIP ID next week."}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "dip_manager" and body["text"] == "Prod DIP ID next week." and body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"text": ""}, "text"), ({"text": "Hi", "body": "qsp"}, "body"), ({"text": "Hi", "body": "pab_chair"}, None)],
)
def test_a_bad_input_is_refused(api_as, staff, qualified, payload, field):
    before = snapshot()
    body = refused(
        api_as(staff(Role.DIP_MANAGER)).post(handoff_url(qualified, "/inputs"), payload), 422, "invalid_input"
    )
    if field:
        assert body["details"]["field"] == field
    assert snapshot() == before
    assert not HandoffCheck.objects.exists() and Handoff.objects.count() == 1
