"""A small production-like cluster on loopback for the scale-out test: two gunicorn instances and two
RQ workers with the production settings, one PostgreSQL database, one Redis database, an S3-compatible
object store (moto's server, a real HTTP S3 API in its own process) and an SMTP server.

Everything it starts is stopped, and the database, the Redis database and the bucket are removed,
when the `Cluster` context ends."""

import functools
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import psycopg
import redis
import requests
from aiosmtpd.controller import Controller
from psycopg import sql

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
# A Redis database of its own (not 0, which a developer's own run may use); flushed before and after.
REDIS_DB = int(os.environ.get("PORTAL_SCALEOUT_REDIS_DB", "14"))
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BUCKET = "portal-evidence-scaleout"
HOST = "127.0.0.1"  # the Host header every request carries, as behind one load balancer


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"Timed out after {timeout:.0f} s waiting for {what}")


# --- the SMTP server -------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """Every message an SMTP server on 127.0.0.1 accepted; each takes `delay` seconds to accept, so
    that one worker cannot empty the queue before the other has started."""

    delay: float = 0.05
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        await asyncio.sleep(self.delay)
        self.received.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"


# --- the cluster -----------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    """Start with `with Cluster(database_url, template=...) as cluster:`."""

    database_url: str  # the PostgreSQL server to use (its database name is not used)
    template: str | None = None  # a migrated database to copy; else the new one is migrated
    web_threads: int = 4
    instances: dict[str, str] = field(default_factory=dict)  # name → base URL
    processes: list[Process] = field(default_factory=list)
    mailbox: Mailbox = field(default_factory=Mailbox)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-scaleout-")))
    seed_data: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.database_url)
        self.db_name = f"portal_scaleout_{os.getpid()}"
        self._server_url = parts._replace(path="/postgres").geturl()
        self.app_database_url = parts._replace(path=f"/{self.db_name}").geturl()
        self.redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
        self.redis = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        self._stack = ExitStack()

    # -- lifecycle --

    def __enter__(self) -> "Cluster":
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        self.timings["start"] = time.monotonic() - started
        return self

    def __exit__(self, *exc: object) -> None:
        started = time.monotonic()
        self._stack.close()
        self.timings["stop"] = time.monotonic() - started

    def _start(self) -> None:
        self._stack.callback(shutil.rmtree, self.workdir, True)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        self.redis.flushdb()
        self._stack.callback(self.redis.flushdb)
        mark = time.monotonic()
        self._create_database()
        self.timings["database"] = time.monotonic() - mark
        s3_port = free_port()
        self._spawn("s3", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], env=dict(os.environ))
        self.s3_endpoint = f"http://127.0.0.1:{s3_port}"
        smtp_port = free_port()
        controller = Controller(self.mailbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        self._stack.callback(controller.stop)
        self.env = self._environment(smtp_port)
        wait_for(lambda: self._port_open(s3_port), timeout=30, what="the S3 server")
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        mark = time.monotonic()
        for name in ("a", "b"):
            port = free_port()
            self.instances[name] = f"http://127.0.0.1:{port}"
            self._spawn(
                f"web-{name}",
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    str(self.web_threads),
                    "--log-level",
                    "warning",
                ],
            )
        for name in ("w1", "w2"):
            self._spawn(
                f"worker-{name}",
                [PYTHON, "manage.py", "rqworker", "default", "--job-class", "django_tasks_rq.Job", "--name", name],
            )
        self.seed_data = self.seed("setup")  # while the four processes start
        self.timings["seed"] = time.monotonic() - mark
        for name, url in self.instances.items():
            wait_for(functools.partial(self._ready, url), timeout=60, what=f"instance {name} to be ready")
        wait_for(lambda: len(self.worker_names()) == 2, timeout=60, what="both workers to register")
        self.timings["processes"] = time.monotonic() - mark

    def _create_database(self) -> None:
        with psycopg.connect(self._server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.db_name)))
            copied = False
            if self.template:
                try:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                            sql.Identifier(self.db_name), sql.Identifier(self.template)
                        )
                    )
                    copied = True
                except psycopg.Error as exc:  # the template is in use or missing: migrate a new database
                    self.timings["template_refused"] = 0.0
                    logging.getLogger(__name__).warning("Could not copy %s (%s): migrating", self.template, exc)
            if not copied:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db_name)))
        self._stack.callback(self._drop_database)
        if not copied:
            self.manage("migrate", "--noinput", "-v", "0")

    def _drop_database(self) -> None:
        with psycopg.connect(self._server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db_name)))

    def _environment(self, smtp_port: int) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PORTAL_", "DJANGO_"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "portal.tests.scaleout.settings",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": HOST,
                "DATABASE_URL": self.app_database_url,
                "REDIS_URL": self.redis_url,
                "PORTAL_S3_BUCKET": BUCKET,
                "PORTAL_S3_ENDPOINT_URL": self.s3_endpoint,
                "PORTAL_S3_REGION": "eu-west-2",
                "AWS_ACCESS_KEY_ID": "scaleout-test",
                "AWS_SECRET_ACCESS_KEY": "scaleout-test",  # moto accepts any keys
                "PORTAL_VAR_DIR": str(self.workdir / "var"),
                "PORTAL_BASE_URL": f"https://{HOST}",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
                "PORTAL_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                # Each instance keeps its connections in psycopg's pool, as a production deployment would.
                "PORTAL_DB_POOL_MIN": "1",
                "PORTAL_DB_POOL_MAX": str(self.web_threads),
            }
        )
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.workdir / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        process = Process(name, popen, log)
        if not self.processes:
            self._stack.callback(self._stop_all)
        self.processes.append(process)
        return process

    def _stop_all(self) -> None:
        """Stop every process at once: gunicorn quickly (SIGINT; SIGTERM would wait out its graceful
        timeout), the others with SIGTERM; kill what is still there after 3 s (an idle RQ worker can
        take longer to close its Redis subscription; by then the test has checked the queue is empty)."""
        running = [process for process in self.processes if process.popen.poll() is None]
        for process in running:
            process.popen.send_signal(signal.SIGINT if process.name.startswith("web-") else signal.SIGTERM)
        started = time.monotonic()
        deadline = started + 3
        for process in running:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)
            self.timings[f"stop-{process.name}"] = time.monotonic() - started

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", port)) == 0

    def _ready(self, url: str) -> bool:
        for process in self.processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited early:\n{process.tail()}")
        try:
            response = requests.get(f"{url}/health/ready", headers=Browser.HEADERS, timeout=2)
        except requests.RequestException:
            return False
        return response.status_code == 200

    # -- helpers for the test --

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env_or_base(), capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def env_or_base(self) -> dict[str, str]:
        env = getattr(self, "env", None)
        if env is not None:
            return env
        base = {key: value for key, value in os.environ.items() if not key.startswith(("PORTAL_", "DJANGO_"))}
        return {**base, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": self.app_database_url}

    def seed(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [PYTHON, "-m", "portal.tests.scaleout.seed", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"seed {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    @property
    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="eu-west-2",
            aws_access_key_id="scaleout-test",
            aws_secret_access_key="scaleout-test",
        )

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.app_database_url) as conn:
            return conn.execute(query, params).fetchall()

    def worker_names(self) -> set[str]:
        from rq import Worker

        return {worker.name for worker in Worker.all(connection=self.redis)}

    def logs(self) -> str:
        return "\n\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.processes)


class Browser:
    """A browser's cookie jar and requests, as they reach the app behind a TLS-terminating proxy:
    every request says `X-Forwarded-Proto: https`, the same Host and the client's address as the proxy
    adds it, whichever instance it reaches."""

    HEADERS = {"X-Forwarded-Proto": "https", "Host": HOST, "X-Forwarded-For": "192.0.2.10"}

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def get(self, base: str, path: str) -> requests.Response:
        return self._send("GET", base, path)

    def post(self, base: str, path: str, data: dict[str, Any], files: Any = None) -> requests.Response:
        headers = {"Origin": f"https://{HOST}", "Referer": f"https://{HOST}{path}"}
        return self._send("POST", base, path, data=data, files=files, headers=headers)

    def _send(self, method: str, base: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        response = requests.request(
            method,
            f"{base}{path}",
            headers={**self.HEADERS, **(headers or {})},
            cookies=self.cookies,
            allow_redirects=False,
            timeout=60,
            **kw,
        )
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value or ""
        return response

    def form_token(self, base: str, path: str) -> str:
        response = self.get(base, path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, base: str, email: str, password: str) -> requests.Response:
        token = self.form_token(base, "/accounts/login/")
        return self.post(base, "/accounts/login/", {"login": email, "password": password, "csrfmiddlewaretoken": token})


def pdf_bytes(size: int) -> bytes:
    """A file that passes the evidence checks as a PDF, with random content of about `size` bytes."""
    return b"%PDF-1.7\n% " + secrets.token_hex(size // 2).encode() + b"\n%%EOF\n"
