"""Excel workbooks in and out, safely.

Out: `workbook_bytes` writes sheets with openpyxl's write-only mode (constant memory), and every text
cell passes through `safe_cell`, so a value a participant typed as `=HYPERLINK(...)` is shown as text
and never runs as a formula in a reviewer's spreadsheet.

In: `open_sheet_rows` reads with openpyxl's read-only mode (streamed, with defusedxml guarding the XML
when installed, which it is) and yields each row with its number, refusing a workbook whose shape is
wrong before any row is used: a missing sheet, missing or unknown headers, more rows or columns than
allowed. A cell holding a formula is reported as a row error by the caller (`is_formula`): imports take
values, not formulas whose results depend on the spreadsheet that computed them.

The rows themselves are read by `_sheet_values`, which gives exactly the values openpyxl's read-only
`iter_rows(values_only=True)` gives, in a third of the time (see there).
"""

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest
from typing import IO, Any
from xml.etree.ElementTree import Element, XMLPullParser

from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

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


# What openpyxl gives for an array formula and a data table instead of the "=…" text of other formulas.
FORMULA_OBJECTS = (ArrayFormula, DataTableFormula)


def is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or isinstance(value, FORMULA_OBJECTS)


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
    rows = _sheet_values(ws) if hasattr(ws, "_get_source") else ws.iter_rows(values_only=True)

    def close() -> None:
        close_rows = getattr(rows, "close", None)
        if close_rows is not None:
            close_rows()
        book.close()

    # The sheet's XML is parsed only as its rows are read, so a damaged sheet, or one carrying a document
    # type declaration (where entities are declared), fails here or while iterating, not on load.
    try:
        header_row = next(rows, None)
    except Exception as exc:
        close()
        raise _unreadable(sheet, 1, exc) from exc
    headers = [str(h).strip() if h is not None else "" for h in (header_row or ())]
    while headers and not headers[-1]:
        headers.pop()
    try:
        _check_headers(sheet, headers, required, optional, max_columns)
    except InvalidInput:
        close()
        raise

    names = [h for h in headers if h]
    # Usually every column up to the last has a header: then a row's values are paired with them in order.
    in_order = len(names) == len(headers)

    def iterate() -> Iterator[SheetRow]:
        try:
            seen = 0
            for number, raw in enumerate(_guarded(rows, sheet), start=2):
                if raw is None:
                    continue
                for value in raw:
                    if value is not None and (not isinstance(value, str) or value.strip()):
                        break
                else:
                    continue  # a blank row
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
                if in_order:
                    values = dict(zip_longest(names, raw[: len(names)]))
                else:
                    values = {h: (raw[i] if i < len(raw) else None) for i, h in enumerate(headers) if h}
                formulas: tuple[str, ...] = ()
                for header, value in values.items():
                    if isinstance(value, str):  # is_formula, inline
                        if value.startswith("="):
                            formulas += (header,)
                    elif isinstance(value, FORMULA_OBJECTS):
                        formulas += (header,)
                yield SheetRow(number=number, values=values, formulas=formulas, sheet=sheet)
        finally:
            close()

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


# --- a sheet's rows, read quickly --------------------------------------------------------------------
#
# openpyxl's read-only reader parses a sheet with defusedxml's pure-Python parser and builds an object
# for every inline string: reading the cells took most of an import's time. `_sheet_values` reads the
# same XML with the standard library's C parser, in chunks, each row emptied once read (what stays of it
# is a few dozen bytes: eight megabytes for a 100,000-row sheet). The cells an import's sheet is made of
# (inline and shared strings, plain numbers, empty cells) it reads itself; any other cell (a formula, a
# date, a boolean, an error, rich text, anything unusual) goes to openpyxl's own cell parser. So every
# row is the tuple openpyxl's `iter_rows(values_only=True)` gives, with rows missing from the XML given
# as empty rows, and a formula still reads as "=…".
#
# Entities can only be declared in a document type declaration, so a sheet carrying one is refused
# whatever it declares (openpyxl's defusedxml parse of the sheet's start, when the workbook is opened,
# refuses entity declarations too). The C parser fetches nothing external in any case.

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _MAIN + "row"
_CELL = _MAIN + "c"
_VALUE = _MAIN + "v"
_INLINE = _MAIN + "is"
_TEXT = _MAIN + "t"
_DOCTYPE = tuple("<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
_DOCTYPE_OVERLAP = max(len(pattern) for pattern in _DOCTYPE) - 1
_CHUNK = 64 * 1024
_DIGITS = "0123456789"
_COLUMNS = {get_column_letter(index): index for index in range(1, 16_385)}  # A … XFD, Excel's columns


class SheetDeclarationRefused(ValueError):
    """A sheet's XML carries a document type declaration (where entities would be declared)."""


def _sheet_values(ws: Any) -> Iterator[tuple[Any, ...]]:
    """Every row of a read-only worksheet `ws` as a tuple of values, as openpyxl's read-only
    `iter_rows(values_only=True)` yields them once `reset_dimensions()` has been called: a row is as
    wide as its last cell, a row missing from the XML is an empty tuple, and a row numbered before
    the one read last is skipped. Raises the parser's error on damaged XML, and SheetDeclarationRefused
    on a document type declaration."""
    book = ws.parent
    shared = ws._shared_strings
    dates = book._date_formats
    # openpyxl's parser for the cells this one does not read itself (it keeps the sheet's shared formulas).
    other = WorkSheetParser(
        None,
        shared,
        data_only=book.data_only,
        epoch=book.epoch,
        date_formats=dates,
        timedelta_formats=book._timedelta_formats,
    )
    parser = XMLPullParser(events=("end",))
    expected = 1  # the number of the next row to yield
    number = 0  # of the row read last
    tail = b""
    with ws._get_source() as source:
        while True:
            chunk = source.read(_CHUNK)
            window = tail + chunk
            if any(pattern in window for pattern in _DOCTYPE):
                raise SheetDeclarationRefused("the sheet carries a document type declaration")
            tail = window[-_DOCTYPE_OVERLAP:]
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            for event in parser.read_events():
                element = event[-1]
                assert isinstance(element, Element)  # "end" events carry the element ended
                if element.tag != _ROW:
                    continue
                number = _row_number(element.get("r"), number)
                row = _row_values(element, shared, dates, other)
                element.clear()
                while expected < number:
                    expected += 1
                    yield ()
                if expected <= number:
                    expected += 1
                    yield row
            if not chunk:
                return


def _row_number(text: str | None, previous: int) -> int:
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"{text[:20]} is not a valid row number") from None
        return int(number)


def _row_values(row: Element, shared: Sequence[Any], dates: Any, other: WorkSheetParser) -> tuple[Any, ...]:
    """One row element's values, placed by column (openpyxl's `_get_row` with `values_only`)."""
    columns: list[int] = []
    values: list[Any] = []
    column = 0
    for cell in row:
        coordinate = cell.get("r")
        if coordinate:
            letters = coordinate.rstrip(_DIGITS)
            found = _COLUMNS.get(letters)
            column = found if found is not None and len(letters) < len(coordinate) else _column_of(coordinate)
        else:
            column += 1
        columns.append(column)
        size = len(cell)
        if size == 0:
            values.append(None)  # openpyxl: no value, no formula, no inline string
            continue
        kind = cell.get("t", "n")
        first = cell[0]
        if size == 1 and cell.tag == _CELL:
            if first.tag == _INLINE and kind == "inlineStr":
                if len(first) == 1:
                    text = first[0]
                    if text.tag == _TEXT and len(text) == 0:
                        values.append(text.text or "")
                        continue
            elif first.tag == _VALUE:
                raw = first.text
                if not raw:
                    values.append(None)
                    continue
                if kind == "s":
                    values.append(shared[int(raw)])
                    continue
                if kind == "n":
                    if dates:  # openpyxl's test of a date, to the letter
                        style: Any = cell.get("s", 0)
                        if style:
                            style = int(style)
                        if style in dates:
                            values.append(other.parse_cell(cell)["value"])
                            continue
                    values.append(_cast_number(raw))
                    continue
        values.append(other.parse_cell(cell)["value"])
    if not columns:
        return ()
    width = columns[-1]
    placed: list[Any] = [None] * width
    for index, value in zip(columns, values, strict=True):
        if 1 <= index <= width:
            placed[index - 1] = value
    return tuple(placed)


def _column_of(coordinate: str) -> int:
    """The column of a cell reference openpyxl's way (ValueError when it is not one)."""
    return coordinate_to_tuple(coordinate)[1]


def _cast_number(text: str) -> int | float:
    """openpyxl's reading of a number cell's text."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)
