"""Checking an evidence file before anything stores it.

Every rule a file can break has its own message, naming the rule, so a participant knows what to fix:
the name must be a plain file name; the file must not be empty or larger than the limit; its content
must be one of the allowed types *and* match its extension (a renamed executable is not a PDF); and an
archive (ZIP, and the ZIP inside DOCX and XLSX) is checked for its entry count, entry names and
unpacked size before anything opens it for use, reading its entries through a bounded stream so a
"zip bomb" that lies in its headers is caught too. Archives inside an archive are checked within the
same budget, one level deep; symbolic links are refused; an Office document must not carry a DTD (the
stuff of XML bombs and external entities) or, for a workbook, external links (DDE). A PDF must be whole;
a PDF or image must not also be a ZIP (a polyglot); a text file must not be a web page in disguise.
"""

import hashlib
import re
import stat
import tempfile
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


_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
# A PDF ends with its end-of-file marker; one this long without it in its last KiB was cut short. (Smaller
# files are stubs that hold no page anyway.)
_PDF_TAIL = 1024
# What a browser would sniff as a web page (the WHATWG MIME sniffing list, and SVG): a text file must not
# start with one of these, after any white space.
_MARKUP = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg"
    rb"|\?xml|!--)[\s>/]",
    re.IGNORECASE,
)
# XML features an Office document never needs and that XML attacks are made of.
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
MAX_ARCHIVE_NESTING = 1


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
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
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


def _check_pdf(stream: IO[bytes], name: str, head: bytes, size: int) -> None:
    complete = _PDF_HEADER.match(head) is not None
    if complete and size >= _PDF_TAIL:
        stream.seek(size - _PDF_TAIL)
        complete = b"%%EOF" in stream.read(_PDF_TAIL)
    if not complete:
        raise InvalidInput(
            f"The file {name} is not a complete PDF: it is damaged or was cut short. Save or export it again.",
            details={"rule": "pdf"},
        )


def _check_not_a_zip_too(stream: IO[bytes], name: str) -> None:
    """A PDF or image that a ZIP reader opens as an archive too (a polyglot) is refused: what it is
    depends on the program that opens it."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            polyglot = bool(archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        polyglot = False
    if polyglot:
        raise InvalidInput(
            f"The file {name} also holds a ZIP archive hidden inside it, which is not allowed.",
            details={"rule": "polyglot"},
        )


def _check_text(head: bytes, name: str) -> None:
    if _MARKUP.match(head):
        raise InvalidInput(
            f"The file {name} looks like a web page or script, which is not allowed as a text file.",
            details={"rule": "markup"},
        )


@dataclass
class _Budget:
    entries: int
    unpacked: int


def _check_archive(stream: IO[bytes], name: str, *, office: bool = False) -> None:
    _, max_entries, max_unpacked = _limits()
    budget = _Budget(entries=max_entries, unpacked=max_unpacked)
    try:
        _check_archive_entries(stream, name, budget, office=office, depth=0)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"The archive {name} is damaged or uses an unsupported format.", details={"rule": "type"}
        ) from exc
    except RuntimeError as exc:  # encrypted entries
        raise InvalidInput(
            f"The archive {name} is encrypted; upload it unencrypted.", details={"rule": "type"}
        ) from exc


def _check_archive_entries(stream: IO[bytes], name: str, budget: _Budget, *, office: bool, depth: int) -> None:
    """Check one archive (and, within the same budget, the archives inside it): the entry count, entry
    names, links, the unpacked size as declared and as read, and in an Office document its XML."""
    _, max_entries, max_unpacked = _limits()
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        entries = archive.infolist()
        budget.entries -= len(entries)
        if budget.entries < 0:
            count = max_entries - budget.entries
            raise InvalidInput(
                f"The archive {name} holds {count} entries; the most allowed is {max_entries}.",
                details={"rule": "archive_entries"},
            )
        declared = 0
        for info in entries:
            entry = PurePosixPath(info.filename.replace("\\", "/"))
            if entry.is_absolute() or ".." in entry.parts or re.match(r"^[A-Za-z]:", info.filename):
                raise InvalidInput(
                    f"The archive {name} contains an entry with an unsafe path ({info.filename[:100]}).",
                    details={"rule": "archive_path"},
                )
            if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
                raise InvalidInput(
                    f"The archive {name} contains a symbolic link ({info.filename[:100]}), which is not allowed.",
                    details={"rule": "archive_link"},
                )
            if office and info.filename.startswith("xl/externalLinks/"):
                raise InvalidInput(
                    f"The workbook {name} links to other files or programs (external links or DDE), which is not "
                    "allowed: paste the values instead.",
                    details={"rule": "external_link"},
                )
            declared += info.file_size
        if declared > budget.unpacked:
            raise InvalidInput(_too_big_unpacked(name, max_unpacked), details={"rule": "archive_size"})
        # Headers can lie: read every entry through a bounded stream and count what comes out.
        for info in entries:
            if info.is_dir():
                continue
            with archive.open(info) as member, tempfile.SpooledTemporaryFile(max_size=8 * READ_CHUNK) as copy:
                first = True
                nested = False
                while chunk := member.read(READ_CHUNK):
                    budget.unpacked -= len(chunk)
                    if budget.unpacked < 0:
                        raise InvalidInput(_too_big_unpacked(name, max_unpacked), details={"rule": "archive_size"})
                    if first:
                        first = False
                        nested = chunk.startswith((b"PK\x03\x04", b"PK\x05\x06"))
                        if office and _DTD.search(_as_utf8(chunk)):
                            raise InvalidInput(
                                f"The file {name} contains XML that is not allowed in an Office document "
                                "(a DOCTYPE or entity declarations, as XML attacks use).",
                                details={"rule": "xml"},
                            )
                    if nested:
                        copy.write(chunk)
                if nested:
                    if depth >= MAX_ARCHIVE_NESTING:
                        raise InvalidInput(
                            f"The archive {name} holds archives nested more than {MAX_ARCHIVE_NESTING} deep; "
                            "upload the inner archives themselves.",
                            details={"rule": "archive_nesting"},
                        )
                    _check_archive_entries(copy, name, budget, office=False, depth=depth + 1)


def _as_utf8(chunk: bytes) -> bytes:
    """XML may be written in UTF-16: look for declarations in what it says, not in its bytes."""
    if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or chunk[1:2] == b"\x00" or chunk[:1] == b"\x00":
        return chunk.decode("utf-16", errors="ignore").encode()
    return chunk


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
        _check_archive(stream, name, office=detected != FileType.ZIP)
    elif detected == FileType.PDF:
        _check_pdf(stream, name, head, size)
    elif detected in (FileType.TXT, FileType.CSV):
        _check_text(head, name)
    if detected in (FileType.PDF, FileType.PNG, FileType.JPEG):
        _check_not_a_zip_too(stream, name)
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return CheckedFile(name, detected, CONTENT_TYPES[detected], size, digest.hexdigest())
