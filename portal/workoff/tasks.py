"""Background jobs of the work-off app."""

from django_tasks import task


@task()
def send_workoff_reminders() -> int:
    """Thin wrapper: remind people of agreed items due soon, due today or overdue (see the service).
    Returns how many reminders were sent."""
    from portal.workoff.services import workoff_reminders_send

    return workoff_reminders_send().sent
