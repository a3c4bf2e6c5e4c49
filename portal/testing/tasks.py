"""The testing app's background jobs. Thin wrappers: the worker loads what the job names and the
service does the work (and records its outcome), so a job is safe to deliver twice."""

from django_tasks import task


@task()
def generate_completion_report(report_id: int) -> None:
    from portal.testing.reports import completion_report_generate

    completion_report_generate(report_id=report_id)
