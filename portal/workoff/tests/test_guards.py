"""The `workoff` task is the plan as a whole: submitted only when it has items and each is reviewed,
accepted only when each is agreed, never "not required" while it has items. The journey helper
satisfies these rules through the real services, and agreed items stay tracked after qualification."""

import pytest

from portal.core.errors import InvalidTransition
from portal.qualification.hooks import task_page_url_name
from portal.qualification.services import task_transition
from portal.workoff import selectors
from portal.workoff.models import WorkOffItem
from portal.workoff.testing_support import workoff_prepare_step
from portal.workoff.tests.conftest import snapshot, task_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workoff_rules_only")]


@pytest.fixture
def plan_app(make_application, advance, catalogue):
    """QT is done; the work-off plan's task is not started."""
    application = make_application()
    advance(application, stop_before="workoff")
    assert task_of(application).state == "not_started"
    return application


def act(application, actor, action, comment=""):
    return task_transition(
        actor=actor, application_id=application.pk, task_code="workoff", action=action, comment=comment
    )


def test_the_task_page_is_the_plan():
    assert task_page_url_name("workoff") == "workoff:plan"


def test_a_plan_without_items_cannot_be_submitted(plan_app, member):
    before = snapshot()
    with pytest.raises(InvalidTransition, match="there are no work-off items") as refused:
        act(plan_app, member, "submit")
    assert refused.value.details["missing"][0].startswith("there are no work-off items")
    assert snapshot() == before


def test_submitting_waits_until_testing_assurance_has_reviewed_every_item(
    plan_app, member, tester, propose, move, catalogue
):
    first = propose(plan_app, case_id=catalogue.never_run.pk)
    second = propose(plan_app, case_id=catalogue.optional.pk)
    move(second, tester, "request_changes", "Which release?")
    with pytest.raises(InvalidTransition) as refused:
        act(plan_app, member, "submit")
    assert refused.value.details["missing"] == [
        "WO-001 has not been reviewed by Testing Assurance yet",
        "WO-002 has changes requested",
    ]
    move(first, tester, "review")
    move(second, member, "withdraw", "Covered by WO-001 after all.")
    assert act(plan_app, member, "submit").state == "submitted"


def test_accepting_waits_until_a_code_body_has_agreed_every_item(
    plan_app, member, tester, analyst, propose, move, catalogue
):
    item = propose(plan_app, case_id=catalogue.never_run.pk)
    move(item, tester, "review")
    act(plan_app, member, "submit")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="WO-001 is not agreed by a Code Body yet"):
        act(plan_app, analyst, "accept")
    assert snapshot() == before
    move(item, analyst, "agree")
    assert act(plan_app, analyst, "accept").state == "completed"


def test_closed_items_count_as_agreed(plan_app, member, tester, analyst, propose, move, catalogue):
    from portal.workoff.services import workoff_item_close
    from portal.workoff.tests.conftest import pdf

    item = propose(plan_app, case_id=catalogue.never_run.pk)
    move(item, tester, "review")
    move(item, analyst, "agree")
    workoff_item_close(actor=member, application_id=plan_app.pk, item_id=item.pk, note="Re-run passed.", files=[pdf()])
    act(plan_app, member, "submit")
    assert act(plan_app, tester, "accept").state == "completed"


def test_a_plan_with_items_is_not_marked_not_required(plan_app, member, propose, move, catalogue):
    item = propose(plan_app, case_id=catalogue.never_run.pk)
    before = snapshot()
    with pytest.raises(InvalidTransition, match=r"it has work-off items \(WO-001\)"):
        act(plan_app, member, "mark_not_required", "Every test passed.")
    assert snapshot() == before
    move(item, member, "withdraw", "The re-run passed.")
    assert act(plan_app, member, "mark_not_required", "Every test passed on re-run.").state == "not_required"


def test_a_plan_without_items_is_marked_not_required(plan_app, member):
    assert act(plan_app, member, "mark_not_required", "Every test passed.").state == "not_required"


def test_the_journey_proposes_reviews_and_agrees_items_and_they_stay_tracked_after_qualification(
    make_application, advance, member, catalogue
):
    application = make_application()
    advance(application, skip_optional=False, stop_before="service_activation")
    application.refresh_from_db()
    assert application.status == "qualified"
    assert task_of(application).state == "completed"
    [item] = WorkOffItem.objects.filter(application=application)
    assert item.status == "agreed"
    assert item.case == catalogue.failed  # the first case of the role set without a passing run
    # Still open and tracked after qualification: it is a condition, and can be closed.
    [condition] = selectors.workoff_conditions(application)
    assert condition.item == item
    from portal.workoff.services import workoff_item_close
    from portal.workoff.tests.conftest import pdf

    closed = workoff_item_close(
        actor=member, application_id=application.pk, item_id=item.pk, note="Re-run passed.", files=[pdf()]
    )
    assert closed.status == "closed"


def test_the_preparer_finds_reviewers_itself_when_not_given_them(plan_app, member, tester, analyst):
    """The demo data calls the preparers without `actor_for`."""
    workoff_prepare_step(application=plan_app, task_code="workoff", action="submit", actor=member)
    [item] = WorkOffItem.objects.filter(application=plan_app)
    assert item.status == "reviewed" and item.reviewed_by == tester
    act(plan_app, member, "submit")
    workoff_prepare_step(application=plan_app, task_code="workoff", action="accept", actor=analyst)
    item.refresh_from_db()
    assert item.status == "agreed" and item.agreed_by == analyst


def test_the_preparer_leaves_other_steps_alone(plan_app, member):
    before = snapshot()
    workoff_prepare_step(application=plan_app, task_code="workoff", action="mark_not_required", actor=member)
    workoff_prepare_step(application=plan_app, task_code="final_qad", action="submit", actor=member)
    assert snapshot() == before
