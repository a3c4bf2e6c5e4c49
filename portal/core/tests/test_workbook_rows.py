"""Reading a sheet's rows (`open_sheet_rows`, through `_sheet_values`): every row holds exactly the values
openpyxl's read-only `iter_rows(values_only=True)` gives for the same sheet, whatever its cells hold and
however its XML is laid out, and a sheet carrying a document type declaration is refused."""

import datetime
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from portal.core.errors import InvalidInput
from portal.core.workbooks import _sheet_values, open_sheet_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{TYPE}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{TYPE}.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{TYPE}.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{TYPE}.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PACKAGE_RELS}">
<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="Results" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PACKAGE_RELS}">
<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
# Cell styles 1, 2 and 3 are a date, a date and time, and a duration, as Excel writes them.
STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{MAIN}">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="46" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
SHARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="{MAIN}" count="5" uniqueCount="5">
<si><t>Case</t></si>
<si><t>QTC-1</t></si>
<si><r><rPr><b/></rPr><t>rich</t></r><r><t xml:space="preserve"> text</t></r></si>
<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>
<si><t xml:space="preserve">  spaced &amp; escaped &lt;&gt;  </t></si>
</sst>"""


def xlsx(sheet_data: str, *, prefix: str = "", prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    """A workbook whose one sheet, "Results", has `sheet_data` as its rows (cells may use shared strings
    0-4 and cell styles 0-3 above). With `prefix`, every element of the sheet is written with it. The
    sheet declares its size, as Excel's do (openpyxl then reads only the sheet's start when opening it)."""
    p = f"{prefix}:" if prefix else ""
    declare = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    sheet = (
        f'{prolog}<{p}worksheet {declare}><{p}dimension ref="A1:B2"/>'
        f"<{p}sheetData>{sheet_data}</{p}sheetData></{p}worksheet>"
    )
    return package(sheet.encode())


def package(sheet: bytes) -> bytes:
    parts = {
        "[Content_Types].xml": CONTENT_TYPES.encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
        "xl/styles.xml": STYLES.encode(),
        "xl/sharedStrings.xml": SHARED.encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def comparable(value: Any) -> Any:
    """Values openpyxl gives as objects (an array formula) compared by what they hold."""
    if value is None or isinstance(value, str | int | float | datetime.datetime | datetime.timedelta):
        return value
    return (type(value).__name__, getattr(value, "ref", None), getattr(value, "text", None))


def both_ways(content: bytes) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The sheet's rows read by `_sheet_values` and by openpyxl's own read-only reader."""
    read = []
    for reader in ("ours", "openpyxl"):
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
        ws = book["Results"]
        ws.reset_dimensions()
        rows = _sheet_values(ws) if reader == "ours" else ws.iter_rows(values_only=True)
        read.append([tuple(comparable(v) for v in row) for row in rows])
        book.close()
    return read[0], read[1]


EVERY_KIND = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Status</t></is></c>'
    '<c r="C1" t="str"><v>Tester</v></c></row>'
    '<row r="2" spans="1:19">'
    '<c r="A2" t="s"><v>1</v></c>'
    '<c r="B2" t="s"><v>2</v></c>'
    '<c r="C2"><v>42</v></c>'
    '<c r="D2"><v>2.5</v></c>'
    '<c r="E2" t="n"><v>1E3</v></c>'
    '<c r="F2" s="1"><v>46000</v></c>'
    '<c r="G2" s="2"><v>46000.5</v></c>'
    '<c r="H2" s="3"><v>0.5</v></c>'
    '<c r="I2" t="b"><v>1</v></c>'
    '<c r="J2" t="e"><v>#N/A</v></c>'
    '<c r="K2"><f>SUM(C2:D2)</f><v>44.5</v></c>'
    '<c r="L2" t="str"><f>A2&amp;"x"</f><v>QTC-1x</v></c>'
    '<c r="M2" t="inlineStr"><is><r><rPr><b/></rPr><t>bold</t></r>'
    '<r><t xml:space="preserve"> and plain</t></r></is></c>'
    '<c r="N2" t="inlineStr"><is><t xml:space="preserve">  spaced  </t></is></c>'
    '<c r="O2" t="inlineStr"><is><t/></is></c>'
    '<c r="P2" t="inlineStr"/>'
    '<c r="Q2" t="d"><v>2026-01-05T08:00:00</v></c>'
    '<c r="R2"><v></v></c>'
    '<c r="S2" t="s"><v>3</v></c>'
    '<c r="T2" t="s"><v>4</v></c>'
    '<c r="U2" s="0"><v>7</v></c>'
    '<c r="V2" t="inlineStr"><is><t>a</t><t>b</t></is></c>'
    '<c r="W2" t="inlineStr"><v>ignored</v></c>'
    '<c r="X2" t="s"><is><t>x</t></is></c>'
    '<c r="Y2" t="inlineStr"><is><t>tab\there, new\nline &amp; &#233;</t></is></c>'
    "</row>"
    '<row r="4"><c r="B4"><f t="shared" ref="B4:B5" si="0">C4*2</f><v>2</v></c>'
    '<c r="D4" t="inlineStr"><is><t>after a gap</t></is></c></row>'
    '<row r="5"><c r="B5"><f t="shared" si="0"/><v>4</v></c></row>'
    '<row r="6"><c r="A6"><f t="array" ref="A6:A7">{1,2}</f><v>1</v></c></row>'
    "<row><c><v>7</v></c><c><v>8</v></c></row>"
    '<row r="9"><c r="C9"><v>1</v></c><c r="A9"><v>2</v></c></row>'
    '<row r="8"><c r="A8"><v>3</v></c></row>'
    '<row r="10" ht="20" customHeight="1"><c r="a10"><v>5</v></c></row>'
    '<row r="11"/>'
    '<row r="12.0"><c r="A12"><v>6</v></c></row>'
    '<row r="13"><c r="A13" t="s"><v> 1 </v></c></row>'
    '<row r="14"><c r="A14" s="1"/><c r="C14" s="2"></c></row>'
    '<row r="15"><c r="AB15" t="inlineStr"><is><t>wide</t></is></c></row>'
    '<row r="16"><extLst/></row>'
)


def test_every_kind_of_cell_reads_as_openpyxl_reads_it() -> None:
    ours, theirs = both_ways(xlsx(EVERY_KIND))
    assert ours == theirs
    # The rows read are the ones the sheet shows (a sanity check of the comparison itself).
    assert ours[0] == ("Case", "Status", "Tester")
    assert ours[1][:12] == (
        "QTC-1",
        "rich text",
        42,
        2.5,
        1000.0,
        datetime.datetime(2025, 12, 9),  # noqa: DTZ001 (a workbook's times carry no zone)
        datetime.datetime(2025, 12, 9, 12),  # noqa: DTZ001
        datetime.timedelta(hours=12),
        True,
        "#N/A",
        "=SUM(C2:D2)",
        '=A2&"x"',
    )
    assert ours[2] == () and ours[4] == (None, "=C5*2")
    assert ours[1][12:15] == ("bold and plain", "  spaced  ", "")


def test_a_sheet_written_with_a_namespace_prefix_reads_the_same() -> None:
    rows = (
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Case</x:t></x:is></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c>'
        '</x:row><x:row r="2"><x:c r="A2"><x:v>3</x:v></x:c></x:row>'
    )
    ours, theirs = both_ways(xlsx(rows, prefix="x"))
    assert ours == theirs == [("Case", "QTC-1"), (3,)]


def test_a_sheet_in_utf_16_reads_the_same() -> None:
    sheet = (
        f'<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="{MAIN}"><dimension ref="A1:A2"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Case</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>QTC-é</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    ours, theirs = both_ways(package(sheet.encode("utf-16")))
    assert ours == theirs == [("Case",), ("QTC-é",)]


def test_a_long_sheet_read_in_many_pieces_reads_the_same() -> None:
    # Rows of varied lengths, so that the pieces the sheet is read in end anywhere in a row or a cell.
    rows = []
    for n in range(1, 4001):
        text = "x" * (n % 97) + "&amp;" * (n % 3)
        rows.append(
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>QTC-{n:05d}</t></is></c>'
            f'<c r="B{n}" t="s"><v>{n % 5}</v></c><c r="C{n}"><v>{n}.25</v></c>'
            f'<c r="E{n}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        )
    content = xlsx("".join(rows))
    ours, theirs = both_ways(content)
    assert len(ours) == 4000 and ours == theirs


def test_the_rows_of_a_sheet_come_with_their_values_and_formulas() -> None:
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>When</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Total</t></is></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" s="2"><v>46000.5</v></c><c r="C2"><v>3</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>QTC-2</t></is></c><c r="C3"><f t="shared" ref="C3:C4" si="0">'
        "C2+1</f><v>4</v></c></row>"
        '<row r="4"><c r="A4" t="inlineStr"><is><t>QTC-3</t></is></c><c r="C4"><f t="shared" si="0"/><v>5</v></c></row>'
        '<row r="5"><c r="A5" t="inlineStr"><is><t>QTC-4</t></is></c><c r="C5"><f t="array" ref="C5">{1}</f><v>1</v>'
        "</c></row>"
        '<row r="7"><c r="A7" t="inlineStr"><is><t> </t></is></c></row>'
        '<row r="8"><c r="A8" t="inlineStr"><is><t>QTC-5</t></is></c></row>'
    )
    _, rows = open_sheet_rows(io.BytesIO(xlsx(sheet)), sheet="Results", required=["Case", "When", "Total"], max_rows=10)
    read = list(rows)
    assert [(r.number, r.values["Case"], r.formulas) for r in read] == [
        (2, "QTC-1", ()),
        (3, "QTC-2", ("Total",)),
        (4, "QTC-3", ("Total",)),
        (5, "QTC-4", ("Total",)),  # an array formula is a formula too
        (8, "QTC-5", ()),
    ]
    when = datetime.datetime(2025, 12, 9, 12)  # noqa: DTZ001 (a workbook's times carry no zone)
    assert read[0].values == {"Case": "QTC-1", "When": when, "Total": 3}
    assert read[1].values["Total"] == "=C2+1" and read[2].values["Total"] == "=C3+1"
    assert read[4].values == {"Case": "QTC-5", "When": None, "Total": None}


ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>Case</t></is></c></row>'


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet SYSTEM "http://attacker.invalid/x.dtd">',
        # Far enough in that the declaration is split between two of the pieces the sheet is read in.
        '<?xml version="1.0" encoding="UTF-8"?><!--' + "p" * (64 * 1024 - 49) + "--><!DOCTYPE worksheet>",
    ],
    ids=["bare", "external", "split"],
)
def test_a_sheet_carrying_a_document_type_declaration_is_refused(prolog: str) -> None:
    content = xlsx(ROW, prolog=prolog)
    at = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").find(b"<!DOCTYPE")
    assert at > 0 and (at == 64 * 1024 - 4 or at < 100)
    # openpyxl opens it (a declaration without entities passes defusedxml); reading its rows refuses it.
    with pytest.raises(InvalidInput, match="is damaged or contains content that is not allowed") as refused:
        _, rows = open_sheet_rows(io.BytesIO(content), sheet="Results", required=["Case"], max_rows=10)
        list(rows)
    assert refused.value.details["error"] == "SheetDeclarationRefused"


def test_a_sheet_in_utf_16_carrying_a_document_type_declaration_is_refused() -> None:
    sheet = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE worksheet><worksheet xmlns="{MAIN}"><sheetData>{ROW}'
    content = package((sheet + "</sheetData></worksheet>").encode("utf-16"))
    with pytest.raises(InvalidInput, match="is damaged or contains content that is not allowed") as refused:
        _, rows = open_sheet_rows(io.BytesIO(content), sheet="Results", required=["Case"], max_rows=10)
        list(rows)
    assert refused.value.details["error"] == "SheetDeclarationRefused"


@pytest.mark.parametrize(
    "damage",
    [
        '<row r="2"><c r="A2" t="inlineStr"><is><t>QTC-1</t></is></c>',  # never closed
        '<row r="2"><c r="A2" t="s"><v>99</v></c></row>',  # no such shared string
        '<row r="2"><c r="2A"><v>1</v></c></row>',  # not a cell reference
        '<row r="two"><c r="A2"><v>1</v></c></row>',  # not a row number
        '<row r="2"><c r="A2"><v>&undeclared;</v></c></row>',
    ],
    ids=["truncated", "shared string", "reference", "row number", "entity"],
)
def test_a_sheet_damaged_inside_is_refused_at_the_row_where_reading_stopped(damage: str) -> None:
    content = xlsx(ROW + damage)
    _, rows = open_sheet_rows(io.BytesIO(content), sheet="Results", required=["Case"], max_rows=10)
    with pytest.raises(InvalidInput, match="is damaged or contains content that is not allowed") as refused:
        list(rows)
    assert refused.value.details["row"] == 2
