"""Sessions: a new key at sign-in, idle and absolute timeouts (with the clock moved, not slept),
signing out and deactivation ending every session of the user, and the cookies under the production
settings."""

import importlib

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings

from portal.accounts.models import SignedInSession
from portal.accounts.roles import Role
from portal.accounts.tests.conftest import LOGIN, sign_in
from portal.audit.models import AuditEvent
from portal.factories import make_member, make_staff

pytestmark = pytest.mark.django_db

HOME = "/"


def signed_in(client: Client) -> bool:
    return client.get(HOME).status_code == 200


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_the_session_key_changes_at_sign_in_and_the_old_one_is_gone():
    user = make_staff(Role.ELEXON_ANALYST)
    client = Client()
    client.get(LOGIN)
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key
    assert before is not None
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    sign_in(client, user)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert not SessionStore().exists(before)
    assert SignedInSession.objects.filter(user=user, session_key=after).exists()


def test_staff_sessions_end_after_30_idle_minutes(clock):
    user = make_staff(Role.DIP_MANAGER)
    client = Client()
    sign_in(client, user)
    clock.forward(29 * 60)
    assert signed_in(client)  # activity resets the idle clock
    clock.forward(29 * 60)
    assert signed_in(client)
    clock.forward(30 * 60 + 1)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "without activity" in client.get(LOGIN).content.decode()
    assert events("auth.session_expired") == 1
    assert AuditEvent.objects.get(action="auth.session_expired").after["reason"] == "after 30 minutes without activity"


def test_participant_sessions_may_idle_for_two_hours(clock, org):
    member = make_member(org)
    client = Client()
    sign_in(client, member)
    clock.forward(119 * 60)
    assert signed_in(client)
    clock.forward(2 * 60 * 60 + 1)
    assert not signed_in(client)


def test_every_session_ends_12_hours_after_sign_in_however_active(clock, org):
    member = make_member(org)
    client = Client()
    sign_in(client, member)
    for _ in range(7):  # 7 × 100 minutes = 11 h 40 min, never idle for long
        clock.forward(100 * 60)
        assert signed_in(client)
    clock.forward(21 * 60)  # 12 h 01 min after sign-in
    response = client.get(HOME)
    assert response["Location"].startswith(LOGIN)
    assert AuditEvent.objects.get(action="auth.session_expired").after["reason"] == "12 hours after you signed in"


def test_signing_out_ends_every_session_of_the_user(clock):
    user = make_staff(Role.PAB_CHAIR)
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    clock.forward(30)  # each authenticator code is accepted once: the phone signs in with the next one
    sign_in(phone, user)
    other = make_staff(Role.PAB_MEMBER)
    bystander = Client()
    sign_in(bystander, other)
    assert signed_in(laptop) and signed_in(phone)

    response = laptop.post("/accounts/logout/")
    assert response.status_code == 302
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(bystander)
    assert not SignedInSession.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="auth.sign_out")
    assert event.actor == user and event.after["other_sessions_ended"] == 1


def test_deactivating_an_account_ends_all_its_sessions(clock):
    user = make_staff(Role.QSP)
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    clock.forward(30)
    sign_in(phone, user)
    keys = list(SignedInSession.objects.filter(user=user).values_list("session_key", flat=True))
    assert len(keys) == 2

    user.is_active = False
    user.save()
    assert not any(SessionStore().exists(key) for key in keys)
    assert not signed_in(laptop) and not signed_in(phone)
    assert events("auth.sessions_ended") == 1
    assert AuditEvent.objects.get(action="auth.sessions_ended").after == {"reason": "deactivated", "sessions_ended": 2}
    # Saving the inactive account again ends nothing more.
    user.save()
    assert events("auth.sessions_ended") == 1


def _production_cookie_settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "test-only-" + "x" * 60)
    production = importlib.import_module("config.settings.production")
    names = [
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_AGE",
        "CSRF_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
    ]
    return {name: getattr(production, name) for name in names if hasattr(production, name)}


def test_cookies_under_the_production_settings_are_host_prefixed_secure_httponly_and_samesite(monkeypatch, org):
    values = _production_cookie_settings(monkeypatch)
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid" and values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    member = make_member(org)
    with override_settings(**values):
        client = Client(enforce_csrf_checks=False)
        client.get(LOGIN, secure=True)
        csrf = client.cookies["__Host-csrftoken"]
        response = client.post(LOGIN, {"login": member.email, "password": "correct-horse-battery-staple"}, secure=True)
        assert response.status_code == 302
        session = response.cookies["__Host-sessionid"]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert not cookie["domain"]  # required by the __Host- prefix
        assert cookie["samesite"] == "Lax"
    assert session["httponly"] is True
    # A browser-session cookie (no "remember me"): gone when the browser closes, and the server ends the
    # session after 12 hours in any case.
    assert session["max-age"] in ("", 0) or int(session["max-age"]) <= 12 * 60 * 60
