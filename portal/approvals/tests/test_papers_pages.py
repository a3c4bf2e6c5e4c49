"""The web pages of the Board's papers, packs and letters: the agenda on the meeting page, the paper
page with the analysts' forms, the PDF downloads, the pack, the Chair's letters; refusals shown in the
error summary, 404 for those who may not see."""

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.approvals.letters import qualification_letter_generate
from portal.approvals.models import GenerationStatus, LetterStatus, MeetingStatus, PabPaper, QualificationLetter
from portal.approvals.paper_services import pab_pack_generate, pab_pack_request
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import (
    RECOMMENDATION,
    decide,
    pdf_text,
    ready_paper,
    recommend,
    snapshot,
    workoff_item,
)
from portal.qualification.workflow import Decision

pytestmark = pytest.mark.django_db

agenda_item, board = support.agenda_item, support.board


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def download(response) -> bytes:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content)


def test_an_analyst_records_the_recommendation_and_prepares_the_paper_on_its_page(agenda_item, board):
    item = agenda_item()
    workoff_item(item.application, by=board.analyst, action="Re-run CoS-17 after release 4.2.")
    client = signed_in(board.analyst)

    page = client.get(item.path)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Record the Elexon recommendation" in html and "Preview: what a paper prepared now would say" in html
    assert "Re-run CoS-17 after release 4.2." in html  # the preview, from the data now
    assert "Record the Elexon recommendation first" in html  # no prepare button yet

    response = client.post(
        f"{item.path}recommendation/", {"outcome": "approved_with_conditions", "text": RECOMMENDATION}
    )
    assert response.status_code == 302 and response["Location"] == item.path
    html = client.get(item.path).content.decode()
    assert "You recorded the Elexon recommendation: Approved with conditions" in html
    assert "Change the Elexon recommendation" in html and RECOMMENDATION in html

    response = client.post(f"{item.path}prepare/")
    assert response.status_code == 302
    paper = PabPaper.objects.get()
    assert paper.status == GenerationStatus.QUEUED
    html = client.get(item.path).content.decode()
    assert "Version 1 of the summary paper is being generated" in html and "Being generated" in html


def test_bad_input_is_shown_in_the_error_summary_and_changes_nothing(agenda_item, board):
    item = agenda_item()
    client = signed_in(board.analyst)
    before = snapshot()
    response = client.post(f"{item.path}recommendation/", {"outcome": "", "text": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert '<a href="#id_outcome">Choose the outcome you recommend.</a>' in html
    assert '<a href="#id_text">Enter the recommendation and its reasons, as the Board will read them.</a>' in html
    response = client.post(f"{item.path}prepare/")
    assert response.status_code == 409 and "Record the Elexon recommendation" in response.content.decode()
    assert snapshot() == before


def test_a_held_meetings_paper_can_no_longer_change(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    item.meeting.status = MeetingStatus.HELD
    item.meeting.save()
    client = signed_in(board.analyst)
    page = client.get(item.path).content.decode()
    assert "has been held: its papers can no longer change" in page and "Save the recommendation" not in page
    before = snapshot()
    response = client.post(f"{item.path}recommendation/", {"outcome": "approved", "text": "Approve."})
    assert response.status_code == 409 and "has been held" in response.content.decode()
    assert snapshot() == before


def test_board_members_read_the_paper_and_download_its_pdf(agenda_item, board):
    item = agenda_item()
    paper = ready_paper(item, board.analyst)
    client = signed_in(board.member)
    page = client.get(item.path)
    html = page.content.decode()
    assert page.status_code == 200
    assert "The paper: version 1" in html and "Northern Lights Energy Ltd" in html and RECOMMENDATION in html
    assert "Save the recommendation" not in html and "Prepare a new version" not in html

    response = client.get(f"{item.path}versions/1/pdf/")
    content = download(response)
    assert content.startswith(b"%PDF") and len(content) == paper.size
    assert 'filename="BSC PAB' in response["Content-Disposition"] and "v1.pdf" in response["Content-Disposition"]
    assert "NLEN" in pdf_text(content)
    assert client.get(f"{item.path}versions/2/pdf/").status_code == 404
    assert client.get(f"{item.path}?version=7").status_code == 404
    assert client.get(f"{item.path}?version=abc").status_code == 404


@pytest.mark.parametrize("who", ["member", "director", "other_member", "testing_assurance"])
def test_others_get_not_found_and_nothing_changes(agenda_item, board, staff, request, who):
    item = agenda_item()
    ready_paper(item, board.analyst)
    person = staff(Role.TESTING_ASSURANCE) if who == "testing_assurance" else request.getfixturevalue(who)
    client = signed_in(person)
    before = snapshot()
    assert client.get(item.path).status_code == 404
    assert client.get(f"{item.path}versions/1/pdf/").status_code == 404
    assert client.post(f"{item.path}recommendation/", {"outcome": "approved", "text": "Yes."}).status_code == 404
    assert client.post(f"{item.path}recommendation/", {"outcome": "", "text": ""}).status_code == 404
    assert client.post(f"{item.path}prepare/").status_code == 404
    assert client.post(f"/pab/meetings/{item.meeting.pk}/pack/").status_code == 404
    assert snapshot() == before


def test_the_chair_may_read_but_not_recommend(agenda_item, board):
    item = agenda_item()
    client = signed_in(board.chair)
    before = snapshot()
    assert client.post(f"{item.path}recommendation/", {"outcome": "approved", "text": "Yes."}).status_code == 403
    assert client.post(f"{item.path}prepare/").status_code == 403
    assert snapshot() == before


def test_the_paper_pages_need_a_sign_in(agenda_item):
    item = agenda_item()
    assert Client().get(item.path).status_code == 302
    assert Client().get("/pab/letters/").status_code == 302


def test_the_meeting_page_shows_the_agenda_the_papers_and_the_pack(agenda_item, board, member, other_org, other_member):
    first = agenda_item()
    rival = agenda_item(organisation=other_org, actor=other_member, meeting=first.meeting)
    ready_paper(first, board.analyst)
    recommend(rival, board.analyst, outcome=Decision.DEFERRED, text="Defer.")
    meeting_path = f"/pab/meetings/{first.meeting.pk}/"

    html = signed_in(board.secretary).get(meeting_path).content.decode()
    assert "Applications targeted at this meeting" in html
    for application in (first.application, rival.application):
        assert application.organisation.name in html and application.reference in html
    assert "Read the paper" in html and f"{first.path}versions/1/pdf/" in html
    assert "Deferred" in html and "Not prepared" in html
    assert "Generate the meeting pack" in html and "1 of 2 summary papers ready" in html
    assert 'id="agenda-' in html and "Not decided" in html

    # The participant sees its own row only, without the Board's papers.
    html = signed_in(member).get(meeting_path).content.decode()
    assert first.application.reference in html and rival.application.reference not in html
    assert "Read the paper" not in html and "Meeting pack" not in html and "Elexon recommendation" not in html

    response = signed_in(board.secretary).post(f"/pab/meetings/{first.meeting.pk}/pack/", follow=True)
    assert "Version 1 of the meeting pack is being generated" in response.content.decode()
    pack = pab_pack_generate(pack_id=first.meeting.packs.get().pk)
    assert pack is not None
    html = signed_in(board.member).get(meeting_path).content.decode()
    assert f"/pab/meetings/{first.meeting.pk}/packs/1/pdf/" in html and "Ready" in html
    content = download(signed_in(board.member).get(f"/pab/meetings/{first.meeting.pk}/packs/1/pdf/"))
    assert len(content) == pack.size
    assert signed_in(member).get(f"/pab/meetings/{first.meeting.pk}/packs/1/pdf/").status_code == 404
    assert signed_in(board.member).get(f"/pab/meetings/{first.meeting.pk}/packs/2/pdf/").status_code == 404


def test_a_refused_pack_request_says_why(agenda_item, board):
    item = agenda_item()
    recommend(item, board.analyst)
    before = snapshot()
    response = signed_in(board.secretary).post(f"/pab/meetings/{item.meeting.pk}/pack/", follow=True)
    assert "No summary paper for the" in response.content.decode()
    assert signed_in(board.chair).post(f"/pab/meetings/{item.meeting.pk}/pack/").status_code == 403
    assert snapshot() == before


def test_the_chair_reads_and_issues_a_letter_and_the_participant_downloads_it(agenda_item, board, member, staff):
    item = agenda_item()
    decision = decide(item, board.secretary, conditions=[workoff_item(item.application, by=board.analyst)])
    letter = QualificationLetter.objects.get(decision=decision)
    chair = signed_in(board.chair)

    html = chair.get("/pab/letters/").content.decode()
    assert "Waiting for the PAB Chair" in html and "Being generated" in html
    assert signed_in(member).get(f"/pab/letters/{letter.pk}/").status_code == 404  # a draft is the Board's
    qualification_letter_generate(letter_id=letter.pk)

    html = chair.get(f"/pab/letters/{letter.pk}/").content.decode()
    assert "Issue the letter" in html and "Download the PDF" in html and "WO-001" in html
    content = download(chair.get(f"/pab/letters/{letter.pk}/pdf/"))
    assert "Northern Lights Energy Ltd" in pdf_text(content)
    assert signed_in(board.secretary).post(f"/pab/letters/{letter.pk}/issue/").status_code == 403

    response = chair.post(f"/pab/letters/{letter.pk}/issue/", follow=True)
    html = response.content.decode()
    assert "You issued the qualification letter" in html and "Issued" in html
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED

    again = chair.post(f"/pab/letters/{letter.pk}/issue/")
    assert again.status_code == 409 and "was issued on" in again.content.decode()

    participant = signed_in(member)
    listing = participant.get("/pab/letters/").content.decode()
    assert item.application.reference in listing and "Issue the letter" not in listing
    assert participant.get(f"/pab/letters/{letter.pk}/").status_code == 200
    download(participant.get(f"/pab/letters/{letter.pk}/pdf/"))
    assert signed_in(staff(Role.TESTING_ASSURANCE)).get("/pab/letters/").status_code == 404


def test_the_secretary_regenerates_a_letter_from_its_page(agenda_item, board):
    item = agenda_item()
    letter = QualificationLetter.objects.get(decision=decide(item, board.secretary, outcome=Decision.APPROVED))
    client = signed_in(board.secretary)
    response = client.post(f"/pab/letters/{letter.pk}/regenerate/")
    assert response.status_code == 409 and "being generated already" in response.content.decode()
    qualification_letter_generate(letter_id=letter.pk)
    response = client.post(f"/pab/letters/{letter.pk}/regenerate/", follow=True)
    assert "The letter is being generated again" in response.content.decode()
    assert signed_in(board.member).post(f"/pab/letters/{letter.pk}/regenerate/").status_code == 403


def test_a_queued_pack_cannot_be_downloaded(agenda_item, board):
    item = agenda_item()
    ready_paper(item, board.analyst)
    pab_pack_request(actor=board.secretary, meeting_id=item.meeting.pk)
    assert signed_in(board.member).get(f"/pab/meetings/{item.meeting.pk}/packs/1/pdf/").status_code == 404
