"""The approvals API: every operation allowed, and refused for the wrong role, the wrong state, another
organisation and bad input, in the API's error shape, with nothing changed."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import snapshot, working_day_after
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def put(api, path, body):
    return api.client.put(path, json.dumps(body), content_type="application/json", headers=api.headers)


def meeting_body(day, **extra):
    return {"date": day.isoformat(), "starts_at": "10:00", "location": "Online", **extra}


def test_everyone_signed_in_reads_the_calendar_with_only_the_applications_they_may_see(
    api_as, anonymous, make_meeting, signed, analyst, member, other_member
):
    meeting = make_meeting(30)
    later = make_meeting(60, status=MeetingStatus.CANCELLED)
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)

    answer = api_as(member).get(f"{V1}/pab/meetings")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2 and [m["id"] for m in body["items"]] == [meeting.pk, later.pk]
    first = body["items"][0]
    assert first["date"] == meeting.date.isoformat() and first["starts_at"] == "10:00"
    assert first["status"] == "scheduled" and first["generated"] is False
    assert "applications" not in first  # counted and linked, not embedded
    assert first["application_count"] == 1
    assert first["applications_url"] == f"{V1}/pab/meetings/{meeting.pk}/applications"
    listed = api_as(member).get(first["applications_url"]).json()
    assert [a["application"]["reference"] for a in listed["items"]] == [application.reference]

    theirs = api_as(other_member).get(f"{V1}/pab/meetings/{meeting.pk}").json()
    assert theirs["application_count"] == 0
    assert api_as(other_member).get(theirs["applications_url"]).json() == {
        "count": 0,
        "limit": 50,
        "offset": 0,
        "items": [],
    }
    assert api_as(member).get(f"{V1}/pab/meetings", {"status": "cancelled"}).json()["count"] == 1
    window = {"date_from": (meeting.date + timedelta(days=1)).isoformat()}
    assert api_as(member).get(f"{V1}/pab/meetings", window).json()["count"] == 1
    assert_error(api_as(member).get(f"{V1}/pab/meetings/999999"), 404, "not_found")
    assert_error(anonymous.get(f"{V1}/pab/meetings"), 401, "not_authenticated")
    rule = api_as(member).get(f"{V1}/pab/rule").json()
    assert rule["weekday"] == 3 and rule["week_of_month"] == -1 and rule["paper_deadline_working_days"] == 5


def test_the_secretary_keeps_the_calendar_through_the_api(api_as, secretary, analyst):
    day = working_day_after(25)
    created = api_as(secretary).post(f"{V1}/pab/meetings", meeting_body(day, duration_minutes=90))
    assert created.status_code == 201, created.content
    meeting_id = created.json()["id"]
    assert created.json()["duration_minutes"] == 90 and created.json()["set_by_hand"] is True
    assert AuditEvent.objects.filter(action="pab.meeting.create").count() == 1

    new_day = working_day_after(40)
    moved = put(api_as(secretary), f"{V1}/pab/meetings/{meeting_id}", meeting_body(new_day))
    assert moved.status_code == 200 and moved.json()["date"] == new_day.isoformat()
    assert moved.json()["revision"] == 1

    cancelled = api_as(secretary).post(f"{V1}/pab/meetings/{meeting_id}/cancel", {"reason": "Not quorate."})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_error(
        api_as(secretary).post(f"{V1}/pab/meetings/{meeting_id}/cancel", {"reason": "Again."}),
        409,
        "invalid_transition",
    )
    assert_error(api_as(secretary).post(f"{V1}/pab/meetings/{meeting_id}/held"), 409, "invalid_transition")

    generated = api_as(secretary).post(f"{V1}/pab/meetings/generate")
    assert generated.status_code == 200 and len(generated.json()["created"]) in (11, 12)
    assert api_as(secretary).post(f"{V1}/pab/meetings/generate").json()["created"] == []


def test_others_may_not_change_the_calendar(api_as, analyst, member, make_meeting):
    meeting = make_meeting(30)
    before = snapshot()
    for user in (analyst, member):
        client = api_as(user)
        assert_error(client.post(f"{V1}/pab/meetings", meeting_body(working_day_after(20))), 403, "permission_denied")
        assert_error(
            put(client, f"{V1}/pab/meetings/{meeting.pk}", meeting_body(working_day_after(20))),
            403,
            "permission_denied",
        )
        assert_error(client.post(f"{V1}/pab/meetings/{meeting.pk}/cancel", {"reason": "x"}), 403, "permission_denied")
        assert_error(client.post(f"{V1}/pab/meetings/{meeting.pk}/held"), 403, "permission_denied")
        assert_error(client.post(f"{V1}/pab/meetings/generate"), 403, "permission_denied")
    assert snapshot() == before


def test_bad_meeting_input_is_refused_with_the_field_named(api_as, secretary):
    client = api_as(secretary)
    before = snapshot()
    saturday = uk_today() + timedelta(days=(5 - uk_today().weekday()) % 7 or 7)
    refused = assert_error(client.post(f"{V1}/pab/meetings", meeting_body(saturday)), 422, "invalid_input")
    assert refused["details"] == {"field": "date"} and "Saturday" in refused["message"]
    refused = assert_error(
        client.post(f"{V1}/pab/meetings", meeting_body(working_day_after(20), duration_minutes=2)), 422, "invalid_input"
    )
    assert refused["details"]["errors"][0]["field"] == "duration_minutes"
    assert_error(client.post(f"{V1}/pab/meetings", {"date": "not a date"}), 422, "invalid_input")
    assert snapshot() == before


def test_the_target_and_deadlines_through_the_api(api_as, analyst, member, make_meeting, signed):
    application = signed()
    meeting = make_meeting(40)
    path = f"{V1}/applications/{application.pk}/pab-target"

    panel = api_as(member).get(path).json()
    assert panel["needs_pab"] is True and panel["target"] is None and panel["can_target"] is False
    option = next(o for o in panel["options"] if o["meeting"]["id"] == meeting.pk)
    assert {s["rule"] for s in option["steps"]} == {"final_qad_submitted_before_pab", "final_qad_signed_before_pab"}
    assert api_as(analyst).get(path).json()["can_target"] is True

    answer = api_as(analyst).post(path, {"meeting_id": meeting.pk})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["target"]["meeting"]["id"] == meeting.pk and body["target"]["set_by"] == analyst.display_name
    assert [h["is_current"] for h in body["history"]] == [True]

    deadlines = api_as(member).get(f"{V1}/applications/{application.pk}/deadlines").json()
    signed_by = next(d for d in deadlines if d["rule"] == "final_qad_signed_before_pab")
    assert signed_by["status"] == "done" and signed_by["anchor"] == "pab_paper_deadline"
    assert signed_by["anchor_on"] == meeting.paper_deadline.isoformat()


def test_the_target_is_refused_as_the_service_refuses_it(
    api_as, analyst, member, other_member, make_meeting, signed, org
):
    application = signed()
    late = make_meeting(3, paper_deadline=uk_today() - timedelta(days=1))
    mem = signed(market_role="MEM")
    path = f"{V1}/applications/{application.pk}/pab-target"
    before = snapshot()
    assert_error(api_as(member).post(path, {"meeting_id": late.pk}), 403, "permission_denied")
    assert_error(api_as(other_member).post(path, {"meeting_id": late.pk}), 404, "not_found")
    assert_error(api_as(other_member).get(path), 404, "not_found")
    assert_error(api_as(other_member).get(f"{V1}/applications/{application.pk}/deadlines"), 404, "not_found")
    refused = assert_error(api_as(analyst).post(path, {"meeting_id": late.pk}), 422, "invalid_input")
    assert refused["details"] == {"field": "late_reason"}
    assert_error(
        api_as(analyst).post(f"{V1}/applications/{mem.pk}/pab-target", {"meeting_id": late.pk}),
        409,
        "invalid_transition",
    )
    assert_error(api_as(analyst).post(path, {"meeting_id": 0}), 422, "invalid_input")
    assert snapshot() == before
    answer = api_as(analyst).post(path, {"meeting_id": late.pk, "late_reason": "Chair agreed."})
    assert answer.status_code == 200 and answer.json()["target"]["late_reason"] == "Chair agreed."
    assert PabTarget.objects.filter(application=application).count() == 1


def test_the_callers_calendar_feed(api_as, member, staff):
    client = api_as(member)
    empty = client.get(f"{V1}/me/calendar-feed").json()
    assert empty["url"] is None and empty["public_url"].endswith("/calendar/pab.ics")
    made = client.post(f"{V1}/me/calendar-feed/reset").json()
    assert "/calendar/private/" in made["url"] and made["created_at"]
    path = made["url"].split("testserver", 1)[1]
    assert Client().get(path).status_code == 200
    again = client.post(f"{V1}/me/calendar-feed/reset").json()
    assert again["url"] != made["url"] and again["reset_at"]
    assert Client().get(path).status_code == 404
    assert client.get(f"{V1}/me/calendar-feed").json()["url"] == again["url"]
    # Another user's address is their own.
    assert api_as(staff(Role.PAB_MEMBER)).get(f"{V1}/me/calendar-feed").json()["url"] is None


def test_meetings_are_listed_in_pages(api_as, member, make_meeting):
    for days in (20, 40, 60):
        make_meeting(days)
    page = api_as(member).get(f"{V1}/pab/meetings", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 3 and len(page["items"]) == 2
    assert [m["date"] for m in page["items"]] == [m.date.isoformat() for m in PabMeeting.objects.order_by("date")[1:3]]
