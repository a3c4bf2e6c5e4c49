"""Two-factor authentication through the real sign-in forms: who must have it, what happens without
it, single-use codes, and the audit of each event."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from portal.accounts.mfa import totp_code
from portal.accounts.roles import MFA_ROLES, STAFF_ROLES, Role
from portal.accounts.services import api_token_create
from portal.accounts.tests.conftest import sign_in
from portal.api.tests.conftest import ApiClient, assert_error
from portal.audit.models import AuditEvent
from portal.core.errors import PermissionDenied
from portal.factories import TEST_TOTP_SECRET, give_totp, make_member, make_staff

pytestmark = pytest.mark.django_db

HOME = "/"


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_every_staff_role_and_directors_need_mfa_and_other_participants_do_not():
    assert STAFF_ROLES < MFA_ROLES
    assert Role.PARTICIPANT_DIRECTOR in MFA_ROLES
    assert Role.PARTICIPANT_MEMBER not in MFA_ROLES


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_a_staff_user_without_an_authenticator_is_sent_to_set_one_up(role):
    user = make_staff(Role(role), totp=False)
    client = Client()
    response = sign_in(client, user)
    assert response.status_code == 302
    page = client.get(HOME)
    assert page.status_code == 302 and page["Location"] == reverse("mfa_activate_totp")
    followed = client.get(page["Location"])
    assert followed.status_code == 200
    assert "Your role needs two-factor authentication" in followed.content.decode()
    # The API answers in its own shape, and refuses to create a token for them.
    refused = client.get("/api/v1/me")
    assert_error(refused, 403, "mfa_enrolment_required")


def test_a_director_without_an_authenticator_is_refused_until_they_set_one_up(org):
    director = make_member(org, director=True, totp=False)
    client = Client()
    sign_in(client, director)
    assert client.get(HOME)["Location"] == reverse("mfa_activate_totp")


def test_a_participant_member_needs_no_authenticator(org):
    member = make_member(org)
    client = Client()
    response = sign_in(client, member)
    assert response.status_code == 302 and not response["Location"].startswith("/accounts/2fa")
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_setting_up_an_authenticator_lets_the_user_in_and_is_audited_once():
    """Transactional: allauth announces the new authenticator when its transaction commits, within the
    request, and that is when the session is marked as having passed the second factor."""
    user = make_staff(Role.ELEXON_ANALYST, totp=False)
    client = Client()
    sign_in(client, user)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(HOME).status_code == 200
    enrolled = AuditEvent.objects.filter(action="auth.mfa_enrolled", actor=user)
    assert sorted(e.after["type"] for e in enrolled) == ["recovery_codes", "totp"]


def test_staff_with_an_authenticator_sign_in_with_password_then_code():
    user = make_staff(Role.DIP_MANAGER)
    client = Client()
    first = client.post("/accounts/login/", {"login": user.email, "password": "correct-horse-battery-staple"})
    assert first["Location"].startswith(reverse("mfa_authenticate"))
    # The password alone is not a session: the portal still asks the user to sign in.
    assert client.get(HOME)["Location"].startswith("/accounts/login/")
    wrong_code = "000000" if totp_code(TEST_TOTP_SECRET) != "000000" else "111111"
    wrong = client.post(reverse("mfa_authenticate"), {"code": wrong_code})
    assert wrong.status_code == 200 and events("auth.mfa_failed") == 1
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(TEST_TOTP_SECRET)})
    assert done.status_code == 302
    assert client.get(HOME).status_code == 200
    signed_in = AuditEvent.objects.get(action="auth.sign_in")
    assert signed_in.actor == user and signed_in.after["methods"] == ["password", "mfa"]


def test_a_session_that_did_not_pass_mfa_is_ended():
    """Signed in with a password while the user had no authenticator; one is added (by an
    administrator, or elsewhere): this session never entered its code, so it ends."""
    user = make_staff(Role.QSP, totp=False)
    client = Client()
    sign_in(client, user)
    give_totp(user)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert events("auth.session_expired") == 1


def test_an_authenticator_code_is_accepted_once():
    user = make_staff(Role.PAB_SECRETARY)
    code = totp_code(TEST_TOTP_SECRET)
    assert sign_in(Client(), user, code=code).status_code == 302
    replay = Client()
    response = sign_in(replay, user, code=code)
    assert response.status_code == 200  # the code form again, with its error
    assert "Incorrect code" in response.content.decode()
    assert replay.get(HOME)["Location"].startswith("/accounts/login/")
    assert events("auth.sign_in") == 1


def test_a_recovery_code_is_accepted_once_and_its_use_audited():
    user = make_staff(Role.REC_CODE_MANAGER)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    first = Client()
    assert sign_in(first, user, code=codes[0]).status_code == 302
    assert first.get(HOME).status_code == 200
    assert events("auth.recovery_code_used") == 1
    again = Client()
    assert sign_in(again, user, code=codes[0]).status_code == 200
    assert again.get(HOME)["Location"].startswith("/accounts/login/")
    assert events("auth.recovery_code_used") == 1
    assert sign_in(Client(), user, code=codes[1]).status_code == 302


def test_api_tokens_of_staff_need_an_authenticator():
    user = make_staff(Role.ELEXON_ANALYST, totp=False)
    with pytest.raises(PermissionDenied, match="two-factor"):
        api_token_create(actor=user, user=user, name="ci")
    give_totp(user)
    _, secret = api_token_create(actor=user, user=user, name="ci")
    assert ApiClient(secret).get("/api/v1/me").status_code == 200
    # Removing the authenticator later makes the token refuse to work until one is set up again.
    Authenticator.objects.filter(user=user).delete()
    assert_error(ApiClient(secret).get("/api/v1/me"), 403, "mfa_enrolment_required")


def test_staff_cannot_remove_their_authenticator(django_capture_on_commit_callbacks):
    user = make_staff(Role.ELEXON_ANALYST)
    client = Client()
    sign_in(client, user)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200 and "cannot remove your authenticator app" in response.content.decode()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert events("auth.mfa_removed") == 0


def test_a_participant_member_may_remove_theirs_and_it_is_audited_once(org, django_capture_on_commit_callbacks):
    member = make_member(org, totp=True)
    client = Client()
    sign_in(client, member)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(action="auth.mfa_removed", after__type="totp").count() == 1


def test_the_admin_sign_in_is_the_portal_sign_in():
    """The admin's own password-only form would skip throttling and the second factor."""
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    posted = Client().post("/admin/login/", {"username": "x@example.test", "password": "y"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
