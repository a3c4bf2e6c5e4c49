"""Every write to an application's RTTM goes through here: its rows (the PIT tests and QAD reference
of each requirement) and its snapshots at the four checkpoints.

Each service runs in one transaction: lock the application (NotFound when the user may not see it),
check that the user acts for the applying organisation (PermissionDenied) and that PIT or QT is with
them (InvalidTransition), check the input (InvalidInput naming the field), change, write one audit
event, and tell whoever must act. The first piece of work on a task that has not started starts it,
as the task's own "start" action would. A refusal changes nothing.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, NotFound
from portal.notifications.services import notify
from portal.qualification.models import Application, Task
from portal.qualification.services import application_lock, task_start_on_first_work
from portal.testing.catalogue_services import clean_text
from portal.testing.models import Requirement, RttmCheckpoint, RttmEntry, RttmSnapshot
from portal.testing.rttm_selectors import (
    RTTM_TASKS,
    canonical_rows,
    capture_refusal,
    checkpoint_task_code,
    rttm_edit_refusal,
    rttm_edit_task,
    rttm_rows,
    split_pit_tests,
)
from portal.testing.services import MAX_NOTE_LENGTH

MAX_PIT_TESTS_LENGTH = 1000  # the column's size
MAX_PIT_TEST = 60
MAX_QAD_REFERENCE = 200
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class EntryInput:
    """One row of the RTTM as the participant sets it. `pit_tests` is text separated by commas,
    semicolons or new lines, or a list."""

    requirement: str
    pit_tests: str | Sequence[str] = ""
    qad_reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class CleanEntry:
    requirement: Requirement
    pit_tests: str
    qad_reference: str
    note: str

    @property
    def empty(self) -> bool:
        return not (self.pit_tests or self.qad_reference or self.note)


# --- checking a row (shared with the RTTM workbook import) ---------------------------------------


def clean_pit_tests(value: Any) -> tuple[str, str | None]:
    """PIT test identifiers as stored: de-duplicated, in order, joined by ", "."""
    if value is None:
        return "", None
    if isinstance(value, str):
        parts = re.split(r"[,;\n]", value)
    elif isinstance(value, list | tuple):
        parts = [p if isinstance(p, str) else "\x00" for p in value]
    else:
        return "", "PIT tests must be text: the identifiers of your PIT tests, separated by commas"
    seen: dict[str, None] = {}
    for part in parts:
        token = part.strip()
        if not token:
            continue
        if len(token) > MAX_PIT_TEST:
            return "", f"Each PIT test identifier must be {MAX_PIT_TEST} characters or fewer"
        if any(not ch.isprintable() for ch in token):
            return "", "PIT test identifiers must not contain control characters"
        seen.setdefault(token, None)
    joined = ", ".join(seen)
    if len(joined) > MAX_PIT_TESTS_LENGTH:
        return "", f"The PIT tests of one requirement must fit in {MAX_PIT_TESTS_LENGTH:,} characters"
    return joined, None


def clean_entry_fields(
    pit_tests: Any, qad_reference: Any, note: Any
) -> tuple[tuple[str, str, str], list[tuple[str, str]]]:
    """The cleaned PIT tests, QAD reference and note, and each problem with its field."""
    problems = []
    tests, error = clean_pit_tests(pit_tests)
    if error:
        problems.append(("pit_tests", error))
    reference, error = clean_text(qad_reference, label="QAD reference", max_length=MAX_QAD_REFERENCE, required=False)
    if error:
        problems.append(("qad_reference", error))
    text, error = clean_text(note, label="Note", max_length=MAX_NOTE_LENGTH, required=False, multiline=True)
    if error:
        problems.append(("note", error))
    return (tests, reference, text), problems


# --- rows ----------------------------------------------------------------------------------------


@transaction.atomic
def rttm_entry_set(
    *, actor: Any, application_id: int, requirement: str, pit_tests: Any = "", qad_reference: str = "", note: str = ""
) -> RttmEntry | None:
    """Set one requirement's row: its PIT tests, QAD reference and note. Emptying all three removes the
    row (the requirement then shows as not traced). Answers the row, or None when it was removed."""
    application, tasks = _lock_for_edit(actor, application_id)
    found = _requirement(requirement)
    (tests, reference, text), problems = clean_entry_fields(pit_tests, qad_reference, note)
    if problems:
        field, message = problems[0]
        raise InvalidInput(
            message, details={"field": field, "errors": [{"field": f, "message": m} for f, m in problems]}
        )
    clean = CleanEntry(found, tests, reference, text)
    existing = RttmEntry.objects.filter(application=application, requirement=found).first()
    before = _entry_snapshot(existing)
    if before == _clean_snapshot(clean):
        raise InvalidInput(
            f"Nothing changed: the RTTM row of {found.identifier} already says this.", details={"rule": "unchanged"}
        )
    _start(actor, tasks)
    entry = _apply(application, clean, existing, actor)
    audit_record(
        actor=actor,
        action="rttm.entry.set" if entry else "rttm.entry.clear",
        target=entry or found,
        summary=f"RTTM row {found.identifier} of {application.reference} " + ("set" if entry else "cleared"),
        before=before,
        after=_clean_snapshot(clean),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return entry


@dataclass(frozen=True)
class EntriesResult:
    changed: list[str]  # requirement identifiers
    unchanged: int


@transaction.atomic
def rttm_entries_update(*, actor: Any, application_id: int, entries: Sequence[EntryInput]) -> EntriesResult:
    """Set many rows at once, all or nothing: every row is checked before any is changed, and each
    problem names its position (`entries.3.pit_tests`). Rows not named are left as they are."""
    application, tasks = _lock_for_edit(actor, application_id)
    if not entries:
        raise InvalidInput("Send at least one RTTM row.", details={"field": "entries"})
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"Send at most {MAX_ENTRIES:,} rows at once.", details={"field": "entries"})
    requirements = {r.identifier: r for r in Requirement.objects.filter(is_active=True)}
    problems: list[tuple[str, str]] = []
    cleaned: list[CleanEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(entries):
        key = str(item.requirement or "").strip().upper()
        found = requirements.get(key)
        if found is None:
            problems.append((f"entries.{index}.requirement", f"There is no active requirement “{key[:40]}”"))
        elif key in seen:
            problems.append((f"entries.{index}.requirement", f"{key} is named more than once"))
        seen.add(key)
        (tests, reference, text), row_problems = clean_entry_fields(item.pit_tests, item.qad_reference, item.note)
        problems += [(f"entries.{index}.{f}", f"{key[:40]}: {m}") for f, m in row_problems]
        if found is not None:
            cleaned.append(CleanEntry(found, tests, reference, text))
    if problems:
        raise InvalidInput(
            f"{problems[0][1]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            details={"field": problems[0][0], "errors": [{"field": f, "message": m} for f, m in problems]},
        )
    changed, unchanged, before, after = apply_entries(application, cleaned, actor)
    if not changed:
        raise InvalidInput("Nothing changed: every row already says this.", details={"rule": "unchanged"})
    _start(actor, tasks)
    audit_record(
        actor=actor,
        action="rttm.entries.update",
        target=application,
        summary=f"{len(changed)} RTTM row{'s' if len(changed) != 1 else ''} of {application.reference} set",
        before=before,
        after=after,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return EntriesResult(changed=changed, unchanged=unchanged)


def apply_entries(
    application: Application, cleaned: Sequence[CleanEntry], actor: Any
) -> tuple[list[str], int, dict[str, Any], dict[str, Any]]:
    """Write the rows that differ (inside the caller's transaction, without an audit event: the caller
    writes one for all of them). Answers the requirements changed, how many were already so, and the
    before and after of the changed rows."""
    existing = {
        e.requirement_id: e
        for e in RttmEntry.objects.select_for_update().filter(
            application=application, requirement__in=[c.requirement for c in cleaned]
        )
    }
    changed: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    unchanged = 0
    for clean in cleaned:
        entry = existing.get(clean.requirement.pk)
        was, now = _entry_snapshot(entry), _clean_snapshot(clean)
        if was == now:
            unchanged += 1
            continue
        _apply(application, clean, entry, actor)
        identifier = clean.requirement.identifier
        changed.append(identifier)
        before[identifier], after[identifier] = was, now
    return changed, unchanged, before, after


def _apply(application: Application, clean: CleanEntry, entry: RttmEntry | None, actor: Any) -> RttmEntry | None:
    if clean.empty:
        if entry is not None:
            entry.delete()
        return None
    if entry is None:
        return RttmEntry.objects.create(
            application=application,
            requirement=clean.requirement,
            pit_tests=clean.pit_tests,
            qad_reference=clean.qad_reference,
            note=clean.note,
            updated_by=actor,
        )
    entry.pit_tests, entry.qad_reference, entry.note, entry.updated_by = (
        clean.pit_tests,
        clean.qad_reference,
        clean.note,
        actor,
    )
    entry.save(update_fields=["pit_tests", "qad_reference", "note", "updated_by", "updated_at"])
    return entry


def _entry_snapshot(entry: RttmEntry | None) -> dict[str, Any]:
    if entry is None:
        return {"pit_tests": [], "qad_reference": "", "note": ""}
    return {"pit_tests": split_pit_tests(entry.pit_tests), "qad_reference": entry.qad_reference, "note": entry.note}


def _clean_snapshot(clean: CleanEntry) -> dict[str, Any]:
    return {"pit_tests": split_pit_tests(clean.pit_tests), "qad_reference": clean.qad_reference, "note": clean.note}


# --- snapshots -----------------------------------------------------------------------------------


@transaction.atomic
def rttm_snapshot_capture(*, actor: Any, application_id: int, checkpoint: str) -> RttmSnapshot:
    """Freeze the application's whole matrix at a checkpoint as a new version: every active
    requirement's row (sorted by requirement), the row count and the SHA-256 of the rows' canonical
    JSON. The PIT checkpoints are captured while PIT is with the participant, the QT ones while QT is;
    the assurers of that task are told."""
    application = application_lock(actor=actor, application_id=application_id)
    point = _checkpoint(checkpoint)
    code = checkpoint_task_code(point)
    task = (
        Task.objects.select_for_update().select_related("definition").filter(application=application, code=code).first()
    )
    if task is None:
        raise NotFound("This application's route has no task for that checkpoint.")
    task.application = application
    refusal = capture_refusal(actor, task, point)
    if refusal is not None:
        raise refusal
    task_start_on_first_work(actor=actor, task=task)

    rows, digest = canonical_rows(rttm_rows(application))
    latest = RttmSnapshot.objects.filter(application=application, checkpoint=point).aggregate(v=Max("version"))["v"]
    version = (latest or 0) + 1
    try:
        with transaction.atomic():
            snapshot = RttmSnapshot.objects.create(
                application=application,
                checkpoint=point,
                version=version,
                rows=rows,
                row_count=len(rows),
                sha256=digest,
                taken_by=actor,
                taken_at=timezone.now(),
            )
    except IntegrityError as exc:  # another capture took this version number a moment earlier
        raise Conflict("Another snapshot was captured at the same moment; capture yours again.") from exc
    uncovered = sum(1 for row in rows if not row["covered"])
    audit_record(
        actor=actor,
        action="rttm.snapshot.capture",
        target=snapshot,
        summary=f"RTTM captured at {point.label} (version {version}) for {application.reference}",
        after={
            "checkpoint": point.value,
            "version": version,
            "rows": len(rows),
            "uncovered": uncovered,
            "sha256": digest,
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_assurers(task),
        subject=f"RTTM at {point.label} captured: {application.reference}",
        body=f"{_name(actor)} captured version {version} of the RTTM at {point.label} for {application.reference} "
        f"({application.organisation.name}, {application.mpid.code} as {application.market_role.name}): "
        f"{len(rows)} requirements, {uncovered} not covered by a PIT test or a required QT case.",
        link=f"/applications/{application.pk}/qt/rttm/snapshots/{snapshot.pk}/",
        application=application,
        exclude=actor,
    )
    return snapshot


def _checkpoint(value: str) -> RttmCheckpoint:
    try:
        return RttmCheckpoint(value)
    except ValueError:
        raise InvalidInput(
            "Choose the checkpoint: PIT entry, PIT exit, QT entry or QT exit.", details={"field": "checkpoint"}
        ) from None


# --- internals -----------------------------------------------------------------------------------


def lock_rttm_tasks(application: Application) -> list[Task]:
    tasks = list(
        Task.objects.select_for_update()
        .select_related("definition")
        .filter(application=application, code__in=RTTM_TASKS)
    )
    for task in tasks:
        task.application = application
    return tasks


def _lock_for_edit(actor: Any, application_id: int) -> tuple[Application, list[Task]]:
    application = application_lock(actor=actor, application_id=application_id)
    tasks = lock_rttm_tasks(application)
    refusal = rttm_edit_refusal(actor, application, tasks)
    if refusal is not None:
        raise refusal
    return application, tasks


def _start(actor: Any, tasks: Sequence[Task]) -> None:
    task = rttm_edit_task(actor, tasks)
    if task is not None:
        task_start_on_first_work(actor=actor, task=task)


def _requirement(identifier: str) -> Requirement:
    key = str(identifier or "").strip().upper()[:40]
    found = Requirement.objects.filter(identifier=key, is_active=True).first()
    if found is None:
        raise NotFound("The RTTM has no row for that requirement.")
    return found


def _assurers(task: Task) -> list[Any]:
    roles = {Role(name) for name in task.definition.assurer_roles} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
