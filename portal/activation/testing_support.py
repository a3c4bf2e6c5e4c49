"""Completing the Service Activation checklist through the real services, for tests, demo data and the
journey helper.

`advance_application` starts and completes the `service_activation` task generically; its guard refuses
completion until every required checklist item is done and the planned go-live date is set.
`activation_prepare_step` does what the Service Activation team would have done first. Nothing here
bypasses a rule.
"""

from typing import Any

from portal.activation.models import Handoff
from portal.activation.permissions import ACTIVATION_TASK
from portal.activation.selectors import check_rows, uk_today
from portal.activation.services import handoff_check_set, handoff_go_live_set
from portal.qualification.models import Application
from portal.qualification.workflow import Action


def activation_complete_checklist(application: Application, *, actor: Any) -> None:
    """Tick every required active item not done yet and set the planned go-live date (today in the UK) if
    it is not set. `actor` must be on the Service Activation team."""
    handoff = Handoff.objects.filter(application=application).first()
    for row in check_rows(handoff):
        if row.item.is_active and row.item.is_required and not row.done:
            handoff_check_set(actor=actor, application_id=application.pk, item_code=row.item.code, done=True)
    handoff = Handoff.objects.filter(application=application).first()
    if handoff is None or handoff.planned_go_live is None:
        handoff_go_live_set(actor=actor, application_id=application.pk, planned_go_live=uk_today())


def activation_prepare_step(*, application: Application, task_code: str, action: str, actor: Any, **_: Any) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before the hand-off is completed,
    its checklist is completed. Anything else is left alone."""
    if task_code == ACTIVATION_TASK and action == Action.COMPLETE:
        activation_complete_checklist(application, actor=actor)
