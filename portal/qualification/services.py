"""Every write to an application goes through here.

Each transition follows the same steps inside one transaction: lock the application row, check the
application is open, check the task's state allows the action, check the actor may take it, change
the task, record an entry in the task's thread, make tasks whose dependencies are now met available,
derive the application's status, write one audit event, and create the notifications (whose e-mail
jobs commit with the change). A refusal raises before anything is written, or rolls back.
"""

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.evidence import CheckedFile, check_evidence_file
from portal.notifications.services import notify
from portal.participants.models import (
    ApprovalBody,
    ApprovalRequirement,
    MarketRole,
    Mpid,
    Organisation,
    mpid_validator,
)
from portal.qualification.hooks import TransitionContext, run_effects, run_guards
from portal.qualification.models import Application, Attachment, Route, Task, TaskDefinition, TaskEntry
from portal.qualification.permissions import (
    SEES_ALL,
    SEES_BODY,
    application_scope_for,
    can_create_application,
    can_mark_non_completion,
    can_take,
    can_withdraw,
)
from portal.qualification.workflow import (
    CLOSED_STATUSES,
    WITHDRAWABLE_STATUSES,
    Action,
    ApplicationStatus,
    Decision,
    Party,
    Stage,
    TaskKind,
    TaskSnapshot,
    TaskState,
    dependencies_met,
    derive_status,
    holder,
    transition_for,
)

MAX_COMMENT_LENGTH = 5000
MAX_ATTACHMENTS = 10


# --- creating an application -------------------------------------------------------------------


@transaction.atomic
def application_create(
    *, actor: Any, organisation_id: int, mpid_code: str, market_role_code: str, route_code: str
) -> Application:
    """Register a new application for organisation × MPID × market role on a route.

    Refused, with nothing stored, when the actor is not a member of the organisation, the MPID is
    malformed or not the organisation's, the route does not take the role (or is for new entrants
    only), the approval-routing matrix or the route lacks what the role needs, or an open application
    already exists for the MPID and role (also a database constraint, for two requests at once)."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None or not can_create_application(actor, organisation.pk):
        raise NotFound("No organisation was found that you can register applications for.")
    code = _mpid_code(mpid_code)
    mpid = Mpid.objects.filter(code=code).first()
    if mpid is None or mpid.organisation_id != organisation.pk:
        raise InvalidInput(f"{organisation.name} holds no MPID {code}.", details={"field": "mpid"})
    market_role = MarketRole.objects.select_related("role_group").filter(code=market_role_code, is_active=True).first()
    if market_role is None:
        raise InvalidInput("Choose a market role from the list.", details={"field": "market_role"})
    route = Route.objects.filter(code=route_code, is_active=True).first()
    if route is None:
        raise InvalidInput("Choose a qualification route from the list.", details={"field": "route"})
    if not route.role_groups.filter(pk=market_role.role_group_id).exists():
        raise InvalidInput(
            f"The {route.name} route does not take the {market_role.role_group.name} role group.",
            details={"field": "route"},
        )
    if route.new_entrants_only and not organisation.is_new_entrant:
        raise InvalidInput(
            f"The {route.name} route is only for new entrants, and {organisation.name} is not one.",
            details={"field": "route"},
        )
    if (
        Application.objects.filter(mpid=mpid, market_role=market_role)
        .exclude(status__in=[s.value for s in CLOSED_STATUSES])
        .exists()
    ):
        raise Conflict(f"There is already an open application for {mpid.code} as {market_role.name}.")

    bodies = set(ApprovalRequirement.objects.filter(role_group=market_role.role_group).values_list("body", flat=True))
    if not bodies:
        raise InvalidInput(
            f"No approval body is set for the {market_role.role_group.name} role group; "
            "an administrator must complete the approval-routing matrix first."
        )
    definitions = [
        d
        for d in TaskDefinition.objects.filter(route=route).order_by("order")
        if d.kind != TaskKind.APPROVAL or d.approval_body in bodies
    ]
    missing = bodies - {d.approval_body for d in definitions if d.kind == TaskKind.APPROVAL}
    if missing:
        names = ", ".join(sorted(ApprovalBody(body).label for body in missing))
        raise InvalidInput(
            f"The {route.name} route has no approval task for {names}, which the "
            f"{market_role.role_group.name} role group needs; an administrator must add it first.",
            details={"field": "route"},
        )

    try:
        with transaction.atomic():
            application = Application.objects.create(
                organisation=organisation, mpid=mpid, market_role=market_role, route=route, created_by=actor
            )
    except IntegrityError as exc:  # another request created the same application a moment earlier
        raise Conflict(f"There is already an open application for {mpid.code} as {market_role.name}.") from exc

    tasks = Task.objects.bulk_create(
        Task(application=application, definition=d, code=d.code, order=d.order) for d in definitions
    )
    for task in tasks:
        task.application = application
    newly_available = _refresh(application, tasks)
    audit_record(
        actor=actor,
        action="application.create",
        target=application,
        summary=f"Registered {application.reference}: {mpid.code} as {market_role.name} on the {route.name} route",
        after={
            "organisation": organisation.name,
            "mpid": mpid.code,
            "market_role": market_role.code,
            "route": route.code,
            "status": application.status,
            "tasks": [t.code for t in tasks],
        },
        organisation_id=organisation.pk,
        application_id=application.pk,
    )
    notify(
        recipients=_staff_for(application, {Role.ELEXON_ANALYST}),
        subject=f"New application {application.reference}: {organisation.name} {mpid.code} {market_role.code}",
        body=f"{organisation.name} registered an application for {mpid.code} as {market_role.name} "
        f"on the {route.name} route.",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    _notify_newly_available(application, newly_available, actor=actor)
    return application


# --- task transitions --------------------------------------------------------------------------


@transaction.atomic
def task_transition(
    *,
    actor: Any,
    application_id: int,
    task_code: str,
    action: str,
    comment: str = "",
    files: Sequence[UploadedFile] = (),
) -> Task:
    """Take `action` on one task of an application. See the module docstring for the steps."""
    application = application_lock(actor=actor, application_id=application_id)
    tasks = list(Task.objects.select_for_update().filter(application=application).select_related("definition"))
    for t in tasks:
        t.application = application
    task = next((t for t in tasks if t.code == task_code), None)
    if task is None:
        raise NotFound("That application has no such task.")
    transition = transition_for(task.definition.kind, action)
    if transition is None:
        raise InvalidTransition(f"“{action}” is not an action of the task “{task.definition.title}”.")
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state not in transition.sources:
        raise InvalidTransition(
            f"“{task.definition.title}” is {TaskState(task.state).label.lower()}, so it cannot be "
            f"{_past(transition.action)} now.",
            details={"state": task.state},
        )
    if transition.optional_only and not task.definition.is_optional:
        raise InvalidTransition(f"“{task.definition.title}” is required on this route.")
    if not can_take(actor, task, transition):
        raise PermissionDenied(
            f"You do not hold a role that may {Action(transition.action).label.lower()} “{task.definition.title}”."
        )
    comment = _clean_text(comment, field="comment")
    if transition.comment_required and not comment:
        raise InvalidInput(
            f"Enter the reason or the information for “{Action(transition.action).label}”.",
            details={"field": "comment"},
        )
    checked_files = _check_files(files)
    context = TransitionContext(
        actor=actor, application=application, task=task, action=transition.action, comment=comment
    )
    run_guards(context)

    before = {"state": task.state, "decision": task.decision, "application_status": application.status}
    from_state = task.state
    task.state = transition.target
    if transition.decision is not None:
        task.decision = transition.decision
    if task.state == TaskState.COMPLETED:
        task.completed_at = timezone.now()
    task.save(update_fields=["state", "decision", "completed_at", "updated_at"])
    entry = TaskEntry.objects.create(
        task=task,
        actor=actor,
        action=transition.action,
        from_state=from_state,
        to_state=task.state,
        decision=transition.decision or "",
        comment=comment,
    )
    for upload, checked in checked_files:
        Attachment.objects.create(
            entry=entry,
            file=upload,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )

    if transition.decision == Decision.REJECTED:
        _close(application, ApplicationStatus.REJECTED, reason=comment)
        newly_available: list[Task] = []
        _save_waiting(tasks)
    else:
        newly_available = _refresh(application, tasks)

    run_effects(context)
    audit_record(
        actor=actor,
        action=f"task.{transition.action}",
        target=task,
        summary=f"{_actor_name(actor)} {_past(transition.action)} “{task.definition.title}” on {application.reference}",
        before=before,
        after={
            "state": task.state,
            "decision": task.decision,
            "application_status": application.status,
            "comment": comment,
            "attachments": [{"name": c.name, "sha256": c.sha256} for _, c in checked_files],
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    _notify_transition(application, task, transition.action, comment, actor=actor)
    _notify_newly_available(application, newly_available, actor=actor)
    return task


# --- closing an application ----------------------------------------------------------------------


@transaction.atomic
def application_withdraw(*, actor: Any, application_id: int, reason: str) -> Application:
    application = application_lock(actor=actor, application_id=application_id)
    if not can_withdraw(actor, application):
        raise PermissionDenied("Only a member of the applying organisation can withdraw its application.")
    if application.status not in WITHDRAWABLE_STATUSES:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()} and can no longer be withdrawn."
        )
    reason = _required_reason(reason)
    return _close_and_record(actor, application, ApplicationStatus.WITHDRAWN, reason, "application.withdraw")


@transaction.atomic
def application_mark_non_completion(*, actor: Any, application_id: int, reason: str) -> Application:
    application = application_lock(actor=actor, application_id=application_id)
    if not can_mark_non_completion(actor):
        raise PermissionDenied("Only a Code Body can record that an application did not complete.")
    if application.status not in WITHDRAWABLE_STATUSES:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}; "
            "non-completion can only be recorded before qualification."
        )
    reason = _required_reason(reason)
    return _close_and_record(actor, application, ApplicationStatus.NON_COMPLETION, reason, "application.non_completion")


# --- internals ---------------------------------------------------------------------------------


def application_lock(*, actor: Any, application_id: int) -> Application:
    """Lock the application row for a write, or answer NotFound when it is missing or not the
    actor's to see. For every service that changes an application or its tasks' content.

    Visibility is checked first, on the scoped query, and the lock is then taken on the plain row
    (the scope's subqueries need not be locked)."""
    if not application_scope_for(actor).filter(pk=application_id).exists():
        raise NotFound("No application was found with that reference.")
    return (
        Application.objects.select_for_update()
        .select_related("organisation", "mpid", "market_role__role_group", "route")
        .get(pk=application_id)
    )


def task_lock(*, actor: Any, application_id: int, task_code: str, missing: str) -> tuple[Application, Task]:
    """Lock the application and one of its tasks, for a service that changes the task's content;
    NotFound (with the message `missing`) when the application's route has no such task."""
    application = application_lock(actor=actor, application_id=application_id)
    task = (
        Task.objects.select_for_update()
        .select_related("definition")
        .filter(application=application, code=task_code)
        .first()
    )
    if task is None:
        raise NotFound(missing)
    task.application = application
    return application, task


def task_start_on_first_work(*, actor: Any, task: Task) -> None:
    """The first piece of work on a task's content starts the task, exactly as its own "start" action
    would, so that the task list shows it in progress."""
    if task.state == TaskState.NOT_STARTED:
        task_transition(actor=actor, application_id=task.application_id, task_code=task.code, action=Action.START)
        task.refresh_from_db(fields=["state", "waiting_on", "updated_at"])


def _refresh(application: Application, tasks: list[Task]) -> list[Task]:
    """Make tasks whose dependencies are met available, set who each task waits on, and derive the
    application's status. Returns the tasks that became available."""
    states = {t.code: TaskState(t.state) for t in tasks}
    newly_available = []
    for task in tasks:
        if task.state == TaskState.CANNOT_START and dependencies_met(task.definition.depends_on, states):
            task.state = TaskState.NOT_STARTED
            newly_available.append(task)
    _save_waiting(tasks, also_state=newly_available)
    status = derive_status(
        TaskSnapshot(
            code=t.code,
            stage=Stage(t.definition.stage),
            state=TaskState(t.state),
            kind=TaskKind(t.definition.kind),
            decision=Decision(t.decision) if t.decision else None,
        )
        for t in tasks
    )
    if status != application.status:
        application.status = status
        now = timezone.now()
        if status == ApplicationStatus.QUALIFIED and application.qualified_at is None:
            application.qualified_at = now
        if status == ApplicationStatus.ACTIVE and application.activated_at is None:
            application.activated_at = now
    application.save(update_fields=["status", "qualified_at", "activated_at", "updated_at"])
    return newly_available


def _save_waiting(tasks: Iterable[Task], also_state: Iterable[Task] = ()) -> None:
    state_changed = {t.pk for t in also_state}
    for task in tasks:
        waiting_on = (holder(task.definition.kind, task.state) or "") if not task.application.is_closed else ""
        if waiting_on != task.waiting_on or task.pk in state_changed:
            task.waiting_on = waiting_on
            task.save(update_fields=["state", "waiting_on", "updated_at"])


def _close(application: Application, status: ApplicationStatus, *, reason: str) -> None:
    application.status = status
    application.closed_at = timezone.now()
    application.closed_reason = reason
    application.save(update_fields=["status", "closed_at", "closed_reason", "updated_at"])


def _close_and_record(
    actor: Any, application: Application, status: ApplicationStatus, reason: str, action: str
) -> Application:
    before = {"status": application.status}
    _close(application, status, reason=reason)
    tasks = list(application.tasks.select_related("definition"))
    for t in tasks:
        t.application = application
    _save_waiting(tasks)
    audit_record(
        actor=actor,
        action=action,
        target=application,
        summary=f"{application.reference} closed as {status.label.lower()}",
        before=before,
        after={"status": application.status, "reason": reason},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    recipients = list(organisation_users(application.organisation_id)) + list(
        _staff_for(application, {Role.ELEXON_ANALYST, Role.REC_CODE_MANAGER})
    )
    notify(
        recipients=recipients,
        subject=f"{application.reference} {status.label.lower()}",
        body=f"{application.reference} ({application.mpid.code} as {application.market_role.name}) was closed "
        f"as {status.label.lower()} by {_actor_name(actor)}.\n\nReason: {reason}",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    return application


def _required_reason(reason: str) -> str:
    reason = _clean_text(reason, field="reason")
    if not reason:
        raise InvalidInput("Enter the reason.", details={"field": "reason"})
    return reason


def _clean_text(value: str, *, field: str) -> str:
    """Free text a user wrote (a comment, a reason): trimmed, at most MAX_COMMENT_LENGTH characters,
    and without control characters other than line breaks and tabs (no database stores a NUL in
    text, and none of them belongs in a record people read)."""
    text = (value or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(f"The {field} must be {MAX_COMMENT_LENGTH} characters or fewer.", details={"field": field})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            f"The {field} contains control characters; remove them and try again.", details={"field": field}
        )
    return text


def _mpid_code(value: str) -> str:
    """The MPID as entered, in upper case; refused unless it has the MPID format."""
    code = (value or "").strip()
    if not code:
        raise InvalidInput("Enter the MPID.", details={"field": "mpid"})
    if code.isascii():
        code = code.upper()
    try:
        mpid_validator(code)
    except ValidationError as exc:
        raise InvalidInput(
            f"“{_printable(code)}” is not an MPID. {mpid_validator.message}", details={"field": "mpid"}
        ) from exc
    return code


def _printable(text: str, limit: int = 20) -> str:
    cleaned = "".join(ch for ch in text if ch.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _check_files(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, CheckedFile]]:
    """Every attachment passes the evidence checks (name, size, type by content, archives) before any
    is stored; a refusal names the file and the rule it broke."""
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer at a time.", details={"field": "files"})
    checked = []
    for upload in files:
        try:
            checked.append((upload, check_evidence_file(upload)))
        except InvalidInput as refused:
            raise InvalidInput(refused.message, details={**refused.details, "field": "files"}) from refused
    return checked


_PAST = {
    Action.START: "started",
    Action.SUBMIT: "submitted",
    Action.REQUEST_CHANGES: "sent back for changes",
    Action.ACCEPT: "accepted",
    Action.MARK_NOT_REQUIRED: "marked not required",
    Action.SIGN: "signed",
    Action.APPROVE: "approved",
    Action.APPROVE_WITH_CONDITIONS: "approved with conditions",
    Action.DEFER: "deferred",
    Action.REJECT: "rejected",
    Action.COMPLETE: "completed",
}


def _past(action: Action | str) -> str:
    return _PAST[Action(action)]


def _actor_name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))


def _link(application: Application, task: Task | None = None) -> str:
    if task is not None:
        return f"/applications/{application.pk}/tasks/{task.code}/"
    return f"/applications/{application.pk}/"


def _staff_for(application: Application, roles: set[Role]) -> list[Any]:
    """Active staff holding `roles` who may see this application (a body sees only its own roles)."""
    bodies = set(
        ApprovalRequirement.objects.filter(role_group_id=application.market_role.role_group_id).values_list(
            "body", flat=True
        )
    )
    allowed = {r for r in roles if r in SEES_ALL or (r in SEES_BODY and SEES_BODY[r] in bodies)}
    return list(users_with_roles(allowed)) if allowed else []


def _party_users(application: Application, task: Task, party: Party | str) -> list[Any]:
    names = {Role(n) for n in task.definition.roles_for(party)}
    users: list[Any] = []
    if Role.PARTICIPANT_DIRECTOR in names:
        users += list(organisation_users(application.organisation_id, directors_only=True))
    if Role.PARTICIPANT_MEMBER in names:
        users += list(organisation_users(application.organisation_id))
    users += _staff_for(application, names - PARTICIPANT_ROLES)
    return users


def _notify_transition(application: Application, task: Task, action: Action | str, comment: str, *, actor: Any) -> None:
    title = task.definition.title
    ref = f"{application.reference} ({application.mpid.code} {application.market_role.code})"
    next_party = holder(task.definition.kind, task.state)
    if application.status == ApplicationStatus.REJECTED:
        recipients = list(organisation_users(application.organisation_id)) + _staff_for(
            application, {Role.ELEXON_ANALYST}
        )
    elif next_party is not None:
        recipients = _party_users(application, task, next_party)
    else:
        # Done: tell the participant, whose application it is.
        recipients = list(organisation_users(application.organisation_id))
    body = f"{_actor_name(actor)} {_past(action)} “{title}” on {ref}."
    if task.decision:
        body += f"\n\nDecision: {Decision(task.decision).label}."
    if comment:
        body += f"\n\n{comment}"
    if application.status == ApplicationStatus.ACTIVE and action == Action.COMPLETE:
        body += (
            f"\n\n{application.organisation.name} may now operate as {application.market_role.name} under "
            f"{application.mpid.code} in the MHHS arrangements."
        )
    notify(
        recipients=recipients,
        subject=f"{title} {_past(action)}: {application.reference}",
        body=body,
        link=_link(application, task),
        application=application,
        exclude=actor,
    )
    if application.status == ApplicationStatus.QUALIFIED and action in (
        Action.APPROVE,
        Action.APPROVE_WITH_CONDITIONS,
    ):
        # The Service Activation team hears of it as its task becoming ready for it.
        notify(
            recipients=list(organisation_users(application.organisation_id))
            + _staff_for(application, {Role.ELEXON_ANALYST}),
            subject=f"{application.reference} is MHHS Qualified",
            body=f"{application.organisation.name} is MHHS Qualified as {application.market_role.name} "
            f"for {application.mpid.code}: every required body has approved. Service Activation can begin.",
            link=_link(application),
            application=application,
        )


def _notify_newly_available(application: Application, tasks: Iterable[Task], *, actor: Any) -> None:
    for task in tasks:
        party = holder(task.definition.kind, task.state)
        if party is None:
            continue
        notify(
            recipients=_party_users(application, task, party),
            subject=f"Ready for you: {task.definition.title} on {application.reference}",
            body=f"“{task.definition.title}” on {application.reference} ({application.organisation.name}, "
            f"{application.mpid.code} as {application.market_role.name}) can now start.",
            link=_link(application, task),
            application=application,
            exclude=actor,
        )


@transaction.atomic
def task_reopen(*, actor: Any, application_id: int, task_code: str, reason: str) -> Task:
    """Put a completed task back to "not started" because what it rested on has changed (for example a
    Director's signature voided by a new version of the Final QAD).

    Called by domain code, never offered as a user action: the caller has decided the reopening is
    due. Tasks that depend on it and have not started go back to "cannot start yet"; if any of them
    has already progressed, the reopening is refused, because work resting on it would be orphaned."""
    application = Application.objects.select_for_update().get(pk=application_id)
    tasks = list(Task.objects.select_for_update().filter(application=application).select_related("definition"))
    for t in tasks:
        t.application = application
    task = next((t for t in tasks if t.code == task_code), None)
    if task is None:
        raise NotFound("That application has no such task.")
    if task.state != TaskState.COMPLETED:
        return task
    dependants = [t for t in tasks if task.code in t.definition.depends_on]
    progressed = [t for t in dependants if t.state not in (TaskState.CANNOT_START, TaskState.NOT_STARTED)]
    if progressed:
        raise InvalidTransition(
            f"“{task.definition.title}” cannot be reopened: “{progressed[0].definition.title}” has already moved on."
        )
    before = {"state": task.state, "application_status": application.status}
    task.state = TaskState.NOT_STARTED
    task.completed_at = None
    task.save(update_fields=["state", "completed_at", "updated_at"])
    for dependant in dependants:
        dependant.state = TaskState.CANNOT_START
        dependant.save(update_fields=["state", "updated_at"])
    _refresh(application, tasks)
    audit_record(
        actor=actor,
        action="task.reopen",
        target=task,
        summary=f"“{task.definition.title}” on {application.reference} reopened: {reason}",
        before=before,
        after={"state": task.state, "application_status": application.status, "reason": reason},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    _notify_newly_available(application, [task], actor=actor)
    return task
