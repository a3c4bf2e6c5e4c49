"""The PQS pages: the PQS with its placing-reliance proposal, the form, proposal items, "check your
answers" before submitting, and the Code Bodies' decision on each item.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's PQS answers 404."""

import mimetypes
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.errors import ApplicationError, NotFound
from portal.core.pages import ErrorItem, PageErrors, portal_page, safe_download_name
from portal.documents.services import evidence_open_for_download
from portal.prequalification import selectors, services
from portal.prequalification.forms import DecisionForm, ItemForm, PqsForm, SubmitForm
from portal.prequalification.models import ItemDecision
from portal.prequalification.permissions import may_decide_role, may_edit_role
from portal.prequalification.rules import FIELD_LABELS, PQS_TASK
from portal.prequalification.selectors import PqsDetail
from portal.qualification.services import task_transition
from portal.qualification.workflow import Action, TaskState

MAX_UPLOADS_AT_ONCE = 10


# --- errors in the GOV.UK error summary (the shape `components/error_summary.html` reads) ---------


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "applications", **context, "errors": errors or PageErrors()}
    return render(request, template, context, status=errors.status if errors else 200)


def _to_overview(application_id: int) -> HttpResponse:
    return redirect("prequalification:pqs", application_id=application_id)


def _refuse_non_editor(request: HttpRequest, detail: PqsDetail) -> None:
    """403 for someone who may never edit this PQS: asked before any item the address names is looked up."""
    if not may_edit_role(request.user, detail.task):
        raise DjangoPermissionDenied("Only a member of the applying organisation can change its PQS.")


def _require_editor(request: HttpRequest, detail: PqsDetail) -> HttpResponse | None:
    """For the editing pages: 403 for someone who may never edit this PQS; back to the PQS, with the
    reason, while its state does not allow changes."""
    _refuse_non_editor(request, detail)
    if not detail.can_edit:
        messages.info(request, _not_editable_reason(detail))
        return _to_overview(detail.application.pk)
    return None


def _not_editable_reason(detail: PqsDetail) -> str:
    if detail.application.is_closed:
        return f"{detail.application.reference} is closed: its PQS can no longer be changed."
    return {
        TaskState.SUBMITTED: "The PQS is with the Code Bodies for review, so it cannot be changed now.",
        TaskState.COMPLETED: "The Code Bodies have accepted the PQS, so it cannot be changed.",
        TaskState.NOT_REQUIRED: "The PQS is not required for this application.",
    }.get(TaskState(detail.task.state), "The PQS cannot be changed now.")


# --- the PQS ---------------------------------------------------------------------------------------


@require_GET
@portal_page
def pqs(request: HttpRequest, application_id: int) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    return _render(
        request,
        "prequalification/pqs.html",
        {
            "detail": detail,
            "application": detail.application,
            "task": detail.task,
            "rows": summary_rows(detail),
            "versions": selectors.pqs_versions(user=request.user, application_id=application_id),
            "is_reviewer": may_decide_role(request.user, detail.task),
        },
    )


PQS_TARGETS = {
    "preferred_wave": "id_preferred_wave",
    "pit_approach": "id_pit_approach",
    "pit_start_date": "id_pit_start_date_day",
    "pit_completion_date": "id_pit_completion_date_day",
    "qt_approach": "id_qt_approach",
    "qt_start_date": "id_qt_start_date_day",
    "qt_completion_date": "id_qt_completion_date_day",
    "target_migration_date": "id_target_migration_date_day",
    "supplier_hub_relationships": "id_supplier_hub_relationships",
}


@require_http_methods(["GET", "POST"])
@portal_page
def pqs_edit(request: HttpRequest, application_id: int) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    if (leave := _require_editor(request, detail)) is not None:
        return leave
    form = PqsForm(request.POST or None, waves=selectors.wave_choices(), pqs=detail.pqs)
    errors: PageErrors | None = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.pqs_save_draft(actor=request.user, application_id=application_id, fields=form.to_fields())
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, PQS_TARGETS)
            else:
                messages.success(request, "Your PQS has been saved.")
                return _to_overview(application_id)
        else:
            errors = PageErrors.from_form(form, PQS_TARGETS)
    by_field = errors.by_field if errors else {}
    return _render(
        request,
        "prequalification/pqs_form.html",
        {
            "detail": detail,
            "application": detail.application,
            "form": form,
            "dates": {name: form.date_input(name, by_field.get(name, "")) for name in PqsForm.DATE_FIELDS},
        },
        errors=errors,
    )


@require_GET
@portal_page
def pqs_check(request: HttpRequest, application_id: int) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    if (leave := _require_editor(request, detail)) is not None:
        return leave
    return _check_page(request, detail, SubmitForm())


def _check_page(
    request: HttpRequest, detail: PqsDetail, form: SubmitForm, errors: PageErrors | None = None
) -> HttpResponse:
    return _render(
        request,
        "prequalification/pqs_check.html",
        {
            "detail": detail,
            "application": detail.application,
            "rows": summary_rows(detail),
            "form": form,
        },
        errors=errors,
    )


@require_POST
@portal_page
def pqs_submit(request: HttpRequest, application_id: int) -> HttpResponse:
    if not may_edit_role(request.user, selectors.pqs_task_get(user=request.user, application_id=application_id)):
        raise DjangoPermissionDenied("Only a member of the applying organisation can submit its PQS.")
    form = SubmitForm(request.POST)
    if form.is_valid():
        try:
            task_transition(
                actor=request.user,
                application_id=application_id,
                task_code=PQS_TASK,
                action=Action.SUBMIT,
                comment=form.cleaned_data["comment"],
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            detail = selectors.pqs_detail(user=request.user, application_id=application_id)
            errors = PageErrors.from_error(exc, {"comment": "id_comment"})
            return _check_page(request, detail, form, errors)
        messages.success(request, "You submitted your PQS to the Code Bodies.")
        return _to_overview(application_id)
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    return _check_page(request, detail, form, PageErrors.from_form(form, {"comment": "id_comment"}))


# --- proposal items --------------------------------------------------------------------------------

ITEM_TARGETS = {
    "title": "id_title",
    "relied_on": "id_relied_on",
    "scope": "id_scope",
    "identifiers": "id_identifiers",
    "provider_kind": "id_provider_kind",
    "provider_name": "id_provider_name",
    "artefacts": "id_artefacts",
    "rationale": "id_rationale",
    "evidence_ids": "id_evidence_ids",
    "evidence": "id_files",
    "files": "id_files",
    "items": "id_title",
}


def _uploads(request: HttpRequest) -> list[Any]:
    return list(request.FILES.getlist("files"))


@require_http_methods(["GET", "POST"])
@portal_page
def item_add(request: HttpRequest, application_id: int) -> HttpResponse:
    return _item_page(request, application_id, item_id=None)


@require_http_methods(["GET", "POST"])
@portal_page
def item_edit(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    return _item_page(request, application_id, item_id=item_id)


def _item_page(request: HttpRequest, application_id: int, *, item_id: int | None) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    _refuse_non_editor(request, detail)
    item = (
        selectors.reliance_item_get(user=request.user, application_id=application_id, item_id=item_id)
        if item_id is not None
        else None
    )
    if (leave := _require_editor(request, detail)) is not None:
        return leave
    choices = selectors.application_evidence_choices(user=request.user, application_id=application_id)
    form = ItemForm(request.POST or None, evidence_choices=choices, item=item)
    errors: PageErrors | None = None
    if request.method == "POST":
        uploads = _uploads(request)
        if len(uploads) > MAX_UPLOADS_AT_ONCE:
            errors = PageErrors()
            errors.add(f"Upload {MAX_UPLOADS_AT_ONCE} files or fewer at a time", field_name="files", target="id_files")
        elif form.is_valid():
            try:
                if item is None:
                    services.reliance_item_add(
                        actor=request.user, application_id=application_id, fields=form.to_fields(), uploads=uploads
                    )
                else:
                    services.reliance_item_update(
                        actor=request.user,
                        application_id=application_id,
                        item_id=item.pk,
                        fields=form.to_fields(),
                        uploads=uploads,
                    )
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, ITEM_TARGETS)
                if "rule" in exc.details:  # an evidence file broke a rule
                    errors.by_field.setdefault("files", exc.message)
                    errors.items = [ErrorItem(exc.message, "id_files")]
            else:
                messages.success(request, "The proposal item has been added." if item is None else "Item saved.")
                return _to_overview(application_id)
        else:
            errors = PageErrors.from_form(form, ITEM_TARGETS)
    return _render(
        request,
        "prequalification/item_form.html",
        {"detail": detail, "application": detail.application, "item": item, "form": form},
        errors=errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def item_remove(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    _refuse_non_editor(request, detail)
    item = selectors.reliance_item_get(user=request.user, application_id=application_id, item_id=item_id)
    if (leave := _require_editor(request, detail)) is not None:
        return leave
    errors: PageErrors | None = None
    if request.method == "POST":
        try:
            services.reliance_item_remove(actor=request.user, application_id=application_id, item_id=item_id)
        except NotFound:
            raise
        except ApplicationError as exc:
            errors = PageErrors.from_error(exc, {})
        else:
            messages.success(request, f"“{item.title}” has been removed from the proposal.")
            return _to_overview(application_id)
    return _render(
        request,
        "prequalification/item_remove.html",
        {"detail": detail, "application": detail.application, "item": item},
        errors=errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def item_decide(request: HttpRequest, application_id: int, item_id: int) -> HttpResponse:
    detail = selectors.pqs_detail(user=request.user, application_id=application_id)
    if not may_decide_role(request.user, detail.task):
        raise DjangoPermissionDenied("Only the Code Bodies can decide on proposal items.")
    item = selectors.reliance_item_get(user=request.user, application_id=application_id, item_id=item_id)
    if not detail.can_decide:
        messages.info(request, "Proposal items can be decided on only while the PQS is submitted for review.")
        return _to_overview(application_id)
    initial = (
        {"decision": item.decision, "reason": item.decision_reason}
        if item.decision != ItemDecision.PENDING
        else {"decision": ""}
    )
    form = DecisionForm(request.POST or None, initial=initial)
    errors: PageErrors | None = None
    targets = {"decision": "id_decision", "reason": "id_reason"}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.reliance_item_decide(
                    actor=request.user,
                    application_id=application_id,
                    item_id=item_id,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, targets)
            else:
                messages.success(request, f"Decision recorded on “{item.title}”.")
                return _to_overview(application_id)
        else:
            errors = PageErrors.from_form(form, targets)
    return _render(
        request,
        "prequalification/item_decide.html",
        {"detail": detail, "application": detail.application, "item": item, "form": form},
        errors=errors,
    )


@require_GET
@portal_page
def item_evidence(request: HttpRequest, application_id: int, item_id: int, evidence_id: int) -> Any:
    evidence = selectors.reliance_item_evidence(
        user=request.user, application_id=application_id, item_id=item_id, evidence_id=evidence_id
    )
    evidence = evidence_open_for_download(actor=request.user, evidence_id=evidence.pk)
    filename = safe_download_name(evidence.original_name)
    content_type = evidence.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is no longer in storage.") from exc
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


# --- how the PQS reads on a page -------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    key: str
    value: str
    field: str
    missing: str  # what to do when the value is missing ("Enter the PIT approach"), else ""
    anchor: str


def summary_rows(detail: PqsDetail) -> list[SummaryRow]:
    pqs = detail.pqs
    missing = {m.field: m.message for m in detail.missing}

    def day(value: Any) -> str:
        return f"{value.day} {value:%B %Y}" if value else ""

    values: dict[str, str] = {}
    if pqs is not None:
        values = {
            "preferred_wave": pqs.preferred_wave.name if pqs.preferred_wave else "",
            "pit_approach": pqs.pit_approach,
            "pit_start_date": day(pqs.pit_start_date),
            "pit_completion_date": day(pqs.pit_completion_date),
            "qt_approach": pqs.qt_approach,
            "qt_start_date": day(pqs.qt_start_date),
            "qt_completion_date": day(pqs.qt_completion_date),
            "target_migration_date": day(pqs.target_migration_date),
            "supplier_hub_relationships": pqs.supplier_hub_relationships,
        }
    return [
        SummaryRow(
            key=FIELD_LABELS[name],
            value=values.get(name, ""),
            field=name,
            missing=missing.get(name, ""),
            anchor=PQS_TARGETS[name],
        )
        for name in PQS_TARGETS
    ]
