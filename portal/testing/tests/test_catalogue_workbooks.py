"""The catalogue as a workbook: the export read back with openpyxl (text that looks like a formula
comes back as text), and the import: a sound workbook stored all at once (new cases as version 1,
changed cases as a new version, unchanged cases left alone); every kind of bad row reported with its
sheet, row, column and reason and nothing stored; and hostile workbooks refused."""

import datetime

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from portal.notifications.models import Notification
from portal.testing import catalogue_selectors as catalogue
from portal.testing.catalogue_services import CaseFields, StepInput, case_publish, case_retire
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import DipFlow, ImportJob, ImportStatus, Requirement, TestCase, TestCaseVersion, TestScenario
from portal.testing.tests.catalogue_support import (
    raw_xlsx,
    read_workbook,
    reason,
    run_import,
    sheet_xml,
    state,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

CASE_HEADERS = ["Identifier", "Scenario", "Title", "Batch", "Mandatory", "Role groups", "DIP flows", "Requirements"]
STEP_HEADERS = ["Case", "Step", "Action", "Expected result"]


@pytest.fixture
def ta(staff):
    return staff(Role.TESTING_ASSURANCE)


def book(cases=(), steps=(), **extra):
    sheets = {}
    for name, rows in extra.items():
        sheets[name.replace("_", " ")] = rows
    sheets["Cases"] = [CASE_HEADERS, *cases]
    sheets["Steps"] = [STEP_HEADERS, *steps]
    return xlsx_bytes(sheets)


NEW_CASE = [
    "QTC-FUN-01-07",
    "QTS-FUN-01",
    "Supplier objects to a change of supplier",
    "Functional",
    "No",
    "supplier",
    "IF-001",
    "REQ-FUN-001",
]
NEW_STEPS = [
    ["QTC-FUN-01-07", 1, "Raise an objection to a pending change of supplier.", "The objection is accepted."],
    ["QTC-FUN-01-07", 2, "Receive the outcome.", "The registration is withdrawn."],
]


# --- the export ----------------------------------------------------------------------------------


def test_the_export_holds_every_sheet(member):
    sheets = read_workbook(catalogue.catalogue_workbook(user=member))
    assert list(sheets) == ["Scenarios", "Cases", "Steps", "Requirements", "DIP flows"]
    cases = sheets["Cases"]
    assert list(cases[0]) == [*CASE_HEADERS, "Version", "Active"]
    row = next(r for r in cases if r[0] == "QTC-FUN-02-01")
    assert row == (
        "QTC-FUN-02-01",
        "QTS-FUN-02",
        "Supplier appoints a metering service",
        "Functional",
        "Yes",
        "supplier",
        "IF-033, IF-035",
        "REQ-FUN-003",
        1,
        "Yes",
    )
    assert len(cases) - 1 == TestCase.objects.count()
    steps = [r for r in sheets["Steps"] if r[0] == "QTC-FUN-02-01"]
    assert [r[1] for r in steps] == [1, 2]
    assert sheets["DIP flows"][1] == ("IF-001", "Notification of Change of Supplier", "No")
    assert len(sheets["Requirements"]) - 1 == Requirement.objects.filter(is_active=True).count()


def test_text_that_looks_like_a_formula_is_exported_as_text(ta, member):
    case_publish(
        actor=ta,
        identifier="QTC-FUN-01-01",
        fields=CaseFields(
            title='=HYPERLINK("http://evil.example","Click")',
            batch="functional",
            mandatory=True,
            role_groups=["supplier"],
            steps=[StepInput("+SUM(1,2)", "@cmd"), StepInput("-1", "ok")],
        ),
    )
    sheets = read_workbook(catalogue.catalogue_workbook(user=member))
    row = next(r for r in sheets["Cases"] if r[0] == "QTC-FUN-01-01")
    assert row[2] == '\'=HYPERLINK("http://evil.example","Click")'
    steps = [r for r in sheets["Steps"] if r[0] == "QTC-FUN-01-01"]
    assert steps[0][2:] == ("'+SUM(1,2)", "'@cmd")
    assert steps[1][2] == "'-1"


# --- a sound import --------------------------------------------------------------------------------


def test_the_exported_workbook_imports_with_nothing_to_change(ta, member):
    before = TestCaseVersion.objects.count()
    job = run_import(ta, "catalogue", catalogue.catalogue_workbook(user=member))
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.stored_rows == 0
    assert TestCaseVersion.objects.count() == before
    event = AuditEvent.objects.get(action="import.catalogue.store")
    assert event.after["cases_unchanged"] == TestCase.objects.count()


def test_new_changed_and_unchanged_cases(ta, member, make_application, advance):
    advance(make_application(), stop_before="qt")
    content = book(
        cases=[
            NEW_CASE,
            # QTC-FUN-01-02 changes: its title; a requirement defined on the Requirements sheet.
            [
                "QTC-FUN-01-02",
                "QTS-FUN-01",
                "Losing supplier processes a loss",
                "functional",
                "yes",
                "Supplier",
                "IF-001",
                "REQ-FUN-001, REQ-FUN-017",
            ],
            # QTC-FUN-01-06 as it is.
            [
                "QTC-FUN-01-06",
                "QTS-FUN-01",
                "Supplier disputes a change of supplier reading",
                "Functional",
                "No",
                "supplier",
                "IF-041",
                "REQ-FUN-010",
            ],
            # A new case in a new scenario, exercising a new flow.
            [
                "QTC-FUN-07-01",
                "QTS-FUN-07",
                "Supplier sends a meter reading replay",
                "Functional",
                True,
                "supplier, data_service",
                "IF-042",
                "",
            ],
        ],
        steps=[
            *NEW_STEPS,
            [
                "QTC-FUN-01-02",
                1,
                "Trigger a change of supplier away from one of your test MPANs.",
                "IF-001 is received naming you as the losing supplier, with the supply end date.",
            ],
            [
                "QTC-FUN-01-02",
                2,
                "Process the loss in your billing system.",
                "The account is marked for final billing from the supply end date; no new appointments are made.",
            ],
            [
                "QTC-FUN-01-06",
                1,
                "Receive an IF-041 reading that fails your validation.",
                "The reading is flagged as disputed.",
            ],
            [
                "QTC-FUN-01-06",
                2,
                "Raise the dispute with the Data Service and the other supplier.",
                "The dispute is raised within the agreed time and the agreed replacement reading is applied.",
            ],
            ["QTC-FUN-07-01", 3, "Check the replay.", "Every period arrives."],  # numbered 3 and 5: renumbered 1 and 2
            ["QTC-FUN-07-01", 5, "Reconcile.", "Totals match."],
        ],
        Requirements=[["Identifier", "Area", "Text"], ["REQ-FUN-017", "Functional", "The Supplier processes a loss."]],
        DIP_flows=[["Interface ID", "Title", "Opt-out allowed"], ["IF-042", "Meter reading replay", "Yes"]],
        Scenarios=[
            ["Identifier", "Title", "Batch", "Description"],
            ["QTS-FUN-07", "Meter reading replay", "Functional", ""],
        ],
    )
    job = run_import(ta, "catalogue", content)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    new = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-07")
    assert new.version == 1 and not new.mandatory and new.created_by == ta
    assert [s["step"] for s in new.steps] == [1, 2]
    changed = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-02", is_current=True)
    assert changed.version == 2 and changed.title == "Losing supplier processes a loss"
    assert sorted(changed.requirements.values_list("identifier", flat=True)) == ["REQ-FUN-001", "REQ-FUN-017"]
    assert TestCaseVersion.objects.filter(case__identifier="QTC-FUN-01-06").count() == 1
    replay = TestCaseVersion.objects.get(case__identifier="QTC-FUN-07-01")
    assert [s["action"] for s in replay.steps] == ["Check the replay.", "Reconcile."]
    assert TestScenario.objects.filter(identifier="QTS-FUN-07").exists()
    assert DipFlow.objects.get(code="IF-042").opt_out_allowed
    assert job.stored_rows == 6  # one requirement, one flow, one scenario, three cases
    event = AuditEvent.objects.get(action="import.catalogue.store")
    assert event.after["cases_added"] == ["QTC-FUN-01-07", "QTC-FUN-07-01"]
    assert event.after["cases_new_versions"] == ["QTC-FUN-01-02"]
    assert event.after["cases_unchanged"] == 1
    assert not AuditEvent.objects.filter(action__startswith="catalogue.").exists()  # one event for the import
    assert Notification.objects.filter(recipient=member, subject="The test catalogue has changed").exists()
    assert Notification.objects.filter(recipient=ta, subject__startswith="Import finished").exists()


# --- bad rows --------------------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_stored(ta):
    long_title = "x" * 301
    content = book(
        cases=[
            ["QTC-FUN-01-07", "QTS-NOPE-01", "Unknown scenario", "Functional", "Yes", "supplier", "", ""],  # row 2
            ["QTC-FUN-01-08", "QTS-FUN-01", "Bad batch", "Hardware", "Yes", "supplier", "", ""],  # row 3
            [
                "QTC-FUN-01-09",
                "QTS-FUN-01",
                "Bad references",
                "Functional",
                "Yes",
                "retailer",
                "IF-999",
                "REQ-NOPE-1",
            ],  # row 4
            ["QTC-FUN-01-09", "QTS-FUN-01", "Duplicate", "Functional", "Yes", "supplier", "", ""],  # row 5
            ["QTC-FUN-01-10", "QTS-FUN-01", "No steps", "Functional", "Yes", "supplier", "", ""],  # row 6
            ["QTC-FUN-01-11", "QTS-FUN-01", long_title, "Functional", "Maybe", "supplier", "", ""],  # row 7
            [12345, "QTS-FUN-01", "Number as identifier", "Functional", "Yes", "supplier", "", ""],  # row 8
            [
                "QTC-FUN-01-01",
                "QTS-FUN-02",
                "Moved to another scenario",
                "Functional",
                "Yes",
                "supplier",
                "",
                "",
            ],  # row 9
        ],
        steps=[
            ["QTC-FUN-01-07", 1, "Do it.", "It works."],  # row 2
            ["QTC-FUN-01-08", "one", "Do it.", "It works."],  # row 3
            ["QTC-FUN-01-09", 1, "Do it.", ""],  # row 4
            ["QTC-NOT-IN-CASES", 1, "Do it.", "It works."],  # row 5
            ["QTC-FUN-01-11", 1, "Do it.", "It works."],  # row 6
            ["QTC-FUN-01-11", 1, "Again.", "Twice."],  # row 7
        ],
    )
    before = state()
    job = run_import(ta, "catalogue", content)
    assert job.status == ImportStatus.FAILED
    assert (
        reason(job, "Cases", 2, "Scenario")
        == "there is no scenario QTS-NOPE-01 in the catalogue or on the Scenarios sheet"
    )
    assert reason(job, "Cases", 3, "Batch").startswith("batch “Hardware” is not one of")
    assert "no role group “retailer”" in reason(job, "Cases", 4, "Role groups")
    assert "no DIP flow “IF-999”" in reason(job, "Cases", 4, "DIP flows")
    assert "no requirement “REQ-NOPE-1”" in reason(job, "Cases", 4, "Requirements")
    assert reason(job, "Cases", 5, "Identifier") == "QTC-FUN-01-09 is already on another row of this sheet"
    assert reason(job, "Cases", 6, "Identifier") == "QTC-FUN-01-10 has no steps on the Steps sheet"
    assert "300 characters or fewer" in reason(job, "Cases", 7, "Title")
    assert reason(job, "Cases", 7, "Mandatory") == "must be Yes or No"
    assert reason(job, "Cases", 8, "Identifier").startswith("identifier must be text")
    assert "cannot move to another scenario" in reason(job, "Cases", 9, "Scenario")
    assert reason(job, "Steps", 3, "Step").startswith("must be a whole number from 1")
    assert reason(job, "Steps", 4, "Expected result") == "enter the expected result"
    assert reason(job, "Steps", 5, "Case") == "QTC-NOT-IN-CASES is not on the Cases sheet"
    assert reason(job, "Steps", 7, "Step") == "QTC-FUN-01-11 already has a step 1"
    assert job.error_count == len(job.errors) >= 15
    assert state().cases == before.cases and state().versions == before.versions
    assert state().requirements == before.requirements
    assert AuditEvent.objects.filter(action="import.catalogue.refuse").exists()
    assert Notification.objects.filter(recipient=ta, subject__startswith="Import refused").exists()


def test_wrong_types_are_reported(ta):
    content = book(
        cases=[["QTC-FUN-01-07", "QTS-FUN-01", True, "Functional", 1, "supplier", 42, datetime.date(2026, 1, 1)]],
        steps=[
            [
                "QTC-FUN-01-07",
                datetime.datetime(2026, 1, 1),  # noqa: DTZ001 (spreadsheets have no time zones)
                "Do it.",
                3.5,
            ]
        ],
        Requirements=[["Identifier", "Area", "Text"], ["REQ-FUN-020", 7, datetime.date(2026, 1, 1)]],
    )
    job = run_import(ta, "catalogue", content)
    assert job.status == ImportStatus.FAILED
    assert reason(job, "Cases", 2, "Title") == "must be text, not a true/false value"
    assert reason(job, "Cases", 2, "Mandatory") == "must be Yes or No"
    assert reason(job, "Cases", 2, "DIP flows") == "must be text, not a number"
    assert reason(job, "Cases", 2, "Requirements") == "must be text, not a date"
    assert reason(job, "Steps", 2, "Step") == "must be a whole number from 1, not a date"
    assert reason(job, "Steps", 2, "Expected result") == "must be text, not a number"
    assert reason(job, "Requirements", 2, "Area") == "area must be text"
    assert reason(job, "Requirements", 2, "Text") == "must be text, not a date"
    assert not TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()


def test_a_formula_cell_is_refused(ta):
    content = book(
        cases=[["QTC-FUN-01-07", "QTS-FUN-01", '=CONCAT("a","b")', "Functional", "Yes", "supplier", "", ""]],
        steps=NEW_STEPS,
    )
    job = run_import(ta, "catalogue", content)
    assert job.status == ImportStatus.FAILED
    assert reason(job, "Cases", 2, "Title") == "holds a formula; enter the value itself"
    assert not TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()


def test_changes_to_a_retired_case_are_refused(ta):
    case_retire(actor=ta, identifier="QTC-FUN-01-06", reason="Descoped.")
    content = book(
        cases=[
            ["QTC-FUN-01-06", "QTS-FUN-01", "Changed title", "Functional", "No", "supplier", "IF-041", "REQ-FUN-010"]
        ],
        steps=[["QTC-FUN-01-06", 1, "Do it.", "It works."]],
    )
    job = run_import(ta, "catalogue", content)
    assert job.status == ImportStatus.FAILED
    assert "is retired: reinstate it" in reason(job, "Cases", 2, "Identifier")


def test_a_missing_sheet_or_column_is_refused_at_once(ta):
    job = run_import(ta, "catalogue", xlsx_bytes({"Cases": [CASE_HEADERS]}))
    assert job.status == ImportStatus.FAILED
    assert "no sheet named “Steps”" in job.errors[0]["reason"]
    assert job.errors[0].get("sheet") == "Steps"
    job = run_import(ta, "catalogue", xlsx_bytes({"Cases": [CASE_HEADERS[:-3]], "Steps": [STEP_HEADERS]}))
    assert job.status == ImportStatus.FAILED
    assert "missing: Role groups." in job.errors[0]["reason"]


def test_only_the_keepers_import_the_catalogue(member, staff):
    before = state()
    for user in (member, staff(Role.DIP_MANAGER)):
        with pytest.raises(PermissionDenied):
            import_job_create(actor=user, kind="catalogue", upload=upload(book(cases=[NEW_CASE], steps=NEW_STEPS)))
    assert state() == before


def test_the_keeper_is_checked_again_when_storing(ta):
    job = import_job_create(actor=ta, kind="catalogue", upload=upload(book(cases=[NEW_CASE], steps=NEW_STEPS)))
    ta.groups.clear()
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED
    assert "Only Testing Assurance" in job.errors[0]["reason"]
    assert not TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()


# --- hostile workbooks -----------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_refused_when_queued(ta):
    before = state()
    with pytest.raises(InvalidInput, match="is not a XLSX file"):
        import_job_create(actor=ta, kind="catalogue", upload=upload(b"%PDF-1.7 not a workbook", "catalogue.xlsx"))
    with pytest.raises(InvalidInput, match="is not a XLSX file"):
        import_job_create(
            actor=ta, kind="catalogue", upload=upload(b"Identifier,Scenario\nQTC-1,QTS-1\n", "catalogue.xlsx")
        )
    assert state() == before


def test_a_sheet_declaring_300000_rows_is_refused_before_any_row_is_read(ta):
    cases = sheet_xml([CASE_HEADERS, NEW_CASE], dimension="A1:H300001")
    steps = sheet_xml([STEP_HEADERS, *NEW_STEPS])
    job = run_import(ta, "catalogue", raw_xlsx({"Cases": cases, "Steps": steps}))
    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["reason"] == "The sheet “Cases” has 300,000 rows; at most 20,000 can be imported at once."
    assert not TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()


def test_a_workbook_with_an_external_entity_is_refused(ta):
    prolog = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    )
    cases = sheet_xml([CASE_HEADERS, [*NEW_CASE[:2], "&secret;", *NEW_CASE[3:]]], prolog=prolog)
    steps = sheet_xml([STEP_HEADERS, *NEW_STEPS])
    # Refused when it is sent, before any job is queued or any entity read.
    with pytest.raises(InvalidInput, match="not allowed in an Office document") as refused:
        run_import(ta, "catalogue", raw_xlsx({"Cases": cases, "Steps": steps}))
    assert "root:" not in str(refused.value)
    assert not ImportJob.objects.exists()
    assert not TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()


def test_a_hand_made_sound_workbook_imports(ta):
    """The hand-made files above fail for what they hold, not for being hand-made."""
    cases = sheet_xml([CASE_HEADERS, NEW_CASE])
    steps = sheet_xml([STEP_HEADERS, *NEW_STEPS])
    job = run_import(ta, "catalogue", raw_xlsx({"Cases": cases, "Steps": steps}))
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert TestCase.objects.filter(identifier="QTC-FUN-01-07").exists()
