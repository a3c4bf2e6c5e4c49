"""Fixtures and helpers of the QT plan tests (imported by test_qt_plan*.py, test_qt_set*.py and
test_exit_rules*.py): a small catalogue of known cases in place of the shipped one, an application
whose `qt` task is with the participant, executions, defects, work-off items and RTTM snapshots made
as the other QT areas store them, and a record of everything a refused action must leave unchanged."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.documents.services import evidence_store
from portal.notifications.models import Notification
from portal.participants.models import RoleGroup
from portal.qualification.models import Application, Task
from portal.testing.models import (
    Defect,
    DipFlow,
    DipFlowOptOut,
    EvidenceReview,
    ExecutionStatus,
    PlannedExecution,
    QtPlan,
    ReadinessConfirmation,
    RttmSnapshot,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestExecution,
    TestScenario,
)
from portal.testing.plan_services import PlanFields, qt_plan_review, qt_plan_submit, qt_plan_update
from portal.workoff.models import WorkOffItem


@dataclass(frozen=True)
class CaseSpec:
    identifier: str
    scenario: str
    batch: str = TestBatch.FUNCTIONAL
    mandatory: bool = True
    groups: tuple[str, ...] = ("supplier",)
    flows: tuple[str, ...] = ()


# The known catalogue of these tests: five Supplier cases over two scenarios, one LDSO-only case.
CASES = (
    CaseSpec("QTC-TA-1", "QTS-TA", flows=("IF-901",)),
    CaseSpec("QTC-TA-2", "QTS-TA"),
    CaseSpec("QTC-TA-3", "QTS-TA", mandatory=False),
    CaseSpec("QTC-TB-1", "QTS-TB", batch=TestBatch.MIGRATION, flows=("IF-902",)),
    CaseSpec("QTC-TB-2", "QTS-TB", batch=TestBatch.MIGRATION, groups=("supplier", "ldso")),
    CaseSpec("QTC-TL-1", "QTS-TL", groups=("ldso",)),
)
SUPPLIER_REQUIRED = ["QTC-TA-1", "QTC-TA-2", "QTC-TB-1", "QTC-TB-2"]


def add_case(spec: CaseSpec) -> TestCase:
    scenario, _ = TestScenario.objects.get_or_create(
        identifier=spec.scenario, defaults={"title": f"Scenario {spec.scenario}", "batch": spec.batch}
    )
    case = TestCase.objects.create(identifier=spec.identifier, scenario=scenario)
    version = TestCaseVersion.objects.create(
        case=case,
        version=1,
        title=f"Case {spec.identifier}",
        batch=spec.batch,
        mandatory=spec.mandatory,
        steps=[{"step": 1, "action": "Send the flow.", "expected": "It is accepted."}],
    )
    version.role_groups.set(RoleGroup.objects.filter(code__in=spec.groups))
    version.dip_flows.set(DipFlow.objects.filter(code__in=spec.flows))
    return case


@pytest.fixture
def catalogue() -> dict[str, TestCase]:
    """Retire the shipped catalogue and load the known one: IF-901 may be opted out of, IF-902 not."""
    TestCase.objects.update(is_active=False)
    DipFlow.objects.create(code="IF-901", title="Test flow that may be opted out of", opt_out_allowed=True)
    DipFlow.objects.create(code="IF-902", title="Test flow every participant must use", opt_out_allowed=False)
    return {spec.identifier: add_case(spec) for spec in CASES}


@pytest.fixture
def qt_app(make_application: Callable[..., Application], advance: Callable[..., Application]) -> Application:
    """A Supplier application on the Non-SIT Supplier & Agent route whose `qt` task can start."""
    return advance(make_application(), stop_before="qt")


@pytest.fixture
def ta(staff: Callable[[Role], User]) -> User:
    return staff(Role.TESTING_ASSURANCE)


def qt_task(application: Application) -> Task:
    return Task.objects.select_related("definition").get(application=application, code="qt")


def complete_fields(**overrides: Any) -> PlanFields:
    values: dict[str, Any] = {
        "approach": "Run every required case in the QTF, functional batch first.",
        "reliance_approach": "",
        "test_data": "Test MPANs loaded as legacy; QTF market domain data.",
        "starts_on": datetime.date(2026, 9, 7),
        "ends_on": datetime.date(2026, 11, 27),
    }
    values.update(overrides)
    return PlanFields(**values)


def agree_plan(application: Application, member: User, reviewer: User, **overrides: Any) -> QtPlan:
    qt_plan_update(actor=member, application_id=application.pk, fields=complete_fields(**overrides))
    qt_plan_submit(actor=member, application_id=application.pk)
    return qt_plan_review(actor=reviewer, application_id=application.pk, decision="agree")


def run_case(
    application: Application,
    identifier: str,
    status: str = ExecutionStatus.PASSED,
    *,
    by: User,
    review: str = EvidenceReview.ACCEPTED,
    at: datetime.datetime | None = None,
    comment: str = "",
    evidence: bool = True,
) -> TestExecution:
    """An execution as the execution services store it (recorded directly: these tests are about what
    the exit rules read, not how executions are recorded), with one evidence file unless told not to."""
    case = TestCase.objects.get(identifier=identifier)
    run = TestExecution.objects.create(
        application=application,
        case=case,
        case_version=case.versions.get(is_current=True),
        status=status,
        tester="Tess Tester",
        executed_at=at or timezone.now(),
        review=review,
        review_comment=comment,
        recorded_by=by,
    )
    if evidence:
        upload = SimpleUploadedFile(f"{identifier}.txt", b"Every step as expected.\n", content_type="text/plain")
        run.evidence.add(evidence_store(actor=by, application=application, upload=upload, purpose="qt:execution"))
    return run


def raise_defect(
    application: Application, *, by: User, severity: int, status: str = "open", on: TestExecution | None = None
) -> Defect:
    number = Defect.objects.filter(application=application).count() + 1
    defect = Defect.objects.create(
        application=application,
        number=number,
        title=f"Defect {number}",
        severity=severity,
        status=status,
        raised_by=by,
        raised_at=timezone.now(),
    )
    if on is not None:
        defect.executions.add(on)
    return defect


def work_off(
    application: Application, *, by: User, status: str, case: TestCase | None = None, defect: Defect | None = None
) -> WorkOffItem:
    """A work-off item as the work-off services store it, with who agreed and closed it where its
    status says so."""
    number = WorkOffItem.objects.filter(application=application).count() + 1
    agreed = status in ("agreed", "closed")
    closed = status == "closed"
    return WorkOffItem.objects.create(
        application=application,
        number=number,
        case=case,
        defect=defect,
        action="Fix and retest after go-live.",
        owner="Test lead",
        due_on=timezone.localdate() + datetime.timedelta(days=30),
        status=status,
        proposed_by=by,
        proposed_at=timezone.now(),
        agreed_by=by if agreed else None,
        agreed_at=timezone.now() if agreed else None,
        closed_by=by if closed else None,
        closed_at=timezone.now() if closed else None,
    )


def agree_work_off(item: WorkOffItem, *, by: User) -> WorkOffItem:
    item.status, item.agreed_by, item.agreed_at = "agreed", by, timezone.now()
    item.save(update_fields=["status", "agreed_by", "agreed_at"])
    return item


def capture_rttm(application: Application, checkpoint: str, *, by: User) -> RttmSnapshot:
    version = RttmSnapshot.objects.filter(application=application, checkpoint=checkpoint).count() + 1
    return RttmSnapshot.objects.create(
        application=application,
        checkpoint=checkpoint,
        version=version,
        rows=[],
        row_count=0,
        sha256="0" * 64,
        taken_by=by,
        taken_at=timezone.now(),
    )


@dataclass(frozen=True)
class Snapshot:
    plans: tuple[tuple[Any, ...], ...]
    opt_outs: tuple[tuple[Any, ...], ...]
    planned: tuple[tuple[Any, ...], ...]
    readiness: tuple[tuple[Any, ...], ...]
    tasks: tuple[tuple[Any, ...], ...]
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a QT plan service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        plans=tuple(QtPlan.objects.order_by("pk").values_list()),
        opt_outs=tuple(DipFlowOptOut.objects.order_by("pk").values_list("pk", "flow_id", "reason")),
        planned=tuple(PlannedExecution.objects.order_by("pk").values_list()),
        readiness=tuple(ReadinessConfirmation.objects.order_by("pk").values_list("pk", "item_id", "ready", "note")),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )
