"""Backing up a populated portal and restoring it into a fresh database, on whichever database the
suite runs on: the restore runs as its own process (`manage.py restore`) against a new database (a
scratch PostgreSQL database, or a new SQLite file) and an empty storage directory, and the result is
checked independently of the restore's own verification. A backup that was changed is refused."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from portal.audit.models import AuditEvent
from portal.documents.models import EvidenceFile
from portal.documents.services import evidence_store
from portal.qualification.models import Application

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def media(settings: Any, tmp_path: Path, transactional_db: None) -> Path:
    """A storage directory of this test's own, so that the backup holds only what the test stored."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def populated(
    media: Path,
    make_application: Callable[..., Application],
    advance: Callable[..., Any],
    member: Any,
    other_org: Any,
    other_member: Any,
) -> None:
    """Applications of two organisations moved on through the real services (the QADs with their
    evidence files, the Director's signature, the audit chain), and more evidence uploaded to each."""
    sit = advance(make_application(route="sit"), stop_before="final_qad")
    other = make_application(organisation=other_org, actor=other_member)
    for application, actor, text in ((sit, member, "Interface test log"), (other, other_member, "Readiness")):
        upload = SimpleUploadedFile("evidence.txt", f"{text} for {application.reference}\n".encode(), "text/plain")
        evidence_store(actor=actor, application=application, upload=upload, purpose="test:backup")
    assert EvidenceFile.objects.count() >= 3
    assert AuditEvent.objects.count() >= 10


@pytest.fixture
def stored(media: Path, make_application: Callable[..., Application], member: Any) -> None:
    """A lighter portal: one application with two evidence files."""
    application = make_application()
    for text in ("Readiness statement", "Interface test log"):
        upload = SimpleUploadedFile("evidence.txt", f"{text}\n".encode(), "text/plain")
        evidence_store(actor=member, application=application, upload=upload, purpose="test:backup")


def _backup(directory: Path) -> str:
    out = Path(directory.parent / f"{directory.name}.out")
    with out.open("w") as stream:
        call_command("backup", str(directory), stdout=stream)
    return out.read_text()


def _scratch_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same engine as the suite's, as a DATABASE_URL."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    server = connection.settings_dict
    name = f"portal_restore_{os.getpid()}"
    environment = {
        **os.environ,
        "PGHOST": str(server["HOST"] or "127.0.0.1"),
        "PGPORT": str(server["PORT"] or 5432),
        "PGUSER": str(server["USER"] or "postgres"),
        "PGPASSWORD": str(server["PASSWORD"] or ""),
    }
    subprocess.run(["dropdb", "--if-exists", "--force", name], env=environment, check=True)
    subprocess.run(["createdb", name], env=environment, check=True)
    password = f":{server['PASSWORD']}" if server["PASSWORD"] else ""
    try:
        yield f"postgres://{environment['PGUSER']}{password}@{environment['PGHOST']}:{environment['PGPORT']}/{name}"
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", name], env=environment, check=False)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[str]:
    yield from _scratch_database(tmp_path)


def _manage(*args: str, database_url: str, media_root: Path, var: Path) -> subprocess.CompletedProcess[str]:
    """`manage.py …` as its own process, against another database and storage directory."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PORTAL_", "AWS_", "DATABASE_", "PYTEST_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url,
        PORTAL_MEDIA_ROOT=str(media_root),
        PORTAL_VAR_DIR=str(var),
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--skip-checks"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _restored_rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    """Read the restored database directly, not through the portal."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as restored:
            return restored.execute(query).fetchall()
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as restored:
        return restored.execute(query).fetchall()


def _live_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _rewrite_manifest(directory: Path, change: Callable[[dict[str, Any]], None]) -> str:
    """What a forger who knows the format would do: change the manifest and hash it again."""
    manifest = json.loads((directory / "manifest.json").read_text())
    change(manifest)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (directory / "manifest.json").write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    (directory / "manifest.json.sha256").write_text(f"{digest}  manifest.json\n")
    return digest


def test_a_backup_restores_into_a_fresh_database_with_every_count_file_and_event(populated, tmp_path, scratch):
    anchor = tmp_path / "head.json"
    call_command("audit_head", "export", "--output", str(anchor))
    backup = tmp_path / "backup"

    output = _backup(backup)

    manifest = json.loads((backup / "manifest.json").read_text())
    assert f"Manifest SHA-256 (keep it with the audit anchors): {_sha256(backup / 'manifest.json')}" in output
    assert manifest["tables"] == _live_counts()
    evidence = list(EvidenceFile.objects.values_list("file", "sha256"))
    assert {name: manifest["files"][name]["sha256"] for name, _ in evidence} == dict(evidence)
    head = json.loads(anchor.read_text())
    assert (manifest["audit"]["sequence"], manifest["audit"]["hash"]) == (head["sequence"], head["hash"])
    assert manifest["audit"]["verified"] and manifest["problems"] == []
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["migrations"]["audit"] == ["0001_initial", "0002_append_only", "0003_request_origin"]

    restored_media, var = tmp_path / "restored-media", tmp_path / "var"
    restored = _manage("restore", str(backup), database_url=scratch, media_root=restored_media, var=var)

    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert "Restored and verified:" in restored.stdout
    # Checked again here, without the restore's own code: rows, evidence files and the audit chain.
    for table, count in _live_counts().items():
        assert _restored_rows(scratch, f'SELECT COUNT(*) FROM "{table}"') == [(count,)], table  # noqa: S608
    restored_evidence = _restored_rows(scratch, "SELECT file, sha256 FROM documents_evidencefile")
    assert sorted(restored_evidence) == sorted(evidence)
    for name, sha256 in restored_evidence:
        assert _sha256(restored_media / name) == sha256
    restored_head = _restored_rows(scratch, "SELECT last_sequence, last_hash FROM audit_auditchainhead")
    assert restored_head == [(head["sequence"], head["hash"])]
    restored_events = _restored_rows(scratch, "SELECT sequence, hash FROM audit_auditevent ORDER BY sequence")
    assert restored_events == list(AuditEvent.objects.order_by("sequence").values_list("sequence", "hash"))

    # A forger replaces an evidence file and rewrites the manifest to match: the backup checks out
    # against its own manifest, but not against the SHA-256 recorded on the evidence row.
    forged = tmp_path / "forged"
    shutil.copytree(backup, forged)
    name = evidence[0][0]
    (forged / "files" / name).write_bytes(b"Something else entirely.\n")
    fake = hashlib.sha256(b"Something else entirely.\n").hexdigest()
    digest = _rewrite_manifest(forged, lambda m: m["files"][name].update(sha256=fake, size=25))
    assert digest != _sha256(backup / "manifest.json")

    replaced = _manage("restore", "--force", str(forged), database_url=scratch, media_root=restored_media, var=var)

    assert replaced.returncode != 0
    assert "The restored portal does not match the backup" in replaced.stderr
    assert f"{name} does not have the SHA-256 recorded on the row" in replaced.stderr


# Each change to a backup, and what the refusal says about it.
TAMPERING: dict[str, tuple[Callable[[Path], None], str]] = {}


def tampering(expected: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(change: Callable[[Path], None]) -> Callable[[Path], None]:
        TAMPERING[change.__name__.strip("_").replace("_", "-")] = (change, expected)
        return change

    return register


def _first_file(backup: Path) -> Path:
    return next(path for path in sorted((backup / "files").rglob("*")) if path.is_file())


@tampering("does not match the manifest (SHA-256 or size)")
def _changed_file(backup: Path) -> None:
    path = _first_file(backup)
    path.write_bytes(path.read_bytes().replace(b"e", b"3", 1))


@tampering("is missing from the backup")
def _removed_file(backup: Path) -> None:
    _first_file(backup).unlink()


@tampering("is in the backup but not in the manifest")
def _added_file(backup: Path) -> None:
    (backup / "files" / "evidence" / "planted.txt").write_bytes(b"planted")


@tampering("The database dump database.")
def _changed_dump(backup: Path) -> None:
    dump = next(backup.glob("database.*"))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))


@tampering("manifest.json does not match manifest.json.sha256")
def _changed_manifest(backup: Path) -> None:
    path = backup / "manifest.json"
    path.write_text(path.read_text().replace('"verified": true', '"verified": false'))


@tampering("is not a complete backup")
def _removed_manifest_hash(backup: Path) -> None:
    (backup / "manifest.json.sha256").unlink()


def test_a_changed_backup_is_refused_before_anything_is_restored(stored, tmp_path):
    backup = tmp_path / "backup"
    _backup(backup)
    call_command("restore", "--check-only", str(backup), stdout=open(os.devnull, "w"))  # noqa: SIM115
    good_digest = _sha256(backup / "manifest.json")

    for name, (tamper, expected) in TAMPERING.items():
        copy = tmp_path / name
        shutil.copytree(backup, copy)
        tamper(copy)
        for command in (["restore", str(copy)], ["restore", "--check-only", str(copy)]):
            with pytest.raises(CommandError, match="Nothing restored") as refused:
                call_command(*command)
            assert expected in str(refused.value), (name, str(refused.value))

    # A manifest rewritten consistently is still refused against the hash noted when it was taken.
    forged = tmp_path / "forged"
    shutil.copytree(backup, forged)
    _rewrite_manifest(forged, lambda m: m["tables"].update(audit_auditevent=0))
    with pytest.raises(CommandError, match=f"not the {good_digest} recorded when the backup was taken"):
        call_command("restore", "--expect-manifest-sha256", good_digest, str(forged))

    # The untouched backup is refused too, here, because this database is not empty.
    with pytest.raises(CommandError, match="is not empty: a backup is restored into an empty database"):
        call_command("restore", str(backup))


def test_a_backup_refuses_a_directory_that_is_not_empty(media, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "something").write_text("kept")

    with pytest.raises(CommandError, match="is not empty: a backup is written into a new or empty directory"):
        call_command("backup", str(tmp_path / "backup"))

    assert (tmp_path / "backup" / "something").read_text() == "kept"


def test_a_backup_reports_evidence_missing_from_the_storage(stored, tmp_path):
    lost = EvidenceFile.objects.order_by("pk").first()
    assert lost is not None
    default_storage.delete(lost.file.name)

    with pytest.raises(CommandError, match="The backup was written, but the live data has problems") as failed:
        _backup(tmp_path / "backup")

    assert f"documents.evidencefile #{lost.pk} (file) refers to {lost.file.name}" in str(failed.value)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert len(manifest["problems"]) == 1


def test_files_on_s3_are_backed_up_and_restored_through_the_storage_api(stored, tmp_path, monkeypatch):
    """The same commands with evidence in S3 (moto's in-process S3): every object is read into the
    backup through the storage API and written back into an empty bucket, and the result verifies."""
    from moto import mock_aws
    from storages.backends.s3 import S3Storage

    from portal.backup.services import _restore_files, backup_create, restore_verify

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "backup-test")
    with mock_aws():
        import boto3

        client = boto3.client("s3", region_name="eu-west-2")
        for bucket in ("live", "restored"):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        options = {"region_name": "eu-west-2", "file_overwrite": False, "location": "portal"}
        live, restored = S3Storage(bucket_name="live", **options), S3Storage(bucket_name="restored", **options)
        names = [name for name, _ in EvidenceFile.objects.values_list("file", "sha256")]
        for name in names:  # the evidence as it would be in the bucket
            with default_storage.open(name, "rb") as file:
                assert live.save(name, file) == name

        result = backup_create(directory=tmp_path / "backup", storage=live)

        assert sorted(result.manifest["files"]) == sorted(names) and result.problems == []
        assert _restore_files(result.manifest, tmp_path / "backup", restored, force=False) == []
        keys = {item["Key"] for item in client.list_objects_v2(Bucket="restored")["Contents"]}
        assert keys == {f"portal/{name}" for name in names}
        report = restore_verify(result.manifest, storage=restored)
        assert report.ok, report.problems
        assert report.files == report.files_checked_against_rows == len(names)
