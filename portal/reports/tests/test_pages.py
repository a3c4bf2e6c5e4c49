"""The dashboard pages: what they show, to whom, and how they refuse bad input."""

from collections import Counter

import pytest

from portal.accounts.roles import Role
from portal.approvals.models import PabTarget
from portal.qualification.models import Application
from portal.reports.stages import PIPELINE_LABELS

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return response.content.decode()


def test_signing_in_is_required(client):
    for url in ("/dashboard/", "/dashboard/applications/", "/dashboard/timeline/", "/search/", "/downloads/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_dashboard_shows_every_stage_as_the_applications_stand(build, analyst, signed_in):
    applications = build(5)
    response = signed_in(analyst).get("/dashboard/")
    assert response.status_code == 200
    pipeline = response.context["pipeline"]
    statuses = Counter(Application.objects.values_list("status", flat=True))
    assert {s.status: s.now for s in pipeline.stages if s.now} == dict(statuses)
    assert pipeline.total == len(applications) == 5
    # Everyone reached preparation; the funnel narrows.
    reached = [s.reached for s in pipeline.stages]
    assert reached[0] == 5 and reached == sorted(reached, reverse=True)
    # The chart and its text alternative are both on the page.
    text = page_text(response)
    assert 'role="img"' in text and "The numbers in this chart" in text
    for status, count in statuses.items():
        assert f'<td class="govuk-table__cell">{count}</td>' in text or count == 0
        assert PIPELINE_LABELS[status] in text
    # The target meeting's agenda, the REC queue and the overdue work-off item are there.
    target = PabTarget.objects.get(is_current=True)
    assert [row.application.pk for item in pipeline.meetings for row in item.on_agenda] == [target.application_id]
    assert {row.application.pk for row in pipeline.rec_queue} == {
        a.pk for a in applications if a.status == "in_approval"
    }
    assert pipeline.workoff_overdue_count == 1
    assert "No work-off item is overdue" not in text


def test_filters_narrow_the_picture_and_refuse_values_not_offered(build, analyst, signed_in):
    build(5)
    client = signed_in(analyst)
    sit = client.get("/dashboard/", {"route": "sit"}).context["pipeline"]
    assert sit.total == Application.objects.filter(route__code="sit").count() == 4
    supplier = client.get("/dashboard/", {"role_group": "supplier"}).context["pipeline"]
    assert supplier.total == 5
    nothing = client.get("/dashboard/", {"role_group": "ldso"}).context["pipeline"]
    assert nothing.total == 0 and "that match these filters" in page_text(client.get("/dashboard/?role_group=ldso"))
    refused = client.get("/dashboard/", {"route": "<script>"})
    assert refused.status_code == 400
    assert "Choose a route from the list" in page_text(refused)
    assert "<script>" not in page_text(refused).split("</header>", 1)[1].split("Choose a route")[0]


def test_a_participant_sees_only_its_own_organisation(build, member, other_member, other_org, signed_in):
    own = build(2)
    theirs = build(2, organisation=other_org, actor=other_member)
    client = signed_in(member)
    pipeline = client.get("/dashboard/").context["pipeline"]
    assert pipeline.total == len(own) == 2
    listed = client.get("/dashboard/applications/")
    assert {row.application.pk for row in listed.context["rows"]} == {a.pk for a in own}
    assert other_org.name not in page_text(listed)
    assert client.get(f"/applications/{own[0].pk}/timeline/").status_code == 200
    assert client.get(f"/applications/{theirs[0].pk}/timeline/").status_code == 404
    assert client.get("/applications/999999/timeline/").status_code == 404
    timeline = client.get("/dashboard/timeline/")
    assert other_org.name not in page_text(timeline)


def test_the_rec_code_manager_sees_only_roles_needing_its_approval(build, staff, signed_in):
    needs_rec = build(2)
    data_services = build(2, market_role="ADS")
    client = signed_in(staff(Role.REC_CODE_MANAGER))
    assert client.get("/dashboard/").context["pipeline"].total == len(needs_rec) == 2
    listed = client.get("/dashboard/applications/").context["rows"]
    assert {row.application.pk for row in listed} == {a.pk for a in needs_rec}
    assert client.get(f"/applications/{data_services[0].pk}/timeline/").status_code == 404
    assert client.get(f"/applications/{needs_rec[0].pk}/timeline/").status_code == 200


def test_an_applications_timeline_shows_planned_and_actual_dates(build, analyst, signed_in):
    applications = build(4)
    with_pqs, _, _, targeted = applications
    client = signed_in(analyst)
    response = client.get(f"/applications/{targeted.pk}/timeline/")
    assert response.status_code == 200
    timeline = response.context["timeline"]
    target = PabTarget.objects.get(application=targeted, is_current=True)
    assert timeline.target_meeting_on == target.meeting.date
    stages = {s.label: s for s in timeline.stages}
    assert stages["Preparation"].finished and stages["Testing"].finished and stages["Final QAD"].finished
    assert stages["Approval"].ongoing and stages["Approval"].planned.end == target.meeting.date
    assert stages["Final QAD"].planned.known  # back-scheduled from the meeting
    text = page_text(response)
    assert "Target BSC PAB" in text and 'aria-labelledby="timeline-title timeline-desc"' in text

    planned = client.get(f"/applications/{with_pqs.pk}/timeline/").context["timeline"]
    testing = next(s for s in planned.stages if s.label == "Testing")
    pqs = with_pqs.pqs_submission
    assert (testing.planned.start, testing.planned.end) == (pqs.qt_start_date, pqs.qt_completion_date)
    assert testing.planned.basis == "the QT dates planned in the PQS"
    preparation = planned.stages[0]
    assert preparation.planned.start == pqs.pit_start_date and preparation.planned.end == pqs.qt_start_date


def test_pipeline_and_timeline_lists_are_paged(build, analyst, signed_in):
    build(5)
    client = signed_in(analyst)
    listed = client.get("/dashboard/applications/")
    assert len(listed.context["rows"]) == 5 and listed.context["page"].paginator.count == 5
    charts = client.get("/dashboard/timeline/").context["charts"]
    assert len(charts) == 1 and len(charts[0].rows) == 5
    assert client.get("/dashboard/applications/?page=99").status_code == 200


def test_participant_home_says_what_is_next_who_holds_it_and_what_is_due(build, member, signed_in):
    applications = build(5)
    response = signed_in(member).get("/")
    assert response.status_code == 200
    rows = {row.application.pk: row for row in response.context["rows"]}
    with_pqs = applications[0]
    due = rows[with_pqs.pk].next_deadline
    # QT starts 30 days ahead (the PQS): the Initial QAD is due 10 working days before.
    assert due is not None and due.rule.code == "initial_qad_before_qt"
    text = page_text(response)
    assert "Due next" in text and f"/applications/{with_pqs.pk}/timeline/" in text
    assert due.title in text
    assert "Waiting for you" in text


def test_navigation_offers_the_dashboard_to_staff_and_search_to_everyone(analyst, member, signed_in):
    staff_page = page_text(signed_in(analyst).get("/"))
    assert 'href="/dashboard/"' in staff_page and 'href="/search/"' in staff_page
    participant_page = page_text(signed_in(member).get("/"))
    assert 'href="/dashboard/"' not in participant_page and 'href="/search/"' in participant_page
