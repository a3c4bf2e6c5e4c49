"""Excel workbooks in and out, safely.

Out: `workbook_bytes` writes sheets with openpyxl's write-only mode (constant memory), and every text
cell passes through `safe_cell`, so a value a participant typed as `=HYPERLINK(...)` is shown as text
and never runs as a formula in a reviewer's spreadsheet.

In: `open_sheet_rows` reads with openpyxl's read-only mode (streamed, with defusedxml guarding the XML
when installed, which it is) and yields each row with its number, refusing a workbook whose shape is
wrong before any row is used: a missing sheet, missing or unknown headers, more rows or columns than
allowed. A cell holding a formula is reported as a row error by the caller (`is_formula`): imports take
values, not formulas whose results depend on the spreadsheet that computed them.
"""

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from portal.core.errors import InvalidInput

# A cell beginning with one of these is a formula (or DDE payload) to Excel and LibreOffice; tab and
# carriage return are included because some spreadsheets strip them and then read what follows.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_TEXT = 32_767  # Excel's own limit for one cell


def safe_cell(value: Any) -> Any:
    """A value to write into a cell: text that could run as a formula is prefixed with an apostrophe,
    which spreadsheets show as text. Numbers, dates and booleans are written as they are."""
    if value is None or isinstance(value, bool | int | float | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text[:MAX_CELL_TEXT]


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = field(default_factory=tuple)


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An XLSX file of the sheets, written row by row without holding the workbook in memory."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(title=sheet.title[:31])
        for index, width in enumerate(sheet.widths):
            ws.column_dimensions[_column_letter(index)].width = width
        ws.append([safe_cell(h) for h in sheet.headers])
        for row in sheet.rows:
            ws.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number the user sees in their spreadsheet
    values: dict[str, Any]  # by header
    formulas: tuple[str, ...]  # headers of the cells that hold a formula
    sheet: str = ""  # the sheet the row is on (for imports that read several sheets)


def is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def open_sheet_rows(
    source: str | IO[bytes],
    *,
    sheet: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    max_rows: int,
    max_columns: int = 50,
) -> tuple[int, Iterator[SheetRow]]:
    """Open `sheet` of the workbook and check its header row; answer the number of data rows the
    sheet declares (for progress) and an iterator over the non-empty data rows.

    Raises InvalidInput (with the sheet, row and column) when the workbook cannot be read or its shape
    is wrong. The iterator raises InvalidInput if the sheet turns out longer or wider than allowed
    (its declared dimensions can lie)."""
    try:
        book = load_workbook(source, read_only=True, data_only=False, keep_links=False)
    except (DefusedXmlException, ValueError) as exc:
        # openpyxl wraps the XML parser's refusal in a ValueError of its own.
        if not isinstance(exc, DefusedXmlException) and not isinstance(exc.__cause__, DefusedXmlException):
            raise InvalidInput(
                "The file could not be read as an Excel workbook (XLSX).", details={"rule": "workbook"}
            ) from exc
        raise InvalidInput(
            "The workbook contains XML that is not allowed (such as external entities or entity expansion).",
            details={"rule": "workbook", "error": type(exc).__name__},
        ) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, EOFError, TypeError) as exc:
        raise InvalidInput(
            "The file could not be read as an Excel workbook (XLSX).", details={"rule": "workbook"}
        ) from exc
    except Exception as exc:  # damaged XML and the like: nothing to salvage
        raise InvalidInput(
            "The workbook is damaged and could not be read.",
            details={"rule": "workbook", "error": type(exc).__name__},
        ) from exc
    if sheet not in book.sheetnames:
        book.close()
        raise InvalidInput(
            f"The workbook has no sheet named “{sheet}”; it has {', '.join(book.sheetnames) or 'none'}.",
            details={"sheet": sheet, "rule": "sheet"},
        )
    ws = book[sheet]
    # A sheet usually declares its size; one written without (by streaming writers) has its rows counted,
    # so that the progress bar has a total and an oversized sheet is refused before any row is read.
    declared_rows = max((ws.max_row or _count_rows(ws) or 1) - 1, 0)
    if declared_rows > max_rows:
        book.close()
        raise InvalidInput(
            f"The sheet “{sheet}” has {declared_rows:,} rows; at most {max_rows:,} can be imported at once.",
            details={"sheet": sheet, "rule": "rows"},
        )
    # Read every row there is, not only those inside the declared dimensions: a file that
    # under-declares them would otherwise have rows silently dropped. Our own count bounds the read.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    # In read-only mode the sheet's XML is parsed only as its rows are read, so a damaged sheet or one
    # carrying an external entity (refused by defusedxml) fails here or while iterating, not on load.
    try:
        header_row = next(rows, None)
    except Exception as exc:
        book.close()
        raise _unreadable(sheet, 1, exc) from exc
    headers = [str(h).strip() if h is not None else "" for h in (header_row or ())]
    while headers and not headers[-1]:
        headers.pop()
    _check_headers(sheet, headers, required, optional, max_columns)

    def iterate() -> Iterator[SheetRow]:
        try:
            seen = 0
            for number, raw in enumerate(_guarded(rows, sheet), start=2):
                if raw is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
                    continue
                if len(raw) > max_columns and any(v is not None for v in raw[max_columns:]):
                    raise InvalidInput(
                        f"Row {number} of “{sheet}” has values beyond column {max_columns}.",
                        details={"sheet": sheet, "row": number, "rule": "columns"},
                    )
                seen += 1
                if seen > max_rows:
                    raise InvalidInput(
                        f"The sheet “{sheet}” has more than {max_rows:,} rows; split it.",
                        details={"sheet": sheet, "row": number, "rule": "rows"},
                    )
                values = {h: (raw[i] if i < len(raw) else None) for i, h in enumerate(headers) if h}
                formulas = tuple(h for h, v in values.items() if is_formula(v))
                yield SheetRow(number=number, values=values, formulas=formulas, sheet=sheet)
        finally:
            book.close()

    return declared_rows, iterate()


# The shared strings of a workbook are read whole when it is opened: more than this is no RTTM or results
# sheet but an attempt on the worker's memory.
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024


def workbook_structure_check(source: IO[bytes], name: str) -> None:
    """Quick checks of a workbook at upload time, before it is stored and queued: its parts list and
    workbook part are well-formed XML (parsed with defusedxml) naming at least one sheet, and its shared
    strings are not larger than an import can hold in memory. The rows are read later, by the worker."""
    from defusedxml import ElementTree

    unreadable = InvalidInput(
        f"The file {name} could not be read as an Excel workbook (XLSX): its structure is damaged.",
        details={"rule": "workbook"},
    )
    source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            if sizes.get("xl/sharedStrings.xml", 0) > MAX_SHARED_STRINGS_BYTES:
                raise InvalidInput(
                    f"The workbook {name} holds more than {MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB of text; "
                    "split it into smaller workbooks.",
                    details={"rule": "workbook_size"},
                )
            for part in ("[Content_Types].xml", "xl/workbook.xml"):
                if sizes.get(part, 0) > 4 * 1024 * 1024:
                    raise unreadable
                with archive.open(part) as stream:
                    root = ElementTree.parse(stream, forbid_dtd=True).getroot()
                if part == "xl/workbook.xml" and not any(element.tag.endswith("}sheet") for element in root.iter()):
                    raise unreadable
    except InvalidInput:
        raise
    except Exception as exc:  # damaged archive or XML, a DTD, a missing part: all unreadable
        raise unreadable from exc
    finally:
        source.seek(0)


ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _count_rows(ws: Any) -> int:
    """How many row elements the sheet's XML holds, counted over its raw bytes in chunks (no parsing, so
    quick, and bounded by the unpacked size the evidence checks allow). 0 when it cannot be counted."""
    get_source = getattr(ws, "_get_source", None)
    if get_source is None:
        return 0
    count, tail = 0, b""
    try:
        with get_source() as source:
            while chunk := source.read(1024 * 1024):
                data = tail + chunk
                count += len(ROW_TAG.findall(data))
                # Keep the end of the chunk for a tag cut in two, minus any tag already counted in it.
                last = max(data.rfind(b"<"), len(data) - 32)
                tail = data[last:] if ROW_TAG.match(data, last) is None else b""
    except Exception:  # damaged content is reported when the rows are read
        return 0
    return count


def _unreadable(sheet: str, row: int, exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"The sheet “{sheet}” is damaged or contains content that is not allowed (such as external entities), "
        f"from row {row}.",
        details={"sheet": sheet, "row": row, "rule": "workbook", "error": type(exc).__name__},
    )


def _guarded(rows: Iterator[Any], sheet: str) -> Iterator[Any]:
    """The sheet's rows, with a failure to parse them reported as unreadable content at the row where
    reading stopped, rather than as an unexpected error."""
    number = 1
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            return
        except Exception as exc:
            raise _unreadable(sheet, number + 1, exc) from exc
        number += 1
        yield raw


def _check_headers(
    sheet: str, headers: list[str], required: Sequence[str], optional: Sequence[str], max_columns: int
) -> None:
    if len(headers) > max_columns:
        raise InvalidInput(
            f"The sheet “{sheet}” has {len(headers)} columns; at most {max_columns} are read.",
            details={"sheet": sheet, "row": 1, "rule": "columns"},
        )
    missing = [h for h in required if h not in headers]
    if missing:
        raise InvalidInput(
            f"The first row of “{sheet}” must name the columns; missing: {', '.join(missing)}.",
            details={"sheet": sheet, "row": 1, "missing": missing, "rule": "headers"},
        )
    known = set(required) | set(optional)
    unknown = [h for h in headers if h and h not in known]
    if unknown:
        raise InvalidInput(
            f"The sheet “{sheet}” has columns this import does not know: {', '.join(unknown[:10])}.",
            details={"sheet": sheet, "row": 1, "unknown": unknown[:10], "rule": "headers"},
        )
    duplicates = sorted({h for h in headers if h and headers.count(h) > 1})
    if duplicates:
        raise InvalidInput(
            f"The sheet “{sheet}” names a column more than once: {', '.join(duplicates)}.",
            details={"sheet": sheet, "row": 1, "rule": "headers"},
        )
