"""Your account in the browser: a member sees the session of their other device, ends it, creates an API
token and copies its secret, then revokes it; axe-core checks every page."""

import re

import pytest
from django.test import Client

from portal.accounts.models import ApiToken
from portal.accounts.tests.conftest import sign_in
from portal.tests.browser.support import new_participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Safari/604.1"


def test_a_member_ends_their_other_session_and_manages_a_token(portal):
    _, member, _ = new_participant("Aurora Energy Supply Ltd", "AURA")
    phone = Client(HTTP_USER_AGENT=PHONE)
    sign_in(phone, member)
    assert phone.get("/").status_code == 200

    tab = portal.open(member, "/")
    tab.follow("Your account", within=tab.page.locator("nav"))
    assert tab.heading() == "Your account"
    tab.expect_text("Safari on iPhone")
    tab.expect_text("This session")

    tab.press(re.compile("^End session"))
    tab.expect_banner("Session ended: Safari on iPhone")
    assert phone.get("/").status_code == 302  # the phone is signed out

    tab.press("Create an API token")  # a link drawn as a button
    tab.press("Create token", status=400)
    assert "Enter a name" in tab.error_summary()
    tab.page.get_by_label("Name").fill("Settlement system")
    tab.press("Create token")
    secret = tab.page.get_by_label("Secret").input_value()
    token = ApiToken.objects.get(user=member)
    assert token.key_hash == ApiToken.hash_secret(secret)

    tab.follow("Back to your account")
    assert secret not in tab.page.content()
    tab.press(re.compile("^Revoke"))
    tab.expect_banner("revoked")
    token.refresh_from_db()
    assert token.revoked_at is not None
