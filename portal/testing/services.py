"""Every write to the PIT checklist goes through here.

Each service runs in one transaction: lock the application row, check that the user may see it
(NotFound otherwise, the same as a missing one), that they act on the `pit` task (PermissionDenied),
that the task is with the participant (InvalidTransition), and that the input is sound (InvalidInput,
files checked by content before anything is stored); then change, write one audit event, and notify
whoever must act. The first piece of work on a task that has not started starts it, exactly as the
task's own "start" action would. A refusal changes nothing.
"""

import unicodedata
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from portal.documents.evidence import check_evidence_file
from portal.documents.models import EvidenceFile
from portal.documents.selectors import evidence_scope_for
from portal.documents.services import evidence_open_for_download, evidence_store
from portal.notifications.services import notify
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.services import (
    MAX_ATTACHMENTS,
    MAX_COMMENT_LENGTH,
    task_lock,
    task_start_on_first_work,
)
from portal.testing.models import PIT_CHECKPOINTS, PitCriterion, PitCriterionResult, RttmCheckpoint, RttmUpload
from portal.testing.permissions import PIT_TASK, pit_edit_refusal
from portal.testing.selectors import pit_criteria_for, pit_missing

RTTM_EXTENSIONS = frozenset({".xlsx", ".csv"})
MAX_NOTE_LENGTH = MAX_COMMENT_LENGTH


# --- criteria ----------------------------------------------------------------------------------


@transaction.atomic
def pit_criterion_record(
    *,
    actor: Any,
    application_id: int,
    criterion_code: str,
    met: bool,
    note: str = "",
    files: Sequence[Any] = (),
) -> PitCriterionResult:
    """Record whether one criterion is met, with a note, and add evidence files to it.

    Recording again replaces the result and the note; evidence files already attached stay attached
    (remove one with `pit_criterion_evidence_remove`). Every file is checked before any is stored."""
    application, task = _lock_for_edit(actor, application_id)
    criterion = _criterion(application, criterion_code)
    note = _clean_note(note)
    _check_files(files)
    task_start_on_first_work(actor=actor, task=task)

    result = PitCriterionResult.objects.filter(application=application, criterion=criterion).first()
    before = _result_snapshot(result) if result else {}
    if result is None:
        result = PitCriterionResult.objects.create(
            application=application,
            criterion=criterion,
            met=met,
            note=note,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
    else:
        result.met, result.note, result.recorded_by, result.recorded_at = met, note, actor, timezone.now()
        result.save(update_fields=["met", "note", "recorded_by", "recorded_at"])
    for upload in files:
        evidence = evidence_store(
            actor=actor, application=application, upload=upload, purpose=f"pit:criterion:{criterion.code}"
        )
        result.evidence.add(evidence)

    audit_record(
        actor=actor,
        action="pit.criterion.record",
        target=result,
        summary=f"PIT criterion “{criterion.title}” recorded as {'met' if met else 'not met'} on "
        f"{application.reference}",
        before=before,
        after=_result_snapshot(result),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return result


@transaction.atomic
def pit_criterion_evidence_remove(
    *, actor: Any, application_id: int, criterion_code: str, evidence_id: int
) -> PitCriterionResult:
    """Take an evidence file off a criterion (it was the wrong file). The file itself is kept, as all
    evidence is, and the audit log records that it was removed from the criterion."""
    application, _ = _lock_for_edit(actor, application_id)
    criterion = _criterion(application, criterion_code)
    result = PitCriterionResult.objects.filter(application=application, criterion=criterion).first()
    evidence = result.evidence.filter(pk=evidence_id).first() if result else None
    if result is None or evidence is None:
        raise NotFound("That evidence file is not attached to this criterion.")
    before = _result_snapshot(result)
    result.evidence.remove(evidence)
    audit_record(
        actor=actor,
        action="pit.criterion.evidence_remove",
        target=result,
        summary=f"Removed {evidence.original_name} from PIT criterion “{criterion.title}” on {application.reference}",
        before=before,
        after=_result_snapshot(result),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return result


def _result_snapshot(result: PitCriterionResult) -> dict[str, Any]:
    return {
        "criterion": result.criterion.code,
        "met": result.met,
        "note": result.note,
        "evidence": [{"id": e.pk, "name": e.original_name, "sha256": e.sha256} for e in result.evidence.order_by("pk")],
    }


# --- RTTM ----------------------------------------------------------------------------------------


@transaction.atomic
def pit_rttm_upload(*, actor: Any, application_id: int, checkpoint: str, upload: Any, note: str = "") -> RttmUpload:
    """Upload the RTTM at PIT entry or PIT exit as a new version; earlier versions are kept.

    Only an XLSX or CSV file is accepted (checked by its content as well as its name). The MHHS
    Programme, which assures PIT, is told."""
    application, task = _lock_for_edit(actor, application_id)
    point = _pit_checkpoint(checkpoint)
    note = _clean_note(note)
    if upload is None:
        raise InvalidInput("Choose the RTTM file to upload.", details={"field": "file"})
    name = str(getattr(upload, "name", "") or "")
    if PurePosixPath(name).suffix.lower() not in RTTM_EXTENSIONS:
        raise InvalidInput(
            f"An RTTM must be an XLSX or CSV file, and {name[:100] or 'this file'} is not.",
            details={"field": "file", "rule": "type"},
        )
    _check_file(upload, field="file")
    task_start_on_first_work(actor=actor, task=task)

    latest = RttmUpload.objects.filter(application=application, checkpoint=point).aggregate(v=Max("version"))["v"]
    version = (latest or 0) + 1
    evidence = evidence_store(actor=actor, application=application, upload=upload, purpose=f"rttm:{point.value}")
    try:
        with transaction.atomic():
            rttm = RttmUpload.objects.create(
                application=application, checkpoint=point, version=version, evidence=evidence, note=note
            )
    except IntegrityError as exc:  # another upload took this version number a moment earlier
        raise Conflict("Another RTTM was uploaded at the same moment; upload yours again.") from exc

    audit_record(
        actor=actor,
        action="pit.rttm.upload",
        target=rttm,
        summary=f"RTTM at {point.label} version {version} uploaded to {application.reference}",
        after={
            "checkpoint": point.value,
            "version": version,
            "file": evidence.original_name,
            "sha256": evidence.sha256,
            "note": note,
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_assurers(task),
        subject=f"RTTM at {point.label} uploaded: {application.reference}",
        body=f"{_name(actor)} uploaded version {version} of the RTTM at {point.label} for "
        f"{application.reference} ({application.organisation.name}, {application.mpid.code} as "
        f"{application.market_role.name}).",
        link=f"/applications/{application.pk}/pit/",
        application=application,
        exclude=actor,
    )
    return rttm


def _pit_checkpoint(value: str) -> RttmCheckpoint:
    for checkpoint in PIT_CHECKPOINTS:
        if checkpoint.value == value:
            return checkpoint
    raise NotFound("PIT has no such RTTM checkpoint: use pit_entry or pit_exit.")


# --- evidence downloads --------------------------------------------------------------------------


def pit_evidence_open(*, actor: Any, application_id: int, evidence_id: int) -> EvidenceFile:
    """A PIT evidence file or RTTM of the application, for download (reviewers' downloads are audited).
    NotFound for any other file, including another application's."""
    pit_files = Q(purpose__startswith="pit:") | Q(purpose__startswith="rttm:pit_")
    if not evidence_scope_for(actor).filter(pit_files, pk=evidence_id, application_id=application_id).exists():
        raise NotFound("No evidence file was found with that reference.")
    return evidence_open_for_download(actor=actor, evidence_id=evidence_id)


# --- the guard on submitting PIT -----------------------------------------------------------------


def pit_submit_guard(context: TransitionContext) -> None:
    """PIT is submitted only when every required criterion is met (with evidence where the criterion
    asks for it) and the RTTM has been uploaded at PIT entry and at PIT exit."""
    missing = pit_missing(context.application)
    if missing:
        raise InvalidTransition(
            "PIT cannot be submitted yet: " + "; ".join(missing) + ".",
            details={"missing": missing},
        )


# --- internals ---------------------------------------------------------------------------------


def _lock_for_edit(actor: Any, application_id: int) -> tuple[Application, Task]:
    application, task = task_lock(
        actor=actor,
        application_id=application_id,
        task_code=PIT_TASK,
        missing="This application has no Pre-Integration Testing task.",
    )
    refusal = pit_edit_refusal(actor, task)
    if refusal is not None:
        raise refusal
    return application, task


def _criterion(application: Application, code: str) -> PitCriterion:
    for criterion in pit_criteria_for(application):
        if criterion.code == code:
            return criterion
    raise NotFound("The PIT checklist of this application has no such criterion.")


def _clean_note(value: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"The note must be {MAX_NOTE_LENGTH} characters or fewer.", details={"field": "note"})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput(
            "The note contains control characters; remove them and try again.", details={"field": "note"}
        )
    return text


def _check_files(files: Sequence[Any]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer at a time.", details={"field": "files"})
    for upload in files:
        _check_file(upload, field="files")


def _check_file(upload: Any, *, field: str) -> None:
    """The evidence checks (name, size, type by content, archives), naming the form field on refusal."""
    try:
        check_evidence_file(upload)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, details={**exc.details, "field": field}) from exc


def _assurers(task: Task) -> list[Any]:
    roles = {Role(name) for name in task.definition.assurer_roles} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
