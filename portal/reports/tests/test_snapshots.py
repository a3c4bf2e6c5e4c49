"""The dashboard's figures are kept between requests when they are costly to work out: shown at once,
worked out again in a worker after a change, never shown on a later day, and never shown to anyone
who sees other applications."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.audit.selectors import latest_change_sequence
from portal.audit.services import audit_record
from portal.core.calendar import uk_today
from portal.reports import snapshots
from portal.reports.selectors import PipelineFilters, pipeline

pytestmark = pytest.mark.django_db

REFRESH_TASK = "portal.reports.tasks.refresh_dashboard"


@pytest.fixture
def costly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every working-out counts as costly, as it is at national scale."""
    monkeypatch.setattr(snapshots, "LIVE_SECONDS", 0)


def page_text(response) -> str:
    return response.content.decode()


def refresh_jobs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=REFRESH_TASK))


def test_cheap_figures_are_worked_out_again_after_every_change(build, analyst, signed_in):
    build(2)
    client = signed_in(analyst)
    assert client.get("/dashboard/").context["pipeline"].total == 2
    build(3)
    response = client.get("/dashboard/")
    assert response.context["pipeline"].total == 5
    assert response.context["behind"] is False
    assert refresh_jobs() == []


def test_costly_figures_are_shown_as_kept_while_a_worker_works_them_out_again(build, analyst, signed_in, costly):
    build(2)
    client = signed_in(analyst)
    first = client.get("/dashboard/")
    assert first.context["pipeline"].total == 2 and first.context["behind"] is False
    assert "may not include the latest changes" not in page_text(first)

    build(3)
    behind = client.get("/dashboard/")
    assert behind.context["pipeline"].total == 2
    assert behind.context["behind"] is True
    assert "may not include the latest changes" in page_text(behind)
    # One job, however many ask in the meantime.
    client.get("/dashboard/")
    jobs = refresh_jobs()
    assert len(jobs) == 1
    assert jobs[0].args_kwargs["args"] == [analyst.pk, "", "", ""]

    snapshots.dashboard_refresh(user_id=analyst.pk, filters=PipelineFilters())
    caught_up = client.get("/dashboard/")
    assert caught_up.context["pipeline"].total == 5 and caught_up.context["behind"] is False


def test_filters_keep_figures_of_their_own(build, analyst, signed_in, costly):
    build(4)
    client = signed_in(analyst)
    everything = client.get("/dashboard/").context["pipeline"]
    narrowed = client.get("/dashboard/", {"role_group": "ldso"}).context["pipeline"]
    assert everything.total == 4 and narrowed.total == 0


def test_figures_of_an_earlier_day_are_never_shown(build, analyst, signed_in, costly, monkeypatch):
    build(2)
    client = signed_in(analyst)
    client.get("/dashboard/")
    build(1)
    tomorrow = uk_today() + timedelta(days=1)
    monkeypatch.setattr(snapshots, "uk_today", lambda: tomorrow)
    response = client.get("/dashboard/")
    assert response.context["pipeline"].total == 3
    assert response.context["pipeline"].today == tomorrow
    assert response.context["behind"] is False


def test_staff_who_see_the_same_applications_share_figures_and_nobody_else_does(
    build, analyst, staff, member, other_member, other_org, signed_in, costly
):
    build(2)
    build(1, organisation=other_org, actor=other_member)
    signed_in(analyst).get("/dashboard/")
    build(2)  # the kept figures are now behind

    assurance = signed_in(staff(Role.TESTING_ASSURANCE)).get("/dashboard/")
    assert assurance.context["pipeline"].total == 3 and assurance.context["behind"] is True
    # A participant, and the REC Code Manager (who sees only the roles needing it), get their own.
    own = signed_in(member).get("/dashboard/")
    assert own.context["pipeline"].total == 4 and own.context["behind"] is False
    theirs = signed_in(other_member).get("/dashboard/")
    assert theirs.context["pipeline"].total == 1
    assert other_org.name not in page_text(own)


def test_sign_ins_and_refusals_do_not_make_figures_stale(member, other_member, analyst):
    before = latest_change_sequence()
    audit_record(actor=member, action="auth.sign_in", target=member)
    audit_record(actor=other_member, action="authz.denied", target=other_member)
    assert latest_change_sequence() == before
    audit_record(actor=analyst, action="organisation.updated", target=member)
    assert latest_change_sequence() > before


def test_the_api_says_when_the_figures_were_worked_out_and_whether_they_are_behind(build, analyst, api_as, costly):
    build(2)
    api = api_as(analyst)
    first = api.get("/api/v1/reports/pipeline").json()
    assert first["total"] == 2 and first["may_be_behind"] is False and first["worked_out_at"]
    build(1)
    later = api.get("/api/v1/reports/pipeline").json()
    assert later["total"] == 2 and later["may_be_behind"] is True
    assert later["worked_out_at"] == first["worked_out_at"]
    assert len(refresh_jobs()) == 1


def test_kept_figures_hold_only_what_the_dashboard_shows_with_every_count(build, analyst):
    build(8)
    whole = pipeline(user=analyst, filters=PipelineFilters())
    assert whole.rows and whole.meetings and whole.meetings[0].on_agenda
    # Lengthen every list past what the dashboard shows, then keep a summary of three of each.
    meeting = whole.meetings[0]
    long = replace(
        whole,
        deadlines=whole.deadlines * 4,
        rec_queue=whole.rec_queue * 4,
        meetings=[replace(meeting, rows=meeting.rows * 4, on_agenda_count=meeting.on_agenda_count * 4)],
    )
    kept = long.summary(3)
    assert kept.rows == []
    assert len(kept.overdue) == min(3, len(long.overdue)) and len(kept.at_risk) == min(3, len(long.at_risk))
    assert kept.deadline_counts == long.deadline_counts and kept.overdue_count == whole.overdue_count
    assert len(kept.rec_queue) == min(3, len(long.rec_queue)) and kept.rec_queue_count == whole.rec_queue_count
    assert len(kept.meetings[0].rows) == min(3, len(meeting.on_agenda) * 4)
    assert kept.meetings[0].on_agenda_count == meeting.on_agenda_count * 4
    assert (kept.total, kept.stages, kept.ageing) == (whole.total, whole.stages, whole.ageing)
