"""Every write to an application's Qualification Testing executions and defects goes through here.

Each service runs in one transaction: lock the application row (and its `qt` task), check that the
user may see it (NotFound otherwise, the same as a missing one), that they are the party who may do
this (PermissionDenied), that the task and the object allow it now (InvalidTransition), and that the
input is sound (InvalidInput, every problem listed, files checked by content before anything is
stored); then change, write one audit event, and notify whoever must act next. A refusal changes
nothing.

The rules of a run (evidence, notes, step results) are written once, in `check_run`, and used by the
record service and by the results workbook import alike; the evidence rule is stated in
`execution_selectors`.
"""

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.evidence import check_evidence_file
from portal.documents.models import EvidenceFile
from portal.documents.services import evidence_open_for_download, evidence_store
from portal.notifications.services import notify
from portal.qualification.models import Application, Task
from portal.qualification.services import MAX_ATTACHMENTS, MAX_COMMENT_LENGTH, task_lock, task_start_on_first_work
from portal.testing.execution_selectors import (
    DEFECT_TRANSITIONS,
    EVIDENCE_REQUIRED,
    NOTES_REQUIRED,
    RECORDABLE,
    ReviewState,
    StepStatus,
    defect_review_refusal,
    defect_work_refusal,
    evidence_of_execution,
    execution_review_refusal,
    execution_work_refusal,
    review_state,
    step_numbers,
)
from portal.testing.models import (
    Defect,
    DefectSeverity,
    DefectStatus,
    EvidenceReview,
    ExecutionStatus,
    TestCaseVersion,
    TestExecution,
)
from portal.testing.models.execution import DefectEntry
from portal.testing.plan_selectors import QT_TASK, assures_qt, works_on_qt
from portal.testing.required_set import SetRow, required_set

MAX_TESTER_LENGTH = 200  # TestExecution.tester
MAX_NOTES_LENGTH = MAX_COMMENT_LENGTH
MAX_ACTUAL_LENGTH = 2_000  # what a step actually did
MAX_TITLE_LENGTH = 300  # Defect.title
MAX_DESCRIPTION_LENGTH = 20_000
MAX_LINKED_EXECUTIONS = 100
EARLIEST_RUN = datetime.date(2020, 1, 1)
# A run "now" on a tester's machine may be a little ahead of the server's clock.
CLOCK_ALLOWANCE = datetime.timedelta(minutes=5)
REVIEW_DECISIONS = {"accept": EvidenceReview.ACCEPTED, "reject": EvidenceReview.REJECTED}
EVIDENCE_PURPOSE = "qt:execution"
MAX_ID = 2**63 - 1  # database keys are 64-bit


# --- the rules of a run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class CheckedRun:
    """A run's values once checked: what is stored."""

    status: str = ""
    tester: str = ""
    executed_at: datetime.datetime | None = None
    notes: str = ""
    step_results: list[dict[str, Any]] = field(default_factory=list)


# The choices' values as sets, made once: `.values` builds a new list on every use, and a results import
# checks a hundred thousand rows.
_EXECUTION_STATUSES = frozenset(ExecutionStatus.values)
_STEP_STATUSES = frozenset(StepStatus.values)


def check_run(
    *,
    identifier: str,
    version: TestCaseVersion,
    status: Any,
    tester: Any,
    executed_at: Any,
    notes: Any,
    step_results: Any,
    now: datetime.datetime,
    steps_required: bool,
) -> tuple[CheckedRun, list[Problem]]:
    """Check one run of `version` and answer its cleaned values and every problem found.

    `step_results` is None or empty when none were given; otherwise a sequence of {"step", "status",
    "actual"} with exactly one result for each step of the version. With `steps_required` (the record
    page and the API), a run that claims an outcome must give them when the case has steps."""
    run = CheckedRun()
    problems: list[Problem] = []

    if status in _EXECUTION_STATUSES:
        run.status = str(status)
    else:
        allowed = ", ".join(ExecutionStatus.values)
        problems.append(Problem("status", f"Choose the outcome of the run: one of {allowed}."))

    run.tester, problem = _text(tester, field_name="tester", label="The tester's name", limit=MAX_TESTER_LENGTH)
    if problem:
        problems.append(problem)
    elif not run.tester:
        problems.append(Problem("tester", "Enter the name of the person who ran the test."))

    if not isinstance(executed_at, datetime.datetime):
        problems.append(Problem("executed_at", "Enter the date and time the test was run."))
    else:
        zone = timezone.get_current_timezone()  # once: the results import checks a hundred thousand runs
        when = executed_at if timezone.is_aware(executed_at) else timezone.make_aware(executed_at, zone)
        if when > now + CLOCK_ALLOWANCE:
            problems.append(Problem("executed_at", "The time the test was run cannot be in the future."))
        elif when.astimezone(zone).date() < EARLIEST_RUN:
            problems.append(Problem("executed_at", f"The time the test was run must be after {EARLIEST_RUN:%Y}."))
        else:
            run.executed_at = when

    run.notes, problem = _text(notes, field_name="notes", label="The notes", limit=MAX_NOTES_LENGTH)
    if problem:
        problems.append(problem)
    elif run.status in NOTES_REQUIRED and not run.notes:
        label = ExecutionStatus(run.status).label.lower()
        problems.append(Problem("notes", f"Enter notes saying why the run is {label}: what happened, and what next."))

    # The version's step numbers are needed only to check results given, or to ask for them.
    numbers = step_numbers(version) if step_results or steps_required else []
    steps, step_problems = _check_steps(identifier, version, step_results, run.status, numbers)
    problems += step_problems
    run.step_results = steps
    if steps_required and not step_problems and not steps and numbers and run.status in EVIDENCE_REQUIRED:
        problems.append(
            Problem("step_results", f"Give the result of each of the {len(numbers)} steps of {identifier}.")
        )
    return run, problems


def check_step_results(
    *, identifier: str, version: TestCaseVersion, step_results: Any, status: str
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The step results of a run of `version` with outcome `status`, checked exactly as `check_run` checks
    them: the cleaned results and every problem. For a caller that checks many runs of a few versions
    (the results import), which may keep the answer for the runs that give the same results."""
    return _check_steps(identifier, version, step_results, status, step_numbers(version))


def _check_steps(
    identifier: str, version: TestCaseVersion, given: Any, status: str, numbers: list[int]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    if given is None or (isinstance(given, Sequence) and not isinstance(given, str) and not given):
        return [], []
    if isinstance(given, str) or not isinstance(given, Sequence):
        return [], [Problem("step_results", "Step results must be a list with one result for each step.")]
    which = f"{identifier} version {version.version}"
    problems: list[Problem] = []
    cleaned: dict[int, dict[str, Any]] = {}
    for item in given:
        if not isinstance(item, Mapping):
            problems.append(Problem("step_results", "Each step result needs a step number and a status."))
            continue
        number, step_status = item.get("step"), item.get("status")
        if not isinstance(number, int) or isinstance(number, bool):
            problems.append(Problem("step_results", "Each step result needs its step number."))
            continue
        if number not in numbers:
            span = f"steps 1 to {len(numbers)}" if numbers else "no steps"
            problems.append(Problem("step_results", f"Step {number} is not a step of {which}, which has {span}."))
            continue
        if number in cleaned:
            problems.append(Problem("step_results", f"Step {number} has more than one result."))
            continue
        if step_status not in _STEP_STATUSES:
            allowed = ", ".join(StepStatus.values)
            problems.append(Problem("step_results", f"Choose the result of step {number}: one of {allowed}."))
            continue
        actual, problem = _text(
            item.get("actual", ""), field_name="step_results", label=f"What step {number} did", limit=MAX_ACTUAL_LENGTH
        )
        if problem:
            problems.append(problem)
            continue
        cleaned[number] = {"step": number, "status": step_status, "actual": actual}
    if problems:
        return [], problems
    missing = [n for n in numbers if n not in cleaned]
    if missing:
        listed = ", ".join(str(n) for n in missing[:10]) + ("…" if len(missing) > 10 else "")
        return [], [Problem("step_results", f"Give a result for every step of {which}; missing: step {listed}.")]
    results = [cleaned[n] for n in numbers]
    outcomes = {r["status"] for r in results}
    if status in (ExecutionStatus.PASSED, ExecutionStatus.PASSED_WITH_OBSERVATIONS) and outcomes != {StepStatus.PASSED}:
        problems.append(Problem("step_results", "A passed run must have every step passed."))
    elif status == ExecutionStatus.FAILED and StepStatus.FAILED not in outcomes:
        problems.append(Problem("step_results", "A failed run must have at least one failed step."))
    elif status == ExecutionStatus.NOT_RUN and outcomes - {StepStatus.NOT_RUN}:
        problems.append(
            Problem("step_results", "A run that was not run cannot have steps that passed, failed or were blocked.")
        )
    return ([], problems) if problems else (results, [])


def recordable_row(application: Application, identifier: Any, rows: Sequence[SetRow] | None = None) -> SetRow:
    """The row of the application's test set for `identifier`, if the case may be run; InvalidInput
    with the reason otherwise (not the role's case, covered by reliance, opted out)."""
    key = str(identifier or "").strip().upper()
    if not key:
        raise InvalidInput("Choose the test case that was run.", details={"field": "case"})
    for row in rows if rows is not None else required_set(application):
        if row.identifier.upper() != key:
            continue
        if row.inclusion not in RECORDABLE:
            raise InvalidInput(
                f"{row.identifier} is not run in QT for this application: {row.reason}",
                details={"field": "case", "rule": row.inclusion.value},
            )
        return row
    raise InvalidInput(
        f"{_printable(key)} is not a test case of the {application.market_role.name} role.",
        details={"field": "case"},
    )


# --- executions --------------------------------------------------------------------------------------


@transaction.atomic
def execution_record(
    *,
    actor: Any,
    application_id: int,
    case: str,
    status: str,
    tester: str,
    executed_at: datetime.datetime | None,
    notes: str = "",
    step_results: Sequence[Any] | None = None,
    files: Sequence[Any] = (),
) -> TestExecution:
    """Record one run of a case of the application's required or optional set, against the case's
    current version, with its step results, notes and evidence files.

    A new run of a case adds a row; the latest run is the case's result. Testing Assurance is told
    that there is evidence to review."""
    application, task = _lock(actor, application_id)
    _refuse(execution_work_refusal(actor, task))
    row = recordable_row(application, case)
    run, problems = check_run(
        identifier=row.identifier,
        version=row.version,
        status=status,
        tester=tester,
        executed_at=executed_at,
        notes=notes,
        step_results=step_results,
        now=timezone.now(),
        steps_required=True,
    )
    if len(files) > MAX_ATTACHMENTS:
        problems.append(Problem("files", f"Attach {MAX_ATTACHMENTS} files or fewer at a time."))
    elif run.status in EVIDENCE_REQUIRED and not files:
        label = ExecutionStatus(run.status).label.lower()
        problems.append(
            Problem("files", f"Attach the evidence of the run: a {label} run needs at least one evidence file.")
        )
    _raise_problems(problems, "The run cannot be recorded")
    _check_files(files)
    assert run.executed_at is not None  # checked above
    task_start_on_first_work(actor=actor, task=task)

    execution = TestExecution.objects.create(
        application=application,
        case_id=row.case_id,
        case_version=row.version,
        status=run.status,
        tester=run.tester,
        executed_at=run.executed_at,
        step_results=run.step_results,
        notes=run.notes,
        recorded_by=actor,
    )
    for upload in files:
        execution.evidence.add(
            evidence_store(actor=actor, application=application, upload=upload, purpose=EVIDENCE_PURPOSE)
        )
    label = ExecutionStatus(run.status).label.lower()
    audit_record(
        actor=actor,
        action="qt.execution.record",
        target=execution,
        summary=f"Run of {row.identifier} recorded as {label} on {application.reference}",
        after=_execution_snapshot(execution, row.identifier),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    what = "with evidence to review" if files else "with no evidence files"
    notify(
        recipients=qt_assurers(task),
        subject=f"Test run recorded: {row.identifier} {label} on {application.reference}",
        body=f"{actor_name(actor)} recorded a run of {row.identifier} “{row.version.title}” on "
        f"{describe_application(application)}: {label}, {what}." + (f"\n\n{run.notes}" if run.notes else ""),
        link=execution_link(application.pk, execution.pk),
        application=application,
        exclude=actor,
    )
    return execution


@transaction.atomic
def execution_evidence_add(
    *, actor: Any, application_id: int, execution_id: int, files: Sequence[Any]
) -> TestExecution:
    """Attach evidence files to a run: to a run imported without evidence, or to one whose evidence
    Testing Assurance rejected (it goes back to them for review). Evidence already accepted is not
    added to: record a new run instead."""
    application, task = _lock(actor, application_id)
    _refuse(execution_work_refusal(actor, task, "evidence"))
    execution = _execution(application, execution_id)
    if execution.review == EvidenceReview.ACCEPTED:
        raise InvalidTransition(
            "Testing Assurance has accepted the evidence of this run, so it cannot be changed. Record a new run "
            "if the case must be run again."
        )
    if not files:
        raise InvalidInput("Choose the evidence files to attach.", details={"field": "files"})
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer at a time.", details={"field": "files"})
    _check_files(files)
    before = _execution_snapshot(execution, execution.case.identifier)
    for upload in files:
        execution.evidence.add(
            evidence_store(actor=actor, application=application, upload=upload, purpose=EVIDENCE_PURPOSE)
        )
    was_rejected = execution.review == EvidenceReview.REJECTED
    if was_rejected:
        # New evidence answers the rejection: the run goes back to Testing Assurance for review.
        execution.review = EvidenceReview.PENDING
        execution.reviewed_by = None
        execution.reviewed_at = None
        execution.review_comment = ""
        execution.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_comment"])
    identifier = execution.case.identifier
    audit_record(
        actor=actor,
        action="qt.execution.evidence_add",
        target=execution,
        summary=f"{len(files)} evidence file(s) attached to the run of {identifier} on {application.reference}",
        before=before,
        after=_execution_snapshot(execution, identifier),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    names = ", ".join(str(getattr(f, "name", "file")) for f in files)
    notify(
        recipients=qt_assurers(task),
        subject=f"Evidence to review: {identifier} on {application.reference}",
        body=f"{actor_name(actor)} attached evidence ({names}) to the run of {identifier} on {_when(execution)} for "
        f"{describe_application(application)}"
        + (", in answer to your rejection of its evidence." if was_rejected else "."),
        link=execution_link(application.pk, execution.pk),
        application=application,
        exclude=actor,
    )
    return execution


@transaction.atomic
def execution_review(
    *, actor: Any, application_id: int, execution_id: int, decision: str, comment: str = ""
) -> TestExecution:
    """Testing Assurance accepts a run's evidence, or rejects it saying why. A rejected run counts
    against exit until the participant attaches better evidence or runs the case again; evidence
    accepted earlier may still be rejected when something comes to light."""
    application, task = _lock(actor, application_id)
    _refuse(execution_review_refusal(actor, task))
    execution = _execution(application, execution_id)
    if decision not in REVIEW_DECISIONS:
        raise InvalidInput("Choose whether to accept or reject the evidence.", details={"field": "decision"})
    outcome = REVIEW_DECISIONS[decision]
    comment, problem = _text(comment, field_name="comment", label="The comment", limit=MAX_COMMENT_LENGTH)
    if problem:
        raise InvalidInput(problem.message, details={"field": "comment"})
    if outcome == EvidenceReview.REJECTED and not comment:
        raise InvalidInput(
            "Say why the evidence is rejected and what the participant must do.", details={"field": "comment"}
        )
    state = review_state(status=execution.status, review=execution.review, evidence_count=execution.evidence.count())
    identifier = execution.case.identifier
    if state == ReviewState.AWAITING_EVIDENCE:
        raise InvalidTransition(
            f"The run of {identifier} has no evidence yet: it can be reviewed once the participant attaches it."
        )
    if state == ReviewState.REJECTED:
        raise InvalidTransition(
            f"The evidence of this run of {identifier} is already rejected; it can be reviewed again once the "
            "participant attaches new evidence."
        )
    if state == ReviewState.ACCEPTED and outcome == EvidenceReview.ACCEPTED:
        raise InvalidTransition(f"The evidence of this run of {identifier} is already accepted.")
    before = _execution_snapshot(execution, identifier)
    execution.review = outcome
    execution.review_comment = comment
    execution.reviewed_by = actor
    execution.reviewed_at = timezone.now()
    execution.save(update_fields=["review", "review_comment", "reviewed_by", "reviewed_at"])
    verb = "accepted" if outcome == EvidenceReview.ACCEPTED else "rejected"
    audit_record(
        actor=actor,
        action="qt.execution.review",
        target=execution,
        summary=f"Evidence of the run of {identifier} {verb} on {application.reference}",
        before=before,
        after=_execution_snapshot(execution, identifier),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    body = (
        f"{actor_name(actor)} {verb} the evidence of the run of {identifier} on {_when(execution)} for "
        f"{describe_application(application)}."
    )
    if outcome == EvidenceReview.REJECTED:
        body += f"\n\n{comment}\n\nAttach better evidence to the run, or run the case again."
    elif comment:
        body += f"\n\n{comment}"
    notify(
        recipients=_participants(application),
        subject=f"Evidence {verb}: {identifier} on {application.reference}",
        body=body,
        link=execution_link(application.pk, execution.pk),
        application=application,
        exclude=actor,
    )
    return execution


def execution_evidence_open(*, actor: Any, application_id: int, execution_id: int, evidence_id: int) -> EvidenceFile:
    """An evidence file of one of the application's runs, for download (reviewers' downloads are
    audited). NotFound for any other file, including another application's."""
    evidence_of_execution(user=actor, application_id=application_id, execution_id=execution_id, evidence_id=evidence_id)
    return evidence_open_for_download(actor=actor, evidence_id=evidence_id)


def _execution(application: Application, execution_id: int) -> TestExecution:
    execution = (
        TestExecution.objects.select_for_update()
        .select_related("case", "case_version")
        .filter(application=application, pk=execution_id)
        .first()
    )
    if execution is None:
        raise NotFound("This application has no test execution with that reference.")
    execution.application = application
    return execution


def _execution_snapshot(execution: TestExecution, identifier: str) -> dict[str, Any]:
    return {
        "case": identifier,
        "case_version": execution.case_version.version,
        "status": execution.status,
        "tester": execution.tester,
        "executed_at": execution.executed_at.isoformat(),
        "notes": execution.notes,
        "step_results": execution.step_results,
        "evidence": [
            {"id": e.pk, "name": e.original_name, "sha256": e.sha256} for e in execution.evidence.order_by("pk")
        ],
        "review": execution.review,
        "review_comment": execution.review_comment,
    }


# --- defects --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefectFields:
    title: str
    description: str = ""
    severity: Any = None
    execution_ids: Sequence[Any] = ()


@transaction.atomic
def defect_raise(*, actor: Any, application_id: int, fields: DefectFields) -> Defect:
    """Raise a defect found in testing, numbered DEF-0001, DEF-0002… per application, linked to the runs
    that found it. Testing Assurance is told of a critical or high (severity 1 or 2) defect."""
    application, task = _lock(actor, application_id)
    _refuse(defect_work_refusal(actor, task))
    title, description, severity, executions = _check_defect(application, fields)
    task_start_on_first_work(actor=actor, task=task)
    number = (Defect.objects.filter(application=application).aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        with transaction.atomic():
            defect = Defect.objects.create(
                application=application,
                number=number,
                title=title,
                description=description,
                severity=severity,
                raised_by=actor,
                raised_at=timezone.now(),
            )
    except IntegrityError as exc:  # the application row is locked, so only a bypass of it gets here
        raise Conflict("Another defect took that number at the same moment; raise yours again.") from exc
    defect.executions.set(executions)
    audit_record(
        actor=actor,
        action="qt.defect.raise",
        target=defect,
        summary=f"{defect.reference} raised on {application.reference}: {title}",
        after=_defect_snapshot(defect),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if severity <= DefectSeverity.HIGH:
        notify(
            recipients=qt_assurers(task),
            subject=f"Severity {severity} defect raised: {defect.reference} on {application.reference}",
            body=f"{actor_name(actor)} raised {defect.reference} “{title}” ({DefectSeverity(severity).label}) on "
            f"{describe_application(application)}." + (f"\n\n{description}" if description else ""),
            link=defect_link(application.pk, defect.pk),
            application=application,
            exclude=actor,
        )
    return defect


@transaction.atomic
def defect_update(*, actor: Any, application_id: int, defect_id: int, fields: DefectFields) -> Defect:
    """The participant corrects a defect's title, description, severity or linked runs. Testing
    Assurance is told when the defect is (now) critical or high."""
    application, task = _lock(actor, application_id)
    _refuse(defect_work_refusal(actor, task))
    defect = _defect(application, defect_id)
    title, description, severity, executions = _check_defect(application, fields)
    before = _defect_snapshot(defect)
    unchanged = (title, description, severity, sorted(e.pk for e in executions)) == (
        defect.title,
        defect.description,
        defect.severity,
        before["executions"],
    )
    if unchanged:  # saving the form as it was: nothing to record, nobody to tell
        return defect
    defect.title, defect.description, defect.severity = title, description, severity
    defect.save(update_fields=["title", "description", "severity", "updated_at"])
    defect.executions.set(executions)
    after = _defect_snapshot(defect)
    audit_record(
        actor=actor,
        action="qt.defect.update",
        target=defect,
        summary=f"{defect.reference} changed on {application.reference}",
        before=before,
        after=after,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if severity <= DefectSeverity.HIGH:
        notify(
            recipients=qt_assurers(task),
            subject=f"Defect changed: {defect.reference} (severity {severity}) on {application.reference}",
            body=f"{actor_name(actor)} changed {defect.reference} “{title}” ({DefectSeverity(severity).label}) on "
            f"{describe_application(application)}.",
            link=defect_link(application.pk, defect.pk),
            application=application,
            exclude=actor,
        )
    return defect


@transaction.atomic
def defect_status_change(*, actor: Any, application_id: int, defect_id: int, status: str, comment: str = "") -> Defect:
    """Move a defect along its life (see `DEFECT_TRANSITIONS`): the participant, or Testing Assurance.
    The change and its comment are added to the defect's thread. When Testing Assurance changes it the
    participant is told; when the participant changes a critical or high defect, Testing Assurance is."""
    application, task = _lock(actor, application_id)
    by_assurer = _defect_party(actor, task)
    defect = _defect(application, defect_id)
    if status not in DefectStatus.values:
        raise InvalidInput("Choose the defect's new status.", details={"field": "status"})
    comment, problem = _text(comment, field_name="comment", label="The comment", limit=MAX_COMMENT_LENGTH)
    if problem:
        raise InvalidInput(problem.message, details={"field": "comment"})
    current, target = DefectStatus(defect.status), DefectStatus(status)
    if (current, target) not in DEFECT_TRANSITIONS:
        raise InvalidTransition(
            f"{defect.reference} is {current.label.lower()}, so it cannot be made {target.label.lower()}.",
            details={"status": current.value},
        )
    if DEFECT_TRANSITIONS[(current, target)] and not comment:
        raise InvalidInput(
            f"Say why {defect.reference} is to be made {target.label.lower()}.", details={"field": "comment"}
        )
    before = _defect_snapshot(defect)
    defect.status = target
    defect.closed_at = timezone.now() if target == DefectStatus.CLOSED else None
    defect.save(update_fields=["status", "closed_at", "updated_at"])
    DefectEntry.objects.create(defect=defect, author=actor, from_status=current, to_status=target, text=comment)
    audit_record(
        actor=actor,
        action="qt.defect.status",
        target=defect,
        summary=f"{defect.reference} on {application.reference}: {current.label.lower()} → {target.label.lower()}",
        before=before,
        after={**_defect_snapshot(defect), "comment": comment},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    body = (
        f"{actor_name(actor)} changed {defect.reference} “{defect.title}” on {describe_application(application)} from "
        f"{current.label.lower()} to {target.label.lower()}." + (f"\n\n{comment}" if comment else "")
    )
    recipients = _participants(application) if by_assurer else []
    if not by_assurer and defect.severity <= DefectSeverity.HIGH:
        recipients = qt_assurers(task)
    notify(
        recipients=recipients,
        subject=f"{defect.reference} {target.label.lower()} on {application.reference}",
        body=body,
        link=defect_link(application.pk, defect.pk),
        application=application,
        exclude=actor,
    )
    return defect


@transaction.atomic
def defect_comment(*, actor: Any, application_id: int, defect_id: int, text: str) -> DefectEntry:
    """Add a comment to a defect's thread (the participant or Testing Assurance); the other side is told."""
    application, task = _lock(actor, application_id)
    by_assurer = _defect_party(actor, task)
    defect = _defect(application, defect_id)
    text, problem = _text(text, field_name="comment", label="The comment", limit=MAX_COMMENT_LENGTH)
    if problem:
        raise InvalidInput(problem.message, details={"field": "comment"})
    if not text:
        raise InvalidInput("Enter the comment.", details={"field": "comment"})
    entry = DefectEntry.objects.create(defect=defect, author=actor, text=text)
    audit_record(
        actor=actor,
        action="qt.defect.comment",
        target=defect,
        summary=f"Comment on {defect.reference} on {application.reference}",
        after={"defect": defect.reference, "comment": text},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_participants(application) if by_assurer else qt_assurers(task),
        subject=f"Comment on {defect.reference} on {application.reference}",
        body=f"{actor_name(actor)} commented on {defect.reference} “{defect.title}” on "
        f"{describe_application(application)}:\n\n{text}",
        link=defect_link(application.pk, defect.pk),
        application=application,
        exclude=actor,
    )
    return entry


def _defect_party(actor: Any, task: Task) -> bool:
    """Refuse unless the actor may act on defects now; answer whether they act as an assurer."""
    if works_on_qt(actor, task):
        _refuse(defect_work_refusal(actor, task))
        return False
    if assures_qt(actor, task):
        _refuse(defect_review_refusal(actor, task))
        return True
    raise PermissionDenied("Only the applying organisation and Testing Assurance can change defects.")


def _check_defect(application: Application, fields: DefectFields) -> tuple[str, str, int, list[TestExecution]]:
    problems: list[Problem] = []
    title, problem = _text(fields.title, field_name="title", label="The title", limit=MAX_TITLE_LENGTH)
    if problem:
        problems.append(problem)
    elif not title:
        problems.append(Problem("title", "Enter a title that says what is wrong."))
    description, problem = _text(
        fields.description, field_name="description", label="The description", limit=MAX_DESCRIPTION_LENGTH
    )
    if problem:
        problems.append(problem)
    severity = fields.severity
    if isinstance(severity, str) and severity.strip().isdigit():
        severity = int(severity.strip())
    if not isinstance(severity, int) or isinstance(severity, bool) or severity not in DefectSeverity.values:
        problems.append(Problem("severity", "Choose the severity: 1 (critical), 2 (high), 3 (medium) or 4 (low)."))
        severity = 0
    ids: list[int] = []
    for value in fields.execution_ids:
        number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_ID:
            problems.append(Problem("executions", "Choose the test runs the defect was found in from the list."))
            break
        if number not in ids:
            ids.append(number)
    if len(ids) > MAX_LINKED_EXECUTIONS:
        problems.append(Problem("executions", f"Link {MAX_LINKED_EXECUTIONS} test runs or fewer to one defect."))
    executions = list(TestExecution.objects.filter(application=application, pk__in=ids)) if ids else []
    if len(executions) != len(ids) and not any(p.field == "executions" for p in problems):
        problems.append(Problem("executions", "A defect can only be linked to test runs of this application."))
    _raise_problems(problems, "The defect cannot be saved")
    return title, description, int(severity), executions


def _defect(application: Application, defect_id: int) -> Defect:
    defect = Defect.objects.select_for_update().filter(application=application, pk=defect_id).first()
    if defect is None:
        raise NotFound("This application has no defect with that reference.")
    defect.application = application
    return defect


def _defect_snapshot(defect: Defect) -> dict[str, Any]:
    return {
        "reference": defect.reference,
        "title": defect.title,
        "description": defect.description,
        "severity": defect.severity,
        "status": defect.status,
        "executions": sorted(defect.executions.values_list("pk", flat=True)),
    }


# --- links -------------------------------------------------------------------------------------------


def execution_link(application_id: int, execution_id: int) -> str:
    return f"/applications/{application_id}/qt/executions/{execution_id}/"


def executions_link(application_id: int) -> str:
    return f"/applications/{application_id}/qt/executions/"


def defect_link(application_id: int, defect_id: int) -> str:
    return f"/applications/{application_id}/qt/defects/{defect_id}/"


def report_link(application_id: int) -> str:
    return f"/applications/{application_id}/qt/report/"


# --- internals -----------------------------------------------------------------------------------------


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=QT_TASK,
        missing="This application has no Qualification Testing task.",
    )


def _refuse(refusal: Exception | None) -> None:
    if refusal is not None:
        raise refusal


def _raise_problems(problems: list[Problem], heading: str) -> None:
    if not problems:
        return
    message = problems[0].message if len(problems) == 1 else f"{heading}: {len(problems)} things need correcting."
    raise InvalidInput(message, details={"field": problems[0].field, "errors": [p.as_dict() for p in problems]})


# Unicode's control characters (category Cc: U+0000–001F, U+007F–009F) and surrogates (Cs) other than the
# tab and line breaks, as one pattern: the same test as asking each character's category, made in C.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _text(value: Any, *, field_name: str, label: str, limit: int) -> tuple[str, Problem | None]:
    """Free text a user wrote: trimmed, bounded, and without control characters other than line breaks
    and tabs (no database stores a NUL, and none belongs in a record people read)."""
    if value is None:
        return "", None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return "", Problem(field_name, f"{label} must be text.")
    text = str(value).strip()
    if len(text) > limit:
        return "", Problem(field_name, f"{label} must be {limit:,} characters or fewer.")
    if _CONTROL_CHARACTERS.search(text):
        return "", Problem(field_name, f"{label} contains control characters; remove them and try again.")
    return text, None


def _check_files(files: Sequence[Any]) -> None:
    for upload in files:
        try:
            check_evidence_file(upload)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, details={**exc.details, "field": "files"}) from exc


def qt_assurers(task: Task) -> list[Any]:
    roles = {Role(name) for name in task.definition.assurer_roles if name in Role.values} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _participants(application: Application) -> list[Any]:
    return list(organisation_users(application.organisation_id))


def describe_application(application: Application) -> str:
    return (
        f"{application.reference} ({application.organisation.name}, {application.mpid.code} as "
        f"{application.market_role.name})"
    )


def _when(execution: TestExecution) -> str:
    return date_format(timezone.localtime(execution.executed_at), "j F Y, H:i")


def actor_name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))


def _printable(text: str, limit: int = 40) -> str:
    cleaned = "".join(ch for ch in text if ch.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
