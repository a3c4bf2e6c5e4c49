"""Helpers for tests that drive applications through their process with the real services.

`Driver` places a task of an application in any state it can reach, by walking the application
forward (`advance`) and then taking the actions of `PATHS` as the users who hold the roles.
`snapshot()` captures everything a transition may write, so that a refusal can be shown to have
changed nothing.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditChainHead, AuditEvent
from portal.notifications.models import Notification
from portal.qualification.models import Application, Attachment, Task, TaskEntry
from portal.qualification.services import task_transition
from portal.qualification.workflow import Action, Party, TaskKind, TaskState, transition_for

A = Action
S = TaskState

# How a task of each kind gets from "not started" to each state it can reach (taken in order, each
# by the party the transition table names).
PATHS: Mapping[TaskKind, Mapping[TaskState, tuple[Action, ...]]] = {
    TaskKind.SUBMISSION: {
        S.NOT_STARTED: (),
        S.IN_PROGRESS: (A.START,),
        S.SUBMITTED: (A.SUBMIT,),
        S.CHANGES_REQUESTED: (A.SUBMIT, A.REQUEST_CHANGES),
        S.COMPLETED: (A.SUBMIT, A.ACCEPT),
        S.NOT_REQUIRED: (A.MARK_NOT_REQUIRED,),
    },
    TaskKind.SIGNOFF: {S.NOT_STARTED: (), S.COMPLETED: (A.SIGN,)},
    TaskKind.APPROVAL: {
        S.NOT_STARTED: (),
        S.CHANGES_REQUESTED: (A.DEFER,),
        S.SUBMITTED: (A.DEFER, A.SUBMIT),
        S.COMPLETED: (A.APPROVE,),
    },
    TaskKind.ACTIVATION: {S.NOT_STARTED: (), S.IN_PROGRESS: (A.START,), S.COMPLETED: (A.START, A.COMPLETE)},
}


def reachable_states(kind: TaskKind, *, optional: bool, has_dependencies: bool) -> list[TaskState]:
    """Every state a task of `kind` can be placed in ("cannot start yet" on a fresh application, for a
    task that has dependencies)."""
    states = [S.CANNOT_START, *PATHS[kind]] if has_dependencies else list(PATHS[kind])
    return [s for s in states if optional or s != S.NOT_REQUIRED]


# Where `advance` is stopped to put a whole application at each status.
AT_STATUS: Mapping[str, dict[str, Any]] = {
    "in_preparation": {"stop_before": "pit"},
    "in_testing": {"stop_before": "qt"},
    "final_qad": {"stop_before": "final_qad"},
    "in_approval": {"stop_before": "approval_dip_manager"},
    "qualified": {"stop_before": "service_activation"},
    "in_service_activation": {"stop_at_state": ("service_activation", "in_progress")},
    "active": {},
}


@dataclass(frozen=True)
class Snapshot:
    tasks: tuple[tuple[Any, ...], ...]
    applications: tuple[tuple[Any, ...], ...]
    entries: int
    attachments: int
    audit_events: int
    audit_head: tuple[Any, ...] | None
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a service may write, as plain values."""
    return Snapshot(
        tasks=tuple(
            Task.objects.order_by("pk").values_list(
                "pk", "state", "decision", "waiting_on", "completed_at", "updated_at"
            )
        ),
        applications=tuple(
            Application.objects.order_by("pk").values_list(
                "pk", "status", "qualified_at", "activated_at", "closed_at", "closed_reason", "updated_at"
            )
        ),
        entries=TaskEntry.objects.count(),
        attachments=Attachment.objects.count(),
        audit_events=AuditEvent.objects.exclude(action="authz.denied").count(),
        audit_head=AuditChainHead.objects.filter(id=1).values_list("last_sequence", "last_hash").first(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


ActorFor = Callable[[Task, Role], User]
Advance = Callable[..., Application]


class Driver:
    """Takes transitions as the users who hold the roles, to put tasks where a test needs them."""

    def __init__(self, actor_for: ActorFor, advance: Advance) -> None:
        self.actor_for = actor_for
        self.advance = advance

    def task(self, application: Application, code: str) -> Task:
        return Task.objects.select_related("definition", "application").get(application=application, code=code)

    def user_for(self, application: Application, code: str, party: Party | str) -> User:
        """The user `actor_for` gives for the first role the task definition names for `party`."""
        task = self.task(application, code)
        return self.actor_for(task, Role(task.definition.roles_for(party)[0]))

    def take(self, application: Application, code: str, action: Action | str, *, comment: str = "Noted.") -> Task:
        task = self.task(application, code)
        transition = transition_for(task.definition.kind, action)
        assert transition is not None, f"{action} is not an action of {code}"
        return task_transition(
            actor=self.user_for(application, code, transition.party),
            application_id=application.pk,
            task_code=code,
            action=action,
            comment=comment,
        )

    def place(self, application: Application, code: str, state: TaskState | str) -> Task:
        """Put task `code` in `state`, walking everything before it forward first."""
        state = TaskState(state)
        if state != S.CANNOT_START:
            self.advance(application, stop_before=code)
            task = self.task(application, code)
            assert task.state == S.NOT_STARTED, f"{code} is {task.state} after advancing"
            for action in PATHS[TaskKind(task.definition.kind)][state]:
                self.take(application, code, action)
        task = self.task(application, code)
        assert task.state == state, f"{code} is {task.state}, not {state}"
        return task

    def at_status(self, application: Application, status: str) -> Application:
        application = self.advance(application, **AT_STATUS[status])
        assert application.status == status, f"{application.reference} is {application.status}, not {status}"
        return application


def recipients_of(subject_start: str, *, since: int = 0) -> set[User]:
    """The users sent a notification whose subject starts with `subject_start` (after id `since`)."""
    return {
        n.recipient
        for n in Notification.objects.filter(pk__gt=since, subject__startswith=subject_start).select_related(
            "recipient"
        )
    }


def last_notification_id() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def organisation_people(application: Application) -> set[User]:
    """Every active user who belongs to the application's organisation."""
    return set(User.objects.filter(memberships__organisation_id=application.organisation_id, is_active=True))


def without(users: Iterable[User], *excluded: User) -> set[User]:
    return {u for u in users if u not in excluded}
