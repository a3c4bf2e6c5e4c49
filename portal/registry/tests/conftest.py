"""Fixtures of the register tests: the workflow core with the register's own effects hooked in, and
applications walked to the approvals with the real services."""

from collections.abc import Callable
from typing import Any

import pytest

from portal.notifications.reference_data import distribution_lists_load
from portal.participants.models import Organisation
from portal.qualification.models import Application
from portal.qualification.tests.fixtures import driver, team
from portal.registry.effects import register_effects

__all__ = ["driver", "team"]


@pytest.fixture(autouse=True)
def register_hooked(content_rules_off: None) -> None:
    """The content apps' rules (the PQS, PIT, QAD answers and signature…) are set aside, so that each
    task can be taken by its generic action; the register's own effects are hooked in again, since
    setting the rules aside unhooks every app's effects. That the register is hooked in with every
    app's rules in place is tested in `test_end_to_end.py`."""
    register_effects()


@pytest.fixture
def distribution_lists(db: None) -> None:
    distribution_lists_load()


@pytest.fixture
def in_approval(
    make_application: Callable[..., Application], advance: Callable[..., Application]
) -> Callable[..., Application]:
    """`in_approval(market_role="SUP")`: an application on the SIT route whose Final QAD a Director has
    signed, every approval waiting."""

    def make(*, market_role: str = "SUP", organisation: Organisation | None = None, **kwargs: Any) -> Application:
        application = make_application(route="sit", market_role=market_role, organisation=organisation, **kwargs)
        return advance(application, stop_before="approval_dip_manager")

    return make
