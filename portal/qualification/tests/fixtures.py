"""Fixtures shared by the domain tests of several apps (imported by their conftest modules)."""

from collections.abc import Callable

import pytest

from portal.accounts.models import User
from portal.accounts.roles import STAFF_ROLES, Role
from portal.factories import make_staff
from portal.qualification.tests.helpers import ActorFor, Advance, Driver


@pytest.fixture(autouse=True)
def workflow_core_only(content_rules_off: None) -> None:
    """These tests exercise the workflow core: every task taken generically, as the process table
    allows. The apps that hold a task's content (the PQS, the PIT checklist, DIP onboarding, the QADs
    and their signature) hook guards and effects into its transitions; those rules are tested in their
    own apps, and are set aside here so that a generic submission is what it is in the core. That the
    core runs hooks at all, and where, is tested in `test_hooks.py`."""


@pytest.fixture
def team(staff: Callable[[Role], User]) -> dict[Role, list[User]]:
    """Two users for every staff role: the one `actor_for` acts as, and a colleague, so that tests
    can tell "everyone holding the role except the actor" from "nobody"."""
    return {
        role: [staff(role), make_staff(role, email=f"{role.value}.colleague@bodies.test")]
        for role in sorted(STAFF_ROLES)
    }


@pytest.fixture
def driver(actor_for: ActorFor, advance: Advance) -> Driver:
    return Driver(actor_for, advance)
