"""Fixtures of the work-off tests: a small QT catalogue for the Supplier role, an application whose
Qualification Testing is in progress, executions and defects, users of each party, and a record of
everything a refused action must leave unchanged."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import api_as  # noqa: F401  (a fixture)
from portal.audit.models import AuditEvent
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.participants.models import RoleGroup
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.services import task_transition
from portal.testing.models import (
    Defect,
    TestBatch,
    TestCase,
    TestCaseVersion,
    TestExecution,
    TestScenario,
)
from portal.workoff.models import WorkOffItem, WorkOffReminder
from portal.workoff.selectors import uk_today
from portal.workoff.services import workoff_item_propose, workoff_item_transition

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def pdf(name: str = "retest.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def task_of(application: Application, code: str = "workoff") -> Task:
    return Task.objects.select_related("definition").get(application=application, code=code)


def stored_files() -> int:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def in_days(days: int) -> date:
    return uk_today() + timedelta(days=days)


@dataclass(frozen=True)
class Snapshot:
    items: tuple[tuple[Any, ...], ...]
    evidence_links: int
    evidence: int
    files: int
    reminders: int
    tasks: tuple[tuple[Any, ...], ...]
    entries: int
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a work-off service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        items=tuple(WorkOffItem.objects.order_by("pk").values_list()),
        evidence_links=WorkOffItem.closure_evidence.through.objects.count(),
        evidence=EvidenceFile.objects.count(),
        files=stored_files(),
        reminders=WorkOffReminder.objects.count(),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        entries=TaskEntry.objects.count(),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


@dataclass(frozen=True)
class Catalogue:
    failed: TestCase  # mandatory, its latest run failed
    passed: TestCase  # mandatory, its latest run passed
    never_run: TestCase  # mandatory, never run
    optional: TestCase  # optional for the role, blocked
    other_role: TestCase  # for LDSOs only


def _case(identifier: str, title: str, groups: list[RoleGroup], *, mandatory: bool = True) -> TestCase:
    scenario, _ = TestScenario.objects.get_or_create(
        identifier="WOTS-01", defaults={"title": "Meter reads", "batch": TestBatch.FUNCTIONAL}
    )
    case = TestCase.objects.create(identifier=identifier, scenario=scenario)
    version = TestCaseVersion.objects.create(
        case=case,
        version=1,
        title=title,
        batch=TestBatch.FUNCTIONAL,
        mandatory=mandatory,
        steps=[{"step": 1, "action": "Send the flow.", "expected": "It is accepted."}],
    )
    version.role_groups.set(groups)
    return case


def execute(application: Application, case: TestCase, status: str, *, by: User, minutes_ago: int = 0) -> TestExecution:
    """A recorded run of the case (made directly: the executions area records them through its own
    services)."""
    return TestExecution.objects.create(
        application=application,
        case=case,
        case_version=case.versions.get(is_current=True),
        status=status,
        tester="Test lead",
        executed_at=timezone.now() - timedelta(minutes=minutes_ago),
        recorded_by=by,
    )


def raise_defect(
    application: Application, *, by: User, title: str = "Read rejection not raised", status: str = "open"
) -> Defect:
    number = Defect.objects.filter(application=application).count() + 1
    return Defect.objects.create(
        application=application,
        number=number,
        title=title,
        severity=2,
        status=status,
        raised_by=by,
        raised_at=timezone.now(),
    )


@pytest.fixture
def catalogue(db: Any) -> Catalogue:
    """Five cases of our own; the shipped catalogue is retired for these tests, so that the role set
    is exactly these."""
    TestCase.objects.update(is_active=False)
    supplier = RoleGroup.objects.get(code="supplier")
    ldso = RoleGroup.objects.get(code="ldso")
    return Catalogue(
        failed=_case("WOT-001", "Meter read rejection", [supplier]),
        passed=_case("WOT-002", "Change of supplier", [supplier]),
        never_run=_case("WOT-003", "Registration of a new MPAN", [supplier]),
        optional=_case("WOT-004", "Unmetered supply read", [supplier], mandatory=False),
        other_role=_case("WOT-900", "Network outage data", [ldso]),
    )


@pytest.fixture
def qt_app(
    make_application: Callable[..., Application],
    advance: Callable[..., Application],
    member: User,
    catalogue: Catalogue,
) -> Application:
    """A Supplier application on the Non-SIT route whose Qualification Testing is in progress, with a
    failed run of WOT-001, a passed run of WOT-002, a blocked run of WOT-004 and WOT-003 never run."""
    application = make_application()
    advance(application, stop_before="qt")
    task_transition(actor=member, application_id=application.pk, task_code="qt", action="start")
    execute(application, catalogue.failed, "passed", by=member, minutes_ago=60)
    execute(application, catalogue.failed, "failed", by=member)
    execute(application, catalogue.passed, "passed", by=member)
    execute(application, catalogue.optional, "blocked", by=member)
    return application


@pytest.fixture
def workoff_rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the work-off plan's own rules on task transitions, and only its journey step: for tests that
    walk an application past Qualification Testing, whose exit rules (and their preparers) are the
    testing area's and are tested there."""
    from collections import defaultdict

    from portal.qualification import hooks, journey
    from portal.qualification.workflow import Action
    from portal.workoff.services import workoff_accept_guard, workoff_not_required_guard, workoff_submit_guard
    from portal.workoff.testing_support import workoff_prepare_step

    guards: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    guards[("workoff", str(Action.SUBMIT))].append(workoff_submit_guard)
    guards[("workoff", str(Action.ACCEPT))].append(workoff_accept_guard)
    guards[("workoff", str(Action.MARK_NOT_REQUIRED))].append(workoff_not_required_guard)
    monkeypatch.setattr(hooks, "_guards", guards)
    monkeypatch.setattr(hooks, "_effects", defaultdict(list))
    monkeypatch.setattr(journey, "_preparers", [workoff_prepare_step])
    monkeypatch.setattr(journey, "_takers", [])


@pytest.fixture
def tester(staff: Callable[[Role], User]) -> User:
    return staff(Role.TESTING_ASSURANCE)


@pytest.fixture
def analyst(staff: Callable[[Role], User]) -> User:
    return staff(Role.ELEXON_ANALYST)


@pytest.fixture
def propose(member: User, catalogue: Catalogue) -> Callable[..., WorkOffItem]:
    def make(application: Application, *, actor: User | None = None, **kwargs: Any) -> WorkOffItem:
        if "defect_id" not in kwargs:
            kwargs.setdefault("case_id", catalogue.failed.pk)
        kwargs.setdefault("action", "Fix the validation in release 4.2 and re-run WOT-001 in pre-production.")
        kwargs.setdefault("owner", "Sam Tester, MHHS test lead")
        kwargs.setdefault("due_on", in_days(30))
        return workoff_item_propose(actor=actor or member, application_id=application.pk, **kwargs)

    return make


@pytest.fixture
def move() -> Callable[..., WorkOffItem]:
    """`move(item, user, "review")`: take a comment-only action on an item."""

    def act(item: WorkOffItem, actor: User, action: str, comment: str = "") -> WorkOffItem:
        return workoff_item_transition(
            actor=actor, application_id=item.application_id, item_id=item.pk, action=action, comment=comment
        )

    return act


@pytest.fixture
def agreed_item(
    qt_app: Application,
    propose: Callable[..., WorkOffItem],
    move: Callable[..., WorkOffItem],
    tester: User,
    analyst: User,
) -> WorkOffItem:
    item = propose(qt_app)
    move(item, tester, "review")
    return move(item, analyst, "agree")


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in
