"""The Your account page: one's sessions (listed, one ended, every other one ended), one's API tokens
(created with the secret shown once, revoked), and the last-seen time written only now and then
(ASVS 7.4.3, 7.5.2)."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.mfa import totp_code
from portal.accounts.models import ApiToken, SignedInSession
from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.accounts.tests.conftest import LOGIN, sign_in
from portal.accounts.useragent import browser_summary
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.factories import TEST_TOTP_SECRET, make_member, make_staff
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db

ACCOUNT = "/your-account/"
END_OTHERS = "/your-account/sessions/end-others/"
NEW_TOKEN = "/your-account/tokens/new/"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def end_url(row: SignedInSession) -> str:
    return f"/your-account/sessions/{row.pk}/end/"


def browser(user_agent: str = FIREFOX) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def session_of(client: Client) -> SignedInSession:
    return SignedInSession.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def no_session_key_in_the_audit_log() -> bool:
    keys = set(SessionStore.get_model_class().objects.values_list("session_key", flat=True))
    keys |= set(SignedInSession.objects.values_list("session_key", flat=True))
    text = " ".join(f"{e.summary} {e.before} {e.after}" for e in AuditEvent.objects.all())
    return not any(key in text for key in keys if key)


# --- the browser summary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX, "Firefox on Windows"),
        (SAFARI, "Safari on iPhone"),
        (EDGE, "Edge on macOS"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36", "Chrome on Linux"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
        ("<script>", "Unknown browser"),
    ],
)
def test_the_browser_is_read_from_the_user_agent(user_agent, expected):
    assert browser_summary(user_agent) == expected


# --- listing ----------------------------------------------------------------------------------


def test_the_page_lists_only_ones_own_sessions_and_marks_this_one(clock, org):
    member = make_member(org)
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(laptop, member)
    sign_in(phone, member)
    rival = make_member(org, email="colleague@northern.test")
    sign_in(browser(EDGE), rival)

    response = laptop.get(ACCOUNT)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "Edge on macOS" not in page
    assert page.count("This session") == 1
    assert "127.0.0.1" in page
    row = session_of(laptop)
    assert row.browser == "Firefox on Windows" and row.user_agent == FIREFOX and row.ip_address == "127.0.0.1"
    # The session keys are never on the page, only the rows' ids.
    for key in SignedInSession.objects.values_list("session_key", flat=True):
        assert key not in page
    assert f'action="{end_url(session_of(phone))}"' in page
    assert f'action="{end_url(row)}"' not in page  # this session is ended by signing out
    assert reverse("mfa_index") in page and 'aria-current="page"' in page


def test_a_long_user_agent_is_cut_to_a_safe_length(org):
    member = make_member(org)
    client = browser("Firefox/133.0 " + "x" * 5000)
    sign_in(client, member)
    row = session_of(client)
    assert len(row.user_agent) == SignedInSession.MAX_USER_AGENT_LENGTH
    assert row.browser == "Firefox"


def test_the_client_address_follows_allauths_trusted_proxy_rule(org, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    member = make_member(org)
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    sign_in(client, member)
    assert session_of(client).ip_address == "203.0.113.9"


def test_anonymous_callers_are_sent_to_sign_in():
    client = Client()
    for response in (client.get(ACCOUNT), client.post(END_OTHERS), client.get(NEW_TOKEN), client.post(NEW_TOKEN)):
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_actions_answer_only_post(member):
    client = Client()
    client.force_login(member)
    row = session_of(client)
    token, _ = api_token_create(actor=member, user=member, name="erp")
    for url in (END_OTHERS, end_url(row), f"/your-account/tokens/{token.pk}/revoke/"):
        assert client.get(url).status_code == 405
    assert client.post(ACCOUNT).status_code == 405
    assert SignedInSession.objects.filter(pk=row.pk).exists()
    token.refresh_from_db()
    assert token.revoked_at is None


# --- ending sessions --------------------------------------------------------------------------


def test_ending_another_session_signs_that_browser_out(clock, org):
    member = make_member(org)
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(laptop, member)
    sign_in(phone, member)
    target = session_of(phone)
    phone_key = target.session_key

    response = laptop.post(end_url(target))
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    assert "Session ended: Safari on iPhone" in laptop.get(ACCOUNT).content.decode()
    assert signed_in(laptop)
    refused = phone.get("/")
    assert refused.status_code == 302 and refused["Location"].startswith(LOGIN)
    assert not SessionStore().exists(phone_key)
    assert not SignedInSession.objects.filter(pk=target.pk).exists()

    event = AuditEvent.objects.get(action="auth.session_ended")
    assert event.actor == member and event.after["session_id"] == target.pk
    assert phone_key not in f"{event.summary} {event.after}"
    assert no_session_key_in_the_audit_log() and audit_verify().ok
    told = Notification.objects.get(recipient=member, subject="One of your sessions was ended")
    assert "Safari on iPhone" in told.body and told.link == ACCOUNT


def test_ending_every_other_session_keeps_this_one(clock, org):
    member = make_member(org)
    laptop, phone, tablet = browser(FIREFOX), browser(SAFARI), browser(EDGE)
    for client in (laptop, phone, tablet):
        sign_in(client, member)
    bystander = browser()
    sign_in(bystander, make_member(org, email="colleague@northern.test"))
    others = sorted([session_of(phone).pk, session_of(tablet).pk])

    response = laptop.post(END_OTHERS)
    assert response.status_code == 302
    assert signed_in(laptop) and signed_in(bystander)
    assert not signed_in(phone) and not signed_in(tablet)
    assert list(SignedInSession.objects.filter(user=member).values_list("pk", flat=True)) == [session_of(laptop).pk]
    event = AuditEvent.objects.get(action="auth.sessions_ended")
    assert event.after == {"session_ids": others, "sessions_ended": 2, "reason": "ended by the user"}
    assert event.client_address == "127.0.0.1" and event.request_id
    assert Notification.objects.filter(recipient=member, subject="2 of your sessions were ended").count() == 1
    assert no_session_key_in_the_audit_log()

    # With nothing left to end, nothing happens.
    laptop.post(END_OTHERS)
    assert AuditEvent.objects.filter(action="auth.sessions_ended").count() == 1
    assert "no other sessions" in laptop.get(ACCOUNT).content.decode()


def test_another_users_session_answers_404_and_changes_nothing(org, other_member):
    member = make_member(org)
    mine, theirs = browser(), browser()
    sign_in(mine, member)
    sign_in(theirs, other_member)
    row = session_of(theirs)
    before = AuditEvent.objects.exclude(action="authz.denied").count()

    assert mine.post(end_url(row)).status_code == 404
    assert mine.post("/your-account/sessions/999999/end/").status_code == 404
    assert signed_in(theirs) and SignedInSession.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.exclude(action="authz.denied").count() == before
    assert not Notification.objects.exists()


def test_this_session_is_not_ended_from_the_list(org):
    member = make_member(org)
    client = browser()
    sign_in(client, member)
    response = client.post(end_url(session_of(client)))
    assert response.status_code == 409
    assert "sign out to end it" in response.content.decode()
    assert signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.session_ended").exists()


def test_staff_end_sessions_without_a_fresh_code(clock):
    """Ending sessions needs no step-up, even long after the authenticator code was entered."""
    user = make_staff(Role.DIP_MANAGER)
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(laptop, user)
    clock.forward(30)
    sign_in(phone, user)
    clock.forward(20 * 60)  # past the 10-minute step-up window, within the 30-minute idle limit
    response = laptop.post(END_OTHERS)
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    assert not signed_in(phone)


# --- last seen --------------------------------------------------------------------------------


def _session_row_writes(queries: CaptureQueriesContext) -> list[str]:
    table = SignedInSession._meta.db_table
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


def test_last_seen_is_not_written_on_every_request(clock, org):
    member = make_member(org)
    client = browser()
    sign_in(client, member)
    row = session_of(client)
    with CaptureQueriesContext(connection) as quick:
        assert signed_in(client)
        assert signed_in(client)
    assert _session_row_writes(quick) == []

    clock.forward(6 * 60)
    with CaptureQueriesContext(connection) as later:
        assert signed_in(client)
        assert signed_in(client)
    assert len(_session_row_writes(later)) == 1
    row.refresh_from_db()
    assert row.last_seen_at >= row.started_at


# --- API tokens -------------------------------------------------------------------------------


def _secret(page: str) -> str:
    found = re.search(r'id="token-secret"[^>]*value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_a_token_created_on_the_page_works_and_its_secret_is_shown_once(member):
    client = browser()
    client.force_login(member)
    assert client.get(NEW_TOKEN).status_code == 200
    response = client.post(NEW_TOKEN, {"name": "  Settlement system  "})
    assert response.status_code == 200
    page = response.content.decode()
    secret = _secret(page)
    assert "shown only on this page" in page
    token = ApiToken.objects.get(user=member)
    assert token.name == "Settlement system" and token.key_hash == ApiToken.hash_secret(secret)
    assert response["Cache-Control"] == "no-store"

    api = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["email"] == member.email
    listing = client.get(ACCOUNT).content.decode()
    assert "Settlement system" in listing and secret not in listing and token.key_prefix in listing

    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == member and secret not in f"{event.summary} {event.after}"
    told = Notification.objects.get(recipient=member)
    assert "Settlement system" in told.subject and "If this was not you" in told.body
    assert secret not in told.body and told.link == ACCOUNT


@pytest.mark.parametrize(("name", "message"), [("", "Enter a name"), ("x" * 101, "100 characters or fewer")])
def test_a_token_needs_a_sensible_name(member, name, message):
    client = Client()
    client.force_login(member)
    response = client.post(NEW_TOKEN, {"name": name})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page and 'href="#id_name"' in page
    assert not ApiToken.objects.exists() and not Notification.objects.exists()


def test_a_duplicate_token_name_is_refused_on_the_page(member):
    api_token_create(actor=member, user=member, name="ERP")
    client = Client()
    client.force_login(member)
    response = client.post(NEW_TOKEN, {"name": "erp"})
    assert response.status_code == 409 and "already have an active token" in response.content.decode()
    assert ApiToken.objects.count() == 1


def test_revoking_a_token_on_the_page_stops_it_at_once(member, other_member, staff):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    theirs, _ = api_token_create(actor=other_member, user=other_member, name="rival")
    client = Client()
    client.force_login(member)
    response = client.post(f"/your-account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke", target_id=str(token.pk)).count() == 1
    assert client.post(f"/your-account/tokens/{token.pk}/revoke/").status_code == 409

    # Another user's token is not found, even for an administrator (who has the admin and the API).
    admin = Client()
    admin.force_login(staff(Role.ADMINISTRATOR))
    assert client.post(f"/your-account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert admin.post(f"/your-account/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_staff_enter_a_fresh_code_before_creating_a_token(clock):
    user = make_staff(Role.ELEXON_ANALYST)
    client = browser()
    sign_in(client, user)
    clock.forward(11 * 60)  # past the step-up window
    asked = client.post(NEW_TOKEN, {"name": "Reviews"})
    assert asked.status_code == 302 and asked["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not ApiToken.objects.exists()
    done = client.post(asked["Location"], {"code": totp_code(TEST_TOTP_SECRET)})
    assert done.status_code == 200
    secret = _secret(done.content.decode())
    assert ApiToken.objects.get(user=user).key_hash == ApiToken.hash_secret(secret)
    # Within the window, the next one needs no code.
    assert client.post(NEW_TOKEN, {"name": "Second"}).status_code == 200


def test_participant_members_create_tokens_without_a_code(clock, org):
    member = make_member(org)
    client = browser()
    sign_in(client, member)
    clock.forward(60 * 60)
    assert client.post(NEW_TOKEN, {"name": "erp"}).status_code == 200


def test_sessions_that_already_timed_out_are_not_listed_nor_reported_as_ended(clock, org):
    member = make_member(org)
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(phone, member)
    stale = session_of(phone)
    SignedInSession.objects.filter(pk=stale.pk).update(last_seen_at=stale.last_seen_at - timedelta(hours=3))
    sign_in(laptop, member)
    assert "Safari on iPhone" not in laptop.get(ACCOUNT).content.decode()

    laptop.post(END_OTHERS)
    assert not SignedInSession.objects.filter(pk=stale.pk).exists()  # its row goes all the same
    assert not AuditEvent.objects.filter(action="auth.sessions_ended").exists()
    assert not Notification.objects.exists()
