"""The PQS's part in the `pqs` task's transitions: what submitting and accepting need, what sending it
back needs, what accepting records for Qualification Testing, and the helper that walks it forward."""

from dataclasses import replace

import pytest

from portal.core.errors import InvalidInput, InvalidTransition
from portal.notifications.models import Notification
from portal.prequalification.models import PqsSubmission
from portal.prequalification.selectors import accepted_reliance, accepted_reliance_identifiers
from portal.prequalification.services import (
    PqsFields,
    guard_request_changes,
    pqs_save_draft,
    reliance_item_add,
    reliance_item_decide,
)
from portal.prequalification.testing import pqs_prepare_step
from portal.prequalification.tests.conftest import NOT_RELIED_ON, PLAN, RELIED_ON, snapshot, task_of
from portal.qualification.hooks import TransitionContext, task_page_url_name
from portal.qualification.journey import advance_application
from portal.qualification.services import task_transition
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db


def _take(user, application, action, comment=""):
    return task_transition(actor=user, application_id=application.pk, task_code="pqs", action=action, comment=comment)


# --- submit -----------------------------------------------------------------------------------------


def test_submit_is_refused_until_the_pqs_is_complete_and_says_what_is_missing(member, make_application):
    application = make_application()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        _take(member, application, "submit")
    assert "The PQS is not complete yet: select the preferred wave; enter the PIT approach" in refused.value.message
    assert [m["field"] for m in refused.value.details["missing"]] == [
        "preferred_wave",
        "pit_approach",
        "pit_start_date",
        "pit_completion_date",
        "qt_approach",
        "qt_start_date",
        "qt_completion_date",
        "target_migration_date",
    ]
    assert snapshot() == before

    pqs_save_draft(actor=member, application_id=application.pk, fields=replace(PLAN, target_migration_date=None))
    with pytest.raises(InvalidInput, match="enter the target migration date"):
        _take(member, application, "submit")
    assert task_of(application).state == TaskState.IN_PROGRESS


def test_a_complete_pqs_without_reliance_may_be_submitted_on_the_supplier_route(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    assert _take(member, application, "submit").state == TaskState.SUBMITTED


def test_a_wave_withdrawn_after_it_was_chosen_must_be_chosen_again(member, make_application):
    from portal.prequalification.models import Wave

    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    Wave.objects.filter(code="wave-2").update(is_active=False)
    with pytest.raises(InvalidInput, match="no longer offered"):
        _take(member, application, "submit")


def test_new_entrant_ldso_must_rely_on_something(member, new_entrant, make_application):
    application = make_application(route="new_entrant_ldso", market_role="LDSO")
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    reliance_item_add(actor=member, application_id=application.pk, fields=NOT_RELIED_ON)
    with pytest.raises(InvalidInput, match="add at least one item of testing you rely on") as refused:
        _take(member, application, "submit")
    assert [m["field"] for m in refused.value.details["missing"]] == ["items"]
    reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    assert _take(member, application, "submit").state == TaskState.SUBMITTED


def test_new_entrant_ldso_without_reliance_marks_the_task_not_required(member, new_entrant, make_application):
    application = make_application(route="new_entrant_ldso", market_role="LDSO")
    task = _take(member, application, "mark_not_required", "We do not place reliance.")
    assert task.state == TaskState.NOT_REQUIRED


# --- accept and request changes ---------------------------------------------------------------------


@pytest.fixture
def submitted(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    relied = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    not_relied = reliance_item_add(actor=member, application_id=application.pk, fields=NOT_RELIED_ON)
    _take(member, application, "submit")
    return application, relied, not_relied


def _decide(user, application, item, decision, reason=""):
    return reliance_item_decide(
        actor=user, application_id=application.pk, item_id=item.pk, decision=decision, reason=reason
    )


def test_accept_is_refused_while_items_await_a_decision(analyst, submitted):
    application, relied, not_relied = submitted
    before = snapshot()
    with pytest.raises(InvalidTransition) as refused:
        _take(analyst, application, "accept")
    assert refused.value.message == "The PQS cannot be accepted yet: 2 items still await a decision."
    assert refused.value.details == {"pending": [relied.pk, not_relied.pk], "changes_requested": []}
    assert snapshot() == before


def test_accept_is_refused_while_an_item_has_changes_requested(analyst, submitted):
    application, relied, _ = submitted
    _decide(analyst, application, relied, "changes_requested", "Name the report's version.")
    with pytest.raises(InvalidTransition) as refused:
        _take(analyst, application, "accept")
    assert "1 item still awaits a decision and 1 item has changes requested" in refused.value.message
    assert "Request changes to send it back" in refused.value.message


def test_accepting_with_a_rejected_item_keeps_it_rejected(member, analyst, submitted):
    application, relied, not_relied = submitted
    _decide(analyst, application, relied, "rejected", "The vendor's testing does not cover your configuration.")
    _decide(analyst, application, not_relied, "accepted")
    assert _take(analyst, application, "accept").state == TaskState.COMPLETED
    relied.refresh_from_db()
    assert relied.decision == "rejected"
    assert accepted_reliance(application=application) == []  # the only relied-on item was rejected

    summary = Notification.objects.get(recipient=member, subject__startswith="Placing-reliance decisions")
    assert "The Code Bodies accepted your PQS" in summary.body
    assert "- Vendor flow management: Rejected (The vendor's testing does not cover your configuration.)" in (
        summary.body
    )
    assert "- Our CRM and billing interfaces: Accepted" in summary.body
    assert summary.link == f"/applications/{application.pk}/pqs/"


def test_request_changes_sends_the_pqs_back_as_a_draft(member, analyst, submitted):
    application, relied, _ = submitted
    _decide(analyst, application, relied, "changes_requested", "Which release?")
    task = _take(analyst, application, "request_changes", "See the first item.")
    assert task.state == TaskState.CHANGES_REQUESTED
    assert PqsSubmission.objects.get().status == "draft"
    summary = Notification.objects.get(recipient=member, subject__startswith="Placing-reliance decisions")
    assert "The Code Bodies asked for changes to your PQS" in summary.body
    assert "- Vendor flow management: Changes requested (Which release?)" in summary.body


def test_request_changes_needs_an_item_with_changes_or_a_comment(analyst, submitted):
    application, relied, _ = submitted
    task = task_of(application)
    task.application = application
    context = TransitionContext(actor=analyst, application=application, task=task, action="request_changes", comment="")
    with pytest.raises(InvalidInput, match="ask for changes on a proposal item, or write a comment"):
        guard_request_changes(context)
    guard_request_changes(replace(context, comment="Please add the vendor's report."))
    _decide(analyst, application, relied, "changes_requested", "Which release?")
    guard_request_changes(context)


# --- what accepting records -------------------------------------------------------------------------


def test_accepted_reliance_is_recorded_only_once_the_pqs_is_accepted(analyst, submitted):
    application, relied, not_relied = submitted
    _decide(analyst, application, relied, "accepted")
    _decide(analyst, application, not_relied, "accepted")
    assert accepted_reliance(application=application) == []  # the PQS itself is not accepted yet
    _take(analyst, application, "accept")
    # Only items relied on count: accepting "not relied on" only agrees that the participant tests it.
    assert accepted_reliance(application=application) == [relied]
    scope = accepted_reliance_identifiers(application=application)
    assert scope.test_cases == frozenset({"QTC-SUP-001", "QTC-SUP-002"})
    assert scope.test_scenarios == frozenset()


def test_scenarios_and_cases_are_kept_apart(member, analyst, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    cases = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    scenarios = reliance_item_add(
        actor=member,
        application_id=application.pk,
        fields=replace(RELIED_ON, title="Vendor scenarios", scope="test_scenarios", identifiers="TS-001 TS-002"),
    )
    _take(member, application, "submit")
    for item in (cases, scenarios):
        _decide(analyst, application, item, "accepted")
    _take(analyst, application, "accept")
    scope = accepted_reliance_identifiers(application=application)
    assert scope.test_scenarios == frozenset({"TS-001", "TS-002"})
    assert scope.test_cases == frozenset({"QTC-SUP-001", "QTC-SUP-002"})


# --- registration and the journey helper ------------------------------------------------------------


def test_the_task_page_links_to_the_pqs_pages():
    assert task_page_url_name("pqs") == "prequalification:pqs"


def _advance(application, actor_for, monkeypatch, **kwargs):
    """`advance_application`, preparing the PQS before each of its steps as the journey helper will."""
    from portal.qualification import journey

    original = journey.task_transition

    def prepared(**step):
        application_ = journey.Application.objects.get(pk=step["application_id"])
        pqs_prepare_step(
            application=application_, task_code=step["task_code"], action=step["action"], actor=step["actor"]
        )
        return original(**step)

    monkeypatch.setattr(journey, "task_transition", prepared)
    return advance_application(application, actor_for=actor_for, **kwargs)


def test_the_helper_fills_and_accepts_the_pqs_so_the_journey_can_pass(actor_for, make_application, monkeypatch):
    application = _advance(make_application(), actor_for, monkeypatch, stop_before="pit")
    assert task_of(application).state == TaskState.COMPLETED
    pqs = PqsSubmission.objects.get(application=application)
    assert pqs.version == 1 and pqs.items.count() == 0


def test_the_helper_adds_and_accepts_reliance_for_a_new_entrant(actor_for, new_entrant, make_application, monkeypatch):
    application = make_application(route="new_entrant_ldso", market_role="LDSO")
    application = _advance(application, actor_for, monkeypatch, stop_before="pit", skip_optional=False)
    assert task_of(application).state == TaskState.COMPLETED
    [item] = accepted_reliance(application=application)
    assert item.identifiers == ["QTC-DIP-02-01", "QTC-DIP-02-02"]


def test_the_helper_leaves_a_submitted_pqs_alone(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PqsFields(pit_approach="Draft"))
    pqs_prepare_step(application=application, task_code="pqs", action="submit", actor=member)
    _take(member, application, "submit")
    before = snapshot()
    pqs_prepare_step(application=application, task_code="pqs", action="submit", actor=member)
    pqs_prepare_step(application=application, task_code="pit", action="submit", actor=member)
    assert snapshot() == before
