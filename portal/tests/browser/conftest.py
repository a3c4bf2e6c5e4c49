"""The browser journeys: Playwright driving Debian's Chromium against the portal served by the test's
live server (pytest-django's `live_server`, transactional: the reference data is loaded again by
`portal/conftest.py`).

`make test` installs Chromium (`make browser`) and axe-core (npm); run these alone with
`.venv/bin/pytest portal/tests/browser -m browser -p no:randomly`. Without Chromium or axe-core they are
skipped, unless PORTAL_REQUIRE_BROWSER is set (as `make test` does), when they fail."""

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, sync_playwright

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.factories import TEST_PASSWORD, make_member
from portal.participants.models import Membership
from portal.qualification.journey import advance_application
from portal.qualification.models import Application, Task
from portal.tests.browser.support import AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, Portal

FAILURES = Path(settings.BASE_DIR) / "var" / "browser-failures"


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (`make browser` installs Debian's chromium)"
    if not AXE_SCRIPT.exists():
        return f"{AXE_SCRIPT} is missing (`npm ci` installs axe-core)"
    return ""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    missing = _missing()
    if missing:
        if os.environ.get("PORTAL_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)
    # Playwright's synchronous API runs an event loop in this thread; Django would take every ORM call
    # the test makes between two browser steps for one made from async code. It is not.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


_outcome = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_outcome] = report
    return report


@pytest.fixture
def portal(request: pytest.FixtureRequest, browser: Browser, axe_source: str, live_server: Any) -> Iterator[Portal]:
    """The portal as people use it: `portal.open(user, path)` is that user's signed-in browser tab. When the
    test fails, each tab's last page is saved under var/browser-failures/<test>/."""
    served = Portal(browser, live_server.url, axe_source)
    yield served
    report = request.node.stash.get(_outcome, None)
    if report is not None and report.failed:
        served.save_screenshots(FAILURES / request.node.name)
    served.close()


@pytest.fixture
def walk(staff: Callable[[Role], Any]) -> Callable[..., Application]:
    """`walk(application, stop_at_state=("pit", "submitted"))`: the journey helper, as the same people
    who sign in to the browser (the organisation's first member and director, the `staff` fixture's
    users), for the content-heavy steps between two browser steps."""

    def person(task: Task, role: Role) -> Any:
        if role not in PARTICIPANT_ROLES:
            return staff(role)
        is_director = role == Role.PARTICIPANT_DIRECTOR
        organisation = task.application.organisation
        membership = (
            Membership.objects.filter(organisation=organisation, is_director=is_director).order_by("pk").first()
        )
        return membership.user if membership else make_member(organisation, director=is_director)

    def run(application: Application, **kwargs: Any) -> Application:
        kwargs.setdefault("password", TEST_PASSWORD)
        return advance_application(application, actor_for=person, **kwargs)

    return run
