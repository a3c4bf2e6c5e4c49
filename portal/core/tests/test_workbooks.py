"""The safe workbook helpers: exports never carry a live formula, and reading refuses a workbook of the
wrong shape before any row is used."""

import io
import zipfile
from collections.abc import Sequence

import pytest
from openpyxl import Workbook, load_workbook

from portal.core.errors import InvalidInput
from portal.core.workbooks import Sheet, open_sheet_rows, safe_cell, workbook_bytes


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("x")'])
def test_text_that_could_run_as_a_formula_is_written_as_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [None, 3, 2.5, True, "plain text", "a=b"])
def test_other_values_are_written_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_an_exported_workbook_reads_back_with_formulas_as_text() -> None:
    content = workbook_bytes(
        [Sheet("Cases", ["Identifier", "Note"], [["QTC-1", "=cmd|' /C calc'!A0"], ["QTC-2", "fine"]])]
    )
    book = load_workbook(io.BytesIO(content))
    rows = list(book["Cases"].iter_rows(values_only=True))
    assert rows == [("Identifier", "Note"), ("QTC-1", "'=cmd|' /C calc'!A0"), ("QTC-2", "fine")]
    assert all(cell.data_type != "f" for row in book["Cases"].iter_rows() for cell in row)


def _workbook(rows: Sequence[Sequence[object]], title: str = "Results") -> io.BytesIO:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_rows_come_with_their_spreadsheet_row_numbers_and_blank_rows_skipped() -> None:
    source = _workbook([["Case", "Status"], ["QTC-1", "passed"], [None, None], ["QTC-2", "=1+1"]])
    declared, rows = open_sheet_rows(source, sheet="Results", required=["Case", "Status"], max_rows=10)
    read = list(rows)
    assert declared == 3
    assert [(r.number, r.values) for r in read] == [
        (2, {"Case": "QTC-1", "Status": "passed"}),
        (4, {"Case": "QTC-2", "Status": "=1+1"}),
    ]
    assert read[1].formulas == ("Status",)


@pytest.mark.parametrize(
    ("rows", "sheet", "message"),
    [
        ([["Case"]], "Results", "missing: Status"),
        ([["Case", "Status", "Colour"]], "Results", "does not know: Colour"),
        ([["Case", "Status", "Case"]], "Results", "more than once: Case"),
        ([["Case", "Status"]], "Other", "no sheet named “Other”"),
    ],
)
def test_a_workbook_of_the_wrong_shape_is_refused(rows: list[list[object]], sheet: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        open_sheet_rows(_workbook(rows), sheet=sheet, required=["Case", "Status"], max_rows=10)


def test_a_sheet_longer_than_allowed_is_refused_from_its_declared_size() -> None:
    source = _workbook([["Case", "Status"]] + [[f"QTC-{i}", "passed"] for i in range(20)])
    with pytest.raises(InvalidInput, match="at most 10 can be imported"):
        open_sheet_rows(source, sheet="Results", required=["Case", "Status"], max_rows=10)


def test_a_sheet_whose_declared_size_lies_is_stopped_while_reading() -> None:
    source = _workbook([["Case", "Status"]] + [[f"QTC-{i}", "passed"] for i in range(20)])
    # Rewrite the sheet's <dimension> to claim a single row, as a hand-made file could.
    patched = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(patched, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:B21" />', b'<dimension ref="A1:B2" />')
            copy.writestr(item, data)
    patched.seek(0)
    _, rows = open_sheet_rows(patched, sheet="Results", required=["Case", "Status"], max_rows=10)
    with pytest.raises(InvalidInput, match="more than 10 rows"):
        list(rows)


def test_a_file_that_is_not_a_workbook_is_refused() -> None:
    with pytest.raises(InvalidInput, match="could not be read as an Excel workbook"):
        open_sheet_rows(io.BytesIO(b"MZ\x90\x00 not a workbook"), sheet="Results", required=["Case"], max_rows=10)


LAUGHS = b'<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'


@pytest.mark.parametrize(
    "entity",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        b'<?xml version="1.0"?><!DOCTYPE x [' + LAUGHS + b"]>",
    ],
    ids=["external entity", "entity expansion"],
)
def test_a_workbook_declaring_entities_is_refused(entity: bytes) -> None:
    source = _workbook([["Case", "Status"], ["QTC-1", "passed"]])
    hostile = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(hostile, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = entity + data
            copy.writestr(item, data)
    hostile.seek(0)
    with pytest.raises(InvalidInput, match="such as external entities"):
        open_sheet_rows(hostile, sheet="Results", required=["Case", "Status"], max_rows=10)
