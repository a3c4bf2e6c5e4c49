"""Loading the shipped reference data: role groups (as auth groups), market roles, the
approval-routing matrix, routes and their task definitions.

It only *adds* what is missing, so an administrator's later edits are kept; `reset=True` puts every
shipped row back to its shipped values. It takes an app registry so that a data migration can run it
against historical models."""

from typing import Any

from django.apps import apps as global_apps

from portal.accounts.roles import STAFF_ROLES
from portal.qualification.process import APPROVAL_MATRIX, MARKET_ROLES, ROLE_GROUPS, ROUTES


def reference_data_load(apps: Any = global_apps, *, reset: bool = False) -> dict[str, int]:
    Group = apps.get_model("auth", "Group")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    MarketRole = apps.get_model("participants", "MarketRole")
    ApprovalRequirement = apps.get_model("participants", "ApprovalRequirement")
    Route = apps.get_model("qualification", "Route")
    TaskDefinition = apps.get_model("qualification", "TaskDefinition")

    created = {"groups": 0, "role_groups": 0, "market_roles": 0, "matrix": 0, "routes": 0, "tasks": 0}

    def put(model: Any, key: dict[str, Any], values: dict[str, Any], counter: str) -> Any:
        if reset:
            obj, made = model.objects.update_or_create(**key, defaults=values)
        else:
            obj, made = model.objects.get_or_create(**key, defaults=values)
        created[counter] += int(made)
        return obj

    for role in sorted(STAFF_ROLES):
        put(Group, {"name": role.value}, {}, "groups")
    role_groups = {}
    for order, (code, name) in enumerate(ROLE_GROUPS):
        role_groups[code] = put(RoleGroup, {"code": code}, {"name": name, "order": order}, "role_groups")
    for order, (code, name, group) in enumerate(MARKET_ROLES):
        put(
            MarketRole,
            {"code": code},
            {"name": name, "role_group": role_groups[group], "order": order},
            "market_roles",
        )
    if reset or not ApprovalRequirement.objects.exists():
        # The matrix is loaded as a whole or not at all: adding back a row an administrator removed
        # on purpose would silently change who must approve.
        for group, body in APPROVAL_MATRIX:
            put(ApprovalRequirement, {"role_group": role_groups[group], "body": body.value}, {}, "matrix")
    for order, spec in enumerate(ROUTES):
        route = put(
            Route,
            {"code": spec.code},
            {
                "name": spec.name,
                "description": spec.description,
                "new_entrants_only": spec.new_entrants_only,
                "order": order,
            },
            "routes",
        )
        if reset or not route.role_groups.exists():
            route.role_groups.set([role_groups[g] for g in spec.role_groups])
        for position, task in enumerate(spec.tasks, start=1):
            put(
                TaskDefinition,
                {"route": route, "code": task.code},
                {
                    "title": task.title,
                    "description": task.description,
                    "kind": task.kind.value,
                    "stage": task.stage.value,
                    "order": position * 10,
                    "depends_on": list(task.depends_on),
                    "actor_roles": [r.value for r in task.actor_roles],
                    "assurer_roles": [r.value for r in task.assurer_roles],
                    "is_optional": task.optional,
                    "approval_body": task.approval_body.value if task.approval_body else "",
                },
                "tasks",
            )
    return created
