"""The QAD pages: the form by section, answers with evidence, check your answers, versions and what
changed between them, clarification threads, the Director's sign-off and the signature's status.

Thin: each view parses its input, calls one selector or service and renders. A refusal from a
service is shown in the GOV.UK error summary of the same page, with its status; another
organisation's application answers 404, like a missing one.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.selectors import organisation_users, user_is_director_of
from portal.core.errors import ApplicationError, InvalidInput, NotFound
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.documents import selectors, services
from portal.documents.forms import (
    AnswerForm,
    CompareForm,
    DelegateForm,
    MessageForm,
    ReasonForm,
    SignForm,
    SubmitForm,
)
from portal.documents.models import Clarification, QadQuestion, QadSubmission
from portal.documents.permissions import (
    can_manage_delegates,
    can_reopen_final_qad,
    can_review_any_question,
    can_review_question,
    is_participant_of,
)
from portal.documents.signers import can_sign_final_qad, role_qualifies_under_rec_alone
from portal.documents.signing import signature_check
from portal.documents.workflow import (
    ClarificationAction,
    ClarificationStatus,
    QadKind,
    SubmissionStatus,
)
from portal.qualification.models import Application, Task
from portal.qualification.workflow import TaskState

# --- what every page shares ------------------------------------------------------------------------


def page(
    request: HttpRequest, template: str, context: dict[str, Any], *, errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "applications", **context, "errors": errors or PageErrors()}
    return render(request, f"documents/{template}", context, status=errors.status if errors else 200)


def _kind(kind: str) -> QadKind:
    try:
        return QadKind(kind)
    except ValueError:
        raise Http404("There is no such QAD.") from None


@dataclass
class QadPage:
    """What the pages of one QAD share."""

    application: Application
    task: Task
    kind: QadKind
    submission: QadSubmission | None
    editable: bool
    is_participant: bool
    is_reviewer: bool

    @property
    def draft(self) -> QadSubmission | None:
        return self.submission if self.submission is not None and self.submission.is_draft else None

    def context(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "task": self.task,
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "submission": self.submission,
            "editable": self.editable,
            "is_participant": self.is_participant,
            "is_reviewer": self.is_reviewer,
        }


def _qad_page(request: HttpRequest, application_id: int, kind: str) -> QadPage:
    qad_kind = _kind(kind)
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    task = selectors.qad_task(application, qad_kind)
    return QadPage(
        application=application,
        task=task,
        kind=qad_kind,
        submission=selectors.qad_current(user=request.user, application=application, kind=qad_kind),
        editable=selectors.qad_editable(user=request.user, application=application, task=task),
        is_participant=is_participant_of(request.user, application),
        is_reviewer=can_review_any_question(request.user, task),
    )


def _question(submission: QadSubmission, application: Application, number: str) -> QadQuestion:
    for question in selectors.template_questions(
        submission.template, role_group_id=application.market_role.role_group_id
    ):
        if question.number == number:
            return question
    raise Http404("That is not a question of this QAD.")


# --- overview and the form by section --------------------------------------------------------------


@require_GET
@portal_page
def qad_overview(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    rows = []
    for kind in QadKind:
        try:
            task = selectors.qad_task(application, kind)
        except NotFound:
            continue
        versions = selectors.qad_versions(user=request.user, application=application, kind=kind)
        open_count = selectors.clarifications_for(application=application, kind=kind).exclude(
            status=ClarificationStatus.CLOSED
        )
        rows.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "task": task,
                "latest": versions[0] if versions else None,
                "versions": len(versions),
                "open_clarifications": open_count.count(),
            }
        )
    return page(
        request,
        "qad_overview.html",
        {
            "application": application,
            "rows": rows,
            "signature": next(iter(selectors.signatures_for(application)), None),
            "signoff": selectors.signoff_task(application),
        },
    )


@require_GET
@portal_page
def qad_form(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    """The QAD as a GOV.UK task list of its sections."""
    qad = _qad_page(request, application_id, kind)
    return _form_page(request, qad)


def _form_page(request: HttpRequest, qad: QadPage, *, errors: PageErrors | None = None) -> HttpResponse:
    role_group_id = qad.application.market_role.role_group_id
    submission = qad.submission
    progress = selectors.qad_progress(submission, role_group_id=role_group_id) if submission else []
    template = submission.template if submission else selectors.template_active()
    sections = (
        [] if submission or template is None else selectors.template_sections(template, role_group_id=role_group_id)
    )
    clock = None
    if submission is not None and submission.status != SubmissionStatus.DRAFT:
        clock = selectors.review_clock(submission)
    open_by_question = selectors.unresolved_clarifications(submission) if submission else {}
    return page(
        request,
        "qad_form.html",
        {
            **qad.context(),
            "template": template,
            "progress": progress,
            "sections": sections,
            "completed_sections": sum(1 for p in progress if p.status == "completed"),
            "clock": clock,
            "open_clarifications": sum(open_by_question.values()),
            "can_start_version": qad.editable and qad.draft is None,
        },
        errors=errors,
    )


@require_POST
@portal_page
def qad_start(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    """Start the draft: version 1, or the next version copied from the last."""
    try:
        submission = services.qad_version_start(actor=request.user, application_id=application_id, kind=kind)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _form_page(request, _qad_page(request, application_id, kind), errors=PageErrors.from_error(exc))
    messages.success(request, f"You are working on version {submission.version} of the {_kind(kind).label}.")
    return redirect(_form_url(application_id, kind))


def _form_url(application_id: int, kind: str) -> str:
    return reverse(f"documents:{kind}_qad", args=[application_id])


@require_GET
@portal_page
def qad_section(request: HttpRequest, application_id: int, kind: str, number: str) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    if qad.submission is None:
        raise Http404("This QAD has no version yet.")
    role_group_id = qad.application.market_role.role_group_id
    found = next(
        (
            (section, questions)
            for section, questions in selectors.template_sections(qad.submission.template, role_group_id=role_group_id)
            if section.number == number
        ),
        None,
    )
    if found is None:
        raise Http404("That is not a section of this QAD.")
    section, questions = found
    answers = selectors.qad_answers(qad.submission)
    open_by_question = selectors.unresolved_clarifications(qad.submission)
    rows = [{"question": q, "answer": answers.get(q.pk), "open": open_by_question.get(q.pk, 0)} for q in questions]
    return page(request, "qad_section.html", {**qad.context(), "section": section, "rows": rows})


# --- one answer ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@portal_page
def qad_question(request: HttpRequest, application_id: int, kind: str, number: str) -> HttpResponse:
    """One question: the participant writes the answer and its evidence; everyone who reads the QAD
    sees the answer, its evidence and the clarifications on it."""
    qad = _qad_page(request, application_id, kind)
    template = qad.submission.template if qad.submission else selectors.template_active()
    if template is None:
        raise Http404("No QAD template is active.")
    if qad.submission is None and not qad.editable:
        raise Http404("This QAD has no version yet.")
    question = next(
        (
            q
            for q in selectors.template_questions(template, role_group_id=qad.application.market_role.role_group_id)
            if q.number == number
        ),
        None,
    )
    if question is None:
        raise Http404("That is not a question of this QAD.")
    answer = selectors.qad_answers(qad.submission).get(question.pk) if qad.submission else None
    evidence = list(answer.evidence.all()) if answer else []
    choices = [(e.pk, e.original_name) for e in evidence]
    if request.method == "POST":
        if not qad.editable:
            raise DjangoPermissionDenied("This QAD cannot be changed now.")
        form = AnswerForm(request.POST, evidence_choices=choices)
        uploads = request.FILES.getlist("files")
        if form.is_valid():
            try:
                services.qad_answer_save(
                    actor=request.user,
                    application_id=application_id,
                    kind=kind,
                    question_number=number,
                    text=form.cleaned_data["text"],
                    uploads=uploads,
                    remove_evidence_ids=form.cleaned_data["remove_evidence"],
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(
                    exc, {"answer": "id_text", "evidence": "id_files", "question": "id_text"}
                )
                if exc.details.get("rule"):
                    errors = PageErrors(status=exc.status)
                    errors.add(exc.message, field_name="files", target="id_files")
                return _question_page(request, qad, question, answer, form, errors=errors)
            messages.success(request, f"Your answer to {number} has been saved to the draft.")
            following = _next_question(qad, template, question)
            if request.POST.get("then") == "next" and following is not None:
                return redirect("documents:qad_question", application_id, kind, following.number)
            return redirect("documents:qad_section", application_id, kind, question.section.number)
        return _question_page(request, qad, question, answer, form, errors=PageErrors.from_form(form))
    form = AnswerForm(initial={"text": answer.text if answer else ""}, evidence_choices=choices)
    return _question_page(request, qad, question, answer, form)


def _next_question(qad: QadPage, template: Any, question: QadQuestion) -> QadQuestion | None:
    questions = selectors.template_questions(template, role_group_id=qad.application.market_role.role_group_id)
    numbers = [q.number for q in questions]
    index = numbers.index(question.number)
    return questions[index + 1] if index + 1 < len(questions) else None


def _question_page(
    request: HttpRequest,
    qad: QadPage,
    question: QadQuestion,
    answer: Any,
    form: AnswerForm,
    *,
    errors: PageErrors | None = None,
    clarification_form: MessageForm | None = None,
) -> HttpResponse:
    clarifications = (
        selectors.clarifications_for(application=qad.application, kind=qad.kind).filter(
            question__number=question.number
        )
        if qad.submission
        else Clarification.objects.none()
    )
    latest_submitted = selectors.qad_latest_submitted(qad.application, qad.kind)
    may_raise = (
        latest_submitted is not None
        and qad.submission is not None
        and qad.submission.pk == latest_submitted.pk
        and qad.task.state == TaskState.SUBMITTED
        and not qad.application.is_closed
        and can_review_question(request.user, qad.task, question)
    )
    return page(
        request,
        "qad_question.html",
        {
            **qad.context(),
            "question": question,
            "answer": answer,
            "evidence": list(answer.evidence.all()) if answer else [],
            "form": form,
            "clarifications": clarifications,
            "may_raise": may_raise,
            "clarification_form": clarification_form or MessageForm(),
        },
        errors=errors,
    )


# --- check your answers and submit ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@portal_page
def qad_check(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    if request.method == "POST" and not qad.is_participant:
        raise DjangoPermissionDenied("Only members of the applying organisation can submit its QAD.")
    if qad.draft is None:
        if request.method == "POST":
            return _form_page(
                request, qad, errors=_single(InvalidInput(f"There is no draft of the {qad.kind.label} to submit."))
            )
        raise Http404("There is no draft to check.")
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if not form.is_valid():
            return _check_page(request, qad, form, errors=PageErrors.from_form(form))
        try:
            services.qad_submit(
                actor=request.user, application_id=application_id, kind=kind, comment=form.cleaned_data["comment"]
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            return _check_page(request, qad, form, errors=PageErrors.from_error(exc, {"comment": "id_comment"}))
        messages.success(request, f"You submitted version {qad.draft.version} of the {qad.kind.label} for review.")
        return redirect(_form_url(application_id, kind))
    return _check_page(request, qad, SubmitForm())


def _single(error: ApplicationError) -> PageErrors:
    return PageErrors.from_error(error)


def _answer_sections(submission: QadSubmission, application: Application) -> list[dict[str, Any]]:
    answers = selectors.qad_answers(submission)
    return [
        {"section": section, "rows": [{"question": q, "answer": answers.get(q.pk)} for q in questions]}
        for section, questions in selectors.template_sections(
            submission.template, role_group_id=application.market_role.role_group_id
        )
    ]


def _check_page(
    request: HttpRequest, qad: QadPage, form: SubmitForm, *, errors: PageErrors | None = None
) -> HttpResponse:
    assert qad.draft is not None
    missing = selectors.qad_missing(qad.draft, role_group_id=qad.application.market_role.role_group_id)
    return page(
        request,
        "qad_check.html",
        {
            **qad.context(),
            "sections": _answer_sections(qad.draft, qad.application),
            "missing": missing,
            "form": form,
            "may_submit": qad.editable and qad.task.state != TaskState.CANNOT_START,
        },
        errors=errors,
    )


# --- versions and what changed ------------------------------------------------------------------


@require_GET
@portal_page
def qad_versions(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    versions = selectors.qad_versions(user=request.user, application=qad.application, kind=qad.kind)
    return page(request, "qad_versions.html", {**qad.context(), "versions": versions})


@require_GET
@portal_page
def qad_version(request: HttpRequest, application_id: int, kind: str, version: int) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    submission = selectors.qad_version_get(
        user=request.user, application=qad.application, kind=qad.kind, version=version
    )
    return page(
        request,
        "qad_version.html",
        {**qad.context(), "shown": submission, "sections": _answer_sections(submission, qad.application)},
    )


@require_GET
@portal_page
def qad_compare(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    """What changed between two versions, question by question."""
    qad = _qad_page(request, application_id, kind)
    versions = selectors.qad_versions(user=request.user, application=qad.application, kind=qad.kind)
    context: dict[str, Any] = {**qad.context(), "versions": versions, "diff": None}
    if not request.GET:
        if len(versions) < 2:
            return page(request, "qad_compare.html", {**context, "form": CompareForm()})
        form = CompareForm(data={"old": versions[1].version, "new": versions[0].version})
    else:
        form = CompareForm(request.GET)
    context["form"] = form
    if not form.is_valid():
        return page(request, "qad_compare.html", context, errors=PageErrors.from_form(form))
    try:
        diff = selectors.qad_diff(
            user=request.user,
            application=qad.application,
            kind=qad.kind,
            old_version=form.cleaned_data["old"],
            new_version=form.cleaned_data["new"],
        )
    except NotFound as exc:
        errors = PageErrors(status=404)
        errors.add(exc.message, field_name="old", target="id_old")
        return page(request, "qad_compare.html", context, errors=errors)
    except ApplicationError as exc:
        return page(request, "qad_compare.html", context, errors=PageErrors.from_error(exc, {"old": "id_old"}))
    return page(request, "qad_compare.html", {**context, "diff": diff})


# --- clarifications ----------------------------------------------------------------------------


@require_GET
@portal_page
def qad_clarifications(request: HttpRequest, application_id: int, kind: str) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    clarifications = selectors.clarifications_for(application=qad.application, kind=qad.kind)
    return page(request, "qad_clarifications.html", {**qad.context(), "clarifications": clarifications})


@require_POST
@portal_page
def clarification_raise(request: HttpRequest, application_id: int, kind: str, number: str) -> HttpResponse:
    qad = _qad_page(request, application_id, kind)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            clarification = services.clarification_raise(
                actor=request.user,
                application_id=application_id,
                kind=kind,
                question_number=number,
                text=form.cleaned_data["text"],
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            errors = PageErrors(status=exc.status)
            errors.add(exc.message, field_name="clarification", target="id_clarification_text")
        else:
            messages.success(request, f"Clarification {clarification.reference} was sent to the participant.")
            return redirect("documents:clarification", application_id, kind, clarification.pk)
    else:
        errors = PageErrors()
        for message in form.errors.get("text", []):
            errors.add(str(message), field_name="clarification", target="id_clarification_text")
    if qad.submission is None:
        raise Http404("This QAD has no version yet.")
    question = _question(qad.submission, qad.application, number)
    answer = selectors.qad_answers(qad.submission).get(question.pk)
    answer_form = AnswerForm(
        initial={"text": answer.text if answer else ""},
        evidence_choices=[(e.pk, e.original_name) for e in (answer.evidence.all() if answer else [])],
    )
    return _question_page(request, qad, question, answer, answer_form, errors=errors, clarification_form=form)


def _clarification_page(
    request: HttpRequest,
    clarification: Clarification,
    *,
    errors: PageErrors | None = None,
    form: MessageForm | None = None,
    failed_action: str = "",
) -> HttpResponse:
    application = clarification.submission.application
    task = selectors.qad_task(application, clarification.submission.kind)
    status = clarification.status
    participant = is_participant_of(request.user, application)
    reviewer = can_review_question(request.user, task, clarification.question)
    actions = []
    if not application.is_closed:
        if participant and status == ClarificationStatus.OPEN:
            actions.append(("answer", "Answer the clarification", "Your answer", "Send answer"))
        if reviewer and status == ClarificationStatus.ANSWERED:
            actions.append(("reply", "Ask a follow-up question", "Your follow-up question", "Send to the participant"))
        if reviewer and status != ClarificationStatus.CLOSED:
            actions.append(("close", "Close the clarification", "Closing note (optional)", "Close"))
    return page(
        request,
        "clarification.html",
        {
            "application": application,
            "kind": clarification.submission.kind,
            "kind_label": QadKind(clarification.submission.kind).label,
            "clarification": clarification,
            "thread": selectors.clarification_messages(clarification),
            "actions": actions,
            "form": form or MessageForm(),
            "failed_action": failed_action,
        },
        errors=errors,
    )


@require_GET
@portal_page
def clarification_detail(request: HttpRequest, application_id: int, kind: str, clarification_id: int) -> HttpResponse:
    clarification = selectors.clarification_get(user=request.user, clarification_id=clarification_id)
    if clarification.submission.application_id != application_id or clarification.submission.kind != kind:
        raise Http404("No clarification was found with that reference.")
    return _clarification_page(request, clarification)


@require_POST
@portal_page
def clarification_act(
    request: HttpRequest, application_id: int, kind: str, clarification_id: int, action: str
) -> HttpResponse:
    # Who may answer (the participant) or reply and close (a reviewer of this QAD) is asked before the
    # clarification is looked up; the service asks again about its question.
    qad = _qad_page(request, application_id, kind)
    if action == ClarificationAction.ANSWER and not qad.is_participant:
        raise DjangoPermissionDenied("Only members of the applying organisation answer its clarifications.")
    if action in {ClarificationAction.REPLY, ClarificationAction.CLOSE} and not qad.is_reviewer:
        raise DjangoPermissionDenied("Only the reviewers of this QAD reply to and close its clarifications.")
    clarification = selectors.clarification_get(user=request.user, clarification_id=clarification_id)
    if clarification.submission.application_id != application_id or clarification.submission.kind != kind:
        raise Http404("No clarification was found with that reference.")
    if action not in {ClarificationAction.ANSWER, ClarificationAction.REPLY, ClarificationAction.CLOSE}:
        raise Http404("There is no such action.")
    form = MessageForm(request.POST)
    targets = {"text": f"text-{action}"}
    if not form.is_valid():
        return _clarification_page(
            request, clarification, errors=PageErrors.from_form(form, targets), form=form, failed_action=action
        )
    try:
        services.clarification_act(
            actor=request.user, clarification_id=clarification_id, action=action, text=form.cleaned_data["text"]
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        clarification = selectors.clarification_get(user=request.user, clarification_id=clarification_id)
        return _clarification_page(
            request,
            clarification,
            errors=PageErrors.from_error(exc, targets),
            form=form,
            failed_action=action,
        )
    done = {
        "answer": "Your answer was sent.",
        "reply": "Your follow-up was sent.",
        "close": "The clarification is closed.",
    }
    messages.success(request, done[action])
    return redirect("documents:clarification", application_id, kind, clarification_id)


# --- signing ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@portal_page
def qad_sign(request: HttpRequest, application_id: int) -> HttpResponse:
    """Read the declaration, re-enter the password (and authenticator code) and sign."""
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    if request.method == "POST":
        if not can_sign_final_qad(request.user, application):
            raise DjangoPermissionDenied(
                "Only a Company Director of the organisation (or a signing delegate, for a role that qualifies under "
                "the REC alone) may sign its Final QAD."
            )
        form = SignForm(request.POST)
        if form.is_valid():
            try:
                signature = services.qad_sign(
                    actor=request.user,
                    application_id=application_id,
                    password=form.cleaned_data["password"],
                    declaration_version=form.cleaned_data["declaration_version"],
                    otp_code=form.cleaned_data["otp_code"],
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                targets = {"password": "id_password", "otp_code": "id_otp_code", "declaration_version": ""}
                return _sign_page(request, application, errors=PageErrors.from_error(exc, targets))
            messages.success(
                request,
                f"You signed version {signature.submission.version} of the Final QAD of {application.reference}.",
            )
            return redirect("documents:qad_signature", application_id)
        return _sign_page(request, application, errors=PageErrors.from_form(form))
    return _sign_page(request, application)


def _sign_page(request: HttpRequest, application: Application, *, errors: PageErrors | None = None) -> HttpResponse:
    refusal = ""
    version = None
    try:
        version = services.signing_check(actor=request.user, application=application)
    except NotFound:
        raise
    except ApplicationError as exc:
        refusal = exc.message
    declaration = selectors.declaration_current()
    answers = selectors.qad_answers(version) if version else {}
    files = {e.pk for a in answers.values() for e in a.evidence.all()}
    return page(
        request,
        "qad_sign.html",
        {
            "application": application,
            "version": version,
            "refusal": refusal,
            "declaration": declaration,
            "form": SignForm(initial={"declaration_version": declaration.version}),
            "answer_count": len(answers),
            "file_count": len(files),
            "needs_code": selectors.has_second_factor(request.user),
            "signature": selectors.signature_valid(application),
        },
        errors=errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def qad_signature(request: HttpRequest, application_id: int) -> HttpResponse:
    """The signature's status and its manifest; "verify now" checks it again, files included, and
    voids a signature that no longer matches."""
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    signatures = selectors.signatures_for(application)
    if request.method == "POST":
        if not signatures:
            raise Http404("The Final QAD has not been signed.")
        check = services.signature_verify_record(actor=request.user, signature_id=signatures[0].pk)
        if check.ok:
            messages.success(
                request,
                f"The manifest matches: {check.answers_checked} answers and {check.files_checked} files checked.",
            )
        else:
            messages.warning(request, "The manifest no longer matches the Final QAD: the signature is void.")
        return redirect("documents:qad_signature", application_id)
    latest = signatures[0] if signatures else None
    shown = signature_check(latest, check_files=False) if latest is not None else None
    return page(
        request,
        "qad_signature.html",
        {
            "application": application,
            "signature": latest,
            "check": shown,
            "history": signatures[1:],
            "manifest": _manifest_rows(latest) if latest else [],
            "signoff": selectors.signoff_task(application),
        },
    )


def _manifest_rows(signature: Any) -> list[dict[str, Any]]:
    try:
        manifest = json.loads(signature.manifest)
    except ValueError:
        return []
    return list(manifest.get("answers") or [])


@require_http_methods(["GET", "POST"])
@portal_page
def qad_reopen(request: HttpRequest, application_id: int) -> HttpResponse:
    """The Code Bodies reopen an agreed Final QAD for changes (voiding a signature of it)."""
    qad = _qad_page(request, application_id, QadKind.FINAL)
    if not can_reopen_final_qad(request.user, qad.task):
        raise DjangoPermissionDenied("Only the Code Bodies who agree the Final QAD complete may reopen it.")
    form = ReasonForm(request.POST or None)
    errors = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.qad_final_reopen(
                    actor=request.user, application_id=application_id, reason=form.cleaned_data["reason"]
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, {"reason": "id_reason"})
            else:
                messages.success(request, "The Final QAD is reopened: the participant can now change it.")
                return redirect(_form_url(application_id, QadKind.FINAL))
        else:
            errors = PageErrors.from_form(form)
    return page(
        request,
        "qad_reopen.html",
        {**qad.context(), "form": form, "signature": selectors.signature_valid(qad.application)},
        errors=errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def qad_delegates(request: HttpRequest, application_id: int) -> HttpResponse:
    """The organisation's signing delegates: listed to its members, appointed by its directors."""
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    if not is_participant_of(request.user, application):
        raise Http404("No signing delegates were found.")
    organisation_id = application.organisation_id
    members = [
        (u.pk, f"{u.display_name} ({u.email})")
        for u in organisation_users(organisation_id).order_by("full_name", "email")
        if not user_is_director_of(u, organisation_id)
    ]
    form = DelegateForm(request.POST or None, members=members)
    errors = None
    if request.method == "POST":
        if not can_manage_delegates(request.user, organisation_id):
            raise DjangoPermissionDenied("Only a Company Director may appoint signing delegates.")
        if form.is_valid():
            try:
                delegate = services.signing_delegate_grant(
                    actor=request.user, organisation_id=organisation_id, user_id=form.cleaned_data["user"]
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, {"user": "id_user"})
            else:
                messages.success(request, f"{delegate.user.display_name} is now a signing delegate.")
                return redirect("documents:qad_delegates", application_id)
        else:
            errors = PageErrors.from_form(form)
    return page(
        request,
        "qad_delegates.html",
        {
            "application": application,
            "delegates": selectors.signing_delegates(user=request.user, organisation_id=organisation_id),
            "form": form,
            "may_manage": can_manage_delegates(request.user, organisation_id),
            "rec_only": role_qualifies_under_rec_alone(application.market_role.role_group_id),
        },
        errors=errors,
    )


@require_POST
@portal_page
def qad_delegate_revoke(request: HttpRequest, application_id: int, delegate_id: int) -> HttpResponse:
    application = selectors.qad_application_get(user=request.user, application_id=application_id)
    if not is_participant_of(request.user, application):
        raise Http404("No signing delegate was found.")
    delegates = selectors.signing_delegates(user=request.user, organisation_id=application.organisation_id)
    if not delegates.filter(pk=delegate_id).exists():
        raise Http404("No signing delegate was found.")
    delegate = services.signing_delegate_revoke(actor=request.user, delegate_id=delegate_id)
    messages.success(request, f"{delegate.user.display_name} is no longer a signing delegate.")
    return redirect("documents:qad_delegates", application_id)


# --- evidence downloads --------------------------------------------------------------------------


@require_GET
@portal_page
def evidence_download(request: HttpRequest, evidence_id: int) -> Any:
    """An evidence file, as an attachment; every download by a reviewer is audited."""
    if not selectors.evidence_visible(user=request.user, evidence_id=evidence_id):
        raise Http404("No evidence file was found with that reference.")
    evidence = services.evidence_open_for_download(actor=request.user, evidence_id=evidence_id)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=safe_download_name(evidence.original_name),
        content_type=evidence.content_type or "application/octet-stream",
    )
