"""The summary paper on one application for one BSC PAB meeting: its data, read once, and its HTML.

What the Board reads about an application, gathered from the apps that hold it:

- the application: organisation, MPID, market role, route, the target meeting (and a late paper);
- the qualification activities: every task with its state and the date it was completed; the PQS and
  the placing reliance the Code Bodies accepted; the PIT exit criteria; DIP onboarding and the DIP
  IDs; the Initial and Final QAD versions and the Director's signature;
- the test results: the headline numbers of the test completion report
  (`portal.testing.reports.completion_data`) and the exit checklist;
- the work-off items: the agreed ones are the conditions an approval would carry;
- the current Elexon recommendation.

`paper_data` reads it all with a fixed number of queries, however many tasks, cases, runs, defects
or work-off items there are. `paper_body_html` writes the paper's body from
`approvals/paper_body.html`, which uses the GOV.UK Frontend classes: the portal page shows that body
as it is, and the PDF (`approvals/paper_pdf.html`) and the meeting pack style the same classes for
print. A prepared paper keeps its body (`PabPaper.content`), so what the Board reads does not change
when the data does.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from portal.approvals.models import PabMeeting, PabPaper, PabRecommendation, PabTarget
from portal.dip.models import DipId, DipOnboardingStep, DipStepProgress
from portal.documents.models import DirectorSignature, QadSubmission
from portal.documents.workflow import QadKind, SignatureStatus, SubmissionStatus
from portal.prequalification.models import PqsSubmission
from portal.prequalification.selectors import accepted_reliance
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Decision, TaskState
from portal.testing.exit_rules import RuleResult
from portal.testing.models.pit import PitCriterionResult
from portal.testing.reports import completion_data
from portal.workoff.models import WorkOffItem, WorkOffStatus

# Work-off items still to be done once agreed: the conditions of an approval.
CONDITION_STATUSES = frozenset({WorkOffStatus.AGREED})
# Not yet agreed: the Board should know they are open.
OPEN_WORKOFF_STATUSES = frozenset({WorkOffStatus.PROPOSED, WorkOffStatus.REVIEWED, WorkOffStatus.CHANGES_REQUESTED})
STATE_COLOURS = {
    TaskState.COMPLETED: "green",
    TaskState.NOT_REQUIRED: "grey",
    TaskState.SUBMITTED: "blue",
    TaskState.IN_PROGRESS: "light-blue",
    TaskState.CHANGES_REQUESTED: "orange",
    TaskState.NOT_STARTED: "grey",
    TaskState.CANNOT_START: "grey",
}
OUTCOME_COLOURS = {
    Decision.APPROVED: "green",
    Decision.APPROVED_WITH_CONDITIONS: "turquoise",
    Decision.DEFERRED: "yellow",
    Decision.REJECTED: "red",
}


@dataclass(frozen=True)
class TaskLine:
    code: str
    title: str
    state: str
    state_label: str
    decision_label: str
    completed_at: datetime.datetime | None
    optional: bool

    @property
    def colour(self) -> str:
        return STATE_COLOURS.get(TaskState(self.state), "grey") if self.state in TaskState.values else "grey"


@dataclass(frozen=True)
class PaperData:
    application: Application
    meeting: PabMeeting
    generated_at: datetime.datetime
    target: PabTarget | None
    recommendation: PabRecommendation | None
    tasks: list[TaskLine]
    pqs: PqsSubmission | None
    reliance: list[Any]  # accepted placing-reliance items
    pit_results: list[PitCriterionResult]
    dip_steps_done: int
    dip_steps_total: int
    dip_ids: list[DipId]
    qads: list[QadSubmission]  # submitted versions, Initial then Final, oldest first
    signature: DirectorSignature | None  # the valid signature of the Final QAD, if any
    testing: dict[str, Any]  # the completion report's headline numbers
    exit: list[RuleResult]
    workoff: list[WorkOffItem]
    has_testing: bool = True
    notes: list[str] = field(default_factory=list)

    # --- what the template asks --------------------------------------------------------------------

    @property
    def pit_met(self) -> int:
        return sum(1 for result in self.pit_results if result.met)

    @property
    def pit_not_met(self) -> list[PitCriterionResult]:
        return [result for result in self.pit_results if not result.met]

    def _latest_qad(self, kind: str) -> QadSubmission | None:
        versions = [q for q in self.qads if q.kind == kind]
        return versions[-1] if versions else None

    @property
    def initial_qad(self) -> QadSubmission | None:
        return self._latest_qad(QadKind.INITIAL)

    @property
    def final_qad(self) -> QadSubmission | None:
        return self._latest_qad(QadKind.FINAL)

    @property
    def initial_qad_versions(self) -> int:
        return sum(1 for q in self.qads if q.kind == QadKind.INITIAL)

    @property
    def final_qad_versions(self) -> int:
        return sum(1 for q in self.qads if q.kind == QadKind.FINAL)

    @property
    def conditions(self) -> list[WorkOffItem]:
        """The agreed work-off items: the conditions an approval would carry."""
        return [item for item in self.workoff if item.status in CONDITION_STATUSES]

    @property
    def open_workoff(self) -> list[WorkOffItem]:
        return [item for item in self.workoff if item.status in OPEN_WORKOFF_STATUSES]

    @property
    def closed_workoff(self) -> list[WorkOffItem]:
        return [item for item in self.workoff if item.status == WorkOffStatus.CLOSED]

    @property
    def exit_met(self) -> int:
        return sum(1 for result in self.exit if result.passed)

    @property
    def exit_passed(self) -> bool:
        return all(result.passed for result in self.exit)

    @property
    def recommendation_colour(self) -> str:
        if self.recommendation is None:
            return "grey"
        return OUTCOME_COLOURS.get(Decision(self.recommendation.outcome), "grey")


def paper_data(application: Application, meeting: PabMeeting, *, now: datetime.datetime | None = None) -> PaperData:
    """Everything the summary paper says, read once. `application` comes from a caller that already
    found it in the user's scope (or the background job)."""
    tasks = [
        TaskLine(
            code=task.code,
            title=task.definition.title,
            state=task.state,
            state_label=str(TaskState(task.state).label) if task.state in TaskState.values else task.state,
            decision_label=str(Decision(task.decision).label) if task.decision in Decision.values else "",
            completed_at=task.completed_at,
            optional=task.definition.is_optional,
        )
        for task in Task.objects.filter(application=application).select_related("definition").order_by("order")
    ]
    codes = {line.code for line in tasks}
    pqs = PqsSubmission.objects.filter(application=application).select_related("preferred_wave").first()
    reliance = accepted_reliance(application=application) if pqs is not None else []
    pit_results = list(
        PitCriterionResult.objects.filter(application=application)
        .select_related("criterion")
        .order_by("criterion__order", "criterion__code")
    )
    progress = DipStepProgress.objects.filter(application=application, step__is_active=True)
    dip_ids = list(
        DipId.objects.filter(mpid_id=application.mpid_id, market_role_id=application.market_role_id).order_by(
            "environment"
        )
    )
    qads = list(
        QadSubmission.objects.filter(application=application)
        .exclude(status=SubmissionStatus.DRAFT)
        .order_by("kind", "version")
    )
    qads.sort(key=lambda q: (0 if q.kind == QadKind.INITIAL else 1, q.version))
    signature = (
        DirectorSignature.objects.filter(application=application, status=SignatureStatus.VALID)
        .select_related("signer", "submission")
        .first()
    )
    has_testing = "qt" in codes
    if has_testing:
        completion = completion_data(application, now=now)
        testing, exit_results, workoff = completion.summary(), completion.exit, completion.workoff
    else:
        testing, exit_results = {}, []
        workoff = list(
            WorkOffItem.objects.filter(application=application)
            .exclude(status=WorkOffStatus.WITHDRAWN)
            .select_related("case", "defect")
            .order_by("number")
        )
    return PaperData(
        application=application,
        meeting=meeting,
        generated_at=now or timezone.now(),
        target=PabTarget.objects.filter(application=application, meeting=meeting, is_current=True).first(),
        recommendation=PabRecommendation.objects.filter(application=application, meeting=meeting, is_current=True)
        .select_related("recommended_by")
        .first(),
        tasks=tasks,
        pqs=pqs,
        reliance=reliance,
        pit_results=pit_results,
        dip_steps_done=progress.filter(done=True).count(),
        dip_steps_total=DipOnboardingStep.objects.filter(is_active=True).count(),
        dip_ids=dip_ids,
        qads=qads,
        signature=signature,
        testing=testing,
        exit=exit_results,
        workoff=workoff,
        has_testing=has_testing,
    )


def paper_body_html(data: PaperData) -> str:
    """The paper's body, as the portal page, the PDF and the meeting pack show it."""
    return render_to_string("approvals/paper_body.html", {"paper": data, "application": data.application})


def paper_title(application: Application) -> str:
    return f"{application.organisation.name}: {application.mpid.code} as {application.market_role.name}"


def paper_pdf_html(paper: PabPaper, body: str) -> str:
    """The whole HTML document of one paper's PDF."""
    return render_to_string(
        "approvals/paper_pdf.html",
        {"paper": paper, "body": body, "application": paper.application, "meeting": paper.meeting},
    )


def paper_file_name(paper: PabPaper) -> str:
    application = paper.application
    return (
        f"BSC PAB {paper.meeting.date:%Y-%m-%d} summary paper {application.reference} {application.mpid.code} "
        f"v{paper.version}.pdf"
    )
