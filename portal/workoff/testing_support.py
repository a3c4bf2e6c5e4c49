"""Completing a work-off plan through the real services, for tests, demo data and the journey helper.

`advance_application` usually marks the optional `workoff` task not required; when a plan is submitted
(an application with tests not completed) its guards need items that Testing Assurance has reviewed,
and before it is accepted, items a Code Body has agreed. `workoff_prepare_step` does what the
participant and the reviewers would have done first. Nothing here bypasses a rule: every item is
proposed, reviewed and agreed through the same services as people's own clicks, so the audit log and
the notifications are the same too.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from portal.accounts.roles import Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Action
from portal.workoff.models import WorkOffItem, WorkOffStatus
from portal.workoff.permissions import WORKOFF_TASK
from portal.workoff.selectors import coverable, uk_today
from portal.workoff.services import workoff_item_edit, workoff_item_propose, workoff_item_transition
from portal.workoff.workflow import LIVE_STATUSES, WorkOffAction

ActorFor = Callable[[Task, Role], Any]


def workoff_propose_first(application: Application, *, actor: Any, days: int = 30) -> WorkOffItem | None:
    """Propose an item for the first case or defect that may be covered (None when there is none)."""
    choices = coverable(application)
    if not choices:
        return None
    kind, _, pk = choices[0].value.partition(":")
    return workoff_item_propose(
        actor=actor,
        application_id=application.pk,
        action="Fix in the next release, re-run the test in the pre-production environment and attach the evidence.",
        owner="MHHS test lead",
        due_on=uk_today() + timedelta(days=days),
        case_id=int(pk) if kind == "case" else None,
        defect_id=int(pk) if kind == "defect" else None,
    )


def workoff_agree_all(
    application: Application, *, participant: Any, reviewer: Any, code_body: Any, agree: bool = True
) -> None:
    """Send every item not yet reviewed through review (changing those sent back first) and, with
    `agree`, have a Code Body agree every reviewed one."""
    for item in WorkOffItem.objects.filter(application=application, status__in=LIVE_STATUSES).order_by("number"):
        if item.status == WorkOffStatus.CHANGES_REQUESTED:
            item = workoff_item_edit(
                actor=participant,
                application_id=application.pk,
                item_id=item.pk,
                action=item.action,
                owner=item.owner,
                due_on=max(item.due_on, uk_today()),
            )
        if item.status == WorkOffStatus.PROPOSED:
            item = workoff_item_transition(
                actor=reviewer, application_id=application.pk, item_id=item.pk, action=WorkOffAction.REVIEW
            )
        if agree and item.status == WorkOffStatus.REVIEWED:
            workoff_item_transition(
                actor=code_body, application_id=application.pk, item_id=item.pk, action=WorkOffAction.AGREE
            )


def workoff_prepare_step(
    *,
    application: Application,
    task_code: str,
    action: str,
    actor: Any,
    actor_for: ActorFor | None = None,
    **_: Any,
) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before the work-off plan is
    submitted it has at least one item, each reviewed by Testing Assurance; before it is accepted,
    every item is agreed by a Code Body. Anything else is left alone."""
    if task_code != WORKOFF_TASK or action not in (Action.SUBMIT, Action.ACCEPT):
        return
    task = Task.objects.select_related("definition", "application").get(application=application, code=WORKOFF_TASK)

    def person(role: Role) -> Any:
        if actor_for is not None:
            return actor_for(task, role)
        if role == Role.PARTICIPANT_MEMBER:
            return organisation_users(application.organisation_id).order_by("pk").first()
        return users_with_roles({role}).order_by("pk").first()

    participant = actor if action == Action.SUBMIT else person(Role.PARTICIPANT_MEMBER)
    if (
        action == Action.SUBMIT
        and not WorkOffItem.objects.filter(application=application, status__in=LIVE_STATUSES).exists()
    ):
        workoff_propose_first(application, actor=participant)
    workoff_agree_all(
        application,
        participant=participant,
        reviewer=person(Role.TESTING_ASSURANCE),
        code_body=person(Role.ELEXON_ANALYST),
        agree=action == Action.ACCEPT,
    )
