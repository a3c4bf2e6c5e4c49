"""The QT plan services: writing the plan, opting out of DIP flows, submitting it and Testing
Assurance's review; who may, when, what bad input gets, and that every refusal leaves everything as it
was."""

import datetime

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw
from portal.testing.models import DipFlowOptOut, QtPlan, ReviewStatus
from portal.testing.plan_selectors import qt_plan_agreed, qt_plan_detail
from portal.testing.plan_services import (
    PlanFields,
    qt_opt_out_add,
    qt_opt_out_remove,
    qt_plan_review,
    qt_plan_submit,
    qt_plan_update,
)
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import (
    agree_plan,
    complete_fields,
    qt_task,
    snapshot,
)

pytestmark = pytest.mark.django_db

# The shared fixtures of the QT plan tests.
catalogue, qt_app, ta = fixtures.catalogue, fixtures.qt_app, fixtures.ta


def update(actor, application, **overrides):
    return qt_plan_update(actor=actor, application_id=application.pk, fields=complete_fields(**overrides))


def submit(actor, application):
    return qt_plan_submit(actor=actor, application_id=application.pk)


def review(actor, application, decision="agree", comment=""):
    return qt_plan_review(actor=actor, application_id=application.pk, decision=decision, comment=comment)


# --- writing the plan ------------------------------------------------------------------------------


def test_the_participant_writes_the_plan_and_the_task_starts(member, qt_app, ta):
    change = update(member, qt_app)
    plan = change.plan
    assert plan.approach.startswith("Run every required case")
    assert plan.starts_on == datetime.date(2026, 9, 7)
    assert plan.status == ReviewStatus.DRAFT and plan.version == 0
    assert plan.updated_by == member
    assert change.returned_to_draft is False
    assert qt_task(qt_app).state == "in_progress"
    event = AuditEvent.objects.get(action="qt.plan.update")
    assert event.after["approach"] == plan.approach
    assert event.after["starts_on"] == "2026-09-07"
    assert audit_verify().ok
    assert not Notification.objects.filter(recipient=ta).exists()  # nobody must act on a draft


def test_a_draft_may_leave_fields_empty(member, qt_app):
    plan = qt_plan_update(actor=member, application_id=qt_app.pk, fields=PlanFields(approach="Outline only")).plan
    assert plan.approach == "Outline only" and plan.starts_on is None


def test_saving_the_same_plan_again_records_nothing(member, qt_app):
    update(member, qt_app)
    before = snapshot()
    update(member, qt_app)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"approach": "x" * 20_001}, "approach", "20,000 characters or fewer"),
        ({"test_data": "bad\x00data"}, "test_data", "control characters"),
        (
            {"starts_on": datetime.date(2026, 9, 7), "ends_on": datetime.date(2026, 9, 6)},
            "ends_on",
            "same as or after the start date",
        ),
        ({"starts_on": datetime.date(1999, 1, 1)}, "starts_on", "between 2020 and 2040"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(member, qt_app, overrides, field, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        update(member, qt_app, **overrides)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_staff_cannot_write_the_plan(qt_app, ta):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        update(ta, qt_app)
    assert snapshot() == before


def test_another_organisation_gets_not_found(other_member, qt_app):
    before = snapshot()
    with pytest.raises(NotFound):
        update(other_member, qt_app)
    with pytest.raises(NotFound):
        qt_plan_detail(user=other_member, application_id=qt_app.pk)
    assert snapshot() == before


def test_nothing_can_be_written_before_the_task_can_start(member, make_application):
    application = make_application()  # QT waits for the Initial QAD
    before = snapshot()
    with pytest.raises(InvalidTransition, match="cannot start yet"):
        update(member, application)
    assert snapshot() == before


def test_nothing_can_be_written_once_the_application_is_closed(member, qt_app):
    application_withdraw(actor=member, application_id=qt_app.pk, reason="Leaving the market.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        update(member, qt_app)
    assert snapshot() == before


# --- submitting and reviewing ------------------------------------------------------------------------


def test_an_incomplete_plan_cannot_be_submitted(member, qt_app):
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=PlanFields(approach="Outline only"))
    before = snapshot()
    with pytest.raises(InvalidInput, match="cannot be submitted yet") as refused:
        submit(member, qt_app)
    fields = [e["field"] for e in refused.value.details["errors"]]
    assert fields == ["test_data", "starts_on", "ends_on"]  # no reliance accepted: not asked for
    assert snapshot() == before


def test_submitting_makes_a_version_and_tells_testing_assurance(member, qt_app, ta, staff):
    programme = staff(Role.PROGRAMME_ASSURANCE)
    update(member, qt_app)
    plan = submit(member, qt_app)
    assert plan.status == ReviewStatus.SUBMITTED and plan.version == 1 and plan.submitted_at
    event = AuditEvent.objects.get(action="qt.plan.submit")
    assert event.before == {"status": "draft", "version": 0}
    assert event.after["version"] == 1
    [note] = Notification.objects.filter(recipient=ta)
    assert "QT plan to review" in note.subject
    assert note.link == f"/applications/{qt_app.pk}/qt/plan/"
    assert not Notification.objects.filter(recipient=programme).exists()  # not an assurer on this route
    assert not Notification.objects.filter(recipient=member, subject__contains="QT plan").exists()


def test_a_submitted_plan_cannot_be_changed_or_submitted_again(member, qt_app, catalogue):
    update(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="with Testing Assurance for review"):
        update(member, qt_app, approach="Changed")
    with pytest.raises(InvalidTransition, match="with Testing Assurance for review"):
        qt_opt_out_add(actor=member, application_id=qt_app.pk, flow_code="IF-901", reason="Not used.")
    with pytest.raises(InvalidTransition, match="already with Testing Assurance"):
        submit(member, qt_app)
    assert snapshot() == before


def test_testing_assurance_agrees_the_plan_and_the_participant_is_told(member, director, qt_app, ta):
    update(member, qt_app)
    submit(member, qt_app)
    plan = review(ta, qt_app, comment="Clear and complete.")
    assert plan.status == ReviewStatus.AGREED
    assert plan.reviewed_by == ta and plan.reviewed_at and plan.review_comment == "Clear and complete."
    assert qt_plan_agreed(qt_app)
    event = AuditEvent.objects.get(action="qt.plan.review")
    assert event.after == {"status": "agreed", "version": 1, "comment": "Clear and complete."}
    recipients = set(
        Notification.objects.filter(subject__startswith="QT plan agreed").values_list("recipient", flat=True)
    )
    assert {member.pk, director.pk} <= recipients
    assert ta.pk not in recipients
    with pytest.raises(InvalidTransition, match="already agreed"):
        submit(member, qt_app)


def test_requesting_changes_needs_a_comment_and_lets_the_participant_resubmit(member, qt_app, ta):
    update(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Enter the changes") as refused:
        review(ta, qt_app, decision="request_changes")
    assert refused.value.details["field"] == "comment"
    assert snapshot() == before

    plan = review(ta, qt_app, decision="request_changes", comment="Add the migration batch dates.")
    assert plan.status == ReviewStatus.CHANGES_REQUESTED
    assert Notification.objects.filter(recipient=member, subject__contains="needs changes").exists()
    update(member, qt_app, approach="Functional, then migration from 1 October.")
    plan = submit(member, qt_app)
    assert plan.version == 2 and plan.status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize("decision", ["approve", "", "AGREE"])
def test_an_unknown_decision_is_refused(member, qt_app, ta, decision):
    update(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="agree or request changes"):
        review(ta, qt_app, decision=decision)
    assert snapshot() == before


def test_only_the_assurers_review(member, qt_app, staff):
    update(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only Testing Assurance can review"):
        review(member, qt_app)
    for role in (Role.ELEXON_ANALYST, Role.PROGRAMME_ASSURANCE, Role.REC_CODE_MANAGER):
        with pytest.raises(PermissionDenied):
            review(staff(role), qt_app)
    assert snapshot() == before


def test_the_programme_also_reviews_on_the_non_sit_ldso_route(make_application, advance, member, staff):
    application = advance(make_application(market_role="LDSO", route="non_sit_ldso"), stop_before="qt")
    update(member, application)
    submit(member, application)
    programme = staff(Role.PROGRAMME_ASSURANCE)
    assert Notification.objects.filter(recipient=programme, subject__startswith="QT plan to review").exists()
    assert review(programme, application).status == ReviewStatus.AGREED


def test_a_plan_not_awaiting_review_cannot_be_reviewed(member, qt_app, ta):
    before = snapshot()
    with pytest.raises(InvalidTransition, match="not awaiting review: it is not yet written"):
        review(ta, qt_app)
    update(member, qt_app)
    with pytest.raises(InvalidTransition, match="not awaiting review: it is draft"):
        review(ta, qt_app)
    assert QtPlan.objects.get(application=qt_app).status == ReviewStatus.DRAFT
    assert snapshot().plans != before.plans  # only the update above changed anything


def test_another_organisation_cannot_review(member, qt_app, other_member):
    update(member, qt_app)
    submit(member, qt_app)
    with pytest.raises(NotFound):
        review(other_member, qt_app)


# --- changing an agreed plan ------------------------------------------------------------------------------


def test_changing_an_agreed_plan_returns_it_to_draft_and_says_so(member, qt_app, ta):
    agree_plan(qt_app, member, ta)
    Notification.objects.all().delete()
    change = update(member, qt_app, approach="A different approach.")
    assert change.returned_to_draft is True
    assert change.plan.status == ReviewStatus.DRAFT and change.plan.version == 1
    assert not qt_plan_agreed(qt_app)
    assert "back to draft" in AuditEvent.objects.filter(action="qt.plan.update").latest("sequence").summary
    [note] = Notification.objects.filter(recipient=ta)
    assert note.subject.startswith("Agreed QT plan changed")
    assert submit(member, qt_app).version == 2


# --- DIP-flow opt-outs ----------------------------------------------------------------------------------------


def opt_out(actor, application, flow="IF-901", reason="We do not send this flow."):
    return qt_opt_out_add(actor=actor, application_id=application.pk, flow_code=flow, reason=reason)


def test_opting_out_of_a_flow(member, qt_app, catalogue, ta):
    change = opt_out(member, qt_app, flow="if-901")  # the code is matched in upper case
    assert change.returned_to_draft is False
    [record] = DipFlowOptOut.objects.filter(application=qt_app)
    assert (
        record.flow.code == "IF-901" and record.reason == "We do not send this flow." and record.recorded_by == member
    )
    event = AuditEvent.objects.get(action="qt.plan.opt_out_add")
    assert event.after["flow"] == "IF-901"
    detail = qt_plan_detail(user=member, application_id=qt_app.pk)
    assert [o.flow.code for o in detail.opt_outs] == ["IF-901"]
    assert detail.opt_out_choices == []  # IF-902 may not be opted out of
    assert not Notification.objects.filter(recipient=ta).exists()


@pytest.mark.parametrize(
    ("flow", "reason", "field", "message"),
    [
        ("IF-902", "Not used.", "flow", "cannot be opted out of"),
        ("IF-999", "Not used.", "flow", "exercises a DIP flow IF-999"),
        ("", "Not used.", "flow", "Choose the DIP flow"),
        ("IF-901", "  ", "reason", "Enter why you will not use IF-901"),
        ("IF-901", "x" * 2001, "reason", "2,000 characters or fewer"),
    ],
)
def test_bad_opt_outs_are_refused(member, qt_app, catalogue, flow, reason, field, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        opt_out(member, qt_app, flow=flow, reason=reason)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_a_flow_other_roles_use_cannot_be_opted_out_of(member, qt_app, catalogue):
    from portal.testing.models import DipFlow

    DipFlow.objects.create(code="IF-950", title="LDSO only", opt_out_allowed=True)
    catalogue["QTC-TL-1"].versions.get().dip_flows.add(DipFlow.objects.get(code="IF-950"))
    with pytest.raises(InvalidInput, match="No test case of the Supplier role exercises"):
        opt_out(member, qt_app, flow="IF-950")


def test_the_same_flow_cannot_be_opted_out_of_twice(member, qt_app, catalogue):
    opt_out(member, qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="already opted out of IF-901"):
        opt_out(member, qt_app)
    assert snapshot() == before


def test_an_opt_out_can_be_withdrawn(member, qt_app, catalogue):
    opt_out(member, qt_app)
    qt_opt_out_remove(actor=member, application_id=qt_app.pk, flow_code="IF-901")
    assert not DipFlowOptOut.objects.exists()
    event = AuditEvent.objects.get(action="qt.plan.opt_out_remove")
    assert event.before["flow"] == "IF-901"
    with pytest.raises(NotFound, match="not opted out of that DIP flow"):
        qt_opt_out_remove(actor=member, application_id=qt_app.pk, flow_code="IF-901")


def test_opting_out_of_an_agreed_plan_returns_it_to_draft(member, qt_app, catalogue, ta):
    agree_plan(qt_app, member, ta)
    change = opt_out(member, qt_app)
    assert change.returned_to_draft and change.plan.status == ReviewStatus.DRAFT
    assert Notification.objects.filter(recipient=ta, subject__startswith="Agreed QT plan changed").exists()


def test_staff_and_other_organisations_cannot_opt_out(qt_app, catalogue, ta, other_member):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        opt_out(ta, qt_app)
    with pytest.raises(NotFound):
        opt_out(other_member, qt_app)
    assert snapshot() == before
