"""The API's dashboards and search: allowed, another organisation's answered as missing, bad input
refused in the API's error shape."""

import pytest

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.approvals.models import PabTarget
from portal.qualification.models import Application

pytestmark = pytest.mark.django_db


def test_the_pipeline_summary(build, analyst, api_as):
    applications = build(5)
    response = api_as(analyst).get("/api/v1/reports/pipeline")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 5 and body["open"] == 5
    now = {s["status"]: s["now"] for s in body["stages"]}
    for application in applications:
        assert now[application.status] >= 1
    assert sum(now.values()) == 5 and body["stages"][0]["reached"] == 5
    assert body["workoff_overdue"] == 1
    assert body["rec_queue"]["count"] == Application.objects.filter(status="in_approval").count()
    ageing = {row["status"]: row for row in body["ageing"]}
    assert ageing["in_approval"]["count"] == 2 and ageing["in_approval"]["buckets"][0]["count"] == 2
    assert ageing["in_approval"]["oldest"]["reference"].startswith("QA-")
    target = PabTarget.objects.get(is_current=True)
    meeting = next(m for m in body["upcoming_meetings"] if m["id"] == target.meeting_id)
    assert [a["id"] for a in meeting["applications"]] == [target.application_id]
    assert meeting["application_count"] == 1
    filtered = api_as(analyst).get("/api/v1/reports/pipeline", {"route": "sit"}).json()
    assert filtered["total"] == 4 and filtered["filters"]["route"] == "sit"


def test_the_pipeline_rows_are_paged(build, analyst, api_as):
    build(5)
    client = api_as(analyst)
    page = client.get("/api/v1/reports/pipeline/applications", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5 and page["limit"] == 2 and page["offset"] == 1 and len(page["items"]) == 2
    rows = client.get("/api/v1/reports/pipeline/applications").json()["items"]
    targeted = next(r for r in rows if r["target_meeting"])
    assert targeted["stage"] == "Approval" and targeted["days_in_stage"] == 0
    assert {w["task_code"] for w in targeted["waiting_on"]} >= {"approval_bsc_pab"}
    with_pqs = next(r for r in rows if r["wave"])
    assert with_pqs["next_deadline"]["rule"] == "initial_qad_before_qt"
    assert with_pqs["next_deadline"]["status"] in {"upcoming", "due_soon"}


def test_a_participant_sees_only_its_own(build, member, other_member, other_org, api_as):
    own = build(2)
    theirs = build(2, organisation=other_org, actor=other_member)
    client = api_as(member)
    assert client.get("/api/v1/reports/pipeline").json()["total"] == 2
    rows = client.get("/api/v1/reports/pipeline/applications").json()
    assert {r["application"]["id"] for r in rows["items"]} == {a.pk for a in own}
    assert client.get(f"/api/v1/applications/{own[0].pk}/timeline").status_code == 200
    assert_error(client.get(f"/api/v1/applications/{theirs[0].pk}/timeline"), 404, "not_found")
    assert client.get("/api/v1/search", {"q": other_org.name}).json()["count"] == 0
    assert client.get("/api/v1/search", {"q": theirs[0].reference}).json()["count"] == 0


def test_the_rec_code_manager_sees_its_roles_only(build, staff, api_as):
    build(2)
    data_services = build(2, market_role="ADS")
    client = api_as(staff(Role.REC_CODE_MANAGER))
    assert client.get("/api/v1/reports/pipeline").json()["total"] == 2
    assert_error(client.get(f"/api/v1/applications/{data_services[0].pk}/timeline"), 404, "not_found")


def test_an_applications_timeline(build, analyst, api_as):
    targeted = build(4)[3]
    body = api_as(analyst).get(f"/api/v1/applications/{targeted.pk}/timeline").json()
    assert body["application"]["reference"] == targeted.reference
    stages = {s["stage"]: s for s in body["stages"]}
    target = PabTarget.objects.get(application=targeted, is_current=True)
    assert body["target_meeting"]["date"] == target.meeting.date.isoformat()
    assert stages["approval"]["planned"]["end"] == target.meeting.date.isoformat()
    assert stages["approval"]["finished"] is False and stages["approval"]["actual_end"] is None
    assert stages["final_qad"]["finished"] is True
    assert {d["rule"] for d in body["deadlines"]} >= {"final_qad_signed_before_pab"}


def test_search(build, analyst, api_as):
    applications = build(3)
    client = api_as(analyst)
    found = client.get("/api/v1/search", {"q": applications[1].reference}).json()
    assert found["items"][0]["kind"] == "application" and found["items"][0]["id"] == applications[1].pk
    documents = client.get("/api/v1/search", {"q": "pit-results", "kind": "document", "limit": 2}).json()
    assert documents["count"] == 3 and len(documents["items"]) == 2
    assert all(item["url"].startswith("/evidence/") for item in documents["items"])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/reports/pipeline", {"route": "no-such-route"}, "route"),
        ("/api/v1/reports/pipeline/applications", {"role_group": "x"}, "role_group"),
        ("/api/v1/reports/pipeline", {"wave": "w" * 41}, None),
        ("/api/v1/search", {"q": "x" * 101}, None),
        ("/api/v1/search", {"q": "ab\x1bcd"}, "q"),
        ("/api/v1/search", {"q": "a"}, "q"),
        ("/api/v1/search", {"q": "aurora", "kind": "people"}, None),
        ("/api/v1/search", {}, None),
    ],
)
def test_bad_input_is_refused(analyst, api_as, path, params, field):
    body = assert_error(api_as(analyst).get(path, params), 422, "invalid_input")
    if field:
        assert body["details"].get("field") == field


def test_bad_ids_and_anonymous_callers_are_refused(analyst, api_as, anonymous):
    assert_error(api_as(analyst).get("/api/v1/applications/0/timeline"), 422, "invalid_input")
    assert_error(api_as(analyst).get("/api/v1/applications/99999/timeline"), 404, "not_found")
    for path in ("/api/v1/reports/pipeline", "/api/v1/search?q=aurora", "/api/v1/applications/1/timeline"):
        assert_error(anonymous.get(path), 401, "not_authenticated")
