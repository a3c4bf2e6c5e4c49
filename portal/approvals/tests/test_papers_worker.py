"""The Board's documents end to end through the real background worker (`manage.py db_worker`): the
analyst's paper, the secretary's pack, the Board's approval through the decision service, the letter,
and the Chair issuing it with the PDF attached to the participant's e-mail."""

import pytest
from django.core import mail
from django.test import Client

from portal.accounts.roles import Role
from portal.approvals.decision_services import approval_decide
from portal.approvals.models import GenerationStatus, LetterStatus, PabPack, PabPaper, QualificationLetter
from portal.approvals.services import pab_target_set
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import (
    RECOMMENDATION,
    pdf_pages,
    pdf_text,
    run_worker,
    stored,
    workoff_item,
)
from portal.core.calendar import uk_today
from portal.qualification.workflow import Decision

pytestmark = pytest.mark.django_db(transaction=True)

board = support.board
SUBJECT = "[MHHS Qualification] "


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def mails_to(user, subject: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [user.email] and m.subject.startswith(SUBJECT + subject)]


def test_from_the_paper_to_the_issued_letter_through_the_worker(
    transactional_db, signed, make_meeting, board, member, director, staff
):
    activation = staff(Role.SERVICE_ACTIVATION)
    application = signed()
    meeting = make_meeting(on=uk_today(), paper_deadline=uk_today())
    pab_target_set(actor=board.analyst, application_id=application.pk, meeting_id=meeting.pk)
    condition = workoff_item(application, by=board.analyst, action="Re-run the change of supplier flow CoS-17.")
    paper_path = f"/pab/meetings/{meeting.pk}/papers/{application.pk}/"

    # The analyst recommends and prepares the paper on its page; the worker generates it.
    analyst = signed_in(board.analyst)
    analyst.post(f"{paper_path}recommendation/", {"outcome": "approved_with_conditions", "text": RECOMMENDATION})
    assert analyst.post(f"{paper_path}prepare/").status_code == 302
    run_worker()
    paper = PabPaper.objects.get()
    assert paper.status == GenerationStatus.READY
    text = pdf_text(stored(paper.file))
    assert "Northern Lights Energy Ltd" in text and "NLEN" in text and RECOMMENDATION in text
    assert condition.reference in text and "Re-run the change of supplier flow CoS-17." in text
    assert len(mails_to(board.secretary, "Summary paper ready")) == 1

    # The secretary asks for the pack; the worker renders it and the Board is told by e-mail.
    assert signed_in(board.secretary).post(f"/pab/meetings/{meeting.pk}/pack/").status_code == 302
    run_worker()
    pack = PabPack.objects.get()
    assert pack.status == GenerationStatus.READY and pack.page_count == pdf_pages(stored(pack.file))
    assert "Re-run the change of supplier flow CoS-17." in pdf_text(stored(pack.file))
    for person in (board.member, board.chair):
        assert len(mails_to(person, "BSC PAB meeting pack ready")) == 1

    # The Board approves with the condition (recorded by the secretary, who neither prepared nor
    # recommended): the letter is created in that transaction and rendered by the worker.
    approval_decide(
        actor=board.secretary,
        application_id=application.pk,
        body="bsc_pab",
        outcome=Decision.APPROVED_WITH_CONDITIONS,
        rationale="Approved on condition that CoS-17 is re-run.",
        condition_ids=[condition.pk],
    )
    letter = QualificationLetter.objects.get()
    assert letter.generation == GenerationStatus.QUEUED
    run_worker()
    letter.refresh_from_db()
    assert letter.generation == GenerationStatus.READY
    text = pdf_text(stored(letter.file))
    assert f"At its meeting on {meeting.date.day} {meeting.date:%B %Y}" in text
    assert "Supplier" in text and "NLEN" in text and condition.reference in text
    assert len(mails_to(board.chair, "Qualification letter to issue")) == 1

    # The Chair issues it: the participant's people get the PDF attached; Service Activation is told.
    mail.outbox.clear()
    assert signed_in(board.chair).post(f"/pab/letters/{letter.pk}/issue/").status_code == 302
    run_worker()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED
    pdf = stored(letter.file)
    for person in (member, director):
        sent = mails_to(person, f"Your qualification letter: {application.reference}")
        assert len(sent) == 1
        ((filename, content, content_type),) = sent[0].attachments
        assert filename.endswith(".pdf") and content_type == "application/pdf" and content == pdf
    told = mails_to(activation, f"Qualification letter issued: {application.reference}")
    assert len(told) == 1 and not told[0].attachments
