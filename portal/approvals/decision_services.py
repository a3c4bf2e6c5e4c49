"""The approval bodies' decisions: the DIP Manager, the BSC PAB (recorded by its secretary or chair) and
the REC Code Manager each decide on their own approval task of an application.

`approval_decide` is the one way a decision is taken. It checks what only a decision has (the outcome,
its rationale, the conditions, the meeting, and that the person recording it did not prepare or
recommend the application), then takes the approval task's transition through the ordinary
`task_transition` (which locks, checks the state and the role, derives the application's status,
audits and notifies), records the `ApprovalDecision`, and does what follows from it: a deferral by the
Board moves the application to its next meeting; an approval by the Board has its qualification letter
generated. All in one transaction, so a refusal anywhere changes nothing.

The generic task action is refused for approval decisions (`decision_path_guard`): a decision without
its rationale, conditions or meeting would be a hole in the record.
"""

from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import Role
from portal.accounts.selectors import users_with_roles
from portal.approvals.deadlines import long_date, short_date
from portal.approvals.decision_selectors import approval_task_for
from portal.approvals.decisions import OUTCOME_ACTIONS, body_label, decision_page_path
from portal.approvals.letters import qualification_letter_create
from portal.approvals.models import ApprovalDecision, MeetingStatus, PabMeeting, PabTarget
from portal.approvals.permissions import can_decide, decision_conflict
from portal.approvals.services import PRESENTERS, notify_target_change, record_target
from portal.audit.services import audit_record
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from portal.notifications.services import notify
from portal.participants.models import ApprovalBody
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application
from portal.qualification.services import application_lock, task_transition
from portal.qualification.workflow import Decision
from portal.workoff.models import WorkOffItem, WorkOffStatus

MAX_RATIONALE_LENGTH = 5000
MAX_CONDITIONS = 200

# Set while `approval_decide` takes the task's transition: the guard lets only those through.
_deciding: ContextVar[bool] = ContextVar("approval_deciding", default=False)


def decision_path_guard(context: TransitionContext) -> None:
    """Registered on every decision action of every approval task (see `ApprovalsConfig.ready`)."""
    if _deciding.get():
        return
    body = context.task.definition.approval_body
    raise InvalidTransition(
        f"Record the {body_label(body)} decision on its decision page, with its rationale"
        + (" and the meeting" if body == ApprovalBody.BSC_PAB else "")
        + ".",
        details={"page": decision_page_path(context.application.pk, body)},
    )


@transaction.atomic
def approval_decide(
    *,
    actor: Any,
    application_id: int,
    body: str,
    outcome: str,
    rationale: str,
    condition_ids: Sequence[int] = (),
    meeting_id: int | None = None,
    step_up: Callable[[], None] | None = None,
) -> ApprovalDecision:
    """Record `body`'s decision on the application: approved, approved with conditions (the agreed
    work-off items that are its conditions), deferred or rejected, with the rationale the participant
    reads. For the BSC PAB, the meeting that decided: the application's target meeting, on or after
    its day (defaults to it).

    `step_up`, when given, checks the caller's second factor (an API call's authenticator code, see
    `portal.accounts.stepup`); it runs once every other check has passed, inside the transaction, so
    a refusal for any other reason does not use up the code and its own refusal changes nothing."""
    application = application_lock(actor=actor, application_id=application_id)
    task = approval_task_for(application, body)
    task.application = application
    if not can_decide(actor, task):
        raise PermissionDenied(f"Only the {body_label(body)} can record its decision on {application.reference}.")
    conflict = decision_conflict(actor, application)
    if conflict:
        raise PermissionDenied(conflict)
    decision_outcome = _outcome(outcome)
    rationale = _rationale(rationale)
    conditions = _conditions(application, decision_outcome, condition_ids)
    meeting = _deciding_meeting(application, body, meeting_id)

    token = _deciding.set(True)
    try:
        task = task_transition(
            actor=actor,
            application_id=application.pk,
            task_code=task.code,
            action=OUTCOME_ACTIONS[decision_outcome],
            comment=rationale,
        )
    finally:
        _deciding.reset(token)
    if step_up is not None:
        step_up()
    application.refresh_from_db()

    now = timezone.now()
    decision = ApprovalDecision.objects.create(
        application=application,
        task=task,
        body=body,
        outcome=decision_outcome,
        rationale=rationale,
        meeting=meeting,
        decided_on=meeting.date if meeting is not None else uk_today(),
        recorded_by=actor,
        recorded_at=now,
    )
    decision.conditions.set(conditions)
    audit_record(
        actor=actor,
        action="approval.decision",
        target=decision,
        summary=f"{body_label(body)} decision on {application.reference}: {Decision(decision_outcome).label}"
        + (f" at the {meeting.title}" if meeting is not None else ""),
        after={
            "body": body,
            "outcome": decision_outcome,
            "rationale": rationale,
            "conditions": [item.reference for item in conditions],
            "meeting": meeting.date.isoformat() if meeting is not None else None,
            "application_status": application.status,
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if body == ApprovalBody.BSC_PAB and meeting is not None:
        if decision.is_approving:
            qualification_letter_create(decision=decision)
        elif decision_outcome == Decision.DEFERRED:
            _defer_to_next_meeting(application, meeting, rationale, actor=actor)
    return decision


def _outcome(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        choices = ", ".join(d.label.lower() for d in Decision)
        raise InvalidInput(f"Choose the outcome: {choices}.", details={"field": "outcome"}) from None


def _rationale(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(
            "Enter the reasons for the decision: the participant reads them.", details={"field": "rationale"}
        )
    if len(text) > MAX_RATIONALE_LENGTH:
        raise InvalidInput(
            f"The rationale must be {MAX_RATIONALE_LENGTH} characters or fewer.", details={"field": "rationale"}
        )
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            "The rationale contains control characters; remove them and try again.", details={"field": "rationale"}
        )
    return text


def _conditions(application: Application, outcome: Decision, condition_ids: Iterable[int]) -> list[WorkOffItem]:
    """The agreed work-off items of this application that are the conditions of an approval with
    conditions; none for any other outcome."""
    wanted = set()
    for value in condition_ids:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInput("Choose the conditions from the agreed work-off items.", details={"field": "conditions"})
        wanted.add(value)
    if outcome != Decision.APPROVED_WITH_CONDITIONS:
        if wanted:
            raise InvalidInput(
                "Conditions go with “approved with conditions” only: choose that outcome, or clear the conditions.",
                details={"field": "conditions"},
            )
        return []
    if not wanted:
        raise InvalidInput(
            "Choose the agreed work-off items that are the conditions of this approval.",
            details={"field": "conditions"},
        )
    if len(wanted) > MAX_CONDITIONS:
        raise InvalidInput(f"Choose at most {MAX_CONDITIONS} conditions.", details={"field": "conditions"})
    items = list(
        WorkOffItem.objects.filter(application=application, pk__in=wanted, status=WorkOffStatus.AGREED).order_by(
            "number"
        )
    )
    if len(items) != len(wanted):
        raise InvalidInput(
            "A condition must be an agreed work-off item of this application; "
            f"{len(wanted) - len(items)} of those chosen is not.",
            details={"field": "conditions"},
        )
    return items


def _deciding_meeting(application: Application, body: str, meeting_id: int | None) -> PabMeeting | None:
    if body != ApprovalBody.BSC_PAB:
        if meeting_id is not None:
            raise InvalidInput(
                f"The {body_label(body)} decides on a rolling basis, not at a meeting: leave the meeting out.",
                details={"field": "meeting"},
            )
        return None
    target = PabTarget.objects.select_related("meeting").filter(application=application, is_current=True).first()
    if target is None:
        raise InvalidTransition(
            f"{application.reference} has no target BSC PAB meeting: an Elexon analyst gives it one first."
        )
    if meeting_id is not None and meeting_id != target.meeting_id:
        raise InvalidInput(
            f"{application.reference} is on the agenda of the {target.meeting.title}: record the Board's decision "
            "against that meeting.",
            details={"field": "meeting"},
        )
    meeting = PabMeeting.objects.select_for_update().get(pk=target.meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidTransition(f"The {meeting.title} was cancelled: the application needs a new target meeting.")
    if meeting.date > uk_today():
        raise InvalidTransition(
            f"The {meeting.title} has not happened yet: record the Board's decision during or after the meeting."
        )
    return meeting


def _defer_to_next_meeting(application: Application, meeting: PabMeeting, rationale: str, *, actor: Any) -> None:
    """A deferral returns the application for more information and to a later meeting: the next
    scheduled one. Without one the analysts are asked to give it a target when the calendar has one."""
    later = (
        PabMeeting.objects.select_for_update()
        .filter(status=MeetingStatus.SCHEDULED, date__gt=max(meeting.date, uk_today()))
        .order_by("date")
        .first()
    )
    if later is None:
        notify(
            recipients=users_with_roles(PRESENTERS),
            subject=f"Deferred by the BSC PAB: {application.reference} needs a later meeting",
            body=f"The BSC PAB deferred its decision on {application.reference} at the {meeting.title}, and there is "
            "no later meeting in the calendar yet. Give it a new target meeting once there is one.",
            link=decision_page_path(application.pk, ApprovalBody.BSC_PAB),
            application=application,
            exclude=actor,
        )
        return
    current = PabTarget.objects.select_for_update().filter(application=application, is_current=True).first()
    reason = f"Deferred by the BSC PAB at its meeting of {long_date(meeting.date)}: {rationale}"
    target = record_target(application, later, current, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action="pab.target.move",
        target=target,
        summary=f"Moved {application.reference} to the {later.title} after the Board deferred it "
        f"({short_date(meeting.date)})",
        after={"meeting_id": later.pk, "meeting_date": later.date.isoformat(), "reason": reason},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify_target_change(application, target, current, actor=actor)
    notify(
        recipients=users_with_roles(PRESENTERS | {Role.PAB_SECRETARY}),
        subject=f"{application.reference} moved to the BSC PAB meeting of {short_date(later.date)}",
        body=f"The Board deferred {application.reference} at the {meeting.title}; it is now on the agenda of the "
        f"{later.title}.\n\nWhy: {rationale}",
        link=decision_page_path(application.pk, ApprovalBody.BSC_PAB),
        application=application,
        exclude=actor,
    )
