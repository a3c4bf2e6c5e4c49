import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet
from django.utils import timezone

from portal.accounts.selectors import user_organisation_ids
from portal.core.calendar import is_working_day
from portal.core.errors import InvalidInput, NotFound
from portal.documents.models import (
    Clarification,
    ClarificationMessage,
    Declaration,
    DirectorSignature,
    EvidenceFile,
    QadAnswer,
    QadQuestion,
    QadReviewHold,
    QadSection,
    QadSubmission,
    QadTemplate,
    SigningDelegate,
)
from portal.documents.permissions import can_read_qad, is_participant_of
from portal.documents.workflow import (
    EDITABLE_TASK_STATES,
    SIGNOFF_TASK,
    TASK_FOR_KIND,
    UNRESOLVED,
    ReviewHolder,
    SignatureStatus,
    SubmissionStatus,
    TemplateStatus,
)
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for


def evidence_scope_for(user: Any) -> QuerySet[EvidenceFile]:
    """Evidence of the applications the user may see; anything else answers 404."""
    return EvidenceFile.objects.filter(application__in=application_scope_for(user))


def evidence_for_application(*, user: Any, application_id: int, purpose: str | None = None) -> QuerySet[EvidenceFile]:
    qs = evidence_scope_for(user).filter(application_id=application_id).select_related("uploaded_by")
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    return qs


# --- the QAD -------------------------------------------------------------------------------------


def qad_application_get(*, user: Any, application_id: int) -> Application:
    """The application whose QAD the user may read, or NotFound (also for another organisation's
    application, and for staff whose body does not read QADs)."""
    application = (
        application_scope_for(user)
        .select_related("organisation", "mpid", "market_role__role_group", "route")
        .filter(pk=application_id)
        .first()
    )
    if application is None or not can_read_qad(user, application):
        raise NotFound("No application was found with that reference.")
    return application


def qad_task(application: Application, kind: str) -> Task:
    """The application's Initial or Final QAD task (NotFound when its route has none)."""
    code = TASK_FOR_KIND.get(kind)
    task = (
        Task.objects.select_related("definition").filter(application=application, code=code).first() if code else None
    )
    if task is None:
        raise NotFound("That application has no such QAD.")
    task.application = application
    return task


def signoff_task(application: Application) -> Task | None:
    task = Task.objects.select_related("definition").filter(application=application, code=SIGNOFF_TASK).first()
    if task is not None:
        task.application = application
    return task


def template_active() -> QadTemplate | None:
    return QadTemplate.objects.filter(status=TemplateStatus.ACTIVE).first()


def template_get(*, version: str | None = None) -> QadTemplate:
    """A template by version, or the active one; NotFound if there is none."""
    qs = QadTemplate.objects.all()
    template = qs.filter(version=version).first() if version else qs.filter(status=TemplateStatus.ACTIVE).first()
    if template is None:
        raise NotFound("No QAD template was found." if version else "No QAD template is active.")
    return template


def template_sections(
    template: QadTemplate, *, role_group_id: int | None = None
) -> list[tuple[QadSection, list[QadQuestion]]]:
    """The template's sections with their questions, in order; with `role_group_id`, only the
    questions that role group answers (and only sections that have any)."""
    questions = QadQuestion.objects.filter(template=template).select_related("section").prefetch_related("role_groups")
    by_section: dict[int, list[QadQuestion]] = {}
    for question in questions.order_by("order"):
        if role_group_id is not None and role_group_id not in {g.pk for g in question.role_groups.all()}:
            continue
        by_section.setdefault(question.section_id, []).append(question)
    return [
        (section, by_section[section.pk])
        for section in QadSection.objects.filter(template=template).order_by("order")
        if section.pk in by_section or role_group_id is None
    ]


def template_questions(template: QadTemplate, *, role_group_id: int) -> list[QadQuestion]:
    return [q for _, questions in template_sections(template, role_group_id=role_group_id) for q in questions]


def qad_versions(*, user: Any, application: Application, kind: str) -> list[QadSubmission]:
    """Every version of one QAD the user may see, newest first: the participant sees its draft too;
    reviewers see submitted versions only."""
    qs = QadSubmission.objects.filter(application=application, kind=kind).select_related(
        "template", "created_by", "submitted_by"
    )
    if not is_participant_of(user, application):
        qs = qs.exclude(status=SubmissionStatus.DRAFT)
    versions = list(qs.order_by("-version"))
    for version in versions:
        version.application = application
    return versions


def qad_version_get(*, user: Any, application: Application, kind: str, version: int) -> QadSubmission:
    for submission in qad_versions(user=user, application=application, kind=kind):
        if submission.version == version:
            return submission
    raise NotFound(f"There is no version {version} of this QAD that you can see.")


def qad_current(*, user: Any, application: Application, kind: str) -> QadSubmission | None:
    """The version a user works on: the participant's draft, or else the latest version they see."""
    versions = qad_versions(user=user, application=application, kind=kind)
    return versions[0] if versions else None


def qad_latest_submitted(application: Application, kind: str) -> QadSubmission | None:
    submission = (
        QadSubmission.objects.filter(application=application, kind=kind, status=SubmissionStatus.SUBMITTED)
        .select_related("template")
        .order_by("-version")
        .first()
    )
    if submission is not None:
        submission.application = application
    return submission


def qad_answers(submission: QadSubmission) -> dict[int, QadAnswer]:
    """The answers of a version by question id, with their evidence."""
    answers = (
        QadAnswer.objects.filter(submission=submission)
        .select_related("question", "updated_by")
        .prefetch_related("evidence")
    )
    return {a.question_id: a for a in answers}


@dataclass(frozen=True)
class MissingItem:
    number: str
    what: str  # "answer" or "evidence"

    @property
    def message(self) -> str:
        return f"{self.number}: {'attach the evidence expected' if self.what == 'evidence' else 'answer the question'}"


def qad_missing(submission: QadSubmission, *, role_group_id: int) -> list[MissingItem]:
    """What still stops a version being submitted: every question the role group answers needs an
    answer, and evidence where evidence is expected."""
    answers = qad_answers(submission)
    missing = []
    for question in template_questions(submission.template, role_group_id=role_group_id):
        answer = answers.get(question.pk)
        if answer is None or not answer.text.strip():
            missing.append(MissingItem(question.number, "answer"))
        elif question.evidence_expected and not answer.evidence.all():
            missing.append(MissingItem(question.number, "evidence"))
    return missing


@dataclass(frozen=True)
class SectionProgress:
    section: QadSection
    questions: list[QadQuestion]
    answered: int
    complete: int

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def status(self) -> str:
        if self.complete == self.total:
            return "completed"
        return "in_progress" if self.answered else "not_started"


def qad_progress(submission: QadSubmission, *, role_group_id: int) -> list[SectionProgress]:
    answers = qad_answers(submission)
    result = []
    for section, questions in template_sections(submission.template, role_group_id=role_group_id):
        answered = complete = 0
        for question in questions:
            answer = answers.get(question.pk)
            if answer is not None and answer.text.strip():
                answered += 1
                if not question.evidence_expected or answer.evidence.all():
                    complete += 1
        result.append(SectionProgress(section, questions, answered, complete))
    return result


# --- what changed between two versions -------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    number: str
    section: str
    question: str
    change: str  # unchanged, changed, added or removed
    before: str
    after: str
    segments: list[tuple[str, str]]
    evidence_added: list[EvidenceFile]
    evidence_removed: list[EvidenceFile]
    evidence_kept: list[EvidenceFile]

    @property
    def text_changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class QadDiff:
    old: QadSubmission
    new: QadSubmission
    rows: list[DiffRow]

    @property
    def changed(self) -> list[DiffRow]:
        return [row for row in self.rows if row.change != "unchanged"]


# A word with the spaces before it: differences read as whole words, not as shared spaces.
_TOKENS = re.compile(r"\s*\S+|\s+")


def text_segments(before: str, after: str) -> list[tuple[str, str]]:
    """Word-level differences: ("equal" | "delete" | "insert", text) in reading order."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    segments: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("equal", "".join(old[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(("delete", "".join(old[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(("insert", "".join(new[j1:j2])))
    return [s for s in segments if s[1]]


def qad_diff(*, user: Any, application: Application, kind: str, old_version: int, new_version: int) -> QadDiff:
    """What changed between two versions of one QAD, question by question (matched by question
    number, so versions written against different template versions compare too)."""
    if old_version == new_version:
        raise InvalidInput("Choose two different versions to compare.", details={"field": "old"})
    old = qad_version_get(user=user, application=application, kind=kind, version=old_version)
    new = qad_version_get(user=user, application=application, kind=kind, version=new_version)
    role_group_id = application.market_role.role_group_id
    old_answers = {a.question.number: a for a in qad_answers(old).values()}
    new_answers = {a.question.number: a for a in qad_answers(new).values()}
    questions: dict[str, QadQuestion] = {}
    for template in (new.template, old.template):
        for question in template_questions(template, role_group_id=role_group_id):
            questions.setdefault(question.number, question)
    for answers in (new_answers, old_answers):
        for number, answer in answers.items():
            questions.setdefault(number, answer.question)
    rows = []
    for number, question in sorted(questions.items(), key=lambda item: _number_key(item[0])):
        before_answer, after_answer = old_answers.get(number), new_answers.get(number)
        before = before_answer.text if before_answer else ""
        after = after_answer.text if after_answer else ""
        before_files = {e.pk: e for e in before_answer.evidence.all()} if before_answer else {}
        after_files = {e.pk: e for e in after_answer.evidence.all()} if after_answer else {}
        added = [after_files[k] for k in sorted(after_files.keys() - before_files.keys())]
        removed = [before_files[k] for k in sorted(before_files.keys() - after_files.keys())]
        kept = [after_files[k] for k in sorted(after_files.keys() & before_files.keys())]
        if before_answer is None and after_answer is not None and after:
            change = "added"
        elif after_answer is None and before_answer is not None and before:
            change = "removed"
        elif before != after or added or removed:
            change = "changed"
        else:
            change = "unchanged"
        rows.append(
            DiffRow(
                number=number,
                section=question.section.number,
                question=question.text,
                change=change,
                before=before,
                after=after,
                segments=text_segments(before, after) if before != after else [],
                evidence_added=added,
                evidence_removed=removed,
                evidence_kept=kept,
            )
        )
    return QadDiff(old=old, new=new, rows=rows)


def _number_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


# --- clarifications and the review clock ---------------------------------------------------------


def clarifications_for(*, application: Application, kind: str | None = None) -> QuerySet[Clarification]:
    """The clarifications on an application's QADs (the caller has checked the user may read it)."""
    qs = Clarification.objects.filter(submission__application=application).select_related(
        "submission", "question__section", "raised_by", "closed_by"
    )
    if kind:
        qs = qs.filter(submission__kind=kind)
    return qs.order_by("-raised_at", "-id")


def clarification_get(*, user: Any, clarification_id: int) -> Clarification:
    clarification = (
        Clarification.objects.select_related("submission__template", "question__section", "raised_by", "closed_by")
        .filter(pk=clarification_id)
        .first()
    )
    if clarification is None:
        raise NotFound("No clarification was found with that reference.")
    application = qad_application_get(user=user, application_id=clarification.submission.application_id)
    clarification.submission.application = application
    return clarification


def clarification_messages(clarification: Clarification) -> QuerySet[ClarificationMessage]:
    return clarification.messages.select_related("author").order_by("created_at", "id")


@dataclass(frozen=True)
class ReviewClock:
    """How long a submitted version has been in each party's hands while under review."""

    code_bodies: timedelta
    participant: timedelta
    code_bodies_working: timedelta
    participant_working: timedelta
    holder: ReviewHolder
    since: datetime | None

    @property
    def running(self) -> bool:
        return self.holder != ReviewHolder.NOBODY


def review_clock(submission: QadSubmission, *, now: datetime | None = None) -> ReviewClock:
    """Sum the intervals between the version's hold changes, per holder, up to `now` while the
    review is still running. Working time counts only working days (Monday to Friday, not bank
    holidays in England and Wales), in UK time."""
    now = now or timezone.now()
    holds = list(QadReviewHold.objects.filter(submission=submission).order_by("at", "id"))
    totals = {ReviewHolder.CODE_BODIES: timedelta(), ReviewHolder.PARTICIPANT: timedelta()}
    working = {ReviewHolder.CODE_BODIES: timedelta(), ReviewHolder.PARTICIPANT: timedelta()}
    for current, following in zip(holds, [*holds[1:], None], strict=True):
        holder = ReviewHolder(current.holder)
        if holder == ReviewHolder.NOBODY:
            continue
        end = following.at if following is not None else now
        if end <= current.at:
            continue
        totals[holder] += end - current.at
        working[holder] += working_time(current.at, end)
    last = holds[-1] if holds else None
    return ReviewClock(
        code_bodies=totals[ReviewHolder.CODE_BODIES],
        participant=totals[ReviewHolder.PARTICIPANT],
        code_bodies_working=working[ReviewHolder.CODE_BODIES],
        participant_working=working[ReviewHolder.PARTICIPANT],
        holder=ReviewHolder(last.holder) if last else ReviewHolder.NOBODY,
        since=last.at if last else None,
    )


def working_time(start: datetime, end: datetime) -> timedelta:
    """The part of [start, end) that falls on working days, in UK time."""
    zone = timezone.get_default_timezone()
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    total = timedelta()
    day = start_local.date()
    while day <= end_local.date():
        day_start = datetime.combine(day, time.min, tzinfo=zone)
        next_start = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        low, high = max(start_local, day_start), min(end_local, next_start)
        if high > low and is_working_day(day):
            total += high.astimezone(UTC) - low.astimezone(UTC)
        day += timedelta(days=1)
    return total


# --- signatures and delegates ----------------------------------------------------------------------


def declaration_current() -> Declaration:
    declaration = Declaration.objects.filter(is_current=True).first()
    if declaration is None:
        raise NotFound("No declaration is in force; an administrator must publish one.")
    return declaration


def signatures_for(application: Application) -> list[DirectorSignature]:
    signatures = list(
        DirectorSignature.objects.filter(application=application)
        .select_related("signer", "submission__template", "declaration")
        .order_by("-signed_at", "-id")
    )
    for signature in signatures:
        signature.application = application
        signature.submission.application = application
    return signatures


def signature_valid(application: Application) -> DirectorSignature | None:
    return next((s for s in signatures_for(application) if s.status == SignatureStatus.VALID), None)


def signature_get(*, user: Any, signature_id: int) -> DirectorSignature:
    signature = DirectorSignature.objects.filter(pk=signature_id).only("application_id").first()
    if signature is None:
        raise NotFound("No signature was found with that reference.")
    application = qad_application_get(user=user, application_id=signature.application_id)
    for candidate in signatures_for(application):
        if candidate.pk == signature_id:
            return candidate
    raise NotFound("No signature was found with that reference.")


def signing_delegates(*, user: Any, organisation_id: int, include_revoked: bool = False) -> QuerySet[SigningDelegate]:
    """An organisation's signing delegates, for its own members; NotFound for anyone else."""
    if organisation_id not in user_organisation_ids(user):
        raise NotFound("No organisation was found with that reference.")
    qs = SigningDelegate.objects.filter(organisation_id=organisation_id).select_related(
        "user", "granted_by", "revoked_by"
    )
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs.order_by("-granted_at", "-id")


def qad_editable(*, user: Any, application: Application, task: Task) -> bool:
    """May the user write the draft of this QAD now?"""
    return is_participant_of(user, application) and not application.is_closed and task.state in EDITABLE_TASK_STATES


def unresolved_clarifications(submission: QadSubmission) -> dict[int, int]:
    """How many unresolved clarifications each question of a version has, by question id."""
    counts: dict[int, int] = {}
    for question_id in Clarification.objects.filter(
        submission=submission, status__in=[s.value for s in UNRESOLVED]
    ).values_list("question_id", flat=True):
        counts[question_id] = counts.get(question_id, 0) + 1
    return counts


def has_second_factor(user: Any) -> bool:
    """Has the user set up an authenticator app (so that signing asks for its code too)?"""
    return (
        bool(user is not None and user.is_authenticated)
        and Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


def evidence_visible(*, user: Any, evidence_id: int) -> bool:
    """May the user download this evidence file? Within the application's scope; and a file of a QAD
    only for those who read QADs (the BSC PAB, for one, sees a summary and not the QAD's evidence)."""
    evidence = evidence_scope_for(user).select_related("application").filter(pk=evidence_id).first()
    if evidence is None:
        return False
    if evidence.purpose.startswith("qad:") or evidence.qad_answers.exists():
        return can_read_qad(user, evidence.application)
    return True
