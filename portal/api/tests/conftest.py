"""Calling the API in tests the way a client system does: over HTTP, with a bearer token per user."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.accounts.services import api_token_create
from portal.qualification.models import Application, Attachment, Task, TaskEntry

CSRF_TOKEN = "k" * 32


class ApiClient:
    """A Django test client that sends JSON with a bearer token (or nothing, for anonymous calls)."""

    def __init__(self, secret: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path: str, payload: Any = None, **extra: Any) -> Any:
        body = json.dumps(payload if payload is not None else {})
        return self.client.post(path, body, content_type="application/json", headers=self.headers, **extra)

    def post_raw(self, path: str, body: str, content_type: str = "application/json") -> Any:
        return self.client.post(path, body, content_type=content_type, headers=self.headers)

    def post_multipart(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.headers)

    def request(self, method: str, path: str) -> Any:
        return self.client.generic(method, path, headers=self.headers)


@pytest.fixture
def generic_workflow(content_rules_off: None) -> None:
    """Set aside the content rules that other apps hook into task transitions (the PQS must be
    complete, the PIT checklist met, the QAD answered and signed with a password, …).

    The API offers the generic transitions of the process table; those rules are tested in their own
    apps and reach the API as ordinary application errors (see `test_tasks.py`). Without them, every
    task can be taken by the generic action, which is what the API tests exercise."""


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    """`api_as(user)`: a client holding an API token of that user (the same one within a test)."""
    clients: dict[int, ApiClient] = {}

    def make(user: User) -> ApiClient:
        if user.pk not in clients:
            _, secret = api_token_create(actor=user, user=user, name="tests")
            clients[user.pk] = ApiClient(secret)
        return clients[user.pk]

    return make


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is JSON `{code, message, details}` with this status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    return body


def counts() -> dict[str, int]:
    """What a refused request must leave unchanged."""
    from portal.audit.models import AuditEvent
    from portal.notifications.models import Notification

    return {
        "applications": Application.objects.count(),
        "entries": TaskEntry.objects.count(),
        "attachments": Attachment.objects.count(),
        # Tokens made lazily by `api_as` are set-up, not the change under test; a refusal's own record
        # (`authz.denied`, portal/core/authz_audit.py) logs the attempt and changes nothing.
        "audit": AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        "notifications": Notification.objects.count(),
        "task_states": hash(tuple(Task.objects.order_by("pk").values_list("state", flat=True))),
        "statuses": hash(tuple(Application.objects.order_by("pk").values_list("status", flat=True))),
    }
