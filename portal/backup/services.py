"""Backing up the portal (its database and every stored file) and restoring it, with proof.

A backup is a directory:

    manifest.json          what the backup holds (below), written last
    manifest.json.sha256   the SHA-256 of manifest.json, in `sha256sum -c` format
    database.dump          pg_dump --format=custom (PostgreSQL), or database.sqlite3 (SQLite)
    files/<name>           every file of the default storage, under its storage name

The manifest records the database dump's SHA-256, the row count of every table, every stored file's
SHA-256 and size, the audit chain head (sequence and hash, verified when the backup was taken), the
applied migrations, the portal version and the time. The row counts, the audit head and the file
references come from the same database snapshot as the dump.

A restore first checks the backup against its manifest (and the manifest against its hash, and against
a hash kept elsewhere if given), then loads the database into an empty one, writes the files back
through the storage API, and proves the result: row counts as in the manifest, every file as in the
manifest and as recorded on the row that references it, the audit chain intact and ending at the
manifest's head.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from portal.audit.services import audit_verify
from portal.backup import database

FORMAT = "mhhs-portal-backup/1"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.json.sha256"
FILES = "files"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup that cannot be made, or a backup that must not be restored; the message says why."""


# --- helpers ---------------------------------------------------------------------------------------


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _hash_stored(storage: Storage, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with storage.open(name, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _stored_names(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file of the storage, through the storage API (a directory tree on disk, keys on S3)."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from _stored_names(storage, f"{path}/{directory}" if path else directory)


def _safe_name(name: str) -> bool:
    """A storage name that stays inside the backup's files directory."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name and "\0" not in name


def _file_models() -> list[tuple[type[models.Model], list[models.FileField], bool]]:
    """Every model with a file field, its file fields, and whether it records the file's SHA-256 (a
    `sha256` field next to its only file field)."""
    found = []
    for model in apps.get_models():
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not file_fields:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        found.append((model, file_fields, len(file_fields) == 1 and "sha256" in names))
    return found


def _file_references() -> list[dict[str, Any]]:
    """Every stored file a row refers to, with the SHA-256 the row recorded for it (if any)."""
    references = []
    for model, file_fields, has_sha256 in _file_models():
        columns = ["pk", *(f.name for f in file_fields)] + (["sha256"] if has_sha256 else [])
        for row in model._default_manager.order_by("pk").values_list(*columns):
            for index, file_field in enumerate(file_fields, start=1):
                if row[index]:
                    references.append(
                        {
                            "model": model._meta.label_lower,
                            "pk": row[0],
                            "field": file_field.name,
                            "name": str(row[index]),
                            "sha256": row[-1] if has_sha256 else "",
                        }
                    )
    return references


def _table_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table name
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def _portal_version() -> str:
    try:
        return metadata.version("mhhs-qualification-portal")
    except metadata.PackageNotFoundError:
        pass
    try:
        import tomllib

        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


def _now() -> str:
    return timezone.now().replace(microsecond=0).isoformat()


# --- backup ----------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    directory: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    problems: list[str] = field(default_factory=list)


def _describe_database() -> dict[str, Any]:
    """What the manifest says about the database, read in the dump's snapshot."""
    report = audit_verify()
    return {
        "tables": _table_counts(),
        "migrations": _applied_migrations(),
        "references": _file_references(),
        "audit": {
            "sequence": report.last_sequence,
            "hash": report.last_hash,
            "events": report.checked,
            "verified": report.ok,
            "problem": "" if report.ok else f"broken at event #{report.broken_at}: {report.reason}",
        },
    }


def backup_create(*, directory: Path, storage: Storage | None = None) -> BackupResult:
    """Write a backup of the database and the stored files into `directory` (new or empty).

    Problems found on the way (a referenced file missing from storage, a file whose content no longer
    matches the SHA-256 on its row, an audit chain that does not verify) do not stop the backup: they
    are recorded in the manifest and returned, so that the caller can raise the alarm."""
    storage = storage or default_storage
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup is written into a new or empty directory.")
    vendor = database.vendor()
    if vendor not in database.SUPPORTED:
        raise BackupError(f"Backups of {vendor} databases are not supported.")
    (directory / FILES).mkdir(parents=True, exist_ok=True)
    started = _now()
    dump_path = directory / database.DUMP_NAMES[vendor]
    try:
        described = database.dump(dump_path, _describe_database)
    except database.DatabaseToolError as error:
        raise BackupError(f"The database could not be dumped: {error}") from None
    dump_sha256, dump_size = _hash_file(dump_path)

    # The files after the snapshot: a file is stored before the row that refers to it is committed and
    # is never changed or removed, so every file the snapshot refers to is there (and perhaps a few new).
    files: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name in _stored_names(storage):
        if not _safe_name(name):
            problems.append(f"Stored file {name!r} has a name that cannot be backed up; left out.")
            continue
        target = directory / FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with storage.open(name, "rb") as source, target.open("wb") as copy:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                copy.write(chunk)
        files[name] = {"sha256": digest.hexdigest(), "size": size}

    for reference in described["references"]:
        stored = files.get(reference["name"])
        where = f"{reference['model']} #{reference['pk']} ({reference['field']})"
        if stored is None:
            problems.append(f"{where} refers to {reference['name']}, which is not in the storage.")
        elif reference["sha256"] and reference["sha256"] != stored["sha256"]:
            problems.append(f"{where}: {reference['name']} no longer has the SHA-256 recorded on the row.")
    if not described["audit"]["verified"]:
        problems.append(f"The audit chain does not verify: {described['audit']['problem']}.")

    manifest = {
        "format": FORMAT,
        "started_at": started,
        "finished_at": _now(),
        "portal_version": _portal_version(),
        "database": {
            "vendor": vendor,
            "file": dump_path.name,
            "sha256": dump_sha256,
            "size": dump_size,
            "tool": database.tool_version(),
            "server_version": database.server_version(),
        },
        "migrations": described["migrations"],
        "tables": described["tables"],
        "audit": described["audit"],
        "files": files,
        "references": described["references"],
        "problems": problems,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    manifest_sha256 = hashlib.sha256(text.encode()).hexdigest()
    (directory / MANIFEST).write_text(text, encoding="utf-8")
    (directory / MANIFEST_HASH).write_text(f"{manifest_sha256}  {MANIFEST}\n", encoding="utf-8")
    return BackupResult(directory, manifest, manifest_sha256, problems)


# --- checking a backup -----------------------------------------------------------------------------


def backup_check(*, directory: Path, expected_manifest_sha256: str = "") -> dict[str, Any]:
    """The manifest of the backup in `directory`, once every byte of the backup has been checked
    against it; BackupError listing every difference otherwise."""
    manifest_path, hash_path = directory / MANIFEST, directory / MANIFEST_HASH
    if not manifest_path.is_file() or not hash_path.is_file():
        raise BackupError(f"{directory} is not a complete backup: {MANIFEST} or {MANIFEST_HASH} is missing.")
    manifest_bytes = manifest_path.read_bytes()
    actual = hashlib.sha256(manifest_bytes).hexdigest()
    recorded = hash_path.read_text(encoding="utf-8").split()[:1]
    if recorded != [actual]:
        raise BackupError(f"{MANIFEST} does not match {MANIFEST_HASH}: the manifest was changed or damaged.")
    if expected_manifest_sha256 and expected_manifest_sha256.lower() != actual:
        raise BackupError(
            f"{MANIFEST} has SHA-256 {actual}, not the {expected_manifest_sha256} recorded when the backup "
            "was taken: the backup was changed."
        )
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise BackupError(f"{MANIFEST} is not JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is not a portal backup manifest (format {FORMAT}).")

    problems: list[str] = []
    dump = manifest["database"]
    dump_path = directory / str(dump["file"])
    if dump["file"] not in database.DUMP_NAMES.values() or not dump_path.is_file():
        problems.append(f"The database dump {dump['file']} is missing.")
    elif _hash_file(dump_path) != (dump["sha256"], dump["size"]):
        problems.append(f"The database dump {dump['file']} does not match the manifest (SHA-256 or size).")

    files_root = directory / FILES
    listed = manifest["files"]
    for name, expected in sorted(listed.items()):
        path = files_root / name
        if not _safe_name(name):
            problems.append(f"The manifest lists a file with an unsafe name: {name!r}.")
        elif not path.is_file():
            problems.append(f"File {name} is missing from the backup.")
        elif _hash_file(path) != (expected["sha256"], expected["size"]):
            problems.append(f"File {name} does not match the manifest (SHA-256 or size).")
    if files_root.is_dir():
        for path in sorted(files_root.rglob("*")):
            name = path.relative_to(files_root).as_posix()
            if path.is_file() and name not in listed:
                problems.append(f"File {name} is in the backup but not in the manifest.")
    if problems:
        raise BackupError("The backup does not match its manifest:\n- " + "\n- ".join(problems))
    return manifest


# --- restore ---------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    tables: int = 0
    rows: int = 0
    files: int = 0
    files_checked_against_rows: int = 0
    audit_events: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _restore_files(manifest: dict[str, Any], directory: Path, storage: Storage, force: bool) -> list[str]:
    problems = []
    for name, expected in sorted(manifest["files"].items()):
        if storage.exists(name):
            if _hash_stored(storage, name)[0] == expected["sha256"]:
                continue
            if not force:
                problems.append(f"File {name} is already in the storage with other content; not replaced.")
                continue
            storage.delete(name)
        with (directory / FILES / name).open("rb") as source:
            saved = storage.save(name, File(source, name=PurePosixPath(name).name))
        if saved != name:
            problems.append(f"File {name} was stored as {saved}.")
    return problems


def restore_verify(manifest: dict[str, Any], *, storage: Storage | None = None) -> RestoreReport:
    """Compare the portal's database and storage with a backup's manifest."""
    storage = storage or default_storage
    report = RestoreReport(manifest)
    problems = report.problems

    counts = _table_counts()
    expected_counts: dict[str, int] = manifest["tables"]
    for table, expected in sorted(expected_counts.items()):
        actual = counts.get(table)
        if actual is None:
            problems.append(f"Table {table} is missing.")
        elif actual != expected:
            problems.append(f"Table {table} has {actual} rows; the backup had {expected}.")
    for table in sorted(set(counts) - set(expected_counts)):
        problems.append(f"Table {table} is not in the backup.")
    report.tables, report.rows = len(counts), sum(counts.values())

    listed: dict[str, dict[str, Any]] = manifest["files"]
    for name, recorded in sorted(listed.items()):
        if not storage.exists(name):
            problems.append(f"File {name} is not in the storage.")
        elif _hash_stored(storage, name) != (recorded["sha256"], recorded["size"]):
            problems.append(f"File {name} in the storage does not match the manifest.")
        else:
            report.files += 1
    for reference in _file_references():
        where = f"{reference['model']} #{reference['pk']} ({reference['field']})"
        stored = listed.get(reference["name"])
        if stored is None:
            problems.append(f"{where} refers to {reference['name']}, which the backup does not hold.")
        elif reference["sha256"]:
            if reference["sha256"] != stored["sha256"]:
                problems.append(f"{where}: {reference['name']} does not have the SHA-256 recorded on the row.")
            else:
                report.files_checked_against_rows += 1

    chain = audit_verify()
    head = manifest["audit"]
    report.audit_events = chain.checked
    if not chain.ok:
        problems.append(f"The audit chain is broken at event #{chain.broken_at}: {chain.reason}.")
    elif (chain.last_sequence, chain.last_hash) != (head["sequence"], head["hash"]):
        problems.append(
            f"The audit chain ends at event #{chain.last_sequence} ({chain.last_hash}); the backup's ends at "
            f"#{head['sequence']} ({head['hash']})."
        )
    for trigger in database.missing_append_only_triggers():
        problems.append(f"The append-only trigger {trigger} is missing.")

    if _applied_migrations() != manifest["migrations"]:
        problems.append("The applied migrations differ from the backup's.")
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        report.notes.append(
            "This version of the portal has migrations the backup has not applied: run `manage.py migrate`."
        )
    if manifest.get("problems"):
        report.notes.append(f"The backup recorded {len(manifest['problems'])} problem(s) when it was taken.")
    return report


def backup_restore(
    *, directory: Path, force: bool = False, expected_manifest_sha256: str = "", storage: Storage | None = None
) -> RestoreReport:
    """Check the backup, load it into the portal's (empty) database and storage, and prove the result."""
    storage = storage or default_storage
    manifest = backup_check(directory=directory, expected_manifest_sha256=expected_manifest_sha256)
    vendor = database.vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"The backup holds a {manifest['database']['vendor']} database; the portal is configured for {vendor}."
        )
    if connection.in_atomic_block:
        raise BackupError("A restore must run on its own, outside any transaction.")
    if not database.is_empty() and not force:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty: a backup is restored into an empty "
            "database. Create a new one, or give --force to replace everything in this one."
        )
    try:
        database.load(directory / manifest["database"]["file"], force=force)
    except database.DatabaseToolError as error:
        raise BackupError(f"The database could not be restored: {error}") from None
    file_problems = _restore_files(manifest, directory, storage, force)
    report = restore_verify(manifest, storage=storage)
    report.problems[:0] = file_problems
    return report


def environment_summary() -> str:
    """Where a restore will write, for the command to show before it starts."""
    storage: Any = default_storage
    bucket = getattr(storage, "bucket_name", "")
    where = f"s3://{bucket}/{storage.location}" if bucket else str(getattr(storage, "location", ""))
    return f"the {connection.vendor} database {connection.settings_dict['NAME']} and the storage {where}"
