"""What the tests of the Board's papers, packs and letters share: applications on a meeting's agenda,
the Board's people, work-off items, decisions, the background worker, reading PDFs back, and a record
of everything a refused action must leave unchanged. (No tests here: the modules import from it.)"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.approvals.letters import qualification_letter_create
from portal.approvals.models import (
    ApprovalDecision,
    PabMeeting,
    PabPack,
    PabPaper,
    PabRecommendation,
    QualificationLetter,
)
from portal.approvals.paper_services import pab_paper_generate, pab_paper_prepare, pab_recommendation_record
from portal.approvals.permissions import PAB_TASK
from portal.approvals.services import pab_target_set
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.notifications.models import Notification
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application, Task
from portal.qualification.workflow import Decision
from portal.testing.models import Defect
from portal.workoff.models import WorkOffItem, WorkOffStatus

RECOMMENDATION = "Recommend approval: every mandatory test passed; the two work-off items are agreed and on track."


def run_worker() -> None:
    """The real worker, as `manage.py db_worker` runs it, until the queue is empty."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def pdf_text(content: bytes) -> str:
    """The text of a PDF, whitespace folded, as pypdf reads it back."""
    reader = PdfReader(BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def pdf_pages(content: bytes) -> int:
    return len(PdfReader(BytesIO(content)).pages)


def stored(field: Any) -> bytes:
    with field.open("rb") as handle:
        return bytes(handle.read())


@dataclass(frozen=True)
class Board:
    secretary: User
    chair: User
    member: User
    analyst: User
    qsp: User


@pytest.fixture
def board(staff: Callable[[Role], User]) -> Board:
    return Board(
        secretary=staff(Role.PAB_SECRETARY),
        chair=staff(Role.PAB_CHAIR),
        member=staff(Role.PAB_MEMBER),
        analyst=staff(Role.ELEXON_ANALYST),
        qsp=staff(Role.QSP),
    )


@dataclass(frozen=True)
class Item:
    """An application on a meeting's agenda."""

    application: Application
    meeting: PabMeeting

    @property
    def ids(self) -> dict[str, int]:
        return {"meeting_id": self.meeting.pk, "application_id": self.application.pk}

    @property
    def path(self) -> str:
        return f"/pab/meetings/{self.meeting.pk}/papers/{self.application.pk}/"


@pytest.fixture
def agenda_item(
    signed: Callable[..., Application], make_meeting: Callable[..., PabMeeting], board: Board
) -> Callable[..., Item]:
    """`agenda_item()`: a signed application targeted at a meeting 40 days ahead (or `meeting=`)."""

    def make(*, meeting: PabMeeting | None = None, **kwargs: Any) -> Item:
        application = signed(**kwargs)
        meeting = meeting or PabMeeting.objects.filter(date__gt=uk_today()).order_by("date").first() or make_meeting(40)
        pab_target_set(actor=board.analyst, application_id=application.pk, meeting_id=meeting.pk)
        return Item(application, meeting)

    return make


def defect(application: Application, *, by: User, title: str = "Read rejection not raised") -> Defect:
    number = Defect.objects.filter(application=application).count() + 1
    return Defect.objects.create(
        application=application,
        number=number,
        title=title,
        severity=2,
        status="open",
        raised_by=by,
        raised_at=timezone.now(),
    )


def workoff_item(
    application: Application,
    *,
    by: User,
    agreed_by: User | None = None,
    action: str = "Re-run the meter read rejection flow in pre-production after release 4.2.",
    status: str = WorkOffStatus.AGREED,
    due_days: int = 30,
) -> WorkOffItem:
    """A work-off item covering a new defect (made directly: the work-off area records them through
    its own services, tested there)."""
    number = WorkOffItem.objects.filter(application=application).count() + 1
    agreed = status in (WorkOffStatus.AGREED, WorkOffStatus.CLOSED)
    return WorkOffItem.objects.create(
        application=application,
        number=number,
        defect=defect(application, by=by),
        action=action,
        owner="Sam Tester, test lead",
        due_on=uk_today() + timedelta(days=due_days),
        status=status,
        proposed_by=by,
        proposed_at=timezone.now(),
        agreed_by=(agreed_by or by) if agreed else None,
        agreed_at=timezone.now() if agreed else None,
    )


def recommend(
    item: Item, actor: User, *, outcome: str = Decision.APPROVED_WITH_CONDITIONS, text: str = RECOMMENDATION
) -> PabRecommendation:
    return pab_recommendation_record(actor=actor, outcome=outcome, text=text, **item.ids)


def ready_paper(item: Item, actor: User) -> PabPaper:
    """A recommended, prepared and generated paper (the job's service called directly)."""
    if not PabRecommendation.objects.filter(
        application=item.application, meeting=item.meeting, is_current=True
    ).exists():
        recommend(item, actor)
    paper = pab_paper_prepare(actor=actor, **item.ids)
    generated = pab_paper_generate(paper_id=paper.pk)
    assert generated is not None
    return generated


def decide(
    item: Item,
    recorder: User,
    *,
    outcome: str = Decision.APPROVED_WITH_CONDITIONS,
    conditions: list[WorkOffItem] | None = None,
    letter: bool = True,
) -> ApprovalDecision:
    """The Board's decision at the meeting, recorded as the decision service records it, with its
    letter created inside the same transaction."""
    with transaction.atomic():
        decision = ApprovalDecision.objects.create(
            application=item.application,
            task=Task.objects.get(application=item.application, code=PAB_TASK),
            body=ApprovalBody.BSC_PAB,
            outcome=outcome,
            rationale="The evidence supports qualification.",
            meeting=item.meeting,
            decided_on=item.meeting.date,
            recorded_by=recorder,
            recorded_at=timezone.now(),
        )
        decision.conditions.set(conditions or [])
        if letter and decision.is_approving:
            qualification_letter_create(decision=decision)
    return decision


@dataclass(frozen=True)
class Snapshot:
    recommendations: tuple[tuple[Any, ...], ...]
    papers: tuple[tuple[Any, ...], ...]
    packs: tuple[tuple[Any, ...], ...]
    letters: tuple[tuple[Any, ...], ...]
    audit: int
    notifications: int
    jobs: int


def snapshot() -> Snapshot:
    """Everything the papers, packs and letters services may write: a refusal leaves it unchanged."""
    return Snapshot(
        recommendations=tuple(PabRecommendation.objects.order_by("pk").values_list()),
        papers=tuple(PabPaper.objects.order_by("pk").values_list()),
        packs=tuple(PabPack.objects.order_by("pk").values_list()),
        letters=tuple(QualificationLetter.objects.order_by("pk").values_list()),
        audit=AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        notifications=Notification.objects.count(),
        jobs=DBTaskResult.objects.count(),
    )


def inbox(user: User, contains: str = "") -> list[Notification]:
    return [n for n in Notification.objects.filter(recipient=user).order_by("pk") if contains in n.subject]
