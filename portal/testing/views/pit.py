"""The PIT page: the exit criteria checklist with the evidence of each criterion, and the RTTM
versions at PIT entry and PIT exit, with the participant's forms while the task is with them.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.qualification.services import MAX_ATTACHMENTS
from portal.testing import selectors, services
from portal.testing.forms import MET_CHOICES, CriterionResultForm, RttmUploadForm
from portal.testing.models import PIT_CHECKPOINTS
from portal.testing.permissions import pit_edit_refusal
from portal.testing.selectors import PitChecklist

# --- errors in the GOV.UK error summary (the shape `components/error_summary.html` reads) ---------


# --- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedForm:
    """Which form on the page was just sent and refused, and what was entered in it."""

    key: str = ""
    met: str = ""
    note: str = ""


def _criterion_targets(code: str) -> dict[str, str]:
    return {"met": f"met-{code}", "note": f"note-{code}", "files": f"files-{code}"}


def _rttm_targets(checkpoint: str) -> dict[str, str]:
    return {"file": f"file-{checkpoint}", "note": f"rttm-note-{checkpoint}"}


def _page(
    request: HttpRequest,
    checklist: PitChecklist,
    *,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    context = {
        "nav": "applications",
        "checklist": checklist,
        "application": checklist.application,
        "task": checklist.task,
        "errors": errors or PageErrors(),
        "failed": failed or FailedForm(),
        "met_choices": MET_CHOICES,
        "max_files": MAX_ATTACHMENTS,
    }
    return render(request, "testing/pit_checklist.html", context, status=errors.status if errors else 200)


def _checklist_url(application_id: int, anchor: str = "") -> str:
    url = reverse("testing:pit_checklist", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


@require_GET
@portal_page
def pit_checklist_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _page(request, selectors.pit_checklist(user=request.user, application_id=application_id))


@require_POST
@portal_page
def pit_criterion_record_page(request: HttpRequest, application_id: int, criterion_code: str) -> HttpResponse:
    checklist = selectors.pit_checklist(user=request.user, application_id=application_id)
    row = next((r for r in checklist.rows if r.criterion.code == criterion_code), None)
    if row is None:
        raise NotFound("The PIT checklist of this application has no such criterion.")
    form = CriterionResultForm(request.POST)
    failed = FailedForm(f"criterion:{criterion_code}", request.POST.get("met", ""), request.POST.get("note", ""))
    targets = _criterion_targets(criterion_code)
    try:
        refusal = pit_edit_refusal(request.user, checklist.task)
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _page(request, checklist, errors=PageErrors.from_form(form, targets), failed=failed)
        services.pit_criterion_record(
            actor=request.user,
            application_id=application_id,
            criterion_code=criterion_code,
            met=form.is_met,
            note=form.cleaned_data["note"],
            files=request.FILES.getlist("files"),
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        checklist = selectors.pit_checklist(user=request.user, application_id=application_id)
        return _page(request, checklist, errors=PageErrors.from_error(exc, targets), failed=failed)
    messages.success(request, f"You recorded “{row.criterion.title}”.")
    return redirect(_checklist_url(application_id, f"criterion-{criterion_code}"))


@require_POST
@portal_page
def pit_evidence_remove_page(
    request: HttpRequest, application_id: int, criterion_code: str, evidence_id: int
) -> HttpResponse:
    try:
        services.pit_criterion_evidence_remove(
            actor=request.user, application_id=application_id, criterion_code=criterion_code, evidence_id=evidence_id
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        checklist = selectors.pit_checklist(user=request.user, application_id=application_id)
        return _page(request, checklist, errors=PageErrors.from_error(exc, {}))
    messages.success(request, "You removed the evidence file from the criterion. The file itself is kept.")
    return redirect(_checklist_url(application_id, f"criterion-{criterion_code}"))


@require_POST
@portal_page
def pit_rttm_upload_page(request: HttpRequest, application_id: int, checkpoint: str) -> HttpResponse:
    point = next((c for c in PIT_CHECKPOINTS if c.value == checkpoint), None)
    if point is None:
        raise NotFound("PIT has no such RTTM checkpoint.")
    checklist = selectors.pit_checklist(user=request.user, application_id=application_id)
    form = RttmUploadForm(request.POST)
    failed = FailedForm(f"rttm:{checkpoint}", note=request.POST.get("note", ""))
    targets = _rttm_targets(checkpoint)
    try:
        refusal = pit_edit_refusal(request.user, checklist.task)
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _page(request, checklist, errors=PageErrors.from_form(form, targets), failed=failed)
        rttm = services.pit_rttm_upload(
            actor=request.user,
            application_id=application_id,
            checkpoint=checkpoint,
            upload=request.FILES.get("file"),
            note=form.cleaned_data["note"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        checklist = selectors.pit_checklist(user=request.user, application_id=application_id)
        return _page(request, checklist, errors=PageErrors.from_error(exc, targets), failed=failed)
    messages.success(request, f"You uploaded version {rttm.version} of the RTTM at {point.label}.")
    return redirect(_checklist_url(application_id, f"rttm-{checkpoint}"))


@require_GET
@portal_page
def pit_evidence_download(request: HttpRequest, application_id: int, evidence_id: int) -> FileResponse:
    evidence = services.pit_evidence_open(actor=request.user, application_id=application_id, evidence_id=evidence_id)
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
