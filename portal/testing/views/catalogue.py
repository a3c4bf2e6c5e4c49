"""The Qualification Testing catalogue pages and each application's RTTM pages.

Catalogue (everyone signed in reads it; the staff who keep it add and change it): browse the cases
with filters, a case with its steps and versions and the difference between two versions, the staff
forms (a case's new version, retire and reinstate, scenarios, requirements, DIP flows), the coverage
of the requirements, and the workbook export and import.

RTTM (`/applications/<id>/qt/rttm/`): every requirement with the application's PIT tests, its
required QT cases and QAD reference, uncovered ones first; the participant edits rows and captures
snapshots while PIT or QT is with them; snapshots are shown, compared, exported and imported.

Each view parses, calls one selector or service and renders. Refusals show in the GOV.UK error
summary; another organisation's application answers 404.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page, safe_download_name
from portal.core.workbooks import XLSX_CONTENT_TYPE
from portal.qualification.selectors import application_get
from portal.testing import catalogue_selectors as catalogue
from portal.testing import catalogue_services as keep
from portal.testing import rttm_selectors, rttm_services
from portal.testing.catalogue_services import MAX_STEPS, CaseFields, StepInput
from portal.testing.imports import import_job_create
from portal.testing.models import ImportKind, RequirementArea, TestBatch
from portal.testing.permissions import can_keep_catalogue, can_work_on_rttm

PAGE_SIZE = 50
BLANK_STEPS = 3  # empty step rows offered beyond the case's own, to add steps without JavaScript


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _xlsx(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_download_name(name, default="workbook.xlsx")}"'
    return response


def _refusal_only(exc: ApplicationError) -> None:
    """Missing objects and wrong roles are answered as pages of their own (404, 403)."""
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc


def _upload_errors(exc: ApplicationError) -> PageErrors:
    """A refused workbook: the file checks name no field, but the form has only the one."""
    if isinstance(exc, InvalidInput):
        exc.details.setdefault("field", "file")
    return PageErrors.from_error(exc, {"file": "file"})


def _require_keeper(request: HttpRequest) -> None:
    if not can_keep_catalogue(request.user):
        raise PermissionDenied(
            "Only Testing Assurance, the Code Bodies and the MHHS Programme can change the test catalogue."
        )


def _base(request: HttpRequest, **context: Any) -> dict[str, Any]:
    return {"nav": "catalogue", "can_keep": can_keep_catalogue(request.user), **context}


# --- browsing ------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> catalogue.CaseFilters:
    get = request.GET
    mandatory = {"yes": True, "no": False}.get(get.get("mandatory", ""))
    batch = get.get("batch", "")
    return catalogue.CaseFilters(
        batch=batch if batch in TestBatch.values else "",
        role_group=get.get("role_group", "")[:30],
        dip_flow=get.get("dip_flow", "")[:20],
        mandatory=mandatory,
        scenario=get.get("scenario", "")[:40],
        q=get.get("q", "")[:100],
        include_retired=get.get("retired") == "1",
    )


@require_GET
@portal_page
def catalogue_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    versions = catalogue.catalogue_cases(user=request.user, filters=filters)
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = _base(
        request,
        filters=filters,
        page=page,
        query=query.urlencode(),
        choices=catalogue.catalogue_choices(user=request.user),
        mandatory=request.GET.get("mandatory", ""),
    )
    return render(request, "testing/catalogue_list.html", context)


@require_GET
@portal_page
def catalogue_case_page(request: HttpRequest, identifier: str) -> HttpResponse:
    detail = catalogue.catalogue_case(user=request.user, identifier=identifier)
    diff = None
    errors = PageErrors()
    numbers = [v.version for v in detail.versions]
    if "from" in request.GET or "to" in request.GET:
        before, after = _int(request.GET.get("from")), _int(request.GET.get("to"))
        if before not in numbers or after not in numbers:
            errors.add("Choose two versions of this case to compare.", target="compare-from")
        elif before == after:
            errors.add("Choose two different versions to compare.", target="compare-from")
        else:
            assert before is not None and after is not None
            diff = catalogue.case_version_diff(
                user=request.user, identifier=detail.identifier, from_version=before, to_version=after
            )
    elif len(numbers) > 1:
        # By default, what the current version changed.
        diff = catalogue.diff_versions(detail.versions[1], detail.versions[0])
    context = _base(request, detail=detail, diff=diff, errors=errors)
    return render(request, "testing/catalogue_case.html", context, status=errors.status if errors else 200)


@require_GET
@portal_page
def catalogue_scenarios_page(request: HttpRequest) -> HttpResponse:
    context = _base(request, scenarios=catalogue.scenario_list(user=request.user))
    return render(request, "testing/catalogue_scenarios.html", context)


@require_GET
@portal_page
def catalogue_requirements_page(request: HttpRequest) -> HttpResponse:
    area = request.GET.get("area", "")
    area = area if area in RequirementArea.values else ""
    coverage = catalogue.catalogue_coverage(user=request.user, area=area)
    rows = sorted(coverage.rows, key=lambda row: row.requirement.identifier)
    retired = catalogue.requirement_list(user=request.user).filter(is_active=False)
    context = _base(request, rows=rows, retired=retired, area=area, areas=RequirementArea.choices)
    return render(request, "testing/catalogue_requirements.html", context)


@require_GET
@portal_page
def catalogue_flows_page(request: HttpRequest) -> HttpResponse:
    context = _base(request, flows=catalogue.dip_flow_list(user=request.user))
    return render(request, "testing/catalogue_flows.html", context)


@require_GET
@portal_page
def catalogue_coverage_page(request: HttpRequest) -> HttpResponse:
    area = request.GET.get("area", "")
    area = area if area in RequirementArea.values else ""
    show = request.GET.get("show", "uncovered")
    coverage = catalogue.catalogue_coverage(user=request.user, area=area, uncovered_only=show != "all")
    context = _base(request, coverage=coverage, area=area, show=show, areas=RequirementArea.choices)
    return render(request, "testing/catalogue_coverage.html", context)


@require_GET
@portal_page
def catalogue_export(request: HttpRequest) -> HttpResponse:
    return _xlsx("QT test catalogue.xlsx", catalogue.catalogue_workbook(user=request.user))


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_import_page(request: HttpRequest) -> HttpResponse:
    _require_keeper(request)
    errors = PageErrors()
    if request.method == "POST":
        try:
            job = import_job_create(actor=request.user, kind=ImportKind.CATALOGUE, upload=request.FILES.get("file"))
        except ApplicationError as exc:
            _refusal_only(exc)
            errors = _upload_errors(exc)
        else:
            return redirect("testing:import_job", job_id=job.pk)
    return render(
        request, "testing/catalogue_import.html", _base(request, errors=errors), status=errors.status if errors else 200
    )


# --- keeping the catalogue: test cases -----------------------------------------------------------


@dataclass
class CaseForm:
    """What the case form shows: the values entered (or the current version's), and its steps."""

    identifier: str = ""
    scenario: str = ""
    title: str = ""
    batch: str = ""
    mandatory: str = ""
    role_groups: list[str] = field(default_factory=list)
    dip_flows: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    # Blank rows are dropped, so the steps are numbered as the service numbers them in its messages.
    steps: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_version(cls, version: Any) -> "CaseForm":
        return cls(
            identifier=version.case.identifier,
            scenario=version.case.scenario.identifier,
            title=version.title,
            batch=version.batch,
            mandatory="yes" if version.mandatory else "no",
            role_groups=[g.code for g in version.role_groups.all()],
            dip_flows=[f.code for f in version.dip_flows.all()],
            requirements=[r.identifier for r in version.requirements.all()],
            steps=[(str(s.get("action", "")), str(s.get("expected", ""))) for s in version.steps or []],
        )

    @classmethod
    def from_post(cls, post: Mapping[str, Any], getlist: Any) -> "CaseForm":
        steps = []
        for number in range(1, MAX_STEPS + BLANK_STEPS + 1):
            action = str(post.get(f"step-{number}-action", "")).strip()
            expected = str(post.get(f"step-{number}-expected", "")).strip()
            if action or expected:
                steps.append((action, expected))
        return cls(
            identifier=str(post.get("identifier", "")).strip()[:60],
            scenario=str(post.get("scenario", ""))[:60],
            title=str(post.get("title", "")),
            batch=str(post.get("batch", "")),
            mandatory=str(post.get("mandatory", "")),
            role_groups=getlist("role_groups"),
            dip_flows=getlist("dip_flows"),
            requirements=getlist("requirements"),
            steps=steps,
        )

    def fields(self) -> CaseFields:
        mandatory: Any = {"yes": True, "no": False}.get(self.mandatory)
        return CaseFields(
            title=self.title,
            batch=self.batch,
            mandatory=mandatory,
            role_groups=self.role_groups,
            dip_flows=self.dip_flows,
            requirements=self.requirements,
            steps=[StepInput(a, e) for a, e in self.steps],
        )

    def step_rows(self) -> list[tuple[int, str, str]]:
        """The step rows to show: the steps, then a few blank ones."""
        shown = [(n, a, e) for n, (a, e) in enumerate(self.steps, start=1)]
        start = len(shown) + 1
        return shown + [(n, "", "") for n in range(start, min(start + BLANK_STEPS, MAX_STEPS + 1))]

    def targets(self) -> dict[str, str]:
        targets = {
            "identifier": "identifier",
            "scenario": "scenario",
            "title": "title",
            "batch": "batch",
            "mandatory": "mandatory",
            "role_groups": "role_groups",
            "dip_flows": "dip_flows",
            "requirements": "requirements",
            "steps": "step-1-action",
        }
        for number in range(1, len(self.steps) + 1):
            targets[f"steps.{number}.action"] = f"step-{number}-action"
            targets[f"steps.{number}.expected"] = f"step-{number}-expected"
        return targets


def _case_form_page(
    request: HttpRequest, form: CaseForm, *, detail: Any = None, errors: PageErrors | None = None
) -> HttpResponse:
    errors = errors or PageErrors()
    steps = [
        StepRow(
            n,
            action,
            expected,
            errors.by_field.get(f"steps.{n}.action", ""),
            errors.by_field.get(f"steps.{n}.expected", ""),
        )
        for n, action, expected in form.step_rows()
    ]
    context = _base(
        request,
        form=form,
        detail=detail,
        errors=errors,
        steps=steps,
        choices=catalogue.catalogue_choices(user=request.user),
    )
    return render(request, "testing/catalogue_case_form.html", context, status=errors.status if errors else 200)


@dataclass(frozen=True)
class StepRow:
    number: int
    action: str
    expected: str
    action_error: str
    expected_error: str


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_case_new_page(request: HttpRequest) -> HttpResponse:
    _require_keeper(request)
    if request.method == "GET":
        return _case_form_page(
            request, CaseForm(scenario=request.GET.get("scenario", "")[:40], mandatory="yes", batch="")
        )
    form = CaseForm.from_post(request.POST, request.POST.getlist)
    try:
        version = keep.case_create(
            actor=request.user, identifier=form.identifier, scenario=form.scenario, fields=form.fields()
        )
    except ApplicationError as exc:
        _refusal_only(exc)
        return _case_form_page(request, form, errors=PageErrors.from_error(exc, form.targets()))
    messages.success(request, f"You added test case {version.case.identifier} (version 1).")
    return redirect("testing:catalogue_case", identifier=version.case.identifier)


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_case_edit_page(request: HttpRequest, identifier: str) -> HttpResponse:
    _require_keeper(request)
    detail = catalogue.catalogue_case(user=request.user, identifier=identifier)
    if request.method == "GET":
        if detail.current is None:
            raise NotFound("This test case has no current version.")
        return _case_form_page(request, CaseForm.from_version(detail.current), detail=detail)
    form = CaseForm.from_post(request.POST, request.POST.getlist)
    form.identifier, form.scenario = detail.case.identifier, detail.case.scenario.identifier
    try:
        version = keep.case_publish(actor=request.user, identifier=detail.identifier, fields=form.fields())
    except ApplicationError as exc:
        _refusal_only(exc)
        return _case_form_page(request, form, detail=detail, errors=PageErrors.from_error(exc, form.targets()))
    messages.success(request, f"You published version {version.version} of {detail.identifier}.")
    return redirect("testing:catalogue_case", identifier=detail.identifier)


def _case_action(request: HttpRequest, identifier: str, act: Any, done: str) -> HttpResponse:
    _require_keeper(request)
    try:
        act()
    except ApplicationError as exc:
        _refusal_only(exc)
        detail = catalogue.catalogue_case(user=request.user, identifier=identifier)
        context = _base(request, detail=detail, diff=None, errors=PageErrors.from_error(exc, {"reason": "reason"}))
        context["reason"] = request.POST.get("reason", "")
        return render(request, "testing/catalogue_case.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("testing:catalogue_case", identifier=identifier.upper())


@require_POST
@portal_page
def catalogue_case_retire_page(request: HttpRequest, identifier: str) -> HttpResponse:
    return _case_action(
        request,
        identifier,
        lambda: keep.case_retire(actor=request.user, identifier=identifier, reason=request.POST.get("reason", "")),
        f"You retired {identifier.upper()}: it is no longer required of anyone.",
    )


@require_POST
@portal_page
def catalogue_case_reinstate_page(request: HttpRequest, identifier: str) -> HttpResponse:
    return _case_action(
        request,
        identifier,
        lambda: keep.case_reinstate(actor=request.user, identifier=identifier),
        f"You reinstated {identifier.upper()}.",
    )


# --- keeping the catalogue: scenarios, requirements, DIP flows ------------------------------------


def _simple_form(
    request: HttpRequest,
    template: str,
    *,
    values: dict[str, Any],
    editing: bool,
    errors: PageErrors | None = None,
    **extra: Any,
) -> HttpResponse:
    context = _base(request, values=values, editing=editing, errors=errors or PageErrors(), **extra)
    return render(request, template, context, status=errors.status if errors else 200)


def _checked(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("yes", "1", "on", "true")


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_scenario_form_page(request: HttpRequest, identifier: str | None = None) -> HttpResponse:
    _require_keeper(request)
    template = "testing/catalogue_scenario_form.html"
    extra: dict[str, Any] = {"batches": TestBatch.choices}
    existing = catalogue.scenario_get(user=request.user, identifier=identifier) if identifier else None
    if request.method == "GET":
        values: dict[str, Any] = (
            {
                "identifier": existing.identifier,
                "title": existing.title,
                "batch": existing.batch,
                "description": existing.description,
                "is_active": existing.is_active,
            }
            if existing
            else {"is_active": True}
        )
        return _simple_form(request, template, values=values, editing=bool(existing), scenario=existing, **extra)
    values = {key: request.POST.get(key, "") for key in ("identifier", "title", "batch", "description")}
    values["is_active"] = _checked(request, "is_active") if existing else True
    try:
        if existing:
            scenario = keep.scenario_update(
                actor=request.user,
                identifier=existing.identifier,
                title=values["title"],
                batch=values["batch"],
                description=values["description"],
                is_active=values["is_active"],
            )
        else:
            scenario = keep.scenario_create(
                actor=request.user,
                identifier=values["identifier"],
                title=values["title"],
                batch=values["batch"],
                description=values["description"],
            )
    except ApplicationError as exc:
        _refusal_only(exc)
        errors = PageErrors.from_error(exc, {k: k for k in values})
        return _simple_form(
            request, template, values=values, editing=bool(existing), errors=errors, scenario=existing, **extra
        )
    messages.success(request, f"You {'changed' if existing else 'added'} scenario {scenario.identifier}.")
    return redirect("testing:catalogue_scenarios")


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_requirement_form_page(request: HttpRequest, identifier: str | None = None) -> HttpResponse:
    _require_keeper(request)
    template = "testing/catalogue_requirement_form.html"
    extra: dict[str, Any] = {"areas": RequirementArea.choices}
    existing = catalogue.requirement_get(user=request.user, identifier=identifier) if identifier else None
    if request.method == "GET":
        values: dict[str, Any] = (
            {
                "identifier": existing.identifier,
                "area": existing.area,
                "text": existing.text,
                "is_active": existing.is_active,
            }
            if existing
            else {"is_active": True}
        )
        return _simple_form(request, template, values=values, editing=bool(existing), requirement=existing, **extra)
    values = {key: request.POST.get(key, "") for key in ("identifier", "area", "text")}
    values["is_active"] = _checked(request, "is_active") if existing else True
    try:
        if existing:
            requirement = keep.requirement_update(
                actor=request.user,
                identifier=existing.identifier,
                area=values["area"],
                text=values["text"],
                is_active=values["is_active"],
            )
        else:
            requirement = keep.requirement_create(
                actor=request.user, identifier=values["identifier"], area=values["area"], text=values["text"]
            )
    except ApplicationError as exc:
        _refusal_only(exc)
        errors = PageErrors.from_error(exc, {k: k for k in values})
        return _simple_form(
            request, template, values=values, editing=bool(existing), errors=errors, requirement=existing, **extra
        )
    messages.success(request, f"You {'changed' if existing else 'added'} requirement {requirement.identifier}.")
    return redirect("testing:catalogue_requirements")


@require_http_methods(["GET", "POST"])
@portal_page
def catalogue_flow_form_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    _require_keeper(request)
    template = "testing/catalogue_flow_form.html"
    existing = catalogue.dip_flow_get(user=request.user, code=code) if code else None
    if request.method == "GET":
        values: dict[str, Any] = (
            {"code": existing.code, "title": existing.title, "opt_out_allowed": existing.opt_out_allowed}
            if existing
            else {"opt_out_allowed": True}
        )
        return _simple_form(request, template, values=values, editing=bool(existing), flow=existing)
    values = {"code": request.POST.get("code", ""), "title": request.POST.get("title", "")}
    values["opt_out_allowed"] = _checked(request, "opt_out_allowed")
    try:
        if existing:
            flow = keep.dip_flow_update(
                actor=request.user,
                code=existing.code,
                title=values["title"],
                opt_out_allowed=values["opt_out_allowed"],
            )
        else:
            flow = keep.dip_flow_create(
                actor=request.user,
                code=values["code"],
                title=values["title"],
                opt_out_allowed=values["opt_out_allowed"],
            )
    except ApplicationError as exc:
        _refusal_only(exc)
        errors = PageErrors.from_error(exc, {k: k for k in values})
        return _simple_form(request, template, values=values, editing=bool(existing), errors=errors, flow=existing)
    messages.success(request, f"You {'changed' if existing else 'added'} DIP flow {flow.code}.")
    return redirect("testing:catalogue_flows")


# --- the RTTM of an application ------------------------------------------------------------------


@dataclass(frozen=True)
class FailedRow:
    """The RTTM row whose form was just refused, and what was entered in it."""

    requirement: str = ""
    pit_tests: str = ""
    qad_reference: str = ""
    note: str = ""


def _rttm_page(
    request: HttpRequest,
    application_id: int,
    *,
    errors: PageErrors | None = None,
    failed: FailedRow | None = None,
) -> HttpResponse:
    show = request.GET.get("show", "all")
    area = request.GET.get("area", "")
    matrix = rttm_selectors.rttm_matrix(user=request.user, application_id=application_id, show=show, area=area)
    context = {
        "nav": "applications",
        "matrix": matrix,
        "application": matrix.application,
        "errors": errors or PageErrors(),
        "failed": failed or FailedRow(),
        "areas": RequirementArea.choices,
    }
    return render(request, "testing/rttm_matrix.html", context, status=errors.status if errors else 200)


def _rttm_url(application_id: int, anchor: str = "") -> str:
    url = reverse("testing:rttm", args=[application_id])
    return f"{url}#{anchor}" if anchor else url


@require_GET
@portal_page
def rttm_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _rttm_page(request, application_id)


@require_POST
@portal_page
def rttm_entry_page(request: HttpRequest, application_id: int, requirement: str) -> HttpResponse:
    failed = FailedRow(
        requirement.upper(),
        request.POST.get("pit_tests", ""),
        request.POST.get("qad_reference", ""),
        request.POST.get("note", ""),
    )
    try:
        entry = rttm_services.rttm_entry_set(
            actor=request.user,
            application_id=application_id,
            requirement=requirement,
            pit_tests=failed.pit_tests,
            qad_reference=failed.qad_reference,
            note=failed.note,
        )
    except ApplicationError as exc:
        _refusal_only(exc)
        key = failed.requirement
        targets = {f: f"{f}-{key}" for f in ("pit_tests", "qad_reference", "note")}
        return _rttm_page(request, application_id, errors=PageErrors.from_error(exc, targets), failed=failed)
    done = "saved" if entry else "cleared"
    messages.success(request, f"You {done} the RTTM row of {failed.requirement}.")
    return redirect(_rttm_url(application_id, f"row-{failed.requirement}"))


@require_POST
@portal_page
def rttm_capture_page(request: HttpRequest, application_id: int) -> HttpResponse:
    # The checkpoint is in the form: before reading it, refuse whoever acts on neither PIT nor QT.
    application = application_get(user=request.user, application_id=application_id)
    if not can_work_on_rttm(request.user, application.tasks.all()):
        raise PermissionDenied("Only the applying organisation can capture its RTTM.")
    try:
        snapshot = rttm_services.rttm_snapshot_capture(
            actor=request.user, application_id=application_id, checkpoint=request.POST.get("checkpoint", "")
        )
    except ApplicationError as exc:
        _refusal_only(exc)
        return _rttm_page(request, application_id, errors=PageErrors.from_error(exc, {"checkpoint": "snapshots"}))
    messages.success(
        request,
        f"You captured version {snapshot.version} of the RTTM at {snapshot.get_checkpoint_display()}. "
        "The assurers have been told.",
    )
    return redirect("testing:rttm_snapshot", application_id=application_id, snapshot_id=snapshot.pk)


@require_GET
@portal_page
def rttm_snapshot_page(request: HttpRequest, application_id: int, snapshot_id: int) -> HttpResponse:
    snapshot = rttm_selectors.rttm_snapshot_get(
        user=request.user, application_id=application_id, snapshot_id=snapshot_id
    )
    others = rttm_selectors.rttm_snapshot_list(user=request.user, application_id=application_id)
    context = {
        "nav": "applications",
        "application": snapshot.application,
        "snapshot": snapshot,
        "snapshots": others,
        "uncovered": sum(1 for row in snapshot.rows if not row.get("covered")),
    }
    return render(request, "testing/rttm_snapshot.html", context)


@require_GET
@portal_page
def rttm_compare_page(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    snapshots = rttm_selectors.rttm_snapshot_list(user=request.user, application_id=application_id)
    errors = PageErrors()
    comparison = None
    before, after = _int(request.GET.get("from")), _int(request.GET.get("to"))
    if before is None and after is None and len(snapshots) >= 2:
        before, after = snapshots[1].pk, snapshots[0].pk  # the two latest, oldest first
    if before is not None or after is not None:
        ids = {s.pk for s in snapshots}
        if before not in ids or after not in ids:
            errors.add("Choose two snapshots of this application's RTTM to compare.", target="from")
        elif before == after:
            errors.add("Choose two different snapshots to compare.", target="from")
        else:
            assert before is not None and after is not None
            comparison = rttm_selectors.rttm_snapshot_compare(
                user=request.user, application_id=application_id, from_id=before, to_id=after
            )
    context = {
        "nav": "applications",
        "application": application,
        "snapshots": snapshots,
        "comparison": comparison,
        "selected_from": before,
        "selected_to": after,
        "errors": errors,
    }
    return render(request, "testing/rttm_compare.html", context, status=errors.status if errors else 200)


@require_GET
@portal_page
def rttm_export(request: HttpRequest, application_id: int) -> HttpResponse:
    snapshot = request.GET.get("snapshot")
    snapshot_id = _int(snapshot)
    if snapshot and snapshot_id is None:
        raise NotFound("No RTTM snapshot was found with that reference.")
    name, content = rttm_selectors.rttm_workbook(
        user=request.user, application_id=application_id, snapshot_id=snapshot_id
    )
    return _xlsx(name, content)


@require_http_methods(["GET", "POST"])
@portal_page
def rttm_import_page(request: HttpRequest, application_id: int) -> HttpResponse:
    matrix = rttm_selectors.rttm_matrix(user=request.user, application_id=application_id)
    errors = PageErrors()
    if request.method == "POST":
        try:
            job = import_job_create(
                actor=request.user,
                kind=ImportKind.RTTM,
                upload=request.FILES.get("file"),
                application_id=application_id,
            )
        except ApplicationError as exc:
            _refusal_only(exc)
            errors = _upload_errors(exc)
        else:
            return redirect("testing:import_job", job_id=job.pk)
    elif not matrix.can_edit:
        errors.add(
            "You can import the RTTM only while Pre-Integration Testing or Qualification Testing is with your "
            "organisation.",
        )
    context = {"nav": "applications", "matrix": matrix, "application": matrix.application, "errors": errors}
    return render(
        request,
        "testing/rttm_import.html",
        context,
        status=errors.status if errors and request.method == "POST" else 200,
    )


_CAT = "qt/catalogue/"
_RTTM = "applications/<int:application_id>/qt/rttm/"

urlpatterns = [
    path(_CAT, catalogue_page, name="catalogue"),
    path(f"{_CAT}export/", catalogue_export, name="catalogue_export"),
    path(f"{_CAT}import/", catalogue_import_page, name="catalogue_import"),
    path(f"{_CAT}coverage/", catalogue_coverage_page, name="catalogue_coverage"),
    path(f"{_CAT}cases/new/", catalogue_case_new_page, name="catalogue_case_new"),
    path(f"{_CAT}cases/<str:identifier>/", catalogue_case_page, name="catalogue_case"),
    path(f"{_CAT}cases/<str:identifier>/edit/", catalogue_case_edit_page, name="catalogue_case_edit"),
    path(f"{_CAT}cases/<str:identifier>/retire/", catalogue_case_retire_page, name="catalogue_case_retire"),
    path(f"{_CAT}cases/<str:identifier>/reinstate/", catalogue_case_reinstate_page, name="catalogue_case_reinstate"),
    path(f"{_CAT}scenarios/", catalogue_scenarios_page, name="catalogue_scenarios"),
    path(f"{_CAT}scenarios/new/", catalogue_scenario_form_page, name="catalogue_scenario_new"),
    path(f"{_CAT}scenarios/<str:identifier>/edit/", catalogue_scenario_form_page, name="catalogue_scenario_edit"),
    path(f"{_CAT}requirements/", catalogue_requirements_page, name="catalogue_requirements"),
    path(f"{_CAT}requirements/new/", catalogue_requirement_form_page, name="catalogue_requirement_new"),
    path(
        f"{_CAT}requirements/<str:identifier>/edit/",
        catalogue_requirement_form_page,
        name="catalogue_requirement_edit",
    ),
    path(f"{_CAT}dip-flows/", catalogue_flows_page, name="catalogue_flows"),
    path(f"{_CAT}dip-flows/new/", catalogue_flow_form_page, name="catalogue_flow_new"),
    path(f"{_CAT}dip-flows/<str:code>/edit/", catalogue_flow_form_page, name="catalogue_flow_edit"),
    path(_RTTM, rttm_page, name="rttm"),
    path(f"{_RTTM}rows/<str:requirement>/", rttm_entry_page, name="rttm_entry"),
    path(f"{_RTTM}snapshots/", rttm_capture_page, name="rttm_capture"),
    path(f"{_RTTM}snapshots/<int:snapshot_id>/", rttm_snapshot_page, name="rttm_snapshot"),
    path(f"{_RTTM}compare/", rttm_compare_page, name="rttm_compare"),
    path(f"{_RTTM}export/", rttm_export, name="rttm_export"),
    path(f"{_RTTM}import/", rttm_import_page, name="rttm_import"),
]
