"""Reads of the approval bodies' decisions and work, already scoped to the user: one application's
decision page for one body (with what that body looks at: QAD section 4.5 and DIP onboarding side by
side for the DIP Manager; the target meeting, recommendation and paper for the Board; the due date for
the REC Code Manager), the rolling queue of each body, and every decision on an application."""

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from portal.approvals.decisions import body_label
from portal.approvals.models import (
    ApprovalDecision,
    MeetingStatus,
    PabMeeting,
    PabPaper,
    PabRecommendation,
    PabTarget,
)
from portal.approvals.permissions import decision_conflict
from portal.core.calendar import UK, uk_today
from portal.core.errors import NotFound
from portal.dip.models import DipId
from portal.dip.selectors import StepRow, dip_ids_for, dip_step_rows
from portal.documents.models import QadAnswer, QadQuestion
from portal.documents.selectors import qad_latest_submitted
from portal.documents.workflow import QadKind
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for, user_holds_party
from portal.qualification.selectors import application_get
from portal.qualification.workflow import CLOSED_STATUSES, Decision, Party, TaskState
from portal.workoff.models import WorkOffItem, WorkOffStatus

DIP_QAD_SECTION = "4.5"
SIGNOFF_TASK = "director_signoff"


def approval_task_for(application: Application, body: str) -> Task:
    """The application's approval task of `body`, or NotFound when its role does not need that body."""
    task = (
        Task.objects.select_related("definition")
        .filter(application=application, definition__approval_body=body)
        .first()
    )
    if task is None:
        raise NotFound(f"{application.reference} does not need the approval of the {body_label(body)}.")
    task.application = application
    return task


def _body(value: str) -> ApprovalBody:
    try:
        return ApprovalBody(value)
    except ValueError:
        raise NotFound("There is no such approval body.") from None


# --- due dates -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDate:
    """When a body's decision is due: the date of the application's target BSC PAB meeting (the approvals
    run in parallel, in the same timeframe), or, without a target, the first meeting whose paper deadline
    had not passed when the Director signed (the meeting it could have made)."""

    due_on: date | None
    basis: str
    today: date

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < self.today


def due_dates(applications: Iterable[Application], *, today: date | None = None) -> dict[int, DueDate]:
    """In a fixed number of queries, whatever the number of applications."""
    today = today or uk_today()
    applications = list(applications)
    ids = [a.pk for a in applications]
    targets = {
        t.application_id: t.meeting
        for t in PabTarget.objects.filter(application_id__in=ids, is_current=True).select_related("meeting")
    }
    signed = dict(
        Task.objects.filter(application_id__in=ids, code=SIGNOFF_TASK, state=TaskState.COMPLETED).values_list(
            "application_id", "completed_at"
        )
    )
    meetings = list(
        PabMeeting.objects.exclude(status=MeetingStatus.CANCELLED)
        .order_by("paper_deadline")
        .only("date", "paper_deadline")
    )
    deadlines = [m.paper_deadline for m in meetings]
    found: dict[int, DueDate] = {}
    for application in applications:
        meeting = targets.get(application.pk)
        if meeting is not None:
            found[application.pk] = DueDate(
                meeting.date, f"the target BSC PAB meeting ({meeting.date:%-d %B %Y})", today
            )
            continue
        signed_at = signed.get(application.pk)
        if signed_at is None:
            found[application.pk] = DueDate(None, "not yet signed by a Director", today)
            continue
        signed_on = timezone.localtime(signed_at, UK).date()
        position = bisect_left(deadlines, signed_on)
        if position == len(meetings):
            found[application.pk] = DueDate(None, "no BSC PAB meeting in the calendar yet", today)
            continue
        meeting = meetings[position]
        found[application.pk] = DueDate(
            meeting.date, f"the first BSC PAB meeting after the Director's signature ({meeting.date:%-d %B %Y})", today
        )
    return found


# --- the queue of one body -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    task: Task
    application: Application
    entered_at: Any  # when the Director signed: when the application entered the queue
    due: DueDate
    latest: ApprovalDecision | None

    @property
    def waiting_on_participant(self) -> bool:
        return self.task.state == TaskState.CHANGES_REQUESTED

    @property
    def status(self) -> str:
        if self.waiting_on_participant:
            return "Deferred: waiting for the participant"
        if self.task.state == TaskState.SUBMITTED:
            return "More information received"
        return "Waiting for a decision"


@dataclass(frozen=True)
class ApprovalQueue:
    body: ApprovalBody
    rows: list[QueueRow]
    decided: list[ApprovalDecision]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.rows if row.due.overdue and not row.waiting_on_participant)


def approval_queue(*, user: Any, body: str, decided_limit: int = 20) -> ApprovalQueue:
    """The body's rolling queue: every open application waiting on its decision (or deferred and waiting
    for the participant), from the Director's signature, soonest due first; and its latest decisions."""
    approval_body = _body(body)
    scope = application_scope_for(user).exclude(status__in=[s.value for s in CLOSED_STATUSES])
    tasks = list(
        Task.objects.filter(
            application__in=scope,
            definition__approval_body=approval_body,
            state__in=[TaskState.NOT_STARTED, TaskState.SUBMITTED, TaskState.CHANGES_REQUESTED],
        ).select_related("definition", "application__organisation", "application__mpid", "application__market_role")
    )
    applications = [t.application for t in tasks]
    due = due_dates(applications)
    signed = dict(
        Task.objects.filter(application__in=applications, code=SIGNOFF_TASK).values_list(
            "application_id", "completed_at"
        )
    )
    latest: dict[int, ApprovalDecision] = {}
    for decision in ApprovalDecision.objects.filter(application__in=applications, body=approval_body).order_by(
        "recorded_at", "id"
    ):
        latest[decision.application_id] = decision
    rows = [
        QueueRow(
            task,
            task.application,
            signed.get(task.application_id),
            due[task.application_id],
            latest.get(task.application_id),
        )
        for task in tasks
    ]
    rows.sort(key=lambda r: (r.waiting_on_participant, r.due.due_on or date.max, r.application.pk))
    decided = list(
        ApprovalDecision.objects.filter(application__in=application_scope_for(user), body=approval_body)
        .select_related(
            "application__organisation", "application__mpid", "application__market_role", "meeting", "recorded_by"
        )
        .order_by("-recorded_at", "-id")[:decided_limit]
    )
    return ApprovalQueue(approval_body, rows, decided)


# --- one application's decision page for one body ------------------------------------------------------------


@dataclass(frozen=True)
class QadAnswerRow:
    question: QadQuestion
    answer: QadAnswer | None


@dataclass(frozen=True)
class DecisionPage:
    application: Application
    body: ApprovalBody
    task: Task
    decisions: list[ApprovalDecision]
    agreed_items: list[WorkOffItem]
    can_decide: bool
    refusal: str
    due: DueDate
    # The DIP Manager's view: QAD section 4.5 and DIP onboarding, side by side.
    qad_version: int | None = None
    qad_answers: list[QadAnswerRow] = field(default_factory=list)
    dip_steps: list[StepRow] = field(default_factory=list)
    dip_ids: list[DipId] = field(default_factory=list)
    # The Board's view.
    target: PabTarget | None = None
    recommendation: PabRecommendation | None = None
    paper: PabPaper | None = None
    meeting_ready: bool = False

    @property
    def title(self) -> str:
        return f"{self.body.label} approval"

    @property
    def awaiting_decision(self) -> bool:
        return self.task.state in (TaskState.NOT_STARTED, TaskState.SUBMITTED) and not self.application.is_closed

    @property
    def outcomes(self) -> list[Decision]:
        return list(Decision)

    @property
    def dip_steps_done(self) -> int:
        return sum(1 for row in self.dip_steps if row.done)


def approval_decision_page(*, user: Any, application_id: int, body: str) -> DecisionPage:
    """NotFound when the user may not see the application, or it does not need this body."""
    approval_body = _body(body)
    application = application_get(user=user, application_id=application_id)
    task = approval_task_for(application, approval_body)
    decisions = list(
        ApprovalDecision.objects.filter(application=application, body=approval_body)
        .select_related("meeting", "recorded_by")
        .prefetch_related(Prefetch("conditions", queryset=WorkOffItem.objects.order_by("number")))
        .order_by("-recorded_at", "-id")
    )
    agreed = list(WorkOffItem.objects.filter(application=application, status=WorkOffStatus.AGREED).order_by("number"))
    holds_role = user_holds_party(user, task, Party.ASSURER)
    refusal = ""
    if holds_role:
        refusal = decision_conflict(user, application)
    page: dict[str, Any] = {}
    target = None
    if approval_body == ApprovalBody.DIP_MANAGER:
        page.update(_dip_view(application))
    if approval_body == ApprovalBody.BSC_PAB:
        target = PabTarget.objects.select_related("meeting").filter(application=application, is_current=True).first()
        page["target"] = target
        if target is not None:
            page["recommendation"] = (
                PabRecommendation.objects.select_related("recommended_by")
                .filter(application=application, meeting=target.meeting, is_current=True)
                .first()
            )
            page["paper"] = (
                PabPaper.objects.filter(application=application, meeting=target.meeting).order_by("-version").first()
            )
            page["meeting_ready"] = (
                target.meeting.status != MeetingStatus.CANCELLED and target.meeting.date <= uk_today()
            )
        if holds_role and not refusal:
            if target is None:
                refusal = "An Elexon analyst gives the application a target BSC PAB meeting first."
            elif not page["meeting_ready"]:
                refusal = f"Record the Board's decision during or after the {target.meeting.title}."
    awaiting = task.state in (TaskState.NOT_STARTED, TaskState.SUBMITTED) and not application.is_closed
    return DecisionPage(
        application=application,
        body=approval_body,
        task=task,
        decisions=decisions,
        agreed_items=agreed,
        can_decide=holds_role and awaiting and not refusal,
        refusal=refusal if holds_role and awaiting else "",
        due=due_dates([application])[application.pk],
        **page,
    )


def _dip_view(application: Application) -> dict[str, Any]:
    submission = qad_latest_submitted(application, QadKind.FINAL)
    rows: list[QadAnswerRow] = []
    if submission is not None:
        questions = list(
            QadQuestion.objects.filter(template=submission.template, section__number=DIP_QAD_SECTION)
            .filter(role_groups=application.market_role.role_group_id)
            .order_by("order")
        )
        answers = {
            a.question_id: a
            for a in QadAnswer.objects.filter(submission=submission, question__in=questions).prefetch_related(
                "evidence"
            )
        }
        rows = [QadAnswerRow(q, answers.get(q.pk)) for q in questions]
    return {
        "qad_version": submission.version if submission is not None else None,
        "qad_answers": rows,
        "dip_steps": dip_step_rows(application),
        "dip_ids": dip_ids_for(application),
    }


# --- every decision on an application --------------------------------------------------------------------


def application_decisions(*, user: Any, application_id: int) -> list[ApprovalDecision]:
    """Every decision of every body on the application, oldest first: the participant sees each outcome
    with its reasons and conditions. NotFound outside the user's scope."""
    return decisions_of(application_get(user=user, application_id=application_id))


def decisions_of(application: Application) -> list[ApprovalDecision]:
    """For an application the caller has already found in the user's scope."""
    return list(
        ApprovalDecision.objects.filter(application=application)
        .select_related("meeting", "recorded_by")
        .prefetch_related(Prefetch("conditions", queryset=WorkOffItem.objects.order_by("number")))
        .order_by("recorded_at", "id")
    )
