"""Fixtures of the Service Activation tests: applications walked through the real services to MHHS
Qualified (so their hand-off is open), the Service Activation team, and a record of everything a
refused action must leave unchanged."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.activation.apps import register_activation_hooks
from portal.activation.models import Handoff, HandoffCheck, HandoffInput
from portal.api.tests.conftest import anonymous, api_as  # noqa: F401  (fixtures)
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from portal.qualification.models import Application, Task, TaskEntry


def task_of(application: Application, code: str = "service_activation") -> Task:
    return Task.objects.select_related("definition").get(application=application, code=code)


@dataclass(frozen=True)
class Snapshot:
    handoffs: tuple[tuple[Any, ...], ...]
    checks: tuple[tuple[Any, ...], ...]
    inputs: tuple[tuple[Any, ...], ...]
    tasks: tuple[tuple[Any, ...], ...]
    statuses: tuple[tuple[Any, ...], ...]
    entries: int
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything a hand-off service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        handoffs=tuple(Handoff.objects.order_by("pk").values_list()),
        checks=tuple(HandoffCheck.objects.order_by("pk").values_list()),
        inputs=tuple(HandoffInput.objects.order_by("pk").values_list()),
        tasks=tuple(Task.objects.order_by("pk").values_list("pk", "state", "waiting_on")),
        statuses=tuple(Application.objects.order_by("pk").values_list("pk", "status")),
        entries=TaskEntry.objects.count(),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


@pytest.fixture
def team(staff: Callable[[Role], User]) -> User:
    """A member of the Service Activation team."""
    return staff(Role.SERVICE_ACTIVATION)


@pytest.fixture
def hand_off_rules_only(content_rules_off: None) -> None:
    """The other apps' content rules (PQS, PIT checklist, QADs, decisions…) set aside, so that walking an
    application to MHHS Qualified is quick; the hand-off's own rules stay on. The whole path with
    every rule on is walked in `test_opening.py` and in `portal/tests`."""
    register_activation_hooks()


@pytest.fixture
def qualify(
    make_application: Callable[..., Application], advance: Callable[..., Application], hand_off_rules_only: None
) -> Callable[..., Application]:
    """`qualify(market_role="SUP", route="sit", organisation=None)`: an application walked until Service
    Activation is about to start: MHHS Qualified, with its hand-off open."""

    def make(**kwargs: Any) -> Application:
        kwargs.setdefault("route", "sit")
        application = advance(make_application(**kwargs), stop_before="service_activation")
        assert application.status == "qualified", application.status
        return application

    return make


@pytest.fixture
def qualified(qualify: Callable[..., Application]) -> Application:
    """A Supplier application on the SIT route, MHHS Qualified."""
    return qualify()


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def fully_qualified(make_application: Callable[..., Application], advance: Callable[..., Application]) -> Application:
    """A Supplier application on the SIT route walked to MHHS Qualified with every app's rules on, so it has
    its DIP IDs, QAD answers and decisions as the participant and the bodies made them."""
    application = advance(make_application(route="sit"), stop_before="service_activation")
    assert application.status == "qualified", application.status
    return application
