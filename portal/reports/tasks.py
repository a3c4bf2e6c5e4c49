"""Background jobs of the reports app (thin wrappers: the services do the work)."""

from django_tasks import task


@task()
def generate_portfolio_report(report_id: int) -> None:
    """Render a portfolio report PDF for the user who asked for it."""
    from portal.reports.services import portfolio_report_generate

    portfolio_report_generate(report_id=report_id)
