"""How a checked results workbook is stored, and what the check keeps between rows: on PostgreSQL the runs
are streamed to one COPY, and that stores exactly the rows `bulk_create` stores (the path every other
database takes); the same step results written on many rows are checked for each case version and
outcome they are given with; and Python's cyclic garbage collector, paused while a job runs, runs again
once it is done, whether the job succeeded or failed."""

import copy
import datetime
import gc
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from portal.core.workbooks import SheetRow
from portal.testing import execution_imports
from portal.testing.execution_imports import RESULTS_IMPORTER, ResultRecord
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import ImportStatus, TestExecution
from portal.testing.tests.execution_support import HEADERS, good_rows, results_workbook, xlsx_upload

pytestmark = pytest.mark.django_db

A_MONTH_AGO = timezone.localtime(timezone.now() - datetime.timedelta(days=30)).replace(
    hour=9, minute=30, second=0, microsecond=0, tzinfo=None
)
COMPARED = ["application_id", "case_id", "case_version_id", "status", "tester", "executed_at", "notes"]
COMPARED += ["step_results", "review", "review_comment", "reviewed_by_id", "reviewed_at", "recorded_by_id"]


def run_import(actor: Any, application: Any, rows: list[list[Any]]) -> Any:
    job = import_job_create(
        actor=actor, kind="results", upload=xlsx_upload(results_workbook(rows)), application_id=application.pk
    )
    return import_job_run(job_id=job.pk)


def checked_records(application: Any, rows: list[list[Any]]) -> list[ResultRecord]:
    """The rows as the import checks them, ready to store."""
    importer = copy.copy(RESULTS_IMPORTER)

    class Job:
        pass

    job = Job()
    job.application = application  # type: ignore[attr-defined]
    importer.begin(job)  # type: ignore[arg-type]
    return [
        importer.check(SheetRow(number=n, values=dict(zip(HEADERS, row, strict=True)), formulas=()))
        for n, row in enumerate(rows, start=2)
    ]


def stored_runs(ids: list[int]) -> list[dict[str, Any]]:
    return list(TestExecution.objects.filter(pk__in=ids).order_by("pk").values(*COMPARED, "recorded_at"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_stores_exactly_the_runs_bulk_create_stores(member, execution_app):
    rows = good_rows(40)
    rows[5][2] = "Tess\tTab \\ Backslash"  # text COPY must escape
    rows[6][4] = "Line one\nline two, “quoted” – and a NUL-free \r return"
    rows[7][2] = "Zoë Ødegård"
    records = checked_records(execution_app, rows)
    assert all(isinstance(record, ResultRecord) for record in records)

    before = set(TestExecution.objects.values_list("pk", flat=True))
    started = timezone.now()
    execution_imports._copy_runs(execution_app, member, records)
    copied = sorted(set(TestExecution.objects.values_list("pk", flat=True)) - before)
    execution_imports._bulk_create_runs(execution_app, member, records)
    created = sorted(set(TestExecution.objects.values_list("pk", flat=True)) - before - set(copied))

    assert len(copied) == len(created) == 40
    by_copy, by_bulk_create = stored_runs(copied), stored_runs(created)
    for one, other in zip(by_copy, by_bulk_create, strict=True):
        assert {k: one[k] for k in COMPARED} == {k: other[k] for k in COMPARED}
        assert started <= one["recorded_at"] <= timezone.now()
    assert by_copy[5]["tester"] == "Tess\tTab \\ Backslash" and by_copy[7]["tester"] == "Zoë Ødegård"
    assert by_copy[6]["notes"] == "Line one\nline two, “quoted” – and a NUL-free \r return"
    assert by_copy[1]["step_results"] == [
        {"step": 1, "status": "passed", "actual": ""},
        {"step": 2, "status": "failed", "actual": ""},
    ]
    assert by_copy[1]["review"] == "pending" and by_copy[1]["reviewed_by_id"] is None


def test_the_import_stores_its_runs_the_way_its_database_takes_them(member, execution_app, monkeypatch):
    used: list[str] = []
    monkeypatch.setattr(execution_imports, "_copy_runs", lambda *args: used.append("copy"))
    monkeypatch.setattr(execution_imports, "_bulk_create_runs", lambda *args: used.append("bulk_create"))
    execution_imports._insert_runs(application=execution_app, recorded_by=member, records=[])
    assert used == (["copy"] if connection.vendor == "postgresql" else ["bulk_create"])


def test_a_whole_import_stores_every_run_with_its_values(member, execution_app):
    rows = good_rows(200, start=A_MONTH_AGO)
    job = run_import(member, execution_app, rows)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    runs = list(TestExecution.objects.filter(application=execution_app).order_by("executed_at"))
    assert len(runs) == 200
    first, second = runs[0], runs[1]
    assert (first.case.identifier, first.status, first.tester, first.notes) == (
        "QTC-EX-001",
        "passed",
        "Tess Tester",
        "",
    )
    assert first.step_results == [{"step": n, "status": "passed", "actual": ""} for n in (1, 2, 3)]
    assert (second.status, second.notes) == ("failed", "Step 2 timed out.")
    assert [s["status"] for s in second.step_results] == ["passed", "failed"]
    assert all(run.recorded_by == member and run.review == "pending" and run.case_version.is_current for run in runs)
    assert timezone.localtime(first.executed_at).replace(tzinfo=None) == rows[0][3]


def test_the_same_step_results_are_checked_for_each_case_and_outcome_they_come_with(member, execution_app):
    at = [A_MONTH_AGO + datetime.timedelta(minutes=n) for n in range(8)]
    rows: list[list[Any]] = [
        ["QTC-EX-002", "passed", "Tess", at[0], None, "1:passed; 2:passed"],  # 2: right for a two-step case
        ["QTC-EX-001", "passed", "Tess", at[1], None, "1:passed; 2:passed"],  # 3: QTC-EX-001 has three steps
        ["QTC-EX-002", "failed", "Tess", at[2], "It broke.", "1:passed; 2:passed"],  # 4: a failed run, no failed step
        ["QTC-EX-002", "passed", "Tess", at[3], None, "1:passed; 2:passed"],  # 5: right again
        ["QTC-EX-001", "passed", "Tess", at[4], None, "1:passed; 2:passed"],  # 6: wrong again
        ["QTC-EX-002", "passed", "Tess", at[5], None, "1:passed; two:passed"],  # 7: unreadable
        ["QTC-NOPE", "passed", "Tess", at[6], None, "1:passed; two:passed"],  # 8: unreadable, and no such case
    ]
    job = run_import(member, execution_app, rows)
    assert job.status == ImportStatus.FAILED
    found = {(p["row"], p["column"]): p["reason"] for p in job.errors}
    assert set(found) == {
        (3, "Step results"),
        (4, "Step results"),
        (6, "Step results"),
        (7, "Step results"),
        (8, "Case"),
        (8, "Step results"),
    }
    assert "missing: step 3" in found[(3, "Step results")]
    assert found[(6, "Step results")] == found[(3, "Step results")]
    assert "A failed run must have at least one failed step" in found[(4, "Step results")]
    assert "“two:passed” is not a step result" in found[(7, "Step results")]
    assert found[(8, "Step results")] == found[(7, "Step results")]
    assert not TestExecution.objects.filter(application=execution_app).exists()


def test_runs_that_give_the_same_step_results_share_them_as_stored(member, execution_app):
    records = checked_records(execution_app, good_rows(8))
    assert records[0].step_results is records[4].step_results
    assert records[1].step_results is records[5].step_results
    assert records[0].step_results is not records[1].step_results
    assert records[0].tester is records[1].tester


@pytest.mark.parametrize("rows", [good_rows(5), [["QTC-NOPE", "passed", "Tess", A_MONTH_AGO, None, None]]])
def test_the_garbage_collector_runs_again_once_a_job_is_done(member, execution_app, rows, monkeypatch):
    assert gc.isenabled()
    paused: list[bool] = []
    check = execution_imports.ResultsImporter.check

    def watching(self: Any, row: SheetRow) -> Any:
        paused.append(not gc.isenabled())
        return check(self, row)

    monkeypatch.setattr(execution_imports.ResultsImporter, "check", watching)
    run_import(member, execution_app, rows)
    assert paused and all(paused)
    assert gc.isenabled()


def test_a_job_run_while_the_collector_is_off_leaves_it_off(member, execution_app):
    gc.disable()
    try:
        job = run_import(member, execution_app, good_rows(3))
        assert job.status == ImportStatus.SUCCEEDED
        assert not gc.isenabled()
    finally:
        gc.enable()
