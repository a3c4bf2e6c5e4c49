"""What the catalogue and RTTM tests share: a record of everything a refused action must leave
unchanged, workbooks built in memory (sound ones with openpyxl, hostile ones byte by byte with
zipfile), and running an import job to the end as the worker would."""

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook, load_workbook

from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from portal.qualification.models import Task
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import (
    DipFlow,
    ImportJob,
    Requirement,
    RttmEntry,
    RttmSnapshot,
    TestCase,
    TestCaseVersion,
    TestScenario,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class State:
    requirements: tuple[tuple[Any, ...], ...]
    flows: tuple[tuple[Any, ...], ...]
    scenarios: tuple[tuple[Any, ...], ...]
    cases: tuple[tuple[Any, ...], ...]
    versions: tuple[tuple[Any, ...], ...]
    links: tuple[int, int, int]
    entries: tuple[tuple[Any, ...], ...]
    snapshots: int
    tasks: tuple[tuple[Any, ...], ...]
    audit: int
    notifications: int
    jobs: int


def state() -> State:
    """Everything a catalogue or RTTM service may write, as plain values."""
    through = TestCaseVersion
    return State(
        requirements=tuple(Requirement.objects.order_by("pk").values_list()),
        flows=tuple(DipFlow.objects.order_by("pk").values_list()),
        scenarios=tuple(TestScenario.objects.order_by("pk").values_list()),
        cases=tuple(TestCase.objects.order_by("pk").values_list()),
        versions=tuple(
            TestCaseVersion.objects.order_by("pk").values_list("pk", "case_id", "version", "is_current", "title")
        ),
        links=(
            through.role_groups.through.objects.count(),
            through.dip_flows.through.objects.count(),
            through.requirements.through.objects.count(),
        ),
        entries=tuple(
            RttmEntry.objects.order_by("pk").values_list("pk", "requirement_id", "pit_tests", "qad_reference", "note")
        ),
        snapshots=RttmSnapshot.objects.count(),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state")),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


# --- workbooks -----------------------------------------------------------------------------------


def xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    book = Workbook()
    first = True
    for title, rows in sheets.items():
        if first:
            sheet = book.active
            assert sheet is not None
            sheet.title = title
            first = False
        else:
            sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "catalogue.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def read_workbook(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def run_import(
    actor: Any, kind: str, content: bytes, *, application_id: int | None = None, name: str = "book.xlsx"
) -> ImportJob:
    """Queue the import as the page or the API would, then run it as the worker would."""
    job = import_job_create(actor=actor, kind=kind, upload=upload(content, name), application_id=application_id)
    return import_job_run(job_id=job.pk)


def problems(job: ImportJob) -> list[tuple[str, int, str]]:
    """Each problem as (sheet, row, column)."""
    return [(p.get("sheet", ""), p["row"], p["column"]) for p in job.errors]


def reason(job: ImportJob, sheet: str, row: int, column: str) -> str:
    for p in job.errors:
        if p.get("sheet", "") == sheet and p["row"] == row and p["column"] == column:
            return str(p["reason"])
    raise AssertionError(f"no problem at {sheet} row {row} column {column}: {job.errors}")


# Hand-made XLSX files: the parts a spreadsheet program writes, with the sheet XML given as text, so a
# test can put in it what a hostile file would.

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{main}"/>
{overrides}
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{office_document}" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets>{sheets}</sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
{rels}
</Relationships>"""
_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
SHEET_OPEN = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def cell_xml(ref: str, value: Any) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def sheet_xml(rows: Iterable[Sequence[Any]], *, dimension: str = "", prolog: str = "") -> str:
    lines = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{chr(65 + i)}{number}", v) for i, v in enumerate(row) if v is not None)
        lines.append(f'<row r="{number}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = prolog or '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    return f"{head}\n{SHEET_OPEN}{dim}<sheetData>{''.join(lines)}</sheetData></worksheet>"


def raw_xlsx(sheets: Mapping[str, str]) -> bytes:
    """An XLSX whose sheets' XML is exactly `sheets` (name → XML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "\n".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(main=_MAIN, overrides=overrides))
        archive.writestr("_rels/.rels", _ROOT_RELS.format(office_document=_OFFICE_DOCUMENT))
        names = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, start=1))
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=names))
        rels = "\n".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(rels=rels))
        for i, xml in enumerate(sheets.values(), start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", xml)
    return buffer.getvalue()
