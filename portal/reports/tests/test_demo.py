"""The dashboards show the demo data truthfully. The demo set is loaded once for this module, in a
transaction rolled back afterwards; every test here only reads it, and checks each figure against the
rows themselves, counted independently of the reports' own code."""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from portal.accounts.models import User
from portal.approvals.deadlines import deadlines_for
from portal.approvals.models import MeetingStatus, PabTarget
from portal.approvals.selectors import working_calendar
from portal.core.calendar import uk_today
from portal.demo.data import APPLICATIONS, PRIMARY_MEMBER
from portal.demo.services import DemoLoadReport, demo_data_load
from portal.participants.models import ApprovalBody, ApprovalRequirement
from portal.qualification.models import Application
from portal.qualification.workflow import CLOSED_STATUSES
from portal.reports.models import PortfolioReport
from portal.reports.selectors import DASHBOARD_LIST_LENGTH
from portal.reports.services import portfolio_report_generate, portfolio_report_request
from portal.reports.stages import PIPELINE
from portal.reports.tests.conftest import pdf_text, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoLoadReport]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_data_load()
        transaction.set_rollback(True)


def user(email: str) -> User:
    return User.objects.get(email=email)


def client_for(email: str) -> Client:
    client = Client()
    client.force_login(user(email))
    return client


ANALYST = "harriet.lowe@elexon.example"
REC = "kwame.mensah@recmanager.example"


def test_the_funnel_counts_every_application_where_it_stands() -> None:
    pipeline = client_for(ANALYST).get("/dashboard/").context["pipeline"]
    statuses = Counter(Application.objects.values_list("status", flat=True))
    assert pipeline.total == len(APPLICATIONS) == sum(statuses.values())
    assert {s.status: s.now for s in pipeline.stages} == {s: statuses.get(s, 0) for s in PIPELINE}
    assert {s: n for s, _, n in pipeline.closed if n} == {s: n for s, n in statuses.items() if s in CLOSED_STATUSES}
    # Every open application reached its own stage and every one before it.
    open_ones = [s for s in Application.objects.values_list("status", flat=True) if s not in CLOSED_STATUSES]
    for index, stage in enumerate(pipeline.stages):
        assert stage.reached >= sum(1 for s in open_ones if PIPELINE.index(s) >= index)
    assert pipeline.stages[0].reached == pipeline.total


def test_deadlines_and_meetings_are_those_of_the_applications() -> None:
    pipeline = client_for(ANALYST).get("/dashboard/").context["pipeline"]
    open_apps = [a for a in Application.objects.all() if not a.is_closed]
    expected = deadlines_for(open_apps, working=working_calendar())
    pending = sorted(
        (d for items in expected.values() for d in items if not d.done),
        key=lambda d: (d.due_on, d.application.pk, d.rule.order),
    )
    assert pipeline.deadline_counts == dict(Counter(d.status for d in pending))

    # The dashboard keeps the first of the overdue and of the at-risk ones, soonest first.
    def key(d: Any) -> tuple[int, str]:
        return (d.application.pk, d.rule.code)

    assert [key(d) for d in pipeline.overdue] == [key(d) for d in pending if d.overdue][:DASHBOARD_LIST_LENGTH]
    at_risk = [key(d) for d in pending if d.status in {"due_today", "due_soon"}][:DASHBOARD_LIST_LENGTH]
    assert [key(d) for d in pipeline.at_risk] == at_risk
    for item in pipeline.meetings:
        assert item.meeting.status == MeetingStatus.SCHEDULED and item.meeting.date >= uk_today()
        targeted = set(
            PabTarget.objects.filter(meeting=item.meeting, is_current=True)
            .exclude(application__status__in=[s.value for s in CLOSED_STATUSES])
            .values_list("application_id", flat=True)
        )
        assert {row.application.pk for row in item.on_agenda} == targeted


def test_the_rec_code_manager_sees_the_roles_that_need_it() -> None:
    needing = ApprovalRequirement.objects.filter(body=ApprovalBody.REC_CODE_MANAGER).values("role_group_id")
    expected = set(Application.objects.filter(market_role__role_group_id__in=needing).values_list("pk", flat=True))
    client = client_for(REC)
    assert client.get("/dashboard/").context["pipeline"].total == len(expected)
    listed = client.get("/api/v1/reports/pipeline/applications", {"limit": 100}).json()["items"]
    assert {row["application"]["id"] for row in listed} == expected
    outside = Application.objects.exclude(pk__in=expected).first()
    assert outside is not None
    assert client.get(f"/applications/{outside.pk}/timeline/").status_code == 404


def test_every_timeline_opens_for_those_who_may_see_it() -> None:
    analyst = client_for(ANALYST)
    participant = client_for(PRIMARY_MEMBER)
    own = set(user(PRIMARY_MEMBER).memberships.values_list("organisation_id", flat=True))
    for application in Application.objects.all():
        response = analyst.get(f"/applications/{application.pk}/timeline/")
        assert response.status_code == 200
        timeline = response.context["timeline"]
        assert timeline.application.pk == application.pk
        if application.status == "active":
            assert all(stage.finished for stage in timeline.stages)
        target = PabTarget.objects.filter(application=application, is_current=True).first()
        if target is not None and target.meeting.status != MeetingStatus.CANCELLED:
            assert timeline.target_meeting_on == target.meeting.date
        expected = 200 if application.organisation_id in own else 404
        assert participant.get(f"/applications/{application.pk}/timeline/").status_code == expected


def test_the_participant_home_shows_each_applications_next_deadline() -> None:
    response = client_for(PRIMARY_MEMBER).get("/")
    rows = response.context["rows"]
    own = set(user(PRIMARY_MEMBER).memberships.values_list("organisation_id", flat=True))
    assert {row.application.organisation_id for row in rows} == own
    expected = deadlines_for([row.application for row in rows], working=working_calendar())
    for row in rows:
        pending = [d for d in expected[row.application.pk] if not d.done]
        assert (row.next_deadline.rule.code if row.next_deadline else None) == (
            pending[0].rule.code if pending else None
        )


def test_the_pipeline_download_and_the_report_list_every_application() -> None:
    references = {a.reference for a in Application.objects.all()}
    rows = xlsx_rows(client_for(ANALYST).get("/downloads/pipeline.xlsx"))
    assert {r[0] for r in rows[1:]} == references
    report = portfolio_report_request(actor=user(ANALYST))
    ready = portfolio_report_generate(report_id=report.pk)
    assert isinstance(ready, PortfolioReport)
    assert ready.status == "ready", ready.error
    text = pdf_text(ready.file.open("rb").read())
    for reference in references:
        assert reference in text
    assert ready.application_count == len(references)


def test_search_finds_the_demo_organisations() -> None:
    results = client_for(ANALYST).get("/search/", {"q": "Aurora"}).context["results"]
    assert results.counts["organisation"] == 1
    assert results.counts["application"] == Application.objects.filter(organisation__name__icontains="Aurora").count()
