"""Director sign-off: the signer rule (director, or a delegate for a role that qualifies under the REC
alone), the password, the declaration version, the sealed manifest and its verification, and voiding
by any later change."""

import hashlib
import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.core.management import call_command
from django.test import Client

from portal.accounts.mfa import totp_code
from portal.accounts.roles import Role
from portal.accounts.tests.conftest import Clock, sign_in
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import DirectorSignature, QadAnswer, SigningDelegate
from portal.documents.permissions import can_sign_final_qad
from portal.documents.selectors import declaration_current
from portal.documents.services import (
    qad_answer_save,
    qad_final_reopen,
    qad_sign,
    qad_submit,
    qad_version_start,
    signature_verify_record,
    signing_delegate_grant,
    signing_delegate_revoke,
)
from portal.documents.signing import sha256_text, signature_check
from portal.documents.testing_support import current_otp_code
from portal.documents.workflow import SignatureStatus, SignedAs
from portal.factories import TEST_PASSWORD, TEST_TOTP_SECRET, make_member
from portal.notifications.models import Notification
from portal.qualification.models import Task
from portal.qualification.permissions import can_take
from portal.qualification.services import task_reopen, task_transition
from portal.qualification.workflow import Action, TaskState, transition_for

pytestmark = pytest.mark.django_db

ROUTE_FOR = {"SUP": "non_sit_supplier_agent", "MEM": "non_sit_supplier_agent", "ADS": "non_sit_supplier_agent"}
ROUTE_FOR["LDSO"] = "non_sit_ldso"


def sign(user, application, password=TEST_PASSWORD, **kwargs):
    """Directors have an authenticator app (portal/factories.py): its current code is sent unless the
    test gives one (an empty one to leave it out)."""
    otp_code = kwargs.pop("otp_code", None)
    return qad_sign(
        actor=user,
        application_id=application.pk,
        password=password,
        declaration_version=kwargs.pop("declaration_version", declaration_current().version),
        otp_code=current_otp_code(user) if otp_code is None else otp_code,
        **kwargs,
    )


def signoff(application):
    return Task.objects.get(application=application, code="director_signoff")


def snapshot():
    return (
        DirectorSignature.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        tuple(Task.objects.order_by("pk").values_list("state", flat=True)),
    )


@pytest.fixture
def agreed(make_application, stages):
    return stages.final_agreed(make_application())


@pytest.fixture
def delegate(org, director):
    user = make_member(org, email="delegate@northern.test", full_name="Dee Legate")
    signing_delegate_grant(actor=director, organisation_id=org.pk, user_id=user.pk)
    return user


# --- who signs -----------------------------------------------------------------------------------

RULE_TABLE = [
    ("director", "SUP", "allowed"),
    ("director", "MEM", "allowed"),
    ("delegate", "MEM", "allowed"),
    ("delegate", "SUP", "refused"),
    ("delegate", "LDSO", "refused"),
    ("delegate", "ADS", "refused"),
    ("member", "MEM", "refused"),
    ("other_director", "MEM", "not_found"),
]


@pytest.mark.parametrize(("who", "role", "expected"), RULE_TABLE)
def test_the_signer_rule(request, make_application, stages, other_org, who, role, expected):
    application = stages.final_agreed(make_application(market_role=role, route=ROUTE_FOR[role]))
    if who == "other_director":
        user = make_member(other_org, director=True, email="boss@rival.test")
    else:
        user = request.getfixturevalue(who)
    assert can_sign_final_qad(user, application) is (expected == "allowed")
    sign_action = transition_for("signoff", Action.SIGN)
    assert sign_action is not None
    # The task permission asks the same signer rule.
    assert can_take(user, signoff(application), sign_action) is (expected == "allowed")
    before = snapshot()
    if expected == "allowed":
        signature = sign(user, application)
        assert signature.signer == user
        assert signature.signed_as == (SignedAs.DELEGATE if who == "delegate" else SignedAs.DIRECTOR)
        assert signoff(application).state == TaskState.COMPLETED
        return
    with pytest.raises(NotFound if expected == "not_found" else PermissionDenied) as refused:
        sign(user, application)
    if who == "delegate":
        assert "qualifies under the REC alone" in refused.value.message
    assert snapshot() == before


@pytest.mark.parametrize("who", [Role.ELEXON_ANALYST, Role.ADMINISTRATOR])
def test_staff_do_not_sign(agreed, staff, who):
    with pytest.raises(PermissionDenied):
        sign(staff(who), agreed)


def test_a_revoked_delegate_no_longer_signs(make_application, stages, org, director, delegate):
    application = stages.final_agreed(make_application(market_role="MEM"))
    [grant] = SigningDelegate.objects.filter(user=delegate)
    signing_delegate_revoke(actor=director, delegate_id=grant.pk)
    assert not can_sign_final_qad(delegate, application)
    with pytest.raises(PermissionDenied):
        sign(delegate, application)


# --- what signing checks -------------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_changes_nothing(agreed, director):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="password is not correct") as refused:
        sign(director, agreed, password="not-my-password")
    assert refused.value.details["field"] == "password"
    assert snapshot() == before


def test_repeated_wrong_passwords_lock_signing_for_a_while(agreed, director):
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            sign(director, agreed, password="guess")
    with pytest.raises(PermissionDenied, match="Too many wrong passwords"):
        sign(director, agreed)


def test_the_declaration_signed_must_be_the_current_one(agreed, director):
    with pytest.raises(Conflict, match="declaration has changed"):
        sign(director, agreed, declaration_version=declaration_current().version + 1)


def test_no_signature_before_the_final_qad_is_agreed_complete(make_application, stages, director):
    application = stages.final_submitted(make_application())
    before = snapshot()
    with pytest.raises(InvalidTransition, match="agreed it complete"):
        sign(director, application)
    assert snapshot() == before


def test_signing_twice_is_refused(agreed, director):
    sign(director, agreed)
    with pytest.raises(InvalidTransition, match="already signed"):
        sign(director, agreed)


def test_the_generic_sign_action_cannot_bypass_the_password(agreed, director):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="sign-off page"):
        task_transition(actor=director, application_id=agreed.pk, task_code="director_signoff", action="sign")
    assert snapshot() == before


def test_an_authenticator_code_is_needed_when_one_is_set_up(agreed, director):
    secret = "JBSWY3DPEHPK3PXP"
    Authenticator.objects.filter(user=director).delete()
    TOTP.activate(director, secret)
    with pytest.raises(PermissionDenied, match="authenticator"):
        sign(director, agreed, otp_code="")
    with pytest.raises(PermissionDenied, match="not correct"):
        sign(director, agreed, otp_code="000000" if _code(secret) != "000000" else "111111")
    signature = sign(director, agreed, otp_code=_code(secret))
    assert signature.is_valid
    assert Authenticator.objects.filter(user=director).exists()


def _code(secret: str) -> str:
    counter = list(yield_hotp_counters_from_time())[len(list(yield_hotp_counters_from_time())) // 2]
    return format_hotp_value(hotp_value(secret, counter))


# --- the sealed manifest -------------------------------------------------------------------------


def test_the_signature_seals_a_manifest_of_the_exact_version(agreed, director, stages):
    signature = sign(director, agreed)
    version = stages.version(agreed, "final", 1)
    manifest = json.loads(signature.manifest)
    assert signature.manifest_sha256 == hashlib.sha256(signature.manifest.encode()).hexdigest()
    assert manifest["qad"] == {
        "kind": "final",
        "submission_id": version.pk,
        "version": 1,
        "template_version": version.template.version,
    }
    assert manifest["declaration"]["sha256"] == sha256_text(declaration_current().text)
    answers = {a["question"]: a for a in manifest["answers"]}
    assert len(answers) == version.answers.count()
    one = version.answers.get(question__number="1.4")
    assert answers["1.4"]["answer_sha256"] == sha256_text(one.text)
    assert [e["sha256"] for e in answers["1.4"]["evidence"]] == [e.sha256 for e in one.evidence.all()]
    check = signature_check(signature)
    assert check.ok and check.problems == [] and check.files_checked == 1
    assert AuditEvent.objects.get(action="qad.sign").after["manifest_sha256"] == signature.manifest_sha256
    entry = signoff(agreed).entries.get()
    assert signature.manifest_sha256 in entry.comment


def test_a_changed_answer_voids_the_signature_when_verified(agreed, director, stages, member):
    signature = sign(director, agreed)
    version = stages.version(agreed, "final", 1)
    QadAnswer.objects.filter(submission=version, question__number="2.2").update(text="Edited behind the portal.")
    check = signature_check(signature)
    assert not check.ok and "The answer to question 2.2 has changed." in check.problems
    check = signature_verify_record(actor=director, signature_id=signature.pk)
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.VOIDED and "question 2.2" in signature.void_reason
    assert signoff(agreed).state == TaskState.NOT_STARTED
    event = AuditEvent.objects.get(action="qad.signature_void")
    assert event.after["sign_off_reopened"] is True
    assert Notification.objects.filter(recipient=member, subject__contains="voided").exists()


def test_changed_evidence_content_or_a_changed_seal_is_detected(agreed, director, stages):
    signature = sign(director, agreed)
    version = stages.version(agreed, "final", 1)
    evidence = version.answers.get(question__number="1.4").evidence.get()
    with open(evidence.file.path, "ab") as stored:
        stored.write(b"tampered")
    assert any("stored content of evidence" in p for p in signature_check(signature).problems)
    assert signature_check(signature, check_files=False).ok
    DirectorSignature.objects.filter(pk=signature.pk).update(manifest=signature.manifest.replace('"1.4"', '"1.40"'))
    signature.refresh_from_db()
    assert any("no longer matches its recorded SHA-256" in p for p in signature_check(signature).problems)


def test_the_scheduled_check_voids_what_no_longer_matches(agreed, director, stages, capsys):
    signature = sign(director, agreed)
    QadAnswer.objects.filter(submission=stages.version(agreed, "final", 1), question__number="7.1").update(text="x")
    call_command("verify_qad_signatures")
    assert "1 signature checked, 1 voided." in capsys.readouterr().out
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.VOIDED


def test_reopening_the_final_qad_voids_the_signature_and_a_new_version_is_signed_again(
    agreed, director, member, stages
):
    first = sign(director, agreed)
    analyst = stages.analyst
    with pytest.raises(PermissionDenied):
        qad_final_reopen(actor=member, application_id=agreed.pk, reason="We want to change it.")
    with pytest.raises(InvalidInput):
        qad_final_reopen(actor=analyst, application_id=agreed.pk, reason=" ")
    qad_final_reopen(actor=analyst, application_id=agreed.pk, reason="PAB deferred: update the work-off plan.")
    first.refresh_from_db()
    assert first.status == SignatureStatus.VOIDED and "PAB deferred" in first.void_reason
    assert Task.objects.get(application=agreed, code="final_qad").state == TaskState.NOT_STARTED
    assert signoff(agreed).state == TaskState.CANNOT_START
    with pytest.raises(InvalidTransition, match="not agreed complete"):
        qad_final_reopen(actor=analyst, application_id=agreed.pk, reason="Again.")

    v2 = qad_version_start(actor=member, application_id=agreed.pk, kind="final")
    assert v2.version == 2
    qad_answer_save(actor=member, application_id=agreed.pk, kind="final", question_number="4.2.2", text="Updated plan.")
    qad_submit(actor=member, application_id=agreed.pk, kind="final")
    stages.review(agreed, "final_qad", "accept")
    second = sign(director, agreed)
    assert json.loads(second.manifest)["qad"]["version"] == 2
    assert signature_check(second).ok
    assert not signature_check(first).ok  # version 1 is superseded


def test_starting_a_new_final_version_voids_a_signature_left_valid(agreed, director, member):
    signature = sign(director, agreed)
    # Another part of the process reopens the tasks (e.g. after a deferral) without touching the signature.
    task_reopen(actor=None, application_id=agreed.pk, task_code="director_signoff", reason="Deferred.")
    task_reopen(actor=None, application_id=agreed.pk, task_code="final_qad", reason="Deferred.")
    qad_version_start(actor=member, application_id=agreed.pk, kind="final")
    signature.refresh_from_db()
    assert signature.status == SignatureStatus.VOIDED
    assert signature.void_reason == "Version 2 of the Final QAD was started."


# --- signing delegates ---------------------------------------------------------------------------


def test_directors_appoint_and_revoke_delegates(org, director, member, other_member, other_org):
    grant = signing_delegate_grant(actor=director, organisation_id=org.pk, user_id=member.pk)
    assert grant.is_active and grant.granted_by == director
    assert Notification.objects.filter(recipient=member, subject__contains="signing delegate").exists()
    with pytest.raises(Conflict):
        signing_delegate_grant(actor=director, organisation_id=org.pk, user_id=member.pk)
    with pytest.raises(InvalidInput, match="Company Director"):
        signing_delegate_grant(actor=director, organisation_id=org.pk, user_id=director.pk)
    with pytest.raises(InvalidInput, match="Choose a member"):
        signing_delegate_grant(actor=director, organisation_id=org.pk, user_id=other_member.pk)
    with pytest.raises(NotFound):
        signing_delegate_grant(actor=director, organisation_id=other_org.pk, user_id=other_member.pk)
    with pytest.raises(NotFound):
        signing_delegate_revoke(actor=other_member, delegate_id=grant.pk)
    signing_delegate_revoke(actor=director, delegate_id=grant.pk)
    with pytest.raises(InvalidTransition):
        signing_delegate_revoke(actor=director, delegate_id=grant.pk)
    assert list(AuditEvent.objects.filter(action__startswith="signing_delegate.").values_list("action", flat=True)) == [
        "signing_delegate.grant",
        "signing_delegate.revoke",
    ]


def test_members_do_not_appoint_delegates(org, member, director):
    other = make_member(org, email="third@northern.test")
    with pytest.raises(PermissionDenied):
        signing_delegate_grant(actor=member, organisation_id=org.pk, user_id=other.pk)
    assert not SigningDelegate.objects.exists()


def test_signing_is_a_step_up_the_code_used_to_sign_in_is_not_accepted_again(agreed, director, monkeypatch):
    """Signing re-checks both factors at that moment: the code entered at sign-in cannot sign; the
    next one, 30 seconds later, can."""
    clock = Clock(monkeypatch)
    code = totp_code(TEST_TOTP_SECRET)
    assert sign_in(Client(), director, code=code).status_code == 302
    before = snapshot()
    with pytest.raises(PermissionDenied, match="not correct"):
        sign(director, agreed, otp_code=code)
    assert snapshot() == before
    clock.forward(30)
    assert sign(director, agreed, otp_code=totp_code(TEST_TOTP_SECRET)).is_valid
