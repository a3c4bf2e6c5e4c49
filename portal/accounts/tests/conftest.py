"""Fixtures of the accounts tests: signing in through the real forms (password, then the code of the
authenticator app), and moving the clock forward without sleeping."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from portal.accounts.mfa import totp_code
from portal.approvals.tests.conftest import signed  # noqa: F401  (a fixture)
from portal.factories import TEST_PASSWORD, TEST_TOTP_SECRET

LOGIN = "/accounts/login/"


class Clock:
    """`time.time()` for everything in the process (allauth's rate limits, TOTP counters and
    authentication records, and the session middleware), moved forward on demand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = time.time
        # Start half a second into an authenticator period. Codes are accepted in their own 30-second
        # period only (no tolerance), so a test that computes a code and posts it must not straddle a
        # period's end; starting at its beginning leaves the test almost the whole period, however
        # busy the machine. Moving forward by whole periods keeps the alignment.
        period = float(settings.MFA_TOTP_PERIOD)
        self.offset = period - real() % period + 0.5
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def forward(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def post_password(client: Client, email: str, password: str = TEST_PASSWORD) -> Any:
    return client.post(LOGIN, {"login": email, "password": password})


def sign_in(client: Client, user: Any, *, password: str = TEST_PASSWORD, code: str | None = None) -> Any:
    """The sign-in form, then (when allauth asks for it) the authenticator code computed from the test
    secret, as the user's phone would show it."""
    response = post_password(client, user.email, password)
    if response.status_code == 302 and response["Location"].startswith(reverse("mfa_authenticate")):
        response = client.post(reverse("mfa_authenticate"), {"code": code or totp_code(TEST_TOTP_SECRET)})
    return response


@pytest.fixture
def signs_in() -> Callable[..., Any]:
    return sign_in
