"""Who may call an operation at all, decided before its request body is read.

Django Ninja validates an operation's body before the operation runs, and the role check of a write
is in its service: left at that, a caller in the wrong role sending a bad body would be told about
missing fields rather than that they may not do this at all. An operation that only some callers may
call therefore says so in its `auth`:

    @router.post(..., auth=may_call(on_task(PIT_TASK, can_work_on_pit), refusal="Only …"))

`may_call` authenticates exactly as every other operation (bearer token or session, the same
security schemes in the OpenAPI document) and then asks the check with the user and the path's
parameters. False answers 403 `permission_denied` with `refusal` (and, as every 403, one
`authz.denied` audit event); an object named in the path that is out of the caller's sight answers
404, as a missing one would (tenancy, DESIGN.md §3).

The checks are the apps' own permission functions (`portal/<app>/permissions.py`), the same the web
views and the services ask; the adapters below only find the object they are asked about, through the
apps' selectors. The services keep their own checks, with the exact state and input, as the second
line: a gate is coarse (the role), never the whole rule.
"""

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from ninja.security.base import AuthBase

from portal.accounts.selectors import user_organisation_ids
from portal.api.auth import BearerTokenAuth, CallerCheck, CallerGate, SessionAuth
from portal.core.errors import NotFound
from portal.qualification.models import Application, Task
from portal.qualification.selectors import application_get, task_get

DEFAULT_REFUSAL = "You do not hold a role that may do this."


def may_call(check: CallerCheck, *, refusal: str = DEFAULT_REFUSAL) -> list[AuthBase]:
    """The `auth` of an operation that only the callers `check` admits may call."""
    gate = CallerGate(check=check, refusal=refusal)
    return [BearerTokenAuth(gate=gate), SessionAuth(csrf=True, gate=gate)]


def by_role(permission: Callable[[Any], bool]) -> CallerCheck:
    """A permission that depends on the user alone (their roles)."""

    def check(user: Any, path_kwargs: Mapping[str, Any]) -> bool:
        return permission(user)

    return check


def on_application(
    permission: Callable[[Any, Application], bool],
    *,
    seen_if: Callable[[Any, Application], bool] | None = None,
) -> CallerCheck:
    """A permission on the application the path names (`application_id`): 404 when the user may not
    see it, or, with `seen_if`, when that narrower sight (e.g. of its QAD) says no."""

    def check(user: Any, path_kwargs: Mapping[str, Any]) -> bool:
        application = application_get(user=user, application_id=path_kwargs["application_id"])
        if seen_if is not None and not seen_if(user, application):
            raise_not_found()
        return permission(user, application)

    return check


def on_application_by_role(permission: Callable[[Any], bool]) -> CallerCheck:
    """A permission of the user's roles alone, on an operation whose path names an application: 404
    first when the application is out of the user's sight (tenancy), then the roles decide."""
    return on_application(lambda user, application: permission(user))


def on_task(
    task_code: str | Callable[[Mapping[str, Any]], str] | None,
    permission: Callable[[Any, Task], bool],
    *,
    seen_if: Callable[[Any, Application], bool] | None = None,
) -> CallerCheck:
    """A permission on one task of the application the path names: the task `task_code`, or with None
    the task the path names (`task_code`). 404 when the application (or, with `seen_if`, the part of it
    the operation is about) is out of the user's sight, or its route has no such task. `task_code` may
    also be a function of the path's parameters (a QAD's task follows from its kind)."""

    def check(user: Any, path_kwargs: Mapping[str, Any]) -> bool:
        if task_code is None:
            code = str(path_kwargs["task_code"])
        elif callable(task_code):
            code = task_code(path_kwargs)
        else:
            code = task_code
        task = task_get(user=user, application_id=path_kwargs["application_id"], task_code=code)
        if seen_if is not None and not seen_if(user, task.application):
            raise_not_found()
        return permission(user, task)

    return check


def on_own_organisation(permission: Callable[[Any, int], bool]) -> CallerCheck:
    """A permission on the organisation the path names (`organisation_id`): 404 unless the user acts
    for it, as for an organisation that does not exist."""

    def check(user: Any, path_kwargs: Mapping[str, Any]) -> bool:
        organisation_id = path_kwargs["organisation_id"]
        if organisation_id not in user_organisation_ids(user):
            raise NotFound("No organisation was found with that reference.")
        return permission(user, organisation_id)

    return check


def raise_not_found() -> NoReturn:
    """An object out of the user's sight answers exactly as a missing application does."""
    raise NotFound("No application was found with that reference.")
