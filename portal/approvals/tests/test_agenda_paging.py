"""A meeting's applications are read a page at a time: the meetings list (API) and the calendar (page)
count them and link to their list, the list and the meeting page show one page, and none needs more
queries for a meeting with fifty applications than for one with ten. Each user sees only the
applications they may see."""

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.approvals.models import GenerationStatus, PabMeeting, PabPaper, PabTarget
from portal.approvals.paper_selectors import AGENDA_PAGE_SIZE
from portal.factories import MpidFactory
from portal.participants.models import MarketRole, Mpid, Organisation
from portal.qualification.models import Application, Route
from portal.qualification.workflow import ApplicationStatus

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def crowd(staff: Callable[[Role], User], member: User) -> Callable[..., list[Application]]:
    """`crowd(meeting, 10)`: ten open applications of new organisations (or of `organisation=`), each
    targeted at the meeting. Made directly: what is read here is the agenda, not how it was set."""
    analyst = staff(Role.ELEXON_ANALYST)
    route = Route.objects.get(code="sit")
    role = MarketRole.objects.get(code="SUP")

    def make(meeting: PabMeeting, count: int, *, organisation: Organisation | None = None) -> list[Application]:
        made = []
        for _ in range(count):
            mpid = cast(Mpid, MpidFactory(organisation=organisation) if organisation else MpidFactory())
            application = Application.objects.create(
                organisation=mpid.organisation, mpid=mpid, market_role=role, route=route, created_by=member
            )
            PabTarget.objects.create(application=application, meeting=meeting, set_by=analyst, set_at=timezone.now())
            made.append(application)
        return made

    return make


def queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        assert response.status_code == 200, response.content[:300]
    return len(captured)


# --- the API ---------------------------------------------------------------------------------------------


def test_the_meetings_list_counts_each_meetings_applications_with_the_same_queries_for_10_or_50(
    api_as, secretary, make_meeting, crowd
):
    first, second = make_meeting(30), make_meeting(60)
    crowd(first, 10)
    crowd(second, 10)
    api = api_as(secretary)
    api.get(f"{V1}/pab/meetings")  # the token's first use is recorded once
    with_10 = queries(lambda: api.get(f"{V1}/pab/meetings"))
    crowd(first, 40)
    crowd(second, 40)
    with_50 = queries(lambda: api.get(f"{V1}/pab/meetings"))
    assert with_50 == with_10

    items = api.get(f"{V1}/pab/meetings").json()["items"]
    assert [(m["id"], m["application_count"]) for m in items] == [(first.pk, 50), (second.pk, 50)]
    assert all("applications" not in m for m in items)
    assert items[0]["applications_url"] == f"{V1}/pab/meetings/{first.pk}/applications"
    one = api.get(f"{V1}/pab/meetings/{first.pk}").json()
    assert one["application_count"] == 50 and "applications" not in one


def test_a_meetings_applications_are_listed_a_page_at_a_time_with_the_same_queries_for_10_or_50(
    api_as, secretary, make_meeting, crowd
):
    meeting, other = make_meeting(30), make_meeting(60)
    made = crowd(meeting, 10)
    crowd(other, 3)
    api = api_as(secretary)
    path = f"{V1}/pab/meetings/{meeting.pk}/applications"
    api.get(path)
    with_10 = queries(lambda: api.get(path))
    made += crowd(meeting, 40)
    with_50 = queries(lambda: api.get(path))
    assert with_50 == with_10

    first = api.get(path, {"limit": 20}).json()
    assert first["count"] == 50 and first["limit"] == 20 and len(first["items"]) == 20
    ids = [a.pk for a in sorted(made, key=lambda a: a.pk)]
    assert [row["application"]["id"] for row in first["items"]] == ids[:20]
    last = api.get(path, {"limit": 20, "offset": 40}).json()
    assert [row["application"]["id"] for row in last["items"]] == ids[40:]
    row = last["items"][0]
    assert set(row) == {"application", "targeted_at", "late_reason"}
    assert row["application"]["market_role"] == "SUP" and row["late_reason"] == ""


def test_a_meetings_applications_leave_out_closed_ones_and_moved_targets(
    api_as, secretary, analyst, make_meeting, crowd
):
    meeting, later = make_meeting(30), make_meeting(60)
    kept, withdrawn, moved = crowd(meeting, 3)
    Application.objects.filter(pk=withdrawn.pk).update(status=ApplicationStatus.WITHDRAWN, closed_at=timezone.now())
    now = timezone.now()
    PabTarget.objects.filter(application=moved).update(is_current=False, superseded_at=now)
    PabTarget.objects.create(application=moved, meeting=later, set_by=analyst, set_at=now)
    api = api_as(secretary)
    listed = api.get(f"{V1}/pab/meetings/{meeting.pk}/applications").json()
    assert [row["application"]["id"] for row in listed["items"]] == [kept.pk]
    counts = {m["id"]: m["application_count"] for m in api.get(f"{V1}/pab/meetings").json()["items"]}
    assert counts == {meeting.pk: 1, later.pk: 1}


def test_a_participant_sees_only_their_own_applications_of_a_meeting(
    api_as, member, other_member, org, other_org, make_meeting, crowd
):
    meeting = make_meeting(30)
    ours = crowd(meeting, 2, organisation=org)
    theirs = crowd(meeting, 3, organisation=other_org)
    path = f"{V1}/pab/meetings/{meeting.pk}/applications"

    mine = api_as(member).get(path).json()
    assert mine["count"] == 2 and {r["application"]["id"] for r in mine["items"]} == {a.pk for a in ours}
    rival = api_as(other_member).get(path).json()
    assert rival["count"] == 3 and {r["application"]["id"] for r in rival["items"]} == {a.pk for a in theirs}
    assert api_as(member).get(f"{V1}/pab/meetings/{meeting.pk}").json()["application_count"] == 2
    assert api_as(other_member).get(f"{V1}/pab/meetings").json()["items"][0]["application_count"] == 3


def test_the_applications_of_a_missing_meeting_are_not_found_and_need_a_sign_in(
    api_as, anonymous, member, make_meeting
):
    meeting = make_meeting(30)
    assert_error(api_as(member).get(f"{V1}/pab/meetings/999999/applications"), 404, "not_found")
    assert_error(anonymous.get(f"{V1}/pab/meetings/{meeting.pk}/applications"), 401, "not_authenticated")
    bad = api_as(member).get(f"{V1}/pab/meetings/{meeting.pk}/applications", {"limit": 0})
    assert bad.status_code == 422
    refused = api_as(member).post(f"{V1}/pab/meetings/{meeting.pk}/applications", {})
    assert refused.status_code == 405


# --- the meeting page ------------------------------------------------------------------------------------


def test_the_meeting_page_shows_the_agenda_a_page_at_a_time_with_the_same_queries_for_10_or_50(
    login, secretary, make_meeting, crowd
):
    meeting = make_meeting(30)
    made = crowd(meeting, 10)
    client = login(secretary)
    path = f"/pab/meetings/{meeting.pk}/"
    client.get(path)
    with_10 = queries(lambda: client.get(path))
    made += crowd(meeting, 40)
    with_50 = queries(lambda: client.get(path))
    assert with_50 <= with_10 + 1  # the count of ready papers across pages, once the agenda has more than one

    html = client.get(path).content.decode()
    assert html.count('id="agenda-') - html.count('-decision"') == AGENDA_PAGE_SIZE + 1  # rows + the count
    assert f"Items 1 to {AGENDA_PAGE_SIZE} of 50" in html
    assert 'class="govuk-pagination"' in html and "?page=2#agenda" in html
    assert "0 of 50 summary papers ready" in html

    in_order = sorted(made, key=lambda a: (a.organisation.name, a.mpid.code, a.pk))
    second = client.get(path, {"page": 2}).content.decode()
    assert f"Items {AGENDA_PAGE_SIZE + 1} to {2 * AGENDA_PAGE_SIZE} of 50" in second
    assert f'id="agenda-{in_order[AGENDA_PAGE_SIZE].pk}"' in second
    assert f'id="agenda-{in_order[0].pk}"' not in second
    assert f'<td class="govuk-table__cell">{AGENDA_PAGE_SIZE + 1}</td>' in second  # numbered across pages
    # A page number that cannot be read shows the first page; one past the end, the last.
    assert f'id="agenda-{in_order[0].pk}"' in client.get(path, {"page": "x"}).content.decode()
    assert f'id="agenda-{in_order[-1].pk}"' in client.get(path, {"page": 99}).content.decode()


def test_the_ready_papers_are_counted_across_every_page_of_the_agenda(login, secretary, analyst, make_meeting, crowd):
    meeting, other = make_meeting(30), make_meeting(60)
    made = sorted(crowd(meeting, 30), key=lambda a: (a.organisation.name, a.mpid.code, a.pk))
    elsewhere = crowd(other, 1)[0]

    def paper(application, meeting, status=GenerationStatus.READY):
        ready = status == GenerationStatus.READY
        PabPaper.objects.create(
            application=application,
            meeting=meeting,
            version=1,
            prepared_by=analyst,
            prepared_at=timezone.now(),
            status=status,
            file="papers/x.pdf" if ready else "",
            sha256="0" * 64 if ready else "",
            generated_at=timezone.now() if ready else None,
        )

    paper(made[0], meeting)  # on the first page
    paper(made[-1], meeting)  # on the second
    paper(made[1], meeting, GenerationStatus.QUEUED)  # not ready yet
    paper(elsewhere, other)  # another meeting's
    client = login(secretary)
    first = client.get(f"/pab/meetings/{meeting.pk}/").content.decode()
    assert "Items 1 to 25 of 30; 2 summary papers ready." in first
    assert "2 of 30 summary papers ready." in first  # beside the meeting pack button
    second = client.get(f"/pab/meetings/{meeting.pk}/", {"page": 2}).content.decode()
    assert "Items 26 to 30 of 30; 2 summary papers ready." in second


def test_a_short_agenda_is_shown_whole_without_pages(login, secretary, make_meeting, crowd):
    meeting = make_meeting(30)
    crowd(meeting, 3)
    html = login(secretary).get(f"/pab/meetings/{meeting.pk}/").content.decode()
    assert "3 applications" in html and 'class="govuk-pagination"' not in html


def test_the_meeting_page_shows_a_participant_only_their_own_applications(
    login, member, org, other_org, make_meeting, crowd
):
    meeting = make_meeting(30)
    ours = crowd(meeting, 2, organisation=org)
    theirs = crowd(meeting, 30, organisation=other_org)
    html = login(member).get(f"/pab/meetings/{meeting.pk}/").content.decode()
    assert all(f'id="agenda-{a.pk}"' in html for a in ours)
    assert not any(f'id="agenda-{a.pk}"' in html for a in theirs)
    assert "2 applications" in html and 'class="govuk-pagination"' not in html
    assert "summary paper" not in html  # the Board's papers are not theirs to read


# --- the calendar ----------------------------------------------------------------------------------------


def test_the_calendar_counts_each_meetings_applications_with_the_same_queries_for_10_or_50(
    login, analyst, make_meeting, crowd
):
    first, second = make_meeting(30), make_meeting(60)
    made = crowd(first, 10)
    crowd(second, 10)
    PabTarget.objects.filter(application=made[0]).update(late_reason="The QSP's report came in late.")
    client = login(analyst)
    path = f"/pab/meetings/?year={first.date.year}"
    client.get(path)
    with_10 = queries(lambda: client.get(path))
    crowd(first, 40)
    crowd(second, 40)
    with_50 = queries(lambda: client.get(path))
    assert with_50 == with_10

    html = client.get("/pab/meetings/").content.decode()
    assert f'href="/pab/meetings/{first.pk}/#agenda">50 applications<' in html
    assert f'href="/pab/meetings/{second.pk}/#agenda">50 applications<' in html
    assert "1 late paper<" in html
    assert made[1].reference not in html  # the agenda lists them, not the calendar
