"""Qualification letters: created with a BSC PAB approval, rendered by the job (read back from the
PDF), waiting for the PAB Chair, issued once with the PDF e-mailed to the participant and the
Service Activation team told; who may read them; refusals that change nothing."""

import hashlib

import pytest
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.approvals import letters
from portal.approvals.letters import (
    qualification_letter_create,
    qualification_letter_generate,
    qualification_letter_issue,
    qualification_letter_regenerate,
)
from portal.approvals.models import ApprovalDecision, GenerationStatus, LetterStatus, QualificationLetter
from portal.approvals.paper_selectors import letter_get, letter_list, letters_for
from portal.approvals.tests import test_papers_support as support
from portal.approvals.tests.test_papers_support import Item, decide, inbox, pdf_text, snapshot, stored, workoff_item
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.participants.models import ApprovalBody
from portal.qualification.models import Task
from portal.qualification.services import application_withdraw
from portal.qualification.workflow import Decision

pytestmark = pytest.mark.django_db

agenda_item, board = support.agenda_item, support.board


def letter_of(decision: ApprovalDecision) -> QualificationLetter:
    return QualificationLetter.objects.get(decision=decision)


def generated(letter: QualificationLetter) -> QualificationLetter:
    done = qualification_letter_generate(letter_id=letter.pk)
    assert done is not None
    return done


@pytest.fixture
def approved(agenda_item, board):
    """An application the Board approved with two conditions at its meeting, its letter generated."""
    item: Item = agenda_item()
    conditions = [
        workoff_item(item.application, by=board.analyst, action="Re-run the change of supplier flow CoS-17."),
        workoff_item(item.application, by=board.analyst, action="Close the read rejection defect.", due_days=45),
    ]
    decision = decide(item, board.secretary, conditions=conditions)
    return item, decision, generated(letter_of(decision)), conditions


def test_an_approval_creates_the_letter_and_queues_its_job_in_the_same_transaction(agenda_item, board):
    item = agenda_item()
    jobs = DBTaskResult.objects.count()
    decision = decide(item, board.secretary, outcome=Decision.APPROVED)

    letter = letter_of(decision)
    assert (letter.status, letter.generation, letter.application) == (
        LetterStatus.DRAFT,
        GenerationStatus.QUEUED,
        item.application,
    )
    job = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert job is not None and job.task_path == "portal.approvals.tasks.generate_qualification_letter"
    assert DBTaskResult.objects.count() == jobs + 1
    assert AuditEvent.objects.get(action="qualification_letter.create").after["decision"] == decision.pk
    # Asking again for the same decision gives the same letter.
    assert qualification_letter_create(decision=decision) == letter
    assert QualificationLetter.objects.count() == 1


@pytest.mark.parametrize("outcome", [Decision.DEFERRED, Decision.REJECTED])
def test_only_an_approval_by_the_board_has_a_letter(agenda_item, board, outcome):
    item = agenda_item()
    decision = decide(item, board.secretary, outcome=outcome, letter=False)
    with pytest.raises(InvalidTransition, match="follows an approval"):
        qualification_letter_create(decision=decision)
    rolling = ApprovalDecision(
        application=item.application,
        task=Task.objects.get(application=item.application, code="approval_dip_manager"),
        body=ApprovalBody.DIP_MANAGER,
        outcome=Decision.APPROVED,
    )
    with pytest.raises(InvalidTransition, match="decision of the BSC PAB"):
        qualification_letter_create(decision=rolling)
    assert not QualificationLetter.objects.exists()


def test_the_letter_names_the_organisation_role_mpid_meeting_date_and_conditions(approved, board):
    item, _, letter, conditions = approved

    assert letter.generation == GenerationStatus.READY and letter.status == LetterStatus.DRAFT
    content = stored(letter.file)
    assert letter.sha256 == hashlib.sha256(content).hexdigest() and letter.size == len(content)
    text = pdf_text(content)
    meeting = item.meeting.date
    for expected in (
        "Northern Lights Energy Ltd",
        "Supplier",
        "NLEN",
        f"At its meeting on {meeting.day} {meeting:%B %Y}",
        "approved Northern Lights Energy Ltd as MHHS Qualified",
        "subject to the conditions below",
        conditions[0].reference,
        "Re-run the change of supplier flow CoS-17.",
        conditions[1].reference,
        "Close the read rejection defect.",
        "Chair, BSC Performance Assurance Board",
        f"{item.application.reference}/L{letter.pk}",
    ):
        assert expected in text, expected
    told = inbox(board.chair, "Qualification letter to issue")
    assert len(told) == 1 and told[0].link == f"/pab/letters/{letter.pk}/"
    assert AuditEvent.objects.get(action="qualification_letter.generate").after["conditions"] == [
        c.reference for c in conditions
    ]


def test_a_letter_without_conditions_says_none(agenda_item, board):
    item = agenda_item()
    letter = generated(letter_of(decide(item, board.secretary, outcome=Decision.APPROVED)))
    text = pdf_text(stored(letter.file))
    assert "as MHHS Qualified for the market role of Supplier (SUP) under Market Participant ID NLEN." in text
    assert "condition" not in text.lower()


def test_the_chair_issues_the_letter_and_the_participant_gets_it_attached(approved, board, member, director, staff):
    _, _, letter, _ = approved
    activation = staff(Role.SERVICE_ACTIVATION)

    issued = qualification_letter_issue(actor=board.chair, letter_id=letter.pk)

    assert issued.status == LetterStatus.ISSUED and issued.issued_by == board.chair and issued.issued_at
    event = AuditEvent.objects.get(action="qualification_letter.issue")
    assert event.actor == board.chair and event.after["sha256"] == letter.sha256
    for person in (member, director):
        told = inbox(person, "Your qualification letter")
        assert len(told) == 1
        assert "at its meeting on" in told[0].body and "MHHS Qualified for Supplier under MPID NLEN" in told[0].body
        assert told[0].attachments == [
            {
                "filename": letters.letter_file_name(letter),
                "content_type": "application/pdf",
                "storage_name": letter.file.name,
            }
        ]
    for person in (activation, board.secretary):
        told = inbox(person, "Qualification letter issued")
        assert len(told) == 1 and told[0].attachments == []
    assert not inbox(board.chair, "Qualification letter issued")

    before = snapshot()
    with pytest.raises(InvalidTransition, match="was issued on"):
        qualification_letter_issue(actor=board.chair, letter_id=letter.pk)
    with pytest.raises(InvalidTransition, match="is issued: it cannot change"):
        qualification_letter_regenerate(actor=board.chair, letter_id=letter.pk)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.PAB_SECRETARY, Role.PAB_MEMBER, Role.ELEXON_ANALYST, Role.ADMINISTRATOR])
def test_only_the_chair_issues(approved, staff, role):
    _, _, letter, _ = approved
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the PAB Chair"):
        qualification_letter_issue(actor=staff(role), letter_id=letter.pk)
    assert snapshot() == before


def test_a_draft_letter_is_not_found_for_the_participant_and_outsiders(approved, member, other_member, staff):
    _, _, letter, _ = approved
    before = snapshot()
    for person in (member, other_member, staff(Role.SERVICE_ACTIVATION), staff(Role.TESTING_ASSURANCE)):
        with pytest.raises(NotFound):
            letter_get(user=person, letter_id=letter.pk)
        with pytest.raises(NotFound):
            qualification_letter_issue(actor=person, letter_id=letter.pk)
        with pytest.raises(NotFound):
            qualification_letter_regenerate(actor=person, letter_id=letter.pk)
        assert not letters_for(user=person).exists()
    with pytest.raises(NotFound):
        qualification_letter_issue(actor=staff(Role.PAB_CHAIR), letter_id=10**9)
    assert snapshot() == before


def test_an_issued_letter_is_read_by_its_participant_and_service_activation_only(
    approved, board, member, other_member, staff
):
    _, _, letter, _ = approved
    qualification_letter_issue(actor=board.chair, letter_id=letter.pk)
    for person in (member, staff(Role.SERVICE_ACTIVATION), board.member):
        assert letter_get(user=person, letter_id=letter.pk) == letter
    with pytest.raises(NotFound):
        letter_get(user=other_member, letter_id=letter.pk)
    with pytest.raises(NotFound):
        letter_get(user=staff(Role.DIP_MANAGER), letter_id=letter.pk)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        qualification_letter_issue(actor=member, letter_id=letter.pk)
    assert snapshot() == before


def test_the_chairs_list_shows_letters_waiting_then_issued(approved, board, agenda_item):
    _, _, letter, _ = approved
    other = agenda_item(market_role="ADS")
    queued = letter_of(decide(other, board.secretary, outcome=Decision.APPROVED))

    listing = letter_list(user=board.chair)
    assert listing.waiting == [letter, queued] and listing.issued == [] and listing.can_issue
    qualification_letter_issue(actor=board.chair, letter_id=letter.pk)
    listing = letter_list(user=board.chair)
    assert listing.waiting == [queued] and listing.issued == [letter]
    assert letter_list(user=board.chair, status="issued").waiting == []
    assert not letter_list(user=board.secretary).can_issue and letter_list(user=board.secretary).can_regenerate


def test_a_letter_still_generating_or_failed_cannot_be_issued(agenda_item, board, monkeypatch):
    item = agenda_item()
    letter = letter_of(decide(item, board.secretary, outcome=Decision.APPROVED))
    before = snapshot()
    with pytest.raises(InvalidTransition, match="still being generated"):
        qualification_letter_issue(actor=board.chair, letter_id=letter.pk)
    with pytest.raises(Conflict, match="being generated already"):
        qualification_letter_regenerate(actor=board.secretary, letter_id=letter.pk)
    assert snapshot() == before

    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(letters, "render_pdf", broken)
    failed = generated(letter)
    assert failed.generation == GenerationStatus.FAILED and "could not be generated" in failed.error
    for person in (board.chair, board.secretary):
        assert len(inbox(person, "Qualification letter failed")) == 1
    with pytest.raises(InvalidTransition, match="could not be generated"):
        qualification_letter_issue(actor=board.chair, letter_id=letter.pk)

    monkeypatch.undo()
    again = qualification_letter_regenerate(actor=board.secretary, letter_id=letter.pk)
    assert again.generation == GenerationStatus.QUEUED and not again.file
    assert AuditEvent.objects.filter(action="qualification_letter.regenerate").count() == 1
    ready = generated(again)
    assert ready.generation == GenerationStatus.READY
    assert qualification_letter_issue(actor=board.chair, letter_id=letter.pk).status == LetterStatus.ISSUED


def test_a_regenerated_letter_is_a_new_file(approved, board):
    _, _, letter, _ = approved
    old_name = letter.file.name
    fresh = generated(qualification_letter_regenerate(actor=board.chair, letter_id=letter.pk))
    assert fresh.file.name != old_name and fresh.generation == GenerationStatus.READY


def test_the_letter_of_a_withdrawn_application_is_not_issued(approved, board, member):
    item, _, letter, _ = approved
    application_withdraw(actor=member, application_id=item.application.pk, reason="We are leaving the market.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        qualification_letter_issue(actor=board.chair, letter_id=letter.pk)
    assert snapshot() == before


def test_a_job_delivered_twice_renders_once(approved):
    _, _, letter, _ = approved
    events = AuditEvent.objects.count()
    assert generated(letter).file.name == letter.file.name
    assert AuditEvent.objects.count() == events
    assert Notification.objects.filter(subject__startswith="Qualification letter to issue").count() == 1
    assert qualification_letter_generate(letter_id=10**9) is None
