"""Checking an evidence file before anything stores it.

Every rule a file can break has its own message, naming the rule, so a participant knows what to fix:
the name must be a plain file name; the file must not be empty or larger than the limit; its content
must be one of the allowed types *and* match its extension (a renamed executable is not a PDF); and an
archive (ZIP, and the ZIP inside DOCX and XLSX) is checked for its entry count, entry names and
unpacked size before anything opens it for use, reading its entries through a bounded stream so a
"zip bomb" that lies in its headers is caught too.
"""

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings

from portal.core.errors import InvalidInput

READ_CHUNK = 1024 * 1024


class FileType:
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    CSV = "csv"
    PNG = "png"
    JPEG = "jpeg"
    TXT = "txt"
    ZIP = "zip"


CONTENT_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileType.CSV: "text/csv",
    FileType.PNG: "image/png",
    FileType.JPEG: "image/jpeg",
    FileType.TXT: "text/plain",
    FileType.ZIP: "application/zip",
}
EXTENSIONS = {
    ".pdf": FileType.PDF,
    ".docx": FileType.DOCX,
    ".xlsx": FileType.XLSX,
    ".csv": FileType.CSV,
    ".png": FileType.PNG,
    ".jpg": FileType.JPEG,
    ".jpeg": FileType.JPEG,
    ".txt": FileType.TXT,
    ".zip": FileType.ZIP,
}
ALLOWED_LIST = "PDF, DOCX, XLSX, CSV, PNG, JPEG, TXT or ZIP"


@dataclass(frozen=True)
class CheckedFile:
    name: str
    file_type: str
    content_type: str
    size: int
    sha256: str


def _limits() -> tuple[int, int, int]:
    return (
        int(getattr(settings, "PORTAL_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
        int(getattr(settings, "PORTAL_ARCHIVE_MAX_ENTRIES", 1000)),
        int(getattr(settings, "PORTAL_ARCHIVE_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)),
    )


def check_name(name: str) -> str:
    """The uploaded name is kept as data only; a name that tries to be a path is refused."""
    if not name or not name.strip():
        raise InvalidInput("The file has no name.", details={"rule": "name"})
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name or "\x00" in name:
        raise InvalidInput(
            f"The file name “{name[:100]}” is not allowed: use a plain name without folders or “..”.",
            details={"rule": "name"},
        )
    if any(not ch.isprintable() for ch in name) or any(ch in name for ch in '"<>|:*?'):
        raise InvalidInput(
            f"The file name “{name[:100]}” contains characters that are not allowed.", details={"rule": "name"}
        )
    if len(name) > 200:
        raise InvalidInput("The file name must be 200 characters or fewer.", details={"rule": "name"})
    return name


def _sniff(head: bytes, stream: IO[bytes], extension_type: str | None) -> str | None:
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "word/document.xml" in names:
            return FileType.DOCX
        if "xl/workbook.xml" in names:
            return FileType.XLSX
        return FileType.ZIP
    if _is_text(head):
        return FileType.CSV if extension_type == FileType.CSV else FileType.TXT
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


def _check_archive(stream: IO[bytes], name: str) -> None:
    _, max_entries, max_unpacked = _limits()
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries:
                raise InvalidInput(
                    f"The archive {name} holds {len(entries)} entries; the most allowed is {max_entries}.",
                    details={"rule": "archive_entries"},
                )
            declared = 0
            for info in entries:
                entry = PurePosixPath(info.filename.replace("\\", "/"))
                if entry.is_absolute() or ".." in entry.parts:
                    raise InvalidInput(
                        f"The archive {name} contains an entry with an unsafe path ({info.filename[:100]}).",
                        details={"rule": "archive_path"},
                    )
                declared += info.file_size
            if declared > max_unpacked:
                raise InvalidInput(_too_big_unpacked(name, max_unpacked), details={"rule": "archive_size"})
            # Headers can lie: read every entry through a bounded stream and count what comes out.
            unpacked = 0
            for info in entries:
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    while chunk := member.read(READ_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > max_unpacked:
                            raise InvalidInput(_too_big_unpacked(name, max_unpacked), details={"rule": "archive_size"})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise InvalidInput(
            f"The archive {name} is damaged or uses an unsupported format.", details={"rule": "type"}
        ) from exc
    except RuntimeError as exc:  # encrypted entries
        raise InvalidInput(
            f"The archive {name} is encrypted; upload it unencrypted.", details={"rule": "type"}
        ) from exc


def _too_big_unpacked(name: str, limit: int) -> str:
    return f"The archive {name} unpacks to more than {limit // (1024 * 1024)} MB, which is not allowed."


def check_evidence_file(upload: Any) -> CheckedFile:
    """Check an uploaded file (a Django UploadedFile or any object with name, size, chunks(), seek())
    and return what is known about it, or raise InvalidInput naming the rule it broke."""
    name = check_name(str(getattr(upload, "name", "") or ""))
    max_bytes, _, _ = _limits()
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        raise InvalidInput(f"The file {name} is empty.", details={"rule": "empty"})
    if size > max_bytes:
        raise InvalidInput(f"The file {name} is larger than {max_bytes // (1024 * 1024)} MB.", details={"rule": "size"})
    extension = PurePosixPath(name).suffix.lower()
    extension_type = EXTENSIONS.get(extension)
    if extension_type is None:
        raise InvalidInput(
            f"The file {name} is not an allowed type: upload a {ALLOWED_LIST} file.", details={"rule": "type"}
        )
    stream: IO[bytes] = upload.file if hasattr(upload, "file") else upload
    stream.seek(0)
    head = stream.read(8192)
    detected = _sniff(head, stream, extension_type)
    if detected is None or detected != extension_type:
        raise InvalidInput(
            f"The content of {name} is not a {extension_type.upper()} file, although its name says so.",
            details={"rule": "type"},
        )
    if detected in (FileType.ZIP, FileType.DOCX, FileType.XLSX):
        _check_archive(stream, name)
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return CheckedFile(name, detected, CONTENT_TYPES[detected], size, digest.hexdigest())
