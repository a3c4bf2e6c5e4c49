"""The meeting pack: who may ask for it, when, what the one PDF holds (read back), its page count, the
versions kept, who is told, and that it is one WeasyPrint render with a fixed number of queries."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.roles import Role
from portal.approvals import paper_services, pdf
from portal.approvals.models import GenerationStatus, MeetingStatus, PabPack
from portal.approvals.paper_selectors import meeting_agenda, meeting_packs, pack_get
from portal.approvals.paper_services import pab_pack_generate, pab_pack_request, pack_html
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import (
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
from portal.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from portal.factories import make_member
from portal.participants.models import Mpid, Organisation
from portal.qualification.workflow import Decision

pytestmark = pytest.mark.django_db

agenda_item, board = support.agenda_item, support.board


def generated(pack: PabPack) -> PabPack:
    done = pab_pack_generate(pack_id=pack.pk)
    assert done is not None
    return done


def test_the_pack_holds_the_cover_the_agenda_and_every_ready_paper(agenda_item, board, other_org, other_member):
    first = agenda_item()
    second = agenda_item(market_role="ADS", meeting=first.meeting)
    rival = agenda_item(organisation=other_org, actor=other_member, meeting=first.meeting)
    waiting = agenda_item(market_role="SDS", meeting=first.meeting)  # recommended, no paper yet
    workoff_item(first.application, by=board.analyst, action="Close defect DEF-0001 by re-running CoS-17.")
    recommend(rival, board.analyst, outcome=Decision.DEFERRED, text="Defer: PIT evidence incomplete.")
    recommend(waiting, board.analyst, outcome=Decision.REJECTED, text="Reject.")
    for item in (first, second, rival):
        ready_paper(item, board.analyst)

    pack = generated(pab_pack_request(actor=board.secretary, meeting_id=first.meeting.pk))

    assert pack.version == 1 and pack.status == GenerationStatus.READY and pack.error == ""
    content = stored(pack.file)
    assert pack.sha256 == hashlib.sha256(content).hexdigest() and pack.size == len(content)
    assert pack.page_count == pdf_pages(content) >= 5  # the cover, the agenda, then a page or more per paper
    text = pdf_text(content)
    assert "Meeting pack" in text and "Agenda" in text
    for item in (first, second, rival):
        application = item.application
        assert f"{application.organisation.name}: {application.mpid.code} as {application.market_role.name}" in text
    assert "Close defect DEF-0001 by re-running CoS-17." in text
    assert "Defer: PIT evidence incomplete." in text
    # The application without a paper is on the agenda, marked so, with no paper of its own.
    assert waiting.application.reference in text and "Not yet prepared" in text
    assert f"{waiting.application.mpid.code} as {waiting.application.market_role.name}" not in text
    event = AuditEvent.objects.get(action="pab.pack.generate")
    assert event.after["pages"] == pack.page_count and event.after["sha256"] == pack.sha256
    assert set(event.after["papers"]) == {i.application.reference for i in (first, second, rival)}
    assert event.after["without_paper"] == [waiting.application.reference]


def test_the_board_and_the_requester_are_told_when_the_pack_is_ready(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    generated(pab_pack_request(actor=board.analyst, meeting_id=item.meeting.pk))
    for person in (board.member, board.chair, board.secretary, board.analyst):
        told = inbox(person, "BSC PAB meeting pack ready")
        assert len(told) == 1 and told[0].link == f"/pab/meetings/{item.meeting.pk}/"
    assert not inbox(board.qsp, "meeting pack")


@pytest.mark.parametrize("role", [Role.PAB_CHAIR, Role.PAB_MEMBER, Role.QSP, Role.ADMINISTRATOR])
def test_only_the_secretary_or_an_analyst_may_ask_for_the_pack(agenda_item, board, staff, role):
    item = agenda_item()
    ready_paper(item, board.analyst)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="PAB secretary or an Elexon analyst"):
        pab_pack_request(actor=staff(role), meeting_id=item.meeting.pk)
    assert snapshot() == before


def test_participants_and_other_staff_get_not_found(agenda_item, board, member, staff):
    item = agenda_item()
    ready_paper(item, board.analyst)
    pack = generated(pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk))
    before = snapshot()
    for person in (member, staff(Role.TESTING_ASSURANCE), staff(Role.SERVICE_ACTIVATION)):
        with pytest.raises(NotFound):
            pab_pack_request(actor=person, meeting_id=item.meeting.pk)
        with pytest.raises(NotFound):
            meeting_packs(user=person, meeting_id=item.meeting.pk)
        with pytest.raises(NotFound):
            pack_get(user=person, meeting_id=item.meeting.pk, version=pack.version)
        assert meeting_agenda(user=person, meeting_id=item.meeting.pk).pack is None
    with pytest.raises(NotFound):
        pab_pack_request(actor=board.secretary, meeting_id=10**9)
    assert snapshot() == before


def test_a_pack_needs_a_ready_paper_and_a_meeting_not_cancelled(agenda_item, board):
    item = agenda_item()
    recommend(item, board.analyst)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="No summary paper"):
        pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk)
    assert snapshot() == before
    ready_paper(item, board.analyst)
    item.meeting.status, item.meeting.cancelled_reason = MeetingStatus.CANCELLED, "Not quorate."
    item.meeting.save()
    before = snapshot()
    with pytest.raises(InvalidTransition, match="is cancelled"):
        pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk)
    assert snapshot() == before


def test_one_pack_at_a_time_and_each_new_one_is_a_new_version(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    queued = pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk)
    before = snapshot()
    with pytest.raises(Conflict, match="being generated already"):
        pab_pack_request(actor=board.analyst, meeting_id=item.meeting.pk)
    assert snapshot() == before
    first = generated(queued)
    second = generated(pab_pack_request(actor=board.analyst, meeting_id=item.meeting.pk))
    assert (first.version, second.version) == (1, 2) and first.file.name != second.file.name
    latest = meeting_agenda(user=board.member, meeting_id=item.meeting.pk)
    assert latest.pack == second and latest.ready_pack == second


def test_a_failed_pack_is_recorded_and_the_requester_told(agenda_item, board, monkeypatch):
    item = agenda_item()
    ready_paper(item, board.analyst)
    pack = pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk)

    def broken(html):
        raise OSError("disk full")

    monkeypatch.setattr(paper_services, "render_pdf", broken)
    failed = generated(pack)
    assert failed.status == GenerationStatus.FAILED and failed.page_count == 0 and not failed.file
    assert len(inbox(board.secretary, "meeting pack failed")) == 1
    assert not inbox(board.member, "meeting pack")
    agenda = meeting_agenda(user=board.member, meeting_id=item.meeting.pk)
    assert agenda.pack == failed and agenda.ready_pack is None


def test_the_pack_is_one_render_of_one_document_with_a_fixed_number_of_queries(
    agenda_item, board, make_meeting, monkeypatch
):
    small, large = make_meeting(40), make_meeting(70)
    ready_paper(agenda_item(meeting=small), board.analyst)
    for n in range(5):
        organisation = Organisation.objects.create(name=f"Pack Member {n} Ltd", company_number=f"PK{n:06d}")
        Mpid.objects.create(organisation=organisation, code=f"PK{n:02d}")
        item = agenda_item(meeting=large, organisation=organisation, actor=make_member(organisation))
        ready_paper(item, board.analyst)

    def queries(meeting):
        pack = PabPack(meeting=meeting, version=1, requested_by=board.secretary)
        with CaptureQueriesContext(connection) as captured:
            html, rows = pack_html(pack)
        return len(captured), len(rows), html

    small_count, small_rows, _ = queries(small)
    large_count, large_rows, html = queries(large)
    assert (small_rows, large_rows) == (1, 5) and small_count == large_count
    assert html.count("<html") == 1 and html.count('class="item"') == 5

    renders = []
    real = pdf.render_pdf

    def counting(document):
        renders.append(document)
        return real(document)

    monkeypatch.setattr(paper_services, "render_pdf", counting)
    pack = generated(pab_pack_request(actor=board.secretary, meeting_id=large.pk))
    assert len(renders) == 1 and pack.page_count >= 7
