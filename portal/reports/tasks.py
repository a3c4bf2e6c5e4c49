"""Background jobs of the reports app (thin wrappers: the services do the work)."""

from django_tasks import task


@task()
def generate_portfolio_report(report_id: int) -> None:
    """Render a portfolio report PDF for the user who asked for it."""
    from portal.reports.services import portfolio_report_generate

    portfolio_report_generate(report_id=report_id)


@task()
def refresh_dashboard(user_id: int, route: str, role_group: str, wave: str) -> None:
    """Work the dashboard's figures out again for the user's scope and these filters, and keep them."""
    from portal.reports.selectors import PipelineFilters
    from portal.reports.snapshots import dashboard_refresh

    dashboard_refresh(user_id=user_id, filters=PipelineFilters(route=route, role_group=role_group, wave=wave))
