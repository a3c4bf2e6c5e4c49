from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.accounts.models import ApiToken
from portal.accounts.roles import Role
from portal.accounts.services import (
    MAX_ACTIVE_TOKENS_PER_USER,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


# --- creating ----------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_only_its_hash(member):
    token, secret = api_token_create(actor=member, user=member, name=" Settlement system ")
    assert token.user == member
    assert token.name == "Settlement system"
    assert token.key_prefix == secret[:8]
    assert token.key_hash == ApiToken.hash_secret(secret)
    assert len(secret) >= 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in {stored.key_hash, stored.key_prefix, stored.name}


def test_create_is_audited_without_the_secret(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == member
    assert event.target_id == str(token.pk)
    assert event.after == {"user": member.email, "name": "erp", "key_prefix": token.key_prefix}
    assert secret not in str(event.after) + event.summary
    assert audit_verify().ok


def test_each_token_has_its_own_secret(member):
    _, first = api_token_create(actor=member, user=member, name="one")
    _, second = api_token_create(actor=member, user=member, name="two")
    assert first != second


def test_create_for_someone_else_is_refused_unless_administrator(member, other_member, staff):
    with pytest.raises(NotFound):
        api_token_create(actor=member, user=other_member, name="mine now")
    with pytest.raises(NotFound):
        api_token_create(actor=staff(Role.ELEXON_ANALYST), user=member, name="reviewer's")
    assert not ApiToken.objects.exists()
    token, _ = api_token_create(actor=staff(Role.ADMINISTRATOR), user=member, name="set up by admin")
    assert token.user == member


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_needs_a_sensible_name(member, name):
    with pytest.raises(InvalidInput) as refused:
        api_token_create(actor=member, user=member, name=name)
    assert refused.value.details == {"field": "name"}
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.exists()


def test_create_refuses_a_duplicate_active_name(member):
    first, _ = api_token_create(actor=member, user=member, name="ERP")
    with pytest.raises(Conflict):
        api_token_create(actor=member, user=member, name="erp")
    api_token_revoke(actor=member, token_id=first.pk)
    api_token_create(actor=member, user=member, name="erp")  # a revoked name may be reused


def test_create_refuses_beyond_the_limit_of_active_tokens(member):
    for n in range(MAX_ACTIVE_TOKENS_PER_USER):
        api_token_create(actor=member, user=member, name=f"token {n}")
    with pytest.raises(Conflict):
        api_token_create(actor=member, user=member, name="one too many")


def test_create_for_an_inactive_user_is_refused(member):
    member.is_active = False
    member.save(update_fields=["is_active"])
    with pytest.raises(InvalidInput):
        api_token_create(actor=None, user=member, name="erp")


# --- revoking ----------------------------------------------------------------------------------


def test_revoke_own_token(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    revoked = api_token_revoke(actor=member, token_id=token.pk)
    assert revoked.revoked_at is not None
    assert api_token_authenticate(secret=secret) is None
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == member
    assert event.before == {"revoked_at": None}
    assert audit_verify().ok


def test_revoke_someone_elses_token_answers_not_found(member, other_member):
    token, _ = api_token_create(actor=other_member, user=other_member, name="rival erp")
    with pytest.raises(NotFound):
        api_token_revoke(actor=member, token_id=token.pk)
    with pytest.raises(NotFound):
        api_token_revoke(actor=member, token_id=token.pk + 100)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_administrator_may_revoke_anyones_token(member, staff):
    token, _ = api_token_create(actor=member, user=member, name="erp")
    api_token_revoke(actor=staff(Role.ADMINISTRATOR), token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoke_twice_is_a_conflict(member):
    token, _ = api_token_create(actor=member, user=member, name="erp")
    api_token_revoke(actor=member, token_id=token.pk)
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        api_token_revoke(actor=member, token_id=token.pk)
    assert AuditEvent.objects.count() == events


# --- authenticating ----------------------------------------------------------------------------


def test_authenticate_finds_the_user_and_records_use(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    assert api_token_authenticate(secret=secret) == member
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_authenticate_records_use_at_most_once_a_minute(member):
    token, secret = api_token_create(actor=member, user=member, name="erp")
    api_token_authenticate(secret=secret)
    token.refresh_from_db()
    first_use = token.last_used_at
    api_token_authenticate(secret=secret)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    api_token_authenticate(secret=secret)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


@pytest.mark.parametrize("secret", ["", "wrong", "x" * 43])
def test_authenticate_refuses_unknown_secrets(member, secret):
    api_token_create(actor=member, user=member, name="erp")
    assert api_token_authenticate(secret=secret) is None


def test_authenticate_refuses_tokens_of_inactive_users(member):
    _, secret = api_token_create(actor=member, user=member, name="erp")
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert api_token_authenticate(secret=secret) is None


# --- the management command --------------------------------------------------------------------


def test_command_prints_the_secret(member):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", "--email", "MEMBER@northern.test", "--name", "Data platform", stdout=out, stderr=err
    )
    secret = out.getvalue().strip()
    token = ApiToken.objects.get(user=member)
    assert token.name == "Data platform"
    assert token.key_hash == ApiToken.hash_secret(secret)
    assert api_token_authenticate(secret=secret) == member
    assert "Data platform" in err.getvalue()
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor is None and event.actor_label == "system"


def test_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "--email", "nobody@example.test", "--name", "x", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_command_refuses_a_blank_name(member):
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_token", "--email", member.email, "--name", "  ", stdout=StringIO())
    assert not ApiToken.objects.exists()
