"""Audit events record where they came from (ASVS v5.0.0-16.2.1): the client address, read by the
rule sign-in throttling uses, and the request id that the response carries in `X-Request-ID`.

Both are covered by the hash chain when an event has them, and left out of it when it has not, so that
chains written before they were recorded still verify. They are shown with the history only to those
who may read the whole audit log."""

import asyncio
import hashlib
import json
import logging
import re
from typing import Any, cast

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.audit.models import AuditEvent
from portal.audit.services import GENESIS_HASH, audit_record, audit_verify
from portal.audit.tests.tampering import raw_sql
from portal.core.request_context import (
    REQUEST_ID_HEADER,
    RequestContextMiddleware,
    RequestIdLogFilter,
    current_request_origin,
)
from portal.factories import UserFactory
from portal.qualification.models import Application

pytestmark = pytest.mark.django_db

FRESH_ID = re.compile(r"[0-9a-f]{32}")
SUPPLIER = {"mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"}


def events_after(sequence: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"))


def last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def run_in_request(request: HttpRequest, work: Any = None) -> HttpResponse:
    """Answer `request` through the middleware alone, doing `work` (say, writing events) as the view."""

    def view(request: HttpRequest) -> HttpResponse:
        if work is not None:
            work()
        return HttpResponse("done")

    return cast(HttpResponse, RequestContextMiddleware(view)(request))


def record(action: str, target: Any) -> AuditEvent:
    with transaction.atomic():
        return audit_record(actor=None, action=action, target=target)


@pytest.fixture
def superuser_client(client: Client) -> Client:
    client.force_login(cast(User, UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)))
    return client


# --- written during a request -------------------------------------------------------------------


def test_an_event_written_in_a_page_request_records_the_address_and_the_request_id(superuser_client):
    before = last_sequence()

    response = superuser_client.post(
        reverse("admin:approvals_nonworkingday_add"),
        {"date": "2026-12-24", "reason": "Office closure"},
        REMOTE_ADDR="203.0.113.7",
        headers={REQUEST_ID_HEADER: "proxy-7f3a.b_9"},
    )

    assert response.status_code == 302
    assert response[REQUEST_ID_HEADER] == "proxy-7f3a.b_9"
    (event,) = events_after(before)
    assert event.action == "admin.nonworkingday.create"
    assert (event.client_address, event.request_id) == ("203.0.113.7", "proxy-7f3a.b_9")
    assert audit_verify().ok


def test_an_event_written_in_an_api_request_records_the_address_and_the_id_the_response_carried(member, org):
    _, secret = api_token_create(actor=member, user=member, name="tests")
    before = last_sequence()

    response = Client().post(
        "/api/v1/applications",
        json.dumps({"organisation_id": org.pk, **SUPPLIER}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
        REMOTE_ADDR="2001:db8::7",
    )

    assert response.status_code == 201, response.content
    request_id = response[REQUEST_ID_HEADER]
    assert FRESH_ID.fullmatch(request_id)  # none was sent: a fresh one
    written = events_after(before)
    assert written and all((e.client_address, e.request_id) == ("2001:db8::7", request_id) for e in written)
    assert audit_verify().ok


def test_an_event_written_outside_a_request_has_neither(member):
    assert current_request_origin() is None

    event = record("test.outside", member)

    event.refresh_from_db()
    assert (event.client_address, event.request_id) == (None, "")


def test_every_answer_carries_a_request_id(client, member):
    """Pages, redirects, missing pages and refused API calls alike; each request its own id."""
    answers = [
        client.get("/"),
        client.get("/no/such/page/"),
        client.get("/api/v1/applications"),
        client.get("/api/v1/applications", headers={REQUEST_ID_HEADER: "caller-1"}),
    ]

    ids = [answer[REQUEST_ID_HEADER] for answer in answers]
    assert answers[2].status_code == 401 and answers[1].status_code == 404
    assert all(FRESH_ID.fullmatch(i) for i in ids[:3]) and len(set(ids)) == 4
    assert ids[3] == "caller-1"


@pytest.mark.parametrize(
    "hostile",
    ["a" * 65, "abc\x00def", "abc\ndef", "abc\r\nSet-Cookie: x=1", "abc def", "<script>", "ünïcode", ""],
    ids=["too-long", "nul", "newline", "header-injection", "space", "markup", "non-ascii", "empty"],
)
def test_a_hostile_request_id_is_replaced_not_echoed(member, hostile):
    request = RequestFactory().get("/", headers={REQUEST_ID_HEADER: hostile})
    seen: list[str] = []

    def work() -> None:
        seen.append(record("test.hostile", member).request_id)

    response = run_in_request(request, work)

    assert response[REQUEST_ID_HEADER] != hostile
    assert FRESH_ID.fullmatch(response[REQUEST_ID_HEADER])
    assert seen == [response[REQUEST_ID_HEADER]]


def test_a_request_id_of_the_longest_allowed_length_is_kept():
    longest = "A-z0.9_" * 9 + "x"
    assert len(longest) == 64
    response = run_in_request(RequestFactory().get("/", headers={REQUEST_ID_HEADER: longest}))
    assert response[REQUEST_ID_HEADER] == longest


# --- the client address: the sign-in throttle's rule --------------------------------------------


def _address_seen(**meta: Any) -> str | None:
    request = RequestFactory().get("/", **meta)
    seen: list[str | None] = []
    run_in_request(request, lambda: seen.append(cast(Any, current_request_origin()).client_address))
    return seen[0]


def test_behind_one_trusted_proxy_the_address_is_the_last_forwarded_one(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.9"}

    assert _address_seen(**forwarded) == "203.0.113.9"  # what our proxy appended; the rest is the client's word
    assert _address_seen(REMOTE_ADDR="10.0.0.2") == "10.0.0.2"  # no header: the proxy's own request


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    assert _address_seen(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.66") == "192.0.2.10"


def test_an_address_that_cannot_be_read_leaves_the_event_without_one(settings, member):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2  # but only one entry: the proxies are not as configured
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    written: list[AuditEvent] = []

    response = run_in_request(request, lambda: written.append(record("test.unreadable", member)))

    assert response.status_code == 200
    assert written[0].client_address is None and written[0].request_id == response[REQUEST_ID_HEADER]
    assert _address_seen(REMOTE_ADDR="not-an-address") is None


# --- tamper evidence ------------------------------------------------------------------------------


@pytest.fixture
def chain(member) -> list[AuditEvent]:
    """Six events: 1 and 2 written outside a request, 3 to 6 in requests (6 over IPv6 written as an
    IPv4-mapped address, which databases write back in different forms)."""
    record("test.outside", member)
    record("test.outside", member)
    for n, address in enumerate(["192.0.2.1", "192.0.2.2", "2001:db8::1", "::ffff:192.0.2.3"], start=3):
        request = RequestFactory().get("/", REMOTE_ADDR=address, headers={REQUEST_ID_HEADER: f"req-{n}"})
        run_in_request(request, lambda: record("test.inside", member))
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.request_id for e in events] == ["", "", "req-3", "req-4", "req-5", "req-6"]
    assert audit_verify().ok
    return events


def _update(sequence: int, column: str, value: Any) -> None:
    raw_sql(f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s", [value, sequence])  # noqa: S608


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("client_address", "198.51.100.200"),
        ("client_address", None),
        ("request_id", "req-forged"),
        ("request_id", ""),
    ],
    ids=["address-changed", "address-removed", "request-id-changed", "request-id-removed"],
)
def test_editing_the_recorded_origin_of_an_event_is_detected(chain, column, value):
    _update(4, column, value)

    report = audit_verify()

    assert (report.ok, report.broken_at, report.reason) == (False, 4, "its content does not match its hash")


@pytest.mark.parametrize(("column", "value"), [("client_address", "192.0.2.99"), ("request_id", "req-added")])
def test_an_origin_added_to_an_event_written_without_one_is_detected(chain, column, value):
    _update(2, column, value)

    report = audit_verify()

    assert (report.ok, report.broken_at) == (False, 2)


def test_the_model_and_the_verifier_hash_the_origin_alike(chain):
    from portal.audit.services import _digest_of

    assert all(_digest_of(event) == event.hash for event in AuditEvent.objects.order_by("sequence"))
    ipv6 = AuditEvent.objects.get(request_id="req-6")
    assert ipv6.client_address in {"::ffff:192.0.2.3", "::ffff:c000:203"}


def test_a_chain_written_before_the_origin_was_recorded_still_verifies(member):
    """Events from before the change were hashed over thirteen fields; those written outside a request
    still are, byte for byte, and a chain of them continues with events that record their origin."""
    old = [record("test.before", member) for _ in range(3)]
    for event in old:
        event.refresh_from_db()
        legacy = {
            "sequence": event.sequence,
            "occurred_at": event.occurred_at.isoformat(),
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "organisation_id": event.organisation_id,
            "application_id": event.application_id,
            "summary": event.summary,
            "before": event.before,
            "after": event.after,
            "prev_hash": event.prev_hash,
        }
        text = json.dumps(legacy, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
        assert event.hash == hashlib.sha256(text.encode()).hexdigest()
    assert old[0].prev_hash == GENESIS_HASH

    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.44")
    run_in_request(request, lambda: record("test.after", member))

    report = audit_verify()
    assert report.ok and report.checked == 4
    assert AuditEvent.objects.get(sequence=4).client_address == "192.0.2.44"


# --- shown to those who read the audit log, and to nobody else -----------------------------------


@pytest.fixture
def created_over_the_api(member, org) -> Application:
    _, secret = api_token_create(actor=member, user=member, name="tests")
    response = Client().post(
        "/api/v1/applications",
        json.dumps({"organisation_id": org.pk, **SUPPLIER}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", REQUEST_ID_HEADER: "create-req-1"},
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 201, response.content
    return Application.objects.get(pk=response.json()["id"])


def test_the_history_shows_the_origin_to_an_administrator_only(created_over_the_api, superuser_client, member, staff):
    path = reverse("web:application_detail", args=[created_over_the_api.pk])

    page = superuser_client.get(path).content.decode()
    assert "From 198.51.100.23, request create-req-1" in page

    # The participant who acted, and a staff role that follows every application, see the history
    # without it.
    for user in (member, staff(Role.ELEXON_ANALYST)):
        other = Client()
        other.force_login(user)
        response = other.get(path)
        assert response.status_code == 200
        page = response.content.decode()
        assert "History" in page
        assert "198.51.100.23" not in page and "create-req-1" not in page, user


def test_the_audit_log_in_the_admin_shows_and_finds_the_origin(created_over_the_api, superuser_client):
    event = AuditEvent.objects.filter(request_id="create-req-1").first()
    assert event is not None

    detail = superuser_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
    found = superuser_client.get(reverse("admin:audit_auditevent_changelist"), {"q": "create-req-1"})

    assert "198.51.100.23" in detail and "create-req-1" in detail
    assert found.status_code == 200
    assert found.context["cl"].result_count == AuditEvent.objects.filter(request_id="create-req-1").count()


# --- the log and the request context itself ------------------------------------------------------


def test_log_lines_name_the_request_they_were_written_for():
    logging_settings: dict[str, Any] = settings.LOGGING
    assert "request_id" in logging_settings["handlers"]["console"]["filters"]
    assert "%(request_id)s" in logging_settings["formatters"]["plain"]["format"]
    log_filter = RequestIdLogFilter()
    inside: list[logging.LogRecord] = []

    def log() -> None:
        inside.append(logging.LogRecord("portal", logging.INFO, __file__, 1, "inside", None, None))
        log_filter.filter(inside[0])

    response = run_in_request(RequestFactory().get("/"), log)
    outside = logging.LogRecord("portal", logging.INFO, __file__, 1, "outside", None, None)
    log_filter.filter(outside)

    assert getattr(inside[0], "request_id", None) == response[REQUEST_ID_HEADER]
    assert getattr(outside, "request_id", None) == "-"


def test_concurrent_async_requests_each_see_their_own_origin():
    """Under ASGI the middleware runs as a coroutine; each task has its own context."""
    seen: dict[str, str] = {}

    async def view(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0.01)  # both requests are in flight at once
        origin = current_request_origin()
        assert origin is not None
        seen[request.headers[REQUEST_ID_HEADER]] = f"{origin.request_id} {origin.client_address}"
        return HttpResponse("done")

    middleware = RequestContextMiddleware(view)

    async def both() -> list[HttpResponse]:
        requests = [
            RequestFactory().get("/", REMOTE_ADDR=f"192.0.2.{n}", headers={REQUEST_ID_HEADER: f"async-{n}"})
            for n in (1, 2)
        ]
        return list(await asyncio.gather(*(middleware(r) for r in requests)))

    responses = asyncio.run(both())

    assert [r[REQUEST_ID_HEADER] for r in responses] == ["async-1", "async-2"]
    assert seen == {"async-1": "async-1 192.0.2.1", "async-2": "async-2 192.0.2.2"}
    assert current_request_origin() is None


def test_the_origin_is_gone_once_the_request_is_answered(member):
    run_in_request(RequestFactory().get("/", REMOTE_ADDR="192.0.2.5"), lambda: record("test.inside", member))

    assert current_request_origin() is None
    assert record("test.after", member).client_address is None
