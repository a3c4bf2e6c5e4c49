"""Loading the demo data set: all or nothing, and clear about what it did. (That a load completes
what is missing and a second adds nothing is tested on the loaded set, in `test_demo_contents.py`.)"""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.demo.data import DEMO_PASSWORD
from portal.demo.services import DemoDataError, demo_data_load
from portal.notifications.models import Notification
from portal.participants.models import Membership, Mpid, Organisation
from portal.qualification.models import Application, Route, Task, TaskEntry

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Organisation, Mpid, User, Membership, Application, Task, TaskEntry, AuditEvent, Notification)
    return {model.__name__: model.objects.count() for model in models} | {
        "group members": User.groups.through.objects.count()
    }


def test_missing_reference_data_is_reported_and_nothing_is_loaded() -> None:
    Route.objects.filter(code="sit").delete()
    Group.objects.filter(name=Role.QSP.value).delete()

    with pytest.raises(DemoDataError, match=r"route sit.*group qsp|group qsp.*route sit"):
        demo_data_load()

    assert not Organisation.objects.exists() and not User.objects.exists()


def test_a_demo_mpid_held_by_another_organisation_stops_the_load_and_rolls_back() -> None:
    other = Organisation.objects.create(name="Someone Else Ltd", company_number="99999999")
    Mpid.objects.create(code="AURA", organisation=other)

    with pytest.raises(DemoDataError, match="AURA already belongs to Someone Else Ltd"):
        demo_data_load()

    assert Organisation.objects.count() == 1 and not User.objects.exists()


def test_demo_logins_without_demo_data_says_how_to_load_it() -> None:
    output = _run("demo_logins", "--url", "http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/" in output
    assert "load_demo_data" in output
    assert DEMO_PASSWORD not in output


def test_load_demo_data_refuses_under_the_production_settings(settings: Any) -> None:
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(CommandError, match="production"):
        _run("load_demo_data")
    assert not Organisation.objects.exists() and not User.objects.exists()
