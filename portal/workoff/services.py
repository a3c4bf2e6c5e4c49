"""Every write to a work-off plan goes through here.

Each service runs in one transaction: lock the application row and its `workoff` task (NotFound when
the user may not see the application, the same as a missing one), lock the item, check that the user
takes the part the workflow gives the action (PermissionDenied), that the item's state allows it and
the application is open (InvalidTransition), and that the input is sound (InvalidInput, naming the
field; files checked by their content before anything is stored); then change, write one audit event,
and notify whoever must act next with a link to the item. A refusal changes nothing.

The guards registered on the `workoff` task (see apps.py) tie the plan to its task: it is submitted
only when every item has been reviewed, accepted only when every item is agreed, and cannot be marked
not required while it has items.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import CODE_BODY_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.services import audit_record
from portal.core.calendar import add_working_days
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.evidence import check_evidence_file
from portal.documents.models import EvidenceFile
from portal.documents.selectors import evidence_scope_for
from portal.documents.services import evidence_open_for_download, evidence_store
from portal.notifications.services import notify
from portal.participants.models import ApprovalRequirement
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.permissions import SEES_ALL, SEES_BODY
from portal.qualification.services import (
    MAX_ATTACHMENTS,
    MAX_COMMENT_LENGTH,
    task_lock,
    task_start_on_first_work,
)
from portal.qualification.workflow import CLOSED_STATUSES
from portal.testing.models import PASSING_STATUSES, Defect, DefectStatus, TestCase
from portal.testing.required_set import required_set
from portal.workoff.models import ReminderKind, WorkOffItem, WorkOffReminder, WorkOffStatus
from portal.workoff.permissions import WORKOFF_TASK, parties_of_user
from portal.workoff.selectors import (
    COVERABLE_INCLUSIONS,
    application_items,
    case_title,
    latest_execution_statuses,
    missing_for_accept,
    missing_for_submit,
    propose_refusal,
    uk_today,
)
from portal.workoff.workflow import (
    COMMENT_ACTIONS,
    LIVE_STATUSES,
    ItemTransition,
    WorkOffAction,
    WorkOffParty,
    parties_of,
    past,
    transition_for,
)

MAX_ACTION_LENGTH = MAX_COMMENT_LENGTH
MAX_NOTE_LENGTH = MAX_COMMENT_LENGTH
MAX_OWNER_LENGTH = 200
# A due date further ahead than this is a typing slip, not a plan.
MAX_DUE_DAYS = 3 * 366
# How many working days before the due date the "due soon" reminder goes out.
DUE_SOON_WORKING_DAYS = 5
# An overdue item is reminded of on the first day it is overdue and again each week after, not every
# day: a daily message per item would soon be ignored.
OVERDUE_REPEAT_DAYS = 7

PARTY_NAMES = {
    WorkOffParty.PARTICIPANT: "the applying organisation",
    WorkOffParty.TESTING_ASSURANCE: "Testing Assurance",
    WorkOffParty.CODE_BODY: "a Code Body",
}


# --- proposing and changing an item ------------------------------------------------------------------


@transaction.atomic
def workoff_item_propose(
    *,
    actor: Any,
    application_id: int,
    action: str,
    owner: str,
    due_on: date | None,
    case_id: int | None = None,
    defect_id: int | None = None,
) -> WorkOffItem:
    """Propose a work-off item covering one test case (its latest run failed, was blocked or not run,
    or it never ran) or one defect still open, with the action that will close it, its owner and its
    due date. Testing Assurance is asked to review it.

    Allowed to the applying organisation once Qualification Testing is under way, and after (items
    are raised during QT and tracked after qualification). The first item starts the `workoff` task."""
    application, task = _lock(actor, application_id)
    refusal = propose_refusal(actor, task, Task.objects.filter(application=application))
    if refusal:
        if WorkOffParty.PARTICIPANT not in parties_of_user(actor, task):
            raise PermissionDenied(refusal)
        raise InvalidTransition(refusal)
    text = _clean_text(action, field="action", limit=MAX_ACTION_LENGTH, label="action")
    if not text:
        raise InvalidInput("Enter the action that will close the item.", details={"field": "action"})
    owner = _clean_owner(owner)
    due_on = _clean_due_on(due_on)
    case, defect = _coverage(application, case_id=case_id, defect_id=defect_id)

    task_start_on_first_work(actor=actor, task=task)
    number = (WorkOffItem.objects.filter(application=application).aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        with transaction.atomic():
            item = WorkOffItem.objects.create(
                application=application,
                number=number,
                case=case,
                defect=defect,
                action=text,
                owner=owner,
                due_on=due_on,
                status=WorkOffStatus.PROPOSED,
                proposed_by=actor,
                proposed_at=timezone.now(),
            )
    except IntegrityError as exc:  # the same case or defect was proposed a moment earlier
        raise Conflict(
            "Another work-off item for the same test was proposed at the same moment; reload the plan."
        ) from exc

    audit_record(
        actor=actor,
        action="workoff.propose",
        target=item,
        summary=f"{_name(actor)} proposed {item.reference} on {application.reference}, covering {_covers(item)}",
        after=_snapshot(item),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_testing_assurance(),
        subject=f"Work-off item to review: {item.reference} on {application.reference}",
        body=f"{_name(actor)} proposed {item.reference} on {_describe(application)}, covering {_covers(item)}.\n\n"
        f"Action: {item.action}\nOwner: {item.owner}\nDue: {_date(item.due_on)}",
        link=_item_link(item),
        application=application,
        exclude=actor,
    )
    return item


@transaction.atomic
def workoff_item_edit(
    *, actor: Any, application_id: int, item_id: int, action: str, owner: str, due_on: date | None
) -> WorkOffItem:
    """Change the action, owner or due date of an item not yet reviewed, or one sent back for
    changes; it goes (back) to Testing Assurance for review. What an item covers does not change:
    withdraw it and propose another instead."""
    application, item, _ = _lock_item(actor, application_id, item_id, WorkOffAction.EDIT)
    text = _clean_text(action, field="action", limit=MAX_ACTION_LENGTH, label="action")
    if not text:
        raise InvalidInput("Enter the action that will close the item.", details={"field": "action"})
    owner = _clean_owner(owner)
    due_on = _clean_due_on(due_on)

    before = _snapshot(item)
    item.action, item.owner, item.due_on, item.status = text, owner, due_on, WorkOffStatus.PROPOSED
    item.save(update_fields=["action", "owner", "due_on", "status", "updated_at"])
    audit_record(
        actor=actor,
        action="workoff.edit",
        target=item,
        summary=f"{_name(actor)} changed {item.reference} on {application.reference} and sent it for review",
        before=before,
        after=_snapshot(item),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_testing_assurance(),
        subject=f"Work-off item changed, to review: {item.reference} on {application.reference}",
        body=f"{_name(actor)} changed {item.reference} on {_describe(application)}, covering {_covers(item)}.\n\n"
        f"Action: {item.action}\nOwner: {item.owner}\nDue: {_date(item.due_on)}",
        link=_item_link(item),
        application=application,
        exclude=actor,
    )
    return item


# --- reviewing, agreeing, withdrawing, reopening --------------------------------------------------------


@transaction.atomic
def workoff_item_transition(
    *, actor: Any, application_id: int, item_id: int, action: str, comment: str = ""
) -> WorkOffItem:
    """Take one of the comment-only actions on an item:

    - `review` (Testing Assurance, on a proposed item) and `request_changes` (Testing Assurance on a
      proposed item, a Code Body on a reviewed one; a comment is required);
    - `agree` (a Code Body, once Testing Assurance has reviewed it): the item becomes a condition;
    - `withdraw` (the applying organisation, before it is agreed; a reason is required);
    - `reopen` (Testing Assurance or a Code Body, on a closed item whose evidence is not enough; a
      comment is required): the item is agreed and open again."""
    try:
        verb = WorkOffAction(action)
    except ValueError:
        verb = None
    if verb is None or verb not in COMMENT_ACTIONS:
        raise InvalidInput(
            f"“{str(action)[:40]}” is not an action on a work-off item: use review, request_changes, agree, "
            "withdraw or reopen.",
            details={"field": "action"},
        )
    application, item, transition = _lock_item(actor, application_id, item_id, verb)
    if verb == WorkOffAction.AGREE and item.reviewed_by_id == getattr(actor, "pk", None):
        # Review and agreement are two independent checks, even for someone who holds both roles.
        raise PermissionDenied(
            f"You reviewed {item.reference} for Testing Assurance; another person must agree it for the Code Bodies."
        )
    comment = _clean_text(comment, field="comment", limit=MAX_COMMENT_LENGTH, label="comment")
    if transition.comment_required and not comment:
        what = "the reason" if verb == WorkOffAction.WITHDRAW else "a comment"
        raise InvalidInput(
            f"Enter {what} for “{verb.label}”: the people who act next read it.", details={"field": "comment"}
        )

    before = _snapshot(item)
    now = timezone.now()
    item.status = transition.target
    fields = ["status", "updated_at"]
    if verb == WorkOffAction.REVIEW:
        item.reviewed_by, item.reviewed_at = actor, now
        fields += ["reviewed_by", "reviewed_at"]
    elif verb == WorkOffAction.AGREE:
        item.agreed_by, item.agreed_at = actor, now
        fields += ["agreed_by", "agreed_at"]
    elif verb == WorkOffAction.REOPEN:
        item.closed_by, item.closed_at = None, None
        fields += ["closed_by", "closed_at"]
    if comment or transition.comment_required:
        item.last_comment = comment
        fields.append("last_comment")
    item.save(update_fields=fields)

    audit_record(
        actor=actor,
        action=f"workoff.{verb.value}",
        target=item,
        summary=f"{_name(actor)} {past(verb)} {item.reference} on {application.reference}",
        before=before,
        after={**_snapshot(item), "comment": comment},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    _notify_after(application, item, verb, comment, actor=actor)
    return item


# --- closing with evidence ---------------------------------------------------------------------------


@transaction.atomic
def workoff_item_close(
    *, actor: Any, application_id: int, item_id: int, note: str, files: Sequence[Any] = ()
) -> WorkOffItem:
    """Close an agreed item: the applying organisation records what was done (the closure note) and
    attaches the evidence that shows it. Testing Assurance and the Code Bodies are told, and may reopen
    the item if the evidence is not enough. Every file is checked before any is stored."""
    application, item, _ = _lock_item(actor, application_id, item_id, WorkOffAction.CLOSE)
    note = _clean_text(note, field="note", limit=MAX_NOTE_LENGTH, label="closure note")
    if not note:
        raise InvalidInput("Enter the closure note: what was done to close the item.", details={"field": "note"})
    if not files:
        raise InvalidInput("Attach the evidence that the item is closed.", details={"field": "files"})
    _check_files(files)

    before = _snapshot(item)
    for upload in files:
        evidence = evidence_store(
            actor=actor, application=application, upload=upload, purpose=f"workoff:closure:{item.reference}"
        )
        item.closure_evidence.add(evidence)
    item.status = WorkOffStatus.CLOSED
    item.closure_note = note
    item.closed_by, item.closed_at = actor, timezone.now()
    item.save(update_fields=["status", "closure_note", "closed_by", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action="workoff.close",
        target=item,
        summary=f"{_name(actor)} closed {item.reference} on {application.reference} with evidence",
        before=before,
        after=_snapshot(item),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    _notify_after(application, item, WorkOffAction.CLOSE, note, actor=actor)
    return item


def workoff_evidence_open(*, actor: Any, application_id: int, evidence_id: int) -> EvidenceFile:
    """A closure evidence file of one of the application's items, for download (reviewers' downloads
    are audited). NotFound for any other file, including another application's."""
    in_scope = evidence_scope_for(actor).filter(
        pk=evidence_id, application_id=application_id, purpose__startswith="workoff:"
    )
    if not in_scope.exists():
        raise NotFound("No evidence file was found with that reference.")
    return evidence_open_for_download(actor=actor, evidence_id=evidence_id)


# --- the guards on the `workoff` task ------------------------------------------------------------------


def workoff_submit_guard(context: TransitionContext) -> None:
    """The plan is submitted with at least one item, each reviewed by Testing Assurance (or agreed)."""
    missing = missing_for_submit(application_items(context.application))
    if missing:
        raise InvalidTransition(
            "The work-off plan cannot be submitted yet: " + "; ".join(missing) + ".", details={"missing": missing}
        )


def workoff_accept_guard(context: TransitionContext) -> None:
    """The plan is accepted only when a Code Body has agreed every item not withdrawn."""
    missing = missing_for_accept(application_items(context.application))
    if missing:
        raise InvalidTransition(
            "The work-off plan cannot be accepted yet: " + "; ".join(missing) + ".", details={"missing": missing}
        )


def workoff_not_required_guard(context: TransitionContext) -> None:
    """A plan with items is needed: it cannot be marked not required until they are withdrawn."""
    live = [i.reference for i in application_items(context.application) if i.status in LIVE_STATUSES]
    if live:
        raise InvalidTransition(
            "The work-off plan cannot be marked not required: it has work-off items ("
            + ", ".join(live)
            + "). Withdraw any that are not needed; agreed items stay.",
            details={"items": live},
        )


# --- reminders ---------------------------------------------------------------------------------------


@dataclass
class ReminderReport:
    day: date
    items: int = 0
    sent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def reminder_kind(due_on: date, today: date) -> ReminderKind | None:
    if due_on < today:
        return ReminderKind.OVERDUE
    if due_on == today:
        return ReminderKind.DUE_TODAY
    if due_on <= add_working_days(today, DUE_SOON_WORKING_DAYS):
        return ReminderKind.DUE_SOON
    return None


def workoff_reminders_send(*, today: date | None = None) -> ReminderReport:
    """Remind the applying organisation's members and the Code Bodies of agreed items not yet closed
    that are due within 5 working days, due today, or overdue.

    Each person gets one reminder of each kind per item: "due soon" once, "due today" on the day,
    "overdue" on the first day and then weekly until the item is closed. What was sent is recorded
    (`WorkOffReminder`, unique per item, person, kind and day), so running the job again, or two runs
    at once, never sends anything twice. Items of closed applications are not reminded of; items of
    qualified and active applications are, until they are closed."""
    today = today or uk_today()
    report = ReminderReport(day=today)
    horizon = add_working_days(today, DUE_SOON_WORKING_DAYS)
    candidates = (
        WorkOffItem.objects.filter(status=WorkOffStatus.AGREED, due_on__lte=horizon)
        .exclude(application__status__in=[s.value for s in CLOSED_STATUSES])
        .order_by("due_on", "pk")
        .values_list("pk", flat=True)
    )
    for item_id in list(candidates):
        sent = _remind(item_id, today)
        if sent:
            report.items += 1
            report.sent += sent[1]
            report.by_kind[sent[0]] = report.by_kind.get(sent[0], 0) + sent[1]
    return report


@transaction.atomic
def _remind(item_id: int, today: date) -> tuple[str, int] | None:
    item = (
        WorkOffItem.objects.select_for_update(of=("self",))
        .select_related("application__organisation", "application__mpid", "application__market_role", "case", "defect")
        .filter(pk=item_id)
        .first()
    )
    if item is None or item.status != WorkOffStatus.AGREED or item.application.is_closed:
        return None
    kind = reminder_kind(item.due_on, today)
    if kind is None:
        return None
    application = item.application
    earlier = WorkOffReminder.objects.filter(item=item, kind=kind)
    if kind == ReminderKind.OVERDUE:
        earlier = earlier.filter(sent_on__gt=today - timedelta(days=OVERDUE_REPEAT_DAYS))
    elif kind == ReminderKind.DUE_TODAY:
        earlier = earlier.filter(sent_on=today)
    already = set(earlier.values_list("recipient_id", flat=True))
    recipients = [
        u for u in [*organisation_users(application.organisation_id), *_code_bodies(application)] if u.pk not in already
    ]
    reminded = []
    for user in {u.pk: u for u in recipients}.values():
        try:
            with transaction.atomic():
                WorkOffReminder.objects.create(item=item, recipient=user, kind=kind, sent_on=today)
        except IntegrityError:  # another run sent this one a moment ago
            continue
        notify(
            recipients=[user],
            subject=_reminder_subject(item, kind),
            body=_reminder_body(item, kind, today),
            link=_item_link(item),
            application=application,
        )
        reminded.append(user.email)
    if not reminded:
        return None
    audit_record(
        actor=None,
        action="workoff.remind",
        target=item,
        summary=f"Reminded {len(reminded)} people that {item.reference} on {application.reference} is "
        f"{ReminderKind(kind).label.lower()}",
        after={"kind": kind.value, "due_on": item.due_on.isoformat(), "sent_on": today.isoformat(), "to": reminded},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return kind.value, len(reminded)


def _reminder_subject(item: WorkOffItem, kind: ReminderKind) -> str:
    ref = f"{item.reference} on {item.application.reference}"
    if kind == ReminderKind.OVERDUE:
        return f"Work-off item overdue: {ref}"
    if kind == ReminderKind.DUE_TODAY:
        return f"Work-off item due today: {ref}"
    return f"Work-off item due soon: {ref}"


def _reminder_body(item: WorkOffItem, kind: ReminderKind, today: date) -> str:
    when = {
        ReminderKind.OVERDUE: f"was due on {_date(item.due_on)} and is not closed",
        ReminderKind.DUE_TODAY: "is due today",
        ReminderKind.DUE_SOON: f"is due on {_date(item.due_on)}",
    }[kind]
    return (
        f"{item.reference} on {_describe(item.application)}, covering {_covers(item)}, {when}.\n\n"
        f"Action: {item.action}\nOwner: {item.owner}\n\n"
        "The applying organisation closes it with a closure note and evidence."
    )


# --- internals ----------------------------------------------------------------------------------------


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=WORKOFF_TASK,
        missing="This application has no work-off plan.",
    )


def _lock_item(
    actor: Any, application_id: int, item_id: int, action: WorkOffAction
) -> tuple[Application, WorkOffItem, ItemTransition]:
    """Lock the application, its `workoff` task and the item; check the actor's part, the
    application and the item's state, in that order. Returns the transition that applies."""
    application, task = _lock(actor, application_id)
    item = (
        WorkOffItem.objects.select_for_update(of=("self",))
        .select_related("case", "defect")
        .filter(application=application, pk=item_id)
        .first()
    )
    if item is None:
        raise NotFound("This application has no such work-off item.")
    parties = parties_of_user(actor, task)
    if not parties & parties_of(action):
        raise PermissionDenied(f"Only {_names(parties_of(action))} can {_verb(action)} a work-off item.")
    if application.is_closed:
        raise InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    transition = transition_for(action, item.status)
    if transition is None:
        raise InvalidTransition(
            f"{item.reference} is {WorkOffStatus(item.status).label.lower()}, so it cannot be {_done(action)} now.",
            details={"status": item.status},
        )
    if not parties & transition.parties:
        raise PermissionDenied(
            f"{item.reference} is {WorkOffStatus(item.status).label.lower()}: only {_names(transition.parties)} "
            f"can {_verb(action)} it now."
        )
    return application, item, transition


def _coverage(
    application: Application, *, case_id: int | None, defect_id: int | None
) -> tuple[TestCase | None, Defect | None]:
    """The case or defect a new item covers, checked against the application's test set and its
    executions and defects."""
    if (case_id is None) == (defect_id is None):
        message = (
            "An item covers one test case or one defect, not both."
            if case_id is not None
            else "Choose the test case or the defect the item covers."
        )
        raise InvalidInput(message, details={"field": "covers"})
    if case_id is not None:
        row = next((r for r in required_set(application) if r.case_id == case_id), None)
        if row is None:
            raise InvalidInput(
                "That test case is not in the test set of this application's market role.",
                details={"field": "covers"},
            )
        if row.inclusion not in COVERABLE_INCLUSIONS:
            raise InvalidInput(f"{row.identifier} needs no work-off item. {row.reason}", details={"field": "covers"})
        status = latest_execution_statuses(application, [case_id]).get(case_id, "")
        if status in PASSING_STATUSES:
            raise InvalidInput(
                f"{row.identifier} passed on its latest run, so it needs no work-off item.",
                details={"field": "covers"},
            )
        taken = _live_item(application, case_id=case_id)
        if taken is not None:
            raise Conflict(f"{row.identifier} is already covered by {taken.reference}.", details={"field": "covers"})
        return row.version.case, None
    assert defect_id is not None
    defect = Defect.objects.filter(application=application, pk=defect_id).first()
    if defect is None:
        raise InvalidInput("That defect is not one of this application's.", details={"field": "covers"})
    if defect.status == DefectStatus.CLOSED:
        raise InvalidInput(f"{defect.reference} is closed, so it needs no work-off item.", details={"field": "covers"})
    taken = _live_item(application, defect_id=defect.pk)
    if taken is not None:
        raise Conflict(f"{defect.reference} is already covered by {taken.reference}.", details={"field": "covers"})
    return None, defect


def _live_item(application: Application, **covers: int) -> WorkOffItem | None:
    return WorkOffItem.objects.filter(application=application, status__in=LIVE_STATUSES, **covers).first()


def _clean_text(value: str | None, *, field: str, limit: int, label: str) -> str:
    """Free text a user wrote: trimmed, at most `limit` characters, and without control characters
    other than line breaks and tabs."""
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"The {label} must be {limit} characters or fewer.", details={"field": field})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            f"The {label} contains control characters; remove them and try again.", details={"field": field}
        )
    return text


def _clean_owner(value: str | None) -> str:
    """A name on one line: a person or team at the participant."""
    owner = (value or "").strip()
    if not owner:
        raise InvalidInput(
            "Enter the owner: the person or team at your organisation who will do it.", details={"field": "owner"}
        )
    if len(owner) > MAX_OWNER_LENGTH:
        raise InvalidInput(f"The owner must be {MAX_OWNER_LENGTH} characters or fewer.", details={"field": "owner"})
    if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in owner):
        raise InvalidInput("The owner must be one line, without control characters.", details={"field": "owner"})
    return owner


def _clean_due_on(value: date | None) -> date:
    if value is None:
        raise InvalidInput("Enter the due date.", details={"field": "due_on"})
    today = uk_today()
    if value < today:
        raise InvalidInput("The due date must be today or later.", details={"field": "due_on"})
    if value > today + timedelta(days=MAX_DUE_DAYS):
        raise InvalidInput("The due date must be within three years.", details={"field": "due_on"})
    return value


def _check_files(files: Sequence[Any]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer at a time.", details={"field": "files"})
    for upload in files:
        try:
            check_evidence_file(upload)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, details={**exc.details, "field": "files"}) from exc


def _snapshot(item: WorkOffItem) -> dict[str, Any]:
    return {
        "reference": item.reference,
        "status": item.status,
        "covers": _covers(item),
        "action": item.action,
        "owner": item.owner,
        "due_on": item.due_on.isoformat(),
        "closure_note": item.closure_note,
        "closure_evidence": [
            {"id": e.pk, "name": e.original_name, "sha256": e.sha256} for e in item.closure_evidence.order_by("pk")
        ]
        if item.pk
        else [],
    }


def _covers(item: WorkOffItem) -> str:
    if item.case is not None:
        return f"{item.case.identifier} {case_title(item.case)}".strip()
    assert item.defect is not None
    return f"{item.defect.reference} {item.defect.title}"


def _notify_after(application: Application, item: WorkOffItem, verb: WorkOffAction, text: str, *, actor: Any) -> None:
    """Tell whoever must act next on the item."""
    if verb == WorkOffAction.REVIEW:
        recipients, lead = _code_bodies(application), "It is ready for a Code Body to agree."
    elif verb in (WorkOffAction.REQUEST_CHANGES, WorkOffAction.REOPEN):
        recipients = list(organisation_users(application.organisation_id))
        lead = (
            "Change it and send it for review again."
            if verb == WorkOffAction.REQUEST_CHANGES
            else ("Add what is missing and close it again.")
        )
    elif verb == WorkOffAction.AGREE:
        recipients = list(organisation_users(application.organisation_id)) + _testing_assurance()
        lead = f"It is now a condition of the application, due on {_date(item.due_on)}. Close it with evidence."
    elif verb == WorkOffAction.CLOSE:
        recipients = _testing_assurance() + _code_bodies(application)
        lead = "Check the closure evidence; reopen the item if it is not enough."
    else:  # withdrawn
        recipients = _testing_assurance() + (_code_bodies(application) if item.reviewed_at else [])
        lead = "Nothing more is needed on it."
    body = f"{_name(actor)} {past(verb)} {item.reference} on {_describe(application)}, covering {_covers(item)}. {lead}"
    if text:
        body += f"\n\n{text}"
    notify(
        recipients=recipients,
        subject=f"Work-off item {_SUBJECTS[verb]}: {item.reference} on {application.reference}",
        body=body,
        link=_item_link(item),
        application=application,
        exclude=actor,
    )


def _testing_assurance() -> list[Any]:
    return list(users_with_roles({Role.TESTING_ASSURANCE}))


def _code_bodies(application: Application) -> list[Any]:
    """The Code Body staff who may see the application (the REC Code Manager only for the roles the
    REC must approve)."""
    bodies = set(
        ApprovalRequirement.objects.filter(role_group_id=application.market_role.role_group_id).values_list(
            "body", flat=True
        )
    )
    roles = {r for r in CODE_BODY_ROLES if r in SEES_ALL or (r in SEES_BODY and SEES_BODY[r] in bodies)}
    return list(users_with_roles(roles)) if roles else []


def _item_link(item: WorkOffItem) -> str:
    return reverse("workoff:item_detail", kwargs={"application_id": item.application_id, "item_id": item.pk})


def _describe(application: Application) -> str:
    return (
        f"{application.reference} ({application.organisation.name}, {application.mpid.code} as "
        f"{application.market_role.name})"
    )


def _names(parties: frozenset[WorkOffParty]) -> str:
    names = sorted(PARTY_NAMES[p] for p in parties)
    return " or ".join(names)


_SUBJECTS = {
    WorkOffAction.WITHDRAW: "withdrawn",
    WorkOffAction.REVIEW: "reviewed",
    WorkOffAction.REQUEST_CHANGES: "changes requested",
    WorkOffAction.AGREE: "agreed",
    WorkOffAction.CLOSE: "closed",
    WorkOffAction.REOPEN: "reopened",
}
_VERBS = {
    WorkOffAction.PROPOSE: "propose",
    WorkOffAction.EDIT: "change",
    WorkOffAction.WITHDRAW: "withdraw",
    WorkOffAction.REVIEW: "review",
    WorkOffAction.REQUEST_CHANGES: "request changes to",
    WorkOffAction.AGREE: "agree",
    WorkOffAction.CLOSE: "close",
    WorkOffAction.REOPEN: "reopen",
}
_DONE = {
    WorkOffAction.PROPOSE: "proposed",
    WorkOffAction.EDIT: "changed",
    WorkOffAction.WITHDRAW: "withdrawn",
    WorkOffAction.REVIEW: "reviewed",
    WorkOffAction.REQUEST_CHANGES: "sent back for changes",
    WorkOffAction.AGREE: "agreed",
    WorkOffAction.CLOSE: "closed",
    WorkOffAction.REOPEN: "reopened",
}


def _verb(action: WorkOffAction) -> str:
    return _VERBS[action]


def _done(action: WorkOffAction) -> str:
    return _DONE[action]


def _date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
