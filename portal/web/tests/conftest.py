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
