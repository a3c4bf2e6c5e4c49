from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from portal.accounts.roles import Role
from portal.demo.data import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_demo_logins_without_demo_data_says_how_to_load_it() -> None:
    output = _run("demo_logins", "--url", "http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/" in output
    assert "load_demo_data" in output
    assert DEMO_PASSWORD not in output


def test_load_demo_data_says_what_it_did_then_that_nothing_was_needed() -> None:
    first = _run("load_demo_data")
    assert "Demo data loaded: 11 organisations" in first
    assert "QA-00001" in first and "Rejected" in first and "Withdrawn" in first

    second = _run("load_demo_data")
    assert "nothing added" in second

    logins = _run("demo_logins", "--url", "http://localhost:9000/")
    assert "http://localhost:9000/" in logins and DEMO_PASSWORD in logins
    for role in Role:
        assert role.label in logins
    assert "Aurora Energy Supply Ltd" in logins
    assert "http://localhost:9000/admin/" in logins


def test_load_demo_data_refuses_under_the_production_settings(settings: Any) -> None:
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(CommandError, match="production"):
        _run("load_demo_data")
