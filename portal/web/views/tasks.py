"""One task: its thread, its attachments and the forms of the actions the user may take on it."""

import mimetypes
from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.qualification.hooks import task_page_url_name
from portal.qualification.models import Attachment, Task
from portal.qualification.permissions import can_act_on_task
from portal.qualification.selectors import task_available_transitions, task_entries, task_get
from portal.qualification.services import MAX_ATTACHMENTS, task_transition
from portal.qualification.workflow import Action, TaskKind, Transition
from portal.web.presenters import FILE_ACTIONS, WARNING_ACTIONS, task_status_tag, waiting_for
from portal.web.views.base import render_page

# How each action is put to the user: the heading of its form, a hint, and what its comment is called.
ACTION_HEADINGS: dict[str, str] = {
    Action.START: "Start this task",
    Action.SUBMIT: "Submit for review",
    Action.REQUEST_CHANGES: "Request changes",
    Action.ACCEPT: "Accept",
    Action.MARK_NOT_REQUIRED: "Mark as not required",
    Action.SIGN: "Sign the Final QAD",
    Action.APPROVE: "Approve",
    Action.APPROVE_WITH_CONDITIONS: "Approve with conditions",
    Action.DEFER: "Defer the decision",
    Action.REJECT: "Reject the application",
    Action.COMPLETE: "Complete",
}
ACTION_HINTS: dict[str, str] = {
    Action.START: "Tells everyone following this task that the work has begun.",
    Action.SUBMIT: "Sends your submission and evidence to the assurers of this task.",
    Action.REQUEST_CHANGES: "Sends the submission back to the participant with what must change.",
    Action.ACCEPT: "Records that the submission meets the criteria and completes the task.",
    Action.MARK_NOT_REQUIRED: "Only for a task the route makes optional.",
    Action.SIGN: "As a Company Director you confirm that the Final QAD is complete and accurate.",
    Action.APPROVE: "Records the approval of your body for this application.",
    Action.APPROVE_WITH_CONDITIONS: "Records the approval together with the conditions attached to it.",
    Action.DEFER: "Sends the application back for more information before a later decision.",
    Action.REJECT: "Rejects the application. This closes it and cannot be undone.",
    Action.COMPLETE: "Records that Service Activation is complete: the participant may operate.",
}
COMMENT_LABELS: dict[str, str] = {
    Action.REQUEST_CHANGES: "What needs to change",
    Action.MARK_NOT_REQUIRED: "Why this task is not required",
    Action.APPROVE_WITH_CONDITIONS: "The conditions",
    Action.DEFER: "What information is needed",
    Action.REJECT: "The reason for rejecting",
}
# The confirmation shown after the action was taken.
ACTION_DONE: dict[str, str] = {
    Action.START: "You started “{title}”.",
    Action.SUBMIT: "You submitted “{title}”.",
    Action.REQUEST_CHANGES: "You asked for changes to “{title}”.",
    Action.ACCEPT: "You accepted “{title}”.",
    Action.MARK_NOT_REQUIRED: "You marked “{title}” as not required.",
    Action.SIGN: "You signed the Final QAD.",
    Action.APPROVE: "You recorded the approval: “{title}”.",
    Action.APPROVE_WITH_CONDITIONS: "You recorded the approval with conditions: “{title}”.",
    Action.DEFER: "You deferred the decision: “{title}”.",
    Action.REJECT: "You rejected the application.",
    Action.COMPLETE: "You completed “{title}”.",
}


@dataclass(frozen=True)
class ActionForm:
    transition: Transition
    heading: str
    hint: str
    button: str
    comment_label: str
    comment_required: bool
    takes_files: bool
    warning: bool
    # Filled in when this form was just sent and refused.
    comment_value: str = ""
    comment_error: str = ""
    files_error: str = ""

    @property
    def action(self) -> str:
        return str(self.transition.action)

    @property
    def comment_id(self) -> str:
        return f"comment-{self.action}"

    @property
    def files_id(self) -> str:
        return f"files-{self.action}"


def action_form(transition: Transition) -> ActionForm:
    action = Action(transition.action)
    if action == Action.SUBMIT and transition.comment_required:
        comment_label = "The information asked for"
    else:
        comment_label = COMMENT_LABELS.get(action, "Comment")
    return ActionForm(
        transition=transition,
        heading=ACTION_HEADINGS.get(action, action.label),
        hint=ACTION_HINTS.get(action, ""),
        button=action.label,
        comment_label=comment_label,
        comment_required=transition.comment_required,
        takes_files=action in FILE_ACTIONS,
        warning=action in WARNING_ACTIONS,
    )


def content_page_url(task: Task) -> str:
    """The page of the app that holds this task's content (the PQS form, the QAD, …), if it has one."""
    name = task_page_url_name(task.code)
    if not name:
        return ""
    try:
        return reverse(name, kwargs={"application_id": task.application_id})
    except NoReverseMatch:  # the app's pages are not mounted in this deployment
        return ""


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    errors: PageErrors | None = None,
    failed_action: str = "",
    comment: str = "",
) -> HttpResponse:
    content_url = content_page_url(task)
    forms = [action_form(t) for t in task_available_transitions(user=request.user, task=task)]
    if content_url and task.definition.kind == TaskKind.SIGNOFF:
        # Signing needs the declaration, the signer's password and the sealed manifest: it is done on
        # the sign-off page the link above opens, never through a bare button.
        forms = []
    if content_url and task.definition.kind == TaskKind.APPROVAL:
        # A decision needs its outcome, rationale, conditions and (for the Board) its meeting: it is
        # recorded on the body's decision page. The participant's reply to a deferral stays here.
        forms = [form for form in forms if form.transition.decision is None]
    if errors:
        forms = [
            replace(
                form,
                comment_value=comment,
                comment_error=errors.by_field.get("comment", ""),
                files_error=errors.by_field.get("files", ""),
            )
            if form.action == failed_action
            else form
            for form in forms
        ]
    return render_page(
        request,
        "web/task_detail.html",
        {
            "nav": "applications",
            "application": task.application,
            "task": task,
            "tag": task_status_tag(task),
            "waiting": waiting_for(request.user, task),
            "content_url": content_url,
            "entries": task_entries(task=task),
            "action_forms": forms,
            "max_attachments": MAX_ATTACHMENTS,
        },
        errors=errors,
    )


@require_GET
@portal_page
def task_detail(request: HttpRequest, application_id: int, task_code: str) -> HttpResponse:
    task = task_get(user=request.user, application_id=application_id, task_code=task_code)
    return _task_page(request, task)


@require_POST
@portal_page
def task_action(request: HttpRequest, application_id: int, task_code: str, action: str) -> HttpResponse:
    # Whoever may take no action on this task at all is refused first, whatever the action and the form;
    # the service decides the exact action in the task's state.
    if not can_act_on_task(
        request.user, task_get(user=request.user, application_id=application_id, task_code=task_code)
    ):
        raise PermissionDenied("You do not hold a role that may take any action on this task.")
    comment = request.POST.get("comment", "")
    try:
        task = task_transition(
            actor=request.user,
            application_id=application_id,
            task_code=task_code,
            action=action,
            comment=comment,
            files=request.FILES.getlist("files"),
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        task = task_get(user=request.user, application_id=application_id, task_code=task_code)
        targets = {"comment": f"comment-{action}", "files": f"files-{action}"}
        return _task_page(
            request, task, errors=PageErrors.from_error(exc, targets), failed_action=action, comment=comment
        )
    done = ACTION_DONE.get(action, "“{title}” updated.")
    messages.success(request, done.format(title=task.definition.title))
    return redirect("web:application_detail", application_id=application_id)


def _find_attachment(task: Task, attachment_id: int) -> Attachment:
    for entry in task_entries(task=task):
        for attachment in entry.attachments.all():
            if attachment.pk == attachment_id:
                return attachment
    raise NotFound("No such attachment.")


@require_GET
@portal_page
def attachment_download(request: HttpRequest, application_id: int, task_code: str, attachment_id: int) -> Any:
    task = task_get(user=request.user, application_id=application_id, task_code=task_code)
    attachment = _find_attachment(task, attachment_id)
    filename = safe_download_name(attachment.original_name, default="attachment")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
