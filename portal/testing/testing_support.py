"""Completing the PIT checklist through the real services, for tests, demo data and the journey helper.

`advance_application` submits tasks generically; the `pit` task's guard refuses that until every
required criterion is met with its evidence and the RTTM is uploaded at PIT entry and PIT exit.
`pit_prepare_step` does what the participant would have done first. Nothing here bypasses a rule:
results, files and RTTMs go through the same services as the participant's own clicks, so the audit
log and the notifications are the same too.
"""

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.qualification.models import Application
from portal.qualification.workflow import Action
from portal.testing.models import PIT_CHECKPOINTS, PitCriterionResult, RttmUpload
from portal.testing.permissions import PIT_TASK
from portal.testing.selectors import pit_criteria_for
from portal.testing.services import pit_criterion_record, pit_rttm_upload


def rttm_csv(application: Application, checkpoint: str) -> SimpleUploadedFile:
    """A small RTTM in CSV: requirement → PIT test → QT test → QAD evidence."""
    rows = [
        "Requirement ID,Requirement area,PIT test,QT test,QAD evidence",
        "REQ-001,Functional,PIT-FUN-001,QTC-001,QAD 3.1",
        "REQ-002,Migration,PIT-MIG-001,QTC-014,QAD 3.2",
        "REQ-003,Non-functional,PIT-NFR-001,,QAD 4.5",
        "REQ-004,Operational,PIT-OPS-001,,QAD 3.4",
    ]
    name = f"RTTM {application.mpid.code} {application.market_role.code} {checkpoint}.csv"
    return SimpleUploadedFile(name, ("\n".join(rows) + "\n").encode(), content_type="text/csv")


def evidence_txt(application: Application, code: str) -> SimpleUploadedFile:
    text = f"PIT evidence for {code} on {application.reference} ({application.mpid.code}).\n"
    return SimpleUploadedFile(f"{code}.txt", text.encode(), content_type="text/plain")


def pit_complete_checklist(application: Application, *, actor: Any) -> None:
    """Record every applicable required criterion as met, attaching one evidence file where evidence
    is required and none is attached yet, and upload an RTTM at each PIT checkpoint that has none.
    `actor` must be a participant member of the application's organisation."""
    results = {
        r.criterion_id: r
        for r in PitCriterionResult.objects.filter(application=application).prefetch_related("evidence")
    }
    for criterion in pit_criteria_for(application):
        if not criterion.is_required:
            continue
        result = results.get(criterion.pk)
        needs_evidence = criterion.evidence_required and (result is None or not result.evidence.all())
        if result is not None and result.met and not needs_evidence:
            continue
        pit_criterion_record(
            actor=actor,
            application_id=application.pk,
            criterion_code=criterion.code,
            met=True,
            note=result.note if result is not None and result.note else "Met: see the evidence.",
            files=[evidence_txt(application, criterion.code)] if needs_evidence else [],
        )
    done = set(RttmUpload.objects.filter(application=application).values_list("checkpoint", flat=True))
    for checkpoint in PIT_CHECKPOINTS:
        if checkpoint.value not in done:
            pit_rttm_upload(
                actor=actor,
                application_id=application.pk,
                checkpoint=checkpoint.value,
                upload=rttm_csv(application, checkpoint.value),
            )


def pit_prepare_step(*, application: Application, task_code: str, action: str, actor: Any, **_: Any) -> None:
    """Call just before taking `action` on task `task_code` as `actor`: before PIT is submitted its
    checklist is completed. Anything else is left alone."""
    if task_code == PIT_TASK and action == Action.SUBMIT:
        pit_complete_checklist(application, actor=actor)
