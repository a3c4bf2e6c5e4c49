"""Filling in a PQS through the real services, for tests, demo data and the journey helper.

`advance_application` submits and accepts tasks generically; the `pqs` task's guards refuse that until
the PQS is complete and every proposal item is decided. `pqs_prepare_step` does what a participant and
a Code Body would have done first."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from portal.accounts.selectors import organisation_users
from portal.prequalification.models import ItemDecision, PqsSubmission, RelianceProposalItem, RelianceScope, Wave
from portal.prequalification.reference_data import waves_load
from portal.prequalification.rules import EDITABLE_STATES, PQS_TASK, reliance_required
from portal.prequalification.services import (
    ItemFields,
    PqsFields,
    pqs_save_draft,
    reliance_item_add,
    reliance_item_decide,
)
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Action, TaskState


def complete_pqs_fields() -> PqsFields:
    """A complete, plausible PQS: PIT, then QT, then migration, from today."""
    waves_load()
    wave = Wave.objects.filter(is_active=True).order_by("order", "name").first()
    today = timezone.localdate()
    return PqsFields(
        preferred_wave=wave.code if wave else None,
        pit_approach="Functional, migration, non-functional and operational tests in our own environment, "
        "with our software vendor's regression pack.",
        pit_start_date=today + timedelta(days=14),
        pit_completion_date=today + timedelta(days=120),
        qt_approach="Run the QTC set in the QTF after PIT exit, with test MPANs loaded as legacy.",
        qt_start_date=today + timedelta(days=150),
        qt_completion_date=today + timedelta(days=240),
        target_migration_date=today + timedelta(days=330),
        supplier_hub_relationships="",
    )


RELIED_ON_ITEM = ItemFields(
    title="Vendor flow management",
    scope=RelianceScope.TEST_CASES,
    identifiers="QTC-DIP-02-01, QTC-DIP-02-02",
    relied_on=True,
    provider_kind="software_vendor",
    provider_name="Example Billing Systems Ltd",
    artefacts="Vendor test completion report",
    rationale="The vendor's automated flow management is unchanged and was tested end to end.",
)


def _member(application: Application) -> Any:
    user = organisation_users(application.organisation_id).order_by("pk").first()
    if user is None:
        raise RuntimeError(f"{application.reference}: its organisation has no user to fill in the PQS")
    return user


def pqs_fill_complete(
    application: Application, *, actor: Any = None, with_reliance: bool | None = None
) -> PqsSubmission | None:
    """Make the application's PQS complete, as `actor` (by default a member of its organisation).

    `with_reliance` adds one item of testing relied on; by default only where the route requires one.
    Does nothing when the PQS cannot be changed now (submitted, accepted, not required)."""
    task = Task.objects.filter(application=application, code=PQS_TASK).first()
    if task is None or task.state not in EDITABLE_STATES:
        return PqsSubmission.objects.filter(application=application).first()
    actor = actor or _member(application)
    pqs = pqs_save_draft(actor=actor, application_id=application.pk, fields=complete_pqs_fields())
    if with_reliance is None:
        with_reliance = reliance_required(application.route.code)
    if with_reliance and not pqs.items.filter(relied_on=True).exists():
        reliance_item_add(actor=actor, application_id=application.pk, fields=RELIED_ON_ITEM)
    return pqs


def pqs_decide_all(application: Application, *, actor: Any, decision: str = ItemDecision.ACCEPTED) -> int:
    """Decide every item still awaiting a decision or with changes requested; returns how many."""
    reason = "" if decision == ItemDecision.ACCEPTED else "Decided for the test."
    items = RelianceProposalItem.objects.filter(
        pqs__application=application, decision__in=[ItemDecision.PENDING, ItemDecision.CHANGES_REQUESTED]
    ).order_by("id")
    count = 0
    for item in items:
        reliance_item_decide(
            actor=actor, application_id=application.pk, item_id=item.pk, decision=decision, reason=reason
        )
        count += 1
    return count


def pqs_prepare_step(*, application: Application, task_code: str, action: str, actor: Any, **_: Any) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before submitting the PQS it is
    completed, before accepting it every item is accepted. Anything else is left alone."""
    if task_code != PQS_TASK:
        return
    if action == Action.SUBMIT:
        pqs_fill_complete(application, actor=actor)
    elif action == Action.ACCEPT:
        task = Task.objects.filter(application=application, code=PQS_TASK).first()
        if task is not None and task.state == TaskState.SUBMITTED:
            pqs_decide_all(application, actor=actor)
