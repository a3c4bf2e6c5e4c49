"""`manage.py generate_pab_meetings`: add the BSC PAB meetings of the months ahead from the meeting rule.
Run daily or monthly from cron; idempotent (see `pab_meetings_generate`)."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.approvals.services import pab_meetings_generate
from portal.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Generate the BSC PAB meetings of the months ahead from the meeting rule (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Generate as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date must be a date as YYYY-MM-DD, not {options['date']!r}.") from exc
        try:
            report = pab_meetings_generate(actor=None, today=today)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"BSC PAB meetings: {len(report.created)} added, {len(report.realigned)} moved to follow the rule, "
            f"{len(report.adopted)} extra meetings taken as their month's, {len(report.kept)} left as they were."
        )
        for meeting in report.created:
            self.stdout.write(f"  added {meeting.date:%a %d %b %Y}, papers due {meeting.paper_deadline:%a %d %b %Y}")
