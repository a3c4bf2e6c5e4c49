"""The DIP onboarding page: the onboarding steps as a checklist, the DIP IDs of the application's MPID
and role with the DIP Manager's confirm button, and the participant's forms.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page
from portal.dip import selectors, services
from portal.dip.forms import DipIdForm, StepForm
from portal.dip.models import DipEnvironment
from portal.dip.permissions import dip_edit_refusal, dip_participant_refusal
from portal.dip.selectors import DipOnboarding

# --- errors in the GOV.UK error summary (the shape `components/error_summary.html` reads) ---------


# --- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedForm:
    """Which form on the page was just sent and refused, and what was entered in it."""

    key: str = ""
    note: str = ""
    value: str = ""


def _step_targets(code: str) -> dict[str, str]:
    return {"note": f"note-{code}", "done": f"note-{code}"}


DIP_ID_TARGETS = {"value": "dip-id-value", "environment": "dip-id-value"}


def _page(
    request: HttpRequest,
    onboarding: DipOnboarding,
    *,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    if onboarding.pre_production is None and onboarding.can_edit:
        add_environment: DipEnvironment | None = DipEnvironment.PRE_PRODUCTION
    elif onboarding.can_record_production:
        add_environment = DipEnvironment.PRODUCTION
    else:
        add_environment = None
    errors = errors or PageErrors()
    context = {
        "nav": "applications",
        "onboarding": onboarding,
        # The message shown beside the DIP ID field, and beside the note of the step form just sent.
        "dip_id_error": errors.by_field.get("value") or errors.by_field.get("environment", ""),
        "step_error": errors.by_field.get("note") or errors.by_field.get("done", ""),
        "application": onboarding.application,
        "task": onboarding.task,
        "add_environment": add_environment,
        "errors": errors,
        "failed": failed or FailedForm(),
    }
    return render(request, "dip/onboarding.html", context, status=errors.status if errors else 200)


def _page_url(application_id: int, anchor: str = "") -> str:
    url = reverse("dip:onboarding", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


def _refused(
    request: HttpRequest, application_id: int, exc: ApplicationError, targets: Mapping[str, str], failed: FailedForm
) -> HttpResponse:
    onboarding = selectors.dip_onboarding(user=request.user, application_id=application_id)
    return _page(request, onboarding, errors=PageErrors.from_error(exc, targets), failed=failed)


@require_GET
@portal_page
def onboarding_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _page(request, selectors.dip_onboarding(user=request.user, application_id=application_id))


@require_POST
@portal_page
def step_set_page(request: HttpRequest, application_id: int, step_code: str) -> HttpResponse:
    onboarding = selectors.dip_onboarding(user=request.user, application_id=application_id)
    row = next((r for r in onboarding.steps if r.step.code == step_code), None)
    if row is None:
        raise NotFound("DIP onboarding has no such step.")
    form = StepForm(request.POST)
    failed = FailedForm(f"step:{step_code}", note=request.POST.get("note", ""))
    targets = _step_targets(step_code)
    try:
        refusal = dip_edit_refusal(request.user, onboarding.task)
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _page(request, onboarding, errors=PageErrors.from_form(form, targets), failed=failed)
        services.dip_step_set(
            actor=request.user,
            application_id=application_id,
            step_code=step_code,
            done=form.is_done,
            note=form.cleaned_data["note"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, targets, failed)
    messages.success(request, f"You marked “{row.step.title}” as {'done' if form.is_done else 'not done'}.")
    return redirect(_page_url(application_id, f"step-{step_code}"))


@require_POST
@portal_page
def dip_id_add_page(request: HttpRequest, application_id: int) -> HttpResponse:
    onboarding = selectors.dip_onboarding(user=request.user, application_id=application_id)
    form = DipIdForm(request.POST)
    failed = FailedForm("dip_id", value=request.POST.get("value", ""))
    try:
        refusal = dip_participant_refusal(request.user, onboarding.task)
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _page(request, onboarding, errors=PageErrors.from_form(form, DIP_ID_TARGETS), failed=failed)
        dip_id = services.dip_id_add(
            actor=request.user,
            application_id=application_id,
            environment=form.cleaned_data["environment"],
            value=form.cleaned_data["value"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, DIP_ID_TARGETS, failed)
    label = DipEnvironment(dip_id.environment).label
    messages.success(request, f"You recorded the {label} DIP ID {dip_id.value}. The DIP Manager will confirm it.")
    return redirect(_page_url(application_id, "dip-ids"))


@require_POST
@portal_page
def dip_id_remove_page(request: HttpRequest, application_id: int, dip_id_id: int) -> HttpResponse:
    try:
        services.dip_id_remove(actor=request.user, application_id=application_id, dip_id_id=dip_id_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, {}, FailedForm())
    messages.success(request, "You removed the DIP ID.")
    return redirect(_page_url(application_id, "dip-ids"))


@require_POST
@portal_page
def dip_id_confirm_page(request: HttpRequest, application_id: int, dip_id_id: int) -> HttpResponse:
    try:
        dip_id = services.dip_id_confirm(actor=request.user, application_id=application_id, dip_id_id=dip_id_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _refused(request, application_id, exc, {}, FailedForm())
    messages.success(request, f"You confirmed the DIP ID {dip_id.value}.")
    return redirect(_page_url(application_id, "dip-ids"))
