"""The applications list, registering an application, one application's page, and closing it."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from portal.audit.permissions import can_see_request_origin
from portal.audit.selectors import audit_events_for_application
from portal.core.errors import ApplicationError, NotFound
from portal.core.pages import PageErrors, portal_page
from portal.qualification.models import Application, Task
from portal.qualification.permissions import can_mark_non_completion, can_withdraw
from portal.qualification.selectors import (
    application_create_choices,
    application_get,
    application_list,
    route_list,
)
from portal.qualification.services import application_create, application_mark_non_completion, application_withdraw
from portal.qualification.workflow import WITHDRAWABLE_STATUSES, TaskState
from portal.web.forms import ApplicationCreateForm, ApplicationFilterForm, ReasonForm
from portal.web.presenters import Tag, task_status_tag, waiting_for
from portal.web.views.base import paginate, render_page

HISTORY_LENGTH = 50


@require_GET
@portal_page
def application_list_page(request: HttpRequest) -> HttpResponse:
    routes = [(route.code, route.name) for route in route_list()]
    form = ApplicationFilterForm(request.GET or None, routes=routes)
    filters = form.filters()
    applications = application_list(
        user=request.user, status=filters.get("status"), route=filters.get("route"), search=filters.get("q")
    )
    page = paginate(request, applications)
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "web/application_list.html",
        {
            "nav": "applications",
            "form": form,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
        },
    )


# Which field a service's refusal is about, by the name it gives in `details["field"]`.
CREATE_FIELD_TARGETS = {
    "organisation": "id_organisation",
    "mpid": "id_mpid",
    "market_role": "id_market_role",
    "route": "id_route",
}


@require_http_methods(["GET", "POST"])
@portal_page
def application_create_page(request: HttpRequest) -> HttpResponse:
    choices = application_create_choices(user=request.user)
    if not choices.organisations:
        raise PermissionDenied("Only members of a participant organisation can register applications.")
    form = ApplicationCreateForm(request.POST or None, choices=choices)
    context: dict[str, Any] = {
        "nav": "applications",
        "form": form,
        "choices": choices,
    }
    if request.method != "POST":
        return render_page(request, "web/application_create.html", context)
    if not form.is_valid():
        return render_page(request, "web/application_create.html", context, errors=PageErrors.from_form(form))
    data = form.cleaned_data
    try:
        application = application_create(
            actor=request.user,
            organisation_id=int(data["organisation"]),
            mpid_code=data["mpid"],
            market_role_code=data["market_role"],
            route_code=data["route"],
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        errors = PageErrors.from_error(exc, CREATE_FIELD_TARGETS)
        return render_page(request, "web/application_create.html", context, errors=errors)
    messages.success(request, f"Application {application.reference} registered.")
    return redirect("web:application_detail", application_id=application.pk)


@dataclass(frozen=True)
class TaskRow:
    task: Task
    tag: Tag
    waiting: str
    can_open: bool


def task_rows(user: Any, application: Application) -> list[TaskRow]:
    rows = []
    for task in application.tasks.all():
        task.application = application
        rows.append(
            TaskRow(
                task=task,
                tag=task_status_tag(task),
                waiting=waiting_for(user, task),
                can_open=task.state != TaskState.CANNOT_START,
            )
        )
    return rows


def _closing_links(user: Any, application: Application) -> dict[str, bool]:
    open_ = application.status in WITHDRAWABLE_STATUSES
    return {
        "show_withdraw": open_ and can_withdraw(user, application),
        "show_non_completion": open_ and can_mark_non_completion(user),
    }


@require_GET
@portal_page
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    history = audit_events_for_application(application_id=application.pk)[:HISTORY_LENGTH]
    return render_page(
        request,
        "web/application_detail.html",
        {
            "nav": "applications",
            "application": application,
            "task_rows": task_rows(request.user, application),
            "history": history,
            "show_request_origin": can_see_request_origin(request.user),
            **_closing_links(request.user, application),
        },
    )


def _close_page(
    request: HttpRequest,
    application_id: int,
    *,
    template: str,
    allowed: Callable[[Application], bool],
    service: Callable[..., Application],
    done: str,
) -> HttpResponse:
    application = application_get(user=request.user, application_id=application_id)
    if not allowed(application):
        raise PermissionDenied
    form = ReasonForm(request.POST or None)
    context = {"nav": "applications", "application": application, "form": form}
    if request.method != "POST":
        return render_page(request, template, context)
    if not form.is_valid():
        return render_page(request, template, context, errors=PageErrors.from_form(form))
    try:
        service(actor=request.user, application_id=application.pk, reason=form.cleaned_data["reason"])
    except NotFound:
        raise
    except ApplicationError as exc:
        return render_page(request, template, context, errors=PageErrors.from_error(exc, {"reason": "id_reason"}))
    messages.success(request, done.format(reference=application.reference))
    return redirect("web:application_detail", application_id=application.pk)


@require_http_methods(["GET", "POST"])
@portal_page
def application_withdraw_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _close_page(
        request,
        application_id,
        template="web/application_withdraw.html",
        allowed=lambda application: can_withdraw(request.user, application),
        service=application_withdraw,
        done="Application {reference} withdrawn.",
    )


@require_http_methods(["GET", "POST"])
@portal_page
def application_non_completion_page(request: HttpRequest, application_id: int) -> HttpResponse:
    return _close_page(
        request,
        application_id,
        template="web/application_non_completion.html",
        allowed=lambda application: can_mark_non_completion(request.user),
        service=application_mark_non_completion,
        done="Non-completion recorded for {reference}.",
    )
