"""Clarifications on a question of the version under review: who raises, answers, replies and closes;
the thread; the review clock that pauses while the participant holds one; and "agreed complete"
refused while one is open."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import Clarification, ClarificationMessage, QadReviewHold
from portal.documents.selectors import review_clock, working_time
from portal.documents.services import (
    clarification_answer,
    clarification_close,
    clarification_raise,
    clarification_reply,
)
from portal.documents.workflow import ClarificationStatus, ReviewHolder
from portal.notifications.models import Notification
from portal.qualification.models import Task
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db
UK = ZoneInfo("Europe/London")


@pytest.fixture
def under_review(make_application, stages):
    return stages.final_submitted(make_application())


@pytest.fixture
def analyst(staff):
    return staff(Role.ELEXON_ANALYST)


def raise_on(user, application, number="3.1.2", text="Which test cases failed?"):
    return clarification_raise(
        actor=user, application_id=application.pk, kind="final", question_number=number, text=text
    )


def holders(submission):
    return list(
        QadReviewHold.objects.filter(submission=submission).order_by("at", "id").values_list("holder", flat=True)
    )


def test_the_full_thread(under_review, analyst, member, stages):
    clarification = raise_on(analyst, under_review)
    assert clarification.status == ClarificationStatus.OPEN
    assert clarification.question.number == "3.1.2" and clarification.submission.version == 1
    note = Notification.objects.filter(recipient=member).latest("id")
    assert "question 3.1.2" in note.subject and "section 3.1" in note.body

    clarification_answer(actor=member, clarification_id=clarification.pk, text="TC-12 and TC-19; both retested.")
    clarification.refresh_from_db()
    assert clarification.status == ClarificationStatus.ANSWERED
    assert Notification.objects.filter(recipient=analyst, subject__contains="answered").exists()

    clarification_reply(actor=analyst, clarification_id=clarification.pk, text="Attach the retest evidence?")
    clarification.refresh_from_db()
    assert clarification.status == ClarificationStatus.OPEN

    clarification_answer(actor=member, clarification_id=clarification.pk, text="It is in 4.1.3.")
    clarification_close(actor=analyst, clarification_id=clarification.pk, text="Thank you.")
    clarification.refresh_from_db()
    assert clarification.status == ClarificationStatus.CLOSED and clarification.closed_by == analyst
    thread = list(
        ClarificationMessage.objects.filter(clarification=clarification).values_list("action", "from_participant")
    )
    assert thread == [("raise", False), ("answer", True), ("reply", False), ("answer", True), ("close", False)]
    assert AuditEvent.objects.filter(target_id=str(clarification.pk), action__startswith="clarification.").count() == 5
    assert holders(stages.version(under_review, "final", 1)) == [
        "code_bodies",
        "participant",
        "code_bodies",
        "participant",
        "code_bodies",
    ]


def test_agreed_complete_is_refused_while_a_clarification_is_open(under_review, analyst, member, stages):
    clarification = raise_on(analyst, under_review)
    with pytest.raises(InvalidTransition, match=f"{clarification.reference} on 3.1.2"):
        stages.review(under_review, "final_qad", "accept")
    clarification_answer(actor=member, clarification_id=clarification.pk, text="Answered.")
    with pytest.raises(InvalidTransition, match="still open"):
        stages.review(under_review, "final_qad", "accept")
    assert Task.objects.get(application=under_review, code="final_qad").state == TaskState.SUBMITTED
    clarification_close(actor=analyst, clarification_id=clarification.pk)
    stages.review(under_review, "final_qad", "accept")
    assert Task.objects.get(application=under_review, code="final_qad").state == TaskState.COMPLETED
    version = stages.version(under_review, "final", 1)
    assert holders(version)[-1] == ReviewHolder.NOBODY


def test_the_dip_manager_raises_only_on_the_questions_it_assesses(under_review, staff):
    dip = staff(Role.DIP_MANAGER)
    clarification = raise_on(dip, under_review, number="4.5.2", text="How are private keys stored?")
    assert clarification.raised_by == dip
    count = Clarification.objects.count()
    with pytest.raises(PermissionDenied, match="not assessed by the DIP Manager"):
        raise_on(dip, under_review, number="3.1.2")
    clarification_close(actor=dip, clarification_id=clarification.pk)
    assert Clarification.objects.count() == count


@pytest.mark.parametrize("who", ["member", "director", Role.PAB_SECRETARY, Role.TESTING_ASSURANCE])
def test_others_cannot_raise(request, under_review, staff, who):
    user = staff(who) if isinstance(who, Role) else request.getfixturevalue(who)
    before = (Clarification.objects.count(), AuditEvent.objects.count())
    with pytest.raises((PermissionDenied, NotFound)):
        raise_on(user, under_review)
    assert (Clarification.objects.count(), AuditEvent.objects.count()) == before


def test_another_organisation_finds_nothing(under_review, analyst, other_member):
    clarification = raise_on(analyst, under_review)
    with pytest.raises(NotFound):
        clarification_answer(actor=other_member, clarification_id=clarification.pk, text="Not ours.")
    with pytest.raises(NotFound):
        raise_on(other_member, under_review)


def test_the_participant_cannot_close_and_the_reviewer_cannot_answer(under_review, analyst, member):
    clarification = raise_on(analyst, under_review)
    with pytest.raises(PermissionDenied):
        clarification_close(actor=member, clarification_id=clarification.pk)
    with pytest.raises(PermissionDenied):
        clarification_answer(actor=analyst, clarification_id=clarification.pk, text="Answering myself.")


def test_wrong_state_is_refused(under_review, analyst, member):
    clarification = raise_on(analyst, under_review)
    with pytest.raises(InvalidTransition, match="waiting for the participant"):
        clarification_reply(actor=analyst, clarification_id=clarification.pk, text="Again?")
    clarification_close(actor=analyst, clarification_id=clarification.pk)
    with pytest.raises(InvalidTransition, match="closed"):
        clarification_answer(actor=member, clarification_id=clarification.pk, text="Late answer.")


def test_bad_input_stores_nothing(under_review, analyst, member):
    before = (Clarification.objects.count(), ClarificationMessage.objects.count(), AuditEvent.objects.count())
    with pytest.raises(InvalidInput):
        raise_on(analyst, under_review, text="   ")
    with pytest.raises(InvalidInput):
        raise_on(analyst, under_review, text="x" * 5001)
    with pytest.raises(InvalidInput):
        raise_on(analyst, under_review, number="9.9.9")
    with pytest.raises(InvalidInput):
        raise_on(analyst, under_review, number="5.1.3")  # an LDSO question on a Supplier's QAD
    assert (Clarification.objects.count(), ClarificationMessage.objects.count(), AuditEvent.objects.count()) == before
    clarification = raise_on(analyst, under_review)
    with pytest.raises(InvalidInput, match="Enter your answer"):
        clarification_answer(actor=member, clarification_id=clarification.pk, text="")


def test_clarifications_are_raised_only_while_under_review(make_application, stages, analyst):
    application = stages.final_open(make_application())
    with pytest.raises(InvalidTransition, match="under review"):
        raise_on(analyst, application)


def test_the_review_clock_pauses_while_the_participant_holds_a_clarification(under_review, analyst, member, stages):
    version = stages.version(under_review, "final", 1)
    first = raise_on(analyst, under_review, number="3.1.2")
    second = raise_on(analyst, under_review, number="4.1.2")
    clarification_answer(actor=member, clarification_id=first.pk, text="One.")
    assert holders(version) == ["code_bodies", "participant"]  # still holding the second
    clarification_answer(actor=member, clarification_id=second.pk, text="Two.")
    assert holders(version) == ["code_bodies", "participant", "code_bodies"]
    # Place the hold changes on a known timeline: Monday 09:00 submitted, Tuesday 09:00 clarification
    # raised, Thursday 09:00 answered; the clock is read on Friday 09:00 (no bank holidays that week).
    times = [datetime(2025, 6, 2, 9, tzinfo=UK), datetime(2025, 6, 3, 9, tzinfo=UK), datetime(2025, 6, 5, 9, tzinfo=UK)]
    for hold, at in zip(QadReviewHold.objects.filter(submission=version).order_by("at", "id"), times, strict=True):
        QadReviewHold.objects.filter(pk=hold.pk).update(at=at)
    clock = review_clock(version, now=datetime(2025, 6, 6, 9, tzinfo=UK))
    assert clock.code_bodies == timedelta(days=2)
    assert clock.participant == timedelta(days=2)
    assert clock.holder == ReviewHolder.CODE_BODIES and clock.running
    # Accepting stops the clock.
    clarification_close(actor=analyst, clarification_id=first.pk)
    clarification_close(actor=analyst, clarification_id=second.pk)
    stages.review(under_review, "final_qad", "accept")
    assert not review_clock(version).running


def test_working_time_skips_weekends_and_bank_holidays():
    # Friday noon to Tuesday noon over the August bank holiday (Monday 25 August 2025): 12 + 12 hours.
    start = datetime(2025, 8, 22, 12, tzinfo=UK)
    end = datetime(2025, 8, 26, 12, tzinfo=UK)
    assert working_time(start, end) == timedelta(hours=24)
    assert working_time(end, start) == timedelta()
    # The clocks going forward: Monday 31 March 2025 is a full working day of 24 hours.
    assert working_time(datetime(2025, 3, 29, tzinfo=UK), datetime(2025, 4, 1, tzinfo=UK)) == timedelta(hours=24)
