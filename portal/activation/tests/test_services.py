"""The hand-off services: starting, the checklist, the go-live date, inputs and completion; who may,
when, and what bad input gets. Every refusal leaves everything as it was."""

from datetime import timedelta

import pytest

from portal.accounts.roles import Role
from portal.activation.models import ActivationChecklistItem, Handoff, HandoffCheck, HandoffInput
from portal.activation.selectors import uk_today
from portal.activation.services import (
    handoff_check_set,
    handoff_complete,
    handoff_go_live_set,
    handoff_input_add,
    handoff_start,
)
from portal.activation.testing_support import activation_complete_checklist
from portal.activation.tests.conftest import snapshot, task_of
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.factories import UserFactory, make_staff
from portal.notifications.models import Notification
from portal.qualification.services import task_transition

pytestmark = pytest.mark.django_db


def tick(actor, application, code="standing_data", done=True, note=""):
    return handoff_check_set(actor=actor, application_id=application.pk, item_code=code, done=done, note=note)


def required_codes():
    return list(
        ActivationChecklistItem.objects.filter(is_required=True, is_active=True)
        .order_by("order")
        .values_list("code", flat=True)
    )


def refused(error, call, *args, **kwargs):
    """The call raises `error`, and changes nothing."""
    before = snapshot()
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    assert snapshot() == before
    return info.value


def told(user, subject_start):
    return Notification.objects.filter(recipient=user, subject__startswith=subject_start)


# --- starting --------------------------------------------------------------------------------------


def test_the_team_starts_the_hand_off_and_the_participant_is_told(qualified, team, member):
    handoff = handoff_start(actor=team, application_id=qualified.pk)
    assert handoff.started_by == team and handoff.started_at is not None
    assert task_of(qualified).state == "in_progress"
    qualified.refresh_from_db()
    assert qualified.status == "in_service_activation"
    assert AuditEvent.objects.filter(action="handoff.start", application_id=qualified.pk).count() == 1
    assert told(member, "Service Activation has started").count() == 1


def test_starting_through_the_task_action_records_the_start_too(qualified, team):
    task_transition(actor=team, application_id=qualified.pk, task_code="service_activation", action="start")
    assert Handoff.objects.get(application=qualified).started_by == team


def test_starting_twice_is_refused(qualified, team):
    handoff_start(actor=team, application_id=qualified.pk)
    error = refused(InvalidTransition, handoff_start, actor=team, application_id=qualified.pk)
    assert "in progress" in error.message


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.DIP_MANAGER, Role.ADMINISTRATOR])
def test_only_the_team_starts_it(qualified, staff, role):
    refused(PermissionDenied, handoff_start, actor=staff(role), application_id=qualified.pk)


def test_the_participant_cannot_start_it(qualified, member):
    refused(PermissionDenied, handoff_start, actor=member, application_id=qualified.pk)


def test_another_organisation_gets_not_found(qualified, other_member):
    refused(NotFound, handoff_start, actor=other_member, application_id=qualified.pk)
    refused(NotFound, tick, other_member, qualified)
    refused(NotFound, handoff_input_add, actor=other_member, application_id=qualified.pk, text="Hello")


def test_nothing_happens_before_the_application_is_qualified(make_application, advance, team, staff):
    application = advance(make_application(route="sit"), stop_before="approval_rec_code_manager")
    error = refused(InvalidTransition, tick, team, application)
    assert "not MHHS Qualified yet" in error.message
    refused(
        InvalidTransition,
        handoff_input_add,
        actor=staff(Role.ELEXON_ANALYST),
        application_id=application.pk,
        text="Early note.",
    )
    refused(InvalidTransition, handoff_start, actor=team, application_id=application.pk)


# --- the checklist -----------------------------------------------------------------------------------


def test_ticking_records_who_and_when_and_starts_the_hand_off(qualified, team, member):
    check = tick(team, qualified, note="Effective from 1 April.")
    assert check.done and check.done_by == team and check.done_at is not None
    assert check.note == "Effective from 1 April."
    assert task_of(qualified).state == "in_progress"  # the first piece of work starts the hand-off
    assert Handoff.objects.get(application=qualified).started_by == team
    event = AuditEvent.objects.get(action="handoff.check.done")
    assert event.after["item"] == "standing_data" and event.after["done_by"] == team.pk
    assert told(member, "Service Activation has started").count() == 1


def test_ticking_again_keeps_who_did_it_first_and_unticking_clears_it(qualified, team):
    first = tick(team, qualified)
    colleague = make_staff(Role.SERVICE_ACTIVATION)
    again = tick(colleague, qualified, note="Checked twice.")
    assert again.done_by == team
    assert again.pk == first.pk and again.done_at == first.done_at and again.note == "Checked twice."
    undone = tick(team, qualified, done=False)
    assert not undone.done and undone.done_by is None and undone.done_at is None
    assert AuditEvent.objects.filter(action="handoff.check.undone").count() == 1
    assert HandoffCheck.objects.count() == 1


@pytest.mark.parametrize(
    ("note", "message"),
    [("x" * 5001, "5000 characters or fewer"), ("bad\x00note", "control characters")],
)
def test_a_bad_note_is_refused(qualified, team, note, message):
    error = refused(InvalidInput, tick, team, qualified, note=note)
    assert message in error.message and error.details["field"] == "note"


def test_an_unknown_or_retired_item_is_not_found(qualified, team):
    refused(NotFound, tick, team, qualified, code="no_such_item")
    ActivationChecklistItem.objects.filter(code="standing_data").update(is_active=False)
    refused(NotFound, tick, team, qualified, code="standing_data")


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.DIP_MANAGER, Role.REC_CODE_MANAGER])
def test_only_the_team_ticks_items(qualified, staff, role):
    error = refused(PermissionDenied, tick, staff(role), qualified)
    assert "Only the Service Activation team" in error.message


def test_the_participant_cannot_tick_items(qualified, member):
    refused(PermissionDenied, tick, member, qualified)


def test_a_hand_off_missing_for_a_qualified_application_is_opened_by_the_first_work(qualified, team):
    """Applications qualified before hand-offs existed have none: the first piece of work opens it."""
    Handoff.objects.filter(application=qualified).delete()
    tick(team, qualified)
    assert Handoff.objects.get(application=qualified).checks.count() == 1
    assert AuditEvent.objects.filter(action="handoff.create").count() == 2


# --- the go-live date ------------------------------------------------------------------------------


def test_setting_the_go_live_date_tells_the_participant(qualified, team, member):
    day = uk_today() + timedelta(days=30)
    handoff = handoff_go_live_set(actor=team, application_id=qualified.pk, planned_go_live=day)
    assert handoff.planned_go_live == day
    assert told(member, "Planned go-live set").count() == 1
    assert AuditEvent.objects.get(action="handoff.go_live.set").after["planned_go_live"] == day.isoformat()
    later = day + timedelta(days=7)
    handoff_go_live_set(actor=team, application_id=qualified.pk, planned_go_live=later)
    assert told(member, "Planned go-live changed").count() == 1


def test_setting_the_same_date_again_changes_nothing(qualified, team):
    day = uk_today()
    handoff_go_live_set(actor=team, application_id=qualified.pk, planned_go_live=day)
    before = snapshot()
    handoff_go_live_set(actor=team, application_id=qualified.pk, planned_go_live=day)
    assert snapshot() == before


def test_a_go_live_date_in_the_past_is_refused(qualified, team):
    error = refused(
        InvalidInput,
        handoff_go_live_set,
        actor=team,
        application_id=qualified.pk,
        planned_go_live=uk_today() - timedelta(days=1),
    )
    assert "today" in error.message and error.details["field"] == "planned_go_live"


def test_only_the_team_sets_the_go_live_date(qualified, member, staff):
    day = uk_today()
    refused(PermissionDenied, handoff_go_live_set, actor=member, application_id=qualified.pk, planned_go_live=day)
    refused(
        PermissionDenied,
        handoff_go_live_set,
        actor=staff(Role.ELEXON_ANALYST),
        application_id=qualified.pk,
        planned_go_live=day,
    )


# --- inputs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "body"),
    [
        (Role.ELEXON_ANALYST, "elexon_analyst"),
        (Role.QSP, "qsp"),
        (Role.REC_CODE_MANAGER, "rec_code_manager"),
        (Role.DIP_MANAGER, "dip_manager"),
    ],
)
def test_code_bodies_and_the_dip_manager_add_inputs_and_the_team_is_told(qualified, staff, team, role, body):
    author = staff(role)
    entry = handoff_input_add(actor=author, application_id=qualified.pk, text="  Watch the LLFC mapping.  ")
    assert entry.body == body and entry.author == author and entry.text == "Watch the LLFC mapping."
    assert AuditEvent.objects.get(action="handoff.input.add").after == {"body": body, "text": entry.text}
    assert told(team, "Input on the hand-off").count() == 1
    assert task_of(qualified).state == "not_started"  # an input does not start the hand-off


def test_a_holder_of_several_bodies_chooses_one_they_hold(qualified):
    both = UserFactory(roles=[Role.ELEXON_ANALYST, Role.DIP_MANAGER])
    assert handoff_input_add(actor=both, application_id=qualified.pk, text="A").body == "elexon_analyst"
    assert (
        handoff_input_add(actor=both, application_id=qualified.pk, text="B", body="dip_manager").body == "dip_manager"
    )
    error = refused(InvalidInput, handoff_input_add, actor=both, application_id=qualified.pk, text="C", body="qsp")
    assert error.details["field"] == "body" and "Elexon" in error.message
    refused(InvalidInput, handoff_input_add, actor=both, application_id=qualified.pk, text="C", body="nonsense")


@pytest.mark.parametrize(("text", "field"), [("", "text"), ("   ", "text"), ("x" * 5001, "text"), ("a\x07b", "text")])
def test_a_bad_input_is_refused(qualified, staff, text, field):
    error = refused(
        InvalidInput, handoff_input_add, actor=staff(Role.ELEXON_ANALYST), application_id=qualified.pk, text=text
    )
    assert error.details["field"] == field


@pytest.mark.parametrize("role", [Role.SERVICE_ACTIVATION, Role.TESTING_ASSURANCE, Role.PAB_SECRETARY])
def test_other_staff_do_not_add_inputs(qualified, staff, role):
    error = refused(PermissionDenied, handoff_input_add, actor=staff(role), application_id=qualified.pk, text="Hi")
    assert "Code Bodies and the DIP Manager" in error.message


def test_the_participant_does_not_add_inputs(qualified, member):
    refused(PermissionDenied, handoff_input_add, actor=member, application_id=qualified.pk, text="Hi")


def test_the_rec_code_manager_does_not_see_a_role_the_rec_does_not_approve(qualify, staff):
    data_service = qualify(market_role="ADS")
    refused(NotFound, handoff_input_add, actor=staff(Role.REC_CODE_MANAGER), application_id=data_service.pk, text="Hi")


# --- completing ---------------------------------------------------------------------------------------


def test_completion_is_refused_naming_what_is_missing(qualified, team):
    handoff_start(actor=team, application_id=qualified.pk)
    tick(team, qualified, code="standing_data")
    error = refused(InvalidTransition, handoff_complete, actor=team, application_id=qualified.pk)
    assert error.message.startswith("The hand-off cannot be completed yet: the required item “DIP IDs confirmed")
    assert "“Market role details recorded in industry standing data”" not in error.message
    assert "“Operational contacts recorded”" not in error.message  # optional
    assert "the planned go-live date is not set" in error.message
    assert len(error.details["missing"]) == len(required_codes()) - 1 + 1


def test_completion_through_the_task_action_is_guarded_too(qualified, team):
    handoff_start(actor=team, application_id=qualified.pk)
    refused(
        InvalidTransition,
        task_transition,
        actor=team,
        application_id=qualified.pk,
        task_code="service_activation",
        action="complete",
    )


def test_completing_makes_the_application_active_and_tells_the_participant_and_the_analysts(
    qualified, team, member, staff
):
    analyst = staff(Role.ELEXON_ANALYST)
    activation_complete_checklist(qualified, actor=team)
    assert told(team, "Ready to complete").count() == 0  # the team member who finished it is not told
    handoff = handoff_complete(actor=team, application_id=qualified.pk, comment="Welcome aboard.")
    assert handoff.completed_by == team and handoff.completed_at is not None
    qualified.refresh_from_db()
    assert qualified.status == "active" and qualified.activated_at is not None
    operate = told(member, "Service Activation completed").get()
    assert "Welcome aboard." in operate.body and "may now operate" in operate.body
    assert told(analyst, "Service Activation complete").count() == 1
    assert AuditEvent.objects.get(action="handoff.complete").after["comment"] == "Welcome aboard."
    assert audit_verify().ok


def test_the_rest_of_the_team_is_told_when_it_is_ready(qualified, team):
    colleague = make_staff(Role.SERVICE_ACTIVATION)
    activation_complete_checklist(qualified, actor=team)
    assert told(colleague, "Ready to complete").count() == 1
    tick(team, qualified, code="standing_data", done=False)
    tick(team, qualified, code="standing_data")
    assert told(colleague, "Ready to complete").count() == 2


def test_an_optional_item_need_not_be_done(qualified, team):
    activation_complete_checklist(qualified, actor=team)
    assert not HandoffCheck.objects.filter(item__code="operational_contacts").exists()
    handoff_complete(actor=team, application_id=qualified.pk)


def test_a_retired_required_item_no_longer_blocks(qualified, team):
    activation_complete_checklist(qualified, actor=team)
    tick(team, qualified, code="party_details", done=False)
    ActivationChecklistItem.objects.filter(code="party_details").update(is_active=False)
    handoff_complete(actor=team, application_id=qualified.pk)


def test_the_participant_cannot_complete_it(qualified, team, member):
    activation_complete_checklist(qualified, actor=team)
    refused(PermissionDenied, handoff_complete, actor=member, application_id=qualified.pk)


def test_nothing_changes_after_completion(qualified, team, staff):
    activation_complete_checklist(qualified, actor=team)
    handoff_complete(actor=team, application_id=qualified.pk)
    error = refused(InvalidTransition, tick, team, qualified, code="operational_contacts")
    assert "complete" in error.message
    refused(InvalidTransition, handoff_go_live_set, actor=team, application_id=qualified.pk, planned_go_live=uk_today())
    refused(
        InvalidTransition, handoff_input_add, actor=staff(Role.ELEXON_ANALYST), application_id=qualified.pk, text="Hi"
    )
    refused(InvalidTransition, handoff_complete, actor=team, application_id=qualified.pk)


def test_the_journey_helper_finishes_applications(qualified, advance):
    application = advance(qualified)
    assert application.status == "active"
    handoff = Handoff.objects.get(application=application)
    assert handoff.is_completed and handoff.planned_go_live == uk_today()
    assert set(handoff.checks.filter(done=True).values_list("item__code", flat=True)) == set(required_codes())
    assert HandoffInput.objects.count() == 0
