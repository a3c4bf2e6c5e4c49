"""Fixtures of the PQS tests: applications on the routes that have a PQS, a filled-in PQS, proposal
items, users of each party, and a record of everything a refused action must leave unchanged."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.participants.models import Organisation
from portal.prequalification.models import PqsSubmission, PqsVersion, RelianceProposalItem
from portal.prequalification.services import ItemFields, PqsFields
from portal.qualification.models import Application, Task, TaskEntry

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"

PLAN = PqsFields(
    preferred_wave="wave-2",
    pit_approach="PIT in our own environment with the vendor's regression pack.",
    pit_start_date=date(2027, 1, 4),
    pit_completion_date=date(2027, 4, 30),
    qt_approach="The QTC set in the QTF.",
    qt_start_date=date(2027, 6, 1),
    qt_completion_date=date(2027, 9, 30),
    target_migration_date=date(2027, 12, 1),
    supplier_hub_relationships="Meter Co Ltd (MTRC) as MEM",
)

RELIED_ON = ItemFields(
    title="Vendor flow management",
    scope="test_cases",
    identifiers="QTC-SUP-001, QTC-SUP-002\nQTC-SUP-002",
    relied_on=True,
    provider_kind="software_vendor",
    provider_name="Example Billing Systems Ltd",
    artefacts="Vendor test completion report v2",
    rationale="Unchanged vendor product, tested end to end by the vendor.",
)

NOT_RELIED_ON = ItemFields(
    title="Our CRM and billing interfaces",
    scope="test_scenarios",
    identifiers=["TS-010", "TS-011"],
    relied_on=False,
    rationale="Built in house: we test them ourselves in QT.",
)


@pytest.fixture
def analyst(staff: Callable[[Role], User]) -> User:
    return staff(Role.ELEXON_ANALYST)


@pytest.fixture
def new_entrant(org: Organisation) -> Organisation:
    org.is_new_entrant = True
    org.save(update_fields=["is_new_entrant"])
    return org


def task_of(application: Application, code: str = "pqs") -> Task:
    return Task.objects.select_related("definition").get(application=application, code=code)


@dataclass(frozen=True)
class Snapshot:
    pqs: tuple[tuple[Any, ...], ...]
    items: tuple[tuple[Any, ...], ...]
    links: int
    versions: int
    evidence: int
    tasks: tuple[tuple[Any, ...], ...]
    entries: int
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a PQS service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        pqs=tuple(PqsSubmission.objects.order_by("pk").values_list()),
        items=tuple(RelianceProposalItem.objects.order_by("pk").values_list()),
        links=RelianceProposalItem.evidence.through.objects.count(),
        versions=PqsVersion.objects.count(),
        evidence=EvidenceFile.objects.count(),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        entries=TaskEntry.objects.count(),
        audit=AuditEvent.objects.exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in
