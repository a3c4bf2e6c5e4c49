"""Reads, already scoped to what the user may see."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.accounts.selectors import user_director_organisation_ids, user_organisation_ids, user_roles
from portal.core.errors import NotFound
from portal.participants.models import MarketRole, Mpid, Organisation
from portal.qualification.models import Application, Route, Task, TaskDefinition, TaskEntry
from portal.qualification.permissions import application_scope_for, can_take
from portal.qualification.workflow import CLOSED_STATUSES, Party, Transition, actions_for_kind


def application_list(
    *,
    user: Any,
    status: str | None = None,
    route: str | None = None,
    organisation_id: int | None = None,
    search: str | None = None,
) -> QuerySet[Application]:
    qs = application_scope_for(user).select_related("organisation", "mpid", "market_role__role_group", "route")
    if status:
        qs = qs.filter(status=status)
    if route:
        qs = qs.filter(route__code=route)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if search:
        term = search.strip()
        qs = qs.filter(
            Q(organisation__name__icontains=term) | Q(mpid__code__iexact=term) | Q(market_role__code__iexact=term)
        )
    return qs.order_by("-updated_at", "-id")


def application_get(*, user: Any, application_id: int) -> Application:
    """One application with its tasks, or NotFound (also for another organisation's application)."""
    tasks = Task.objects.select_related("definition").order_by("order")
    application = (
        application_scope_for(user)
        .select_related("organisation", "mpid", "market_role__role_group", "route", "created_by")
        .prefetch_related(Prefetch("tasks", queryset=tasks))
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound("No application was found with that reference.")
    return application


def task_get(*, user: Any, application_id: int, task_code: str) -> Task:
    application = application_get(user=user, application_id=application_id)
    for task in application.tasks.all():
        if task.code == task_code:
            task.application = application
            return task
    raise NotFound("That application has no such task.")


def task_entries(*, task: Task) -> QuerySet[TaskEntry]:
    return task.entries.select_related("actor").prefetch_related("attachments").order_by("created_at", "id")


def task_available_transitions(*, user: Any, task: Task) -> list[Transition]:
    """The actions this user may take on this task now (empty when the application is closed)."""
    if task.application.is_closed:
        return []
    result = []
    for transition in actions_for_kind(task.definition.kind):
        if task.state not in transition.sources:
            continue
        if transition.optional_only and not task.definition.is_optional:
            continue
        if can_take(user, task, transition):
            result.append(transition)
    return result


def work_queue(*, user: Any) -> QuerySet[Task]:
    """Tasks waiting for this user: those whose waiting party the user holds a role of.

    Participant roles count only where the user holds them: the member role for the user's own
    organisations, the director role for the organisations they are a director of. Staff roles count
    for every application the user may see. Task definitions are a few dozen rows of reference data,
    so matching roles in Python keeps the task query a plain indexed filter."""
    roles = {role.value for role in user_roles(user)}
    participant_roles = {role.value for role in PARTICIPANT_ROLES}
    staff_actor_defs: list[int] = []
    member_actor_defs: list[int] = []
    director_actor_defs: list[int] = []
    assurer_defs: list[int] = []
    for definition in TaskDefinition.objects.only("id", "actor_roles", "assurer_roles"):
        actor_match = roles & set(definition.actor_roles)
        if actor_match - participant_roles:
            staff_actor_defs.append(definition.pk)
        elif Role.PARTICIPANT_MEMBER.value in actor_match:
            member_actor_defs.append(definition.pk)
        elif Role.PARTICIPANT_DIRECTOR.value in actor_match:
            director_actor_defs.append(definition.pk)
        if roles & set(definition.assurer_roles):
            assurer_defs.append(definition.pk)
    condition = (
        Q(waiting_on=Party.ACTOR, definition_id__in=staff_actor_defs)
        | Q(
            waiting_on=Party.ACTOR,
            definition_id__in=member_actor_defs,
            application__organisation_id__in=user_organisation_ids(user),
        )
        | Q(
            waiting_on=Party.ACTOR,
            definition_id__in=director_actor_defs,
            application__organisation_id__in=user_director_organisation_ids(user),
        )
        | Q(waiting_on=Party.ASSURER, definition_id__in=assurer_defs)
    )
    scope = application_scope_for(user).exclude(status__in=[s.value for s in CLOSED_STATUSES])
    return (
        Task.objects.filter(condition, application__in=scope)
        .select_related("definition", "application__organisation", "application__mpid", "application__market_role")
        .order_by("updated_at", "id")
    )


@dataclass(frozen=True)
class CreateChoices:
    organisations: list[Organisation]
    mpids: list[Mpid]
    market_roles: list[MarketRole]
    routes: list[Route]


def application_create_choices(*, user: Any) -> CreateChoices:
    org_ids = user_organisation_ids(user)
    return CreateChoices(
        organisations=list(Organisation.objects.filter(pk__in=org_ids)),
        mpids=list(Mpid.objects.filter(organisation_id__in=org_ids).select_related("organisation")),
        market_roles=list(MarketRole.objects.filter(is_active=True).select_related("role_group")),
        routes=list(Route.objects.filter(is_active=True).prefetch_related("role_groups")),
    )


def route_list() -> QuerySet[Route]:
    return Route.objects.filter(is_active=True).prefetch_related("role_groups", "task_definitions")


def application_status_counts(*, user: Any) -> dict[str, int]:
    rows = application_scope_for(user).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
