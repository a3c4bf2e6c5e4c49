"""Qualification letters: the letter that follows an approval by the BSC PAB.

1. `qualification_letter_create(decision=…)` is called by the decision service, inside its
   transaction, when the Board approves (with or without conditions) at a meeting: it creates the
   letter, waiting for the PAB Chair, and enqueues the job that renders its PDF.
2. The job (`qualification_letter_generate`) renders the letter from `approvals/letter_pdf.html`:
   addressed to the organisation, it says that the Board, at its meeting of that date, approved the
   organisation as MHHS Qualified in the market role under the MPID, with the conditions (the agreed
   work-off items the decision names), for the Chair. The Chair is told it is waiting.
3. The Chair reads it and issues it (`qualification_letter_issue`): the participant's people are sent
   it by e-mail, the PDF attached, and the Service Activation team is told. An issued letter never
   changes; a draft can be generated again (`qualification_letter_regenerate`), for instance after a
   failure.
"""

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from portal.accounts.roles import Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.approvals.deadlines import long_date
from portal.approvals.models import ApprovalDecision, GenerationStatus, LetterStatus, QualificationLetter
from portal.approvals.paper_selectors import (
    LETTER_NOT_FOUND,
    issues_letters,
    letter_scope_for,
    regenerates_letters,
)
from portal.approvals.pdf import PDF_CONTENT_TYPE, download_name, render_pdf
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.services import MailAttachment, notify
from portal.participants.models import ApprovalBody
from portal.qualification.workflow import Decision
from portal.workoff.models import WorkOffItem

logger = logging.getLogger(__name__)

GENERATION_FAILED = "The letter could not be generated because of an unexpected error. Generate it again."


def letter_link(letter_id: int) -> str:
    return f"/pab/letters/{letter_id}/"


def letter_reference(letter: QualificationLetter) -> str:
    return f"{letter.application.reference}/L{letter.pk}"


def letter_file_name(letter: QualificationLetter) -> str:
    application = letter.application
    return download_name(
        f"MHHS qualification letter {application.reference} {application.mpid.code} {application.market_role.code}.pdf"
    )


# --- creating the letter with the decision ----------------------------------------------------------------


def qualification_letter_create(*, decision: ApprovalDecision) -> QualificationLetter:
    """The qualification letter of a BSC PAB approval, waiting for the PAB Chair, and the job that
    renders its PDF. For the decision service to call inside its transaction (the job is enqueued in
    that transaction, so a rolled-back decision leaves no letter and no job). Calling it again for the
    same decision returns the same letter."""
    if decision.body != ApprovalBody.BSC_PAB or decision.meeting_id is None:
        raise InvalidTransition("A qualification letter follows a decision of the BSC PAB at one of its meetings.")
    if not decision.is_approving:
        raise InvalidTransition(
            f"A qualification letter follows an approval; the BSC PAB's decision was "
            f"{Decision(decision.outcome).label.lower()}."
        )
    with transaction.atomic():
        existing = QualificationLetter.objects.filter(decision=decision).first()
        if existing is not None:
            return existing
        application = decision.application
        letter = QualificationLetter.objects.create(decision=decision, application=application)
        audit_record(
            actor=decision.recorded_by,
            action="qualification_letter.create",
            target=letter,
            summary=f"Qualification letter for {application.reference} to be generated, for the PAB Chair to issue",
            after={"decision": decision.pk, "outcome": decision.outcome, "meeting": decision.meeting_id},
            organisation_id=application.organisation_id,
            application_id=application.pk,
        )
        from portal.approvals.tasks import generate_qualification_letter

        generate_qualification_letter.enqueue(letter.pk)
    return letter


# --- the letter's content -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterData:
    letter: QualificationLetter
    reference: str
    dated: datetime.date
    meeting_date: datetime.date
    conditions: list[WorkOffItem]

    @property
    def application(self) -> Any:
        return self.letter.application

    @property
    def with_conditions(self) -> bool:
        return bool(self.conditions) or self.letter.decision.outcome == Decision.APPROVED_WITH_CONDITIONS


def _letter_for_job(letter_id: int) -> QualificationLetter | None:
    return (
        QualificationLetter.objects.select_related(
            "application__organisation",
            "application__mpid",
            "application__market_role",
            "decision__meeting",
            "decision__recorded_by",
        )
        .filter(pk=letter_id)
        .first()
    )


def letter_data(letter: QualificationLetter) -> LetterData:
    decision = letter.decision
    assert decision.meeting is not None
    conditions = list(decision.conditions.select_related("case", "defect").order_by("number"))
    return LetterData(
        letter=letter,
        reference=letter_reference(letter),
        dated=decision.decided_on,
        meeting_date=decision.meeting.date,
        conditions=conditions,
    )


def letter_html(data: LetterData) -> str:
    return render_to_string("approvals/letter_pdf.html", {"data": data, "application": data.application})


# --- generating the PDF -----------------------------------------------------------------------------------------


def qualification_letter_generate(*, letter_id: int) -> QualificationLetter | None:
    """Render a queued letter's PDF (the worker runs this) and store it with its SHA-256 and size; the
    PAB Chair is told it is waiting. A failure is recorded on the letter, and the Chair and the
    secretary told, rather than leaving it queued for ever."""
    letter = _letter_for_job(letter_id)
    if letter is None or letter.generation != GenerationStatus.QUEUED:
        return letter
    try:
        data = letter_data(letter)
        rendered = render_pdf(letter_html(data))
    except Exception as exc:
        logger.exception("Qualification letter %s could not be generated", letter_id)
        return _letter_failed(letter, exc)
    application = letter.application
    with transaction.atomic():
        locked = QualificationLetter.objects.select_for_update().filter(pk=letter_id).first()
        if locked is None or locked.generation != GenerationStatus.QUEUED:
            return locked
        locked.file.save(letter_file_name(letter), ContentFile(rendered.content), save=False)
        locked.sha256 = rendered.sha256
        locked.size = rendered.size
        locked.generated_at = timezone.now()
        locked.generation = GenerationStatus.READY
        locked.error = ""
        locked.save()
        audit_record(
            actor=letter.decision.recorded_by,
            action="qualification_letter.generate",
            target=locked,
            summary=f"Qualification letter for {application.reference} generated",
            after={
                "sha256": locked.sha256,
                "size": locked.size,
                "pages": rendered.page_count,
                "conditions": [item.reference for item in data.conditions],
            },
            organisation_id=application.organisation_id,
            application_id=application.pk,
        )
        notify(
            recipients=users_with_roles({Role.PAB_CHAIR}),
            subject=f"Qualification letter to issue: {application.reference}",
            body=f"The BSC PAB approved {application.organisation.name} ({application.mpid.code} as "
            f"{application.market_role.name}) at its meeting on {long_date(data.meeting_date)}. The qualification "
            "letter is ready for you to read and issue.",
            link=letter_link(locked.pk),
            application=application,
        )
    return locked


def _letter_failed(letter: QualificationLetter, exc: Exception) -> QualificationLetter | None:
    application = letter.application
    with transaction.atomic():
        locked = QualificationLetter.objects.select_for_update().filter(pk=letter.pk).first()
        if locked is None or locked.generation != GenerationStatus.QUEUED:
            return locked
        locked.generation = GenerationStatus.FAILED
        locked.error = GENERATION_FAILED
        locked.save(update_fields=["generation", "error"])
        audit_record(
            actor=letter.decision.recorded_by,
            action="qualification_letter.fail",
            target=locked,
            summary=f"Qualification letter for {application.reference} could not be generated",
            after={"error": type(exc).__name__},
            organisation_id=application.organisation_id,
            application_id=application.pk,
        )
        notify(
            recipients=users_with_roles({Role.PAB_CHAIR, Role.PAB_SECRETARY}),
            subject=f"Qualification letter failed: {application.reference}",
            body=f"The qualification letter for {application.reference} could not be generated. Generate it again "
            "from the letter's page.",
            link=letter_link(locked.pk),
            application=application,
        )
        return locked


# --- the Chair's actions ------------------------------------------------------------------------------------------


def _lock_letter(actor: Any, letter_id: int) -> QualificationLetter:
    """The letter, locked, when the actor may read it; else NotFound (the same as a missing one)."""
    if not letter_scope_for(actor).filter(pk=letter_id).exists():
        raise NotFound(LETTER_NOT_FOUND)
    QualificationLetter.objects.select_for_update().filter(pk=letter_id).first()
    letter = _letter_for_job(letter_id)
    assert letter is not None
    return letter


@transaction.atomic
def qualification_letter_issue(*, actor: Any, letter_id: int) -> QualificationLetter:
    """The PAB Chair issues a generated letter. The participant's people are sent it by e-mail (the PDF
    attached), and the Service Activation team and the PAB secretary are told. Issued once."""
    letter = _lock_letter(actor, letter_id)
    if not issues_letters(actor):
        raise PermissionDenied("Only the PAB Chair can issue a qualification letter.")
    application = letter.application
    if letter.status == LetterStatus.ISSUED:
        assert letter.issued_at is not None
        raise InvalidTransition(
            f"The qualification letter for {application.reference} was issued on "
            f"{long_date(timezone.localdate(letter.issued_at))}."
        )
    if letter.generation == GenerationStatus.QUEUED:
        raise InvalidTransition(
            f"The qualification letter for {application.reference} is still being generated; read it before issuing it."
        )
    if letter.generation == GenerationStatus.FAILED:
        raise InvalidTransition(
            f"The qualification letter for {application.reference} could not be generated: generate it again, read it, "
            "then issue it."
        )
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: "
            "its letter can no longer be issued."
        )
    now = timezone.now()
    letter.status = LetterStatus.ISSUED
    letter.issued_by = actor
    letter.issued_at = now
    letter.save(update_fields=["status", "issued_by", "issued_at"])
    meeting_date = letter.decision.meeting.date if letter.decision.meeting else letter.decision.decided_on
    audit_record(
        actor=actor,
        action="qualification_letter.issue",
        target=letter,
        summary=f"Qualification letter for {application.reference} issued by the PAB Chair",
        before={"status": LetterStatus.DRAFT.value},
        after={"status": LetterStatus.ISSUED.value, "sha256": letter.sha256, "issued_at": now.isoformat()},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    what = (
        f"the BSC PAB, at its meeting on {long_date(meeting_date)}, approved {application.organisation.name} as MHHS "
        f"Qualified for {application.market_role.name} under MPID {application.mpid.code}"
        + (" with conditions" if letter.decision.outcome == Decision.APPROVED_WITH_CONDITIONS else "")
    )
    _tell_participant(letter, actor=actor, what=what)
    notify(
        recipients=users_with_roles({Role.SERVICE_ACTIVATION, Role.PAB_SECRETARY}),
        subject=f"Qualification letter issued: {application.reference}",
        body=f"{_name(actor)} issued the qualification letter for {application.reference}: {what}.",
        link=letter_link(letter.pk),
        application=application,
        exclude=actor,
    )
    return letter


def _tell_participant(letter: QualificationLetter, *, actor: Any, what: str) -> None:
    application = letter.application
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Your qualification letter: {application.reference}",
        body=f"The PAB Chair has issued your qualification letter: {what}. The letter is attached, and you "
        "can download it from the portal.",
        link=letter_link(letter.pk),
        application=application,
        exclude=actor,
        attachments=[
            MailAttachment(
                filename=letter_file_name(letter), content_type=PDF_CONTENT_TYPE, storage_name=letter.file.name
            )
        ],
    )


@transaction.atomic
def qualification_letter_regenerate(*, actor: Any, letter_id: int) -> QualificationLetter:
    """The PAB Chair or secretary has a letter not yet issued generated again (after a failure, say):
    a new file; the old one stays in the storage."""
    letter = _lock_letter(actor, letter_id)
    if not regenerates_letters(actor):
        raise PermissionDenied(
            "Only the PAB Chair or the PAB secretary can have a qualification letter generated again."
        )
    application = letter.application
    if letter.status == LetterStatus.ISSUED:
        raise InvalidTransition(f"The qualification letter for {application.reference} is issued: it cannot change.")
    if letter.generation == GenerationStatus.QUEUED:
        raise Conflict(f"The qualification letter for {application.reference} is being generated already.")
    before = {"generation": letter.generation, "sha256": letter.sha256}
    letter.generation = GenerationStatus.QUEUED
    letter.file = ""
    letter.sha256 = ""
    letter.size = 0
    letter.generated_at = None
    letter.error = ""
    letter.save(update_fields=["generation", "file", "sha256", "size", "generated_at", "error"])
    audit_record(
        actor=actor,
        action="qualification_letter.regenerate",
        target=letter,
        summary=f"Qualification letter for {application.reference} to be generated again",
        before=before,
        after={"generation": GenerationStatus.QUEUED.value},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    from portal.approvals.tasks import generate_qualification_letter

    generate_qualification_letter.enqueue(letter.pk)
    return letter


def _name(user: Any) -> str:
    return str(getattr(user, "display_name", None) or getattr(user, "email", "someone"))
