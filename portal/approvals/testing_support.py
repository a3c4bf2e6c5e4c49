"""Taking approval decisions through the real services, for tests, demo data and the journey helper.

`advance_application` takes tasks generically, but an approval decision goes through
`approval_decide` only (with its rationale and, for the Board, its meeting). `approval_prepare_step`
gives an application a BSC PAB meeting it can be decided at (today's, as the Board would have met),
and `approval_take_step` records the decision. Nothing here bypasses a rule.
"""

from datetime import time
from typing import Any

from portal.accounts.roles import Role
from portal.approvals.decision_services import approval_decide
from portal.approvals.decisions import DECISION_ACTIONS, OUTCOME_ACTIONS
from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
from portal.approvals.permissions import PAB_TASK
from portal.approvals.services import pab_target_set
from portal.core.calendar import uk_today
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Action, Decision

ACTION_OUTCOMES = {action: outcome for outcome, action in OUTCOME_ACTIONS.items()}
RATIONALES = {
    Decision.APPROVED: "The Final QAD, the test results and the work-off plan support qualification.",
    Decision.APPROVED_WITH_CONDITIONS: "Approved on condition that the agreed work-off items are closed.",
    Decision.DEFERRED: "More information is needed before a decision.",
    Decision.REJECTED: "The evidence does not support qualification.",
}


def meeting_today() -> PabMeeting:
    """A BSC PAB meeting held today: the one in the calendar, or one added as the secretary would."""
    today = uk_today()
    meeting = PabMeeting.objects.filter(date=today).exclude(status=MeetingStatus.CANCELLED).first()
    if meeting is None:
        meeting = PabMeeting.objects.create(
            date=today,
            starts_at=time(10, 0),
            location="Online (Microsoft Teams)",
            paper_deadline=today,
            set_by_hand=True,
        )
    return meeting


def approval_prepare_step(*, application: Application, task_code: str, action: str, actor_for: Any, **_: Any) -> None:
    """Before the Board decides, an Elexon analyst targets the application at today's meeting."""
    if task_code != PAB_TASK or action not in DECISION_ACTIONS:
        return
    current = PabTarget.objects.filter(application=application, is_current=True).select_related("meeting").first()
    if current is not None and current.meeting.date <= uk_today():
        return
    meeting = meeting_today()
    task = Task.objects.select_related("definition", "application").get(application=application, code=task_code)
    analyst = actor_for(task, Role.ELEXON_ANALYST)
    pab_target_set(
        actor=analyst,
        application_id=application.pk,
        meeting_id=meeting.pk,
        reason="The Board meets today." if current is not None else "",
    )


def approval_take_step(
    *, application: Application, task_code: str, action: str, actor: Any, comment: str = "", **_: Any
) -> bool:
    """Record a decision through `approval_decide` for a decision action on an approval task, with
    `comment` as its rationale (a usual one if empty); False for any other step."""
    if action not in DECISION_ACTIONS:
        return False
    task = Task.objects.select_related("definition").filter(application=application, code=task_code).first()
    if task is None or not task.definition.approval_body:
        return False
    outcome = ACTION_OUTCOMES[Action(action)]
    approval_decide(
        actor=actor,
        application_id=application.pk,
        body=task.definition.approval_body,
        outcome=outcome,
        rationale=comment or RATIONALES[outcome],
        condition_ids=list(application.workoff_items.filter(status="agreed").values_list("pk", flat=True))
        if outcome == Decision.APPROVED_WITH_CONDITIONS
        else (),
    )
    return True
