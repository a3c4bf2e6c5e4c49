"""The results workbook import: many test runs at once, from the spreadsheet a test team already keeps.

The workbook has a sheet named **Results** whose first row names the columns:

| Column | Required | What |
|---|---|---|
| Case | yes | the test case identifier, e.g. QTC-SUP-001 |
| Status | yes | passed, passed with observations, failed, blocked or not run |
| Tester | yes | who ran it |
| Executed at | yes | when it ran: a date-and-time cell, or text such as 2026-03-14 09:30 (UK time) |
| Notes | for failed, blocked and passed-with-observations runs | what happened |
| Step results | no | one result per step of the case, e.g. `1:passed; 2:failed; 3:not run` |

One row is one run, recorded against the case's current version. Every row is checked first (the
framework in `imports.py` reports each problem with its row and column, and stores nothing if any row
has one); then every run is stored in one transaction: on PostgreSQL with one COPY, streamed, elsewhere
with `bulk_create` a thousand rows at a time. Both store the same rows.

A workbook repeats itself: a few testers, a few step-result patterns per case. The check keeps its
answer for step results it has already checked (per case version, outcome and text), and the runs that
give the same results share them, as they share the same tester's name: a hundred thousand rows are
checked in a few seconds and held in a few tens of megabytes.

A workbook carries no evidence files, so an imported run that claims an outcome (passed, passed with
observations, failed) is *awaiting evidence* until the participant attaches files on its page; until
then Testing Assurance cannot accept it and it does not count as passed for exit (see
`execution_selectors`).
"""

import datetime
import json
import re
from collections import Counter
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from portal.core.errors import InvalidInput, NotFound
from portal.core.workbooks import SheetRow
from portal.notifications.services import notify
from portal.qualification.models import Application, Task
from portal.qualification.services import task_start_on_first_work
from portal.testing.execution_selectors import RECORDABLE, StepStatus, execution_work_refusal
from portal.testing.execution_services import (
    Problem,
    actor_name,
    check_run,
    check_step_results,
    describe_application,
    executions_link,
    qt_assurers,
)
from portal.testing.imports import Importer, RowProblem, RowRefused
from portal.testing.models import ExecutionStatus, ImportJob, ImportKind, TestExecution
from portal.testing.plan_selectors import QT_TASK
from portal.testing.required_set import SetRow, required_set

COLUMNS = {
    "case": "Case",
    "status": "Status",
    "tester": "Tester",
    "executed_at": "Executed at",
    "notes": "Notes",
    "step_results": "Step results",
}
BATCH_SIZE = 1_000
MAX_ROWS = 100_000
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
STEP_PATTERN = re.compile(r"^\s*(\d{1,4})\s*[:=]\s*(.+?)\s*$")
# A workbook writes its step results a few hundred ways at most, each kept with its answer (a few
# megabytes in all); one that writes them differently on every row, or at great length, has the rest
# checked anew rather than held twice. The same bound applies to the texts shared between runs.
MAX_KEPT_STEP_TEXTS = 2_000
MAX_KEPT_STEP_TEXT_LENGTH = 1_000


@lru_cache(maxsize=1024)
def _key(text: str) -> str:
    # Cached: a workbook repeats a handful of status words in every row.
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


STATUS_WORDS = {
    **{_key(value): value for value in ExecutionStatus.values},
    **{_key(str(label)): value for value, label in ExecutionStatus.choices},
    "pass": ExecutionStatus.PASSED,
    "fail": ExecutionStatus.FAILED,
    "passed with observation": ExecutionStatus.PASSED_WITH_OBSERVATIONS,
}
STEP_WORDS = {
    **{_key(value): value for value in StepStatus.values},
    **{_key(str(label)): value for value, label in StepStatus.choices},
    "pass": StepStatus.PASSED,
    "fail": StepStatus.FAILED,
}


class ResultRecord(NamedTuple):
    """A checked row, compact: what is stored."""

    row: int
    case_id: int
    version_id: int
    status: str
    tester: str
    executed_at: datetime.datetime
    notes: str
    step_results: list[dict[str, Any]]


class ResultsImporter(Importer):
    kind = ImportKind.RESULTS
    sheet = "Results"
    required_columns = ("Case", "Status", "Tester", "Executed at")
    optional_columns = ("Notes", "Step results")
    max_rows = MAX_ROWS

    def authorise(self, *, actor: Any, application: Application | None) -> None:
        if application is None:
            raise InvalidInput("Say which application the results are for.", details={"field": "application"})
        task = Task.objects.select_related("definition").filter(application=application, code=QT_TASK).first()
        if task is None:
            raise NotFound("This application has no Qualification Testing task.")
        task.application = application
        refusal = execution_work_refusal(actor, task, "test results")
        if refusal is not None:
            raise refusal

    def begin(self, job: ImportJob) -> None:
        application = job.application
        assert application is not None
        self.rows: dict[str, SetRow] = {row.identifier.upper(): row for row in required_set(application)}
        self.now = timezone.now()
        self.recorded: set[tuple[int, datetime.datetime]] = set(
            TestExecution.objects.filter(application=application).values_list("case_id", "executed_at")
        )
        self.seen: dict[tuple[int, datetime.datetime], int] = {}
        self.role = application.market_role.name
        # Answers kept for what a workbook repeats from row to row, for this run only (see the module).
        self.parsed_steps: dict[str, tuple[list[dict[str, Any]] | None, str | None]] = {}
        self.checked_steps: dict[tuple[int, str, str], tuple[list[dict[str, Any]], list[Problem]]] = {}
        self.texts: dict[str, str] = {}

    def check(self, row: SheetRow) -> ResultRecord:
        values = row.values
        problems: list[RowProblem] = []

        def problem(column: str, reason: str) -> None:
            problems.append(RowProblem(row.number, COLUMNS.get(column, column), reason))

        set_row = self._case(values.get("Case"), problem)
        status = self._status(values.get("Status"), problem)
        executed_at = self._when(values.get("Executed at"), problem)
        steps = self._steps(values.get("Step results"), problem)
        tester, notes = values.get("Tester"), values.get("Notes")
        for column, value in (("tester", tester), ("notes", notes)):
            if value is not None and not isinstance(value, str):
                problem(column, "must be text")
        if set_row is None or problems:
            raise RowRefused(problems or [RowProblem(row.number, "Case", "unknown test case")])
        # The run without its step results, then the step results as `check_run` would check them (its
        # last check): checked once per case version, outcome and text.
        run, run_problems = check_run(
            identifier=set_row.identifier,
            version=set_row.version,
            status=status,
            tester=tester,
            executed_at=executed_at,
            notes=notes,
            step_results=None,
            now=self.now,
            steps_required=False,
        )
        if steps:
            known = (set_row.version.pk, run.status, values["Step results"])
            checked = self.checked_steps.get(known)
            if checked is None:
                checked = check_step_results(
                    identifier=set_row.identifier, version=set_row.version, step_results=steps, status=run.status
                )
                if _worth_keeping(self.checked_steps, known[2]):
                    self.checked_steps[known] = checked
            run.step_results, step_problems = checked
            run_problems = run_problems + step_problems
        for found in run_problems:
            problem(found.field, _lower_first(found.message))
        if problems:
            raise RowRefused(problems)
        assert run.executed_at is not None
        key = (set_row.case_id, run.executed_at)
        if key in self.seen or key in self.recorded:
            # Formatted only for a duplicate: a hundred thousand good rows need no time written out.
            when = timezone.localtime(run.executed_at).strftime("%d/%m/%Y %H:%M")
            if key in self.seen:
                problem("case", f"the run of {set_row.identifier} at {when} is also on row {self.seen[key]}")
            else:
                problem("case", f"a run of {set_row.identifier} at {when} is already recorded; import each run once")
            raise RowRefused(problems)
        self.seen[key] = row.number
        return ResultRecord(
            row=row.number,
            case_id=set_row.case_id,
            version_id=set_row.version.pk,
            status=run.status,
            tester=self._shared(run.tester),
            executed_at=run.executed_at,
            notes=self._shared(run.notes),
            step_results=run.step_results,
        )

    def store(self, job: ImportJob, records: list[ResultRecord]) -> tuple[int, dict[str, Any]]:
        application = job.application
        assert application is not None
        # The set may have changed while the rows were checked (an opt-out, a new case version): every
        # run must still be of a case that is run in QT, against its current version.
        current = {row.case_id: row for row in required_set(application) if row.inclusion in RECORDABLE}
        for record in records:
            row = current.get(record.case_id)
            if row is None or row.version.pk != record.version_id:
                raise InvalidInput(
                    f"Row {record.row}: the test set changed while the workbook was checked; import it again.",
                    details={"row": record.row, "column": "Case"},
                )
        task = Task.objects.select_related("definition").get(application=application, code=QT_TASK)
        task.application = application
        task_start_on_first_work(actor=job.created_by, task=task)
        _insert_runs(application=application, recorded_by=job.created_by, records=records)
        by_status = Counter(record.status for record in records)
        summary = {"by_status": dict(sorted(by_status.items()))}
        awaiting = sum(
            n for status, n in by_status.items() if status in {"passed", "passed_with_observations", "failed"}
        )
        notify(
            recipients=qt_assurers(task),
            subject=f"Test results imported: {len(records)} runs on {application.reference}",
            body=f"{actor_name(job.created_by)} imported {len(records)} test runs for "
            f"{describe_application(application)} from {job.original_name}. "
            + (
                f"{awaiting} of them claim an outcome and await evidence, which the participant attaches run by run."
                if awaiting
                else "None of them needs evidence."
            ),
            link=executions_link(application.pk),
            application=application,
            exclude=job.created_by,
        )
        return len(records), summary

    def link(self, job: ImportJob) -> str:
        return executions_link(job.application_id) if job.application_id else super().link(job)

    def _shared(self, text: str) -> str:
        """The text, as held once for the runs that repeat it (a tester's name, a common note)."""
        kept = self.texts.get(text)
        if kept is not None:
            return kept
        if _worth_keeping(self.texts, text):
            self.texts[text] = text
        return text

    # --- cells ---------------------------------------------------------------------------------------

    def _case(self, value: Any, problem: Any) -> SetRow | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            problem("case", "enter the test case identifier")
            return None
        if not isinstance(value, str):
            problem("case", "must be text: a test case identifier such as QTC-001")
            return None
        row = self.rows.get(value.strip().upper())
        if row is None:
            shown = "".join(ch for ch in value.strip() if ch.isprintable())[:40]
            problem("case", f"{shown} is not a test case of the {self.role} role")
            return None
        if row.inclusion not in RECORDABLE:
            problem("case", f"{row.identifier} is not run in QT for this application: {row.reason}")
            return None
        return row

    def _status(self, value: Any, problem: Any) -> str | None:
        if not isinstance(value, str) or _key(value) not in STATUS_WORDS:
            problem("status", "must be one of: passed, passed with observations, failed, blocked, not run")
            return None
        return STATUS_WORDS[_key(value)]

    def _when(self, value: Any, problem: Any) -> datetime.datetime | None:
        if isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str) and value.strip():
            text = value.strip()
            # ISO 8601 first: the usual form, and read in C (each format below is tried with strptime).
            try:
                return datetime.datetime.fromisoformat(text)
            except ValueError:
                pass
            for pattern in DATE_FORMATS:
                try:
                    return datetime.datetime.strptime(text, pattern)  # noqa: DTZ007 (UK time, made aware after)
                except ValueError:
                    continue
        if value is None or (isinstance(value, str) and not value.strip()):
            problem("executed_at", "enter the date and time the test was run")
        else:
            problem("executed_at", "must be a date and time, such as 2026-03-14 09:30")
        return None

    def _steps(self, value: Any, problem: Any) -> list[dict[str, Any]] | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            problem("step_results", "must be text such as 1:passed; 2:failed")
            return None
        parsed = self.parsed_steps.get(value)
        if parsed is None:
            parsed = _parse_steps(value)
            if _worth_keeping(self.parsed_steps, value):
                self.parsed_steps[value] = parsed
        results, reason = parsed
        if reason is not None:
            problem("step_results", reason)
        return results


def _worth_keeping(kept: dict[Any, Any], text: str) -> bool:
    return len(kept) < MAX_KEPT_STEP_TEXTS and len(text) <= MAX_KEPT_STEP_TEXT_LENGTH


def _parse_steps(text: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Step results written as `1:passed; 2:failed`: the results (to be checked against the case's
    steps), or the reason they cannot be read."""
    results = []
    for part in re.split(r"[;,\n]", text):
        if not part.strip():
            continue
        match = STEP_PATTERN.match(part)
        if match is None or _key(match.group(2)) not in STEP_WORDS:
            shown = "".join(ch for ch in part.strip() if ch.isprintable())[:30]
            return None, f"“{shown}” is not a step result; write them as 1:passed; 2:failed"
        results.append({"step": int(match.group(1)), "status": STEP_WORDS[_key(match.group(2))], "actual": ""})
    return results, None


# The columns each run gives; every other column of a run is the same for the whole import.
RUN_FIELDS = ("case", "case_version", "status", "tester", "executed_at", "notes", "step_results")


def _insert_runs(*, application: Application, recorded_by: Any, records: list[ResultRecord]) -> None:
    """Insert a run for each record, in the caller's transaction. On PostgreSQL the rows are streamed
    to one COPY (the other columns take the values the model gives a new run, as `bulk_create` would);
    elsewhere they go through `bulk_create` a batch at a time (made a batch at a time: a hundred thousand
    model instances at once would double the worker's memory for nothing)."""
    if connection.vendor == "postgresql":
        _copy_runs(application, recorded_by, records)
    else:
        _bulk_create_runs(application, recorded_by, records)


def _bulk_create_runs(application: Application, recorded_by: Any, records: list[ResultRecord]) -> None:
    for start in range(0, len(records), BATCH_SIZE):
        TestExecution.objects.bulk_create(
            [
                TestExecution(
                    application=application,
                    case_id=record.case_id,
                    case_version_id=record.version_id,
                    status=record.status,
                    tester=record.tester,
                    executed_at=record.executed_at,
                    notes=record.notes,
                    step_results=record.step_results,
                    recorded_by=recorded_by,
                )
                for record in records[start : start + BATCH_SIZE]
            ]
        )


def _copy_runs(application: Application, recorded_by: Any, records: list[ResultRecord]) -> None:
    from psycopg import sql

    meta = TestExecution._meta
    # The columns common to every run, valued as saving a new run would value them (defaults, the time
    # it was recorded), from one unsaved run.
    template = TestExecution(application=application, recorded_by=recorded_by)
    common = [field for field in meta.concrete_fields if not field.primary_key and field.name not in RUN_FIELDS]
    values = tuple(field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in common)
    columns = [str(field.column) for field in common]
    columns += [str(meta.get_field(name).column) for name in RUN_FIELDS]  # type: ignore[union-attr]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    encoded: dict[int, str] = {}  # step results as JSON, once for each list the runs share (see `check`)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for record in records:
            steps = encoded.get(id(record.step_results))
            if steps is None:
                steps = json.dumps(record.step_results)
                if len(encoded) < MAX_KEPT_STEP_TEXTS:
                    encoded[id(record.step_results)] = steps
            copy.write_row(
                (
                    *values,
                    record.case_id,
                    record.version_id,
                    record.status,
                    record.tester,
                    record.executed_at,
                    record.notes,
                    steps,
                )
            )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


RESULTS_IMPORTER = ResultsImporter()
