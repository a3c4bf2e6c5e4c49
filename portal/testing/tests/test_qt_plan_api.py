"""The QT plan through the API, the way a participant's or Testing Assurance's system calls it: the plan
and its opt-outs, its review, the required set with filters and counts, the execution plan in bulk, the
readiness report and its review, and the exit checklist. Refusals answer `{code, message, details}`
and change nothing; another organisation's application answers 404."""

import datetime

import pytest

from portal.api.tests.conftest import assert_error
from portal.audit.models import AuditEvent
from portal.testing.models import PlannedExecution, QtPlan, ReviewStatus
from portal.testing.plan_selectors import readiness_items_for
from portal.testing.plan_testing_support import qt_plan_agree
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import SUPPLIER_REQUIRED, snapshot

pytestmark = pytest.mark.django_db

# The shared fixtures of the QT plan tests.
catalogue, qt_app, ta = fixtures.catalogue, fixtures.qt_app, fixtures.ta

PLAN = {
    "approach": "Functional batch first, then migration.",
    "reliance_approach": "",
    "test_data": "Test MPANs loaded as legacy.",
    "starts_on": "2026-09-07",
    "ends_on": "2026-11-27",
}


def base(application):
    return f"/api/v1/applications/{application.pk}/qt"


def put(client, path, payload):
    return client.client.put(path, payload, content_type="application/json", headers=client.headers)


# --- the plan ---------------------------------------------------------------------------------------------


def test_reading_an_empty_plan(api_as, member, qt_app):
    response = api_as(member).get(f"{base(qt_app)}/plan")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft" and body["version"] == 0 and body["approach"] == ""
    assert body["task"]["code"] == "qt" and body["application"]["id"] == qt_app.pk
    assert body["can_edit"] is True and body["can_review"] is False
    assert [m["field"] for m in body["missing"]] == ["approach", "test_data", "starts_on", "ends_on"]


def test_write_submit_and_agree_the_plan(api_as, member, qt_app, ta):
    participant, reviewer = api_as(member), api_as(ta)
    response = put(participant, f"{base(qt_app)}/plan", PLAN)
    assert response.status_code == 200, response.content
    assert response.json()["returned_to_draft"] is False and response.json()["missing"] == []
    response = participant.post(f"{base(qt_app)}/plan/submit")
    assert response.status_code == 200 and response.json()["status"] == "submitted" and response.json()["version"] == 1
    assert response.json()["can_edit"] is False
    assert reviewer.get(f"{base(qt_app)}/plan").json()["can_review"] is True
    response = reviewer.post(f"{base(qt_app)}/plan/review", {"decision": "agree", "comment": "Good."})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "agreed" and body["reviewed_by"] == ta.display_name and body["review_comment"] == "Good."
    response = put(participant, f"{base(qt_app)}/plan", {**PLAN, "approach": "Changed."})
    assert response.json()["returned_to_draft"] is True and response.json()["status"] == "draft"


def test_plan_refusals(api_as, member, qt_app, ta, other_member):
    before = snapshot()
    assert_error(api_as(other_member).get(f"{base(qt_app)}/plan"), 404, "not_found")
    assert_error(put(api_as(other_member), f"{base(qt_app)}/plan", PLAN), 404, "not_found")
    assert_error(put(api_as(ta), f"{base(qt_app)}/plan", PLAN), 403, "permission_denied")
    body = assert_error(
        put(api_as(member), f"{base(qt_app)}/plan", {**PLAN, "ends_on": "2026-01-01"}), 422, "invalid_input"
    )
    assert body["details"]["field"] == "ends_on"
    assert_error(put(api_as(member), f"{base(qt_app)}/plan", {**PLAN, "starts_on": "7 Sept"}), 422, "invalid_input")
    assert_error(api_as(member).post(f"{base(qt_app)}/plan/submit"), 422, "invalid_input")
    assert_error(api_as(ta).post(f"{base(qt_app)}/plan/review", {"decision": "agree"}), 409, "invalid_transition")
    assert_error(api_as(ta).post(f"{base(qt_app)}/plan/review", {"decision": "maybe"}), 422, "invalid_input")
    assert snapshot() == before


def test_opt_outs(api_as, member, qt_app, catalogue):
    client = api_as(member)
    body = client.get(f"{base(qt_app)}/plan").json()
    assert body["opt_out_choices"] == [{"code": "IF-901", "title": "Test flow that may be opted out of"}]
    response = client.post(f"{base(qt_app)}/plan/opt-outs", {"flow": "IF-901", "reason": "Not used."})
    assert response.status_code == 201, response.content
    assert [o["flow"] for o in response.json()["opt_outs"]] == ["IF-901"]
    body = assert_error(
        client.post(f"{base(qt_app)}/plan/opt-outs", {"flow": "IF-902", "reason": "x"}), 422, "invalid_input"
    )
    assert body["details"]["field"] == "flow"
    response = client.delete(f"{base(qt_app)}/plan/opt-outs/IF-901")
    assert response.status_code == 200 and response.json()["opt_outs"] == []
    assert_error(client.delete(f"{base(qt_app)}/plan/opt-outs/IF-901"), 404, "not_found")


# --- the set and the execution plan ------------------------------------------------------------------------------


def test_the_set_with_filters_pagination_and_counts(api_as, member, qt_app, catalogue, ta):
    client = api_as(ta)
    response = client.get(f"{base(qt_app)}/set", {"limit": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5 and [c["case"] for c in body["items"]] == ["QTC-TA-1", "QTC-TA-2"]
    first = body["items"][0]
    assert first["inclusion"] == "required" and first["reason"] == "Mandatory for this role."
    assert first["dip_flows"] == ["IF-901"] and first["scenario"] == "QTS-TA" and first["planned_on"] is None
    body = client.get(f"{base(qt_app)}/set", {"inclusion": "optional"}).json()
    assert [c["case"] for c in body["items"]] == ["QTC-TA-3"]
    body = client.get(f"{base(qt_app)}/set", {"batch": "migration"}).json()
    assert body["count"] == 2
    assert_error(client.get(f"{base(qt_app)}/set", {"inclusion": "all"}), 422, "invalid_input")
    summary = client.get(f"{base(qt_app)}/set/summary").json()
    assert summary == {
        "total": 5,
        "required": 4,
        "optional": 1,
        "reliance": 0,
        "opted_out": 0,
        "required_unplanned": 4,
        "by_batch": {"functional": 3, "migration": 2},
    }


def test_setting_the_execution_plan_in_bulk(api_as, member, qt_app, catalogue):
    client = api_as(member)
    entries = [{"case": c, "planned_on": "2026-09-08", "note": "Week 1"} for c in SUPPLIER_REQUIRED]
    response = client.post(f"{base(qt_app)}/execution-plan", {"entries": entries})
    assert response.status_code == 200, response.content
    assert [p["case"] for p in response.json()] == sorted(SUPPLIER_REQUIRED)
    assert response.json()[0] == {
        "case": "QTC-TA-1",
        "title": "Case QTC-TA-1",
        "planned_on": "2026-09-08",
        "note": "Week 1",
        "inclusion": "required",
        "still_run": True,
    }
    response = client.post(f"{base(qt_app)}/execution-plan", {"entries": [{"case": "QTC-TA-1", "planned_on": None}]})
    assert response.status_code == 200 and response.json() == []
    body = client.get(f"{base(qt_app)}/execution-plan").json()
    assert body["count"] == 3
    assert AuditEvent.objects.filter(action="qt.execution_plan.set").count() == 2


def test_execution_plan_refusals_list_every_problem(api_as, member, qt_app, catalogue, ta, other_member):
    before = snapshot()
    entries = [{"case": "QTC-TL-1", "planned_on": "2026-09-08"}, {"case": "QTC-TA-1", "planned_on": "2019-09-08"}]
    body = assert_error(
        api_as(member).post(f"{base(qt_app)}/execution-plan", {"entries": entries}), 422, "invalid_input"
    )
    assert [e["field"] for e in body["details"]["errors"]] == ["cases", "planned_on"]
    assert_error(api_as(member).post(f"{base(qt_app)}/execution-plan", {"entries": []}), 422, "invalid_input")
    ok = [{"case": "QTC-TA-1", "planned_on": "2026-09-08"}]
    assert_error(api_as(ta).post(f"{base(qt_app)}/execution-plan", {"entries": ok}), 403, "permission_denied")
    assert_error(api_as(other_member).post(f"{base(qt_app)}/execution-plan", {"entries": ok}), 404, "not_found")
    assert snapshot() == before
    assert not PlannedExecution.objects.exists()


# --- readiness and the exit checklist -----------------------------------------------------------------------------


def test_readiness_through_the_api(api_as, member, qt_app, ta):
    participant, reviewer = api_as(member), api_as(ta)
    body = participant.get(f"{base(qt_app)}/readiness").json()
    assert body["status"] == "draft" and body["confirmed"] is False
    assert body["missing"][0] == "the QT plan must be agreed by Testing Assurance first"
    assert {i["status"] for i in body["items"]} == {"not_recorded"}
    body = assert_error(
        participant.post(f"{base(qt_app)}/readiness/items/systems_onboarded", {"ready": False}), 422, "invalid_input"
    )
    assert body["details"]["field"] == "note"
    assert_error(participant.post(f"{base(qt_app)}/readiness/submit", {}), 422, "invalid_input")

    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    for item in readiness_items_for(qt_app):
        response = participant.post(f"{base(qt_app)}/readiness/items/{item.code}", {"ready": True, "note": "Done."})
        assert response.status_code == 200, response.content
    response = participant.post(f"{base(qt_app)}/readiness/submit", {"note": "Ready."})
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert_error(
        participant.post(f"{base(qt_app)}/readiness/review", {"decision": "confirm"}), 403, "permission_denied"
    )
    response = reviewer.post(f"{base(qt_app)}/readiness/review", {"decision": "confirm"})
    assert response.status_code == 200
    body = response.json()
    assert body["confirmed"] is True and body["status_label"] == "Confirmed" and body["confirmed_by"] == ta.display_name
    assert QtPlan.objects.get(application=qt_app).readiness_status == ReviewStatus.AGREED
    assert_error(participant.post(f"{base(qt_app)}/readiness/items/nope", {"ready": True}), 404, "not_found")


def test_the_exit_checklist(api_as, member, qt_app, catalogue, other_member):
    response = api_as(member).get(f"{base(qt_app)}/exit-checklist")
    assert response.status_code == 200
    body = response.json()
    assert body["passed"] is False
    rule = body["rules"][0]
    assert rule == {
        "code": "plan_agreed",
        "title": "The QT approach and plan is agreed by Testing Assurance",
        "kind": "plan_agreed",
        "passed": False,
        "blocking": ["The QT plan has not been submitted to Testing Assurance yet."],
    }
    assert_error(api_as(other_member).get(f"{base(qt_app)}/exit-checklist"), 404, "not_found")


def test_submitting_qt_through_the_task_api_reports_the_failing_rules(api_as, member, qt_app, catalogue):
    response = api_as(member).post(f"/api/v1/applications/{qt_app.pk}/tasks/qt/transitions", {"action": "submit"})
    body = assert_error(response, 409, "invalid_transition")
    assert body["message"].startswith("QT cannot be submitted for exit yet")
    assert "plan_agreed" in [r["code"] for r in body["details"]["failing_rules"]]


def test_dates_are_iso(api_as, member, qt_app):
    put(api_as(member), f"{base(qt_app)}/plan", PLAN)
    body = api_as(member).get(f"{base(qt_app)}/plan").json()
    assert datetime.date.fromisoformat(body["starts_on"]) == datetime.date(2026, 9, 7)
