"""The approval bodies' decisions: each body decides its own task with a rationale; conditions are
agreed work-off items; the Board decides at the application's target meeting, on or after its day; a
deferral sends the application back and to the next meeting; a rejection closes it; whoever prepared or
recommended may not decide; the generic task action cannot bypass any of it."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import pytest
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.approvals.decision_services import approval_decide, decision_path_guard
from portal.approvals.decisions import DECISION_ACTIONS
from portal.approvals.models import ApprovalDecision, PabRecommendation, PabTarget, QualificationLetter
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import inbox, snapshot
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.factories import UserFactory
from portal.qualification import hooks
from portal.qualification.models import Application, Task
from portal.qualification.process import APPROVAL_CODES
from portal.qualification.services import task_transition
from portal.qualification.workflow import ApplicationStatus, Decision, TaskState
from portal.testing.models import Defect
from portal.workoff.models import WorkOffItem, WorkOffStatus

pytestmark = pytest.mark.django_db


def task(application: Application, code: str) -> Task:
    return Task.objects.get(application=application, code=code)


def agreed_item(
    application: Application, by: User, *, number: int = 1, status: str = WorkOffStatus.AGREED
) -> WorkOffItem:
    """A work-off item in `status`, made directly: how it got there is the work-off app's business."""
    now = timezone.now()
    defect = Defect.objects.create(
        application=application, number=number, title="Read rejection", severity=2, raised_by=by, raised_at=now
    )
    agreed = status in (WorkOffStatus.AGREED, WorkOffStatus.CLOSED)
    return WorkOffItem.objects.create(
        application=application,
        number=number,
        defect=defect,
        action="Fix and re-run the read-rejection flow.",
        owner="Test lead",
        due_on=uk_today() + timedelta(days=30),
        status=status,
        proposed_by=by,
        proposed_at=now,
        agreed_by=by if agreed else None,
        agreed_at=now if agreed else None,
    )


@pytest.fixture
def dip_manager(staff: Callable[[Role], User]) -> User:
    return staff(Role.DIP_MANAGER)


@pytest.fixture
def rec(staff: Callable[[Role], User]) -> User:
    return staff(Role.REC_CODE_MANAGER)


@pytest.fixture
def today_meeting(make_meeting: Callable[..., Any]) -> Any:
    return make_meeting(on=uk_today(), paper_deadline=uk_today())


@pytest.fixture
def at_pab(signed: Callable[..., Application], today_meeting: Any, analyst: User) -> Application:
    """A signed Supplier application targeted at today's meeting."""
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=today_meeting.pk)
    return application


# --- the rolling bodies ------------------------------------------------------------------------------------


def test_the_dip_manager_approves_with_a_rationale_and_the_participant_is_told(signed, dip_manager, member):
    application = signed()

    decision = approval_decide(
        actor=dip_manager,
        application_id=application.pk,
        body="dip_manager",
        outcome="approved",
        rationale="Section 4.5 and the DIP onboarding are complete.",
    )

    assert (decision.outcome, decision.body, decision.recorded_by, decision.meeting) == (
        Decision.APPROVED,
        "dip_manager",
        dip_manager,
        None,
    )
    assert decision.decided_on == uk_today()
    approval = task(application, "approval_dip_manager")
    assert (approval.state, approval.decision) == (TaskState.COMPLETED, Decision.APPROVED)
    actions = list(AuditEvent.objects.filter(application_id=application.pk).values_list("action", flat=True))
    assert actions[-2:] == ["task.approve", "approval.decision"]
    told = [n for n in inbox(member) if n.subject.startswith("DIP Manager approval approved")]
    assert len(told) == 1 and "Section 4.5 and the DIP onboarding are complete." in told[0].body


def test_approval_with_conditions_links_the_agreed_work_off_items(signed, rec, member):
    application = signed()
    first, second = agreed_item(application, member, number=1), agreed_item(application, member, number=2)

    decision = approval_decide(
        actor=rec,
        application_id=application.pk,
        body="rec_code_manager",
        outcome="approved_with_conditions",
        rationale="Approved on condition that both items close.",
        condition_ids=[first.pk, second.pk],
    )

    assert set(decision.conditions.all()) == {first, second}
    assert AuditEvent.objects.get(action="approval.decision").after["conditions"] == ["WO-001", "WO-002"]


@pytest.mark.parametrize(
    ("outcome", "conditions", "field", "message"),
    [
        ("maybe", [], "outcome", "Choose the outcome"),
        ("approved", "one", "conditions", "with conditions” only"),
        ("approved_with_conditions", [], "conditions", "Choose the agreed work-off items"),
        ("approved_with_conditions", "proposed", "conditions", "must be an agreed work-off item"),
        ("approved_with_conditions", [10**9], "conditions", "must be an agreed work-off item"),
        ("approved_with_conditions", [-1], "conditions", "Choose the conditions"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(signed, rec, member, outcome, conditions, field, message):
    application = signed()
    agreed = agreed_item(application, member, number=1)
    proposed = agreed_item(application, member, number=2, status=WorkOffStatus.PROPOSED)
    ids = {"one": [agreed.pk], "proposed": [proposed.pk]}[conditions] if isinstance(conditions, str) else conditions
    before = snapshot()

    with pytest.raises(InvalidInput, match=message) as refused:
        approval_decide(
            actor=rec,
            application_id=application.pk,
            body="rec_code_manager",
            outcome=outcome,
            rationale="Reasons.",
            condition_ids=ids,
        )

    assert refused.value.details["field"] == field
    assert snapshot() == before and not ApprovalDecision.objects.exists()


@pytest.mark.parametrize("rationale", ["", "   ", "x" * 5001, "bad\x00byte"])
def test_a_decision_needs_a_plain_rationale(signed, dip_manager, rationale):
    application = signed()
    with pytest.raises(InvalidInput) as refused:
        approval_decide(
            actor=dip_manager,
            application_id=application.pk,
            body="dip_manager",
            outcome="approved",
            rationale=rationale,
        )
    assert refused.value.details["field"] == "rationale"
    assert task(application, "approval_dip_manager").state == TaskState.NOT_STARTED


def test_a_rolling_body_takes_no_meeting(signed, dip_manager, today_meeting):
    application = signed()
    with pytest.raises(InvalidInput, match="rolling basis"):
        approval_decide(
            actor=dip_manager,
            application_id=application.pk,
            body="dip_manager",
            outcome="approved",
            rationale="Fine.",
            meeting_id=today_meeting.pk,
        )


@pytest.mark.parametrize(
    ("role", "body"),
    [
        (Role.REC_CODE_MANAGER, "dip_manager"),
        (Role.DIP_MANAGER, "rec_code_manager"),
        (Role.ELEXON_ANALYST, "dip_manager"),
        (Role.PAB_MEMBER, "bsc_pab"),
        (Role.SERVICE_ACTIVATION, "rec_code_manager"),
    ],
)
def test_only_the_body_itself_decides(signed, staff, role, body):
    application = signed()
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the"):
        approval_decide(
            actor=staff(role), application_id=application.pk, body=body, outcome="approved", rationale="Ok."
        )
    assert snapshot() == before


def test_a_participant_cannot_decide_and_another_organisation_gets_not_found(signed, member, other_member):
    application = signed()
    with pytest.raises(PermissionDenied):
        approval_decide(
            actor=member, application_id=application.pk, body="dip_manager", outcome="approved", rationale="Me"
        )
    with pytest.raises(NotFound):
        approval_decide(
            actor=other_member, application_id=application.pk, body="dip_manager", outcome="approved", rationale="Me"
        )


def test_a_body_the_role_does_not_need_is_not_found(signed, staff, analyst):
    application = signed(market_role="MEM")  # REC and the DIP Manager only
    # The Board's own people do not even see it; staff who see every application are told why.
    with pytest.raises(NotFound, match="No application was found"):
        approval_decide(
            actor=staff(Role.PAB_SECRETARY),
            application_id=application.pk,
            body="bsc_pab",
            outcome="approved",
            rationale=".",
        )
    with pytest.raises(NotFound, match="does not need the approval of the BSC PAB"):
        approval_decide(actor=analyst, application_id=application.pk, body="bsc_pab", outcome="approved", rationale=".")


def test_a_decision_already_taken_cannot_be_taken_again(signed, dip_manager):
    application = signed()
    approval_decide(
        actor=dip_manager, application_id=application.pk, body="dip_manager", outcome="approved", rationale="Ok"
    )
    with pytest.raises(InvalidTransition, match="completed"):
        approval_decide(
            actor=dip_manager, application_id=application.pk, body="dip_manager", outcome="rejected", rationale="No"
        )
    assert ApprovalDecision.objects.count() == 1


def test_a_rejection_closes_the_application_with_its_reasons(signed, rec, member):
    application = signed()
    approval_decide(
        actor=rec, application_id=application.pk, body="rec_code_manager", outcome="rejected", rationale="No evidence."
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert any("No evidence." in n.body for n in inbox(member) if "rejected" in n.subject)


def test_deferral_returns_the_application_and_the_body_decides_again(signed, dip_manager, member):
    application = signed()
    approval_decide(
        actor=dip_manager,
        application_id=application.pk,
        body="dip_manager",
        outcome="deferred",
        rationale="Send the production DIP certificate.",
    )
    assert task(application, "approval_dip_manager").state == TaskState.CHANGES_REQUESTED
    task_transition(
        actor=member,
        application_id=application.pk,
        task_code="approval_dip_manager",
        action="submit",
        comment="Attached the certificate.",
    )
    approval_decide(
        actor=dip_manager, application_id=application.pk, body="dip_manager", outcome="approved", rationale="Received."
    )
    outcomes = list(ApprovalDecision.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [Decision.DEFERRED, Decision.APPROVED]


# --- the Board -----------------------------------------------------------------------------------------------


def test_the_board_decides_at_the_target_meeting_and_a_letter_is_prepared(at_pab, secretary, today_meeting):
    decision = approval_decide(
        actor=secretary,
        application_id=at_pab.pk,
        body="bsc_pab",
        outcome="approved",
        rationale="The Board approved qualification.",
    )
    assert decision.meeting == today_meeting and decision.decided_on == today_meeting.date
    letter = QualificationLetter.objects.get()
    assert letter.decision == decision and letter.application == at_pab


def test_the_board_cannot_decide_before_its_meeting_or_without_a_target(signed, secretary, analyst, make_meeting):
    application = signed()
    with pytest.raises(InvalidTransition, match="no target BSC PAB meeting"):
        approval_decide(
            actor=secretary, application_id=application.pk, body="bsc_pab", outcome="approved", rationale="."
        )
    future = make_meeting(40)
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=future.pk)
    with pytest.raises(InvalidTransition, match="has not happened yet"):
        approval_decide(
            actor=secretary, application_id=application.pk, body="bsc_pab", outcome="approved", rationale="."
        )
    assert not ApprovalDecision.objects.exists()


def test_the_board_decides_against_the_meeting_the_application_is_on(at_pab, secretary, make_meeting):
    other = make_meeting(on=uk_today() - timedelta(days=1), paper_deadline=uk_today() - timedelta(days=1))
    with pytest.raises(InvalidInput, match="on the agenda of the") as refused:
        approval_decide(
            actor=secretary,
            application_id=at_pab.pk,
            body="bsc_pab",
            outcome="approved",
            rationale=".",
            meeting_id=other.pk,
        )
    assert refused.value.details["field"] == "meeting"


def test_a_board_deferral_moves_the_application_to_the_next_meeting(at_pab, secretary, make_meeting, member):
    later = make_meeting(35)
    approval_decide(
        actor=secretary,
        application_id=at_pab.pk,
        body="bsc_pab",
        outcome="deferred",
        rationale="Bring the closed defect evidence.",
    )
    current = PabTarget.objects.get(application=at_pab, is_current=True)
    assert current.meeting == later and current.previous is not None
    assert "Bring the closed defect evidence." in current.reason
    assert any("moved" in n.subject for n in inbox(member))
    assert task(at_pab, "approval_bsc_pab").state == TaskState.CHANGES_REQUESTED
    assert not QualificationLetter.objects.exists()


def test_whoever_recommended_cannot_record_the_decision(at_pab, today_meeting):
    both = cast(User, UserFactory(roles=[Role.ELEXON_ANALYST, Role.PAB_SECRETARY]))
    PabRecommendation.objects.create(
        application=at_pab,
        meeting=today_meeting,
        outcome=Decision.APPROVED,
        text="Approve.",
        recommended_by=both,
        recommended_at=timezone.now(),
    )
    with pytest.raises(PermissionDenied, match="made the recommendation"):
        approval_decide(actor=both, application_id=at_pab.pk, body="bsc_pab", outcome="approved", rationale=".")
    assert not ApprovalDecision.objects.exists()


def test_the_generic_task_action_cannot_record_a_decision(signed, dip_manager):
    application = signed()
    for code in APPROVAL_CODES:
        for action in DECISION_ACTIONS:
            hooks.register_guard(code, action, decision_path_guard)
    with pytest.raises(InvalidTransition, match="decision page") as refused:
        task_transition(
            actor=dip_manager, application_id=application.pk, task_code="approval_dip_manager", action="approve"
        )
    assert refused.value.details["page"] == f"/applications/{application.pk}/approvals/dip_manager/"
    assert task(application, "approval_dip_manager").state == TaskState.NOT_STARTED
