"""Screenshots of the main pages, with the demo data, for the user guide (`make screenshots`).

Builds a throwaway SQLite database with the demo data, serves it with gunicorn on a free local port,
signs in as each demo user in Debian's Chromium, checks each page with axe-core (a serious or critical
violation fails the run) and saves a 1280-pixel-wide PNG of each (256 colours, to keep them small)
under docs/user-guide/screenshots/.

    .venv/bin/python -m portal.tests.browser.screenshots [--only NAME ...]
"""

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "docs" / "user-guide" / "screenshots"


@dataclass(frozen=True)
class Shot:
    name: str
    who: str  # a demo login, or "" for a visitor who is not signed in
    path: Callable[[], str]  # worked out from the demo data once it is loaded
    caption: str
    scroll_to: str = ""  # a CSS selector to bring to the top of the picture
    height: int = 900
    before: Callable[[], None] | None = None  # a step the demo has not taken yet, taken first


def _application(organisation: str, status: str) -> int:
    from portal.qualification.models import Application

    application = Application.objects.filter(organisation__name__startswith=organisation, status=status).first()
    assert application is not None, f"the demo data has no application of {organisation} {status}"
    return application.pk


def _meeting_held() -> int:
    from portal.approvals.models import MeetingStatus, PabMeeting

    meeting = PabMeeting.objects.filter(status=MeetingStatus.HELD).order_by("-date").first()
    assert meeting is not None, "the demo data has no meeting that was held"
    return meeting.pk


def _director_signs() -> None:
    """The demo leaves Aurora's Final QAD waiting for its Director: she signs, so that the DIP Manager
    has a decision to take."""
    from portal.accounts.models import User
    from portal.demo.data import DEMO_PASSWORD
    from portal.documents.testing_support import qad_sign_final
    from portal.qualification.models import Application

    application = Application.objects.get(pk=_application("Aurora", "final_qad"))
    qad_sign_final(actor=User.objects.get(email=DIRECTOR), application=application, password=DEMO_PASSWORD)


def _in_status(status: str) -> int:
    from portal.qualification.models import Application

    application = Application.objects.filter(status=status).order_by("pk").first()
    assert application is not None, f"the demo data has no application {status}"
    return application.pk


MEMBER = "sophie.marsh@aurora-energy.example"
DIRECTOR = "catherine.doyle@aurora-energy.example"
ANALYST = "harriet.lowe@elexon.example"
TESTING = "priya.raman@mhhsprogramme.example"
PROGRAMME = "james.whitaker@mhhsprogramme.example"
DIP = "eleanor.hughes@dipmanager.example"
REC = "kwame.mensah@recmanager.example"
SECRETARY = "rachel.fox@elexon.example"
CHAIR = "margaret.ellison@bscpab.example"
ACTIVATION = "lucy.barnes@elexon.example"
ADMIN = "alex.morgan@portal.example"

SHOTS = [
    Shot("sign-in", "", lambda: "/accounts/login/", "The sign-in page"),
    Shot("participant-home", MEMBER, lambda: "/", "A participant's home: the organisation's applications"),
    Shot("application-new", MEMBER, lambda: "/applications/new/", "Starting a new application"),
    Shot(
        "application-task-list",
        MEMBER,
        lambda: f"/applications/{_application('Aurora', 'final_qad')}/",
        "An application's task list",
        height=1400,
    ),
    Shot(
        "task-page",
        MEMBER,
        lambda: f"/applications/{_application('Aurora', 'in_testing')}/tasks/qt/",
        "A task: its status, who acts next, its thread and what you can do",
        height=1100,
    ),
    Shot(
        "director-sign",
        DIRECTOR,
        lambda: f"/applications/{_application('Aurora', 'final_qad')}/qad/sign/",
        "The Director's sign-off page",
        scroll_to=".govuk-caption-l",
        height=1300,
    ),
    Shot("analyst-home", ANALYST, lambda: "/", "An Elexon analyst's home: what is waiting for you"),
    Shot("work-queue", ANALYST, lambda: "/work-queue/", "The work queue"),
    Shot(
        "review-task",
        ANALYST,
        lambda: f"/applications/{_application('Brightwater', 'final_qad')}/tasks/final_qad/",
        "A submission waiting for review: accept it or request changes",
        scroll_to=".govuk-caption-l",
        height=1500,
    ),
    Shot(
        "qt-overview",
        TESTING,
        lambda: f"/applications/{_application('Aurora', 'in_testing')}/qt/",
        "Qualification Testing, as Testing Assurance sees it",
        height=1100,
    ),
    Shot("programme-queue", PROGRAMME, lambda: "/work-queue/", "MHHS Programme assurance: PIT waiting for assurance"),
    Shot(
        "dip-decision",
        DIP,
        lambda: f"/applications/{_application('Aurora', 'in_approval')}/approvals/dip_manager/",
        "The DIP Manager's decision page: QAD section 4.5 and DIP onboarding side by side",
        height=1200,
        before=_director_signs,
    ),
    Shot("rec-queue", REC, lambda: "/approvals/rec_code_manager/", "The REC Code Manager's rolling queue"),
    Shot(
        "pab-agenda",
        SECRETARY,
        lambda: f"/pab/meetings/{_meeting_held()}/",
        "A BSC PAB meeting and its agenda",
        scroll_to="#agenda",
    ),
    Shot("pab-letters", CHAIR, lambda: "/pab/letters/", "The PAB Chair's qualification letters"),
    Shot("activation-queue", ACTIVATION, lambda: "/activation/", "The Service Activation queue"),
    Shot(
        "handoff",
        ACTIVATION,
        lambda: f"/applications/{_in_status('in_service_activation')}/activation/",
        "A Service Activation hand-off",
        height=1200,
    ),
    Shot("register", "", lambda: "/register/", "The public register of qualified participants"),
    Shot("admin", ADMIN, lambda: "/admin/", "The Django admin: reference data"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit("the server stopped before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


@contextmanager
def demo_portal() -> Iterator[str]:
    """The portal with the demo data, on a throwaway database, served by gunicorn; yields its address."""
    with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_EMAIL_BACKEND")})
        python = sys.executable
        for command in (["migrate", "--noinput", "-v", "0"], ["load_demo_data"]):
            done = subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(python).parent / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base + "/accounts/login/", server)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)


def take(shots: list[Shot]) -> None:
    import django

    with demo_portal() as base:
        django.setup()
        # Playwright's synchronous API keeps an event loop in this thread; the ORM calls here are not async.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        from playwright.sync_api import sync_playwright

        from portal.demo.data import DEMO_PASSWORD
        from portal.tests.browser.support import AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, Portal

        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            portal = Portal(browser, base, AXE_SCRIPT.read_text(encoding="utf-8"))
            for shot in shots:
                if shot.before is not None:
                    shot.before()
                path = shot.path()
                user: Any = _Login(shot.who)
                session = portal.open(user, path, password=DEMO_PASSWORD) if shot.who else portal.anonymous()
                session.goto(path)  # again, without the "signed in" banner
                page = session.page
                page.set_viewport_size({"width": 1280, "height": shot.height})
                if shot.scroll_to:
                    page.locator(shot.scroll_to).first.evaluate("el => el.scrollIntoView()")
                else:
                    page.evaluate("() => window.scrollTo(0, 0)")
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                target = OUT / f"{shot.name}.png"
                _save_small(page.screenshot(), target)
                page.set_viewport_size({"width": 1280, "height": 900})
                print(f"{target.relative_to(ROOT)}  ({target.stat().st_size // 1024} KB)  {shot.caption}")
            portal.close()
            browser.close()


def _save_small(png: bytes, target: Path) -> None:
    """A palette of 256 colours keeps a page's picture about a third of its full-colour size, and
    its text as sharp."""
    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("RGB")
    picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(target, optimize=True)


@dataclass
class _Login:
    email: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=[], help="the names of the screenshots to take again")
    args = parser.parse_args()
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    if not shots:
        raise SystemExit(f"no screenshot is called {args.only}; they are {[s.name for s in SHOTS]}")
    sys.path.insert(0, str(ROOT))
    take(shots)


if __name__ == "__main__":
    main()
