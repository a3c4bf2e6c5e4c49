"""Every write to a Service Activation hand-off goes through here.

Each service runs in one transaction: lock the application row (NotFound when the user may not see it,
the same as a missing one), check that the user holds the right part (PermissionDenied), that the
hand-off is open (InvalidTransition: not qualified yet, or completed) and that the input is sound
(InvalidInput); then change, write one audit event and notify whoever should know. A refusal changes
nothing.

The hand-off is opened by an effect of the approval that makes the application MHHS Qualified
(`handoff_open_on_qualification`). Starting and completing it are the `service_activation` task's own
transitions (`task_transition`), whichever face they come through: effects record who started and
completed it, and a guard refuses completion until every required checklist item is done and the
planned go-live date is set. The first piece of checklist work on a hand-off not yet started starts
it, exactly as its own "start" action would. An application qualified before hand-offs existed gets
its hand-off on the first piece of work on it.
"""

import unicodedata
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.activation.models import ActivationChecklistItem, Handoff, HandoffCheck, HandoffInput, InputBody
from portal.activation.permissions import (
    ACTIVATION_TASK,
    can_run_handoff,
    input_bodies_of,
    input_refusal,
    run_refusal,
)
from portal.activation.selectors import check_rows, handoff_missing, handoff_missing_from, uk_today
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.services import notify
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.services import MAX_COMMENT_LENGTH, task_lock, task_start_on_first_work, task_transition
from portal.qualification.workflow import Action, ApplicationStatus

MAX_NOTE_LENGTH = MAX_COMMENT_LENGTH
MAX_INPUT_LENGTH = MAX_COMMENT_LENGTH


# --- opening the hand-off ------------------------------------------------------------------------------


def handoff_open(*, actor: Any, application: Application) -> Handoff:
    """The application's hand-off, opened now if it has none, and audited (the Service Activation team
    is told by its task becoming ready for it). Idempotent. The caller holds the application's row lock and has decided
    that the application is MHHS Qualified."""
    existing = Handoff.objects.select_for_update().filter(application=application).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            handoff = Handoff.objects.create(application=application)
    except IntegrityError:  # opened a moment ago by another request
        return Handoff.objects.select_for_update().get(application=application)
    handoff.application = application
    audit_record(
        actor=actor,
        action="handoff.create",
        target=handoff,
        summary=f"Service Activation hand-off opened for {application.reference}: MHHS Qualified",
        after=_snapshot(handoff),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return handoff


def handoff_open_on_qualification(context: TransitionContext) -> None:
    """Effect of an approval: when it makes the application MHHS Qualified, open the hand-off."""
    if context.application.status == ApplicationStatus.QUALIFIED:
        handoff_open(actor=context.actor, application=context.application)


# --- starting and completing: the task's own transitions ----------------------------------------------


@transaction.atomic
def handoff_start(*, actor: Any, application_id: int) -> Handoff:
    """Start the hand-off (the Service Activation team): the `service_activation` task's "start"."""
    _require_team(actor, application_id, "start")
    task_transition(actor=actor, application_id=application_id, task_code=ACTIVATION_TASK, action=Action.START)
    return Handoff.objects.get(application_id=application_id)


@transaction.atomic
def handoff_complete(*, actor: Any, application_id: int, comment: str = "") -> Handoff:
    """Complete the hand-off (the Service Activation team): the `service_activation` task's "complete".
    Refused until every required checklist item is done and the planned go-live date is set. The
    participant may operate from then on."""
    _require_team(actor, application_id, "complete")
    task_transition(
        actor=actor, application_id=application_id, task_code=ACTIVATION_TASK, action=Action.COMPLETE, comment=comment
    )
    return Handoff.objects.get(application_id=application_id)


def handoff_record_start(context: TransitionContext) -> None:
    """Effect of "start": record who started the hand-off and when, and tell the participant."""
    application = context.application
    handoff = handoff_open(actor=context.actor, application=application)
    if handoff.is_started:
        return
    before = _snapshot(handoff)
    handoff.started_by, handoff.started_at = context.actor, timezone.now()
    handoff.save(update_fields=["started_by", "started_at", "updated_at"])
    audit_record(
        actor=context.actor,
        action="handoff.start",
        target=handoff,
        summary=f"Service Activation hand-off of {application.reference} started",
        before=before,
        after=_snapshot(handoff),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Service Activation has started: {_ref(application)}",
        body=f"The Service Activation team has started onboarding {application.mpid.code} as "
        f"{application.market_role.name} to operate in the MHHS arrangements. You can follow its progress "
        "and the planned go-live date in the portal.",
        link=_link(application),
        application=application,
        exclude=context.actor,
    )


def handoff_complete_guard(context: TransitionContext) -> None:
    """The hand-off is completed only when every required checklist item is done and the planned
    go-live date is set; the refusal names what is missing."""
    missing = handoff_missing(context.application)
    if missing:
        raise InvalidTransition(
            "The hand-off cannot be completed yet: " + "; ".join(missing) + ".", details={"missing": missing}
        )


def handoff_record_completion(context: TransitionContext) -> None:
    """Effect of "complete": record who completed the hand-off and when, tell the participant's members
    that they may now operate, and tell the Elexon analysts."""
    application = context.application
    handoff = handoff_open(actor=context.actor, application=application)
    before = _snapshot(handoff)
    now = timezone.now()
    if not handoff.is_started:  # started before hand-offs were recorded
        handoff.started_by, handoff.started_at = context.actor, now
    handoff.completed_by, handoff.completed_at = context.actor, now
    handoff.save(update_fields=["started_by", "started_at", "completed_by", "completed_at", "updated_at"])
    audit_record(
        actor=context.actor,
        action="handoff.complete",
        target=handoff,
        summary=f"Service Activation hand-off of {application.reference} completed: the participant may operate",
        before=before,
        after={**_snapshot(handoff), "comment": context.comment},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    go_live = f" from {_day(handoff.planned_go_live)}" if handoff.planned_go_live else ""
    # The participant is told by the task's own completion message, which says it may now operate.
    notify(
        recipients=users_with_roles({Role.ELEXON_ANALYST}),
        subject=f"Service Activation complete: {_ref(application)}",
        body=f"{application.organisation.name} has completed Service Activation and may now operate as "
        f"{application.market_role.name} under {application.mpid.code}{go_live}.",
        link=_link(application),
        application=application,
        exclude=context.actor,
    )


# --- the checklist and the go-live date ----------------------------------------------------------------


@transaction.atomic
def handoff_check_set(*, actor: Any, application_id: int, item_code: str, done: bool, note: str = "") -> HandoffCheck:
    """Tick one checklist item (recording who and when) or untick it, with an optional note. Ticking an
    item already done keeps who did it first and updates the note."""
    application, task = _lock(actor, application_id)
    _raise(run_refusal(actor, task, _current(application)))
    item = ActivationChecklistItem.objects.filter(code=item_code, is_active=True).first()
    if item is None:
        raise NotFound("The Service Activation checklist has no such item.")
    note = _clean_text(note, field="note", label="note")
    handoff = _begin_work(actor, application, task)
    missing_before = handoff_missing_from(check_rows(handoff), handoff)

    check = HandoffCheck.objects.select_for_update().filter(handoff=handoff, item=item).first()
    before = _check_snapshot(check) if check else {}
    if check is None:
        check = HandoffCheck(handoff=handoff, item=item)
    if done and not check.done:
        check.done_by, check.done_at = actor, timezone.now()
    elif not done:
        check.done_by, check.done_at = None, None
    check.done = done
    check.note = note
    check.save()
    audit_record(
        actor=actor,
        action="handoff.check.done" if done else "handoff.check.undone",
        target=check,
        summary=f"Service Activation item “{item.title}” marked {'done' if done else 'not done'} on "
        f"{application.reference}",
        before=before,
        after=_check_snapshot(check),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    _notify_if_ready(actor, application, handoff, missing_before)
    return check


@transaction.atomic
def handoff_go_live_set(*, actor: Any, application_id: int, planned_go_live: date) -> Handoff:
    """Set (or change) the go-live date agreed with the participant: today or later, in the UK. The
    participant is told. Setting the date it already has changes nothing."""
    application, task = _lock(actor, application_id)
    _raise(run_refusal(actor, task, _current(application)))
    if isinstance(planned_go_live, datetime):
        planned_go_live = planned_go_live.date()
    if not isinstance(planned_go_live, date):
        raise InvalidInput("Enter the planned go-live date.", details={"field": "planned_go_live"})
    today = uk_today()
    if planned_go_live < today:
        raise InvalidInput(
            f"The planned go-live date must be today ({_day(today)}) or later.", details={"field": "planned_go_live"}
        )
    handoff = _begin_work(actor, application, task)
    if handoff.planned_go_live == planned_go_live:
        return handoff
    missing_before = handoff_missing_from(check_rows(handoff), handoff)
    before = _snapshot(handoff)
    changed = handoff.planned_go_live is not None
    handoff.planned_go_live = planned_go_live
    handoff.save(update_fields=["planned_go_live", "updated_at"])
    audit_record(
        actor=actor,
        action="handoff.go_live.set",
        target=handoff,
        summary=f"Planned go-live of {application.reference} set to {_day(planned_go_live)}",
        before=before,
        after=_snapshot(handoff),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Planned go-live {'changed' if changed else 'set'}: {_ref(application)}",
        body=f"The Service Activation team {'changed' if changed else 'set'} the planned go-live date of "
        f"{application.mpid.code} as {application.market_role.name} to {_day(planned_go_live)}.",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    _notify_if_ready(actor, application, handoff, missing_before)
    return handoff


# --- inputs from the Code Bodies and the DIP Manager --------------------------------------------------


@transaction.atomic
def handoff_input_add(*, actor: Any, application_id: int, text: str, body: str | None = None) -> HandoffInput:
    """Add a note for the Service Activation team, as a Code Body or the DIP Manager. `body` says which
    body it comes from; it may be left out by a user who speaks for only one."""
    application, task = _lock(actor, application_id)
    _raise(input_refusal(actor, application, _current(application)))
    bodies = input_bodies_of(actor)
    chosen = _body(body, bodies)
    text = _clean_text(text, field="text", label="input", required="Enter the input for the Service Activation team.")
    handoff = handoff_open(actor=actor, application=application)
    entry = HandoffInput.objects.create(handoff=handoff, author=actor, body=chosen, text=text)
    audit_record(
        actor=actor,
        action="handoff.input.add",
        target=entry,
        summary=f"{InputBody(chosen).label} added an input to the hand-off of {application.reference}",
        after={"body": chosen, "text": text},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_team(application, task),
        subject=f"Input on the hand-off of {_ref(application)} from {InputBody(chosen).label}",
        body=f"{_name(actor)} ({InputBody(chosen).label}) added an input to the Service Activation hand-off of "
        f"{application.reference}:\n\n{text}",
        link=_link(application),
        application=application,
        exclude=actor,
    )
    return entry


# --- internals -----------------------------------------------------------------------------------------


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=ACTIVATION_TASK,
        missing="This application has no Service Activation task.",
    )


def _require_team(actor: Any, application_id: int, verb: str) -> None:
    """A wrong role is told so whatever state the hand-off is in (the task's own checks look at the state
    first)."""
    _, task = _lock(actor, application_id)
    if not can_run_handoff(actor, task):
        raise PermissionDenied(f"Only the Service Activation team can {verb} the hand-off.")


def _current(application: Application) -> Handoff | None:
    return Handoff.objects.select_for_update().filter(application=application).first()


def _begin_work(actor: Any, application: Application, task: Task) -> Handoff:
    """The hand-off, opened if need be, and started if it had not been: the first piece of work on it."""
    handoff_open(actor=actor, application=application)
    task_start_on_first_work(actor=actor, task=task)
    application.refresh_from_db(fields=["status", "updated_at"])
    handoff = Handoff.objects.select_for_update().get(application=application)
    handoff.application = application
    return handoff


def _notify_if_ready(actor: Any, application: Application, handoff: Handoff, missing_before: list[str]) -> None:
    """Tell the rest of the team when the change just made leaves nothing missing for completion."""
    if missing_before and not handoff_missing_from(check_rows(handoff), handoff):
        notify(
            recipients=_team(application),
            subject=f"Ready to complete: Service Activation hand-off of {_ref(application)}",
            body=f"Every required item of the Service Activation checklist of {application.reference} is done and "
            f"the planned go-live date is {_day(handoff.planned_go_live)}. The hand-off can be completed.",
            link=_link(application),
            application=application,
            exclude=actor,
        )


def _body(value: str | None, bodies: list[InputBody]) -> InputBody:
    if value is None or value == "":
        return bodies[0]
    try:
        body = InputBody(value)
    except ValueError:
        raise InvalidInput(
            "Choose who the input is from: " + ", ".join(str(b.label) for b in bodies) + ".", details={"field": "body"}
        ) from None
    if body not in bodies:
        raise InvalidInput(
            f"You cannot add an input for {body.label}; you can add one for "
            + ", ".join(str(b.label) for b in bodies)
            + ".",
            details={"field": "body"},
        )
    return body


def _clean_text(value: str, *, field: str, label: str, required: str = "") -> str:
    """Free text a user wrote: trimmed, at most MAX_COMMENT_LENGTH characters, and without control
    characters other than line breaks and tabs."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(required, details={"field": field})
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(f"The {label} must be {MAX_COMMENT_LENGTH} characters or fewer.", details={"field": field})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            f"The {label} contains control characters; remove them and try again.", details={"field": field}
        )
    return text


def _raise(refusal: ApplicationError | None) -> None:
    if refusal is not None:
        raise refusal


def _team(application: Application, task: Task | None = None) -> list[Any]:
    """The Service Activation team: staff holding the assurer roles of the application's task."""
    if task is None:
        task = Task.objects.select_related("definition").filter(application=application, code=ACTIVATION_TASK).first()
    names = task.definition.assurer_roles if task is not None else [Role.SERVICE_ACTIVATION.value]
    roles = {Role(name) for name in names} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _snapshot(handoff: Handoff) -> dict[str, Any]:
    return {
        "planned_go_live": handoff.planned_go_live,
        "started_by": handoff.started_by_id,
        "started_at": handoff.started_at,
        "completed_by": handoff.completed_by_id,
        "completed_at": handoff.completed_at,
    }


def _check_snapshot(check: HandoffCheck) -> dict[str, Any]:
    return {
        "item": check.item.code,
        "done": check.done,
        "done_by": check.done_by_id,
        "done_at": check.done_at,
        "note": check.note,
    }


def _ref(application: Application) -> str:
    return f"{application.reference} {application.mpid.code} {application.market_role.code}"


def _day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))


def _link(application: Application) -> str:
    return f"/applications/{application.pk}/activation/"
