"""The work-off API: read the plan and what may be covered, propose, change, review, agree, withdraw,
close with files, reopen, download evidence, list across applications; errors as
`{code, message, details}`."""

import json

import pytest

from portal.api.tests.conftest import assert_error
from portal.workoff.models import WorkOffItem
from portal.workoff.tests.conftest import in_days, pdf, snapshot
from portal.workoff.tests.urls import API_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.workoff.tests.urls")]


def plan_url(application, rest=""):
    return f"{API_PREFIX}/applications/{application.pk}/workoff{rest}"


def item_url(item, rest=""):
    return f"{API_PREFIX}/applications/{item.application_id}/workoff/items/{item.pk}{rest}"


def put(client, path, payload):
    return client.client.put(path, json.dumps(payload), content_type="application/json", headers=client.headers)


def proposal(case, **overrides):
    return {
        "case_id": case.pk,
        "action": "Fix and re-run in pre-production.",
        "owner": "Sam Tester",
        "due_on": in_days(21).isoformat(),
        **overrides,
    }


def test_read_the_plan(api_as, member, qt_app, propose):
    item = propose(qt_app)
    response = api_as(member).get(plan_url(qt_app))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["application"]["id"] == qt_app.pk
    assert body["task"]["code"] == "workoff"
    assert body["can_propose"] is True and body["propose_refusal"] == ""
    assert body["missing_for_submit"] == ["WO-001 has not been reviewed by Testing Assurance yet"]
    [out] = body["items"]
    assert out["id"] == item.pk and out["reference"] == "WO-001"
    assert out["status"] == "proposed" and out["status_label"] == "Proposed"
    assert out["covers"] == {
        "kind": "case",
        "id": item.case_id,
        "identifier": "WOT-001",
        "title": "Meter read rejection",
        "latest_execution": "failed",
    }
    assert out["waiting_on"] == ["testing_assurance"]
    assert out["overdue"] is False
    assert out["proposed_by"] == member.display_name


def test_reviewers_read_the_plan_but_may_not_propose(api_as, tester, qt_app):
    body = api_as(tester).get(plan_url(qt_app)).json()
    assert body["can_propose"] is False
    assert body["propose_refusal"] == "Only the applying organisation can propose work-off items."


def test_list_what_may_be_covered(api_as, member, qt_app, catalogue):
    body = api_as(member).get(plan_url(qt_app, "/coverable")).json()
    assert [(c["kind"], c["id"]) for c in body] == [
        ("case", catalogue.failed.pk),
        ("case", catalogue.never_run.pk),
        ("case", catalogue.optional.pk),
    ]
    assert body[0]["reason"] == "latest run failed"


def test_the_whole_lifecycle_through_the_api(api_as, member, tester, analyst, qt_app, catalogue):
    created = api_as(member).post(plan_url(qt_app, "/items"), proposal(catalogue.failed))
    assert created.status_code == 201, created.content
    item = WorkOffItem.objects.get(pk=created.json()["id"])
    assert created.json()["available_actions"] == ["edit", "withdraw"]
    assert [h["action"] for h in created.json()["history"]] == ["workoff.propose"]

    changed = put(
        api_as(member), item_url(item), {"action": "Fix in 4.3.", "owner": "Ops", "due_on": in_days(9).isoformat()}
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["owner"] == "Ops"

    reviewed = api_as(tester).post(item_url(item, "/transitions"), {"action": "review", "comment": "Fine."})
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["status"] == "reviewed" and reviewed.json()["reviewed_by"] == tester.display_name
    agreed = api_as(analyst).post(item_url(item, "/transitions"), {"action": "agree"})
    assert agreed.json()["status"] == "agreed" and agreed.json()["waiting_on"] == ["participant"]

    closed = api_as(member).post_multipart(item_url(item, "/close"), {"note": "Re-run passed.", "files": [pdf()]})
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["status"] == "closed" and body["closure_note"] == "Re-run passed."
    [evidence] = body["closure_evidence"]
    assert evidence["name"] == "retest.pdf" and len(evidence["sha256"]) == 64

    download = api_as(tester).get(f"{API_PREFIX}/applications/{qt_app.pk}/workoff/evidence/{evidence['id']}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")

    reopened = api_as(tester).post(item_url(item, "/transitions"), {"action": "reopen", "comment": "Log missing."})
    assert reopened.json()["status"] == "agreed" and reopened.json()["last_comment"] == "Log missing."
    assert [h["action"] for h in reopened.json()["history"]][-1] == "workoff.reopen"
    assert reopened.json()["history"][-1]["comment"] == "Log missing."


def test_proposing_a_defect(api_as, member, qt_app):
    from portal.workoff.tests.conftest import raise_defect

    defect = raise_defect(qt_app, by=member)
    response = api_as(member).post(
        plan_url(qt_app, "/items"),
        {"defect_id": defect.pk, "action": "Fix.", "owner": "Dev team", "due_on": in_days(3).isoformat()},
    )
    assert response.status_code == 201, response.content
    assert response.json()["covers"]["kind"] == "defect"
    assert response.json()["covers"]["identifier"] == "DEF-0001"


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"due_on": "yesterday"}, 422, "invalid_input", "due_on"),
        ({"owner": "Sam\nTester"}, 422, "invalid_input", "owner"),
        ({"action": "x" * 5001}, 422, "invalid_input", None),
        ({"case_id": "passed"}, 422, "invalid_input", "covers"),
        ({"case_id": 0}, 422, "invalid_input", None),
        ({"due_on": "31/02/2026"}, 422, "invalid_input", None),
    ],
)
def test_bad_proposals_are_refused_and_change_nothing(
    api_as, member, qt_app, catalogue, overrides, status, code, field
):
    if overrides.get("due_on") == "yesterday":
        overrides["due_on"] = in_days(-1).isoformat()
    if overrides.get("case_id") == "passed":
        overrides["case_id"] = catalogue.passed.pk
    before = snapshot()
    body = assert_error(
        api_as(member).post(plan_url(qt_app, "/items"), proposal(catalogue.failed, **overrides)), status, code
    )
    if field:
        assert body["details"]["field"] == field
    assert snapshot() == before


def test_a_second_item_for_the_same_case_is_a_conflict(api_as, member, qt_app, catalogue, propose):
    propose(qt_app)
    body = assert_error(api_as(member).post(plan_url(qt_app, "/items"), proposal(catalogue.failed)), 409, "conflict")
    assert "already covered by WO-001" in body["message"]


def test_wrong_party_wrong_state_and_bad_comment(api_as, member, tester, analyst, qt_app, propose):
    item = propose(qt_app)
    before = snapshot()
    assert_error(api_as(member).post(item_url(item, "/transitions"), {"action": "review"}), 403, "permission_denied")
    assert_error(
        api_as(tester).post(
            plan_url(qt_app, "/items"), {"case_id": 1, "action": "a", "owner": "b", "due_on": in_days(1).isoformat()}
        ),
        403,
        "permission_denied",
    )
    body = assert_error(
        api_as(analyst).post(item_url(item, "/transitions"), {"action": "agree"}), 409, "invalid_transition"
    )
    assert body["details"] == {"status": "proposed"}
    assert_error(
        api_as(tester).post(item_url(item, "/transitions"), {"action": "request_changes"}), 422, "invalid_input"
    )
    assert_error(api_as(tester).post(item_url(item, "/transitions"), {"action": "approve"}), 422, "invalid_input")
    assert_error(
        api_as(member).post_multipart(item_url(item, "/close"), {"note": "x", "files": [pdf()]}),
        409,
        "invalid_transition",
    )
    assert snapshot() == before


def test_another_organisation_gets_not_found_everywhere(api_as, other_member, qt_app, agreed_item):
    client = api_as(other_member)
    before = snapshot()
    assert_error(client.get(plan_url(qt_app)), 404, "not_found")
    assert_error(client.get(plan_url(qt_app, "/coverable")), 404, "not_found")
    assert_error(client.get(item_url(agreed_item)), 404, "not_found")
    assert_error(
        put(client, item_url(agreed_item), {"action": "a", "owner": "b", "due_on": in_days(1).isoformat()}),
        404,
        "not_found",
    )
    assert_error(
        client.post(item_url(agreed_item, "/transitions"), {"action": "withdraw", "comment": "x"}), 404, "not_found"
    )
    assert_error(
        client.post_multipart(item_url(agreed_item, "/close"), {"note": "x", "files": [pdf()]}), 404, "not_found"
    )
    assert_error(
        client.post(
            plan_url(qt_app, "/items"), {"case_id": 1, "action": "a", "owner": "b", "due_on": in_days(1).isoformat()}
        ),
        404,
        "not_found",
    )
    assert client.get(f"{API_PREFIX}/workoff/items").json()["count"] == 0
    assert snapshot() == before


def test_closing_needs_evidence(api_as, member, agreed_item):
    before = snapshot()
    body = assert_error(
        api_as(member).post_multipart(item_url(agreed_item, "/close"), {"note": "Done."}), 422, "invalid_input"
    )
    assert body["details"] == {"field": "files"}
    assert snapshot() == before


def test_the_list_across_applications_with_filters(api_as, tester, member, qt_app, propose, agreed_item, catalogue):
    later = propose(qt_app, case_id=catalogue.never_run.pk, due_on=in_days(80))
    WorkOffItem.objects.filter(pk=agreed_item.pk).update(due_on=in_days(-1))
    client = api_as(tester)
    body = client.get(f"{API_PREFIX}/workoff/items").json()
    assert body["count"] == 2
    assert [i["id"] for i in body["items"]] == [agreed_item.pk, later.pk]
    assert body["items"][0]["application"]["reference"] == qt_app.reference
    assert body["items"][0]["overdue"] is True
    assert [i["id"] for i in client.get(f"{API_PREFIX}/workoff/items", {"sort": "-due_on"}).json()["items"]] == [
        later.pk,
        agreed_item.pk,
    ]
    assert [i["id"] for i in client.get(f"{API_PREFIX}/workoff/items", {"overdue": "true"}).json()["items"]] == [
        agreed_item.pk
    ]
    assert [i["id"] for i in client.get(f"{API_PREFIX}/workoff/items", {"status": "proposed"}).json()["items"]] == [
        later.pk
    ]
    filtered = client.get(f"{API_PREFIX}/workoff/items", {"organisation_id": qt_app.organisation_id, "limit": 1})
    assert filtered.json()["count"] == 2 and len(filtered.json()["items"]) == 1
    assert_error(client.get(f"{API_PREFIX}/workoff/items", {"status": "nonsense"}), 422, "invalid_input")
    assert api_as(member).get(f"{API_PREFIX}/workoff/items").json()["count"] == 2


def test_the_project_api_mounts_the_work_off_operations(api_as, member, qt_app):
    assert api_as(member).get(f"/api/v1/applications/{qt_app.pk}/workoff").status_code == 200
