"""The world of the security tests, built once for the package in a transaction rolled back at its end,
and one signed-in client per subject."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from portal.tests.security.matrix import Caller
from portal.tests.security.world import World, build_world


@pytest.fixture(scope="package")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="package")
def caller(world: World, django_db_blocker: Any) -> Caller:
    with django_db_blocker.unblock():
        return Caller(world)
