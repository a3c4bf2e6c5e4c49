"""Walking an application forward through its process with the ordinary services.

Used by the demo data and by tests to put applications at a given stage. Nothing here bypasses a
rule: every step is a real transition by a user who holds the role, so the audit chain, the task
threads and the notifications are exactly what the users' own clicks would have made."""

from collections.abc import Callable
from typing import Any

from portal.accounts.roles import Role
from portal.qualification.models import Application, Task
from portal.qualification.services import task_transition
from portal.qualification.workflow import Action, Party, TaskKind, TaskState, holder

# Given the task and the role that must act, return a user who holds that role for the application.
ActorFor = Callable[[Task, Role], Any]
# Fills a task's structured content just before a step (the PQS before it is submitted, say), as the
# participant or reviewer would have: called with application=, task_code=, action=, actor= and
# actor_for= (to find the reviewer who must agree something first, say Testing Assurance).
StepPreparer = Callable[..., None]
# Takes a step that the generic action cannot take (signing needs the signer's password) and answers
# True; answers False for any other step. Called with application=, task_code=, action=, actor=, password=.
StepTaker = Callable[..., bool]

_preparers: list[StepPreparer] = []
_takers: list[StepTaker] = []


def register_step_preparer(preparer: StepPreparer) -> None:
    """Apps that guard a task's transitions register how to satisfy their guard (in AppConfig.ready)."""
    if preparer not in _preparers:
        _preparers.append(preparer)


def register_step_taker(taker: StepTaker) -> None:
    if taker not in _takers:
        _takers.append(taker)


def _next_step(task: Task, skip_optional: bool) -> tuple[Party, Action] | None:
    party = holder(task.definition.kind, task.state)
    if party is None:
        return None
    kind = TaskKind(task.definition.kind)
    state = TaskState(task.state)
    if kind == TaskKind.SUBMISSION:
        if party == Party.ASSURER:
            return party, Action.ACCEPT
        if task.definition.is_optional and skip_optional:
            return party, Action.MARK_NOT_REQUIRED
        return party, Action.SUBMIT
    if kind == TaskKind.SIGNOFF:
        return party, Action.SIGN
    if kind == TaskKind.APPROVAL:
        return (party, Action.APPROVE) if party == Party.ASSURER else (party, Action.SUBMIT)
    return party, (Action.START if state == TaskState.NOT_STARTED else Action.COMPLETE)


def advance_application(
    application: Application,
    *,
    actor_for: ActorFor,
    stop_before: str | None = None,
    stop_at_state: tuple[str, str] | None = None,
    skip_optional: bool = True,
    password: str = "",
    max_steps: int = 100,
) -> Application:
    """Take the next available step, again and again, until the application is active, or the task
    `stop_before` is about to be acted on, or the task `stop_at_state[0]` reaches `stop_at_state[1]`.

    Before each step the registered preparers fill the task's structured content; `password` is the
    signers' password, for the Director sign-off."""
    for _ in range(max_steps):
        application.refresh_from_db()
        if application.is_closed:
            return application
        tasks = list(application.tasks.select_related("definition").order_by("order"))
        if stop_at_state and any(t.code == stop_at_state[0] and t.state == stop_at_state[1] for t in tasks):
            return application
        step = None
        for task in tasks:
            next_step = _next_step(task, skip_optional)
            if next_step is not None:
                step = (task, *next_step)
                break
        if step is None:
            return application
        task, party, action = step
        if task.code == stop_before:
            return application
        role = Role(task.definition.roles_for(party)[0])
        actor = actor_for(task, role)
        for prepare in _preparers:
            prepare(application=application, task_code=task.code, action=action, actor=actor, actor_for=actor_for)
        if any(
            take(application=application, task_code=task.code, action=action, actor=actor, password=password)
            for take in _takers
        ):
            continue
        comment = "Not required: every test case was completed." if action == Action.MARK_NOT_REQUIRED else ""
        task_transition(
            actor=actor,
            application_id=application.pk,
            task_code=task.code,
            action=action,
            comment=comment or "Submitted for review.",
        )
    raise RuntimeError(f"{application.reference} did not settle within {max_steps} steps")
