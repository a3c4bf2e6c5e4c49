"""Refused requests are audited (ASVS v5.0.0-16.3.2; goal S-13): each 403 of the web UI or the API,
and each 404 answered for another organisation's application, writes exactly one `authz.denied`
event naming the actor, method, path and reason, never the request's body; an allowed request writes
none; the audit chain still verifies. The matrix (`test_authorization_matrix.py`) checks the same for
every refused cell; these tests look at the event itself."""

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.authz_audit import DENIED_ACTION, OTHER_ORGANISATION_REASON
from portal.qualification.models import Application
from portal.tests.security.world import MISSING, sign_in

pytestmark = pytest.mark.django_db


def denials() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=DENIED_ACTION).order_by("sequence"))


@pytest.fixture
def application(make_application: Callable[..., Application]) -> Application:
    return make_application()


def test_a_refused_page_writes_one_event_with_who_what_and_why(
    client: Client, member: User, application: Application
) -> None:
    sign_in(client, member)
    path = reverse("web:application_non_completion", args=[application.pk])

    response = client.post(path, {"reason": "hunter2-secret-reason"})

    assert response.status_code == 403
    (event,) = denials()
    assert event.actor_id == member.pk
    assert event.actor_label == member.email
    assert event.target_id == "web:application_non_completion"
    assert event.after["method"] == "POST"
    assert event.after["path"] == path
    assert event.after["status"] == 403
    assert event.after["via"] == "web"
    assert event.after["reason"]
    # Never the request's body; and not filed under the application, whose history its organisation reads.
    assert "hunter2" not in json.dumps(event.after) + event.summary
    assert event.application_id is None and event.organisation_id is None
    assert audit_verify().ok


def test_a_refused_api_call_writes_one_event_with_the_error_code(client: Client, staff: Callable[[Role], User]) -> None:
    sign_in(client, staff(Role.QSP))

    response = client.post("/api/v1/pab/meetings/generate", "{}", content_type="application/json")

    assert response.status_code == 403
    (event,) = denials()
    assert event.after["via"] == "api"
    assert event.after["route"] == "api:pab_meetings_generate"
    assert event.after["reason"].startswith("permission_denied")
    assert audit_verify().ok


def test_an_allowed_request_writes_no_refusal(client: Client, member: User, application: Application) -> None:
    sign_in(client, member)
    assert client.get(reverse("web:application_detail", args=[application.pk])).status_code == 200
    assert client.get(f"/api/v1/applications/{application.pk}").status_code == 200
    assert denials() == []


def test_another_organisations_application_is_a_404_and_an_audited_refusal(
    client: Client, other_member: User, application: Application
) -> None:
    sign_in(client, other_member)

    theirs = client.get(reverse("web:application_detail", args=[application.pk]))
    missing = client.get(reverse("web:application_detail", args=[MISSING]))
    api_theirs = client.get(f"/api/v1/applications/{application.pk}")

    assert theirs.status_code == missing.status_code == api_theirs.status_code == 404
    first, second = denials()
    assert first.actor_id == other_member.pk
    assert first.after["status"] == 404
    assert first.after["reason"] == OTHER_ORGANISATION_REASON
    assert first.after["application_id"] == application.pk
    assert second.after["via"] == "api"
    assert audit_verify().ok


def test_a_missing_object_is_not_a_refusal(client: Client, member: User) -> None:
    sign_in(client, member)
    assert client.get(reverse("web:application_detail", args=[MISSING])).status_code == 404
    assert denials() == []


def test_a_failed_csrf_check_is_an_audited_refusal(member: User, application: Application) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, member)

    response = client.post(reverse("web:notification_read_all"))

    assert response.status_code == 403
    (event,) = denials()
    assert event.after["route"] == "web:notification_read_all"


def test_an_anonymous_refusal_names_no_user(client: Client) -> None:
    response = client.post("/api/v1/pab/meetings/generate", "{}", content_type="application/json")
    assert response.status_code == 401  # not signed in: authentication, not a refusal
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("account_login"), {"login": "a@b.test", "password": "x"}).status_code == 403

    (event,) = denials()
    assert event.actor_id is None
    assert event.after["actor"] == "anonymous"
    assert event.after.get("password") != "x"


def test_a_private_feed_token_in_the_path_is_masked(client: Client, member: User) -> None:
    from django.test import RequestFactory
    from django.urls import resolve

    from portal.core.authz_audit import authz_denied_record

    request = RequestFactory().get("/calendar/private/s3cr3t-token-value.ics")
    request.resolver_match = resolve(request.path)
    request.user = member

    authz_denied_record(request=request, status=403, reason="test")

    (event,) = denials()
    assert "s3cr3t" not in event.after["path"] + event.summary
    assert event.after["path"] == "/calendar/private/[masked].ics"
