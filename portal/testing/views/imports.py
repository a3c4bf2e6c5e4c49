"""The page of one background workbook import: its progress while it runs (the progress fragment
polls itself with htmx every second, and works without JavaScript by reloading), then either what was
stored or every problem with its row, column and reason."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from portal.core.errors import NotFound
from portal.core.pages import portal_page
from portal.testing.imports import FINISHED, import_job_get, import_percent, importer_for
from portal.testing.models import ImportJob


def _context(job: ImportJob) -> dict[str, object]:
    try:
        # Where the imported rows are shown (the executions page for results), when not this page.
        done_link = importer_for(job.kind).link(job)
    except NotFound:
        done_link = ""
    return {
        "nav": "applications" if job.application_id else "catalogue",
        "job": job,
        "application": job.application,
        "finished": job.status in FINISHED,
        "percent": import_percent(job),
        "done_link": "" if done_link == f"/imports/{job.pk}/" else done_link,
    }


@require_GET
@portal_page
def import_job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    return render(request, "testing/import_job.html", _context(job))


@require_GET
@portal_page
def import_job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    return render(request, "testing/_import_progress.html", _context(job))


urlpatterns = [
    path("imports/<int:job_id>/", import_job_page, name="import_job"),
    path("imports/<int:job_id>/progress/", import_job_progress, name="import_job_progress"),
]
