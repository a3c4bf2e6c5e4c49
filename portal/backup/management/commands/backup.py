from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup.services import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database and every stored file into DIRECTORY (new or empty): a database dump "
        "(pg_dump custom format, or SQLite's online backup), the files read through the storage API, and "
        "a manifest with row counts, every file's SHA-256, the audit chain head and the migration state. "
        "Exits non-zero if the backup could not be made or if it found a problem in the live data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="Where to write the backup; created if missing, must be empty.")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        try:
            result = backup_create(directory=directory)
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        audit = manifest["audit"]
        self.stdout.write(
            f"Backup written to {directory}: {manifest['database']['vendor']} dump "
            f"({manifest['database']['size']} bytes), {len(manifest['tables'])} tables "
            f"({sum(manifest['tables'].values())} rows), {len(manifest['files'])} files, "
            f"audit chain head #{audit['sequence']} {audit['hash']}."
        )
        self.stdout.write(f"Manifest SHA-256 (keep it with the audit anchors): {result.manifest_sha256}")
        if result.problems:
            raise CommandError(
                "The backup was written, but the live data has problems:\n- " + "\n- ".join(result.problems)
            )
        self.stdout.write(self.style.SUCCESS("Backup complete."))
