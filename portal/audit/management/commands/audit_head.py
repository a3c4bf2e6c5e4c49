import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit.services import audit_anchor, audit_verify


class Command(BaseCommand):
    help = (
        "Export the head of the audit chain (sequence, hash, time, event count) to keep outside the "
        "database, for example daily on write-once storage. `verify_audit --against FILE` later proves "
        "that the chain still holds it. The chain is verified first; a broken chain is not exported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="export")
        export = actions.add_parser("export", help="Verify the chain and write its head as JSON.")
        export.add_argument("--output", "-o", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"Not exported: the audit chain is broken at event #{report.broken_at}: {report.reason}."
            )
        text = audit_anchor(report).to_json()
        output = options.get("output")
        if not output:
            self.stdout.write(text, ending="")
            return
        target = Path(output)
        # Written whole or not at all: a half-written anchor must never replace a good one.
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error.strerror or error}.") from None
        self.stderr.write(f"Audit chain head #{report.last_sequence} ({report.checked} events) written to {target}.")
