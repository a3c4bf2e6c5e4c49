"""`manage.py requeue_stale_email --older-than-minutes 15`: give a new send job to every e-mail that is
still unsent after the threshold and has no pending job (its worker died, or sending failed), at most
`MAX_ATTEMPTS` jobs per e-mail in all. Run it from cron every few minutes; safe to run again or twice at
once (see `email_requeue_stale`). Fails (status 1) when some e-mail has been given up on, so that cron's
mail or the monitoring notices."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.notifications.services import MAX_ATTEMPTS, email_requeue_stale


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Queue again the e-mails that are still unsent after a while and have no pending job."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=_positive,
            default=15,
            help="Only e-mails created at least this long ago (default 15); a job running longer than this "
            "is taken to belong to a worker that died.",
        )
        parser.add_argument(
            "--max-attempts",
            type=_positive,
            default=MAX_ATTEMPTS,
            help=f"Jobs per e-mail in all before it is left failed (default {MAX_ATTEMPTS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = email_requeue_stale(
            older_than=timedelta(minutes=options["older_than_minutes"]), max_attempts=options["max_attempts"]
        )
        self.stdout.write(f"Requeued {len(report.requeued)} e-mails.")
        for label in report.requeued:
            self.stdout.write(f"  requeued {label}")
        if report.given_up:
            for label in report.given_up:
                self.stderr.write(f"  not sent: {label}")
            raise CommandError(
                f"{len(report.given_up)} e-mails were not sent after {options['max_attempts']} attempts and are "
                "left failed; see their last error in the admin."
            )
