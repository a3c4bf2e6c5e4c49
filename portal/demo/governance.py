"""The demo's month of governance: a BSC PAB meeting held today, as the people involved would run it.

The applications on its agenda (those whose demo story has a `board` item) have been walked up to the
Board's decision. Through the ordinary services: an Elexon analyst targets each at the meeting, records
the Elexon recommendation and prepares the summary paper; the PAB secretary asks for the meeting pack,
records the Board's decisions (an approval, an approval with conditions, a deferral, which moves its
application to the next meeting) and marks the meeting held; the PAB Chair issues the qualification
letters, which are e-mailed to the participants with the PDF attached.

The PDFs are generated here, in the load, by the same functions the task worker runs (their queued
jobs then find them done and do nothing), so that the pack and the letters are there when the portal
starts and the Chair can issue the letters at once.
"""

from collections.abc import Callable, Sequence
from datetime import time
from typing import Any

from portal.accounts.roles import Role
from portal.approvals.decision_services import approval_decide
from portal.approvals.letters import qualification_letter_generate, qualification_letter_issue
from portal.approvals.models import LetterStatus, MeetingStatus, PabMeeting, PabTarget, QualificationLetter
from portal.approvals.paper_services import (
    pab_pack_generate,
    pab_pack_request,
    pab_paper_generate,
    pab_paper_prepare,
    pab_recommendation_record,
)
from portal.approvals.services import pab_meeting_mark_held, pab_meetings_generate, pab_target_set
from portal.core.calendar import uk_today
from portal.demo.data import ApplicationSpec, BoardItem
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application
from portal.qualification.workflow import Decision
from portal.workoff.models import WorkOffStatus

# Who plays a role for an application: the demo's cast.
CastFor = Callable[[Role, ApplicationSpec], Any]


def board_meeting_today(*, secretary: Any) -> PabMeeting:
    """Today's BSC PAB meeting: the one in the calendar, or an extra meeting the secretary added."""
    today = uk_today()
    meeting = PabMeeting.objects.filter(date=today).exclude(status=MeetingStatus.CANCELLED).first()
    if meeting is None:
        meeting = PabMeeting.objects.create(
            date=today,
            starts_at=time(10, 0),
            location="Online (Microsoft Teams)",
            paper_deadline=today,
            set_by_hand=True,
            created_by=secretary,
            notes="Extra meeting for the applications ready this month.",
        )
    return meeting


def board_meeting_hold(agenda: Sequence[tuple[Application, ApplicationSpec]], cast_for: CastFor) -> PabMeeting:
    """Run today's meeting for the applications of `agenda`, from the papers to the letters."""
    first = agenda[0][1]
    secretary, chair = cast_for(Role.PAB_SECRETARY, first), cast_for(Role.PAB_CHAIR, first)
    # The meetings ahead, where a deferred application goes next.
    pab_meetings_generate(actor=None)
    meeting = board_meeting_today(secretary=secretary)

    for application, spec in agenda:
        assert spec.board is not None
        analyst = cast_for(Role.ELEXON_ANALYST, spec)
        current = PabTarget.objects.filter(application=application, is_current=True).first()
        if current is None or current.meeting_id != meeting.pk:
            pab_target_set(
                actor=analyst,
                application_id=application.pk,
                meeting_id=meeting.pk,
                reason="Ready for this month's meeting." if current is not None else "",
            )
        pab_recommendation_record(
            actor=analyst,
            meeting_id=meeting.pk,
            application_id=application.pk,
            outcome=spec.board.outcome,
            text=spec.board.recommendation,
        )
        paper = pab_paper_prepare(actor=analyst, meeting_id=meeting.pk, application_id=application.pk)
        pab_paper_generate(paper_id=paper.pk)

    pack = pab_pack_request(actor=secretary, meeting_id=meeting.pk)
    pab_pack_generate(pack_id=pack.pk)

    for application, spec in agenda:
        assert spec.board is not None
        _decide(application, spec.board, secretary=secretary, meeting=meeting)
    pab_meeting_mark_held(actor=secretary, meeting_id=meeting.pk)

    for letter in QualificationLetter.objects.filter(decision__meeting=meeting, status=LetterStatus.DRAFT):
        qualification_letter_generate(letter_id=letter.pk)
        qualification_letter_issue(actor=chair, letter_id=letter.pk)
    return meeting


def _decide(application: Application, item: BoardItem, *, secretary: Any, meeting: PabMeeting) -> None:
    conditions: list[int] = []
    if item.outcome == Decision.APPROVED_WITH_CONDITIONS:
        conditions = list(application.workoff_items.filter(status=WorkOffStatus.AGREED).values_list("pk", flat=True))
    approval_decide(
        actor=secretary,
        application_id=application.pk,
        body=ApprovalBody.BSC_PAB,
        outcome=item.outcome,
        rationale=item.rationale,
        condition_ids=conditions,
        meeting_id=meeting.pk,
    )
