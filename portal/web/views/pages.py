"""Home, the work queue and the process definition."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from portal.accounts.roles import Role
from portal.accounts.selectors import user_is_staff_reviewer, user_organisation_ids
from portal.approvals.deadlines import Deadline
from portal.core.pages import portal_page
from portal.participants.models import ApprovalBody, RoleGroup
from portal.participants.selectors import approval_matrix
from portal.qualification.models import Application, Route, Task, TaskDefinition
from portal.qualification.selectors import application_list, application_status_counts, route_list, work_queue
from portal.qualification.workflow import ApplicationStatus, TaskKind
from portal.reports.selectors import next_deadlines
from portal.web.presenters import application_status_tag, waiting_for
from portal.web.views.base import paginate, render_page

HOME_QUEUE_LENGTH = 10


@dataclass(frozen=True)
class NextStep:
    task: Task
    waiting: str


@dataclass(frozen=True)
class ApplicationRow:
    application: Application
    next_steps: list[NextStep]
    # What is due next and when: the most pressing deadline not yet met.
    next_deadline: Deadline | None = None


def _application_rows(user: Any, applications: Sequence[Application]) -> list[ApplicationRow]:
    due = next_deadlines(applications)
    return [
        ApplicationRow(
            application=app,
            next_steps=[NextStep(task, waiting_for(user, task)) for task in getattr(app, "open_tasks", [])],
            next_deadline=due.get(app.pk),
        )
        for app in applications
    ]


@require_GET
@portal_page
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user_is_staff_reviewer(user):
        queue = list(work_queue(user=user)[: HOME_QUEUE_LENGTH + 1])
        counts = application_status_counts(user=user)
        return render_page(
            request,
            "web/home_staff.html",
            {
                "nav": "home",
                "queue": queue[:HOME_QUEUE_LENGTH],
                "queue_has_more": len(queue) > HOME_QUEUE_LENGTH,
                "status_counts": [
                    (status, application_status_tag(status), counts[status.value])
                    for status in ApplicationStatus
                    if counts.get(status.value)
                ],
                "total": sum(counts.values()),
            },
        )
    waiting = Task.objects.exclude(waiting_on="").select_related("definition").order_by("order")
    applications = list(
        application_list(user=user).prefetch_related(Prefetch("tasks", queryset=waiting, to_attr="open_tasks"))
    )
    return render_page(
        request,
        "web/home_participant.html",
        {
            "nav": "home",
            "rows": _application_rows(user, applications),
            "can_create": bool(user_organisation_ids(user)),
        },
    )


@require_GET
@portal_page
def work_queue_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, work_queue(user=request.user), per_page=50)
    return render_page(request, "web/work_queue.html", {"nav": "work_queue", "page": page})


@dataclass(frozen=True)
class ProcessStep:
    definition: TaskDefinition
    depends_on: list[str]
    actors: list[str]
    assurers: list[str]


@dataclass(frozen=True)
class ProcessRoute:
    route: Route
    role_groups: list[RoleGroup]
    steps: list[ProcessStep]


def _role_labels(names: list[str]) -> list[str]:
    return [Role(name).label for name in names]


@require_GET
@portal_page
def process(request: HttpRequest) -> HttpResponse:
    process_routes = []
    for route in route_list():
        definitions = sorted(route.task_definitions.all(), key=lambda d: d.order)
        titles = {d.code: d.title for d in definitions}
        groups = list(route.role_groups.all())
        process_routes.append(
            ProcessRoute(
                route=route,
                role_groups=groups,
                steps=[
                    ProcessStep(
                        definition=d,
                        depends_on=[titles.get(code, code) for code in d.depends_on],
                        actors=_role_labels(d.actor_roles),
                        assurers=_role_labels(d.assurer_roles),
                    )
                    for d in definitions
                ],
            )
        )
    bodies = list(ApprovalBody)
    matrix = [
        (group, [body in {r.body for r in group.approval_requirements.all()} for body in bodies])
        for group in approval_matrix()
    ]
    return render_page(
        request,
        "web/process.html",
        {
            "nav": "process",
            "routes": process_routes,
            "bodies": [body.label for body in bodies],
            "matrix": matrix,
            "approval_kind": TaskKind.APPROVAL,
        },
    )
