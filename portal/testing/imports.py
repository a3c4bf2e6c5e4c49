"""Workbook imports that run in the background: the catalogue, an application's RTTM, its test results.

One shape for all of them. `import_job_create` checks who is importing and the file (by content, as any
evidence), stores the file and queues the job in the same transaction (the task queue's database
backend makes that an outbox). The worker (`import_job_run`) then reads the sheet once, streaming:

1. *check* every row with the importer of that kind, counting progress in `processed_rows` as it goes
   (the page's progress bar polls it) and collecting each problem with its row, column and reason;
2. if any row has a problem, the job fails and *nothing* is stored; the problems are kept on the job
   (the first `MAX_REPORTED_PROBLEMS`, and how many there were in all);
3. otherwise the importer *stores* every checked row in one transaction, re-checking that the user
   may still import, with one audit event for the whole import; then the user is told.

An importer is registered per kind (`register_importer`) by the module that owns what it imports.
"""

import copy
import gc
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import task

from portal.accounts.selectors import user_roles
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError, InvalidInput, NotFound
from portal.core.workbooks import SheetRow, open_sheet_rows, workbook_structure_check
from portal.documents.evidence import FileType, check_evidence_file
from portal.notifications.services import notify
from portal.qualification.models import Application
from portal.qualification.permissions import application_scope_for
from portal.qualification.services import application_lock
from portal.testing.models import ImportJob, ImportKind, ImportStatus
from portal.testing.permissions import CATALOGUE_ROLES

logger = logging.getLogger(__name__)

MAX_REPORTED_PROBLEMS = 500
# Each progress write is a round trip to the database and a commit; checking a thousand rows takes a few
# hundredths of a second, so the progress bar still moves many times a second.
PROGRESS_EVERY = 1_000
FINISHED = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED})


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str
    sheet: str = ""  # named only by importers that read several sheets


@dataclass(frozen=True)
class SheetSpec:
    """One sheet an importer reads: its name, its columns, and whether the workbook may leave it out."""

    name: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...] = ()
    optional: bool = False


class RowRefused(Exception):
    """Raised by an importer's `check` with every problem of one row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(p.reason for p in problems))
        self.problems = problems


class Importer(ABC):
    kind: ImportKind
    sheet: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...] = ()
    max_rows: int = 200_000

    @abstractmethod
    def authorise(self, *, actor: Any, application: Application | None) -> None:
        """Raise PermissionDenied / InvalidTransition when `actor` may not import this now. Called when
        the job is queued and again, inside the storing transaction, before anything is stored."""

    def begin(self, job: ImportJob) -> None:  # noqa: B027 (optional hook)
        """Load whatever the row checks need (lookups of existing identifiers) once, before the rows."""

    @abstractmethod
    def check(self, row: SheetRow) -> Any:
        """Check one row and answer a compact record of it to store later, or raise RowRefused."""

    @abstractmethod
    def store(self, job: ImportJob, records: list[Any]) -> tuple[int, dict[str, Any]]:
        """Store every record (inside the caller's transaction): answer how many rows were stored and a
        summary for the audit event. Must not write its own audit events."""

    def link(self, job: ImportJob) -> str:
        """The page to show when the job is done."""
        return f"/imports/{job.pk}/"

    def sheets(self) -> tuple[SheetSpec, ...]:
        """The sheets to read, in order. Most importers read the one sheet named by `sheet`; one that
        reads several (the catalogue) answers them all, and each row it is given says its sheet
        (`row.sheet`), as must each problem it reports."""
        return (SheetSpec(self.sheet, self.required_columns, self.optional_columns),)

    def finish(self) -> list[RowProblem]:
        """Problems that show only once every row of every sheet has been checked (a case with no
        steps on another sheet, say). Called after the last row, before anything is stored."""
        return []


_importers: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    _importers[importer.kind.value] = importer


def importer_for(kind: str) -> Importer:
    try:
        return _importers[kind]
    except KeyError:
        raise NotFound(f"There is no import of that kind ({kind[:40]}).") from None


# --- queueing ------------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, actor: Any, kind: str, upload: Any, application_id: int | None = None) -> ImportJob:
    """Check the workbook and queue its import. Application imports need an application the user can
    see (NotFound otherwise)."""
    importer = importer_for(kind)
    application = None
    if importer.kind != ImportKind.CATALOGUE:
        if application_id is None:
            raise InvalidInput("Say which application the workbook is for.", details={"field": "application"})
        # Visibility first (NotFound answers another organisation's application), then the row lock.
        application = application_lock(actor=actor, application_id=application_id)
    importer.authorise(actor=actor, application=application)
    if upload is None:
        raise InvalidInput("Choose the workbook to import.", details={"field": "file"})
    checked = check_evidence_file(upload)
    if checked.file_type != FileType.XLSX:
        raise InvalidInput(
            f"Imports take an Excel workbook (XLSX); {checked.name} is a {checked.file_type.upper()} file.",
            details={"field": "file", "rule": "type"},
        )
    workbook_structure_check(upload.file if hasattr(upload, "file") else upload, checked.name)
    upload.seek(0)
    content = upload.read()
    job = ImportJob(
        kind=importer.kind,
        application=application,
        original_name=checked.name,
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor,
    )
    job.file.save(f"{importer.kind.value}-{timezone.now():%Y%m%d%H%M%S}.xlsx", ContentFile(content), save=False)
    job.save()
    audit_record(
        actor=actor,
        action=f"import.{importer.kind.value}.queue",
        target=job,
        summary=f"{importer.kind.label} workbook {checked.name} queued for import"
        + (f" into {application.reference}" if application else ""),
        after={"file": checked.name, "sha256": job.sha256},
        organisation_id=application.organisation_id if application else None,
        application_id=application.pk if application else None,
    )
    run_import.enqueue(job.pk)
    return job


@task()
def run_import(job_id: int) -> None:
    """Thin wrapper: the worker runs the import."""
    import_job_run(job_id=job_id)


# --- running -------------------------------------------------------------------------------------


def import_job_run(*, job_id: int) -> ImportJob:
    """Check every row, then store all of them or none. Safe to run again: only a queued job is run, and
    the run claims it first (queued → checking rows in one UPDATE), so a job delivered twice, or run
    again once finished, does nothing the second time."""
    job = ImportJob.objects.select_related("application", "created_by").get(pk=job_id)
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(status=ImportStatus.VALIDATING)
    if not claimed:
        job.refresh_from_db()
        return job
    job.status = ImportStatus.VALIDATING
    # A copy per run: `begin` keeps the run's lookups on the importer, and two jobs must not share them.
    importer = copy.copy(importer_for(job.kind))
    try:
        with _cyclic_collection_paused():
            return _run(job, importer)
    except Exception:
        # Whatever went wrong, the job must not stay "checking rows" for ever, and nothing was stored
        # (storing is one transaction). The details are for the operators' log, not the user.
        logger.exception("Import job %s failed unexpectedly", job.pk)
        return _finish_failed(
            job,
            [RowProblem(0, "", "the import could not be completed because of an unexpected error")],
            1,
            "The import could not be completed because of an unexpected error; nothing was imported. Try again, "
            "and tell the support team if it happens again.",
        )


@contextmanager
def _cyclic_collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a job runs. A run makes a few small objects per row
    and keeps each row's record until it is stored, so the collector would otherwise walk every record
    so far, and everything else the worker holds, over and over: a third of a 100,000-row import's time,
    to find no garbage (the rows make no reference cycles; reference counting frees what they drop).
    Whatever cycles there are wait for the collector's next pass once the job is done."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _run(job: ImportJob, importer: "Importer") -> ImportJob:
    problems: list[RowProblem] = []
    problem_count = 0
    records: list[Any] = []
    specs = importer.sheets()
    # Problems name their sheet only when the importer reads more than one.
    several = len(specs) > 1
    try:
        processed = 0
        counted = 0  # the rows of the sheets already read, for the progress bar
        begun = False
        for spec in specs:
            with job.file.open("rb") as stream:
                try:
                    declared, rows = open_sheet_rows(
                        stream,
                        sheet=spec.name,
                        required=spec.required_columns,
                        optional=spec.optional_columns,
                        max_rows=importer.max_rows,
                    )
                except InvalidInput as exc:
                    if spec.optional and exc.details.get("rule") == "sheet":
                        continue  # a sheet the workbook may leave out
                    raise
                _progress(job, status=ImportStatus.VALIDATING, total_rows=counted + declared, processed_rows=processed)
                if not begun:
                    importer.begin(job)
                    begun = True
                for row in rows:
                    processed += 1
                    try:
                        if row.formulas:
                            raise RowRefused(
                                [
                                    RowProblem(
                                        row.number,
                                        column,
                                        "holds a formula; enter the value itself",
                                        sheet=spec.name if several else "",
                                    )
                                    for column in row.formulas
                                ]
                            )
                        records.append(importer.check(row))
                    except RowRefused as refused:
                        problem_count += len(refused.problems)
                        room = MAX_REPORTED_PROBLEMS - len(problems)
                        if room > 0:
                            problems.extend(refused.problems[:room])
                    if processed % PROGRESS_EVERY == 0:
                        _progress(job, processed_rows=processed, total_rows=max(counted + declared, processed))
                counted = processed
        _progress(job, processed_rows=processed, total_rows=processed)
    except InvalidInput as exc:
        return _finish_failed(job, [_sheet_problem(exc, several)], 1, exc.message)
    if begun:
        late = importer.finish()
        problem_count += len(late)
        problems.extend(late[: max(MAX_REPORTED_PROBLEMS - len(problems), 0)])
    if problem_count:
        return _finish_failed(
            job,
            problems,
            problem_count,
            f"{problem_count} problem{'s' if problem_count != 1 else ''} found; nothing was imported.",
        )
    if not records:
        return _finish_failed(
            job,
            [RowProblem(2, "", "the sheet has no rows to import")],
            1,
            "The sheet has no rows to import.",
        )
    try:
        return _store(job, importer, records)
    except ApplicationError as exc:  # refused at store time: a permission or state changed meanwhile
        return _finish_failed(job, [_sheet_problem(exc, several)], 1, exc.message)


def _store(job: ImportJob, importer: Importer, records: list[Any]) -> ImportJob:
    _progress(job, status=ImportStatus.STORING)
    with transaction.atomic():
        # Only the run that claimed the job stores it.
        if ImportJob.objects.select_for_update().filter(pk=job.pk, status=ImportStatus.STORING).first() is None:
            job.refresh_from_db()
            return job
        application = None
        if job.application_id is not None:
            application = Application.objects.select_for_update().get(pk=job.application_id)
        importer.authorise(actor=job.created_by, application=application)
        stored, summary = importer.store(job, records)
        job.status = ImportStatus.SUCCEEDED
        job.stored_rows = stored
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "stored_rows", "finished_at"])
        audit_record(
            actor=job.created_by,
            action=f"import.{job.kind}.store",
            target=job,
            summary=f"{importer.kind.label} workbook {job.original_name} imported: {stored} rows"
            + (f" into {application.reference}" if application else ""),
            after={"file": job.original_name, "sha256": job.sha256, "rows": stored, **summary},
            organisation_id=application.organisation_id if application else None,
            application_id=application.pk if application else None,
        )
        notify(
            recipients=[job.created_by],
            subject=f"Import finished: {job.original_name}",
            body=f"{stored} rows of {job.original_name} were imported.",
            link=importer.link(job),
            application=application,
        )
    return job


def _finish_failed(job: ImportJob, problems: list[RowProblem], count: int, message: str) -> ImportJob:
    with transaction.atomic():
        job.status = ImportStatus.FAILED
        job.errors = [
            {"row": p.row, "column": p.column, "reason": p.reason, **({"sheet": p.sheet} if p.sheet else {})}
            for p in problems
        ]
        job.error_count = count
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "errors", "error_count", "finished_at"])
        application = job.application
        audit_record(
            actor=job.created_by,
            action=f"import.{job.kind}.refuse",
            target=job,
            summary=f"Workbook {job.original_name} refused: nothing imported"
            + (f" into {application.reference}" if application else ""),
            after={"file": job.original_name, "sha256": job.sha256, "problems": count, "first": job.errors[:3]},
            organisation_id=application.organisation_id if application else None,
            application_id=application.pk if application else None,
        )
        notify(
            recipients=[job.created_by],
            subject=f"Import refused: {job.original_name}",
            body=f"{message} Open the import to see each problem with its row and column.",
            link=f"/imports/{job.pk}/",
            application=job.application,
        )
    return job


def _sheet_problem(exc: ApplicationError, several: bool = False) -> RowProblem:
    return RowProblem(
        int(exc.details.get("row", 0) or 0),
        str(exc.details.get("column", "")),
        exc.message,
        sheet=str(exc.details.get("sheet", "")) if several else "",
    )


def _progress(job: ImportJob, **fields: Any) -> None:
    """Progress is written outside any transaction, so the page sees it while the import runs."""
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


# --- reading -------------------------------------------------------------------------------------


def import_job_scope_for(user: Any) -> QuerySet[ImportJob]:
    """Jobs the user may see: their own, and those of applications they can see. Catalogue imports
    are visible to the staff who keep the catalogue."""
    visible = Q(created_by=user) | Q(application__in=application_scope_for(user))
    if user_roles(user) & CATALOGUE_ROLES:
        visible |= Q(kind=ImportKind.CATALOGUE)
    return ImportJob.objects.filter(visible).select_related("application", "created_by")


def import_job_get(*, user: Any, job_id: int) -> ImportJob:
    job = import_job_scope_for(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("No import was found with that reference.")
    return job


def import_percent(job: ImportJob) -> int:
    if job.status in FINISHED:
        return 100
    if not job.total_rows:
        return 0
    return min(99, job.processed_rows * 100 // job.total_rows)
