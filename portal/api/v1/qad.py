"""The QAD: the template, Initial and Final QAD versions and their answers with evidence, what changed
between versions, clarifications with the review clock, the Director's sign-off with its sealed
manifest, and signing delegates. Mounted at `/v1/qad`.

Submitting a QAD is its task's "submit" action (here as `…/submit`, or through the generic task
transitions); the Code Bodies accept it, or ask for changes, through the generic task transitions.
"""

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, File, Form, P, PathEx, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import by_role, may_call, on_application, on_own_organisation, on_task
from portal.api.v1._request import ObjectId, caller
from portal.core.errors import NotFound
from portal.documents import selectors, services
from portal.documents.models import Clarification, DirectorSignature, QadSubmission
from portal.documents.permissions import (
    answers_clarifications,
    can_edit_qad,
    can_manage_delegates,
    can_read_qad,
    can_reopen_final_qad,
    can_review_any_question,
    can_sign_final_qad,
    reviews_clarifications,
)
from portal.documents.services import MAX_ANSWER_LENGTH, MAX_MESSAGE_LENGTH, AnswerChange
from portal.documents.signing import SignatureCheck, signature_check
from portal.documents.workflow import (
    TASK_FOR_KIND,
    AssessingBody,
    ClarificationStatus,
    QadKind,
    QadTheme,
    RequirementArea,
    ReviewHolder,
    SignatureStatus,
    SignedAs,
    SubmissionStatus,
    TemplateStatus,
)
from portal.qualification.models import Application
from portal.qualification.workflow import TaskState

router = Router(tags=["qad"])

QuestionNumber = PathEx[
    str, P(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$", max_length=20, description="A question number, e.g. 4.5.2.")
]
KindPath = PathEx[QadKind, P(description="initial or final.")]
WRITE_ERRORS = responses(400, 403, 404, 409)
# A QAD is out of sight (404) for staff who do not read QADs, as its reads are.
MAY_WRITE_QAD = may_call(
    on_application(can_edit_qad, seen_if=can_read_qad),
    refusal="Only members of the applying organisation can write its QAD.",
)
MAY_SIGN_FINAL_QAD = may_call(
    on_application(can_sign_final_qad, seen_if=can_read_qad),
    refusal="Only a Company Director of the organisation (or a signing delegate, for a role that qualifies under "
    "the REC alone) may sign its Final QAD.",
)
# The question is in the body: before reading it, refuse whoever may raise clarifications on no question.
MAY_RAISE_CLARIFICATIONS = may_call(
    on_task(
        lambda path_kwargs: TASK_FOR_KIND.get(str(path_kwargs["kind"]), ""),
        can_review_any_question,
        seen_if=can_read_qad,
    ),
    refusal="Only the Code Bodies, and the DIP Manager on the questions it assesses, raise clarifications.",
)
# Which clarification, and so which application, is read from the path by the service: before the body,
# refuse whoever holds no role that answers (participants) or replies and closes (the assessing bodies).
MAY_ANSWER_CLARIFICATIONS = may_call(
    by_role(answers_clarifications), refusal="Only members of the applying organisation answer its clarifications."
)
MAY_REVIEW_CLARIFICATIONS = may_call(
    by_role(reviews_clarifications),
    refusal="Only the Code Bodies, and the DIP Manager on the questions it assesses, reply to and close "
    "clarifications.",
)
MAY_REOPEN_FINAL_QAD = may_call(
    on_task(TASK_FOR_KIND[QadKind.FINAL], can_reopen_final_qad, seen_if=can_read_qad),
    refusal="Only the Code Bodies who agree the Final QAD complete may reopen it.",
)
MAY_MANAGE_DELEGATES = may_call(
    on_own_organisation(can_manage_delegates),
    refusal="Only a Company Director of the organisation may appoint signing delegates.",
)

# --- schemas -------------------------------------------------------------------------------------


class QuestionOut(Schema):
    number: str
    text: str
    guidance: str
    assessed_by: list[AssessingBody]
    role_groups: list[str] = Field(description="Codes of the role groups that answer the question.")
    evidence_expected: bool
    evidence_hint: str

    @staticmethod
    def resolve_role_groups(obj: Any) -> list[str]:
        return sorted(group.code for group in obj.role_groups.all())


class SectionOut(Schema):
    number: str
    title: str
    description: str
    theme: QadTheme
    requirement_area: RequirementArea
    questions: list[QuestionOut]


class TemplateOut(Schema):
    version: str
    title: str
    description: str
    status: TemplateStatus
    activated_at: datetime | None
    sections: list[SectionOut]


class QadEvidenceOut(Schema):
    id: int
    name: str
    file_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download: str = Field(description="The path that downloads the file (signed-in browser session).")

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.original_name)

    @staticmethod
    def resolve_download(obj: Any) -> str:
        return f"/evidence/{obj.pk}/download/"


class AnswerOut(Schema):
    question: str
    section: str
    text: str
    evidence: list[QadEvidenceOut]
    updated_at: datetime | None


class QadMissingOut(Schema):
    question: str
    missing: str = Field(description="answer or evidence")


class SectionProgressOut(Schema):
    number: str
    title: str
    questions: int
    answered: int
    complete: int
    status: str = Field(description="completed, in_progress or not_started")


class ClockOut(Schema):
    holder: ReviewHolder = Field(description="Who holds the review now.")
    since: datetime | None
    code_bodies_seconds: int = Field(description="Elapsed time in the Code Bodies' hands.")
    participant_seconds: int = Field(description="Elapsed time in the participant's hands (the clock paused).")
    code_bodies_working_seconds: int = Field(description="The part of it on working days.")
    participant_working_seconds: int


class VersionSummary(Schema):
    kind: QadKind
    version: int
    status: SubmissionStatus
    template_version: str
    created_at: datetime
    submitted_at: datetime | None
    submitted_by: str | None


class VersionDetail(VersionSummary):
    answers: list[AnswerOut]
    progress: list[SectionProgressOut]
    missing: list[QadMissingOut] = Field(description="What still stops this version being submitted.")
    review_clock: ClockOut | None


class QadStatusOut(Schema):
    kind: QadKind
    task_state: TaskState
    editable: bool = Field(description="Whether you may write its draft now.")
    current: VersionSummary | None = Field(description="Your draft, or else the latest version you may see.")
    versions: int
    unresolved_clarifications: int


class SignatureOut(Schema):
    id: int
    status: SignatureStatus
    signer: str
    signed_as: SignedAs
    signed_at: datetime
    version: int
    declaration_version: int
    manifest_sha256: str
    manifest: dict[str, Any] = Field(description="The sealed manifest, as signed.")
    voided_at: datetime | None
    void_reason: str


class QadOverviewOut(Schema):
    application_id: int
    reference: str
    qads: list[QadStatusOut]
    signoff_state: TaskState | None
    signature: SignatureOut | None


class AnswerIn(Schema):
    question: str = Field(max_length=20, description="The question number, e.g. 4.5.2.")
    text: str | None = Field(None, max_length=MAX_ANSWER_LENGTH, description="The answer; omit to leave it.")
    attach_evidence_ids: list[int] = Field(
        default_factory=list, max_length=20, description="Evidence files of this application to attach."
    )
    remove_evidence_ids: list[int] = Field(default_factory=list, max_length=20, description="Evidence to take off.")


class AnswersIn(Schema):
    answers: list[AnswerIn] = Field(min_length=1, max_length=services.MAX_CHANGES_PER_SAVE)


class SubmitIn(Schema):
    comment: str = Field("", max_length=MAX_MESSAGE_LENGTH)


class DiffEvidenceOut(Schema):
    id: int
    name: str
    sha256: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.original_name)


class DiffRowOut(Schema):
    question: str
    section: str
    change: str = Field(description="unchanged, changed, added or removed")
    before: str
    after: str
    evidence_added: list[DiffEvidenceOut]
    evidence_removed: list[DiffEvidenceOut]

    @staticmethod
    def resolve_question(obj: Any) -> str:
        return str(obj.number)


class DiffOut(Schema):
    old_version: int
    new_version: int
    changed: int
    rows: list[DiffRowOut] = Field(description="Every question, in template order.")


class QadDiffQuery(Schema):
    old: int = Field(ge=1, le=100000, description="The earlier version.")
    new: int = Field(ge=1, le=100000, description="The later version.")


class ClarificationIn(Schema):
    question: str = Field(max_length=20, description="The question number the clarification is about.")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)


class MessageIn(Schema):
    text: str = Field("", max_length=MAX_MESSAGE_LENGTH)


class ClarificationMessageOut(Schema):
    author: str
    action: str
    from_participant: bool
    text: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return str(obj.author.display_name)


class ClarificationOut(Schema):
    id: int
    reference: str
    application_id: int
    organisation: str
    market_role: str
    kind: QadKind
    version: int
    section: str
    question: str
    status: ClarificationStatus
    raised_by: str
    raised_at: datetime
    closed_at: datetime | None
    messages: list[ClarificationMessageOut]


class SignIn(Schema):
    password: str = Field(min_length=1, max_length=200, description="Your password, entered again.")
    declaration_version: int = Field(ge=1, description="The version of the declaration you read and make.")
    otp_code: str = Field("", max_length=12, description="Your authenticator code, if you have set one up.")


class VerificationOut(Schema):
    signature: SignatureOut
    ok: bool
    problems: list[str]
    recorded_sha256: str
    current_sha256: str
    answers_checked: int
    files_checked: int


class DeclarationOut(Schema):
    version: int
    text: str


class QadReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)


class DelegateIn(Schema):
    user_id: int = Field(ge=1, description="A member of the organisation.")


class DelegateOut(Schema):
    id: int
    organisation_id: int
    user_id: int
    user: str
    email: str
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None

    @staticmethod
    def resolve_user(obj: Any) -> str:
        return str(obj.user.display_name)

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_granted_by(obj: Any) -> str:
        return str(obj.granted_by.display_name)


# --- shaping -------------------------------------------------------------------------------------


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())


def _version_summary(submission: QadSubmission) -> dict[str, Any]:
    return {
        "kind": submission.kind,
        "version": submission.version,
        "status": submission.status,
        "template_version": submission.template.version,
        "created_at": submission.created_at,
        "submitted_at": submission.submitted_at,
        "submitted_by": submission.submitted_by.display_name if submission.submitted_by else None,
    }


def _version_detail(submission: QadSubmission, application: Application) -> dict[str, Any]:
    role_group_id = application.market_role.role_group_id
    answers = sorted(selectors.qad_answers(submission).values(), key=lambda a: a.question.order)
    clock = None
    if submission.status != SubmissionStatus.DRAFT:
        c = selectors.review_clock(submission)
        clock = {
            "holder": c.holder,
            "since": c.since,
            "code_bodies_seconds": _seconds(c.code_bodies),
            "participant_seconds": _seconds(c.participant),
            "code_bodies_working_seconds": _seconds(c.code_bodies_working),
            "participant_working_seconds": _seconds(c.participant_working),
        }
    return {
        **_version_summary(submission),
        "answers": [
            {
                "question": a.question.number,
                "section": a.question.section.number,
                "text": a.text,
                "evidence": list(a.evidence.all()),
                "updated_at": a.updated_at,
            }
            for a in answers
        ],
        "progress": [
            {
                "number": p.section.number,
                "title": p.section.title,
                "questions": p.total,
                "answered": p.answered,
                "complete": p.complete,
                "status": p.status,
            }
            for p in selectors.qad_progress(submission, role_group_id=role_group_id)
        ],
        "missing": [
            {"question": m.number, "missing": m.what}
            for m in (selectors.qad_missing(submission, role_group_id=role_group_id) if submission.is_draft else [])
        ],
        "review_clock": clock,
    }


def _manifest(signature: DirectorSignature) -> dict[str, Any]:
    try:
        manifest = json.loads(signature.manifest)
    except ValueError:
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _signature(signature: DirectorSignature) -> dict[str, Any]:
    return {
        "id": signature.pk,
        "status": signature.status,
        "signer": signature.signer.display_name,
        "signed_as": signature.signed_as,
        "signed_at": signature.signed_at,
        "version": signature.submission.version,
        "declaration_version": signature.declaration.version,
        "manifest_sha256": signature.manifest_sha256,
        "manifest": _manifest(signature),
        "voided_at": signature.voided_at,
        "void_reason": signature.void_reason,
    }


def _verification(signature: DirectorSignature, check: SignatureCheck) -> dict[str, Any]:
    return {
        "signature": _signature(signature),
        "ok": check.ok,
        "problems": check.problems,
        "recorded_sha256": check.recorded_sha256,
        "current_sha256": check.current_sha256,
        "answers_checked": check.answers_checked,
        "files_checked": check.files_checked,
    }


def _clarification(clarification: Clarification) -> dict[str, Any]:
    application = clarification.submission.application
    return {
        "id": clarification.pk,
        "reference": clarification.reference,
        "application_id": application.pk,
        "organisation": application.organisation.name,
        "market_role": application.market_role.code,
        "kind": clarification.submission.kind,
        "version": clarification.submission.version,
        "section": clarification.question.section.number,
        "question": clarification.question.number,
        "status": clarification.status,
        "raised_by": clarification.raised_by.display_name,
        "raised_at": clarification.raised_at,
        "closed_at": clarification.closed_at,
        "messages": list(selectors.clarification_messages(clarification)),
    }


def _application(request: HttpRequest, application_id: int) -> Application:
    return selectors.qad_application_get(user=caller(request), application_id=application_id)


# --- the template --------------------------------------------------------------------------------


@router.get("/template", response={200: TemplateOut, **responses(404)})
def qad_template_get(
    request: HttpRequest,
    version: Annotated[str | None, Query(max_length=20, description="Default: the active one.")] = None,
) -> dict[str, Any]:
    """The QAD template: its sections and questions, who assesses each and which role groups answer it."""
    template = selectors.template_get(version=version)
    return {
        "version": template.version,
        "title": template.title,
        "description": template.description,
        "status": template.status,
        "activated_at": template.activated_at,
        "sections": [
            {
                "number": section.number,
                "title": section.title,
                "description": section.description,
                "theme": section.theme,
                "requirement_area": section.requirement_area,
                "questions": questions,
            }
            for section, questions in selectors.template_sections(template)
        ],
    }


@router.get("/declaration", response={200: DeclarationOut, **responses(404)})
def qad_declaration_get(request: HttpRequest) -> Any:
    """The declaration a signer makes now (sign with its version)."""
    return selectors.declaration_current()


# --- an application's QADs -----------------------------------------------------------------------


@router.get("/applications/{int:application_id}", response={200: QadOverviewOut, **responses(404)})
def qad_overview(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """Both QADs of an application, its sign-off and its latest signature."""
    user = caller(request)
    application = _application(request, application_id)
    qads = []
    for kind in QadKind:
        try:
            task = selectors.qad_task(application, kind)
        except NotFound:
            continue
        versions = selectors.qad_versions(user=user, application=application, kind=kind)
        qads.append(
            {
                "kind": kind,
                "task_state": task.state,
                "editable": selectors.qad_editable(user=user, application=application, task=task),
                "current": _version_summary(versions[0]) if versions else None,
                "versions": len(versions),
                "unresolved_clarifications": selectors.clarifications_for(application=application, kind=kind)
                .exclude(status=ClarificationStatus.CLOSED)
                .count(),
            }
        )
    signoff = selectors.signoff_task(application)
    signatures = selectors.signatures_for(application)
    return {
        "application_id": application.pk,
        "reference": application.reference,
        "qads": qads,
        "signoff_state": signoff.state if signoff else None,
        "signature": _signature(signatures[0]) if signatures else None,
    }


# Registered before the `{kind}` routes, whose path segment would otherwise take “sign” and “signatures”.
@router.post(
    "/applications/{int:application_id}/sign", response={201: SignatureOut, **WRITE_ERRORS}, auth=MAY_SIGN_FINAL_QAD
)
def qad_sign(request: HttpRequest, application_id: ObjectId, payload: SignIn) -> Status[dict[str, Any]]:
    """Sign the agreed Final QAD: a Company Director of the organisation, or a signing delegate for a
    role that qualifies under the REC alone, with their password (and authenticator code, if set up).
    The signature seals a manifest of the exact version."""
    signature = services.qad_sign(
        actor=caller(request),
        application_id=application_id,
        password=payload.password,
        declaration_version=payload.declaration_version,
        otp_code=payload.otp_code,
    )
    return Status(201, _signature(selectors.signature_get(user=caller(request), signature_id=signature.pk)))


@router.get("/applications/{int:application_id}/signatures", response={200: list[SignatureOut], **responses(404)})
def signature_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """Every signature of the application's Final QAD, newest first, valid or voided."""
    return [_signature(s) for s in selectors.signatures_for(_application(request, application_id))]


@router.get("/applications/{int:application_id}/{kind}", response={200: VersionDetail, **responses(404)})
def qad_current_get(request: HttpRequest, application_id: ObjectId, kind: KindPath) -> dict[str, Any]:
    """The version you work on: your draft (participants), or else the latest version you may see."""
    application = _application(request, application_id)
    selectors.qad_task(application, kind)
    submission = selectors.qad_current(user=caller(request), application=application, kind=kind)
    if submission is None:
        raise NotFound("This QAD has no version yet.")
    return _version_detail(submission, application)


@router.post("/applications/{int:application_id}/{kind}/versions", response={201: VersionDetail, **WRITE_ERRORS})
def qad_version_start(request: HttpRequest, application_id: ObjectId, kind: KindPath) -> Status[dict[str, Any]]:
    """Start the draft: version 1, or the next version as a copy of the last (after changes were
    requested). Answers the existing draft when there is one."""
    submission = services.qad_version_start(actor=caller(request), application_id=application_id, kind=kind)
    return Status(201, _version_detail(submission, _application(request, application_id)))


@router.post(
    "/applications/{int:application_id}/{kind}/answers",
    response={200: VersionDetail, **WRITE_ERRORS},
    auth=MAY_WRITE_QAD,
)
def qad_answers_save(
    request: HttpRequest, application_id: ObjectId, kind: KindPath, payload: AnswersIn
) -> dict[str, Any]:
    """Save answers to the draft (a draft is started if there is none). All or nothing: one bad answer
    refuses the whole request."""
    submission = services.qad_answers_save(
        actor=caller(request),
        application_id=application_id,
        kind=kind,
        changes=[
            AnswerChange(a.question, a.text, (), a.attach_evidence_ids, a.remove_evidence_ids) for a in payload.answers
        ],
    )
    return _version_detail(submission, _application(request, application_id))


@router.post(
    "/applications/{int:application_id}/{kind}/answers/{question}/evidence",
    response={200: VersionDetail, **WRITE_ERRORS},
    auth=MAY_WRITE_QAD,
)
def qad_evidence_upload(
    request: HttpRequest,
    application_id: ObjectId,
    kind: KindPath,
    question: QuestionNumber,
    files: File[list[UploadedFile]],
    text: Form[str | None] = None,
) -> dict[str, Any]:
    """Upload evidence files (multipart/form-data, field `files`) to one answer of the draft, and
    optionally its text. A bad file is refused naming the rule it broke, and nothing is stored."""
    submission = services.qad_answer_save(
        actor=caller(request),
        application_id=application_id,
        kind=kind,
        question_number=question,
        text=text,
        uploads=files,
    )
    return _version_detail(submission, _application(request, application_id))


@router.post(
    "/applications/{int:application_id}/{kind}/submit",
    response={200: VersionDetail, **WRITE_ERRORS},
    auth=MAY_WRITE_QAD,
)
def qad_submit(request: HttpRequest, application_id: ObjectId, kind: KindPath, payload: SubmitIn) -> dict[str, Any]:
    """Submit the draft for review (the task's "submit" action): refused, naming what is missing,
    unless every question is answered with the evidence expected; the version is then frozen."""
    services.qad_submit(actor=caller(request), application_id=application_id, kind=kind, comment=payload.comment)
    application = _application(request, application_id)
    submission = selectors.qad_latest_submitted(application, kind)
    assert submission is not None
    return _version_detail(submission, application)


@router.get(
    "/applications/{int:application_id}/{kind}/versions", response={200: list[VersionSummary], **responses(404)}
)
def qad_version_list(request: HttpRequest, application_id: ObjectId, kind: KindPath) -> list[dict[str, Any]]:
    """Every version you may see, newest first (reviewers do not see the participant's draft)."""
    application = _application(request, application_id)
    selectors.qad_task(application, kind)
    return [
        _version_summary(v) for v in selectors.qad_versions(user=caller(request), application=application, kind=kind)
    ]


@router.get(
    "/applications/{int:application_id}/{kind}/versions/{int:version}", response={200: VersionDetail, **responses(404)}
)
def qad_version_get(
    request: HttpRequest,
    application_id: ObjectId,
    kind: KindPath,
    version: PathEx[int, P(ge=1, le=100000, description="The version number.")],
) -> dict[str, Any]:
    """One version with its answers and evidence."""
    application = _application(request, application_id)
    submission = selectors.qad_version_get(user=caller(request), application=application, kind=kind, version=version)
    return _version_detail(submission, application)


@router.get("/applications/{int:application_id}/{kind}/diff", response={200: DiffOut, **responses(400, 404)})
def qad_diff(
    request: HttpRequest, application_id: ObjectId, kind: KindPath, query: Query[QadDiffQuery]
) -> dict[str, Any]:
    """What changed between two versions, question by question."""
    application = _application(request, application_id)
    diff = selectors.qad_diff(
        user=caller(request), application=application, kind=kind, old_version=query.old, new_version=query.new
    )
    return {
        "old_version": diff.old.version,
        "new_version": diff.new.version,
        "changed": len(diff.changed),
        "rows": diff.rows,
    }


# --- clarifications ----------------------------------------------------------------------------


@router.get(
    "/applications/{int:application_id}/{kind}/clarifications",
    response={200: list[ClarificationOut], **responses(404)},
)
def clarification_list(request: HttpRequest, application_id: ObjectId, kind: KindPath) -> list[dict[str, Any]]:
    """The clarifications on this QAD, newest first, with their threads."""
    application = _application(request, application_id)
    result = []
    for clarification in selectors.clarifications_for(application=application, kind=kind):
        clarification.submission.application = application
        result.append(_clarification(clarification))
    return result


@router.post(
    "/applications/{int:application_id}/{kind}/clarifications",
    response={201: ClarificationOut, **WRITE_ERRORS},
    auth=MAY_RAISE_CLARIFICATIONS,
)
def clarification_raise(
    request: HttpRequest, application_id: ObjectId, kind: KindPath, payload: ClarificationIn
) -> Status[dict[str, Any]]:
    """Raise a clarification on a question of the version under review (Code Bodies; the DIP Manager
    on the questions it assesses). The review clock pauses until the participant answers."""
    clarification = services.clarification_raise(
        actor=caller(request),
        application_id=application_id,
        kind=kind,
        question_number=payload.question,
        text=payload.text,
    )
    return Status(
        201, _clarification(selectors.clarification_get(user=caller(request), clarification_id=clarification.pk))
    )


@router.get("/clarifications/{int:clarification_id}", response={200: ClarificationOut, **responses(404)})
def clarification_get(request: HttpRequest, clarification_id: ObjectId) -> dict[str, Any]:
    return _clarification(selectors.clarification_get(user=caller(request), clarification_id=clarification_id))


def _clarification_action(request: HttpRequest, clarification_id: int, action: str, text: str) -> dict[str, Any]:
    services.clarification_act(actor=caller(request), clarification_id=clarification_id, action=action, text=text)
    return _clarification(selectors.clarification_get(user=caller(request), clarification_id=clarification_id))


@router.post(
    "/clarifications/{int:clarification_id}/answer",
    response={200: ClarificationOut, **WRITE_ERRORS},
    auth=MAY_ANSWER_CLARIFICATIONS,
)
def clarification_answer(request: HttpRequest, clarification_id: ObjectId, payload: MessageIn) -> dict[str, Any]:
    """Answer a clarification (the participant); it goes back to the reviewer."""
    return _clarification_action(request, clarification_id, "answer", payload.text)


@router.post(
    "/clarifications/{int:clarification_id}/reply",
    response={200: ClarificationOut, **WRITE_ERRORS},
    auth=MAY_REVIEW_CLARIFICATIONS,
)
def clarification_reply(request: HttpRequest, clarification_id: ObjectId, payload: MessageIn) -> dict[str, Any]:
    """Ask a follow-up question on an answered clarification (a reviewer); it goes back to the participant."""
    return _clarification_action(request, clarification_id, "reply", payload.text)


@router.post(
    "/clarifications/{int:clarification_id}/close",
    response={200: ClarificationOut, **WRITE_ERRORS},
    auth=MAY_REVIEW_CLARIFICATIONS,
)
def clarification_close(request: HttpRequest, clarification_id: ObjectId, payload: MessageIn) -> dict[str, Any]:
    """Close a clarification (a reviewer), with an optional note."""
    return _clarification_action(request, clarification_id, "close", payload.text)


# --- sign-off --------------------------------------------------------------------------------------


@router.get("/signatures/{int:signature_id}", response={200: VerificationOut, **responses(404)})
def signature_get(request: HttpRequest, signature_id: ObjectId) -> dict[str, Any]:
    """A signature, with its manifest checked against the answers and evidence records as stored now
    (the files' content is checked by `verify`). Changes nothing."""
    signature = selectors.signature_get(user=caller(request), signature_id=signature_id)
    return _verification(signature, signature_check(signature, check_files=False))


@router.post("/signatures/{int:signature_id}/verify", response={200: VerificationOut, **WRITE_ERRORS})
def signature_verify(request: HttpRequest, signature_id: ObjectId) -> dict[str, Any]:
    """Check the sealed manifest again, reading every evidence file; a valid signature that no longer
    matches is voided and the sign-off reopened."""
    check = services.signature_verify_record(actor=caller(request), signature_id=signature_id)
    signature = selectors.signature_get(user=caller(request), signature_id=signature_id)
    return _verification(signature, check)


@router.post(
    "/applications/{int:application_id}/final/reopen",
    response={200: QadOverviewOut, **WRITE_ERRORS},
    auth=MAY_REOPEN_FINAL_QAD,
)
def qad_final_reopen(request: HttpRequest, application_id: ObjectId, payload: QadReasonIn) -> dict[str, Any]:
    """Reopen an agreed Final QAD for changes (the Code Bodies): its signature is voided and the
    participant writes a new version."""
    services.qad_final_reopen(actor=caller(request), application_id=application_id, reason=payload.reason)
    return qad_overview(request, application_id)


# --- signing delegates -------------------------------------------------------------------------


@router.get(
    "/organisations/{int:organisation_id}/signing-delegates", response={200: list[DelegateOut], **responses(404)}
)
def signing_delegate_list(request: HttpRequest, organisation_id: ObjectId) -> Any:
    """Your organisation's signing delegates (for roles that qualify under the REC alone)."""
    return list(selectors.signing_delegates(user=caller(request), organisation_id=organisation_id))


@router.post(
    "/organisations/{int:organisation_id}/signing-delegates",
    response={201: DelegateOut, **WRITE_ERRORS},
    auth=MAY_MANAGE_DELEGATES,
)
def signing_delegate_grant(request: HttpRequest, organisation_id: ObjectId, payload: DelegateIn) -> Status[Any]:
    """Appoint a member of the organisation as a signing delegate (a Company Director of it)."""
    delegate = services.signing_delegate_grant(
        actor=caller(request), organisation_id=organisation_id, user_id=payload.user_id
    )
    return Status(201, delegate)


@router.delete("/signing-delegates/{int:delegate_id}", response={200: DelegateOut, **WRITE_ERRORS})
def signing_delegate_revoke(request: HttpRequest, delegate_id: ObjectId) -> Any:
    """Revoke a signing delegate (a Company Director of the organisation)."""
    return services.signing_delegate_revoke(actor=caller(request), delegate_id=delegate_id)
