"""`Idempotency-Key` on API writes: Zulip's nine cases as a checklist, and then some.

1. first call runs and keeps its answer        6. a concurrent duplicate answers 409
2. a replay of a success repeats it             7. an expired key runs again
3. a replay of a 4xx repeats the 4xx             8. no key: every call runs
4. same key, different request: 422              9. a 5xx is not kept: the retry runs
5. same key, another user: independent
"""

import io
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.accounts.services import api_token_create
from portal.api import idempotency
from portal.api.models import IdempotencyKey
from portal.api.tests.conftest import ApiClient, assert_error, counts
from portal.factories import make_member
from portal.qualification import services
from portal.qualification.models import Attachment, Task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_workflow")]

KEY = "6f1c1a56-3c55-4bd4-9a64-0b6a3c0d3b1e"


def _transitions(application, code="pqs"):
    return f"/api/v1/applications/{application.pk}/tasks/{code}/transitions"


class KeyedClient(ApiClient):
    def post(self, path, payload=None, key=KEY, **extra):
        import json

        headers = {**self.headers, **({idempotency.HEADER: key} if key is not None else {})}
        return self.client.post(path, json.dumps(payload or {}), content_type="application/json", headers=headers)


@pytest.fixture
def keyed():
    def make(user):
        _, secret = api_token_create(actor=user, user=user, name="idempotency tests")
        return KeyedClient(secret)

    return make


# 1 and 2 ---------------------------------------------------------------------------------------


def test_first_call_runs_and_keeps_its_answer(keyed, member, make_application):
    application = make_application()
    before = counts()
    response = keyed(member).post(_transitions(application), {"action": "submit"})
    assert response.status_code == 200, response.content
    assert idempotency.REPLAYED_HEADER not in response
    assert counts()["audit"] > before["audit"]
    record = IdempotencyKey.objects.get(user=member, key=KEY)
    assert record.status_code == 200
    assert bytes(record.body) == response.content
    assert record.content_type.startswith("application/json")
    assert record.method == "POST" and record.path == _transitions(application)
    assert record.expires_at - record.created_at == timedelta(hours=24)


def test_a_replay_of_a_success_repeats_it_and_changes_nothing(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    first = client.post(_transitions(application), {"action": "submit"})
    assert first.status_code == 200
    after_first = counts()
    replayed = client.post(_transitions(application), {"action": "submit"})
    assert replayed.status_code == 200
    assert replayed.content == first.content
    assert replayed["Content-Type"] == first["Content-Type"]
    assert replayed[idempotency.REPLAYED_HEADER] == "true"
    # No second transition, audit event, entry or notification.
    assert counts() == after_first
    assert Task.objects.get(application=application, code="pqs").entries.count() == 1


def test_a_replayed_upload_stores_no_second_file(keyed, member, make_application, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    application = make_application()
    client = keyed(member)

    def send():
        upload = SimpleUploadedFile("plan.txt", b"Our test plan.\n", content_type="text/plain")
        return client.client.post(
            _transitions(application) + "/upload",
            {"action": "submit", "files": [upload]},
            headers={**client.headers, idempotency.HEADER: KEY},
        )

    first = send()
    assert first.status_code == 200, first.content
    stored = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    after_first = counts()
    again = send()
    assert again.status_code == 200 and again.content == first.content
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert Attachment.objects.count() == 1
    assert counts() == after_first
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == stored


# 3 ---------------------------------------------------------------------------------------------


def test_a_replay_of_a_refusal_repeats_the_refusal(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    refused = client.post(_transitions(application), {"action": "accept"})
    body = assert_error(refused, 409, "invalid_transition")
    before = counts()
    again = client.post(_transitions(application), {"action": "accept"})
    assert again.status_code == 409
    assert again.json() == body
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert counts() == before


def test_a_kept_validation_error_is_repeated_even_once_the_request_would_pass(keyed, member, make_application):
    """A client changes the key after a 4xx; the same key keeps meaning the same answer."""
    application = make_application()
    client = keyed(member)
    assert_error(client.post(_transitions(application), {"action": "submit", "comment": 5}), 422, "invalid_input")
    assert_error(client.post(_transitions(application), {"action": "submit", "comment": 5}), 422, "invalid_input")
    assert client.post(_transitions(application), {"action": "submit"}, key="a-new-key").status_code == 200


# 4 ---------------------------------------------------------------------------------------------


def test_the_same_key_with_a_different_request_answers_422(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    assert client.post(_transitions(application), {"action": "start"}).status_code == 200
    before = counts()
    body = assert_error(client.post(_transitions(application), {"action": "submit"}), 422, "idempotency_key_reused")
    assert "already used for a different request" in body["message"]
    assert body["details"] == {"field": "Idempotency-Key", "first_used_for": f"POST {_transitions(application)}"}
    # Another address with the same body is a different request too.
    body = assert_error(
        client.post(_transitions(application, "pit"), {"action": "start"}), 422, "idempotency_key_reused"
    )
    assert counts() == before
    assert Task.objects.get(application=application, code="pqs").state == "in_progress"


# 5 ---------------------------------------------------------------------------------------------


def test_the_same_key_of_another_user_is_independent(keyed, member, make_application, org):
    colleague = make_member(org, email="colleague@northern.test", full_name="Cole League")
    application = make_application()
    assert keyed(member).post(_transitions(application), {"action": "start"}).status_code == 200
    response = keyed(colleague).post(_transitions(application), {"action": "submit"})
    assert response.status_code == 200, response.content
    assert idempotency.REPLAYED_HEADER not in response
    assert response.json()["state"] == "submitted"
    assert IdempotencyKey.objects.filter(key=KEY).count() == 2


# 6 ---------------------------------------------------------------------------------------------


def test_a_duplicate_while_the_first_is_in_flight_answers_409(keyed, member, make_application):
    application = make_application()
    now = timezone.now()
    fingerprint = idempotency.request_fingerprint(
        method="POST", path=_transitions(application), body_digest=_json_digest({"action": "submit"})
    )
    IdempotencyKey.objects.create(
        user=member,
        key=KEY,
        fingerprint=fingerprint,
        method="POST",
        path=_transitions(application),
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )
    before = counts()
    body = assert_error(
        keyed(member).post(_transitions(application), {"action": "submit"}), 409, "idempotency_key_in_use"
    )
    assert "still being processed" in body["message"]
    assert counts() == before


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(keyed, member, make_application):
    application = make_application()
    long_ago = timezone.now() - idempotency.IN_FLIGHT_TIMEOUT - timedelta(seconds=1)
    IdempotencyKey.objects.create(
        user=member,
        key=KEY,
        fingerprint="x",
        method="POST",
        path="/",
        created_at=long_ago,
        expires_at=long_ago + timedelta(hours=24),
    )
    response = keyed(member).post(_transitions(application), {"action": "submit"})
    assert response.status_code == 200, response.content
    assert IdempotencyKey.objects.get(user=member, key=KEY).status_code == 200


def _json_digest(payload):
    import hashlib
    import json

    return hashlib.sha256(b"application/json\0" + json.dumps(payload).encode()).hexdigest()


# 7 ---------------------------------------------------------------------------------------------


def test_an_expired_key_runs_the_request_again(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    assert client.post(_transitions(application), {"action": "start"}).status_code == 200
    IdempotencyKey.objects.filter(key=KEY).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(_transitions(application), {"action": "submit"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert IdempotencyKey.objects.get(key=KEY).fingerprint != ""


def test_expired_keys_are_purged_by_the_command_and_on_a_new_claim(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    client.post(_transitions(application), {"action": "start"}, key="old-1")
    client.post(_transitions(application), {"action": "submit"}, key="old-2")
    IdempotencyKey.objects.filter(key="old-1").update(expires_at=timezone.now() - timedelta(seconds=1))
    client.post(_transitions(application), {"action": "start"}, key="new")
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"old-2", "new"}
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 2 expired" in out.getvalue()
    assert not IdempotencyKey.objects.exists()


# 8 ---------------------------------------------------------------------------------------------


def test_without_a_key_every_call_runs(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    assert client.post(_transitions(application), {"action": "submit"}, key=None).status_code == 200
    assert_error(client.post(_transitions(application), {"action": "submit"}, key=None), 409, "invalid_transition")
    assert not IdempotencyKey.objects.exists()


def test_a_read_ignores_the_key(keyed, member, make_application):
    application = make_application()
    client = keyed(member)
    response = client.client.get(
        f"/api/v1/applications/{application.pk}", headers={**client.headers, "Idempotency-Key": KEY}
    )
    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


# 9 ---------------------------------------------------------------------------------------------


def test_a_server_error_is_not_kept_and_the_retry_runs(keyed, member, make_application, monkeypatch):
    application = make_application()
    client = keyed(member)
    real = services.task_transition

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "task_transition", broken)
    assert_error(client.post(_transitions(application), {"action": "submit"}), 500, "server_error")
    assert not IdempotencyKey.objects.exists()
    monkeypatch.setattr(services, "task_transition", real)
    retried = client.post(_transitions(application), {"action": "submit"})
    assert retried.status_code == 200
    assert idempotency.REPLAYED_HEADER not in retried


# The header itself, sessions, the document ---------------------------------------------------------


@pytest.mark.parametrize("key", ["", " leading", "trailing ", "x" * 256, "naïve", "tab\tinside"])
def test_a_malformed_key_answers_422_and_changes_nothing(keyed, member, make_application, key):
    application = make_application()
    before = counts()
    body = assert_error(
        keyed(member).post(_transitions(application), {"action": "submit"}, key=key), 422, "invalid_input"
    )
    assert "Idempotency-Key header must be 1 to 255 printable ASCII characters" in body["message"]
    assert body["details"] == {"field": "Idempotency-Key"}
    assert counts() == before


def test_an_unauthenticated_call_with_a_key_is_refused_as_any_other(make_application):
    application = make_application()
    client = KeyedClient()
    assert_error(client.post(_transitions(application), {"action": "submit"}), 401, "not_authenticated")
    assert not IdempotencyKey.objects.exists()


def test_a_session_write_needs_its_csrf_token_before_a_key_is_honoured(member, make_application):
    application = make_application()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    response = browser.post(
        _transitions(application),
        {"action": "submit"},
        content_type="application/json",
        headers={"Idempotency-Key": KEY},
    )
    assert_error(response, 403, "csrf_failed")
    assert not IdempotencyKey.objects.exists()
    browser.get("/api/v1/me")
    token = browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else None
    if token is None:
        pytest.skip("the CSRF cookie is not set by the API")
    headers = {"Idempotency-Key": KEY, "X-CSRFToken": token}
    first = browser.post(
        _transitions(application), {"action": "submit"}, content_type="application/json", headers=headers
    )
    again = browser.post(
        _transitions(application), {"action": "submit"}, content_type="application/json", headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again[idempotency.REPLAYED_HEADER] == "true"


def test_the_openapi_document_describes_the_header_on_every_write(client):
    document = client.get("/api/openapi.json").json()
    writes = 0
    for path_item in document["paths"].values():
        for method, operation in path_item.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method in {"post", "put", "patch", "delete"}:
                writes += 1
                assert "Idempotency-Key" in names, operation["operationId"]
                assert {"409", "422"} <= set(operation["responses"]), operation["operationId"]
            else:
                assert "Idempotency-Key" not in names
    assert writes > 50
    assert "Idempotency-Key" in document["info"]["description"]


# 6, for real: two requests at once on PostgreSQL -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once_on_postgresql(member, make_application, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race is checked on PostgreSQL")
    application = make_application()
    _, secret = api_token_create(actor=member, user=member, name="race")
    entered = threading.Event()
    release = threading.Event()
    real = services.task_transition

    def slow(**kwargs):
        entered.set()
        assert release.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(services, "task_transition", slow)
    answers: dict[str, int] = {}

    def send(name):
        try:
            answers[name] = KeyedClient(secret).post(_transitions(application), {"action": "submit"}).status_code
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert answers == {"first": 200, "second": 409}
    assert Task.objects.get(application=application, code="pqs").entries.count() == 1
    assert IdempotencyKey.objects.get(key=KEY).status_code == 200
