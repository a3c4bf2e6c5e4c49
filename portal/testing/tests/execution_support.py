"""Fixtures and helpers of the execution, defect, results-import and completion-report tests
(made available to every test of this folder by one import line in `conftest.py`): a known catalogue in
place of the shipped one, an application whose readiness report Testing Assurance has confirmed, runs
and defects made through the services, workbooks built in the test, and a record of everything a
refused action must leave unchanged.

Fixture names start with `execution_` so that they never collide with the other QT areas' fixtures."""

import datetime
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.participants.models import RoleGroup
from portal.qualification.models import Application, Task
from portal.testing import execution_services as services
from portal.testing.models import (
    Defect,
    DipFlow,
    DipFlowOptOut,
    ImportJob,
    QtPlan,
    ReviewStatus,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestExecution,
    TestScenario,
)
from portal.testing.models.execution import CompletionReport, DefectEntry

# What `from execution_support import *` in conftest.py brings in: the fixtures only.
__all__ = ["execution_app", "execution_assurer", "execution_cases", "execution_unready_app"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


@dataclass(frozen=True)
class CaseSpec:
    identifier: str
    batch: str = TestBatch.FUNCTIONAL
    mandatory: bool = True
    groups: tuple[str, ...] = ("supplier",)
    flows: tuple[str, ...] = ()
    steps: int = 3


# The known catalogue: four cases a Supplier runs (three required, one optional), one it opted out of
# (IF-951), and one for LDSOs only.
CASES = (
    CaseSpec("QTC-EX-001", steps=3),
    CaseSpec("QTC-EX-002", batch=TestBatch.MIGRATION, steps=2),
    CaseSpec("QTC-EX-003", batch=TestBatch.DIP, steps=1),
    CaseSpec("QTC-EX-004", mandatory=False, steps=1),
    CaseSpec("QTC-EX-005", batch=TestBatch.DIP, flows=("IF-951",), steps=1),
    CaseSpec("QTC-EX-LD1", groups=("ldso",), steps=1),
)
REQUIRED = ["QTC-EX-001", "QTC-EX-002", "QTC-EX-003"]


def steps_of(count: int) -> list[dict[str, Any]]:
    return [
        {"step": n, "action": f"Send flow {n} to the DIP.", "expected": f"Acknowledgement {n} is received."}
        for n in range(1, count + 1)
    ]


def add_case(spec: CaseSpec) -> TestCase:
    scenario, _ = TestScenario.objects.get_or_create(
        identifier=f"QTS-{spec.identifier}", defaults={"title": f"Scenario of {spec.identifier}", "batch": spec.batch}
    )
    case = TestCase.objects.create(identifier=spec.identifier, scenario=scenario)
    version = TestCaseVersion.objects.create(
        case=case,
        version=1,
        title=f"Case {spec.identifier}",
        batch=spec.batch,
        mandatory=spec.mandatory,
        steps=steps_of(spec.steps),
    )
    version.role_groups.set(RoleGroup.objects.filter(code__in=spec.groups))
    version.dip_flows.set(DipFlow.objects.filter(code__in=spec.flows))
    return case


def new_version(case: TestCase, *, steps: int) -> TestCaseVersion:
    """Publish a new current version of a case (as the catalogue does: the old one stops being current)."""
    old = TestCaseVersion.objects.get(case=case, is_current=True)
    old.is_current = False
    old.save(update_fields=["is_current"])
    version = TestCaseVersion.objects.create(
        case=case,
        version=old.version + 1,
        title=old.title,
        batch=old.batch,
        mandatory=old.mandatory,
        steps=steps_of(steps),
    )
    version.role_groups.set(old.role_groups.all())
    return version


@pytest.fixture
def execution_cases() -> dict[str, TestCase]:
    """Retire whatever catalogue is loaded and add the known one."""
    TestCase.objects.update(is_active=False)
    DipFlow.objects.get_or_create(code="IF-951", defaults={"title": "A flow the participant does not use"})
    return {spec.identifier: add_case(spec) for spec in CASES}


@pytest.fixture
def execution_assurer(staff: Callable[[Role], User]) -> User:
    return staff(Role.TESTING_ASSURANCE)


def confirm_readiness(application: Application, member: User) -> QtPlan:
    """Set-up only: the plan agreed and the readiness report confirmed, as the QT plan area records them
    (its own tests cover how they get there)."""
    plan, _ = QtPlan.objects.get_or_create(application=application)
    plan.status = ReviewStatus.AGREED
    plan.version = max(plan.version, 1)
    plan.readiness_status = ReviewStatus.AGREED
    plan.readiness_confirmed_at = timezone.now()
    plan.save()
    return plan


@pytest.fixture
def execution_unready_app(
    make_application: Callable[..., Application], advance: Callable[..., Application], execution_cases: Any
) -> Application:
    """A Supplier application (Non-SIT Supplier & Agent route) whose `qt` task can start, with the
    readiness report not yet confirmed."""
    application = advance(make_application(), stop_before="qt")
    return application


@pytest.fixture
def execution_app(execution_unready_app: Application, member: User, execution_assurer: User) -> Application:
    """The same, with the readiness report confirmed and the participant opted out of IF-951."""
    confirm_readiness(execution_unready_app, member)
    DipFlowOptOut.objects.create(
        application=execution_unready_app,
        flow=DipFlow.objects.get(code="IF-951"),
        reason="We do not send this flow.",
        recorded_by=member,
    )
    return execution_unready_app


def qt_task(application: Application) -> Task:
    return Task.objects.select_related("definition").get(application=application, code="qt")


# --- uploads -------------------------------------------------------------------------------------------


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def exe_as_pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, content_type="application/pdf")


def passed_steps(count: int) -> list[dict[str, Any]]:
    return [{"step": n, "status": "passed", "actual": ""} for n in range(1, count + 1)]


def an_hour_ago() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=1)


def record(actor: User, application: Application, **overrides: Any) -> TestExecution:
    """Record a passed run of QTC-EX-001 with evidence, or whatever the overrides say."""
    values: dict[str, Any] = {
        "case": "QTC-EX-001",
        "status": "passed",
        "tester": "Tess Tester",
        "executed_at": an_hour_ago(),
        "notes": "",
        "step_results": passed_steps(3),
        "files": [pdf()],
    }
    values.update(overrides)
    return services.execution_record(actor=actor, application_id=application.pk, **values)


def raise_defect(actor: User, application: Application, **overrides: Any) -> Defect:
    values: dict[str, Any] = {"title": "D0010 rejected", "description": "", "severity": 3, "execution_ids": ()}
    values.update(overrides)
    return services.defect_raise(actor=actor, application_id=application.pk, fields=services.DefectFields(**values))


# --- workbooks ---------------------------------------------------------------------------------------------

HEADERS = ["Case", "Status", "Tester", "Executed at", "Notes", "Step results"]


def results_workbook(
    rows: Iterable[Sequence[Any]], *, headers: Sequence[str] = HEADERS, sheet: str = "Results", write_only: bool = True
) -> bytes:
    book = Workbook(write_only=write_only)
    if write_only:
        ws = book.create_sheet(sheet)
    else:
        ws = book.active
        assert ws is not None
        ws.title = sheet
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_upload(content: bytes, name: str = "results.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def good_rows(count: int, *, start: datetime.datetime | None = None) -> list[list[Any]]:
    """`count` valid runs, cycling through the Supplier's runnable cases, one minute apart (UK time,
    as a spreadsheet holds it)."""
    start = start or timezone.localtime(timezone.now() - datetime.timedelta(days=30)).replace(tzinfo=None)
    cycle = [
        ("QTC-EX-001", "passed", "", "1:passed; 2:passed; 3:passed"),
        ("QTC-EX-002", "failed", "Step 2 timed out.", "1:passed; 2:failed"),
        ("QTC-EX-003", "blocked", "The DIP stub was down.", ""),
        ("QTC-EX-004", "not run", "", ""),
    ]
    rows = []
    for n in range(count):
        case, status, notes, steps = cycle[n % len(cycle)]
        rows.append([case, status, "Tess Tester", start + datetime.timedelta(minutes=n), notes or None, steps or None])
    return rows


# --- what a refusal must leave unchanged ----------------------------------------------------------------------


def stored_files() -> int:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@dataclass(frozen=True)
class Snapshot:
    executions: tuple[tuple[Any, ...], ...]
    evidence_links: int
    evidence: int
    files: int
    defects: tuple[tuple[Any, ...], ...]
    defect_links: int
    entries: int
    reports: int
    tasks: tuple[tuple[Any, ...], ...]
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    return Snapshot(
        executions=tuple(TestExecution.objects.order_by("pk").values_list()),
        evidence_links=TestExecution.evidence.through.objects.count(),
        evidence=EvidenceFile.objects.count(),
        files=stored_files(),
        defects=tuple(Defect.objects.order_by("pk").values_list("pk", "number", "title", "severity", "status")),
        defect_links=Defect.executions.through.objects.count(),
        entries=DefectEntry.objects.count(),
        reports=CompletionReport.objects.count(),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


def import_jobs() -> int:
    return ImportJob.objects.count()
