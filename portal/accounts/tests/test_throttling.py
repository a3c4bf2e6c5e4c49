"""Sign-in throttling: five failed attempts for one address within 15 minutes, then the same refusal
for a known and an unknown address, which ends by itself once the failures are 15 minutes old (the
clock is moved, not slept). Every attempt is audited once, without the password."""

import pytest
from django.test import Client

from portal.accounts.roles import Role
from portal.accounts.services import _clean_login
from portal.accounts.tests.conftest import LOGIN, post_password, sign_in
from portal.audit.models import AuditEvent
from portal.factories import TEST_PASSWORD, make_staff

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"
THROTTLED = "Too many failed login attempts. Try again later."


def error_text(response) -> str:
    html = response.content.decode()
    start = html.index('<ul class="govuk-list govuk-error-summary__list">')
    return html[start : html.index("</ul>", start)]


def test_wrong_password_and_unknown_address_get_the_same_answer():
    user = make_staff(Role.ELEXON_ANALYST)
    known = post_password(Client(), user.email, WRONG)
    unknown = post_password(Client(), "nobody@nowhere.test", WRONG)
    assert known.status_code == unknown.status_code == 200
    assert error_text(known) == error_text(unknown)
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 2


@pytest.mark.parametrize("address", ["known", "unknown"])
def test_the_sixth_attempt_is_refused_and_the_cool_off_expires(clock, address):
    user = make_staff(Role.DIP_MANAGER)
    email = user.email if address == "known" else "nobody@nowhere.test"
    client = Client()
    for _ in range(5):
        response = post_password(client, email, WRONG)
        assert THROTTLED not in response.content.decode()
    # The sixth, even with the right password, is refused with the same message for either address.
    sixth = post_password(client, email, TEST_PASSWORD if address == "known" else WRONG)
    assert sixth.status_code == 200 and THROTTLED in error_text(sixth)
    assert client.get("/")["Location"].startswith(LOGIN)
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.sign_in_throttled").count() == 1

    clock.forward(14 * 60)
    assert THROTTLED in error_text(post_password(client, email, WRONG))
    clock.forward(60 + 1)  # 15 minutes after the failures: the cool-off is over
    if address == "known":
        assert sign_in(client, user).status_code == 302
        assert client.get("/").status_code == 200
    else:
        again = post_password(client, email, WRONG)
        assert THROTTLED not in again.content.decode()


def test_failed_sign_ins_are_audited_without_the_password():
    make_staff(Role.QSP)
    post_password(Client(), "Someone.Else@Example.TEST", "Secret-Passphrase-123")
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert "Secret-Passphrase-123" not in str(event.summary) + str(event.after)
    assert event.after["login"].lower() == "someone.else@example.test" and event.actor is None


def test_control_characters_in_a_typed_address_do_not_reach_the_audit_log():
    assert _clean_login("a@b.test\r\nforged line\x00") == "a@b.testforged line"
    assert len(_clean_login("x" * 1000)) == 254
