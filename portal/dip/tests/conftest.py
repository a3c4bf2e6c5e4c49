"""Fixtures of the DIP onboarding tests: applications whose `dip_onboarding` task is with the
participant, the DIP Manager, and a record of everything a refused action must leave unchanged."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import api_as  # noqa: F401  (a fixture)
from portal.audit.models import AuditEvent
from portal.dip.models import DipId, DipStepProgress
from portal.notifications.models import Notification
from portal.qualification.models import Application, Task, TaskEntry


def task_of(application: Application, code: str = "dip_onboarding") -> Task:
    return Task.objects.select_related("definition").get(application=application, code=code)


@dataclass(frozen=True)
class Snapshot:
    progress: tuple[tuple[Any, ...], ...]
    dip_ids: tuple[tuple[Any, ...], ...]
    tasks: tuple[tuple[Any, ...], ...]
    entries: int
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a DIP onboarding service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        progress=tuple(DipStepProgress.objects.order_by("pk").values_list()),
        dip_ids=tuple(DipId.objects.order_by("pk").values_list()),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        entries=TaskEntry.objects.count(),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


@pytest.fixture
def dip_manager(staff: Callable[[Role], User]) -> User:
    return staff(Role.DIP_MANAGER)


@pytest.fixture
def dip_app(make_application: Callable[..., Application]) -> Application:
    """A Supplier application on the SIT route: no PQS, so DIP onboarding can start at once."""
    return make_application(route="sit")


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in
