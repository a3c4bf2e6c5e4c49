"""The approval bodies' pages: each body's rolling queue, and its decision page on an application
(the DIP Manager sees QAD section 4.5 and DIP onboarding side by side; the Board's secretary records
the decision against the meeting; the REC Code Manager sees the due date). Each view parses, calls one
selector or service and renders; refusals show in the GOV.UK error summary and change nothing.
Recording a decision needs a recent authenticator code (`step_up_required`, portal/accounts/stepup.py)."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.stepup import step_up_required
from portal.approvals import decision_selectors, decision_services
from portal.approvals.decision_selectors import DecisionPage
from portal.approvals.decisions import OUTCOME_HINTS, decision_page_path
from portal.approvals.forms import DecisionForm
from portal.approvals.permissions import can_decide
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page
from portal.participants.models import ApprovalBody
from portal.qualification.selectors import application_get
from portal.qualification.workflow import Decision

DECISION_TARGETS = {
    "outcome": "id_outcome",
    "rationale": "id_rationale",
    "conditions": "id_conditions",
    "meeting": "id_outcome",
}


@require_GET
@portal_page
def approval_queue_page(request: HttpRequest, body: str) -> HttpResponse:
    queue = decision_selectors.approval_queue(user=request.user, body=body)
    return render(request, "approvals/approval_queue.html", {"nav": "approvals", "queue": queue})


def _condition_choices(page: DecisionPage) -> list[tuple[int, str]]:
    return [(item.pk, item.reference) for item in page.agreed_items]


def _decision_page(
    request: HttpRequest, page: DecisionPage, form: DecisionForm | None = None, errors: PageErrors | None = None
) -> HttpResponse:
    outcomes = [(Decision(value), OUTCOME_HINTS[Decision(value)]) for value in Decision.values]
    return render(
        request,
        "approvals/decision.html",
        {
            "nav": "applications",
            "page": page,
            "application": page.application,
            "form": form or DecisionForm(condition_choices=_condition_choices(page)),
            "outcomes": outcomes,
            "errors": errors or PageErrors(),
            "chosen_conditions": {str(v) for v in (request.POST.getlist("conditions") if form is not None else [])},
        },
        status=errors.status if errors else 200,
    )


def _decide(request: HttpRequest, application_id: int, body: str, *, meeting_id: int | None) -> HttpResponse:
    page = decision_selectors.approval_decision_page(user=request.user, application_id=application_id, body=body)
    if request.method == "GET":
        return _decision_page(request, page)
    form = DecisionForm(request.POST, condition_choices=_condition_choices(page))
    if not form.is_valid():
        return _decision_page(request, page, form, PageErrors.from_form(form, DECISION_TARGETS))
    try:
        decision = decision_services.approval_decide(
            actor=request.user,
            application_id=application_id,
            body=body,
            outcome=form.cleaned_data["outcome"],
            rationale=form.cleaned_data["rationale"],
            condition_ids=form.cleaned_data["conditions"],
            meeting_id=meeting_id,
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        page = decision_selectors.approval_decision_page(user=request.user, application_id=application_id, body=body)
        return _decision_page(request, page, form, PageErrors.from_error(exc, DECISION_TARGETS))
    messages.success(
        request,
        f"You recorded the {decision.get_body_display()} decision on {page.application.reference}: "
        f"{decision.get_outcome_display().lower()}. The participant has been told.",
    )
    return redirect(decision_page_path(application_id, body))


def deciders_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A decision posted by someone outside the approval body is refused (403) before the form is read
    and before an authenticator code is asked for; an application out of sight stays 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            application = application_get(user=request.user, application_id=kwargs["application_id"])
            body = str(kwargs.get("body", ApprovalBody.BSC_PAB))
            if not can_decide(request.user, decision_selectors.approval_task_for(application, body)):
                raise PermissionDenied("Only the approval body can record its decision.")
        return view(request, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
@portal_page
@deciders_only
@step_up_required
def decision_page(request: HttpRequest, application_id: int, body: str) -> HttpResponse:
    return _decide(request, application_id, body, meeting_id=None)


@require_http_methods(["GET", "POST"])
@portal_page
@deciders_only
@step_up_required
def pab_decision_page(request: HttpRequest, meeting_id: int, application_id: int) -> HttpResponse:
    """The Board's decision on one agenda item, recorded against that meeting."""
    return _decide(request, application_id, ApprovalBody.BSC_PAB, meeting_id=meeting_id)
