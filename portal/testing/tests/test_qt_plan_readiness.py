"""The readiness report: recording each prerequisite, submitting once the plan is agreed and everything
is ready, Testing Assurance's confirmation, and `qt_readiness_confirmed` for execution recording."""

import pytest

from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.testing.models import ReadinessConfirmation, ReadinessItem, ReviewStatus
from portal.testing.plan_selectors import qt_readiness, qt_readiness_confirmed, readiness_items_for
from portal.testing.plan_services import qt_readiness_record, qt_readiness_review, qt_readiness_submit
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import agree_plan, qt_task, snapshot

pytestmark = pytest.mark.django_db

# The shared fixtures of the QT plan tests.
qt_app, ta = fixtures.qt_app, fixtures.ta


def record(actor, application, code="systems_onboarded", ready=True, note=""):
    return qt_readiness_record(actor=actor, application_id=application.pk, item_code=code, ready=ready, note=note)


def all_ready(actor, application):
    for item in readiness_items_for(application):
        record(actor, application, item.code, note="In place.")


def submit(actor, application, note=""):
    return qt_readiness_submit(actor=actor, application_id=application.pk, note=note)


def review(actor, application, decision="confirm", comment=""):
    return qt_readiness_review(actor=actor, application_id=application.pk, decision=decision, comment=comment)


def test_the_shipped_items_apply_by_role_group(qt_app, make_application, advance, other_org, other_member):
    supplier = [i.code for i in readiness_items_for(qt_app)]
    assert supplier[0] == "qt_plan_agreed"
    assert {"test_mpans_loaded", "test_market_data_loaded", "rttm_qt_entry", "support_contacts_nominated"} <= set(
        supplier
    )
    ldso = advance(
        make_application(market_role="LDSO", route="non_sit_ldso", organisation=other_org, actor=other_member),
        stop_before="qt",
    )
    ldso_codes = {i.code for i in readiness_items_for(ldso)}
    assert "test_mpans_loaded" not in ldso_codes and "systems_onboarded" in ldso_codes


def test_recording_an_item(member, qt_app, ta):
    change = record(member, qt_app, note="Connected on 3 September; smoke test passed.")
    assert change.confirmation.ready is True and change.confirmation.recorded_by == member
    assert change.returned_to_draft is False
    assert qt_task(qt_app).state == "in_progress"
    event = AuditEvent.objects.get(action="qt.readiness.record")
    assert event.before == {} and event.after["ready"] is True
    change = record(member, qt_app, ready=False, note="The second server is not connected yet: 10 September.")
    assert ReadinessConfirmation.objects.count() == 1
    assert AuditEvent.objects.filter(action="qt.readiness.record").latest("sequence").before["ready"] is True
    assert not Notification.objects.filter(recipient=ta).exists()


def test_not_ready_needs_a_note(member, qt_app):
    before = snapshot()
    with pytest.raises(InvalidInput, match="what is outstanding") as refused:
        record(member, qt_app, ready=False, note=" ")
    assert refused.value.details["field"] == "note"
    with pytest.raises(InvalidInput, match="control characters"):
        record(member, qt_app, note="bad\x07note")
    assert snapshot() == before


def test_an_unknown_or_other_role_item_is_not_found(member, qt_app):
    ReadinessItem.objects.create(code="ldso_only", title="LDSO only").role_groups.set(
        qt_app.market_role.role_group.__class__.objects.filter(code="ldso")
    )
    with pytest.raises(NotFound):
        record(member, qt_app, code="no_such_item")
    with pytest.raises(NotFound):
        record(member, qt_app, code="ldso_only")


def test_the_report_needs_an_agreed_plan_and_every_item_ready(member, qt_app, ta):
    all_ready(member, qt_app)
    record(member, qt_app, "support_contacts_nominated", ready=False, note="Naming the out-of-hours contact.")
    before = snapshot()
    with pytest.raises(InvalidInput, match="cannot be submitted yet") as refused:
        submit(member, qt_app)
    assert refused.value.details["missing"] == [
        "the QT plan must be agreed by Testing Assurance first",
        "“Support contacts nominated” is not ready",
    ]
    assert snapshot() == before


def test_submitting_and_confirming_readiness(member, director, qt_app, ta):
    agree_plan(qt_app, member, ta)
    all_ready(member, qt_app)
    plan = submit(member, qt_app, note="Ready from 7 September.")
    assert plan.readiness_status == ReviewStatus.SUBMITTED and plan.readiness_submitted_at
    assert plan.readiness_note == "Ready from 7 September."
    assert Notification.objects.filter(recipient=ta, subject__startswith="Readiness report to confirm").exists()
    assert not qt_readiness_confirmed(qt_app)
    with pytest.raises(InvalidTransition, match="with Testing Assurance for review"):
        record(member, qt_app)

    plan = review(ta, qt_app)
    assert plan.readiness_status == ReviewStatus.AGREED
    assert plan.readiness_confirmed_by == ta and plan.readiness_confirmed_at
    assert qt_readiness_confirmed(qt_app)
    assert AuditEvent.objects.get(action="qt.readiness.review").after["readiness_status"] == "agreed"
    recipients = set(
        Notification.objects.filter(subject__startswith="Readiness confirmed").values_list("recipient", flat=True)
    )
    assert {member.pk, director.pk} <= recipients


def test_requesting_changes_to_readiness(member, qt_app, ta):
    agree_plan(qt_app, member, ta)
    all_ready(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Enter what must change"):
        review(ta, qt_app, decision="request_changes")
    assert snapshot() == before
    plan = review(ta, qt_app, decision="request_changes", comment="Name the defect manager.")
    assert plan.readiness_status == ReviewStatus.CHANGES_REQUESTED and plan.readiness_comment
    assert Notification.objects.filter(recipient=member, subject__startswith="Readiness needs changes").exists()
    record(member, qt_app, "support_contacts_nominated", note="Defect manager: Sam Smith.")
    assert submit(member, qt_app).readiness_status == ReviewStatus.SUBMITTED


def test_changing_a_confirmed_report_returns_it_to_draft(member, qt_app, ta):
    agree_plan(qt_app, member, ta)
    all_ready(member, qt_app)
    submit(member, qt_app)
    review(ta, qt_app)
    change = record(member, qt_app, "qt_users_onboarded", ready=False, note="One tester left; replacing.")
    assert change.returned_to_draft
    assert not qt_readiness_confirmed(qt_app)
    assert Notification.objects.filter(recipient=ta, subject__startswith="Readiness report back in draft").exists()
    view = qt_readiness(user=member, application_id=qt_app.pk)
    assert view.plan.readiness_status == ReviewStatus.DRAFT
    assert view.missing == ["“QT users onboarded” is not ready"]


def test_wrong_roles_and_states(member, qt_app, ta, other_member):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        record(ta, qt_app)
    with pytest.raises(NotFound):
        record(other_member, qt_app)
    with pytest.raises(InvalidTransition, match="not awaiting confirmation"):
        review(ta, qt_app)
    assert snapshot() == before
    agree_plan(qt_app, member, ta)
    all_ready(member, qt_app)
    submit(member, qt_app)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        review(member, qt_app)
    with pytest.raises(NotFound):
        review(other_member, qt_app)
    with pytest.raises(InvalidInput, match="confirm or request changes"):
        review(ta, qt_app, decision="agree")
    with pytest.raises(InvalidTransition, match="already with Testing Assurance"):
        submit(member, qt_app)
    assert snapshot() == before


def test_the_view_for_each_party(member, qt_app, ta, other_member):
    agree_plan(qt_app, member, ta)
    all_ready(member, qt_app)
    view = qt_readiness(user=member, application_id=qt_app.pk)
    assert view.can_submit and not view.can_review
    submit(member, qt_app)
    assert qt_readiness(user=ta, application_id=qt_app.pk).can_review
    assert not qt_readiness(user=member, application_id=qt_app.pk).can_submit
    with pytest.raises(NotFound):
        qt_readiness(user=other_member, application_id=qt_app.pk)
