"""Django's deployment checklist passes under the production settings (goal S-01; ASVS v5.0.0-13.4.2).

`manage.py check --deploy --fail-level WARNING` runs in a fresh process with
`DJANGO_SETTINGS_MODULE=config.settings.production` and the environment a deployment provides (a long
random secret key, the site's host names). `DATABASE_URL` is left unset: the checks do not depend on
the database engine, and SQLite needs no server. No check is silenced (`SILENCED_SYSTEM_CHECKS` is
empty), so any issue fails this test.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PORTAL_", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="qualification.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://qualification.example.org",
        PORTAL_BASE_URL="https://qualification.example.org",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    return env


def test_check_deploy_reports_no_issues_under_production_settings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_production_settings_silence_no_check(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(repr(settings.SILENCED_SYSTEM_CHECKS), settings.DEBUG)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] False"
