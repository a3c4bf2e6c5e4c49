"""A real worker process (`manage.py db_worker`) killed with SIGKILL at each point of the SMTP
conversation, then `requeue_stale_email` and a new worker: every message is delivered, and delivered
once (counted by Message-ID, as a receiving system that drops duplicates counts them).

Kill points, and what the portal knows afterwards (see `portal.notifications.services`):

- **connecting**: the server accepted the TCP connection but never greeted; nothing of the message was
  sent and it is still `queued`. The requeue sends it: one transmission in all.
- **data sent, no reply**: the server received the whole message (and, like a server that commits on
  the final dot, kept it) but had not answered; the message is `sending`. The portal cannot know
  whether the server holds it, so the requeue sends it again, same Message-ID: two transmissions,
  one delivery.
- **accepted, not recorded**: the server answered 250 but the "sent" mark could not commit yet (the
  row is held by another transaction); the message is `sending`: as above, two transmissions, one
  delivery. This and the previous point are the one window SMTP cannot close.
- **recorded, before QUIT**: the server accepted it and the portal recorded it sent, then the worker
  died waiting for the reply to QUIT: the message is `sent` and never sent again. One transmission.

On SQLite the test database lives in memory, where another process cannot see it: it is copied to a
file, which the worker and the requeue (run with the base settings) use, and the test reads with plain
SQL. On PostgreSQL they use the test database itself (a transactional test, so the rows are committed).
ASVS v5.0.0-2.3.3; goal S-18 of the reliability anchors."""

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection, transaction

from portal.accounts.roles import Role
from portal.factories import make_staff
from portal.notifications import services
from portal.notifications.models import EmailStatus, Notification
from portal.notifications.services import notify

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_db"),
]

ROOT = Path(settings.BASE_DIR)
WAIT = 60.0
KILL_POINTS = ("connecting", "data_sent_no_reply", "accepted_not_recorded", "recorded_before_quit")
STATE_AFTER_KILL = {
    "connecting": EmailStatus.QUEUED,
    "data_sent_no_reply": EmailStatus.SENDING,
    "accepted_not_recorded": EmailStatus.SENDING,
    "recorded_before_quit": EmailStatus.SENT,
}
REQUEUE_NOW = (
    "from datetime import timedelta; from portal.notifications.services import email_requeue_stale; "
    "report = email_requeue_stale(older_than=timedelta(0)); print(f'requeued={report.requeued}')"
)
TRANSMISSIONS = {"connecting": 1, "data_sent_no_reply": 2, "accepted_not_recorded": 2, "recorded_before_quit": 1}


@dataclass
class StallingServer:
    """An SMTP server that keeps every message it receives (`received`: each transmission), delivers
    each Message-ID once (`delivered`, as a receiving system with duplicate suppression does), and
    can stall at a point of the conversation until released."""

    stall_at: str = ""
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    received: list[Any] = field(default_factory=list)

    @property
    def delivered(self) -> dict[str, Any]:
        unique: dict[str, Any] = {}
        for message in self.received:
            unique.setdefault(message["Message-ID"], message)
        return unique

    async def _stall(self, point: str) -> None:
        if self.stall_at == point:
            self.stall_at = ""
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Kept on the final dot, before the reply, as a server that commits its queue file first does.
        self.received.append(message_from_bytes(envelope.content, policy=default))
        await self._stall("data")
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        await self._stall("quit")
        return "221 Bye"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mail_server() -> Iterator[tuple[StallingServer, int]]:
    server = StallingServer()
    port = _free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server, port
    finally:
        server.release.set()
        controller.stop()


@dataclass
class SilentServer:
    """Accepts TCP connections and never says a word (no greeting); `connected` is set on the first."""

    port: int
    connected: threading.Event


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    server = SilentServer(port=int(listener.getsockname()[1]), connected=threading.Event())
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            accepted.append(listener.accept()[0])
            server.connected.set()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()
        for peer in accepted:
            peer.close()


class SharedDatabase:
    """The database the worker processes use, read and written by the test with plain SQL."""

    def __init__(self, tmp_path: Path) -> None:
        self.vendor = connection.vendor
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        self.env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
        self.env["PORTAL_VAR_DIR"] = str(tmp_path)
        if self.vendor == "sqlite":
            self.path = tmp_path / "portal.sqlite3"
            target = sqlite3.connect(self.path)
            connection.ensure_connection()
            connection.connection.backup(target)  # the in-memory test database, as it is now
            target.close()
            self.raw: Any = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        else:
            params = connection.settings_dict
            user, host, port, name = params["USER"], params["HOST"], params["PORT"], params["NAME"]
            password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
            self.env["DATABASE_URL"] = f"postgres://{user}{password}@{host or '127.0.0.1'}:{port or 5432}/{name}"
            self.raw = None
        self._holder: Any = None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            return list(self.raw.execute(sql.replace("%s", "?"), params).fetchall())
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def message(self, pk: int) -> tuple[str, str, int]:
        ((status, error, attempts),) = self.query(
            "SELECT email_status, last_error, attempts FROM notifications_notification WHERE id = %s", (pk,)
        )
        return status, error, attempts

    def hold_row(self, pk: int) -> None:
        """Hold a write lock that the worker's "sent" mark must wait for."""
        if self.vendor == "sqlite":
            self._holder = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._holder.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self._holder = psycopg.connect(self.env["DATABASE_URL"].replace("postgres://", "postgresql://"))
            self._holder.execute("SELECT id FROM notifications_notification WHERE id = %s FOR UPDATE", (pk,))

    def wait_until_blocked(self) -> None:
        """Until the worker waits for the held lock (PostgreSQL shows it; on SQLite, a moment)."""
        if self.vendor == "sqlite":
            time.sleep(1.5)
            return
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            waiting = self.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s",
                ("UPDATE %notifications_notification%",),
            )
            if waiting[0][0]:
                return
            time.sleep(0.05)
        raise AssertionError("the worker never waited to record the message as sent")

    def end_orphans(self) -> None:
        """PostgreSQL notices that a killed client is gone only when it next talks to it: the backend of
        the killed worker would still run its waiting "sent" UPDATE once the lock is free. End it, as a
        crash of the worker's machine would, so the mark is certainly not recorded."""
        if self.vendor == "sqlite":
            return
        self.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ("UPDATE %notifications_notification%",),
        )

    def let_go(self) -> None:
        if self._holder is not None:
            self._holder.rollback() if self.vendor != "sqlite" else self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    def close(self) -> None:
        self.let_go()
        if self.raw is not None:
            self.raw.close()


def manage(db: SharedDatabase, smtp_port: int, *args: str) -> subprocess.Popen[bytes]:
    env = {**db.env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}
    env["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes]) -> str:
    output, _ = process.communicate(timeout=WAIT * 2)
    return output.decode(errors="replace")


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_worker_killed_mid_delivery_loses_nothing_and_delivers_once(
    tmp_path: Path,
    mail_server: tuple[StallingServer, int],
    silent_server: SilentServer,
    kill_point: str,
) -> None:
    server, port = mail_server
    analyst = make_staff(Role.ELEXON_ANALYST, email="analyst@bodies.test")
    with transaction.atomic():
        (notification,) = notify(recipients=[analyst], subject="Approved", body="The DIP Manager approved.")
    expected_id = services.message_id("notification", notification.pk, notification.created_at)
    db = SharedDatabase(tmp_path)
    try:
        server.stall_at = {"data_sent_no_reply": "data", "accepted_not_recorded": "data"}.get(kill_point, "")
        if kill_point == "recorded_before_quit":
            server.stall_at = "quit"
        first_port = silent_server.port if kill_point == "connecting" else port
        worker = manage(db, first_port, "db_worker", "--batch", "--no-startup-delay", "--no-reload")
        if kill_point == "connecting":
            # The worker has taken the job and connected, and waits for the server's greeting.
            assert silent_server.connected.wait(WAIT), finish(worker)
        else:
            assert server.reached.wait(WAIT), "the worker never reached the point where it is to be killed"
        if kill_point == "accepted_not_recorded":
            db.hold_row(notification.pk)
            server.release.set()  # the server answers 250; the worker then waits to record it
            db.wait_until_blocked()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=WAIT)
        db.end_orphans()
        db.let_go()
        server.release.set()

        status, _, attempts = db.message(notification.pk)
        assert (status, attempts) == (STATE_AFTER_KILL[kill_point], 1)

        # The requeue as cron runs it, its threshold passed at once (the dead worker's job is then
        # "running for longer than the threshold"). The rows are not aged instead: the Message-ID is
        # made from the creation time, which must stay what it was.
        requeue = finish(manage(db, port, "shell", "-c", REQUEUE_NOW))
        if kill_point == "recorded_before_quit":
            assert "requeued=[]" in requeue, requeue
        else:
            assert f"requeued=['notification {notification.pk}']" in requeue, requeue
        if STATE_AFTER_KILL[kill_point] == EmailStatus.SENDING:
            assert db.message(notification.pk)[:2] == (EmailStatus.FAILED, services.INTERRUPTED)
        output = finish(manage(db, port, "db_worker", "--batch", "--no-startup-delay", "--no-reload"))

        status, error, attempts = db.message(notification.pk)
        assert (status, error) == (EmailStatus.SENT, ""), output
        assert attempts == (1 if kill_point == "recorded_before_quit" else 2)
        assert list(server.delivered) == [expected_id]
        assert len(server.received) == TRANSMISSIONS[kill_point]
        assert all(message["Message-ID"] == expected_id for message in server.received)
    finally:
        db.close()
    assert Notification.objects.count() == 1
