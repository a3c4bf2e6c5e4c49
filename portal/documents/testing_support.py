"""Completing a QAD and signing it with the real services, for tests and the demo data.

Once the QAD's guards are registered, the generic "submit" of an Initial or Final QAD needs a
complete draft, and the generic "sign" needs a signature made with the signer's password. These
helpers do what a participant and a Director do in the portal: answer every question (attaching one
evidence file wherever evidence is expected), submit through the task's own action, and sign with
the password. Nothing here bypasses a rule.

`qad_journey_step` fits a loop that walks an application forward (`qualification.journey`): for the
steps that need QAD content it does them and returns the task; for any other step it returns None
and the caller takes the generic action.
"""

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.documents.models import DirectorSignature, QadSubmission
from portal.documents.selectors import declaration_current, qad_answers, template_questions
from portal.documents.services import AnswerChange, qad_answers_save, qad_sign, qad_submit, qad_version_start
from portal.documents.workflow import KIND_FOR_TASK, SIGNOFF_TASK, QadKind
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Action

EVIDENCE_NAME = "qad-evidence-pack.txt"


def _evidence_upload(application: Application, kind: str) -> SimpleUploadedFile:
    text = (
        f"Evidence pack for the {QadKind(kind).label} of {application.reference} "
        f"({application.mpid.code} as {application.market_role.name}).\n"
    )
    return SimpleUploadedFile(EVIDENCE_NAME, text.encode(), content_type="text/plain")


def qad_complete_answers(*, actor: Any, application: Application, kind: str, text: str = "") -> QadSubmission:
    """Answer every question the application's role group answers that the draft has not answered,
    and attach one evidence file (uploaded once) wherever evidence is expected and missing."""
    # The draft: the existing one, or a new version copied from the last (the first Final QAD from the
    # Initial QAD), so that what was written before is kept.
    draft = qad_version_start(actor=actor, application_id=application.pk, kind=kind)
    existing = {a.question.number: a for a in qad_answers(draft).values()}
    questions = template_questions(draft.template, role_group_id=application.market_role.role_group_id)
    evidence_id: int | None = None
    for held in existing.values():
        for evidence in held.evidence.all():
            evidence_id = evidence.pk
    changes: list[AnswerChange] = []
    uploaded = False
    for question in questions:
        answer = existing.get(question.number)
        needs_text = answer is None or not answer.text.strip()
        needs_evidence = question.evidence_expected and (answer is None or not answer.evidence.all())
        if not needs_text and not needs_evidence:
            continue
        new_text = (text or f"Answer to {question.number} for {application.reference}.") if needs_text else None
        uploads: list[Any] = []
        attach: list[int] = []
        if needs_evidence:
            if evidence_id is not None:
                attach = [evidence_id]
            elif not uploaded:
                uploads = [_evidence_upload(application, kind)]
                uploaded = True
        changes.append(AnswerChange(question.number, new_text, uploads, attach))
    if not changes:
        return draft
    draft = qad_answers_save(actor=actor, application_id=application.pk, kind=kind, changes=changes)
    if uploaded:
        # The file uploaded above now exists: attach it to every other answer that expects evidence.
        answers = {a.question.number: a for a in qad_answers(draft).values()}
        evidence_id = next(e.pk for a in answers.values() for e in a.evidence.all())
        missing = [
            AnswerChange(q.number, attach_evidence_ids=[evidence_id])
            for q in questions
            if q.evidence_expected and not answers[q.number].evidence.all()
        ]
        if missing:
            draft = qad_answers_save(actor=actor, application_id=application.pk, kind=kind, changes=missing)
    return draft


def qad_complete_and_submit(
    *, actor: Any, application: Application, kind: str, comment: str = "Submitted for review."
) -> Task:
    """Answer what is missing and submit the QAD through its task's own "submit" action."""
    qad_complete_answers(actor=actor, application=application, kind=kind)
    return qad_submit(actor=actor, application_id=application.pk, kind=kind, comment=comment)


def current_otp_code(user: Any) -> str:
    """For journeys and tests only: the current code of the user's authenticator app, read from its
    stored secret, as the signer's phone would show it. Journeys sign many times within the 30 seconds
    a code lasts, so the code's single-use marker is cleared first (single use is tested in
    portal/accounts/tests)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.utils import decrypt
    from django.core.cache import cache

    from portal.accounts.mfa import totp_code

    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return ""
    code = totp_code(decrypt(authenticator.data["secret"]))
    cache.delete(TOTP(authenticator)._get_used_cache_key(code))
    return code


def qad_sign_final(*, actor: Any, application: Application, password: str, otp_code: str = "") -> DirectorSignature:
    """Sign the agreed Final QAD under the current declaration, as `actor`, with their password (and the
    current code of their authenticator app, when they have one and `otp_code` is not given)."""
    otp_code = otp_code or current_otp_code(actor)
    return qad_sign(
        actor=actor,
        application_id=application.pk,
        password=password,
        declaration_version=declaration_current().version,
        otp_code=otp_code,
    )


def qad_prepare_step(*, application: Application, task_code: str, action: str, actor: Any, **_: Any) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before a QAD is submitted, every
    question is answered (with evidence where expected). Anything else is left alone. Signing cannot be
    prepared this way (it needs the signer's password): see `qad_journey_step`."""
    if task_code in KIND_FOR_TASK and action == Action.SUBMIT:
        qad_complete_answers(actor=actor, application=application, kind=KIND_FOR_TASK[task_code])


def qad_journey_step(
    *, actor: Any, application: Application, task_code: str, action: str, password: str, comment: str = ""
) -> Task | None:
    """Take a step that needs QAD content (submitting a QAD, signing the Final QAD) and return the
    task; return None for any other step, which the caller takes with the generic action."""
    if task_code in KIND_FOR_TASK and action == Action.SUBMIT:
        return qad_complete_and_submit(
            actor=actor,
            application=application,
            kind=KIND_FOR_TASK[task_code],
            comment=comment or "Submitted for review.",
        )
    if task_code == SIGNOFF_TASK and action == Action.SIGN:
        qad_sign_final(actor=actor, application=application, password=password)
        return Task.objects.get(application=application, code=SIGNOFF_TASK)
    return None


def qad_sign_step(*, application: Application, task_code: str, action: str, actor: Any, password: str) -> bool:
    """For the journey helper: sign the Final QAD with the signer's password (the generic sign action
    is refused without a signature). Answers False for every other step."""
    if task_code == SIGNOFF_TASK and action == Action.SIGN:
        qad_sign_final(actor=actor, application=application, password=password)
        return True
    return False
