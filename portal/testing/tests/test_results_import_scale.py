"""A 10,000-row results workbook, imported the way a participant does it: uploaded on the executions
page (or through the API), then checked and stored by the background worker while the job page's
progress bar and the API's status show how far it has got."""

import re
import time

import pytest
from django.core.management import call_command

from portal.testing import imports
from portal.testing.models import ImportJob, ImportStatus, TestExecution
from portal.testing.tests.execution_support import good_rows, results_workbook, xlsx_upload

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 10_000


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def test_a_10000_row_workbook_imports_through_the_worker_with_a_progress_bar(
    transactional_db, client, member, execution_app, api_as, monkeypatch, capsys
):
    content = results_workbook(good_rows(ROWS))
    client.force_login(member)
    response = client.post(
        f"/applications/{execution_app.pk}/qt/results/import/", {"file": xlsx_upload(content, "big results.xlsx")}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"
    page = client.get(f"/imports/{job.pk}/")
    assert page.status_code == 200 and b'id="import-progress-bar"' in page.content

    # Watch the job as the page and an API client would while the worker runs: every progress write,
    # and what the progress fragment and the API answer half-way through.
    seen: list[tuple[int, int]] = []
    halfway: dict[str, object] = {}
    write_progress = imports._progress

    def watching(job_row: ImportJob, **fields: object) -> None:
        write_progress(job_row, **fields)
        seen.append((job_row.processed_rows, job_row.total_rows))
        if job_row.processed_rows == ROWS // 2 and job_row.status == ImportStatus.VALIDATING and not halfway:
            halfway["fragment"] = client.get(f"/imports/{job.pk}/progress/").content.decode()
            halfway["api"] = api_as(member).get(f"/api/v1/imports/{job.pk}").json()

    monkeypatch.setattr(imports, "_progress", watching)
    started = time.perf_counter()
    run_worker()
    elapsed = time.perf_counter() - started

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.stored_rows == ROWS and job.processed_rows == ROWS and job.total_rows == ROWS
    assert TestExecution.objects.filter(application=execution_app).count() == ROWS
    # The total was known from the start, and progress was written as the rows were checked.
    assert seen[0] == (0, ROWS)
    checked = [processed for processed, _ in seen]
    assert checked == sorted(checked) and len(set(checked)) >= ROWS // imports.PROGRESS_EVERY
    fragment = str(halfway["fragment"])
    assert re.search(r'<progress[^>]*value="50"', fragment), fragment
    assert "5,000 of 10,000 rows checked (50%)" in fragment
    assert halfway["api"]["status"] == "validating" and halfway["api"]["percent"] == 50  # type: ignore[index]

    done = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "10,000 rows stored" in done and "hx-trigger" not in done
    with capsys.disabled():
        print(f"\n10,000-row results import through the worker: {elapsed:.1f} s")
    assert elapsed < 300


def test_the_same_import_through_the_api(transactional_db, member, execution_app, api_as):
    client = api_as(member)
    response = client.post_multipart(
        "/api/v1/imports",
        {
            "kind": "results",
            "application_id": str(execution_app.pk),
            "file": xlsx_upload(results_workbook(good_rows(1_000)), "api results.xlsx"),
        },
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    run_worker()
    status = client.get(f"/api/v1/imports/{job_id}").json()
    assert status["status"] == "succeeded" and status["stored_rows"] == 1_000 and status["percent"] == 100
