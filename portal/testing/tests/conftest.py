"""Fixtures of the PIT tests: applications whose `pit` task is with the participant, users of each
party, upload helpers, and a record of everything a refused action must leave unchanged."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import api_as  # noqa: F401  (a fixture)
from portal.audit.models import AuditEvent
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.qualification.models import Application, Task, TaskEntry
from portal.qualification.services import task_transition
from portal.testing.models import PitCriterionResult, RttmUpload
from portal.testing.tests.execution_support import *  # noqa: F403  (the execution tests' fixtures, named execution_*)

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
CSV = b"Requirement ID,PIT test,QT test,QAD evidence\nREQ-001,PIT-FUN-001,QTC-001,QAD 3.1\n"


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def csv(name: str = "rttm.csv", content: bytes = CSV) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def xlsx(name: str = "rttm.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Requirement ID", "PIT test", "QT test", "QAD evidence"])
    sheet.append(["REQ-001", "PIT-FUN-001", "QTC-001", "QAD 3.1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(
        name, buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def task_of(application: Application, code: str = "pit") -> Task:
    return Task.objects.select_related("definition").get(application=application, code=code)


def stored_files() -> int:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@dataclass(frozen=True)
class Snapshot:
    results: tuple[tuple[Any, ...], ...]
    links: int
    rttm: int
    evidence: int
    files: int
    tasks: tuple[tuple[Any, ...], ...]
    entries: int
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a PIT service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        results=tuple(PitCriterionResult.objects.order_by("pk").values_list()),
        links=PitCriterionResult.evidence.through.objects.count(),
        rttm=RttmUpload.objects.count(),
        evidence=EvidenceFile.objects.count(),
        files=stored_files(),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        entries=TaskEntry.objects.count(),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


@pytest.fixture
def programme(staff: Callable[[Role], User]) -> User:
    return staff(Role.PROGRAMME_ASSURANCE)


@pytest.fixture
def pit_app(make_application: Callable[..., Application]) -> Application:
    """A Supplier application on the SIT route: no PQS, so PIT can start at once."""
    return make_application(route="sit")


@pytest.fixture
def submit_pit() -> Callable[[Application, User], Task]:
    def submit(application: Application, actor: User) -> Task:
        return task_transition(actor=actor, application_id=application.pk, task_code="pit", action="submit")

    return submit


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in
