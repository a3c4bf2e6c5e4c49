"""Driving the portal in a real browser: one signed-in `Session` per person, each page it arrives at
checked by axe-core, and the keyboard checks of the main pages.

The journeys in this folder use these helpers; see `conftest.py` for the browser and the live server."""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response

from portal.accounts.models import User
from portal.documents.testing_support import current_otp_code
from portal.factories import TEST_PASSWORD, MpidFactory, OrganisationFactory, make_member
from portal.participants.models import Organisation
from portal.qualification.models import Application
from portal.qualification.services import application_create

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container without a GPU, on a machine whose network is closed: no sandbox, no GPU, and no
# calls home (component updates, safe browsing) that the closed network would refuse.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA; a violation of these with a serious or critical impact fails the journey.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
# Wide enough for the two-column layouts; the screenshots in docs/user-guide use the same width.
VIEWPORT = {"width": 1280, "height": 900}
MAX_TABS = 250
# How long to wait for an element or a page before failing (Playwright waits 30 s by default).
TIMEOUT_MS = 10_000

_AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").split("\\n").join(" ")),
  }));
}"""

_DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.id || "").trim().replace(/\\s+/g, " ");
  return {
    tag: el.tagName.toLowerCase(), text: text.slice(0, 80), id: el.id || "",
    inMain: !!el.closest("main"), inNav: !!el.closest("nav, header"),
    visible: box.width > 0 && box.height > 0,
  };
}"""


# Put the keyboard's starting point back at the top of the page, as on a fresh load (a success banner,
# say, takes focus when the page loads).
_FOCUS_TOP = """() => {
  document.body.setAttribute("tabindex", "-1");
  document.body.focus();
  document.body.removeAttribute("tabindex");
  window.scrollTo(0, 0);
}"""


class AccessibilityFailure(AssertionError):
    pass


@dataclass
class Focus:
    tag: str
    text: str
    id: str
    in_main: bool
    in_nav: bool
    visible: bool

    def __str__(self) -> str:
        return f"<{self.tag}{' #' + self.id if self.id else ''}> {self.text!r}"


def new_participant(name: str, mpid: str, *, new_entrant: bool = False) -> tuple[Organisation, User, User]:
    """An organisation with one MPID, a member and a Company Director."""
    organisation = cast(Organisation, OrganisationFactory(name=name, is_new_entrant=new_entrant))
    MpidFactory(organisation=organisation, code=mpid)
    slug = mpid.lower()
    member = make_member(organisation, email=f"member@{slug}.test", full_name=f"{name} member")
    director = make_member(organisation, director=True, email=f"director@{slug}.test", full_name=f"{name} director")
    return organisation, member, director


def register_application(member: User, organisation: Organisation, market_role: str, route: str = "") -> Application:
    """Registered through the service, as the member would on the "Start a new application" page."""
    return application_create(
        actor=member,
        organisation_id=organisation.pk,
        mpid_code=organisation.mpids.get().code,
        market_role_code=market_role,
        route_code=route or "non_sit_supplier_agent",
    )


def task_titles(application: Application) -> list[str]:
    return [task.definition.title for task in application.tasks.select_related("definition").order_by("order")]


def run_background_jobs() -> None:
    """The real task worker, as `manage.py db_worker` runs it, until the queue is empty: PDFs, e-mails."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


class Session:
    """One person's browser tab, signed in (or not) through the real pages."""

    def __init__(self, portal: "Portal", context: BrowserContext, who: str) -> None:
        self.portal = portal
        self.context = context
        self.page: Page = context.new_page()
        self.who = who
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # A file that fails to load is reported by `_response`, with its address.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console error: {message.text}")

    def _response(self, response: Response) -> None:
        """A style sheet, script or image of the page that fails to load. (The browser asks for
        /favicon.ico on pages that do not name their icon, such as Django's admin.)"""
        request = response.request
        if request.resource_type != "document" and response.status >= 400 and not request.url.endswith("/favicon.ico"):
            self.errors.append(f"{request.resource_type} {request.url} answered {response.status}")

    # --- moving around -----------------------------------------------------------------------------
    def goto(self, path: str, *, status: int = 200) -> Response:
        response = self.page.goto(self.portal.url(path), wait_until="load")
        assert response is not None
        self._arrived(response, status)
        return response

    def follow(self, name: str | re.Pattern[str], *, within: Locator | None = None, status: int = 200) -> Response:
        """Click the link called `name` and check the page it leads to."""
        scope = within if within is not None else self.page.locator("main")
        return self._navigate(lambda: scope.get_by_role("link", name=name).first.click(), status)

    def press(self, name: str | re.Pattern[str], *, within: Locator | None = None, status: int = 200) -> Response:
        """Press the button called `name` (a form submit) and check the page that comes back."""
        scope = within if within is not None else self.page.locator("main")
        return self._navigate(lambda: scope.get_by_role("button", name=name).first.click(), status)

    def key(self, key: str, *, status: int = 200) -> Response:
        """Press a key that submits or follows what has focus (Enter on a button or a link)."""
        return self._navigate(lambda: self.page.keyboard.press(key), status)

    def _navigate(self, action: Callable[[], None], status: int) -> Response:
        with self.page.expect_navigation(wait_until="load") as navigation:
            action()
        response = navigation.value
        assert response is not None
        self._arrived(response, status)
        return response

    def _arrived(self, response: Response, status: int) -> None:
        assert response.status == status, (
            f"{self.who}: {response.url} answered {response.status}, expected {status}\n{self.main_text()[:1500]}"
        )
        self.audit()

    # --- reading the page ----------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self.page.url.removeprefix(self.portal.base_url)

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def heading(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def banner(self) -> str:
        """The success banner's message, or ''."""
        banner = self.page.locator(".govuk-notification-banner--success .govuk-notification-banner__heading")
        return banner.first.inner_text().strip() if banner.count() else ""

    def error_summary(self) -> str:
        summary = self.page.locator(".govuk-error-summary")
        return summary.first.inner_text().strip() if summary.count() else ""

    def expect_banner(self, text: str) -> None:
        assert text in self.banner(), f"{self.who} at {self.path}: no banner saying {text!r}\n{self.main_text()[:2000]}"

    def expect_text(self, text: str) -> None:
        assert text in self.main_text(), f"{self.who} at {self.path}: {text!r} is not on the page"

    # --- accessibility ---------------------------------------------------------------------------------
    def audit(self) -> None:
        """axe-core on the page as it is now: any serious or critical WCAG 2.1 AA violation fails."""
        page = self.page
        violations = page.evaluate(_AXE_RUN, AXE_TAGS)
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            raise AccessibilityFailure(
                f"{self.who} at {self.path}: {len(blocking)} serious or critical accessibility violation(s):\n"
                + json.dumps(blocking, indent=2)
            )
        assert not self.errors, f"{self.who} at {self.path}: {self.errors}"

    # --- the keyboard ------------------------------------------------------------------------------------
    def focused(self) -> Focus | None:
        described = self.page.evaluate(_DESCRIBE_FOCUS)
        if described is None:
            return None
        return Focus(
            tag=described["tag"],
            text=described["text"],
            id=described["id"],
            in_main=described["inMain"],
            in_nav=described["inNav"],
            visible=described["visible"],
        )

    def tabs(self, *, backwards: bool = False) -> Iterator[Focus]:
        """Press Tab again and again, yielding what has focus each time (at most MAX_TABS times)."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            focus = self.focused()
            if focus is not None:
                assert focus.visible, f"{self.who} at {self.path}: focus went to an invisible element {focus}"
                yield focus

    def tab_to(self, target: Locator) -> int:
        """Press Tab until `target` has focus; fails if it never does. Returns how many presses it took."""
        target = target.first
        for count, _ in enumerate(self.tabs(), start=1):
            if target.evaluate("el => el === document.activeElement"):
                return count
        raise AssertionError(f"{self.who} at {self.path}: Tab never reached {target}")

    def check_keyboard(self, primary: Locator, *, nav: tuple[str, ...] = ("Home", "Applications")) -> list[Focus]:
        """On a freshly loaded page: the first Tab reaches the skip link, which moves focus to the main
        content; from the top again, Tab goes through the menu (`nav`, in order) and then reaches the
        `primary` action, every stop visible. Returns the focus order up to the primary action."""
        page = self.page
        page.evaluate(_FOCUS_TOP)
        first = next(self.tabs())
        assert first.text == "Skip to main content", f"{self.who} at {self.path}: the first Tab reached {first}"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement && document.activeElement.id") == "main-content", (
            f"{self.who} at {self.path}: the skip link did not move focus to the main content"
        )
        # From the top again: through the menu to the primary action.
        page.evaluate(_FOCUS_TOP)
        order: list[Focus] = []
        primary = primary.first
        for focus in self.tabs():
            order.append(focus)
            if primary.evaluate("el => el === document.activeElement"):
                break
        else:
            raise AssertionError(f"{self.who} at {self.path}: Tab never reached {primary}")
        texts = [f.text for f in order if f.in_nav]
        positions = []
        for name in nav:
            assert any(t.startswith(name) for t in texts), (
                f"{self.who} at {self.path}: Tab did not reach {name!r} in the menu; it went {texts}"
            )
            positions.append(next(i for i, t in enumerate(texts) if t.startswith(name)))
        assert positions == sorted(positions), f"{self.who} at {self.path}: the menu is out of order: {texts}"
        assert order[-1].in_main, f"{self.who} at {self.path}: the primary action {order[-1]} is outside <main>"
        return order

    def choose_radio_by_keyboard(self, group: Locator, label: str) -> None:
        """Tab into a radio group and move with the arrow keys to the option called `label`."""
        radios = group.get_by_role("radio")
        wanted = group.get_by_role("radio", name=label, exact=True)
        self.tab_to(radios)
        for _ in range(radios.count()):
            if wanted.evaluate("el => el === document.activeElement"):
                break
            self.page.keyboard.press("ArrowDown")
        assert wanted.evaluate("el => el === document.activeElement"), f"the arrow keys never reached {label!r}"
        self.page.keyboard.press("Space")
        assert wanted.is_checked()

    def close(self) -> None:
        self.context.close()


class Portal:
    """The portal served by the test's live server, and the people using it, each in their own browser
    context (their own cookies), signed in through the real sign-in page."""

    def __init__(self, browser: Browser, base_url: str, axe_source: str) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.axe_source = axe_source
        self.sessions: dict[str, Session] = {}
        self.others: list[Session] = []

    def url(self, path: str) -> str:
        return self.base_url + path

    def anonymous(self) -> Session:
        session = self._session("anonymous visitor")
        self.others.append(session)
        return session

    def _session(self, who: str) -> Session:
        context = self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        # axe-core is put into every page as the browser loads it (outside the page's own CSP).
        context.add_init_script(script=self.axe_source)
        return Session(self, context, who)

    def open(self, user: Any, path: str, *, keyboard: bool = False, password: str = TEST_PASSWORD) -> Session:
        """`user`'s tab at `path`. The first time, they sign in on the sign-in page and land on `path`
        (as after following a link from one of the portal's e-mails); afterwards the tab is kept.
        `keyboard`: the sign-in form is filled and sent with the keyboard alone."""
        email = user.email
        session = self.sessions.get(email)
        if session is not None:
            session.goto(path)
            return session
        session = self._session(email)
        session.goto(f"/accounts/login/?{urlencode({'next': path})}")
        page = session.page
        if keyboard:
            # The skip link first; Enter on it moves to the main content, then the fields in order.
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            session.tab_to(page.get_by_label("E-mail address"))
            page.keyboard.type(email)
            session.tab_to(page.get_by_label("Password"))
            page.keyboard.type(password)
            session.tab_to(page.get_by_role("button", name="Sign in"))
            session.key("Enter")
        else:
            page.get_by_label("E-mail address").fill(email)
            page.get_by_label("Password").fill(password)
            session.press("Sign in")
        if session.path == "/accounts/2fa/authenticate/":
            # Staff and directors then enter the code their authenticator app shows (computed from the
            # secret the factories and the demo data give them).
            code = current_otp_code(user)
            if keyboard:
                session.tab_to(page.get_by_label("Authenticator code"))
                page.keyboard.type(code)
                session.tab_to(page.get_by_role("button", name="Continue"))
                session.key("Enter")
            else:
                page.get_by_label("Authenticator code").fill(code)
                session.press("Continue")
        assert session.path == path, f"{email} signed in to {session.path}, not {path}\n{session.error_summary()}"
        self.sessions[email] = session
        return session

    def save_screenshots(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for session in [*self.sessions.values(), *self.others]:
            name = re.sub(r"[^a-z0-9.@_-]+", "-", session.who.lower())
            try:
                session.page.screenshot(path=folder / f"{name}.png", full_page=True)
                (folder / f"{name}.txt").write_text(f"{session.page.url}\n\n{session.main_text()}", encoding="utf-8")
            except Exception:  # noqa: S110 (a page that cannot be saved must not hide the failure)
                pass

    def close(self) -> None:
        for session in [*self.sessions.values(), *self.others]:
            session.close()
        self.sessions.clear()
        self.others.clear()
