from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup.services import BackupError, backup_check, backup_restore, environment_summary


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database and the configured storage, "
        "then prove it: row counts as in the manifest, every file's SHA-256 as in the manifest and on its "
        "row, the audit chain intact and ending at the backed-up head. The backup itself is checked "
        "against its manifest before anything is written. Exits non-zero with a report on any mismatch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="A backup directory written by `manage.py backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace everything in a database that is not empty, and stored files that differ.",
        )
        parser.add_argument(
            "--expect-manifest-sha256",
            default="",
            metavar="HEX",
            help="The manifest SHA-256 printed when the backup was taken; refuse a backup whose manifest differs.",
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Only check the backup against its manifest; restore nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        expected = options["expect_manifest_sha256"]
        try:
            if options["check_only"]:
                manifest = backup_check(directory=directory, expected_manifest_sha256=expected)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Backup {directory} matches its manifest: database dump and "
                        f"{len(manifest['files'])} files, taken {manifest['finished_at']}."
                    )
                )
                return
            self.stdout.write(f"Restoring {directory} into {environment_summary()}.")
            report = backup_restore(directory=directory, force=options["force"], expected_manifest_sha256=expected)
        except BackupError as error:
            raise CommandError(f"Nothing restored. {error}") from None
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        if not report.ok:
            raise CommandError(
                f"The restored portal does not match the backup ({len(report.problems)} problem(s)):\n- "
                + "\n- ".join(report.problems)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified: {report.tables} tables ({report.rows} rows) with the backup's row "
                f"counts; {report.files} files with the backup's SHA-256, {report.files_checked_against_rows} "
                f"of them also as recorded on their rows; audit chain intact, {report.audit_events} events, "
                f"ending at the backed-up head #{report.manifest['audit']['sequence']}."
            )
        )
