"""Submitting PIT: refused, saying exactly what is missing, until every required criterion is met (with
evidence where asked) and the RTTM is uploaded at PIT entry and PIT exit. The Programme then accepts
or asks for changes through the task's own actions."""

import pytest

from portal.core.errors import InvalidTransition
from portal.qualification.models import Application
from portal.qualification.services import task_transition
from portal.testing.models import PitCriterion
from portal.testing.selectors import pit_criteria_for, pit_missing
from portal.testing.services import pit_criterion_record, pit_rttm_upload
from portal.testing.testing_support import pit_complete_checklist, pit_prepare_step
from portal.testing.tests.conftest import csv, pdf, snapshot

pytestmark = pytest.mark.django_db


def refusal(application: Application, actor) -> InvalidTransition:
    before = snapshot()
    with pytest.raises(InvalidTransition) as refused:
        task_transition(actor=actor, application_id=application.pk, task_code="pit", action="submit")
    assert snapshot() == before
    assert refused.value.message.startswith("PIT cannot be submitted yet: ")
    return refused.value


def test_an_empty_checklist_names_everything_missing(member, pit_app):
    error = refusal(pit_app, member)
    missing = error.details["missing"]
    required = [c for c in pit_criteria_for(pit_app) if c.is_required]
    assert missing[: len(required)] == [f"“{c.title}” has no result yet" for c in required]
    assert missing[-2:] == [
        "the RTTM at PIT entry has not been uploaded",
        "the RTTM at PIT exit has not been uploaded",
    ]
    assert "“PIT DBT1 completed” has no result yet" in error.message


def test_each_gap_is_named(member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    dbt1 = PitCriterion.objects.get(code="pit_dbt1_complete")
    pit_criterion_record(actor=member, application_id=pit_app.pk, criterion_code=dbt1.code, met=False)
    assert refusal(pit_app, member).details["missing"] == ["“PIT DBT1 completed” is not met"]

    # Evidence asked for but none attached.
    result = pit_criterion_record(actor=member, application_id=pit_app.pk, criterion_code=dbt1.code, met=True)
    result.evidence.clear()
    assert refusal(pit_app, member).details["missing"] == ["“PIT DBT1 completed” needs evidence"]


def test_a_criterion_without_an_evidence_requirement_needs_only_to_be_met(member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    result = pit_app.pit_results.get(criterion__code="qt_readiness_contacts")
    assert not result.evidence.exists()
    task = task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    assert task.state == "submitted"


def test_a_missing_rttm_is_named(member, pit_app):
    for criterion in pit_criteria_for(pit_app):
        pit_criterion_record(
            actor=member,
            application_id=pit_app.pk,
            criterion_code=criterion.code,
            met=True,
            files=[pdf()] if criterion.evidence_required else [],
        )
    pit_rttm_upload(actor=member, application_id=pit_app.pk, checkpoint="pit_entry", upload=csv())
    assert refusal(pit_app, member).details["missing"] == ["the RTTM at PIT exit has not been uploaded"]


def test_optional_criteria_do_not_stop_a_submission(make_application):
    application = make_application(route="non_sit_supplier_agent")
    codes = {c.code: c for c in pit_criteria_for(application)}
    assert not codes["reliance_artefacts_available"].is_required
    assert not any("relied on" in item for item in pit_missing(application))


def test_a_complete_checklist_is_submitted_and_the_programme_accepts(member, pit_app, programme):
    pit_complete_checklist(pit_app, actor=member)
    task = task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    assert task.state == "submitted"
    task = task_transition(actor=programme, application_id=pit_app.pk, task_code="pit", action="accept")
    assert task.state == "completed"


def test_the_programme_can_ask_for_changes_and_the_participant_resubmits(member, pit_app, programme):
    pit_complete_checklist(pit_app, actor=member)
    task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    task_transition(
        actor=programme,
        application_id=pit_app.pk,
        task_code="pit",
        action="request_changes",
        comment="The non-functional results do not show the volume targets.",
    )
    pit_criterion_record(
        actor=member, application_id=pit_app.pk, criterion_code="non_functional_tests_complete", met=False
    )
    refusal(pit_app, member)
    pit_prepare_step(application=pit_app, task_code="pit", action="submit", actor=member)
    task = task_transition(actor=member, application_id=pit_app.pk, task_code="pit", action="submit")
    assert task.state == "submitted"


def test_the_preparation_helper_leaves_other_steps_alone(member, pit_app):
    before = snapshot()
    pit_prepare_step(application=pit_app, task_code="dip_onboarding", action="submit", actor=member)
    pit_prepare_step(application=pit_app, task_code="pit", action="accept", actor=member)
    assert snapshot() == before


def test_completing_the_checklist_twice_adds_nothing(member, pit_app):
    pit_complete_checklist(pit_app, actor=member)
    before = snapshot()
    pit_complete_checklist(pit_app, actor=member)
    assert snapshot() == before
