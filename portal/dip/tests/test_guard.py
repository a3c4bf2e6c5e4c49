"""Submitting DIP onboarding needs every step done and the pre-production DIP ID recorded; the DIP
Manager accepts it only once that DIP ID is confirmed. Each refusal says what is missing."""

import pytest

from portal.core.errors import InvalidTransition
from portal.dip.models import DipOnboardingStep
from portal.dip.services import dip_id_add, dip_id_confirm, dip_step_set
from portal.dip.testing_support import dip_complete_onboarding, dip_confirm_pre_production, dip_prepare_step
from portal.dip.tests.conftest import snapshot, task_of
from portal.qualification.services import task_transition

pytestmark = pytest.mark.django_db


def transition(actor, application, action, comment=""):
    return task_transition(
        actor=actor, application_id=application.pk, task_code="dip_onboarding", action=action, comment=comment
    )


def refused(actor, application, action) -> InvalidTransition:
    before = snapshot()
    with pytest.raises(InvalidTransition) as refusal:
        transition(actor, application, action)
    assert snapshot() == before
    return refusal.value


def test_submitting_names_every_step_not_done_and_the_missing_dip_id(member, dip_app):
    error = refused(member, dip_app, "submit")
    titles = list(DipOnboardingStep.objects.order_by("order").values_list("title", flat=True))
    assert error.details["missing"] == [f"the step “{t}” is not done" for t in titles] + [
        "no pre-production DIP ID has been recorded for NLEN as Supplier"
    ]
    assert error.message.startswith("DIP onboarding cannot be submitted yet: the step “Access the DIP")


def test_one_step_not_done_is_named(member, dip_app):
    dip_complete_onboarding(dip_app, actor=member)
    dip_step_set(actor=member, application_id=dip_app.pk, step_code="domain_verified", done=False)
    assert refused(member, dip_app, "submit").details["missing"] == ["the step “Verify the domain” is not done"]


def test_the_missing_dip_id_is_named(member, dip_app):
    for step in DipOnboardingStep.objects.all():
        dip_step_set(actor=member, application_id=dip_app.pk, step_code=step.code, done=True)
    error = refused(member, dip_app, "submit")
    assert error.details["missing"] == ["no pre-production DIP ID has been recorded for NLEN as Supplier"]


def test_inactive_steps_are_not_needed(member, dip_app):
    DipOnboardingStep.objects.filter(code="message_channels").update(is_active=False)
    for step in DipOnboardingStep.objects.filter(is_active=True):
        dip_step_set(actor=member, application_id=dip_app.pk, step_code=step.code, done=True)
    dip_id_add(actor=member, application_id=dip_app.pk, environment="pre_production", value="1009012345")
    assert transition(member, dip_app, "submit").state == "submitted"


def test_accepting_needs_the_pre_production_dip_id_confirmed(member, dip_manager, dip_app):
    dip_complete_onboarding(dip_app, actor=member)
    transition(member, dip_app, "submit")
    error = refused(dip_manager, dip_app, "accept")
    dip_id = dip_app.dip_ids.get()
    assert error.message == (
        f"DIP onboarding cannot be accepted until the pre-production DIP ID {dip_id.value} is confirmed."
    )
    dip_id_confirm(actor=dip_manager, application_id=dip_app.pk, dip_id_id=dip_id.pk)
    task = transition(dip_manager, dip_app, "accept")
    assert task.state == "completed"


def test_accepting_without_any_dip_id_is_refused(member, dip_manager, dip_app):
    dip_complete_onboarding(dip_app, actor=member)
    transition(member, dip_app, "submit")
    # An administrator removed the row behind the service's back: the guard still holds.
    dip_app.dip_ids.all().delete()
    error = refused(dip_manager, dip_app, "accept")
    assert "no pre-production DIP ID has been recorded for NLEN as Supplier" in error.message


def test_changes_requested_opens_the_steps_again(member, dip_manager, dip_app):
    dip_complete_onboarding(dip_app, actor=member)
    transition(member, dip_app, "submit")
    transition(dip_manager, dip_app, "request_changes", comment="The webhook URLs are not registered.")
    progress = dip_step_set(
        actor=member, application_id=dip_app.pk, step_code="message_channels", done=True, note="Registered."
    )
    assert progress.note == "Registered."
    assert task_of(dip_app).state == "changes_requested"


def test_the_preparation_helpers_walk_the_task(member, dip_manager, dip_app):
    dip_prepare_step(application=dip_app, task_code="dip_onboarding", action="submit", actor=member)
    transition(member, dip_app, "submit")
    dip_prepare_step(application=dip_app, task_code="dip_onboarding", action="accept", actor=dip_manager)
    assert transition(dip_manager, dip_app, "accept").state == "completed"
    before = snapshot()
    dip_prepare_step(application=dip_app, task_code="pit", action="submit", actor=member)
    dip_confirm_pre_production(dip_app, actor=dip_manager)  # already confirmed: nothing to do
    dip_complete_onboarding(dip_app, actor=member)  # already complete: nothing to do
    assert snapshot() == before
