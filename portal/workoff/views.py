"""The work-off pages: an application's plan, proposing and changing an item, one item with its history
and the forms of the actions the user may take, closing with evidence, and the list of items across
applications (for Testing Assurance and the Code Bodies).

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.audit.permissions import can_see_request_origin
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.qualification.selectors import task_get
from portal.qualification.services import MAX_ATTACHMENTS
from portal.workoff import selectors, services
from portal.workoff.forms import CloseForm, CommentForm, ItemEditForm, ItemFilterForm, ItemProposeForm
from portal.workoff.permissions import WORKOFF_TASK, can_take_workoff_action
from portal.workoff.selectors import ItemDetail, WorkOffPlan
from portal.workoff.workflow import COMMENT_ACTIONS, WorkOffAction, WorkOffParty

PAGE_SIZE = 25
# Where each field a service names in its refusal is on the page.
ITEM_TARGETS = {
    "covers": "id_covers",
    "action": "id_action",
    "owner": "id_owner",
    "due_on": "id_due_on_day",
    "due_on_day": "id_due_on_day",
}


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "applications", "errors": errors or PageErrors(), "max_files": MAX_ATTACHMENTS, **context}
    return render(request, template, context, status=errors.status if errors else 200)


def _plan_url(application_id: int) -> str:
    return reverse("workoff:plan", args=[application_id])


def _item_url(application_id: int, item_id: int, anchor: str = "") -> str:
    url = reverse("workoff:item_detail", args=[application_id, item_id])
    return f"{url}#{anchor}" if anchor else url


# --- the plan --------------------------------------------------------------------------------------


@require_GET
@portal_page
def plan_page(request: HttpRequest, application_id: int) -> HttpResponse:
    plan = selectors.workoff_plan(user=request.user, application_id=application_id)
    return _render(request, "workoff/plan.html", {"plan": plan, "application": plan.application, "task": plan.task})


# --- proposing and changing ---------------------------------------------------------------------------


def _propose_page(
    request: HttpRequest, plan: WorkOffPlan, form: ItemProposeForm, errors: PageErrors | None = None
) -> HttpResponse:
    return _render(
        request,
        "workoff/item_form.html",
        {"plan": plan, "application": plan.application, "form": form, "item": None},
        errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def item_propose_page(request: HttpRequest, application_id: int) -> HttpResponse:
    plan = selectors.workoff_plan(user=request.user, application_id=application_id)
    if not plan.is_participant:
        raise PermissionDenied("Only the applying organisation can propose work-off items.")
    choices = selectors.coverable(plan.application)
    form = ItemProposeForm(request.POST or None, choices=[(c.value, f"{c.label} ({c.reason})") for c in choices])
    if request.method != "POST":
        return _propose_page(request, plan, form)
    if not form.is_valid():
        return _propose_page(request, plan, form, PageErrors.from_form(form, ITEM_TARGETS))
    try:
        item = services.workoff_item_propose(
            actor=request.user,
            application_id=application_id,
            case_id=form.case_id,
            defect_id=form.defect_id,
            action=form.cleaned_data["action"],
            owner=form.cleaned_data["owner"],
            due_on=form.due_on,
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _propose_page(request, plan, form, PageErrors.from_error(exc, ITEM_TARGETS))
    messages.success(request, f"You proposed {item.reference}. Testing Assurance has been asked to review it.")
    return redirect(_item_url(application_id, item.pk))


def _edit_page(
    request: HttpRequest, detail: ItemDetail, form: ItemEditForm, errors: PageErrors | None = None
) -> HttpResponse:
    return _render(
        request,
        "workoff/item_form.html",
        {"detail": detail, "application": detail.application, "item": detail.item, "form": form},
        errors,
    )


def _refuse_unless_party(request: HttpRequest, application_id: int, action: str) -> None:
    """403 for whoever holds no party that may take `action` on this application's work-off items, before
    the item the address names is looked up (404 first when the application is out of sight)."""
    task = task_get(user=request.user, application_id=application_id, task_code=WORKOFF_TASK)
    if not can_take_workoff_action(request.user, task, action):
        raise PermissionDenied("You do not take the part in work-off items that may do this.")


@require_http_methods(["GET", "POST"])
@portal_page
def item_edit_page(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    _refuse_unless_party(request, application_id, WorkOffAction.EDIT)
    detail = selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
    item = detail.item
    if request.method != "POST":
        if not detail.can_edit:
            raise PermissionDenied(f"{item.reference} cannot be changed now.")
        form = ItemEditForm(
            initial={
                "action": item.action,
                "owner": item.owner,
                "due_on_day": item.due_on.day,
                "due_on_month": item.due_on.month,
                "due_on_year": item.due_on.year,
            }
        )
        return _edit_page(request, detail, form)
    form = ItemEditForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, detail, form, PageErrors.from_form(form, ITEM_TARGETS))
    try:
        services.workoff_item_edit(
            actor=request.user,
            application_id=application_id,
            item_id=item_id,
            action=form.cleaned_data["action"],
            owner=form.cleaned_data["owner"],
            due_on=form.due_on,
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _edit_page(request, detail, form, PageErrors.from_error(exc, ITEM_TARGETS))
    messages.success(request, f"You changed {item.reference} and sent it to Testing Assurance for review.")
    return redirect(_item_url(application_id, item_id))


# --- one item ----------------------------------------------------------------------------------------


def _item_page(
    request: HttpRequest,
    detail: ItemDetail,
    *,
    errors: PageErrors | None = None,
    failed: str = "",
    text: str = "",
) -> HttpResponse:
    return _render(
        request,
        "workoff/item_detail.html",
        {
            "detail": detail,
            "application": detail.application,
            "item": detail.item,
            "row": detail.row,
            "failed": failed,
            "failed_text": text,
            "participant": WorkOffParty.PARTICIPANT in detail.parties,
            "show_request_origin": can_see_request_origin(request.user),
        },
        errors,
    )


@require_GET
@portal_page
def item_detail_page(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    return _item_page(
        request, selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
    )


@require_POST
@portal_page
def item_action_page(request: HttpRequest, application_id: int, item_id: int, action: str) -> HttpResponse:
    if action not in {a.value for a in COMMENT_ACTIONS}:
        raise NotFound("There is no such action on a work-off item.")
    _refuse_unless_party(request, application_id, action)
    form = CommentForm(request.POST)
    text = request.POST.get("comment", "")
    targets = {"comment": f"comment-{action}"}
    try:
        if not form.is_valid():
            detail = selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
            return _item_page(request, detail, errors=PageErrors.from_form(form, targets), failed=action, text=text)
        item = services.workoff_item_transition(
            actor=request.user,
            application_id=application_id,
            item_id=item_id,
            action=action,
            comment=form.cleaned_data["comment"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        detail = selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
        return _item_page(request, detail, errors=PageErrors.from_error(exc, targets), failed=action, text=text)
    messages.success(request, _done_message(WorkOffAction(action), item.reference))
    return redirect(_item_url(application_id, item_id))


def _done_message(action: WorkOffAction, reference: str) -> str:
    return {
        WorkOffAction.REVIEW: f"You marked {reference} as reviewed. The Code Bodies have been asked to agree it.",
        WorkOffAction.REQUEST_CHANGES: f"You asked for changes to {reference}. The participant has been told.",
        WorkOffAction.AGREE: f"You agreed {reference}. It is now a condition of the application.",
        WorkOffAction.WITHDRAW: f"You withdrew {reference}.",
        WorkOffAction.REOPEN: f"You reopened {reference}. The participant has been told what is missing.",
    }[action]


@require_POST
@portal_page
def item_close_page(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    _refuse_unless_party(request, application_id, WorkOffAction.CLOSE)
    form = CloseForm(request.POST)
    text = request.POST.get("note", "")
    targets = {"note": "close-note", "files": "close-files"}
    try:
        if not form.is_valid():
            detail = selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
            return _item_page(request, detail, errors=PageErrors.from_form(form, targets), failed="close", text=text)
        item = services.workoff_item_close(
            actor=request.user,
            application_id=application_id,
            item_id=item_id,
            note=form.cleaned_data["note"],
            files=request.FILES.getlist("files"),
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        detail = selectors.workoff_item_get(user=request.user, application_id=application_id, item_id=item_id)
        return _item_page(request, detail, errors=PageErrors.from_error(exc, targets), failed="close", text=text)
    messages.success(request, f"You closed {item.reference}. Testing Assurance and the Code Bodies have been told.")
    return redirect(_item_url(application_id, item_id))


@require_GET
@portal_page
def evidence_download(request: HttpRequest, application_id: int, evidence_id: int) -> FileResponse:
    evidence = services.workoff_evidence_open(
        actor=request.user, application_id=application_id, evidence_id=evidence_id
    )
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


# --- across applications -------------------------------------------------------------------------------


@require_GET
@portal_page
def item_list_page(request: HttpRequest) -> HttpResponse:
    form = ItemFilterForm(request.GET or None, organisations=selectors.workoff_list_organisations(user=request.user))
    filters = form.filters()
    organisation = filters.get("organisation")
    items = selectors.workoff_item_list(
        user=request.user,
        status=filters.get("status"),
        overdue={"yes": True, "no": False}.get(filters.get("overdue", "")),
        organisation_id=int(organisation) if organisation else None,
        sort=filters.get("sort", "due_on"),
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    sort_query.pop("page", None)
    sort_query["sort"] = "-due_on" if filters.get("sort", "due_on") == "due_on" else "due_on"
    context = {
        "nav": "workoff",
        "form": form,
        "filters": filters,
        "page": page,
        "rows": selectors.rows_of(page.object_list),
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "sort": filters.get("sort", "due_on"),
    }
    template = "workoff/item_list.html#results" if getattr(request, "htmx", False) else "workoff/item_list.html"
    return _render(request, template, context)
