import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.core.errors import InvalidInput
from portal.documents.evidence import check_evidence_file

BAD_FILES = Path(__file__).parent / "bad_files"

# Each file in the corpus and the rule it must be refused under.
EXPECTED_RULE = {
    "binary-named.csv": "type",
    "empty.pdf": "empty",
    "executable-renamed.docx": "type",
    "executable-renamed.pdf": "type",
    "jpeg-named.png": "type",
    "path-traversal.zip": "archive_path",
    "plain-zip-named.xlsx": "type",
    "program.exe": "type",
    "too-many-entries.zip": "archive_entries",
    "truncated.zip": "type",
    "zip-bomb.zip": "archive_size",
}


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in BAD_FILES.iterdir()) == sorted(EXPECTED_RULE)


@pytest.mark.parametrize("name", sorted(EXPECTED_RULE))
def test_every_bad_file_is_refused_naming_its_rule(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_evidence_file(upload(name, (BAD_FILES / name).read_bytes()))
    assert refused.value.details["rule"] == EXPECTED_RULE[name]
    assert name in refused.value.message


@pytest.mark.parametrize(
    "name", ["../secret.pdf", "..\\secret.pdf", "folder/evidence.pdf", ".hidden.pdf", "evi<dence>.pdf", "a\x00.pdf"]
)
def test_names_that_try_to_be_paths_are_refused(name: str) -> None:
    # Django's own upload handling already strips folders; the rule still holds for any other caller.
    class NamedStream(io.BytesIO):
        size = 9

    stream = NamedStream(b"%PDF-1.7\n")
    stream.name = name
    with pytest.raises(InvalidInput) as refused:
        check_evidence_file(stream)
    assert refused.value.details["rule"] == "name"


def test_a_file_over_the_size_limit_is_refused(settings) -> None:
    settings.PORTAL_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(InvalidInput) as refused:
        check_evidence_file(upload("big.txt", b"x" * 1025))
    assert refused.value.details["rule"] == "size"


def test_unpacked_size_is_measured_even_when_headers_are_small(settings) -> None:
    settings.PORTAL_ARCHIVE_MAX_UNPACKED_BYTES = 10_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"a" * 6_000)
        archive.writestr("b.txt", b"b" * 6_000)
    with pytest.raises(InvalidInput) as refused:
        check_evidence_file(upload("two.zip", buffer.getvalue()))
    assert refused.value.details["rule"] == "archive_size"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Requirement", "PIT test", "QT test"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "file_type", "content_type"),
    [
        ("PIT exit report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf", "application/pdf"),
        ("screenshot.PNG", b"\x89PNG\r\n\x1a\n" + bytes(20), "png", "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(20), "jpeg", "image/jpeg"),
        ("rttm.csv", "Requirement,Test\nFR-001,QT-12 — café\n".encode(), "csv", "text/csv"),
        ("notes.txt", b"Evidence notes\n", "txt", "text/plain"),
        ("evidence.zip", b"", "zip", "application/zip"),
        (
            "QAD answers.docx",
            _docx(),
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("RTTM.xlsx", _xlsx(), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_good_files_pass_with_their_detected_type_and_digest(name, content, file_type, content_type) -> None:
    if file_type == "zip":  # built here: an archive of run logs
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("logs/run-1.txt", "passed")
        content = buffer.getvalue()
    checked = check_evidence_file(upload(name, content))
    assert checked.file_type == file_type
    assert checked.content_type == content_type
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
