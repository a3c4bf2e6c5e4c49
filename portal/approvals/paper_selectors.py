"""Reads of the BSC PAB's agenda, recommendations, summary papers, meeting packs and qualification
letters, already scoped to the user; and who may do what with them.

Who reads and does what:

- **Papers and packs** are the Board's: the PAB secretary, chair and members read them, and so do the
  Elexon analysts and the QSP who prepare them, and administrators. Nobody else does: for anyone else
  (a participant above all) a paper answers 404, exactly like a missing one. Within that, the
  applications follow `application_scope_for` as everywhere.
- **Elexon analysts and the QSP** record the Elexon recommendation and prepare the summary paper.
- **The PAB secretary or an Elexon analyst** asks for the meeting pack.
- **Qualification letters**: the Board's readers above read every letter, drafts included; the PAB
  Chair issues them (and the secretary or the chair may have a draft generated again). Once issued, a
  letter is also read by the Service Activation team and by the participant it is addressed to.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Value

from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.accounts.selectors import user_roles
from portal.approvals.models import (
    ApprovalDecision,
    GenerationStatus,
    LetterStatus,
    MeetingStatus,
    PabMeeting,
    PabPack,
    PabPaper,
    PabRecommendation,
    PabTarget,
    QualificationLetter,
)
from portal.approvals.permissions import PAB_TASK
from portal.core.errors import NotFound
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application, Task
from portal.qualification.permissions import application_scope_for
from portal.qualification.workflow import CLOSED_STATUSES, TaskState

PAPER_READERS = frozenset(
    {Role.PAB_SECRETARY, Role.PAB_CHAIR, Role.PAB_MEMBER, Role.ELEXON_ANALYST, Role.QSP, Role.ADMINISTRATOR}
)
PRESENTERS = frozenset({Role.ELEXON_ANALYST, Role.QSP})
PACK_REQUESTERS = frozenset({Role.PAB_SECRETARY, Role.ELEXON_ANALYST})
LETTER_ISSUERS = frozenset({Role.PAB_CHAIR})
LETTER_REGENERATORS = frozenset({Role.PAB_CHAIR, Role.PAB_SECRETARY})
# Read issued letters only (the participant only its own organisation's, through the scope).
ISSUED_LETTER_READERS = frozenset({Role.SERVICE_ACTIVATION, *PARTICIPANT_ROLES})
BOARD = frozenset({Role.PAB_SECRETARY, Role.PAB_CHAIR, Role.PAB_MEMBER})

PAPER_NOT_FOUND = "No summary paper was found at that address."
LETTER_NOT_FOUND = "No qualification letter was found with that reference."
# How many items of a meeting's agenda its page shows at a time.
AGENDA_PAGE_SIZE = 25
# The order of the agenda: by organisation, then MPID and market role.
AGENDA_ORDER = ("organisation__name", "mpid__code", "market_role__order", "pk")


def reads_papers(user: Any) -> bool:
    return bool(user_roles(user) & PAPER_READERS)


def presents(user: Any) -> bool:
    return bool(user_roles(user) & PRESENTERS)


def requests_packs(user: Any) -> bool:
    return bool(user_roles(user) & PACK_REQUESTERS)


def issues_letters(user: Any) -> bool:
    return bool(user_roles(user) & LETTER_ISSUERS)


def regenerates_letters(user: Any) -> bool:
    return bool(user_roles(user) & LETTER_REGENERATORS)


def reads_letters(user: Any) -> bool:
    return bool(user_roles(user) & (PAPER_READERS | ISSUED_LETTER_READERS))


def _closed() -> list[str]:
    return [s.value for s in CLOSED_STATUSES]


def meeting_get(meeting_id: int) -> PabMeeting:
    """Meetings are not confidential: any signed-in user may know one exists."""
    meeting = PabMeeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("No BSC PAB meeting was found with that reference.")
    return meeting


# --- the agenda ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRow:
    number: int
    application: Application
    # The application's current target, when it is at this meeting (else it was decided here and moved
    # on or closed: deferred to a later meeting, or rejected).
    target: PabTarget | None
    # The Board's own reading: None for users who do not read papers.
    recommendation: PabRecommendation | None = None
    paper: PabPaper | None = None  # the latest version, whatever its status
    ready_paper: PabPaper | None = None  # the latest version that is ready to read
    # The latest decision of the Board at this meeting, if any. The decisions' owner adds the link to
    # record one (`approvals:pab_decision`, meeting id and application id) in the row's last cell.
    decision: ApprovalDecision | None = None

    @property
    def on_agenda(self) -> bool:
        return self.target is not None


@dataclass(frozen=True)
class Agenda:
    meeting: PabMeeting
    rows: list[AgendaRow]
    reads_papers: bool = False
    can_prepare: bool = False
    can_request_pack: bool = False
    pack: PabPack | None = None  # the latest version, whatever its status
    ready_pack: PabPack | None = None  # the latest ready version
    reads_letters: bool = False
    # When the agenda is shown a page at a time: the page of `rows` (numbered from its position in the
    # whole agenda), the number of applications on the whole agenda, and how many of them have a
    # ready summary paper (for those who read the Board's papers).
    page: Page[Application] | None = None
    total: int | None = None
    ready_total: int | None = None

    @property
    def papers_ready(self) -> int:
        if self.ready_total is not None:
            return self.ready_total
        return sum(1 for row in self.rows if row.ready_paper is not None)

    @property
    def count(self) -> int:
        """How many applications the whole agenda holds (every page)."""
        return self.total if self.total is not None else len(self.rows)


def agenda_rows(meeting: PabMeeting, *, scope: QuerySet[Application] | None, board: bool) -> list[AgendaRow]:
    """The applications on the meeting's agenda: those whose current target is the meeting (open ones),
    and those the Board decided at it (a deferred application has moved on to a later meeting, a
    rejected one is closed, but the meeting still dealt with them). `scope` None: every one (the
    meeting pack); `board`: with the recommendation, the papers and the decision.

    Every row at once (the meeting pack, the reports); the meeting page reads a page at a time
    (`meeting_agenda` with a page). A fixed number of queries, whatever the number of applications."""
    return agenda_rows_of(meeting, list(agenda_applications(meeting, scope=scope)), board=board)


@dataclass(frozen=True)
class AgendaIds:
    """The ids of the applications on a meeting's agenda (before the user's scope), and of those with a
    ready summary paper for it."""

    targeted: frozenset[int]
    decided: frozenset[int]
    ready: frozenset[int]


def _agenda_ids(meeting: PabMeeting) -> AgendaIds:
    """One query on the meeting's indexes of targets, decisions and papers."""
    targeted, decided, ready = 0, 1, 2
    found: dict[int, set[int]] = {targeted: set(), decided: set(), ready: set()}
    rows = (
        PabTarget.objects.filter(meeting=meeting, is_current=True)
        .order_by()
        .annotate(kind=Value(targeted))
        .values_list("application_id", "kind")
        .union(
            ApprovalDecision.objects.filter(meeting=meeting, body=ApprovalBody.BSC_PAB)
            .order_by()
            .annotate(kind=Value(decided))
            .values_list("application_id", "kind"),
            PabPaper.objects.filter(meeting=meeting, status=GenerationStatus.READY)
            .order_by()
            .annotate(kind=Value(ready))
            .values_list("application_id", "kind"),
        )
    )
    for application_id, kind in rows:
        found[kind].add(application_id)
    return AgendaIds(frozenset(found[targeted]), frozenset(found[decided]), frozenset(found[ready]))


def agenda_applications(
    meeting: PabMeeting, *, scope: QuerySet[Application] | None, ids: AgendaIds | None = None
) -> QuerySet[Application]:
    """The applications on the meeting's agenda (the same as `agenda_rows`: the open ones currently
    targeted at it, and those the Board decided at it), in the agenda's order, as a query to be read a
    page at a time. `scope` None: every one.

    The meeting's application ids are read first (`ids`, else one query on the meeting's indexes), so
    that the applications are then looked up by their keys rather than every application read to
    match them."""
    ids = ids or _agenda_ids(meeting)
    applications = scope if scope is not None else Application.objects.all()
    if not ids.targeted and not ids.decided:
        return applications.none()
    # An application closed since it was targeted is no longer on the agenda, unless decided here.
    condition = Q(pk__in=sorted(ids.decided)) | (
        Q(pk__in=sorted(ids.targeted - ids.decided)) & ~Q(status__in=_closed())
    )
    return (
        applications.filter(condition)
        .select_related("organisation", "mpid", "market_role", "route")
        .order_by(*AGENDA_ORDER)
    )


def agenda_rows_of(
    meeting: PabMeeting,
    applications: list[Application],
    *,
    board: bool,
    start: int = 1,
    decided: frozenset[int] | None = None,
) -> list[AgendaRow]:
    """The agenda rows of these applications of the meeting's agenda (one page of it), numbered from
    `start`; `decided`, when known, the applications the Board decided at the meeting (the decisions
    are not looked for when none of these is). A fixed number of queries, whatever the size of the
    page or of the agenda."""
    if not applications:
        return []
    ids = [application.pk for application in applications]
    # A closed application's target no longer puts it on the agenda (it is here for its decision).
    open_ids = [application.pk for application in applications if not application.is_closed]
    target_by_app = (
        {
            t.application_id: t
            for t in PabTarget.objects.filter(meeting=meeting, is_current=True, application_id__in=open_ids).order_by()
        }
        if open_ids
        else {}
    )
    latest_decision: dict[int, ApprovalDecision] = {}
    if decided is None or not decided.isdisjoint(ids):
        for decision in (
            ApprovalDecision.objects.filter(meeting=meeting, body=ApprovalBody.BSC_PAB, application_id__in=ids)
            .select_related("recorded_by")
            .order_by("recorded_at", "id")
        ):
            latest_decision[decision.application_id] = decision
    recommendations: dict[int, PabRecommendation] = {}
    papers: dict[int, PabPaper] = {}
    ready: dict[int, PabPaper] = {}
    if board:
        for recommendation in PabRecommendation.objects.filter(
            meeting=meeting, application_id__in=ids, is_current=True
        ).select_related("recommended_by"):
            recommendations[recommendation.application_id] = recommendation
        for paper in (
            PabPaper.objects.filter(meeting=meeting, application_id__in=ids)
            .defer("content")
            .select_related("prepared_by")
            .order_by("application_id", "-version")
        ):
            papers.setdefault(paper.application_id, paper)
            if paper.status == GenerationStatus.READY:
                ready.setdefault(paper.application_id, paper)
    return [
        AgendaRow(
            number=number,
            application=application,
            target=target_by_app.get(application.pk),
            recommendation=recommendations.get(application.pk),
            paper=papers.get(application.pk),
            ready_paper=ready.get(application.pk),
            decision=latest_decision.get(application.pk),
        )
        for number, application in enumerate(applications, start=start)
    ]


def latest_packs(meeting: PabMeeting) -> tuple[PabPack | None, PabPack | None]:
    """The meeting's latest pack, whatever its status, and its latest ready one."""
    packs = PabPack.objects.filter(meeting=meeting).select_related("requested_by").order_by("-version")
    latest = packs.first()
    if latest is None or latest.status == GenerationStatus.READY:
        return latest, latest
    return latest, packs.filter(status=GenerationStatus.READY).first()


def meeting_agenda(*, user: Any, meeting_id: int, page: int | str | None = None) -> Agenda:
    """The agenda of a meeting as the user may see it: only the applications in their scope; the
    recommendation, the papers and the pack only for those who read the Board's papers.

    With `page` (a page number; anything unreadable is the first page, past the end the last), one
    page of `AGENDA_PAGE_SIZE` applications, with the size of the whole agenda and how many of its
    papers are ready: a fixed number of queries and rows, whatever the size of the agenda. Without,
    every application on it."""
    meeting = meeting_get(meeting_id)
    board = reads_papers(user)
    scope = application_scope_for(user)
    shown: Page[Application] | None = None
    total: int | None = None
    ready_total: int | None = None
    if page is None:
        rows = agenda_rows(meeting, scope=scope, board=board)
    else:
        ids = _agenda_ids(meeting)
        # The page's rows need no route (the full agenda's, for the meeting pack, do).
        applications = agenda_applications(meeting, scope=scope, ids=ids).select_related(None)
        shown = Paginator(
            applications.select_related("organisation", "mpid", "market_role"), AGENDA_PAGE_SIZE
        ).get_page(page)
        total = shown.paginator.count
        rows = agenda_rows_of(
            meeting, list(shown.object_list), board=board, start=shown.start_index(), decided=ids.decided
        )
        if board:
            # On one page, the rows tell; else the ready papers of the agenda's applications in scope.
            ready_total = (
                sum(1 for row in rows if row.ready_paper is not None)
                if total == len(rows)
                else applications.filter(pk__in=sorted(ids.ready)).count()
                if ids.ready
                else 0
            )
    pack, ready_pack = latest_packs(meeting) if board else (None, None)
    open_meeting = meeting.status == MeetingStatus.SCHEDULED
    return Agenda(
        meeting=meeting,
        rows=rows,
        reads_papers=board,
        can_prepare=board and presents(user) and open_meeting,
        can_request_pack=board and requests_packs(user) and meeting.status != MeetingStatus.CANCELLED,
        pack=pack,
        ready_pack=ready_pack,
        reads_letters=reads_letters(user),
        page=shown,
        total=total,
        ready_total=ready_total,
    )


# --- one application's paper at one meeting ----------------------------------------------------------------


def paper_application(*, user: Any, meeting: PabMeeting, application_id: int) -> Application:
    """The application, when the user reads the Board's papers, may see the application, and the
    application is (or was) targeted at the meeting; else NotFound, the same as a missing one."""
    if not reads_papers(user):
        raise NotFound(PAPER_NOT_FOUND)
    application = (
        application_scope_for(user)
        .select_related("organisation", "mpid", "market_role", "route")
        .filter(pk=application_id)
        .first()
    )
    if application is None or not PabTarget.objects.filter(application=application, meeting=meeting).exists():
        raise NotFound(PAPER_NOT_FOUND)
    return application


def agenda_state_refusal(application: Application, meeting: PabMeeting) -> str:
    """Why the Board's papers on the application at this meeting can no longer change, or ""."""
    if meeting.status == MeetingStatus.CANCELLED:
        return f"The {meeting.title} is cancelled: its papers can no longer change."
    if meeting.status == MeetingStatus.HELD:
        return f"The {meeting.title} has been held: its papers can no longer change."
    if application.is_closed:
        return f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
    if not PabTarget.objects.filter(application=application, meeting=meeting, is_current=True).exists():
        return f"{application.reference} is no longer targeted at the {meeting.title}."
    decided = Task.objects.filter(application=application, code=PAB_TASK, state=TaskState.COMPLETED).exists()
    if decided:
        return f"The BSC PAB has already decided on {application.reference}."
    return ""


@dataclass(frozen=True)
class PaperView:
    meeting: PabMeeting
    application: Application
    recommendation: PabRecommendation | None
    recommendations: list[PabRecommendation]
    papers: list[PabPaper]  # every version, newest first (without their content)
    shown: PabPaper | None  # the version being read, with its content
    can_present: bool = False
    # Why the recommendation and the paper can no longer change (shown to presenters), or "".
    refusal: str = ""
    latest: PabPaper | None = field(default=None)

    @property
    def generating(self) -> bool:
        return self.latest is not None and self.latest.status == GenerationStatus.QUEUED


def paper_view(*, user: Any, meeting_id: int, application_id: int, version: int | None = None) -> PaperView:
    """The recommendation and the summary papers on one application at one meeting: the version asked
    for, else the latest ready one. NotFound for an unknown version."""
    meeting = meeting_get(meeting_id)
    application = paper_application(user=user, meeting=meeting, application_id=application_id)
    recommendations = list(
        PabRecommendation.objects.filter(application=application, meeting=meeting)
        .select_related("recommended_by")
        .order_by("-recommended_at", "-id")
    )
    papers = list(
        PabPaper.objects.filter(application=application, meeting=meeting)
        .defer("content")
        .select_related("prepared_by")
        .order_by("-version")
    )
    if version is not None:
        wanted = next((p for p in papers if p.version == version), None)
        if wanted is None:
            raise NotFound(PAPER_NOT_FOUND)
    else:
        wanted = next((p for p in papers if p.status == GenerationStatus.READY), None)
    shown = PabPaper.objects.select_related("prepared_by").get(pk=wanted.pk) if wanted is not None else None
    can_present = presents(user)
    return PaperView(
        meeting=meeting,
        application=application,
        recommendation=next((r for r in recommendations if r.is_current), None),
        recommendations=recommendations,
        papers=papers,
        shown=shown,
        can_present=can_present,
        refusal=agenda_state_refusal(application, meeting) if can_present else "",
        latest=papers[0] if papers else None,
    )


def paper_version_get(*, user: Any, meeting_id: int, application_id: int, version: int) -> PabPaper:
    """One version of a paper, for its download (NotFound also while it is not ready)."""
    meeting = meeting_get(meeting_id)
    application = paper_application(user=user, meeting=meeting, application_id=application_id)
    paper = (
        PabPaper.objects.filter(application=application, meeting=meeting, version=version)
        .defer("content")
        .select_related("application", "meeting")
        .first()
    )
    if paper is None:
        raise NotFound(PAPER_NOT_FOUND)
    return paper


# --- packs -------------------------------------------------------------------------------------------------


def meeting_packs(*, user: Any, meeting_id: int) -> tuple[PabMeeting, list[PabPack]]:
    """Every pack of the meeting, newest first: for the Board's readers only."""
    meeting = meeting_get(meeting_id)
    if not reads_papers(user):
        raise NotFound("No meeting pack was found at that address.")
    return meeting, list(PabPack.objects.filter(meeting=meeting).select_related("requested_by").order_by("-version"))


def pack_get(*, user: Any, meeting_id: int, version: int) -> PabPack:
    meeting, packs = meeting_packs(user=user, meeting_id=meeting_id)
    pack = next((p for p in packs if p.version == version), None)
    if pack is None:
        raise NotFound("No meeting pack was found at that address.")
    pack.meeting = meeting
    return pack


# --- letters -----------------------------------------------------------------------------------------------


def letter_scope_for(user: Any) -> QuerySet[QualificationLetter]:
    """The letters the user may read: every one of the applications they may see for the Board's
    readers; issued ones only for the Service Activation team and the participant; none for others."""
    roles = user_roles(user)
    letters = QualificationLetter.objects.filter(application__in=application_scope_for(user))
    if roles & PAPER_READERS:
        return letters
    if roles & ISSUED_LETTER_READERS:
        return letters.filter(status=LetterStatus.ISSUED)
    return letters.none()


def _letters(user: Any) -> QuerySet[QualificationLetter]:
    return letter_scope_for(user).select_related(
        "application__organisation",
        "application__mpid",
        "application__market_role",
        "decision__meeting",
        "decision__recorded_by",
        "issued_by",
    )


@dataclass(frozen=True)
class LetterList:
    waiting: list[QualificationLetter]  # drafts, oldest first: the Chair's queue
    issued: list[QualificationLetter]  # newest first
    can_issue: bool
    can_regenerate: bool


def letter_list(*, user: Any, status: str = "") -> LetterList:
    """The letters waiting for the Chair and those issued, that the user may read. `status` narrows
    to `draft` or `issued`."""
    letters = _letters(user)
    waiting: list[QualificationLetter] = []
    issued: list[QualificationLetter] = []
    if status in ("", LetterStatus.DRAFT):
        waiting = list(letters.filter(status=LetterStatus.DRAFT).order_by("id"))
    if status in ("", LetterStatus.ISSUED):
        issued = list(letters.filter(status=LetterStatus.ISSUED).order_by("-issued_at", "-id"))
    return LetterList(
        waiting=waiting, issued=issued, can_issue=issues_letters(user), can_regenerate=regenerates_letters(user)
    )


def letters_for(*, user: Any, status: str = "") -> QuerySet[QualificationLetter]:
    """The letters the user may read, newest first, each with its conditions (for lists a page at a
    time); `status` narrows to `draft` or `issued`."""
    letters = _letters(user).prefetch_related("decision__conditions").order_by("-id")
    return letters.filter(status=status) if status else letters


def letter_get(*, user: Any, letter_id: int) -> QualificationLetter:
    letter = _letters(user).filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(LETTER_NOT_FOUND)
    return letter


def letter_conditions(letter: QualificationLetter) -> list[Any]:
    """The conditions of the approval: the agreed work-off items linked on the decision."""
    return list(letter.decision.conditions.select_related("case", "defect").order_by("number"))
