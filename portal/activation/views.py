"""The Service Activation pages: one application's hand-off (the approvals and their conditions, the DIP
IDs, the inputs from the Code Bodies and the DIP Manager, and the checklist with the team's forms), and
the team's queue of hand-offs.

Each view parses, calls one selector or service and renders. Refusals of input are shown in the GOV.UK
error summary, each message linked to the field it is about; a wrong role answers 403 with the reason,
and another organisation's application 404.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.activation import selectors, services
from portal.activation.forms import CheckForm, CompleteForm, GoLiveForm, InputForm, QueueFilterForm
from portal.activation.permissions import can_run_handoff, input_refusal, run_refusal
from portal.activation.selectors import HandoffFilter, HandoffView
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page

PAGE_SIZE = 25
GO_LIVE_TARGETS = {"planned_go_live": "id_planned_go_live_day", "planned_go_live_day": "id_planned_go_live_day"}
INPUT_TARGETS = {"text": "input-text", "body": "input-body"}
COMPLETE_TARGETS = {"comment": "complete-comment", "__all__": "missing"}


@dataclass(frozen=True)
class FailedForm:
    """Which form on the page was just sent and refused, and what was entered in it."""

    key: str = ""
    values: Mapping[str, str] | None = None

    def value(self, name: str) -> str:
        return (self.values or {}).get(name, "")


def _check_targets(code: str) -> dict[str, str]:
    return {"note": f"note-{code}", "done": f"note-{code}"}


def _page(
    request: HttpRequest, view: HandoffView, *, errors: PageErrors | None = None, failed: FailedForm | None = None
) -> HttpResponse:
    errors = errors or PageErrors()
    go_live = view.planned_go_live
    failed = failed or FailedForm()
    day, month, year = "", "", ""
    if failed.key == "go_live":
        day, month, year = (failed.value(f"planned_go_live_{p}") for p in ("day", "month", "year"))
    elif go_live is not None:
        day, month, year = str(go_live.day), str(go_live.month), str(go_live.year)
    context = {
        "nav": "activation",
        "view": view,
        "application": view.application,
        "task": view.task,
        "handoff": view.handoff,
        "errors": errors,
        "failed": failed,
        "go_live": {"day": day, "month": month, "year": year},
        "go_live_error": errors.by_field.get("planned_go_live") or errors.by_field.get("planned_go_live_day", ""),
        "check_error": errors.by_field.get("note") or errors.by_field.get("done", ""),
        "input_error": errors.by_field.get("text", ""),
        "body_error": errors.by_field.get("body", ""),
        "complete_error": errors.by_field.get("comment", ""),
    }
    return render(request, "activation/handoff.html", context, status=errors.status if errors else 200)


def _page_url(application_id: int, anchor: str = "") -> str:
    url = reverse("activation:handoff", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


def _view(request: HttpRequest, application_id: int) -> HandoffView:
    return selectors.handoff_get(user=request.user, application_id=application_id)


def _refused(
    request: HttpRequest, application_id: int, exc: ApplicationError, targets: Mapping[str, str], failed: FailedForm
) -> HttpResponse:
    return _page(request, _view(request, application_id), errors=PageErrors.from_error(exc, targets), failed=failed)


def _raise(refusal: ApplicationError | None) -> None:
    if refusal is not None:
        raise refusal


@require_GET
@portal_page
def handoff_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _page(request, _view(request, application_id))


@require_POST
@portal_page
def start_page(request: HttpRequest, application_id: int) -> HttpResponse:
    _view(request, application_id)  # 404 before anything else for an application the user may not see
    try:
        services.handoff_start(actor=request.user, application_id=application_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, {}, FailedForm())
    messages.success(request, "You started the Service Activation hand-off. The participant has been told.")
    return redirect(_page_url(application_id))


@require_POST
@portal_page
def check_set_page(request: HttpRequest, application_id: int, item_code: str) -> HttpResponse:
    view = _view(request, application_id)
    row = next((r for r in view.checks if r.item.code == item_code and r.item.is_active), None)
    if row is None:
        raise NotFound("The Service Activation checklist has no such item.")
    form = CheckForm(request.POST)
    failed = FailedForm(f"check:{item_code}", {"note": request.POST.get("note", "")})
    targets = _check_targets(item_code)
    try:
        _raise(run_refusal(request.user, view.task, view.handoff))
        if not form.is_valid():
            return _page(request, view, errors=PageErrors.from_form(form, targets), failed=failed)
        services.handoff_check_set(
            actor=request.user,
            application_id=application_id,
            item_code=item_code,
            done=form.is_done,
            note=form.cleaned_data["note"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, targets, failed)
    messages.success(request, f"You marked “{row.item.title}” as {'done' if form.is_done else 'not done'}.")
    return redirect(_page_url(application_id, f"item-{item_code}"))


@require_POST
@portal_page
def go_live_page(request: HttpRequest, application_id: int) -> HttpResponse:
    view = _view(request, application_id)
    form = GoLiveForm(request.POST)
    failed = FailedForm("go_live", {k: request.POST.get(k, "") for k in GoLiveForm.base_fields})
    try:
        _raise(run_refusal(request.user, view.task, view.handoff))
        if not form.is_valid() or form.planned_go_live is None:
            return _page(request, view, errors=PageErrors.from_form(form, GO_LIVE_TARGETS), failed=failed)
        handoff = services.handoff_go_live_set(
            actor=request.user, application_id=application_id, planned_go_live=form.planned_go_live
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, GO_LIVE_TARGETS, failed)
    planned = handoff.planned_go_live
    messages.success(
        request,
        f"The planned go-live date is {planned.day} {planned:%B %Y}." if planned else "The go-live date is unchanged.",
    )
    return redirect(_page_url(application_id, "go-live"))


@require_POST
@portal_page
def input_add_page(request: HttpRequest, application_id: int) -> HttpResponse:
    view = _view(request, application_id)
    form = InputForm(request.POST)
    failed = FailedForm("input", {"text": request.POST.get("text", ""), "body": request.POST.get("body", "")})
    try:
        _raise(input_refusal(request.user, view.application, view.handoff))
        if not form.is_valid():
            return _page(request, view, errors=PageErrors.from_form(form, INPUT_TARGETS), failed=failed)
        services.handoff_input_add(
            actor=request.user,
            application_id=application_id,
            text=form.cleaned_data["text"],
            body=form.cleaned_data["body"] or None,
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, INPUT_TARGETS, failed)
    messages.success(request, "You added your input. The Service Activation team has been told.")
    return redirect(_page_url(application_id, "inputs"))


@require_POST
@portal_page
def complete_page(request: HttpRequest, application_id: int) -> HttpResponse:
    view = _view(request, application_id)
    form = CompleteForm(request.POST)
    failed = FailedForm("complete", {"comment": request.POST.get("comment", "")})
    if not can_run_handoff(request.user, view.task):
        raise PermissionDenied("Only the Service Activation team can complete the hand-off.")
    try:
        if not form.is_valid():
            return _page(request, view, errors=PageErrors.from_form(form, COMPLETE_TARGETS), failed=failed)
        services.handoff_complete(
            actor=request.user, application_id=application_id, comment=form.cleaned_data["comment"]
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, COMPLETE_TARGETS, failed)
    messages.success(
        request,
        "You completed the Service Activation hand-off. The participant has been told it may now operate.",
    )
    return redirect(_page_url(application_id))


# --- the queue -------------------------------------------------------------------------------------------


@require_GET
@portal_page
def queue_page(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    status = form.status_value()
    handoffs = selectors.handoff_list(user=request.user, status=status)
    page = Paginator(handoffs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "nav": "activation",
        "status": status,
        "statuses": HandoffFilter.choices,
        "page": page,
        "rows": selectors.rows_of(page.object_list),
        "query": query.urlencode(),
        "errors": PageErrors(),
    }
    return render(request, "activation/queue.html", context)
