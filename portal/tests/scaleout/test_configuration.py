"""What the environment switches on (docs/deployment.md): the task backend, the cache, the evidence
storage and the PostgreSQL connection pool; and the 503 a request gets when no database connection
can be had (P-11)."""

import json
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connections
from django.test import RequestFactory

from portal.core.unavailable import server_error

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "config" / "settings" / "base.py"
OURS = (
    "DATABASE_URL",
    "REDIS_URL",
    "PORTAL_TASK_BACKEND",
    "PORTAL_S3_BUCKET",
    "PORTAL_S3_ENDPOINT_URL",
    "PORTAL_S3_REGION",
    "PORTAL_S3_PREFIX",
    "PORTAL_DB_POOL_MIN",
    "PORTAL_DB_POOL_MAX",
    "PORTAL_DB_POOL_TIMEOUT",
    "PORTAL_RQ_JOB_TIMEOUT",
)


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """`load(NAME="value", …)`: the base settings as they come out of that environment."""

    def run(**env: str) -> dict[str, Any]:
        for name in OURS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(BASE))

    return run


def test_by_default_everything_is_embedded(load: Any) -> None:
    settings = load()
    assert settings["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert settings["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert "django_rq" not in settings["INSTALLED_APPS"]
    # Sessions stay in the database (shared by every instance) whatever the cache is.
    database_sessions = "django.contrib.sessions.backends.db"
    assert settings.get("SESSION_ENGINE", database_sessions) == database_sessions


def test_redis_url_gives_the_rq_backend_and_a_shared_cache(load: Any) -> None:
    settings = load(REDIS_URL="redis://redis.internal:6379/2")
    assert settings["TASKS"]["default"] == {"BACKEND": "portal.core.tasks.OnCommitRQBackend", "QUEUES": ["default"]}
    assert settings["RQ_QUEUES"]["default"]["URL"] == "redis://redis.internal:6379/2"
    assert settings["RQ"]["JOB_CLASS"] == "django_tasks_rq.Job"
    assert "django_rq" in settings["INSTALLED_APPS"]
    assert settings["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://redis.internal:6379/2"


def test_the_database_backend_can_be_kept_with_redis_for_the_cache(load: Any) -> None:
    settings = load(REDIS_URL="redis://redis.internal:6379/2", PORTAL_TASK_BACKEND="database")
    assert settings["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert settings["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize(
    ("env", "message"),
    [({"PORTAL_TASK_BACKEND": "rq"}, "needs REDIS_URL"), ({"PORTAL_TASK_BACKEND": "celery"}, "must be")],
)
def test_a_task_backend_that_cannot_work_is_refused_at_start(load: Any, env: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(**env)


def test_an_s3_bucket_holds_private_never_overwritten_evidence(load: Any) -> None:
    settings = load(
        PORTAL_S3_BUCKET="evidence",
        PORTAL_S3_ENDPOINT_URL="https://s3.example.net",
        PORTAL_S3_REGION="eu-west-2",
    )
    storage = settings["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "evidence"
    assert options["endpoint_url"] == "https://s3.example.net"
    assert options["region_name"] == "eu-west-2"
    assert options["default_acl"] is None
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] <= 3600
    assert "access_key" not in options, "keys come from the environment or the instance role, never the settings"


def test_the_pool_takes_its_sizes_from_the_environment(load: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg_pool", types.ModuleType("psycopg_pool"))
    settings = load(
        DATABASE_URL="postgres://portal@db.internal:5432/portal",
        PORTAL_DB_POOL_MIN="2",
        PORTAL_DB_POOL_MAX="8",
        PORTAL_DB_POOL_TIMEOUT="5",
    )
    database = settings["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 5.0}
    assert database["CONN_MAX_AGE"] == 0, "Django refuses persistent connections with a pool"


def test_without_a_pool_connections_persist(load: Any) -> None:
    database = load(DATABASE_URL="postgres://portal@db.internal:5432/portal")["DATABASES"]["default"]
    assert "pool" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 60


def test_a_pool_without_its_package_is_refused_at_start(load: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as if not installed
    with pytest.raises(ImproperlyConfigured, match=r"psycopg\[pool\]"):
        load(DATABASE_URL="postgres://portal@db.internal:5432/portal", PORTAL_DB_POOL_MAX="8")


# --- no database connection: 503 -----------------------------------------------------------------


def _raised(exc: Exception) -> Any:
    request = RequestFactory().get("/applications/")
    try:
        raise exc
    except Exception:
        return server_error(request)


def test_no_connection_to_be_had_answers_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections["default"], "connection", None)
    response = _raised(OperationalError("couldn't get a connection after 10.00 sec"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "busy" in response.content.decode()


def test_other_errors_stay_500(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections["default"], "connection", object())  # a query failed on an open connection
    assert _raised(OperationalError("deadlock detected")).status_code == 500
    monkeypatch.setattr(connections["default"], "connection", None)
    assert _raised(ValueError("a bug")).status_code == 500


def test_a_database_that_refuses_connections_gives_503_on_pages_and_readiness(tmp_path: Path) -> None:
    """The whole stack, DEBUG off, against a PostgreSQL address where nothing listens: the readiness
    check and a signed-in page (whose session cannot be read) both answer 503 at once, not a hang."""
    script = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
client.cookies["sessionid"] = "x" * 32
ready = client.get("/health/ready")
page = client.get("/applications/")
print(json.dumps([ready.status_code, page.status_code, page.get("Retry-After")]))
"""
    env = {key: value for key, value in os.environ.items() if key not in OURS and not key.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": "postgres://portal@127.0.0.1:9/portal?connect_timeout=2",
            "PORTAL_VAR_DIR": str(tmp_path),
            "PORTAL_LOG_LEVEL": "CRITICAL",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [503, 503, "5"]


def test_with_rq_and_no_transaction_a_redis_error_reaches_the_caller(settings: Any) -> None:
    """Outside a transaction (a command run with `--enqueue`) the job is published at once, and a Redis
    that cannot take it is an error for the caller, not a silent loss."""
    import redis

    from portal.notifications.tasks import send_notification_email

    settings.TASKS = {"default": {"BACKEND": "portal.core.tasks.OnCommitRQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0", "SOCKET_CONNECT_TIMEOUT": 1}}
    settings.RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    with pytest.raises(redis.exceptions.ConnectionError):
        send_notification_email.enqueue(1)
