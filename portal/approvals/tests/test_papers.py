"""The Elexon recommendation and the summary papers: who may record and prepare them, when, what a
paper says (read back from its PDF), the versions kept, who is told, and refusals that change
nothing."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.approvals import paper_services
from portal.approvals.models import GenerationStatus, MeetingStatus, PabPaper, PabRecommendation
from portal.approvals.paper_selectors import meeting_agenda, paper_view
from portal.approvals.paper_services import pab_paper_generate, pab_paper_prepare, pab_recommendation_record
from portal.approvals.papers import paper_data
from portal.approvals.services import pab_target_set
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import (
    RECOMMENDATION,
    decide,
    inbox,
    pdf_pages,
    pdf_text,
    ready_paper,
    recommend,
    snapshot,
    stored,
    workoff_item,
)
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.factories import make_member
from portal.participants.models import Mpid, Organisation
from portal.qualification.services import application_withdraw
from portal.qualification.workflow import Decision
from portal.workoff.models import WorkOffStatus

pytestmark = pytest.mark.django_db

# The shared fixtures of the papers tests.
agenda_item, board = support.agenda_item, support.board


# --- the recommendation --------------------------------------------------------------------------------------


def test_an_analyst_records_the_recommendation_and_the_secretary_is_told(agenda_item, board):
    item = agenda_item()

    recommendation = recommend(item, board.analyst, outcome=Decision.APPROVED)

    assert recommendation.is_current and recommendation.outcome == Decision.APPROVED
    assert recommendation.text == RECOMMENDATION and recommendation.recommended_by == board.analyst
    event = AuditEvent.objects.get(action="pab.recommendation.record")
    assert event.application_id == item.application.pk and event.after["outcome"] == "approved"
    told = inbox(board.secretary, "Elexon recommendation recorded")
    assert len(told) == 1 and RECOMMENDATION in told[0].body and told[0].link == item.path
    assert not inbox(board.analyst, "Elexon recommendation")


def test_a_new_recommendation_supersedes_the_current_one_and_both_are_kept(agenda_item, board):
    item = agenda_item()
    first = recommend(item, board.analyst, outcome=Decision.APPROVED)
    second = recommend(item, board.qsp, outcome=Decision.DEFERRED, text="Defer: the Final QAD needs another look.")

    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert PabRecommendation.objects.filter(application=item.application).count() == 2
    event = AuditEvent.objects.get(action="pab.recommendation.change")
    assert event.before["outcome"] == "approved" and event.after["outcome"] == "deferred"
    view = paper_view(user=board.member, **item.ids)
    assert view.recommendation == second and view.recommendations == [second, first]


@pytest.mark.parametrize("role", [Role.PAB_SECRETARY, Role.PAB_CHAIR, Role.PAB_MEMBER, Role.ADMINISTRATOR])
def test_the_boards_readers_may_not_recommend(agenda_item, staff, role):
    item = agenda_item()
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Elexon qualification analyst or the QSP"):
        recommend(item, staff(role))
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.TESTING_ASSURANCE, Role.DIP_MANAGER, Role.SERVICE_ACTIVATION])
def test_staff_who_do_not_read_the_boards_papers_get_not_found(agenda_item, staff, role):
    item = agenda_item()
    before = snapshot()
    with pytest.raises(NotFound):
        recommend(item, staff(role))
    with pytest.raises(NotFound):
        pab_paper_prepare(actor=staff(role), **item.ids)
    with pytest.raises(NotFound):
        paper_view(user=staff(role), **item.ids)
    assert snapshot() == before


def test_participants_never_see_the_boards_papers_even_on_their_own_application(
    agenda_item, board, member, director, other_member
):
    item = agenda_item()
    ready_paper(item, board.analyst)
    before = snapshot()
    for person in (member, director, other_member):
        with pytest.raises(NotFound):
            paper_view(user=person, **item.ids)
        with pytest.raises(NotFound):
            recommend(item, person)
        with pytest.raises(NotFound):
            pab_paper_prepare(actor=person, **item.ids)
    assert snapshot() == before


def test_an_application_not_on_the_meetings_agenda_is_not_found(agenda_item, make_meeting, board):
    item = agenda_item()
    elsewhere = make_meeting(70)
    before = snapshot()
    with pytest.raises(NotFound):
        pab_recommendation_record(
            actor=board.analyst,
            meeting_id=elsewhere.pk,
            application_id=item.application.pk,
            outcome=Decision.APPROVED,
            text="Approve.",
        )
    with pytest.raises(NotFound):
        pab_recommendation_record(
            actor=board.analyst, meeting_id=item.meeting.pk, application_id=10**9, outcome="approved", text="A."
        )
    with pytest.raises(NotFound):
        paper_view(user=board.member, meeting_id=elsewhere.pk, application_id=item.application.pk)
    assert snapshot() == before


def test_a_board_reader_may_not_see_an_application_outside_their_scope(agenda_item, board, signed, make_meeting):
    """The PAB roles see only roles that need the Board: an MOA/MEM application is not theirs."""
    item = agenda_item()
    mem = signed(market_role="MEM")
    with pytest.raises(NotFound):
        paper_view(user=board.member, meeting_id=item.meeting.pk, application_id=mem.pk)


@pytest.mark.parametrize(
    ("outcome", "text", "field", "message"),
    [
        ("", RECOMMENDATION, "outcome", "Choose the outcome"),
        ("maybe", RECOMMENDATION, "outcome", "Choose the outcome"),
        ("approved", "   ", "text", "Enter the recommendation"),
        ("approved", "x" * 10_001, "text", "10,000 characters or fewer"),
        ("approved", "Approve\x00 now", "text", "control characters"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_changes(
    agenda_item, board, outcome, text, field, message
):
    item = agenda_item()
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        recommend(item, board.analyst, outcome=outcome, text=text)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_papers_cannot_change_once_the_meeting_is_cancelled_or_held(agenda_item, board):
    item = agenda_item()
    recommend(item, board.analyst)
    for status, words in ((MeetingStatus.CANCELLED, "is cancelled"), (MeetingStatus.HELD, "has been held")):
        item.meeting.status = status
        item.meeting.cancelled_reason = "Not quorate." if status == MeetingStatus.CANCELLED else ""
        item.meeting.save()
        before = snapshot()
        with pytest.raises(InvalidTransition, match=words):
            recommend(item, board.analyst)
        with pytest.raises(InvalidTransition, match=words):
            pab_paper_prepare(actor=board.analyst, **item.ids)
        assert snapshot() == before


def test_papers_cannot_change_once_the_target_moved_or_the_application_closed(agenda_item, board, make_meeting, member):
    item = agenda_item()
    recommend(item, board.analyst)
    later = make_meeting(70)
    pab_target_set(
        actor=board.analyst, application_id=item.application.pk, meeting_id=later.pk, reason="Paper not ready."
    )
    before = snapshot()
    with pytest.raises(InvalidTransition, match="no longer targeted"):
        recommend(item, board.analyst)
    # The old meeting's paper can still be read.
    assert paper_view(user=board.member, **item.ids).recommendation is not None
    assert snapshot() == before

    application_withdraw(actor=member, application_id=item.application.pk, reason="Changed our plans.")
    with pytest.raises(InvalidTransition, match="withdrawn"):
        pab_recommendation_record(
            actor=board.analyst,
            meeting_id=later.pk,
            application_id=item.application.pk,
            outcome="approved",
            text="Approve.",
        )


# --- preparing and generating the paper -----------------------------------------------------------------------


def test_a_paper_needs_the_recommendation_first(agenda_item, board):
    item = agenda_item()
    before = snapshot()
    with pytest.raises(InvalidTransition, match="Record the Elexon recommendation"):
        pab_paper_prepare(actor=board.analyst, **item.ids)
    assert snapshot() == before


def test_preparing_queues_a_version_and_its_job_in_the_same_transaction(agenda_item, board):
    item = agenda_item()
    recommend(item, board.analyst)
    jobs = DBTaskResult.objects.count()

    paper = pab_paper_prepare(actor=board.qsp, **item.ids)

    assert paper.version == 1 and paper.status == GenerationStatus.QUEUED and paper.prepared_by == board.qsp
    assert not paper.file and paper.content == ""
    assert DBTaskResult.objects.count() == jobs + 1
    job = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert job is not None
    assert job.task_path == "portal.approvals.tasks.generate_pab_paper" and job.args_kwargs["args"] == [paper.pk]
    assert AuditEvent.objects.filter(action="pab.paper.prepare", after__version=1).exists()
    # One at a time: while it is being generated, another is refused.
    before = snapshot()
    with pytest.raises(Conflict, match="being generated already"):
        pab_paper_prepare(actor=board.analyst, **item.ids)
    assert snapshot() == before


def test_the_paper_pdf_says_who_what_the_recommendation_and_the_workoff_items(agenda_item, board):
    item = agenda_item()
    application = item.application
    condition = workoff_item(application, by=board.analyst, action="Re-run the change of supplier flow CoS-17.")
    proposed = workoff_item(
        application, by=board.analyst, action="Fix the read rejection reason code.", status=WorkOffStatus.PROPOSED
    )
    recommend(item, board.analyst, text="Approve with conditions: CoS-17 to be re-run by the due date.")

    paper = ready_paper(item, board.analyst)

    assert paper.status == GenerationStatus.READY and paper.error == ""
    content = stored(paper.file)
    assert content.startswith(b"%PDF")
    assert paper.sha256 == hashlib.sha256(content).hexdigest() and paper.size == len(content)
    text = pdf_text(content)
    for expected in (
        "Northern Lights Energy Ltd",
        "NLEN",
        "Supplier",
        application.reference,
        "Approved with conditions",
        "Approve with conditions: CoS-17 to be re-run by the due date.",
        condition.reference,
        "Re-run the change of supplier flow CoS-17.",
        proposed.reference,
        "Fix the read rejection reason code.",
        "Director sign-off",
        f"{item.meeting.date.day} {item.meeting.date:%B %Y}",
    ):
        assert expected in text, expected
    # The body is kept as generated: the page and the pack show the same paper.
    assert "Re-run the change of supplier flow CoS-17." in paper.content
    assert AuditEvent.objects.get(action="pab.paper.generate").after["sha256"] == paper.sha256
    for person in (board.analyst, board.secretary):
        assert len(inbox(person, "Summary paper ready")) == 1


def test_a_paper_keeps_what_it_said_when_the_data_changes_later(agenda_item, board):
    item = agenda_item()
    recommend(item, board.analyst, outcome=Decision.APPROVED, text="Approve outright.")
    first = ready_paper(item, board.analyst)
    recommend(item, board.analyst, outcome=Decision.DEFERRED, text="Defer to next month.")

    view = paper_view(user=board.member, **item.ids)
    assert view.shown == first and "Approve outright." in view.shown.content
    assert "Defer to next month." not in view.shown.content

    second = ready_paper(item, board.analyst)
    assert second.version == 2
    assert "Defer to next month." in pdf_text(stored(second.file))
    assert "Approve outright." in pdf_text(stored(first.file))  # version 1 is kept, unchanged
    assert paper_view(user=board.member, **item.ids).shown == second
    assert paper_view(user=board.member, version=1, **item.ids).shown == first
    with pytest.raises(NotFound):
        paper_view(user=board.member, version=9, **item.ids)


def test_a_failure_is_recorded_and_the_preparer_told(agenda_item, board, monkeypatch):
    item = agenda_item()
    recommend(item, board.analyst)
    paper = pab_paper_prepare(actor=board.analyst, **item.ids)

    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(paper_services, "render_pdf", broken)
    failed = pab_paper_generate(paper_id=paper.pk)
    assert failed is not None

    assert failed.status == GenerationStatus.FAILED and "could not be generated" in failed.error
    assert not failed.file and failed.content == ""
    assert AuditEvent.objects.get(action="pab.paper.fail").after["error"] == "RuntimeError"
    assert len(inbox(board.analyst, "Summary paper failed")) == 1
    # A failed version does not hold up the next.
    monkeypatch.undo()
    assert ready_paper(item, board.analyst).version == 2


def test_a_job_delivered_twice_generates_once(agenda_item, board):
    item = agenda_item()
    paper = ready_paper(item, board.analyst)
    events = AuditEvent.objects.count()
    again = pab_paper_generate(paper_id=paper.pk)
    assert again is not None
    assert again.sha256 == paper.sha256 and again.file.name == paper.file.name
    assert AuditEvent.objects.count() == events
    assert pab_paper_generate(paper_id=10**9) is None


def test_the_paper_data_is_read_with_the_same_queries_whatever_the_number_of_items(agenda_item, board):
    small = agenda_item()
    large = agenda_item(market_role="ADS")
    for application, count in ((small.application, 1), (large.application, 12)):
        for n in range(count):
            workoff_item(application, by=board.analyst, action=f"Item {n}")
        recommend(small if application == small.application else large, board.analyst, outcome=Decision.APPROVED)

    def queries(item):
        with CaptureQueriesContext(connection) as captured:
            data = paper_data(item.application, item.meeting)
            paper_services.paper_body_html(data)
        return len(captured)

    assert queries(small) == queries(large)
    assert len(paper_data(large.application, large.meeting).conditions) == 12


# --- the agenda -------------------------------------------------------------------------------------------------


def test_the_agenda_lists_each_targeted_application_with_its_recommendation_paper_and_decision(
    agenda_item, board, signed, other_org, other_member, member
):
    first = agenda_item()
    second = agenda_item(market_role="ADS", meeting=first.meeting)
    rival = agenda_item(organisation=other_org, actor=other_member, meeting=first.meeting)
    ready_paper(first, board.analyst)
    recommend(second, board.analyst, outcome=Decision.DEFERRED, text="Defer.")
    decision = decide(rival, board.secretary, outcome=Decision.APPROVED, letter=False)

    agenda = meeting_agenda(user=board.member, meeting_id=first.meeting.pk)
    rows = {row.application.pk: row for row in agenda.rows}
    assert set(rows) == {first.application.pk, second.application.pk, rival.application.pk}
    assert [row.number for row in agenda.rows] == [1, 2, 3]
    assert agenda.rows[0].application.organisation.name == "Northern Lights Energy Ltd"  # by organisation
    first_paper, second_recommendation = rows[first.application.pk].paper, rows[second.application.pk].recommendation
    assert rows[first.application.pk].ready_paper is not None and first_paper is not None and first_paper.version == 1
    assert second_recommendation is not None and second_recommendation.outcome == Decision.DEFERRED
    assert rows[second.application.pk].paper is None
    assert rows[rival.application.pk].decision == decision
    assert agenda.reads_papers and not agenda.can_prepare and not agenda.can_request_pack
    assert meeting_agenda(user=board.analyst, meeting_id=first.meeting.pk).can_prepare

    # A participant sees only its own applications, without the Board's papers.
    own = meeting_agenda(user=member, meeting_id=first.meeting.pk)
    assert {row.application.pk for row in own.rows} == {first.application.pk, second.application.pk}
    assert not own.reads_papers and all(row.paper is None and row.recommendation is None for row in own.rows)
    theirs = meeting_agenda(user=other_member, meeting_id=first.meeting.pk)
    assert [row.application.pk for row in theirs.rows] == [rival.application.pk]
    with pytest.raises(NotFound):
        meeting_agenda(user=member, meeting_id=10**9)


def test_the_agenda_keeps_an_application_deferred_to_a_later_meeting(agenda_item, board, make_meeting):
    item = agenda_item()
    decide(item, board.secretary, outcome=Decision.DEFERRED)
    pab_target_set(
        actor=board.analyst,
        application_id=item.application.pk,
        meeting_id=make_meeting(70).pk,
        reason="Deferred by the Board.",
    )
    rows = meeting_agenda(user=board.member, meeting_id=item.meeting.pk).rows
    assert len(rows) == 1 and not rows[0].on_agenda
    assert rows[0].decision is not None and rows[0].decision.outcome == Decision.DEFERRED


def test_the_agenda_needs_the_same_queries_for_two_applications_or_six(agenda_item, board, signed, make_meeting):
    small_meeting, large_meeting = make_meeting(40), make_meeting(70)
    for role in ("SUP", "ADS"):
        ready_paper(agenda_item(market_role=role, meeting=small_meeting), board.analyst)
    for n, role in enumerate(("SUP", "ADS", "SDS", "UMSDS", "LDSO", "SUP")):
        organisation = Organisation.objects.create(name=f"Large {n} Ltd", company_number=f"LG{n:06d}")
        Mpid.objects.create(organisation=organisation, code=f"LG{n:02d}")
        applicant = make_member(organisation)
        ready_paper(
            agenda_item(market_role=role, meeting=large_meeting, organisation=organisation, actor=applicant),
            board.analyst,
        )

    def queries(meeting):
        with CaptureQueriesContext(connection) as captured:
            agenda = meeting_agenda(user=board.member, meeting_id=meeting.pk)
        return len(captured), len(agenda.rows)

    queries(small_meeting)  # the user's roles are read once, then remembered for the request
    small, large = queries(small_meeting), queries(large_meeting)
    assert (small[1], large[1]) == (2, 6)
    assert small[0] == large[0]


def test_a_paper_page_view_for_reading_counts_versions(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    ready_paper(item, board.analyst)
    view = paper_view(user=board.chair, **item.ids)
    assert view.shown is not None
    assert [p.version for p in view.papers] == [2, 1] and view.shown.version == 2
    assert not view.can_present and view.refusal == ""
    assert PabPaper.objects.filter(application=item.application).count() == 2
    assert pdf_pages(stored(view.shown.file)) >= 1
