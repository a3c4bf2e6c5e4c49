"""Storing and serving evidence files."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.accounts.selectors import (
    organisation_users,
    user_is_director_of,
    user_organisation_ids,
    user_roles,
    users_with_roles,
)
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.evidence import check_evidence_file
from portal.documents.models import (
    Clarification,
    ClarificationMessage,
    Declaration,
    DirectorSignature,
    EvidenceFile,
    QadAnswer,
    QadQuestion,
    QadReviewHold,
    QadSubmission,
    QadTemplate,
    SigningDelegate,
)
from portal.documents.permissions import (
    can_edit_qad,
    can_manage_delegates,
    can_read_qad,
    can_reopen_final_qad,
    can_review_any_question,
    can_review_question,
    can_sign_final_qad,
    is_signing_delegate,
)
from portal.documents.selectors import (
    declaration_current,
    evidence_scope_for,
    qad_answers,
    qad_latest_submitted,
    qad_missing,
    qad_task,
    signature_valid,
    signoff_task,
    template_active,
    template_questions,
)
from portal.documents.signers import signs_as_delegate
from portal.documents.signing import (
    SignatureCheck,
    content_digest,
    manifest_build,
    manifest_seal,
    sha256_text,
    signature_check,
)
from portal.documents.template_data import template_activate_row, template_parse, template_store
from portal.documents.workflow import (
    EDITABLE_TASK_STATES,
    KIND_FOR_TASK,
    SIGNATURE_FRESH_SECONDS,
    SIGNOFF_TASK,
    TASK_FOR_KIND,
    UNRESOLVED,
    ClarificationAction,
    ClarificationParty,
    ClarificationStatus,
    QadKind,
    ReviewHolder,
    SignatureStatus,
    SignedAs,
    SubmissionStatus,
    clarification_transition,
    review_holder,
)
from portal.notifications.services import notify
from portal.participants.models import Organisation, RoleGroup
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for
from portal.qualification.services import application_lock, task_reopen, task_start_on_first_work, task_transition
from portal.qualification.workflow import Action, TaskState


@transaction.atomic
def evidence_store(*, actor: Any, application: Any, upload: Any, purpose: str = "") -> EvidenceFile:
    """Check one uploaded file and store it under a server-generated name.

    The caller has already decided that `actor` may add evidence to `application`; a file that breaks
    a rule raises InvalidInput naming the rule, and nothing is stored."""
    checked = check_evidence_file(upload)
    evidence = EvidenceFile(
        organisation_id=application.organisation_id,
        application=application,
        original_name=checked.name,
        file_type=checked.file_type,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        purpose=purpose[:60],
    )
    upload.seek(0)
    evidence.file.save(checked.name, upload, save=False)
    evidence.save(force_insert=True)
    audit_record(
        actor=actor,
        action="evidence.upload",
        target=evidence,
        summary=f"Uploaded {checked.name} ({checked.size} bytes) to {application.reference}",
        after={"name": checked.name, "sha256": checked.sha256, "size": checked.size, "purpose": purpose},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return evidence


@transaction.atomic
def evidence_open_for_download(*, actor: Any, evidence_id: int) -> EvidenceFile:
    """The evidence file if the actor may see its application (else NotFound); every download by
    someone outside the participant's organisation (a reviewer) is audited."""
    evidence = evidence_scope_for(actor).select_related("application").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound("No evidence file was found with that reference.")
    if evidence.organisation_id not in user_organisation_ids(actor):
        audit_record(
            actor=actor,
            action="evidence.download",
            target=evidence,
            summary=f"Downloaded {evidence.original_name} from {evidence.application.reference}",
            after={"sha256": evidence.sha256},
            organisation_id=evidence.organisation_id,
            application_id=evidence.application_id,
        )
    return evidence


# === The QAD ======================================================================================
#
# Every write below locks the application row first (as the task transitions do), so that answers,
# versions, clarifications and signatures of one application change one request at a time.

MAX_ANSWER_LENGTH = 20000
MAX_MESSAGE_LENGTH = 5000
MAX_CHANGES_PER_SAVE = 500
MAX_EVIDENCE_PER_ANSWER = 20
MAX_PASSWORD_FAILURES = 5
PASSWORD_FAILURE_WINDOW = 15 * 60


# --- the template and the declaration -----------------------------------------------------------


def _require_administrator(actor: Any, what: str) -> None:
    """`actor` None is the command line, trusted as the system."""
    if actor is not None and Role.ADMINISTRATOR not in user_roles(actor):
        raise PermissionDenied(f"Only an administrator may {what}.")


@transaction.atomic
def qad_template_load(*, actor: Any, content: bytes, activate: bool = True) -> QadTemplate:
    """Check a QAD template file and load it as a new template version; with `activate` it replaces
    the active template (QAD versions already started keep the template they were written on).
    A file with problems raises InvalidInput listing every problem, and nothing is stored."""
    _require_administrator(actor, "load a QAD template")
    codes = set(RoleGroup.objects.values_list("code", flat=True))
    data = template_parse(content, role_group_codes=codes)
    previous = template_active()
    row = template_store(data, loaded_by_id=actor.pk if actor is not None else None, activate=activate)
    audit_record(
        actor=actor,
        action="qad_template.load",
        target=row,
        summary=f"Loaded QAD template v{row.version} ({len(data.sections)} sections, {data.question_count} questions)"
        + (f", replacing v{previous.version}" if activate and previous else ""),
        after={
            "version": row.version,
            "sections": len(data.sections),
            "questions": data.question_count,
            "source_sha256": data.source_sha256,
            "status": row.status,
            "replaced": previous.version if activate and previous else None,
        },
    )
    return row


@transaction.atomic
def qad_template_activate(*, actor: Any, template_id: int) -> QadTemplate:
    _require_administrator(actor, "activate a QAD template")
    row = QadTemplate.objects.select_for_update().filter(pk=template_id).first()
    if row is None:
        raise NotFound("No QAD template was found with that reference.")
    previous = template_active()
    if previous is not None and previous.pk == row.pk:
        return row
    template_activate_row(row)
    audit_record(
        actor=actor,
        action="qad_template.activate",
        target=row,
        summary=f"Activated QAD template v{row.version}" + (f" in place of v{previous.version}" if previous else ""),
        before={"active": previous.version if previous else None},
        after={"active": row.version},
    )
    return row


@transaction.atomic
def declaration_publish(*, actor: Any, text: str) -> Declaration:
    """Publish a new version of the signing declaration. Signatures keep the version they declared."""
    _require_administrator(actor, "publish a declaration")
    text = _clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH)
    if not text:
        raise InvalidInput("Enter the text of the declaration.", details={"field": "text"})
    current = Declaration.objects.select_for_update().filter(is_current=True).first()
    if current is not None and current.text == text:
        raise InvalidInput("The text is the same as the current declaration.", details={"field": "text"})
    latest = Declaration.objects.order_by("-version").first()
    Declaration.objects.filter(is_current=True).update(is_current=False)
    declaration = Declaration.objects.create(
        version=(latest.version + 1) if latest else 1,
        text=text,
        is_current=True,
        created_by=actor if actor is not None else None,
    )
    audit_record(
        actor=actor,
        action="qad_declaration.publish",
        target=declaration,
        summary=f"Published version {declaration.version} of the Final QAD declaration",
        before={"version": current.version if current else None},
        after={"version": declaration.version, "sha256": sha256_text(text)},
    )
    return declaration


# --- versions and answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerChange:
    """A change to one answer of the draft: new text (None leaves it), files to upload, evidence of
    the same application to attach, and evidence to take off the answer."""

    question_number: str
    text: str | None = None
    uploads: Sequence[Any] = ()
    attach_evidence_ids: Sequence[int] = ()
    remove_evidence_ids: Sequence[int] = ()


def _kind(kind: str) -> QadKind:
    try:
        return QadKind(kind)
    except ValueError:
        raise NotFound("There is no such QAD.") from None


def _lock_application(actor: Any, application_id: int) -> Application:
    """Lock the application row, or NotFound when it is missing, not the actor's to see, or its QAD
    is not the actor's to read."""
    application = application_lock(actor=actor, application_id=application_id)
    if not can_read_qad(actor, application):
        raise NotFound("No application was found with that reference.")
    return application


def _lock_qad(actor: Any, application_id: int, kind: str) -> tuple[Application, Task, QadKind]:
    qad_kind = _kind(kind)
    application = _lock_application(actor, application_id)
    return application, qad_task(application, qad_kind), qad_kind


def _check_editable(actor: Any, application: Application, task: Task, kind: QadKind) -> None:
    if not can_edit_qad(actor, application):
        raise PermissionDenied(f"Only members of {application.organisation.name} can write its {kind.label}.")
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state not in EDITABLE_TASK_STATES:
        state = TaskState(task.state)
        why = {
            TaskState.SUBMITTED: "it is with the Code Bodies for review",
            TaskState.COMPLETED: "the Code Bodies have accepted it"
            if kind == QadKind.INITIAL
            else "the Code Bodies have agreed it complete",
            TaskState.NOT_REQUIRED: "it is not required",
        }.get(state, state.label.lower())
        raise InvalidTransition(f"The {kind.label} cannot be changed now: {why}.", details={"state": task.state})


def _draft(application: Application, kind: str, *, lock: bool = False) -> QadSubmission | None:
    qs = QadSubmission.objects.filter(application=application, kind=kind, status=SubmissionStatus.DRAFT)
    if lock:
        qs = qs.select_for_update()
    draft = qs.select_related("template").first()
    if draft is not None:
        draft.application = application
    return draft


def _new_version(actor: Any, application: Application, kind: QadKind) -> QadSubmission:
    """Start the next version of a QAD, copying the answers and evidence of the latest version (for
    the first Final QAD, of the latest submitted Initial QAD) where the active template still has the
    question. Starting a new Final QAD version voids a valid signature."""
    template = template_active()
    if template is None:
        raise InvalidTransition("No QAD template is active; an administrator must load one first.")
    latest = QadSubmission.objects.filter(application=application, kind=kind).order_by("-version").first()
    source = latest
    if source is None and kind == QadKind.FINAL:
        source = qad_latest_submitted(application, QadKind.INITIAL)
    number = latest.version + 1 if latest else 1
    submission = QadSubmission.objects.create(
        application=application,
        kind=kind,
        version=number,
        template=template,
        status=SubmissionStatus.DRAFT,
        copied_from=source,
        created_by=actor,
    )
    submission.application = application
    copied = 0
    if source is not None:
        questions = {q.number: q for q in QadQuestion.objects.filter(template=template)}
        for answer in source.answers.select_related("question").prefetch_related("evidence"):
            question = questions.get(answer.question.number)
            if question is None:
                continue
            copy = QadAnswer.objects.create(
                submission=submission, question=question, text=answer.text, updated_by=actor
            )
            copy.evidence.set(answer.evidence.all())
            copied += 1
    origin = f", copied from {source}" if source is not None else ""
    audit_record(
        actor=actor,
        action="qad.version_start",
        target=submission,
        summary=f"Started version {number} of the {kind.label} of {application.reference}{origin}",
        after={
            "kind": kind.value,
            "version": number,
            "template_version": template.version,
            "copied_from": source.pk if source else None,
            "answers_copied": copied,
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if kind == QadKind.FINAL:
        signature = signature_valid(application)
        if signature is not None:
            _void_signature(
                signature, actor=actor, reason=f"Version {number} of the Final QAD was started.", strict=False
            )
    return submission


@transaction.atomic
def qad_version_start(*, actor: Any, application_id: int, kind: str) -> QadSubmission:
    """The draft the participant edits: the existing one, or a new version copied from the last."""
    application, task, qad_kind = _lock_qad(actor, application_id, kind)
    _check_editable(actor, application, task, qad_kind)
    draft = _draft(application, qad_kind) or _new_version(actor, application, qad_kind)
    task_start_on_first_work(actor=actor, task=task)
    return draft


def _clean_text(value: str | None, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"The {field} must be {limit} characters or fewer.", details={"field": field})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            f"The {field} contains control characters; remove them and try again.", details={"field": field}
        )
    return text


@dataclass
class _PlannedChange:
    question: QadQuestion
    text: str | None
    uploads: list[Any]
    attach: list[EvidenceFile]
    remove_ids: set[int]


@transaction.atomic
def qad_answers_save(*, actor: Any, application_id: int, kind: str, changes: Sequence[AnswerChange]) -> QadSubmission:
    """Save answers to the draft of a QAD (starting a new version if there is no draft). Every change
    is checked before anything is written: an unknown question, text too long, a bad file or evidence
    of another application refuses the whole save, and nothing is stored."""
    application, task, qad_kind = _lock_qad(actor, application_id, kind)
    _check_editable(actor, application, task, qad_kind)
    if not changes:
        raise InvalidInput("There is nothing to save.", details={"field": "answers"})
    if len(changes) > MAX_CHANGES_PER_SAVE:
        raise InvalidInput(f"Save {MAX_CHANGES_PER_SAVE} answers or fewer at a time.", details={"field": "answers"})
    draft = _draft(application, qad_kind, lock=True)
    template = draft.template if draft is not None else template_active()
    if template is None:
        raise InvalidTransition("No QAD template is active; an administrator must load one first.")
    questions = {q.number: q for q in template_questions(template, role_group_id=application.market_role.role_group_id)}
    current = {a.question.number: a for a in qad_answers(draft).values()} if draft is not None else {}
    planned: list[_PlannedChange] = []
    for change in changes:
        number = (change.question_number or "").strip()
        question = questions.get(number)
        if question is None:
            raise InvalidInput(
                f"“{number[:20]}” is not a question of this QAD for the "
                f"{application.market_role.role_group.name} role.",
                details={"field": "question", "question": number[:20]},
            )
        if any(p.question.pk == question.pk for p in planned):
            raise InvalidInput(f"Question {number} is given twice.", details={"field": "question", "question": number})
        text = None if change.text is None else _clean_text(change.text, field="answer", limit=MAX_ANSWER_LENGTH)
        uploads = list(change.uploads)
        for upload in uploads:
            check_evidence_file(upload)  # raises InvalidInput naming the rule; nothing stored yet
        attach_ids = set(change.attach_evidence_ids)
        attach = list(EvidenceFile.objects.filter(pk__in=attach_ids, application=application))
        if len(attach) != len(attach_ids):
            raise InvalidInput(
                "Evidence can only be attached from this application's own files.",
                details={"field": "evidence", "question": number},
            )
        existing = {e.pk for e in current[number].evidence.all()} if number in current else set()
        remove_ids = set(change.remove_evidence_ids)
        if remove_ids - existing:
            raise InvalidInput(
                f"That evidence is not attached to question {number}.",
                details={"field": "evidence", "question": number},
            )
        if len((existing | attach_ids) - remove_ids) + len(uploads) > MAX_EVIDENCE_PER_ANSWER:
            raise InvalidInput(
                f"An answer can have at most {MAX_EVIDENCE_PER_ANSWER} evidence files.",
                details={"field": "evidence", "question": number},
            )
        planned.append(_PlannedChange(question, text, uploads, attach, remove_ids))

    if draft is None:
        draft = _new_version(actor, application, qad_kind)
        current = {a.question.number: a for a in qad_answers(draft).values()}
    record = []
    for plan in planned:
        answer = current.get(plan.question.number)
        if answer is None:
            answer = QadAnswer(submission=draft, question=plan.question, text="", updated_by=actor)
        before = sha256_text(answer.text) if answer.pk else None
        if plan.text is not None:
            answer.text = plan.text
        answer.updated_by = actor
        answer.save()
        stored = [
            evidence_store(
                actor=actor,
                application=application,
                upload=upload,
                purpose=f"qad:{qad_kind.value}:{plan.question.number}",
            )
            for upload in plan.uploads
        ]
        if stored or plan.attach:
            answer.evidence.add(*stored, *plan.attach)
        if plan.remove_ids:
            answer.evidence.remove(*plan.remove_ids)
        record.append(
            {
                "question": plan.question.number,
                "answer_sha256_before": before,
                "answer_sha256": sha256_text(answer.text),
                "evidence_added": [{"id": e.pk, "sha256": e.sha256} for e in [*stored, *plan.attach]],
                "evidence_removed": sorted(plan.remove_ids),
            }
        )
    audit_record(
        actor=actor,
        action="qad.answers_save",
        target=draft,
        summary=f"Saved {len(record)} answer{'s' if len(record) != 1 else ''} to version {draft.version} "
        f"of the {qad_kind.label} of {application.reference}",
        after={"kind": qad_kind.value, "version": draft.version, "answers": record},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    task_start_on_first_work(actor=actor, task=task)
    return draft


def qad_answer_save(
    *,
    actor: Any,
    application_id: int,
    kind: str,
    question_number: str,
    text: str | None = None,
    uploads: Sequence[Any] = (),
    attach_evidence_ids: Sequence[int] = (),
    remove_evidence_ids: Sequence[int] = (),
) -> QadSubmission:
    """Save one answer of the draft (see `qad_answers_save`)."""
    return qad_answers_save(
        actor=actor,
        application_id=application_id,
        kind=kind,
        changes=[AnswerChange(question_number, text, uploads, attach_evidence_ids, remove_evidence_ids)],
    )


def qad_submit(*, actor: Any, application_id: int, kind: str, comment: str = "") -> Task:
    """Submit the draft for review: the task's own "submit" action, whose guard checks every
    question is answered and whose effect freezes the version."""
    qad_kind = _kind(kind)
    return task_transition(
        actor=actor,
        application_id=application_id,
        task_code=TASK_FOR_KIND[qad_kind],
        action=Action.SUBMIT,
        comment=comment,
    )


# --- guards and effects of the QAD tasks ----------------------------------------------------------


def guard_qad_submit(context: TransitionContext) -> None:
    """Refuse to submit a QAD unless its draft answers every question the role group answers, with
    evidence wherever evidence is expected; say which are missing."""
    kind = QadKind(KIND_FOR_TASK[context.task.code])
    draft = _draft(context.application, kind)
    if draft is None:
        latest = QadSubmission.objects.filter(application=context.application, kind=kind).order_by("-version").first()
        if latest is not None:
            raise InvalidTransition(
                f"Version {latest.version} of the {kind.label} has already been submitted. Start a new version, "
                "make the changes asked for, and submit that."
            )
        raise InvalidInput(f"The {kind.label} has no answers yet: answer its questions before you submit it.")
    missing = qad_missing(draft, role_group_id=context.application.market_role.role_group_id)
    if missing:
        shown = ", ".join(f"{m.number} ({'evidence' if m.what == 'evidence' else 'answer'})" for m in missing[:12])
        more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        raise InvalidInput(
            f"The {kind.label} is not complete: {len(missing)} question{'s' if len(missing) != 1 else ''} "
            f"still need{'s' if len(missing) == 1 else ''} an answer or evidence: {shown}{more}.",
            details={"missing": [{"question": m.number, "missing": m.what} for m in missing]},
        )


def effect_qad_submit(context: TransitionContext) -> None:
    """Freeze the submitted draft; the previously submitted version is superseded; the review clock
    starts in the Code Bodies' hands."""
    kind = QadKind(KIND_FOR_TASK[context.task.code])
    draft = _draft(context.application, kind, lock=True)
    if draft is None:  # the guard has made sure there is one
        return
    now = timezone.now()
    for previous in QadSubmission.objects.select_for_update().filter(
        application=context.application, kind=kind, status=SubmissionStatus.SUBMITTED
    ):
        _record_hold(previous, under_review=False, reason=f"Superseded by version {draft.version}")
        previous.status = SubmissionStatus.SUPERSEDED
        previous.save(update_fields=["status", "updated_at"])
    draft.status = SubmissionStatus.SUBMITTED
    draft.submitted_at = now
    draft.submitted_by = context.actor
    draft.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    _record_hold(draft, under_review=True, reason="Submitted for review")
    audit_record(
        actor=context.actor,
        action="qad.freeze",
        target=draft,
        summary=f"Version {draft.version} of the {kind.label} of {context.application.reference} submitted and frozen",
        after={"kind": kind.value, "version": draft.version, "content_sha256": content_digest(draft)},
        organisation_id=context.application.organisation_id,
        application_id=context.application.pk,
    )


def effect_qad_review_ended(context: TransitionContext) -> None:
    """Changes requested or accepted: the review clock of the submitted version stops."""
    kind = QadKind(KIND_FOR_TASK[context.task.code])
    submission = qad_latest_submitted(context.application, kind)
    if submission is not None:
        reason = "Agreed complete" if context.action == Action.ACCEPT else "Changes requested"
        _record_hold(submission, under_review=False, reason=reason)


def guard_final_qad_accept(context: TransitionContext) -> None:
    """The Final QAD cannot be agreed complete while a clarification on it is unresolved."""
    open_ones = list(
        Clarification.objects.filter(
            submission__application=context.application,
            submission__kind=QadKind.FINAL,
            status__in=[s.value for s in UNRESOLVED],
        )
        .select_related("question")
        .order_by("id")
    )
    if open_ones:
        listed = ", ".join(f"{c.reference} on {c.question.number}" for c in open_ones[:10])
        several = len(open_ones) != 1
        raise InvalidTransition(
            f"The Final QAD cannot be agreed complete while {len(open_ones)} clarification"
            f"{'s are' if several else ' is'} still open ({listed}): close {'them' if several else 'it'} first.",
            details={"open_clarifications": [c.pk for c in open_ones]},
        )


def guard_signoff_sign(context: TransitionContext) -> None:
    """The sign-off is recorded only together with a fresh signature by the same person of the
    current Final QAD version, made by `qad_sign` (which checks the password): the generic action
    on its own is refused."""
    latest = (
        QadSubmission.objects.filter(application=context.application, kind=QadKind.FINAL).order_by("-version").first()
    )
    signature = (
        DirectorSignature.objects.filter(
            application=context.application, signer_id=getattr(context.actor, "pk", None), status=SignatureStatus.VALID
        )
        .order_by("-signed_at")
        .first()
    )
    fresh = (
        signature is not None
        and latest is not None
        and signature.submission_id == latest.pk
        and latest.status == SubmissionStatus.SUBMITTED
        and (timezone.now() - signature.signed_at).total_seconds() <= SIGNATURE_FRESH_SECONDS
    )
    if not fresh:
        raise PermissionDenied(
            "Sign the Final QAD on its sign-off page, where you read the declaration and enter your password "
            "again: the sign-off is recorded only with that signature."
        )


# --- the review clock -----------------------------------------------------------------------------


def _record_hold(submission: QadSubmission, *, under_review: bool, reason: str) -> None:
    """Record who holds the version's review now, if that has changed."""
    states = list(Clarification.objects.filter(submission=submission).values_list("status", flat=True))
    holder = review_holder(under_review=under_review, clarification_states=states)
    last = QadReviewHold.objects.filter(submission=submission).order_by("-at", "-id").first()
    if (last is None and holder == ReviewHolder.NOBODY) or (last is not None and last.holder == holder):
        return
    QadReviewHold.objects.create(submission=submission, holder=holder, at=timezone.now(), reason=reason[:200])


def _under_review(submission: QadSubmission, task: Task) -> bool:
    return submission.status == SubmissionStatus.SUBMITTED and task.state == TaskState.SUBMITTED


# --- clarifications -------------------------------------------------------------------------------


def _clarification_link(application: Application, clarification: Clarification) -> str:
    return f"/applications/{application.pk}/qad/{clarification.submission.kind}/clarifications/{clarification.pk}/"


def _reviewers_of(application: Application, task: Task) -> list[Any]:
    """Active staff who review this QAD task and may see the application."""
    names = {Role(name) for name in task.definition.assurer_roles} - PARTICIPANT_ROLES
    return [u for u in users_with_roles(names) if application_scope_for(u).filter(pk=application.pk).exists()]


def _describe(application: Application) -> str:
    return (
        f"{application.reference} ({application.organisation.name}, {application.mpid.code} as "
        f"{application.market_role.name})"
    )


@transaction.atomic
def clarification_raise(
    *, actor: Any, application_id: int, kind: str, question_number: str, text: str
) -> Clarification:
    """A reviewer asks the participant about one question of the version under review. The
    organisation, role, section and question number follow from where it is raised."""
    application, task, qad_kind = _lock_qad(actor, application_id, kind)
    if not can_review_any_question(actor, task):
        raise PermissionDenied(
            "Only the Code Bodies, and the DIP Manager on the questions it assesses, raise clarifications."
        )
    submission = qad_latest_submitted(application, qad_kind)
    if submission is None or not _under_review(submission, task) or application.is_closed:
        raise InvalidTransition(
            f"Clarifications can be raised only while a version of the {qad_kind.label} is under review."
        )
    number = (question_number or "").strip()
    question = next(
        (
            q
            for q in template_questions(submission.template, role_group_id=application.market_role.role_group_id)
            if q.number == number
        ),
        None,
    )
    if question is None:
        raise InvalidInput(
            f"“{number[:20]}” is not a question of version {submission.version} of this {qad_kind.label}.",
            details={"field": "question"},
        )
    if not can_review_question(actor, task, question):
        raise PermissionDenied(
            f"Question {number} is not assessed by the DIP Manager: the Code Bodies raise clarifications on it."
        )
    text = _clean_text(text, field="question", limit=MAX_MESSAGE_LENGTH)
    if not text:
        raise InvalidInput("Enter what you need the participant to clarify.", details={"field": "text"})
    clarification = Clarification.objects.create(
        submission=submission, question=question, status=ClarificationStatus.OPEN, raised_by=actor
    )
    ClarificationMessage.objects.create(
        clarification=clarification, author=actor, action=ClarificationAction.RAISE, from_participant=False, text=text
    )
    _record_hold(submission, under_review=True, reason=f"Clarification {clarification.reference} raised on {number}")
    audit_record(
        actor=actor,
        action="clarification.raise",
        target=clarification,
        summary=f"Clarification {clarification.reference} raised on question {number} of the {qad_kind.label} "
        f"v{submission.version} of {application.reference}",
        after={"kind": qad_kind.value, "version": submission.version, "question": number, "text": text},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Clarification needed on {qad_kind.label} question {number}: {application.reference}",
        body=f"{_actor_name(actor)} asks for a clarification on question {number} (section "
        f"{question.section.number}) of version {submission.version} of the {qad_kind.label} of "
        f"{_describe(application)}.\n\n{text}\n\nThe review waits for your answer.",
        link=_clarification_link(application, clarification),
        application=application,
        exclude=actor,
    )
    return clarification


def _clarification_locked(actor: Any, clarification_id: int) -> tuple[Clarification, Application, Task]:
    found = (
        Clarification.objects.filter(pk=clarification_id).values_list("submission__application_id", flat=True).first()
    )
    if found is None:
        raise NotFound("No clarification was found with that reference.")
    application = _lock_application(actor, found)
    clarification = (
        Clarification.objects.select_for_update()
        .select_related("submission__template", "question__section", "raised_by")
        .get(pk=clarification_id)
    )
    clarification.submission.application = application
    return clarification, application, qad_task(application, clarification.submission.kind)


_CLARIFICATION_PAST = {
    ClarificationAction.ANSWER: "answered",
    ClarificationAction.REPLY: "replied to",
    ClarificationAction.CLOSE: "closed",
}


@transaction.atomic
def clarification_act(*, actor: Any, clarification_id: int, action: str, text: str = "") -> Clarification:
    """Answer (the participant), reply to an answer or close (a reviewer). See `workflow.py`."""
    transition = clarification_transition(action)
    if transition is None or transition.action == ClarificationAction.RAISE:
        raise InvalidTransition(f"“{str(action)[:30]}” is not an action on a clarification.")
    clarification, application, task = _clarification_locked(actor, clarification_id)
    if transition.party == ClarificationParty.PARTICIPANT:
        if not can_edit_qad(actor, application):
            raise PermissionDenied(f"Only members of {application.organisation.name} answer its clarifications.")
    elif not can_review_question(actor, task, clarification.question):
        raise PermissionDenied(
            "Only the Code Bodies, and the DIP Manager on the questions it assesses, reply to or close clarifications."
        )
    status = ClarificationStatus(clarification.status)
    if status not in transition.sources:
        raise InvalidTransition(
            f"Clarification {clarification.reference} is {status.label.lower()}, so it cannot be "
            f"{_CLARIFICATION_PAST[transition.action]} now.",
            details={"status": clarification.status},
        )
    text = _clean_text(text, field="text", limit=MAX_MESSAGE_LENGTH)
    if not text and transition.action != ClarificationAction.CLOSE:
        raise InvalidInput(
            "Enter your answer." if transition.action == ClarificationAction.ANSWER else "Enter your reply.",
            details={"field": "text"},
        )
    before = clarification.status
    clarification.status = transition.target
    if transition.target == ClarificationStatus.CLOSED:
        clarification.closed_by = actor
        clarification.closed_at = timezone.now()
    clarification.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    ClarificationMessage.objects.create(
        clarification=clarification,
        author=actor,
        action=transition.action,
        from_participant=transition.party == ClarificationParty.PARTICIPANT,
        text=text,
    )
    submission = clarification.submission
    number = clarification.question.number
    past = _CLARIFICATION_PAST[transition.action]
    _record_hold(
        submission,
        under_review=_under_review(submission, task),
        reason=f"Clarification {clarification.reference} {past}",
    )
    kind_label = QadKind(submission.kind).label
    audit_record(
        actor=actor,
        action=f"clarification.{transition.action}",
        target=clarification,
        summary=f"Clarification {clarification.reference} on question {number} of the {kind_label} of "
        f"{application.reference} {past}",
        before={"status": before},
        after={"status": clarification.status, "text": text},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if transition.party == ClarificationParty.PARTICIPANT:
        # The reviewers in the thread (the one who raised it, and any who replied).
        recipients = [
            m.author for m in clarification.messages.select_related("author") if not m.from_participant
        ] or _reviewers_of(application, task)
    else:
        recipients = list(organisation_users(application.organisation_id))
    notify(
        recipients=recipients,
        subject=f"Clarification {clarification.reference} {past}: {kind_label} question {number}, "
        f"{application.reference}",
        body=f"{_actor_name(actor)} {past} clarification {clarification.reference} on question {number} of the "
        f"{kind_label} of {_describe(application)}." + (f"\n\n{text}" if text else ""),
        link=_clarification_link(application, clarification),
        application=application,
        exclude=actor,
    )
    return clarification


def clarification_answer(*, actor: Any, clarification_id: int, text: str) -> Clarification:
    return clarification_act(
        actor=actor, clarification_id=clarification_id, action=ClarificationAction.ANSWER, text=text
    )


def clarification_reply(*, actor: Any, clarification_id: int, text: str) -> Clarification:
    return clarification_act(
        actor=actor, clarification_id=clarification_id, action=ClarificationAction.REPLY, text=text
    )


def clarification_close(*, actor: Any, clarification_id: int, text: str = "") -> Clarification:
    return clarification_act(
        actor=actor, clarification_id=clarification_id, action=ClarificationAction.CLOSE, text=text
    )


# --- Director sign-off ----------------------------------------------------------------------------


def _password_failures_key(user: Any) -> str:
    return f"documents:qad-sign-failures:{user.pk}"


def _check_password(actor: Any, password: str) -> None:
    key = _password_failures_key(actor)
    if int(cache.get(key, 0)) >= MAX_PASSWORD_FAILURES:
        raise PermissionDenied(
            "Too many wrong passwords were entered: wait 15 minutes and try again.", details={"field": "password"}
        )
    if not password or not actor.check_password(password):
        cache.add(key, 0, PASSWORD_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, PASSWORD_FAILURE_WINDOW)
        raise PermissionDenied("The password is not correct.", details={"field": "password"})
    cache.delete(key)


def _check_second_factor(actor: Any, code: str) -> None:
    """With an authenticator app set up, the signer also enters its current code."""
    authenticator = Authenticator.objects.filter(
        user=actor, type=Authenticator.Type.TOTP
    ).first()  # see has_second_factor
    if authenticator is None:
        return
    code = (code or "").strip().replace(" ", "")
    if not code:
        raise PermissionDenied(
            "Enter the code from your authenticator app as well as your password.", details={"field": "otp_code"}
        )
    if not TOTP(authenticator).validate_code(code):
        raise PermissionDenied("The authenticator code is not correct.", details={"field": "otp_code"})


def _signable_version(application: Application) -> QadSubmission:
    final_task = qad_task(application, QadKind.FINAL)
    if final_task.state != TaskState.COMPLETED:
        raise InvalidTransition(
            "The Final QAD can be signed only once the Code Bodies have agreed it complete.",
            details={"state": final_task.state},
        )
    latest = QadSubmission.objects.filter(application=application, kind=QadKind.FINAL).order_by("-version").first()
    if latest is None or latest.status != SubmissionStatus.SUBMITTED:
        raise InvalidTransition("There is no agreed version of the Final QAD to sign.")
    latest.application = application
    return latest


def signing_check(*, actor: Any, application: Application) -> QadSubmission:
    """The version the actor may sign now, or the refusal: who signs, then the state of the Final QAD
    and of the sign-off. Used by the sign page to decide what to show, and by `qad_sign`."""
    if not can_sign_final_qad(actor, application):
        if is_signing_delegate(actor, application.organisation_id):
            raise PermissionDenied(
                f"A signing delegate may sign only for a role that qualifies under the REC alone; "
                f"{application.market_role.name} needs BSC PAB approval, so a Company Director must sign."
            )
        raise PermissionDenied(f"Only a Company Director of {application.organisation.name} may sign its Final QAD.")
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    signoff = signoff_task(application)
    if signoff is None:
        raise NotFound("This application has no Director sign-off.")
    version = _signable_version(application)
    if signoff.state == TaskState.COMPLETED:
        raise InvalidTransition("The Final QAD is already signed.", details={"state": signoff.state})
    if signoff.state != TaskState.NOT_STARTED:
        raise InvalidTransition("The Director sign-off cannot be taken now.", details={"state": signoff.state})
    return version


@transaction.atomic
def qad_sign(
    *, actor: Any, application_id: int, password: str, declaration_version: int, otp_code: str = ""
) -> DirectorSignature:
    """Sign the agreed Final QAD: check the signer, the state, the declaration version and the
    password (and authenticator code, when one is set up); seal the manifest of the exact version;
    then record the sign-off through the task's own "sign" action."""
    application = _lock_application(actor, application_id)
    version = signing_check(actor=actor, application=application)
    declaration = declaration_current()
    if declaration.version != declaration_version:
        raise Conflict(
            f"The declaration has changed since you opened the page: read version {declaration.version} "
            "and sign again.",
            details={"field": "declaration_version", "current": declaration.version},
        )
    _check_password(actor, password)
    _check_second_factor(actor, otp_code)
    text, digest = manifest_seal(manifest_build(version, declaration))
    signature = DirectorSignature.objects.create(
        application=application,
        submission=version,
        signer=actor,
        signed_as=SignedAs.DELEGATE if signs_as_delegate(actor, application) else SignedAs.DIRECTOR,
        declaration=declaration,
        manifest=text,
        manifest_sha256=digest,
        signed_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="qad.sign",
        target=signature,
        summary=f"{_actor_name(actor)} signed version {version.version} of the Final QAD of {application.reference} "
        f"as {SignedAs(signature.signed_as).label.lower()}",
        after={
            "submission": version.pk,
            "version": version.version,
            "declaration_version": declaration.version,
            "signed_as": signature.signed_as,
            "manifest_sha256": digest,
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    task_transition(
        actor=actor,
        application_id=application.pk,
        task_code=SIGNOFF_TASK,
        action=Action.SIGN,
        comment=f"Signed version {version.version} of the Final QAD under declaration version "
        f"{declaration.version}. Manifest SHA-256: {digest}.",
    )
    return signature


def _void_signature(signature: DirectorSignature, *, actor: Any, reason: str, strict: bool) -> None:
    """Void a valid signature, reopen the sign-off, audit and tell the people concerned. With
    `strict`, a sign-off that cannot be reopened (approval work has moved on) refuses everything;
    otherwise the signature is voided anyway and the audit and the message say the sign-off stays."""
    application = signature.application
    signature.status = SignatureStatus.VOIDED
    signature.voided_at = timezone.now()
    signature.void_reason = reason[:2000]
    signature.save(update_fields=["status", "voided_at", "void_reason"])
    reopen_note = ""
    try:
        task_reopen(
            actor=actor,
            application_id=application.pk,
            task_code=SIGNOFF_TASK,
            reason=f"The signature was voided: {reason}",
        )
    except InvalidTransition as exc:
        if strict:
            raise
        reopen_note = f" The sign-off could not be reopened: {exc.message}"
    audit_record(
        actor=actor,
        action="qad.signature_void",
        target=signature,
        summary=f"The signature of version {signature.submission.version} of the Final QAD of "
        f"{application.reference} was voided: {reason}{reopen_note}"[:500],
        before={"status": SignatureStatus.VALID.value},
        after={"status": signature.status, "reason": reason, "sign_off_reopened": not reopen_note},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    final_task = qad_task(application, QadKind.FINAL)
    notify(
        recipients=[*organisation_users(application.organisation_id), *_reviewers_of(application, final_task)],
        subject=f"Signature of the Final QAD voided: {application.reference}",
        body=f"The signature by {signature.signer.display_name} of version {signature.submission.version} of the "
        f"Final QAD of {_describe(application)} is void.\n\nReason: {reason}{reopen_note}\n\n"
        "The Final QAD must be signed again once its content is agreed complete.",
        link=f"/applications/{application.pk}/qad/signature/",
        application=application,
        exclude=actor,
    )


@transaction.atomic
def signature_verify_record(*, actor: Any, signature_id: int) -> SignatureCheck:
    """Check a signature's sealed manifest against the data now; a valid signature that no longer
    matches is voided, with the differences as the reason."""
    found = DirectorSignature.objects.filter(pk=signature_id).values_list("application_id", flat=True).first()
    if found is None:
        raise NotFound("No signature was found with that reference.")
    application = _lock_application(actor, found)
    signature = (
        DirectorSignature.objects.select_for_update()
        .select_related("submission__template", "declaration", "signer")
        .get(pk=signature_id)
    )
    signature.application = application
    signature.submission.application = application
    check = signature_check(signature)
    if not check.ok and signature.status == SignatureStatus.VALID:
        _void_signature(
            signature,
            actor=actor,
            reason="The sealed manifest no longer matches: " + " ".join(check.problems),
            strict=False,
        )
    return check


def signatures_verify_all(*, actor: Any = None) -> list[tuple[DirectorSignature, SignatureCheck]]:
    """Check every valid signature (e.g. from a scheduled job) and void those that no longer match."""
    results = []
    for signature_id in DirectorSignature.objects.filter(status=SignatureStatus.VALID).values_list("pk", flat=True):
        with transaction.atomic():
            signature = DirectorSignature.objects.select_for_update().select_related("application").get(pk=signature_id)
            Application.objects.select_for_update().filter(pk=signature.application_id).first()
            signature.submission.application = signature.application
            check = signature_check(signature)
            if not check.ok and signature.status == SignatureStatus.VALID:
                _void_signature(
                    signature,
                    actor=actor,
                    reason="The sealed manifest no longer matches: " + " ".join(check.problems),
                    strict=False,
                )
        results.append((signature, check))
    return results


@transaction.atomic
def qad_final_reopen(*, actor: Any, application_id: int, reason: str) -> Task:
    """The Code Bodies reopen an agreed Final QAD so the participant can change it (for example after
    a deferral): a signature of it is voided, the sign-off and the Final QAD go back to "not started",
    and the participant writes a new version. Refused when approval work on the sign-off has
    already moved on."""
    application, task, _ = _lock_qad(actor, application_id, QadKind.FINAL)
    if not can_reopen_final_qad(actor, task):
        raise PermissionDenied("Only the Code Bodies who agree the Final QAD complete may reopen it.")
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state != TaskState.COMPLETED:
        raise InvalidTransition("The Final QAD is not agreed complete, so there is nothing to reopen.")
    reason = _clean_text(reason, field="reason", limit=MAX_MESSAGE_LENGTH)
    if not reason:
        raise InvalidInput("Enter why the Final QAD is being reopened.", details={"field": "reason"})
    signature = signature_valid(application)
    if signature is not None:
        _void_signature(signature, actor=actor, reason=f"The Final QAD was reopened for changes: {reason}", strict=True)
    else:
        task_reopen(actor=actor, application_id=application.pk, task_code=SIGNOFF_TASK, reason=reason)
    reopened = task_reopen(actor=actor, application_id=application.pk, task_code=task.code, reason=reason)
    audit_record(
        actor=actor,
        action="qad.reopen",
        target=reopened,
        summary=f"The Final QAD of {application.reference} was reopened for changes: {reason}"[:500],
        after={"reason": reason, "signature_voided": signature is not None},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Final QAD reopened for changes: {application.reference}",
        body=f"{_actor_name(actor)} reopened the Final QAD of {_describe(application)}.\n\nReason: {reason}\n\n"
        "Start a new version, make the changes and submit it; it will then need to be agreed and signed again.",
        link=f"/applications/{application.pk}/qad/final/",
        application=application,
        exclude=actor,
    )
    return reopened


# --- signing delegates ----------------------------------------------------------------------------


@transaction.atomic
def signing_delegate_grant(*, actor: Any, organisation_id: int, user_id: int) -> SigningDelegate:
    """A Company Director lets a member of the organisation sign Final QADs for roles that qualify
    under the REC alone."""
    organisation = Organisation.objects.select_for_update().filter(pk=organisation_id).first()
    if organisation is None or organisation.pk not in user_organisation_ids(actor):
        raise NotFound("No organisation was found with that reference.")
    if not can_manage_delegates(actor, organisation.pk):
        raise PermissionDenied(f"Only a Company Director of {organisation.name} may appoint signing delegates.")
    user = organisation_users(organisation.pk).filter(pk=user_id).first()
    if user is None:
        raise InvalidInput(f"Choose a member of {organisation.name}.", details={"field": "user"})
    if user_is_director_of(user, organisation.pk):
        raise InvalidInput(
            f"{user.display_name} is a Company Director of {organisation.name} and signs without being a delegate.",
            details={"field": "user"},
        )
    if SigningDelegate.objects.filter(organisation=organisation, user=user, revoked_at__isnull=True).exists():
        raise Conflict(f"{user.display_name} is already a signing delegate of {organisation.name}.")
    delegate = SigningDelegate.objects.create(organisation=organisation, user=user, granted_by=actor)
    audit_record(
        actor=actor,
        action="signing_delegate.grant",
        target=delegate,
        summary=f"{_actor_name(actor)} made {user.display_name} a signing delegate of {organisation.name}",
        after={"user": user.email, "organisation": organisation.name},
        organisation_id=organisation.pk,
    )
    notify(
        recipients=[user],
        subject=f"You are a signing delegate of {organisation.name}",
        body=f"{_actor_name(actor)} made you a signing delegate of {organisation.name}. You may sign the Final QAD "
        "of applications for roles that qualify under the REC alone (that need no BSC PAB approval), such as "
        "MOA/MEM. You will re-enter your password when you sign.",
        exclude=actor,
    )
    return delegate


@transaction.atomic
def signing_delegate_revoke(*, actor: Any, delegate_id: int) -> SigningDelegate:
    delegate = (
        SigningDelegate.objects.select_for_update()
        .select_related("organisation", "user")
        .filter(pk=delegate_id)
        .first()
    )
    if delegate is None or delegate.organisation_id not in user_organisation_ids(actor):
        raise NotFound("No signing delegate was found with that reference.")
    if not can_manage_delegates(actor, delegate.organisation_id):
        raise PermissionDenied(f"Only a Company Director of {delegate.organisation.name} may revoke signing delegates.")
    if delegate.revoked_at is not None:
        raise InvalidTransition(f"{delegate.user.display_name} is no longer a signing delegate.")
    delegate.revoked_at = timezone.now()
    delegate.revoked_by = actor
    delegate.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="signing_delegate.revoke",
        target=delegate,
        summary=f"{_actor_name(actor)} revoked {delegate.user.display_name} as a signing delegate of "
        f"{delegate.organisation.name}",
        before={"active": True},
        after={"active": False},
        organisation_id=delegate.organisation_id,
    )
    notify(
        recipients=[delegate.user],
        subject=f"You are no longer a signing delegate of {delegate.organisation.name}",
        body=f"{_actor_name(actor)} revoked your appointment as a signing delegate of {delegate.organisation.name}.",
        exclude=actor,
    )
    return delegate


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "The portal"
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
