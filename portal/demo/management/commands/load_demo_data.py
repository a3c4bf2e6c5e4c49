import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.core.errors import ApplicationError
from portal.demo.services import demo_data_load


class Command(BaseCommand):
    help = (
        "Load the demo data set: organisations with MPIDs and people, a demo user for every role and "
        "applications at every stage. Adds only what is missing, so it is safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load even under the production settings (demo accounts share a published password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings_module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE", "")
        if settings_module.endswith(".production") and not options["allow_production"]:
            raise CommandError(
                "Refusing to load demo data under the production settings: every demo account shares a "
                "published password. Pass --allow-production for a demonstration site."
            )
        try:
            report = demo_data_load()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

        if not report.added_anything:
            self.stdout.write(
                f"Demo data already loaded: nothing added ({report.applications_present} demo applications present)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {report.organisations} organisations, {report.mpids} MPIDs, "
                f"{report.users} users, {report.memberships} memberships and "
                f"{len(report.applications)} applications added."
            )
        )
        for application, spec in report.applications:
            self.stdout.write(
                f"  {application.reference}  {spec.organisation}, {spec.mpid} {spec.market_role}: "
                f"{application.get_status_display()} ({spec.stage})"
            )
        if report.applications_present:
            self.stdout.write(f"  {report.applications_present} demo applications were already present.")
        self.stdout.write("Run `manage.py demo_logins` for the logins.")
