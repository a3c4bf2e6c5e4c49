"""Giving an application its target BSC PAB meeting: who may, when, the late-paper rule, the history
kept when it moves, and who is told."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.approvals.models import MeetingStatus, PabTarget
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import inbox, snapshot
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.factories import MpidFactory
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw, task_transition

pytestmark = pytest.mark.django_db


def test_an_analyst_targets_a_signed_application_and_the_participant_is_told(
    signed, make_meeting, analyst, secretary, member, director
):
    application = signed()
    meeting = make_meeting(40)
    before_jobs, before_notes = DBTaskResult.objects.count(), Notification.objects.count()

    target = pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)

    assert target.is_current and target.meeting == meeting and target.previous is None
    assert target.set_by == analyst and target.late_reason == ""
    event = AuditEvent.objects.filter(action="pab.target.set").get()
    assert event.application_id == application.pk and event.actor == analyst
    assert event.after["meeting_date"] == meeting.date.isoformat()
    # The participant's people (member and director) and the PAB secretary are told, the analyst is not.
    for person in (member, director, secretary):
        told = [n for n in inbox(person) if "Target BSC PAB meeting" in n.subject]
        assert len(told) == 1, person
        assert f"{meeting.date.day} {meeting.date:%B %Y}" in told[0].body
        assert told[0].link == f"/applications/{application.pk}/pab-target/"
    assert not [n for n in inbox(analyst) if "Target BSC PAB" in n.subject]
    # Each notification's e-mail is queued in the same transaction.
    made = Notification.objects.count() - before_notes
    assert made >= 3 and DBTaskResult.objects.count() - before_jobs == made


def test_the_qsp_may_target_too(signed, make_meeting, staff):
    application = signed()
    target = pab_target_set(actor=staff(Role.QSP), application_id=application.pk, meeting_id=make_meeting(40).pk)
    assert target.is_current


@pytest.mark.parametrize(
    "role", [Role.PAB_SECRETARY, Role.PAB_CHAIR, Role.TESTING_ASSURANCE, Role.DIP_MANAGER, Role.REC_CODE_MANAGER]
)
def test_other_roles_may_not_target(signed, make_meeting, staff, role):
    application = signed()
    meeting = make_meeting(40)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Elexon qualification analyst or the QSP"):
        pab_target_set(actor=staff(role), application_id=application.pk, meeting_id=meeting.pk)
    assert snapshot() == before


def test_the_participant_may_not_target_its_own_application(signed, make_meeting, member, director):
    application = signed()
    meeting = make_meeting(40)
    before = snapshot()
    for person in (member, director):
        with pytest.raises(PermissionDenied):
            pab_target_set(actor=person, application_id=application.pk, meeting_id=meeting.pk)
    assert snapshot() == before


def test_another_organisation_gets_not_found(signed, make_meeting, other_member, staff):
    application = signed()
    meeting = make_meeting(40)
    before = snapshot()
    with pytest.raises(NotFound):
        pab_target_set(actor=other_member, application_id=application.pk, meeting_id=meeting.pk)
    with pytest.raises(NotFound):
        pab_target_set(actor=other_member, application_id=10**9, meeting_id=meeting.pk)
    assert snapshot() == before


def test_not_before_the_final_qad_is_signed(make_application, advance, content_rules_off, make_meeting, analyst):
    application = advance(make_application(route="sit"), stop_before="director_signoff")
    meeting = make_meeting(40)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="once a Director has signed its Final QAD"):
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    assert snapshot() == before


def test_not_for_a_role_that_does_not_need_bsc_pab(signed, make_meeting, analyst):
    application = signed(market_role="MEM")
    meeting = make_meeting(40)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="does not need BSC PAB approval"):
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    assert snapshot() == before


def test_a_data_service_needs_pab(signed, make_meeting, analyst, org):
    application = signed(market_role="ADS")
    assert pab_target_set(actor=analyst, application_id=application.pk, meeting_id=make_meeting(40).pk).is_current


def test_not_once_pab_has_decided_nor_on_a_closed_application(signed, make_meeting, analyst, secretary, member, org):
    decided = signed()
    task_transition(actor=secretary, application_id=decided.pk, task_code="approval_bsc_pab", action="approve")
    meeting = make_meeting(40)
    with pytest.raises(InvalidTransition, match="already decided"):
        pab_target_set(actor=analyst, application_id=decided.pk, meeting_id=meeting.pk)
    # A second MPID, for a second open application in the same role.
    withdrawn = signed(mpid=MpidFactory(organisation=org).code)
    application_withdraw(actor=member, application_id=withdrawn.pk, reason="No longer entering the market.")
    with pytest.raises(InvalidTransition, match="withdrawn"):
        pab_target_set(actor=analyst, application_id=withdrawn.pk, meeting_id=meeting.pk)


def test_a_deferred_application_can_be_targeted_at_a_later_meeting(signed, make_meeting, analyst, secretary):
    application = signed()
    first = make_meeting(20)
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=first.pk)
    task_transition(
        actor=secretary,
        application_id=application.pk,
        task_code="approval_bsc_pab",
        action="defer",
        comment="PAB asked for the test completion report.",
    )
    later = make_meeting(60)
    target = pab_target_set(
        actor=analyst, application_id=application.pk, meeting_id=later.pk, reason="Deferred by PAB."
    )
    assert target.previous is not None and target.previous.meeting == first


@pytest.mark.parametrize("status", [MeetingStatus.CANCELLED, MeetingStatus.HELD])
def test_only_a_scheduled_meeting(signed, make_meeting, analyst, status):
    application = signed()
    meeting = make_meeting(40, status=status)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    assert refused.value.details == {"field": "meeting"}
    assert snapshot() == before


def test_bad_meetings_are_refused_with_a_clear_message(signed, make_meeting, analyst):
    application = signed()
    past = make_meeting(on=uk_today() - timedelta(days=7))
    before = snapshot()
    for meeting_id, message in [(None, "Choose the meeting"), (10**9, "Choose a meeting"), (past.pk, "has passed")]:
        with pytest.raises(InvalidInput, match=message) as refused:
            pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting_id)
        assert refused.value.details["field"] == "meeting"
    assert snapshot() == before


def test_a_passed_paper_deadline_needs_a_reason_for_the_late_paper(signed, make_meeting, analyst, member):
    application = signed()
    meeting = make_meeting(3, paper_deadline=uk_today() - timedelta(days=1))
    before = snapshot()
    with pytest.raises(InvalidInput, match="enter why the paper will be late") as refused:
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    assert refused.value.details == {"field": "late_reason"}
    with pytest.raises(InvalidInput, match="control characters"):
        pab_target_set(
            actor=analyst, application_id=application.pk, meeting_id=meeting.pk, late_reason="Late\x00 paper"
        )
    assert snapshot() == before

    target = pab_target_set(
        actor=analyst,
        application_id=application.pk,
        meeting_id=meeting.pk,
        late_reason="  Agreed with the PAB chair: the summary follows on Monday.  ",
    )
    assert target.late_reason == "Agreed with the PAB chair: the summary follows on Monday."
    assert target.is_late
    assert "(late paper)" in AuditEvent.objects.get(action="pab.target.set").summary
    assert "the paper will be late" in inbox(member)[-1].body


def test_a_late_reason_for_a_meeting_in_time_is_not_kept(signed, make_meeting, analyst):
    application = signed()
    target = pab_target_set(
        actor=analyst, application_id=application.pk, meeting_id=make_meeting(40).pk, late_reason="Just in case."
    )
    assert target.late_reason == ""


def test_moving_the_target_keeps_the_history_and_tells_the_participant_from_and_to(
    signed, make_meeting, analyst, member
):
    application = signed()
    first, second = make_meeting(30), make_meeting(70)
    original = pab_target_set(actor=analyst, application_id=application.pk, meeting_id=first.pk)
    before = snapshot()
    with pytest.raises(InvalidInput, match="why the target meeting is moving") as refused:
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=second.pk)
    assert refused.value.details == {"field": "reason"}
    with pytest.raises(InvalidInput, match="already targeted"):
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=first.pk, reason="Again.")
    assert snapshot() == before

    moved = pab_target_set(
        actor=analyst, application_id=application.pk, meeting_id=second.pk, reason="The QAD needs one more answer."
    )

    original.refresh_from_db()
    assert not original.is_current and original.superseded_at is not None
    assert original.meeting == first  # never overwritten
    assert moved.is_current and moved.previous == original and moved.reason == "The QAD needs one more answer."
    assert list(PabTarget.objects.filter(application=application).order_by("pk")) == [original, moved]
    event = AuditEvent.objects.get(action="pab.target.move")
    assert event.before["meeting_date"] == first.date.isoformat()
    assert event.after["meeting_date"] == second.date.isoformat()
    told = inbox(member)[-1]
    assert "moved" in told.subject
    assert f"from {first.date:%A} {first.date.day} {first.date:%B %Y}" in told.body
    assert f"to {second.date:%A} {second.date.day} {second.date:%B %Y}" in told.body
    assert "The QAD needs one more answer." in told.body


def test_the_database_allows_one_current_target_per_application(signed, make_meeting, analyst):
    application = signed()
    target = pab_target_set(actor=analyst, application_id=application.pk, meeting_id=make_meeting(40).pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        PabTarget.objects.create(
            application=application, meeting=make_meeting(80), set_by=analyst, set_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PabTarget.objects.filter(pk=target.pk).update(is_current=False)  # superseded needs its time
    assert Notification.objects.filter(application=application).exists()


def test_the_full_journey_with_every_content_rule(make_application, advance, make_meeting, analyst):
    """Without setting the content rules aside: the PQS, PIT, DIP, QADs and a real signature."""
    application = advance(make_application(), stop_before="approval_dip_manager")
    assert application.tasks.get(code="director_signoff").state == "completed"
    target = pab_target_set(actor=analyst, application_id=application.pk, meeting_id=make_meeting(40).pk)
    assert target.is_current
