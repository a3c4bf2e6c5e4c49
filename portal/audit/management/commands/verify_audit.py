from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit.services import ChainAnchor, audit_verify


def read_anchor(path: str) -> ChainAnchor:
    try:
        return ChainAnchor.from_json(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read the chain head {path}: {error.strerror or error}.") from None
    except ValueError as error:
        raise CommandError(f"Cannot use the chain head {path}: {error}.") from None


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the audit log and report the first broken link. With --against, also "
        "check that the chain still holds the head recorded in an exported copy (manage.py audit_head "
        "export): a chain cut short or rewritten since then fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--against",
            action="append",
            default=[],
            metavar="HEAD_JSON",
            help="An exported chain head kept outside the database; may be given more than once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchors = [read_anchor(path) for path in options["against"]]
        report = audit_verify(anchors=anchors)
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event #{report.broken_at}: {report.reason} "
                f"({report.checked} events verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
        for anchor in anchors:
            self.stdout.write(f"It holds the exported head: event #{anchor.sequence} with hash {anchor.hash}.")
