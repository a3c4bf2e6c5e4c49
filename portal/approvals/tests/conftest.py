"""Fixtures of the approvals tests: the people involved, applications whose Final QAD is signed,
meetings at chosen distances from today, and a record of everything a refused action must leave
unchanged."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import anonymous, api_as  # noqa: F401  (fixtures)
from portal.approvals.models import CalendarFeed, DeadlineReminder, MeetingStatus, PabMeeting, PabTarget
from portal.approvals.selectors import working_calendar
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.notifications.models import Notification
from portal.participants.models import Organisation
from portal.qualification.models import Application


@pytest.fixture
def analyst(staff: Callable[[Role], User]) -> User:
    return staff(Role.ELEXON_ANALYST)


@pytest.fixture
def secretary(staff: Callable[[Role], User]) -> User:
    return staff(Role.PAB_SECRETARY)


@pytest.fixture
def signed(
    make_application: Callable[..., Application], advance: Callable[..., Application], content_rules_off: None
) -> Callable[..., Application]:
    """`signed(market_role="SUP")`: an application on the SIT route whose Final QAD a Director has
    signed, its approvals waiting. The content rules (QAD answers, PIT checklist…) are set aside: the
    approvals calendar reads only the tasks' states, and those rules are tested in their own apps."""

    def make(*, market_role: str = "SUP", organisation: Organisation | None = None, **kwargs: Any) -> Application:
        application = make_application(route="sit", market_role=market_role, organisation=organisation, **kwargs)
        return advance(application, stop_before="approval_dip_manager")

    return make


def working_day_after(days: int) -> date:
    """The first working day at least `days` calendar days from today (UK)."""
    return working_calendar().next_working_day(uk_today() + timedelta(days=days))


@pytest.fixture
def make_meeting() -> Callable[..., PabMeeting]:
    """`make_meeting(days=40)`: a scheduled meeting on the first working day `days` or more days from
    today, its paper deadline 5 working days before (or `paper_deadline=`). Made directly, as a
    generated meeting would be."""

    def make(
        days: int = 40,
        *,
        paper_deadline: date | None = None,
        status: str = MeetingStatus.SCHEDULED,
        on: date | None = None,
        **kwargs: Any,
    ) -> PabMeeting:
        day = on or working_day_after(days)
        deadline = paper_deadline or working_calendar().add_working_days(day, -5)
        return PabMeeting.objects.create(
            date=day,
            starts_at=time(10, 0),
            location="Online (Microsoft Teams)",
            paper_deadline=deadline,
            status=status,
            cancelled_reason="Not enough business." if status == MeetingStatus.CANCELLED else "",
            **kwargs,
        )

    return make


@dataclass(frozen=True)
class Snapshot:
    meetings: tuple[tuple[Any, ...], ...]
    targets: tuple[tuple[Any, ...], ...]
    reminders: int
    feeds: tuple[tuple[Any, ...], ...]
    audit: int
    notifications: int
    jobs: int
    applications: tuple[tuple[Any, ...], ...]


def snapshot() -> Snapshot:
    """Everything an approvals service may write, as plain values: a refusal must leave it unchanged."""
    return Snapshot(
        meetings=tuple(PabMeeting.objects.order_by("pk").values_list()),
        targets=tuple(PabTarget.objects.order_by("pk").values_list()),
        reminders=DeadlineReminder.objects.count(),
        feeds=tuple(CalendarFeed.objects.order_by("pk").values_list("pk", "nonce", "token_hash")),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
        applications=tuple(Application.objects.order_by("pk").values_list("pk", "status")),
    )


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in


def inbox(user: User) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))
