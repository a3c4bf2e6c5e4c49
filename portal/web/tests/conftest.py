from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from portal.qualification.models import Application, Task


@pytest.fixture
def login(client: Client) -> Callable[[Any], Client]:
    """`login(user)` signs the test client in as `user` and returns it."""

    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def task_of() -> Callable[[Application, str], Task]:
    def get(application: Application, code: str) -> Task:
        return Task.objects.select_related("definition").get(application=application, code=code)

    return get


@pytest.fixture
def generic_tasks(content_rules_off: None) -> None:
    """Take every task generically, as the process table allows.

    The apps that hold a task's content (the PQS form, the PIT checklist, DIP onboarding, the QADs and
    their signature) hook guards and effects into its transitions; their rules and pages are tested in
    those apps. The task pages here are the generic face of the workflow, so most of these tests set
    the hooks aside; `test_task_hooks.py` keeps them and checks their refusals reach the page."""
