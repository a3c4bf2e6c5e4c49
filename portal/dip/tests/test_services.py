"""The DIP onboarding services: steps done and undone, DIP IDs recorded, removed and confirmed; who
may, when, and what bad input gets. Every refusal leaves everything as it was."""

import pytest
from django.db import DataError, IntegrityError, transaction

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.dip.models import DipId, DipOnboardingStep, DipStepProgress
from portal.dip.onboarding_steps import STEPS, dip_steps_load
from portal.dip.services import dip_id_add, dip_id_confirm, dip_id_remove, dip_step_set
from portal.dip.tests.conftest import snapshot, task_of
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw, task_transition

pytestmark = pytest.mark.django_db

PRE = "pre_production"
PROD = "production"


def add(actor, application, value="1009012345", environment=PRE):
    return dip_id_add(actor=actor, application_id=application.pk, environment=environment, value=value)


def step(actor, application, code="company_verified", done=True, note=""):
    return dip_step_set(actor=actor, application_id=application.pk, step_code=code, done=done, note=note)


# --- reference data --------------------------------------------------------------------------------


def test_the_eight_onboarding_steps_are_loaded_by_the_migration():
    steps = list(DipOnboardingStep.objects.order_by("order"))
    assert [s.code for s in steps] == [code for code, _, _ in STEPS]
    assert len(steps) == 8
    assert steps[0].title == "Access the DIP and verify company details"
    assert steps[-1].title == "Set up message channels"


def test_loading_again_keeps_edits_and_reset_restores_them():
    DipOnboardingStep.objects.filter(code="users_set_up").update(title="Edited")
    DipOnboardingStep.objects.filter(code="dip_ids").delete()
    assert dip_steps_load() == 1
    assert DipOnboardingStep.objects.get(code="users_set_up").title == "Edited"
    dip_steps_load(reset=True)
    assert DipOnboardingStep.objects.get(code="users_set_up").title == "Set up users"


# --- steps -----------------------------------------------------------------------------------------


def test_marking_a_step_done_records_who_and_when(member, dip_app):
    progress = step(member, dip_app, note="Company number checked.")
    assert progress.done and progress.done_by == member and progress.done_at is not None
    assert progress.note == "Company number checked."
    assert task_of(dip_app).state == "in_progress"  # the first piece of work starts the task
    event = AuditEvent.objects.get(action="dip.step.done")
    assert event.after["done"] is True and event.after["done_by"] == member.pk
    assert audit_verify().ok


def test_marking_done_again_keeps_who_did_it_first(member, director, dip_app):
    first = step(member, dip_app)
    again = step(director, dip_app, note="Re-checked.")
    assert again.pk == first.pk
    assert again.done_by == member and again.done_at == first.done_at
    assert again.note == "Re-checked."


def test_marking_a_step_not_done_clears_who_and_when(member, dip_app):
    step(member, dip_app)
    progress = step(member, dip_app, done=False, note="Certificate expired.")
    assert not progress.done and progress.done_by is None and progress.done_at is None
    assert AuditEvent.objects.filter(action="dip.step.undone").count() == 1


def test_an_unknown_or_inactive_step_is_not_found(member, dip_app):
    DipOnboardingStep.objects.filter(code="domain_verified").update(is_active=False)
    before = snapshot()
    with pytest.raises(NotFound):
        step(member, dip_app, code="no_such_step")
    with pytest.raises(NotFound):
        step(member, dip_app, code="domain_verified")
    assert snapshot() == before


@pytest.mark.parametrize(("note", "message"), [("x" * 5001, "5000 characters"), ("nul\x00", "control characters")])
def test_a_bad_note_is_refused(member, dip_app, note, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message):
        step(member, dip_app, note=note)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.DIP_MANAGER, Role.PROGRAMME_ASSURANCE, Role.ADMINISTRATOR])
def test_staff_cannot_mark_steps_or_record_dip_ids(staff, dip_app, role):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        step(staff(role), dip_app)
    with pytest.raises(PermissionDenied):
        add(staff(role), dip_app)
    assert snapshot() == before


def test_another_organisation_gets_not_found(other_member, member, dip_app):
    dip_id = add(member, dip_app)
    before = snapshot()
    for call in (
        lambda: step(other_member, dip_app),
        lambda: add(other_member, dip_app, value="1111111111"),
        lambda: dip_id_remove(actor=other_member, application_id=dip_app.pk, dip_id_id=dip_id.pk),
        lambda: dip_id_confirm(actor=other_member, application_id=dip_app.pk, dip_id_id=dip_id.pk),
    ):
        with pytest.raises(NotFound):
            call()
    assert snapshot() == before


def test_steps_are_frozen_once_submitted(member, dip_app):
    from portal.dip.testing_support import dip_complete_onboarding

    dip_complete_onboarding(dip_app, actor=member)
    task_transition(actor=member, application_id=dip_app.pk, task_code="dip_onboarding", action="submit")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="is submitted, so its steps"):
        step(member, dip_app, done=False)
    assert snapshot() == before


def test_nothing_before_the_task_can_start(member, make_application):
    application = make_application()  # DIP onboarding waits for the PQS on this route
    before = snapshot()
    with pytest.raises(InvalidTransition, match="cannot start yet"):
        step(member, application)
    with pytest.raises(InvalidTransition, match="cannot start yet"):
        add(member, application)
    assert snapshot() == before


def test_nothing_on_a_closed_application(member, dip_manager, dip_app):
    dip_id = add(member, dip_app)
    application_withdraw(actor=member, application_id=dip_app.pk, reason="Stopping.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        step(member, dip_app)
    with pytest.raises(InvalidTransition, match="withdrawn"):
        dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert snapshot() == before


# --- DIP IDs ---------------------------------------------------------------------------------------


def test_recording_a_pre_production_dip_id_asks_the_dip_manager(member, dip_manager, dip_app):
    dip_id = add(member, dip_app, value=" 1009012345 ")
    assert dip_id.value == "1009012345"
    assert (dip_id.mpid, dip_id.market_role, dip_id.environment) == (dip_app.mpid, dip_app.market_role, PRE)
    assert dip_id.created_by == member and not dip_id.is_confirmed
    assert task_of(dip_app).state == "in_progress"
    assert AuditEvent.objects.get(action="dip.id.add").after["value"] == "1009012345"
    note = Notification.objects.get(recipient=dip_manager)
    assert note.subject == f"DIP ID to confirm: {dip_app.reference} NLEN SUP"
    assert note.link == f"/applications/{dip_app.pk}/dip/"


@pytest.mark.parametrize(
    "value", ["", "   ", "123456789", "12345678901", "10090l2345", "１００９０１２３４５", "1009 012345"]
)
def test_a_dip_id_is_exactly_ten_digits(member, dip_app, value):
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        add(member, dip_app, value=value)
    assert refused.value.details["field"] == "value"
    assert "DIP ID" in refused.value.message
    assert snapshot() == before


def test_the_format_message_names_the_rule(member, dip_app):
    with pytest.raises(
        InvalidInput, match=r"“12345” is not a DIP ID\. A DIP ID is exactly 10 digits, like 1009012345\."
    ):
        add(member, dip_app, value="12345")


def test_an_unknown_environment_is_refused(member, dip_app):
    before = snapshot()
    with pytest.raises(InvalidInput, match="pre-production or production"):
        add(member, dip_app, environment="staging")
    assert snapshot() == before


def test_one_dip_id_per_mpid_role_and_environment(member, dip_app):
    add(member, dip_app, value="1009012345")
    before = snapshot()
    with pytest.raises(Conflict, match=r"already has a Pre-production \(UIT\) DIP ID \(1009012345\)"):
        add(member, dip_app, value="1009012346")
    assert snapshot() == before


def test_a_dip_id_is_used_only_once(member, other_member, dip_app, make_application, other_org):
    add(member, dip_app, value="1009012345")
    other = make_application(route="sit", organisation=other_org, actor=other_member)
    data_service = make_application(route="sit", market_role="ADS")
    before = snapshot()
    with pytest.raises(Conflict, match="1009012345 is already in use"):
        add(other_member, other, value="1009012345")
    # Not for another role of the same MPID either, in either environment.
    with pytest.raises(Conflict, match="already in use"):
        add(member, data_service, value="1009012345")
    assert snapshot() == before
    add(member, data_service, value="1111111111")
    before = snapshot()
    with pytest.raises(Conflict, match="already in use"):  # another MPID and role's, in the other environment
        add(member, data_service, value="1009012345", environment=PROD)
    assert snapshot() == before


def test_production_comes_after_pre_production(member, dip_app):
    before = snapshot()
    with pytest.raises(InvalidTransition, match="only after the pre-production one"):
        add(member, dip_app, value="2300000012", environment=PROD)
    assert snapshot() == before
    add(member, dip_app, value="1009012345")
    production = add(member, dip_app, value="2300000012", environment=PROD)
    assert production.environment == PROD


def test_the_same_dip_id_may_carry_over_to_production_for_the_same_mpid_and_role(member, dip_app):
    add(member, dip_app, value="1009012345")
    assert add(member, dip_app, value="1009012345", environment=PROD).value == "1009012345"


def test_production_may_be_recorded_after_onboarding_is_complete(member, dip_manager, dip_app):
    from portal.dip.testing_support import dip_complete_onboarding, dip_confirm_pre_production

    dip_complete_onboarding(dip_app, actor=member)
    task_transition(actor=member, application_id=dip_app.pk, task_code="dip_onboarding", action="submit")
    dip_confirm_pre_production(dip_app, actor=dip_manager)
    task_transition(actor=dip_manager, application_id=dip_app.pk, task_code="dip_onboarding", action="accept")
    assert add(member, dip_app, value="2300000012", environment=PROD).environment == PROD


def test_dip_ids_belong_to_the_mpid_and_role_across_applications(member, dip_app):
    add(member, dip_app, value="1009012345")
    application_withdraw(actor=member, application_id=dip_app.pk, reason="Restarting on another route.")
    from portal.dip.selectors import dip_ids_for
    from portal.qualification.services import application_create

    again = application_create(
        actor=member,
        organisation_id=dip_app.organisation_id,
        mpid_code="NLEN",
        market_role_code="SUP",
        route_code="sit",
    )
    assert [d.value for d in dip_ids_for(again)] == ["1009012345"]
    with pytest.raises(Conflict, match="already has"):
        add(member, again, value="1009012399")


def test_confirming_a_dip_id(member, dip_manager, dip_app):
    dip_id = add(member, dip_app)
    confirmed = dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert confirmed.confirmed_by == dip_manager and confirmed.confirmed_at is not None
    assert AuditEvent.objects.get(action="dip.id.confirm").after["confirmed_by"] == dip_manager.pk
    assert Notification.objects.filter(recipient=member, subject__startswith="DIP ID confirmed").count() == 1
    before = snapshot()
    with pytest.raises(Conflict, match="already confirmed"):
        dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "programme", "analyst"])
def test_only_the_dip_manager_confirms(member, staff, dip_app, who):
    dip_id = add(member, dip_app)
    actor = {
        "member": member,
        "programme": staff(Role.PROGRAMME_ASSURANCE),
        "analyst": staff(Role.ELEXON_ANALYST),
    }[who]
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the DIP Manager"):
        dip_id_confirm(actor=actor, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert snapshot() == before


def test_confirming_another_mpids_dip_id_through_this_application_is_not_found(
    member, dip_manager, dip_app, make_application
):
    other = make_application(route="sit", market_role="ADS")
    dip_id = add(member, other, value="1009012399")
    with pytest.raises(NotFound):
        dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)


def test_removing_an_unconfirmed_dip_id(member, dip_manager, dip_app):
    dip_id = add(member, dip_app)
    dip_id_remove(actor=member, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert not DipId.objects.exists()
    assert AuditEvent.objects.get(action="dip.id.remove").before["value"] == "1009012345"
    # Once confirmed, it stays.
    dip_id = add(member, dip_app)
    dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    before = snapshot()
    with pytest.raises(Conflict, match="confirmed by the DIP Manager and can no longer be removed"):
        dip_id_remove(actor=member, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    with pytest.raises(PermissionDenied):
        dip_id_remove(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    assert snapshot() == before


def test_pre_production_cannot_be_removed_under_a_production_dip_id(member, dip_app):
    pre = add(member, dip_app)
    add(member, dip_app, value="2300000012", environment=PROD)
    before = snapshot()
    with pytest.raises(Conflict, match="Remove the production DIP ID first"):
        dip_id_remove(actor=member, application_id=dip_app.pk, dip_id_id=pre.pk)
    assert snapshot() == before


# --- the database holds the rules too ------------------------------------------------------------


def _row(application, member, **values):
    fields = {
        "mpid": application.mpid,
        "market_role": application.market_role,
        "environment": PRE,
        "value": "1009012345",
        "application": application,
        "created_by": member,
    }
    fields.update(values)
    return DipId(**fields)


@pytest.mark.parametrize("value", ["123456789", "12345678901", "abcdefghij", "１００９０１２３４５", ""])
def test_the_database_refuses_a_malformed_dip_id(member, dip_app, value):
    # Too long is refused by the column's length on PostgreSQL (a DataError), by the check elsewhere.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        _row(dip_app, member, value=value).save()


def test_the_database_refuses_a_second_dip_id_for_the_same_mpid_role_and_environment(member, dip_app):
    _row(dip_app, member).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(dip_app, member, value="1009012346").save()


def test_the_database_refuses_a_dip_id_used_twice_in_an_environment(member, dip_app, make_application):
    _row(dip_app, member).save()
    other = make_application(route="sit", market_role="ADS")
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(other, member).save()


def test_the_database_refuses_half_a_confirmation_or_a_bad_environment(member, dip_app):
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(dip_app, member, confirmed_by=member).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(dip_app, member, environment="staging").save()


def test_the_database_refuses_progress_done_without_who_and_when(member, dip_app):
    step_row = DipOnboardingStep.objects.get(code="company_verified")
    with pytest.raises(IntegrityError), transaction.atomic():
        DipStepProgress.objects.create(application=dip_app, step=step_row, done=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        DipStepProgress.objects.create(application=dip_app, step=step_row, done=False, done_by=member)
