"""The Qualification Testing pages of an application: the QT overview (the `qt` task's page: plan and
readiness status, the set's counts, the live exit checklist), the QT plan with its DIP-flow opt-outs
and its review, the required test set with the execution plan, the schedule by week, the readiness
report with its review, and the exit checklist.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page
from portal.testing import plan_selectors as selectors
from portal.testing import plan_services as services
from portal.testing.models import ReviewStatus, TestBatch
from portal.testing.plan_forms import (
    PLAN_DECISION_CHOICES,
    READINESS_DECISION_CHOICES,
    READY_CHOICES,
    ExecutionPlanForm,
    OptOutForm,
    PlanForm,
    ReadinessItemForm,
    ReadinessSubmitForm,
    ReviewForm,
    date_input_view,
)
from portal.testing.required_set import Inclusion

# --- shared bits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    """What `components/tag.html` reads."""

    text: str
    colour: str = ""


REVIEW_TAGS = {
    ReviewStatus.DRAFT: Tag("Draft", "grey"),
    ReviewStatus.SUBMITTED: Tag("Awaiting review", "blue"),
    ReviewStatus.CHANGES_REQUESTED: Tag("Changes requested", "orange"),
    ReviewStatus.AGREED: Tag("Agreed", "green"),
}
READINESS_TAGS = {**REVIEW_TAGS, ReviewStatus.AGREED: Tag("Confirmed", "green")}


def review_tag(status: str) -> Tag:
    return REVIEW_TAGS[ReviewStatus(status)]


def readiness_tag(status: str) -> Tag:
    return READINESS_TAGS[ReviewStatus(status)]


@dataclass(frozen=True)
class FailedForm:
    """Which form on the page was just sent and refused, and what was entered in it."""

    key: str = ""
    values: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        return (self.values or {}).get(name, "")


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    context = {"nav": "applications", **context, "errors": errors or PageErrors(), "failed": failed or FailedForm()}
    return render(request, template, context, status=errors.status if errors else 200)


def _url(name: str, application_id: int, anchor: str = "") -> str:
    url = reverse(f"testing:{name}", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


# --- the overview (the qt task's page) -------------------------------------------------------------------


@require_GET
@portal_page
def qt_overview_page(request: HttpRequest, application_id: int) -> HttpResponse:
    overview = selectors.qt_overview(user=request.user, application_id=application_id)
    return _render(
        request,
        "testing/qt_overview.html",
        {
            "overview": overview,
            "application": overview.application,
            "task": overview.task,
            "plan_tag": review_tag(overview.plan.status),
            "readiness_tag": readiness_tag(overview.plan.readiness_status),
            "exit": overview.exit,
        },
    )


# --- the exit checklist ------------------------------------------------------------------------------------


@require_GET
@portal_page
def qt_exit_page(request: HttpRequest, application_id: int) -> HttpResponse:
    view = selectors.qt_exit(user=request.user, application_id=application_id)
    template = "testing/qt_exit_checklist.html" if request.htmx else "testing/qt_exit.html"  # type: ignore[attr-defined]
    return _render(request, template, {"exit": view, "application": view.application, "task": view.task})


# --- the QT plan --------------------------------------------------------------------------------------------

PLAN_TARGETS = {
    "approach": "id_approach",
    "reliance_approach": "id_reliance_approach",
    "test_data": "id_test_data",
    "starts_on": "id_starts_on_day",
    "ends_on": "id_ends_on_day",
}
OPT_OUT_TARGETS = {"flow": "id_flow", "reason": "id_reason"}
REVIEW_TARGETS = {"decision": "id_decision", "comment": "id_comment"}


def _plan_page(
    request: HttpRequest,
    detail: selectors.PlanDetail,
    *,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    return _render(
        request,
        "testing/qt_plan.html",
        {
            "detail": detail,
            "application": detail.application,
            "task": detail.task,
            "plan": detail.plan,
            "plan_tag": review_tag(detail.plan.status),
            "flow_choices": [(f.code, f"{f.code} {f.title}") for f in detail.opt_out_choices],
            "decision_choices": PLAN_DECISION_CHOICES,
        },
        errors=errors,
        failed=failed,
    )


@require_GET
@portal_page
def qt_plan_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _plan_page(request, selectors.qt_plan_detail(user=request.user, application_id=application_id))


@require_http_methods(["GET", "POST"])
@portal_page
def qt_plan_edit_page(request: HttpRequest, application_id: int) -> HttpResponse:
    detail = selectors.qt_plan_detail(user=request.user, application_id=application_id)
    refusal = selectors.qt_work_refusal(request.user, detail.task)
    if isinstance(refusal, PermissionDenied):
        raise refusal
    if refusal is not None:
        messages.info(request, refusal.message)
        return redirect(_url("qt_plan", application_id))
    if detail.plan.status == ReviewStatus.SUBMITTED:
        messages.info(
            request, "The QT plan is with Testing Assurance for review: change it once they have reviewed it."
        )
        return redirect(_url("qt_plan", application_id))
    plan = detail.plan
    initial = {
        "approach": plan.approach,
        "reliance_approach": plan.reliance_approach,
        "test_data": plan.test_data,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
    }
    form = PlanForm(request.POST or None, initial=initial)
    errors: PageErrors | None = None
    if request.method == "POST":
        if form.is_valid():
            try:
                change = services.qt_plan_update(
                    actor=request.user, application_id=application_id, fields=form.to_fields()
                )
            except (NotFound, PermissionDenied):
                raise
            except ApplicationError as exc:
                errors = PageErrors.from_error(exc, PLAN_TARGETS)
            else:
                if change.returned_to_draft:
                    messages.success(
                        request,
                        "You changed the agreed QT plan, so it is back in draft. Submit it again for Testing "
                        "Assurance to agree.",
                    )
                else:
                    messages.success(request, "Your QT plan has been saved.")
                return redirect(_url("qt_plan", application_id))
        else:
            errors = PageErrors.from_form(form, PLAN_TARGETS)
    by_field = errors.by_field if errors else {}
    return _render(
        request,
        "testing/qt_plan_form.html",
        {
            "detail": detail,
            "application": detail.application,
            "task": detail.task,
            "form": form,
            "dates": {name: date_input_view(form, name, by_field.get(name, "")) for name in PlanForm.DATE_FIELDS},
        },
        errors=errors,
    )


def _plan_refused(
    request: HttpRequest, application_id: int, exc: ApplicationError, targets: dict[str, str], failed: FailedForm
) -> HttpResponse:
    detail = selectors.qt_plan_detail(user=request.user, application_id=application_id)
    return _plan_page(request, detail, errors=PageErrors.from_error(exc, targets), failed=failed)


@require_POST
@portal_page
def qt_plan_submit_page(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        plan = services.qt_plan_submit(actor=request.user, application_id=application_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _plan_refused(request, application_id, exc, {}, FailedForm("submit"))
    messages.success(request, f"You submitted version {plan.version} of the QT plan. Testing Assurance has been told.")
    return redirect(_url("qt_plan", application_id))


def _refuse_unless_assurer(request: HttpRequest, application_id: int, what: str) -> None:
    """A review by someone who does not assure QT is refused (403) before its form is read; the state
    is the service's to check."""
    task = selectors.qt_task_get(user=request.user, application_id=application_id)
    refusal = selectors.qt_review_refusal(request.user, task, what)
    if isinstance(refusal, PermissionDenied):
        raise refusal


@require_POST
@portal_page
def qt_plan_review_page(request: HttpRequest, application_id: int) -> HttpResponse:
    _refuse_unless_assurer(request, application_id, "the QT plan")
    form = ReviewForm(request.POST, choices=PLAN_DECISION_CHOICES)
    failed = FailedForm(
        "review", {"decision": request.POST.get("decision", ""), "comment": request.POST.get("comment", "")}
    )
    if not form.is_valid():
        detail = selectors.qt_plan_detail(user=request.user, application_id=application_id)
        return _plan_page(request, detail, errors=PageErrors.from_form(form, REVIEW_TARGETS), failed=failed)
    try:
        plan = services.qt_plan_review(
            actor=request.user,
            application_id=application_id,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _plan_refused(request, application_id, exc, REVIEW_TARGETS, failed)
    if plan.status == ReviewStatus.AGREED:
        messages.success(request, f"You agreed version {plan.version} of the QT plan. The participant has been told.")
    else:
        messages.success(request, "You requested changes to the QT plan. The participant has been told.")
    return redirect(_url("qt_plan", application_id))


@require_POST
@portal_page
def qt_opt_out_add_page(request: HttpRequest, application_id: int) -> HttpResponse:
    detail = selectors.qt_plan_detail(user=request.user, application_id=application_id)
    form = OptOutForm(request.POST, flows=[(f.code, f.code) for f in detail.opt_out_choices])
    failed = FailedForm("opt_out", {"flow": request.POST.get("flow", ""), "reason": request.POST.get("reason", "")})
    try:
        refusal = selectors.qt_work_refusal(request.user, detail.task)
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _plan_page(request, detail, errors=PageErrors.from_form(form, OPT_OUT_TARGETS), failed=failed)
        change = services.qt_opt_out_add(
            actor=request.user,
            application_id=application_id,
            flow_code=form.cleaned_data["flow"],
            reason=form.cleaned_data["reason"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _plan_refused(request, application_id, exc, OPT_OUT_TARGETS, failed)
    flow = form.cleaned_data["flow"]
    text = f"You opted out of {flow}: its test cases have left the required set."
    if change.returned_to_draft:
        text += " The agreed QT plan is back in draft: submit it again for review."
    messages.success(request, text)
    return redirect(_url("qt_plan", application_id, "opt-outs"))


@require_POST
@portal_page
def qt_opt_out_remove_page(request: HttpRequest, application_id: int, flow_code: str) -> HttpResponse:
    try:
        change = services.qt_opt_out_remove(actor=request.user, application_id=application_id, flow_code=flow_code)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _plan_refused(request, application_id, exc, {}, FailedForm("opt_out_remove"))
    text = f"You withdrew the opt-out of {flow_code}: its test cases are back in the required set."
    if change.returned_to_draft:
        text += " The agreed QT plan is back in draft: submit it again for review."
    messages.success(request, text)
    return redirect(_url("qt_plan", application_id, "opt-outs"))


# --- the required set and the execution plan ------------------------------------------------------------------

INCLUSION_FILTERS = [
    (Inclusion.REQUIRED.value, "Required"),
    (Inclusion.OPTIONAL.value, "Optional"),
    (Inclusion.RELIANCE.value, "Covered by reliance"),
    (Inclusion.OPTED_OUT.value, "Opted out"),
]
EXECUTION_PLAN_TARGETS = {
    "cases": "set-results",
    "planned_on": "id_planned_on_day",
    "note": "id_note",
    "__all__": "id_planned_on_day",
}


def _filters(request: HttpRequest) -> tuple[str | None, str | None]:
    """The set page's filters; a value that is not offered is ignored (the whole set is shown)."""
    inclusion = request.GET.get("inclusion") or None
    batch = request.GET.get("batch") or None
    if inclusion not in {value for value, _ in INCLUSION_FILTERS}:
        inclusion = None
    if batch not in TestBatch.values:
        batch = None
    return inclusion, batch


def _set_page(
    request: HttpRequest,
    view: selectors.SetView,
    *,
    form: ExecutionPlanForm | None = None,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    by_field = errors.by_field if errors else {}
    form = form or ExecutionPlanForm(cases=[])
    template = "testing/qt_set.html"
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        template = "testing/qt_set.html#results"
    return _render(
        request,
        template,
        {
            "view": view,
            "application": view.application,
            "task": view.task,
            "plan": view.plan,
            "inclusion_filters": [(v, label, view.counts.get(v, 0)) for v, label in INCLUSION_FILTERS],
            "batch_filters": [(v, label, view.batch_counts.get(v, 0)) for v, label in TestBatch.choices],
            "planned_on": date_input_view(form, "planned_on", by_field.get("planned_on", "")),
            "selected": set((failed.get("cases") if failed else None) or []),
        },
        errors=errors,
        failed=failed,
    )


@require_GET
@portal_page
def qt_set_page(request: HttpRequest, application_id: int) -> HttpResponse:
    inclusion, batch = _filters(request)
    return _set_page(
        request, selectors.qt_set(user=request.user, application_id=application_id, inclusion=inclusion, batch=batch)
    )


@require_POST
@portal_page
def qt_execution_plan_page(request: HttpRequest, application_id: int) -> HttpResponse:
    inclusion, batch = _filters(request)
    view = selectors.qt_set(user=request.user, application_id=application_id, inclusion=inclusion, batch=batch)
    form = ExecutionPlanForm(request.POST, cases=[i.row.identifier for i in view.items if i.plannable or i.planned])
    failed = FailedForm("plan", {"cases": request.POST.getlist("cases"), "note": request.POST.get("note", "")})
    try:
        refusal = selectors.qt_work_refusal(request.user, view.task, "the test execution plan")
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _set_page(
                request, view, form=form, errors=PageErrors.from_form(form, EXECUTION_PLAN_TARGETS), failed=failed
            )
        day = None if form.clears else form.cleaned_data["planned_on"]
        entries = [
            services.PlannedEntry(case=case, planned_on=day, note=form.cleaned_data["note"])
            for case in form.cleaned_data["cases"]
        ]
        services.qt_execution_plan_set(actor=request.user, application_id=application_id, entries=entries)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        view = selectors.qt_set(user=request.user, application_id=application_id, inclusion=inclusion, batch=batch)
        return _set_page(
            request, view, form=form, errors=PageErrors.from_error(exc, EXECUTION_PLAN_TARGETS), failed=failed
        )
    count = len(entries)
    if day is None:
        messages.success(request, f"You took {count} test case{'s' if count != 1 else ''} off the execution plan.")
    else:
        messages.success(
            request, f"You planned {count} test case{'s' if count != 1 else ''} on {date_format(day, 'j F Y')}."
        )
    query = request.GET.urlencode()
    return redirect(_url("qt_set", application_id) + (f"?{query}" if query else ""))


@require_GET
@portal_page
def qt_schedule_page(request: HttpRequest, application_id: int) -> HttpResponse:
    schedule = selectors.qt_schedule(user=request.user, application_id=application_id)
    return _render(
        request,
        "testing/qt_set_schedule.html",
        {"schedule": schedule, "application": schedule.application, "task": schedule.task, "plan": schedule.plan},
    )


# --- readiness ------------------------------------------------------------------------------------------------


def _readiness_page(
    request: HttpRequest,
    view: selectors.ReadinessView,
    *,
    errors: PageErrors | None = None,
    failed: FailedForm | None = None,
) -> HttpResponse:
    return _render(
        request,
        "testing/qt_readiness.html",
        {
            "view": view,
            "application": view.application,
            "task": view.task,
            "plan": view.plan,
            "readiness_tag": readiness_tag(view.plan.readiness_status),
            "plan_tag": review_tag(view.plan.status),
            "ready_choices": READY_CHOICES,
            "decision_choices": READINESS_DECISION_CHOICES,
        },
        errors=errors,
        failed=failed,
    )


def _readiness_refused(
    request: HttpRequest, application_id: int, exc: ApplicationError, targets: dict[str, str], failed: FailedForm
) -> HttpResponse:
    view = selectors.qt_readiness(user=request.user, application_id=application_id)
    return _readiness_page(request, view, errors=PageErrors.from_error(exc, targets), failed=failed)


@require_GET
@portal_page
def qt_readiness_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _readiness_page(request, selectors.qt_readiness(user=request.user, application_id=application_id))


@require_POST
@portal_page
def qt_readiness_record_page(request: HttpRequest, application_id: int, item_code: str) -> HttpResponse:
    view = selectors.qt_readiness(user=request.user, application_id=application_id)
    row = next((r for r in view.rows if r.item.code == item_code), None)
    if row is None:
        raise NotFound("The readiness report of this application has no such item.")
    form = ReadinessItemForm(request.POST)
    failed = FailedForm(
        f"item:{item_code}", {"ready": request.POST.get("ready", ""), "note": request.POST.get("note", "")}
    )
    targets = {"ready": f"ready-{item_code}", "note": f"note-{item_code}"}
    try:
        refusal = selectors.qt_work_refusal(request.user, view.task, "the readiness report")
        if refusal is not None:
            raise refusal
        if not form.is_valid():
            return _readiness_page(request, view, errors=PageErrors.from_form(form, targets), failed=failed)
        change = services.qt_readiness_record(
            actor=request.user,
            application_id=application_id,
            item_code=item_code,
            ready=form.is_ready,
            note=form.cleaned_data["note"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _readiness_refused(request, application_id, exc, targets, failed)
    text = f"You recorded “{row.item.title}” as {'ready' if form.is_ready else 'not ready'}."
    if change.returned_to_draft:
        text += " The confirmed readiness report is back in draft: submit it again for Testing Assurance to confirm."
    messages.success(request, text)
    return redirect(_url("qt_readiness", application_id, f"item-{item_code}"))


@require_POST
@portal_page
def qt_readiness_submit_page(request: HttpRequest, application_id: int) -> HttpResponse:
    form = ReadinessSubmitForm(request.POST)
    failed = FailedForm("submit", {"note": request.POST.get("note", "")})
    targets = {"note": "id_submit_note"}
    if not form.is_valid():
        view = selectors.qt_readiness(user=request.user, application_id=application_id)
        return _readiness_page(request, view, errors=PageErrors.from_form(form, targets), failed=failed)
    try:
        services.qt_readiness_submit(actor=request.user, application_id=application_id, note=form.cleaned_data["note"])
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _readiness_refused(request, application_id, exc, targets, failed)
    messages.success(request, "You submitted the readiness report. Testing Assurance has been told.")
    return redirect(_url("qt_readiness", application_id))


@require_POST
@portal_page
def qt_readiness_review_page(request: HttpRequest, application_id: int) -> HttpResponse:
    _refuse_unless_assurer(request, application_id, "the readiness report")
    form = ReviewForm(request.POST, choices=READINESS_DECISION_CHOICES)
    failed = FailedForm(
        "review", {"decision": request.POST.get("decision", ""), "comment": request.POST.get("comment", "")}
    )
    if not form.is_valid():
        view = selectors.qt_readiness(user=request.user, application_id=application_id)
        return _readiness_page(request, view, errors=PageErrors.from_form(form, REVIEW_TARGETS), failed=failed)
    try:
        plan = services.qt_readiness_review(
            actor=request.user,
            application_id=application_id,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _readiness_refused(request, application_id, exc, REVIEW_TARGETS, failed)
    if plan.readiness_status == ReviewStatus.AGREED:
        messages.success(
            request, "You confirmed the readiness report: the participant can start recording test executions."
        )
    else:
        messages.success(request, "You requested changes to the readiness report. The participant has been told.")
    return redirect(_url("qt_readiness", application_id))


# --- addresses -------------------------------------------------------------------------------------------------

_QT = "applications/<int:application_id>/qt/"

urlpatterns: list[URLPattern] = [
    path(_QT, qt_overview_page, name="qt_overview"),
    path(f"{_QT}exit/", qt_exit_page, name="qt_exit"),
    path(f"{_QT}plan/", qt_plan_page, name="qt_plan"),
    path(f"{_QT}plan/edit/", qt_plan_edit_page, name="qt_plan_edit"),
    path(f"{_QT}plan/submit/", qt_plan_submit_page, name="qt_plan_submit"),
    path(f"{_QT}plan/review/", qt_plan_review_page, name="qt_plan_review"),
    path(f"{_QT}plan/opt-outs/", qt_opt_out_add_page, name="qt_opt_out_add"),
    path(f"{_QT}plan/opt-outs/<str:flow_code>/remove/", qt_opt_out_remove_page, name="qt_opt_out_remove"),
    path(f"{_QT}set/", qt_set_page, name="qt_set"),
    path(f"{_QT}set/plan/", qt_execution_plan_page, name="qt_execution_plan"),
    path(f"{_QT}schedule/", qt_schedule_page, name="qt_schedule"),
    path(f"{_QT}readiness/", qt_readiness_page, name="qt_readiness"),
    path(f"{_QT}readiness/items/<slug:item_code>/", qt_readiness_record_page, name="qt_readiness_record"),
    path(f"{_QT}readiness/submit/", qt_readiness_submit_page, name="qt_readiness_submit"),
    path(f"{_QT}readiness/review/", qt_readiness_review_page, name="qt_readiness_review"),
]
