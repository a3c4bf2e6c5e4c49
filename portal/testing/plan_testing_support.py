"""Taking an application's Qualification Testing to exit through the real services, for tests, demo
data and the journey helper.

`advance_application` submits the `qt` task generically; its exit guard refuses that until every exit
rule passes. `qt_prepare_step` does first what the participant and Testing Assurance would have done:
write, submit and agree the plan; record every readiness item as ready, submit the report and confirm
it; capture the RTTM at QT entry; run every required case that has not passed (every step passed, one
evidence file) and accept its evidence; capture the RTTM at QT exit. Nothing here bypasses a rule: each
step goes through the same service as the users' own clicks, so the audit log, the threads and the
notifications are the same too. It leaves defects alone (a journey raises none).
"""

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.accounts.roles import Role
from portal.accounts.selectors import users_with_roles
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Action
from portal.testing.execution_selectors import step_numbers
from portal.testing.execution_services import execution_record, execution_review
from portal.testing.exit_rules import ExitFacts
from portal.testing.models import PASSING_STATUSES, EvidenceReview, QtPlan, ReviewStatus, RttmCheckpoint
from portal.testing.plan_selectors import OPEN_STATES, QT_TASK, readiness_rows
from portal.testing.plan_services import (
    PlanFields,
    qt_plan_review,
    qt_plan_submit,
    qt_plan_update,
    qt_readiness_record,
    qt_readiness_review,
    qt_readiness_submit,
)
from portal.testing.rttm_services import rttm_snapshot_capture


def complete_plan_fields(today: datetime.date | None = None) -> PlanFields:
    """A complete, plausible QT plan: twelve weeks of testing from today."""
    today = today or timezone.localdate()
    return PlanFields(
        approach="Run every required QT case in the QTF in the batches of the catalogue, functional first, then "
        "migration and non-functional, with daily triage of defects.",
        reliance_approach="Cases covered by the accepted placing reliance are not run again; the vendor's test "
        "completion report is referenced in the RTTM.",
        test_data="The test MPANs issued for our MPID, loaded as legacy, and the QTF market domain data "
        "(D0269, D0270).",
        starts_on=today,
        ends_on=today + datetime.timedelta(weeks=12),
    )


def qt_plan_agree(application: Application, *, actor: Any, reviewer: Any) -> QtPlan:
    """Complete the plan as `actor` (a participant member), submit it and have `reviewer` (one of the
    `qt` task's assurers) agree it. Does nothing to a plan already agreed."""
    plan = QtPlan.objects.filter(application=application).first()
    if plan is not None and plan.status == ReviewStatus.AGREED:
        return plan
    if plan is None or plan.status != ReviewStatus.SUBMITTED:
        current = complete_plan_fields()
        if plan is not None and plan.starts_on and plan.ends_on:
            current = PlanFields(**{**current.__dict__, "starts_on": plan.starts_on, "ends_on": plan.ends_on})
        qt_plan_update(actor=actor, application_id=application.pk, fields=current)
        qt_plan_submit(actor=actor, application_id=application.pk)
    return qt_plan_review(actor=reviewer, application_id=application.pk, decision="agree")


def qt_readiness_confirm(application: Application, *, actor: Any, reviewer: Any) -> QtPlan:
    """Record every readiness item as ready, submit the report and have `reviewer` confirm it (the plan
    must be agreed). Does nothing to a report already confirmed."""
    plan = QtPlan.objects.get(application=application)
    if plan.readiness_status == ReviewStatus.AGREED:
        return plan
    if plan.readiness_status != ReviewStatus.SUBMITTED:
        for row in readiness_rows(application):
            if row.status != "ready":
                qt_readiness_record(
                    actor=actor, application_id=application.pk, item_code=row.item.code, ready=True, note="In place."
                )
        qt_readiness_submit(actor=actor, application_id=application.pk)
    return qt_readiness_review(actor=reviewer, application_id=application.pk, decision="confirm")


def qt_capture_rttm(application: Application, checkpoint: RttmCheckpoint, *, actor: Any) -> None:
    """Capture the RTTM at a QT checkpoint unless it has been captured there already."""
    if checkpoint.value not in ExitFacts(application).snapshot_checkpoints:
        rttm_snapshot_capture(actor=actor, application_id=application.pk, checkpoint=checkpoint.value)


def evidence_txt(application: Application, identifier: str) -> SimpleUploadedFile:
    text = f"QT evidence of {identifier} on {application.reference} ({application.mpid.code}): every step passed.\n"
    return SimpleUploadedFile(f"{identifier}.txt", text.encode(), content_type="text/plain")


def qt_pass_required_cases(application: Application, *, actor: Any, reviewer: Any) -> int:
    """Run every required case whose latest run has not passed (or whose evidence was rejected), with
    every step passed and one evidence file, and have `reviewer` accept the evidence of every latest
    run still awaiting review. Cases covered by agreed work-off are left alone. Returns how many runs
    were recorded. Readiness must be confirmed first."""
    facts = ExitFacts(application)
    recorded = 0
    for row in facts.required_rows:
        if row.case_id in facts.covered_case_ids:
            continue
        latest = facts.latest.get(row.case_id)
        if latest is None or latest.status not in PASSING_STATUSES or latest.review == EvidenceReview.REJECTED:
            latest = execution_record(
                actor=actor,
                application_id=application.pk,
                case=row.identifier,
                status="passed",
                tester=str(getattr(actor, "display_name", "") or "Tester"),
                executed_at=timezone.now(),
                step_results=[
                    {"step": n, "status": "passed", "actual": "As expected."} for n in step_numbers(row.version)
                ],
                files=[evidence_txt(application, row.identifier)],
            )
            recorded += 1
        if latest.review == EvidenceReview.PENDING:
            execution_review(actor=reviewer, application_id=application.pk, execution_id=latest.pk, decision="accept")
    return recorded


def qt_complete_for_exit(application: Application, *, actor: Any, reviewer: Any) -> None:
    """Everything the shipped exit rules ask for, done as `actor` (a participant member) and `reviewer`
    (one of the `qt` task's assurers), in the order the real work happens."""
    qt_plan_agree(application, actor=actor, reviewer=reviewer)
    qt_readiness_confirm(application, actor=actor, reviewer=reviewer)
    qt_capture_rttm(application, RttmCheckpoint.QT_ENTRY, actor=actor)
    qt_pass_required_cases(application, actor=actor, reviewer=reviewer)
    qt_capture_rttm(application, RttmCheckpoint.QT_EXIT, actor=actor)


def qt_prepare_step(
    *, application: Application, task_code: str, action: str, actor: Any, actor_for: Any = None, **_: Any
) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before QT is submitted for exit,
    everything its exit rules ask for is done. Anything else is left alone."""
    if task_code != QT_TASK or action != Action.SUBMIT:
        return
    task = Task.objects.select_related("definition", "application").get(application=application, code=QT_TASK)
    if task.state not in OPEN_STATES or not task.definition.assurer_roles:
        return
    role = Role(task.definition.assurer_roles[0])
    # Without `actor_for` (the demo loader), the longest-standing holder of the assurer role reviews.
    reviewer = actor_for(task, role) if actor_for is not None else users_with_roles({role}).order_by("pk").first()
    if reviewer is None:
        return  # nobody can review: the exit guard will say what is missing
    qt_complete_for_exit(application, actor=actor, reviewer=reviewer)
