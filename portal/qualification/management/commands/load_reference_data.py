from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from portal.qualification.reference_data import reference_data_load


class Command(BaseCommand):
    help = (
        "Load the shipped reference data (role groups, market roles, approval matrix, routes and their "
        "task definitions). Adds only what is missing unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Put every shipped row back to its shipped values.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            created = reference_data_load(reset=options["reset"])
        summary = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in created.items())
        self.stdout.write(f"Reference data loaded ({summary} added).")
