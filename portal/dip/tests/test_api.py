"""The DIP onboarding API: read the steps and DIP IDs, mark steps, record, remove and confirm DIP
IDs; errors as `{code, message, details}`."""

import pytest

from portal.api.tests.conftest import assert_error
from portal.dip.models import DipId
from portal.dip.services import dip_id_add
from portal.dip.testing_support import dip_complete_onboarding
from portal.dip.tests.conftest import snapshot
from portal.dip.tests.urls import API_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.dip.tests.urls")]


def dip_url(application, rest=""):
    return f"{API_PREFIX}/applications/{application.pk}/dip{rest}"


def test_read_dip_onboarding(api_as, member, dip_app):
    dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    response = api_as(member).get(dip_url(dip_app))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["application"]["mpid"] == "NLEN"
    assert body["task"]["code"] == "dip_onboarding"
    assert body["can_edit"] is True and body["can_confirm"] is False
    assert body["can_record_production"] is True
    assert len(body["steps"]) == 8
    assert body["steps"][0] == {
        "code": "company_verified",
        "title": "Access the DIP and verify company details",
        "guidance": body["steps"][0]["guidance"],
        "order": 10,
        "done": False,
        "done_by": None,
        "done_at": None,
        "note": "",
    }
    [dip_id] = body["dip_ids"]
    assert dip_id["value"] == "1009012345"
    assert dip_id["environment"] == "pre_production"
    assert dip_id["environment_label"] == "Pre-production (UIT)"
    assert (dip_id["mpid"], dip_id["market_role"]) == ("NLEN", "SUP")
    assert dip_id["confirmed"] is False
    assert len(body["missing"]) == 8


def test_the_dip_manager_may_confirm(api_as, dip_manager, dip_app):
    body = api_as(dip_manager).get(dip_url(dip_app)).json()
    assert body["can_confirm"] is True and body["can_edit"] is False


def test_mark_a_step(api_as, member, dip_app):
    response = api_as(member).post(dip_url(dip_app, "/steps/users_set_up"), {"done": True, "note": "Three admins."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["done"] is True and body["done_by"] == member.display_name and body["done_at"]
    assert body["note"] == "Three admins."
    body = api_as(member).post(dip_url(dip_app, "/steps/users_set_up"), {"done": False}).json()
    assert body["done"] is False and body["done_by"] is None


def test_record_confirm_and_remove_dip_ids(api_as, member, dip_manager, dip_app):
    response = api_as(member).post(dip_url(dip_app, "/ids"), {"environment": "pre_production", "value": "1009012345"})
    assert response.status_code == 201, response.content
    pre = response.json()
    assert pre["recorded_by"] == member.display_name and pre["confirmed"] is False

    production = api_as(member).post(dip_url(dip_app, "/ids"), {"environment": "production", "value": "2300000012"})
    assert production.status_code == 201
    response = api_as(member).delete(dip_url(dip_app, f"/ids/{production.json()['id']}"))
    assert response.status_code == 204
    assert not DipId.objects.filter(environment="production").exists()

    response = api_as(dip_manager).post(dip_url(dip_app, f"/ids/{pre['id']}/confirm"))
    assert response.status_code == 200, response.content
    confirmed = response.json()
    assert confirmed["confirmed"] is True and confirmed["confirmed_by"] == dip_manager.display_name
    assert_error(api_as(dip_manager).post(dip_url(dip_app, f"/ids/{pre['id']}/confirm")), 409, "conflict")
    assert_error(api_as(member).delete(dip_url(dip_app, f"/ids/{pre['id']}")), 409, "conflict")


def test_refusals_change_nothing(api_as, member, other_member, dip_manager, dip_app):
    dip_id = dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    before = snapshot()
    assert_error(api_as(other_member).get(dip_url(dip_app)), 404, "not_found")
    assert_error(api_as(other_member).post(dip_url(dip_app, "/steps/users_set_up"), {"done": True}), 404, "not_found")
    assert_error(
        api_as(dip_manager).post(dip_url(dip_app, "/steps/users_set_up"), {"done": True}), 403, "permission_denied"
    )
    assert_error(api_as(member).post(dip_url(dip_app, "/steps/nope"), {"done": True}), 404, "not_found")
    assert_error(api_as(member).post(dip_url(dip_app, f"/ids/{dip_id.pk}/confirm")), 403, "permission_denied")
    body = assert_error(
        api_as(member).post(dip_url(dip_app, "/ids"), {"environment": "pre_production", "value": "12345"}),
        422,
        "invalid_input",
    )
    assert body["message"] == "“12345” is not a DIP ID. A DIP ID is exactly 10 digits, like 1009012345."
    assert body["details"] == {"field": "value"}
    assert_error(
        api_as(member).post(dip_url(dip_app, "/ids"), {"environment": "pre_production", "value": "1009012346"}),
        409,
        "conflict",
    )
    assert_error(
        api_as(member).post(dip_url(dip_app, "/ids"), {"environment": "staging", "value": "1009012346"}),
        422,
        "invalid_input",
    )
    assert_error(api_as(other_member).post(dip_url(dip_app, f"/ids/{dip_id.pk}/confirm")), 404, "not_found")
    assert snapshot() == before


def test_submitting_and_accepting_through_the_task_api(api_as, member, dip_manager, dip_app):
    tasks = f"/api/v1/applications/{dip_app.pk}/tasks/dip_onboarding/transitions"
    body = assert_error(api_as(member).post(tasks, {"action": "submit"}), 409, "invalid_transition")
    assert body["message"].startswith("DIP onboarding cannot be submitted yet:")
    dip_complete_onboarding(dip_app, actor=member)
    assert api_as(member).post(tasks, {"action": "submit"}).status_code == 200
    body = assert_error(api_as(dip_manager).post(tasks, {"action": "accept"}), 409, "invalid_transition")
    assert "is confirmed" in body["message"]
    dip_id = DipId.objects.get()
    api_as(dip_manager).post(dip_url(dip_app, f"/ids/{dip_id.pk}/confirm"))
    response = api_as(dip_manager).post(tasks, {"action": "accept"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "completed"
