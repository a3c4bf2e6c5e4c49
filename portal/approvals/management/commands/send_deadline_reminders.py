"""`manage.py send_deadline_reminders`: run daily from cron. Safe to run as often as you like: each
reminder about a deadline reaches each person once (see `deadline_reminders_send`)."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.approvals.services import deadline_reminders_send
from portal.approvals.tasks import send_deadline_reminders


class Command(BaseCommand):
    help = "Remind participants and Elexon analysts of deadlines due soon, due today or overdue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand the job to the task worker instead of running it now."
        )
        parser.add_argument(
            "--date", help="Run as if today were this date (YYYY-MM-DD), e.g. to catch up a missed day."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            if options["date"]:
                raise CommandError("--date cannot be used with --enqueue.")
            result = send_deadline_reminders.enqueue()
            self.stdout.write(f"Deadline reminders queued as job {result.id}.")
            return
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date must be a date as YYYY-MM-DD, not {options['date']!r}.") from exc
        report = deadline_reminders_send(today=today)
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(report.by_kind.items())) or "none"
        self.stdout.write(
            f"Deadline reminders for {report.day.isoformat()}: {report.sent} sent about {report.deadlines} "
            f"deadlines ({kinds})."
        )
