"""The background import framework (`testing/imports.py`), through its first real importer (test
results): the job page and its progress fragment, the API, a job run twice, the cap on reported problems,
all-or-nothing storing, who is told, the audit trail, and that nobody else can see a job."""

import datetime

import pytest

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from portal.testing import imports
from portal.testing.execution_imports import ResultsImporter
from portal.testing.imports import (
    MAX_REPORTED_PROBLEMS,
    import_job_create,
    import_job_get,
    import_job_run,
    import_percent,
)
from portal.testing.models import ImportJob, ImportStatus, TestExecution
from portal.testing.tests.execution_support import good_rows, results_workbook, snapshot, xlsx_upload

pytestmark = pytest.mark.django_db


def queue(member, application, rows, name="results.xlsx"):
    return import_job_create(
        actor=member, kind="results", upload=xlsx_upload(results_workbook(rows), name), application_id=application.pk
    )


def test_queueing_stores_the_file_audits_and_enqueues_a_job(member, execution_app):
    before = snapshot()
    job = queue(member, execution_app, good_rows(3))
    assert job.status == ImportStatus.QUEUED and job.original_name == "results.xlsx" and len(job.sha256) == 64
    assert job.file.name.startswith("imports/") and job.file.size > 0
    event = AuditEvent.objects.get(action="import.results.queue")
    assert event.actor == member and event.after["sha256"] == job.sha256
    assert snapshot().jobs == before.jobs + 1  # the worker's job, queued in the same transaction
    assert import_percent(job) == 0


def test_a_job_run_twice_does_nothing_the_second_time(member, execution_app):
    job = queue(member, execution_app, good_rows(8))
    assert import_job_run(job_id=job.pk).status == ImportStatus.SUCCEEDED
    before = snapshot()
    again = import_job_run(job_id=job.pk)
    assert again.status == ImportStatus.SUCCEEDED and again.stored_rows == 8
    assert snapshot() == before
    assert TestExecution.objects.count() == 8


def test_a_job_another_run_has_claimed_is_left_to_it(member, execution_app):
    job = queue(member, execution_app, good_rows(2))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING)
    assert import_job_run(job_id=job.pk).status == ImportStatus.VALIDATING
    assert not TestExecution.objects.exists()


def test_problems_are_capped_at_500_with_the_full_count(member, execution_app, client):
    rows = good_rows(650)
    for row in rows[:600]:
        row[1] = "maybe"  # one problem per row
    job = import_job_run(job_id=queue(member, execution_app, rows).pk)
    assert job.status == ImportStatus.FAILED
    assert job.error_count == 600 and len(job.errors) == MAX_REPORTED_PROBLEMS
    assert job.errors[0] == {
        "row": 2,
        "column": "Status",
        "reason": "must be one of: passed, passed with observations, failed, blocked, not run",
    }
    client.force_login(member)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "600 problems found" in page and "The first 500 are listed" in page
    assert page.count('<tr class="govuk-table__row"><td class="govuk-table__cell">') == 500


def test_one_bad_row_among_many_stores_nothing(member, execution_app):
    rows = good_rows(300)
    rows[250][0] = "QTC-UNKNOWN"
    before = snapshot()
    job = import_job_run(job_id=queue(member, execution_app, rows).pk)
    assert job.status == ImportStatus.FAILED and job.error_count == 1 and job.errors[0]["row"] == 252
    after = snapshot()
    assert after.executions == before.executions == ()
    assert job.stored_rows == 0


def test_the_creator_is_told_either_way_and_each_outcome_is_audited(member, execution_app):
    ok = import_job_run(job_id=queue(member, execution_app, good_rows(2), "good.xlsx").pk)
    bad_rows = good_rows(2, start=None)
    bad_rows[0][0] = "NOPE"
    bad = import_job_run(job_id=queue(member, execution_app, bad_rows, "bad.xlsx").pk)
    done = Notification.objects.get(recipient=member, subject="Import finished: good.xlsx")
    refused = Notification.objects.get(recipient=member, subject="Import refused: bad.xlsx")
    assert done.link == f"/applications/{execution_app.pk}/qt/executions/"
    assert refused.link == f"/imports/{bad.pk}/" and "1 problem found; nothing was imported." in refused.body
    assert AuditEvent.objects.get(action="import.results.store").target_id == str(ok.pk)
    assert AuditEvent.objects.get(action="import.results.refuse").target_id == str(bad.pk)


def test_an_unexpected_failure_fails_the_job_and_stores_nothing(member, execution_app, monkeypatch):
    def broken(self, row):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ResultsImporter, "check", broken)
    job = import_job_run(job_id=queue(member, execution_app, good_rows(3)).pk)
    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["reason"] == "the import could not be completed because of an unexpected error"
    assert "a bug" not in str(job.errors)
    assert not TestExecution.objects.exists()


def test_two_jobs_do_not_share_what_the_importer_loaded(member, execution_app):
    """`begin` keeps lookups on the importer; each run works on its own copy."""
    start = datetime.datetime(2026, 2, 2, 9, 0)  # noqa: DTZ001  (a spreadsheet's UK time)
    first = queue(member, execution_app, good_rows(4, start=start))
    import_job_run(job_id=first.pk)
    registered = imports.importer_for("results")
    assert not hasattr(registered, "seen")
    # The second workbook repeats the first's runs: refused as already recorded, not as "also on row".
    second = import_job_run(job_id=queue(member, execution_app, good_rows(4, start=start)).pk)
    assert second.status == ImportStatus.FAILED
    assert all("already recorded" in p["reason"] for p in second.errors)


# --- the pages --------------------------------------------------------------------------------------------


def test_the_job_page_shows_progress_while_it_runs(member, execution_app, client):
    job = queue(member, execution_app, good_rows(40))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING, total_rows=40, processed_rows=10)
    client.force_login(member)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "results.xlsx" in page and "Checking rows" in page
    assert f'hx-get="/imports/{job.pk}/progress/"' in page and 'hx-trigger="every 1s"' in page
    assert '<progress class="app-progress" id="import-progress-bar" max="100" value="25">' in page
    fragment = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="import-progress"') and "10 of 40 rows checked (25%)" in fragment
    assert "<html" not in fragment


def test_the_finished_job_page_stops_polling_and_says_what_happened(member, execution_app, client):
    job = import_job_run(job_id=queue(member, execution_app, good_rows(5)).pk)
    client.force_login(member)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "5 rows stored" in page and "hx-trigger" not in page
    assert f'href="/applications/{execution_app.pk}/qt/executions/"' in page


def test_nobody_else_sees_a_job(member, execution_app, other_member, client, api_as):
    job = queue(member, execution_app, good_rows(2))
    from portal.core.errors import NotFound

    with pytest.raises(NotFound):
        import_job_get(user=other_member, job_id=job.pk)
    client.force_login(other_member)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/progress/").status_code == 404
    assert api_as(other_member).get(f"/api/v1/imports/{job.pk}").status_code == 404


def test_staff_who_see_the_application_see_its_jobs(member, execution_app, execution_assurer, client):
    job = queue(member, execution_app, good_rows(2))
    client.force_login(execution_assurer)
    assert client.get(f"/imports/{job.pk}/").status_code == 200


# --- the API ------------------------------------------------------------------------------------------------


def test_the_api_queues_and_reports_a_job(member, execution_app, api_as):
    client = api_as(member)
    response = client.post_multipart(
        "/api/v1/imports",
        {
            "kind": "results",
            "application_id": str(execution_app.pk),
            "file": xlsx_upload(results_workbook(good_rows(3))),
        },
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "results" and body["application_id"] == execution_app.pk
    import_job_run(job_id=body["id"])
    status = client.get(f"/api/v1/imports/{body['id']}").json()
    assert status["status"] == "succeeded" and status["stored_rows"] == 3 and status["percent"] == 100


def test_the_api_refuses_bad_requests_and_changes_nothing(member, execution_app, other_member, api_as):
    before, jobs = snapshot(), ImportJob.objects.count()
    upload = xlsx_upload(results_workbook(good_rows(1)))
    missing = api_as(member).post_multipart("/api/v1/imports", {"kind": "results", "file": upload})
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "application"
    wrong = api_as(member).post_multipart(
        "/api/v1/imports", {"kind": "everything", "application_id": str(execution_app.pk), "file": upload}
    )
    assert wrong.status_code == 422
    theirs = api_as(other_member).post_multipart(
        "/api/v1/imports",
        {"kind": "results", "application_id": str(execution_app.pk), "file": xlsx_upload(results_workbook([]))},
    )
    assert theirs.status_code == 404
    assert ImportJob.objects.count() == jobs
    after = snapshot()
    assert (after.executions, after.audit, after.notifications) == (
        before.executions,
        before.audit,
        before.notifications,
    )
