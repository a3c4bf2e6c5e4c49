"""Background jobs of the approvals app (thin wrappers: the services do the work)."""

from django_tasks import task


@task()
def send_deadline_reminders() -> int:
    """Remind people of deadlines due soon, due today or overdue. Returns how many reminders were sent."""
    from portal.approvals.services import deadline_reminders_send

    return deadline_reminders_send().sent


@task()
def generate_pab_meetings() -> int:
    """Add the BSC PAB meetings of the months ahead. Returns how many were added."""
    from portal.approvals.services import pab_meetings_generate

    return len(pab_meetings_generate(actor=None).created)
