"""Dumping and restoring the database, for each engine the portal runs on.

PostgreSQL: `pg_dump --format=custom` from a snapshot the portal exports, so that the dump and the
manifest (row counts, file references, audit head) describe exactly the same moment; `pg_restore` in
one transaction. SQLite: the online backup API from inside a read transaction (never a copy of the
file of a live database, which can be torn)."""

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.backends.postgresql.client import DatabaseClient as PostgresClient

T = TypeVar("T")

DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
SUPPORTED = tuple(DUMP_NAMES)


class DatabaseToolError(Exception):
    """A dump or restore that the database tool refused; the message says why."""


def vendor() -> str:
    return connection.vendor


def _pg_environment() -> dict[str, str]:
    """Where and as whom the client tools connect: the portal's own database settings, passed in the
    environment (the password never appears on a command line)."""
    settings_dict = connection.settings_dict
    _, env = PostgresClient.settings_to_cmd_args_env(settings_dict, [])
    environment = {**os.environ, **(env or {})}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGDATABASE", "NAME")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    return environment


def _run(command: list[str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise DatabaseToolError(f"{command[0]} is not installed (the PostgreSQL client tools are needed).")
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [tool, *command[1:]], env=_pg_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DatabaseToolError(f"{command[0]} failed (exit {result.returncode}): {result.stderr.strip()}")


def tool_version() -> str:
    if vendor() == "postgresql":
        tool = shutil.which("pg_dump")
        if tool is None:
            return "pg_dump not installed"
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        return out.stdout.strip()
    return f"sqlite3 {sqlite3.sqlite_version} online backup API"


def server_version() -> str:
    with connection.cursor() as cursor:
        if vendor() == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


@contextmanager
def _postgres_snapshot() -> Iterator[str]:
    """A read-only, repeatable-read transaction whose snapshot pg_dump shares."""
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        yield str(cursor.fetchone()[0])


@contextmanager
def _sqlite_read_transaction() -> Iterator[sqlite3.Connection]:
    """A deferred read transaction on the portal's own connection: every query made in it, and the
    online backup, see the same state. (Django's own transactions begin IMMEDIATE, which would take
    the write lock and stall the backup.)"""
    connection.ensure_connection()
    raw: Any = connection.connection
    raw.execute("BEGIN DEFERRED")
    try:
        raw.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        yield raw
    finally:
        raw.execute("COMMIT")


def dump(target: Path, describe: Callable[[], T]) -> T:
    """Write the database to `target` and return what `describe()` reads, both from one snapshot."""
    if connection.in_atomic_block:
        raise DatabaseToolError("A backup must run on its own, outside any transaction.")
    if vendor() == "postgresql":
        with _postgres_snapshot() as snapshot:
            described = describe()
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"])
        return described
    if vendor() == "sqlite":
        with _sqlite_read_transaction() as raw:
            described = describe()
            copy = sqlite3.connect(target)
            try:
                raw.backup(copy)
            finally:
                copy.close()
        return described
    raise DatabaseToolError(f"Backups of {vendor()} databases are not supported.")


def is_empty() -> bool:
    return not connection.introspection.table_names()


def _drop_everything() -> None:
    """For --force: remove every table of the target database (and what depends on them)."""
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        if vendor() == "postgresql":
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")


def load(source: Path, *, force: bool) -> None:
    """Restore the dump at `source` into the portal's database, which must be empty unless `force`."""
    if vendor() == "postgresql":
        if force:
            _drop_everything()
        connection.close()
        database = str(connection.settings_dict["NAME"])
        options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if force:
            options += ["--clean", "--if-exists"]
        _run(["pg_restore", *options, f"--dbname={database}", str(source)])
        return
    if vendor() == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise DatabaseToolError("Restoring needs a database file, not an in-memory database.")
        connection.close()
        backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(name)
        try:
            # The backup API replaces every page of the target: --force needs nothing more.
            backup.backup(target)
        finally:
            target.close()
            backup.close()
        return
    raise DatabaseToolError(f"Restoring into {vendor()} databases is not supported.")


def missing_append_only_triggers() -> list[str]:
    """The append-only triggers that PostgreSQL should hold and does not (empty elsewhere)."""
    if vendor() != "postgresql":
        return []
    expected = {
        "audit_event_no_update_delete": "audit_auditevent",
        "registry_entry_append_only": "registry_registerentry",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
        )
        present = {(name, table) for name, table in cursor.fetchall()}
    return [f"{name} on {table}" for name, table in expected.items() if (name, table) not in present]
