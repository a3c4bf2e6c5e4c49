"""Fixtures of the reports tests: a portfolio of applications at a mix of stages (walked forward through
the real services, with the content rules set aside), with PQS dates and a wave, a target PAB meeting,
an overdue work-off item and an evidence file; signed-in clients; and readers of downloads."""

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.api.tests.conftest import anonymous, api_as  # noqa: F401  (fixtures)
from portal.approvals.models import PabMeeting
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import make_meeting  # noqa: F401  (a fixture)
from portal.core.calendar import uk_today
from portal.documents.models import EvidenceFile
from portal.factories import MpidFactory
from portal.participants.models import Organisation
from portal.prequalification.models import PqsSubmission, Wave
from portal.qualification.models import Application
from portal.testing.models import TestCase
from portal.workoff.models import WorkOffItem, WorkOffStatus

# Text a spreadsheet would run as a formula: every download must write it as text.
FORMULA = '=HYPERLINK("http://evil.example/","Click me")'
# What each application of a portfolio is, by its position (cycling).
MIX = ("created_with_pqs", "preparing", "testing_done", "signed_with_target", "signed_with_workoff")


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def analyst(staff: Callable[[Role], User]) -> User:
    return staff(Role.ELEXON_ANALYST)


@pytest.fixture
def build(
    make_application: Callable[..., Application],
    advance: Callable[..., Application],
    content_rules_off: None,
    org: Organisation,
    member: User,
    staff: Callable[[Role], User],
    make_meeting: Callable[..., PabMeeting],  # noqa: F811
) -> Callable[..., list[Application]]:
    """`build(10)`: add ten applications of `org` (or `organisation=`), cycling through MIX."""
    meeting = make_meeting(40)
    analyst = staff(Role.ELEXON_ANALYST)
    wave = Wave.objects.exclude(starts_on=None).order_by("order").first() or Wave.objects.order_by("order").first()
    case = TestCase.objects.order_by("identifier").first()
    made: list[Application] = []

    def add(
        count: int, *, organisation: Organisation | None = None, actor: User | None = None, market_role: str = "SUP"
    ) -> list[Application]:
        organisation = organisation or org
        batch = []
        for _ in range(count):
            kind = MIX[len(made) % len(MIX)]
            code = MpidFactory(organisation=organisation).code
            route = "non_sit_supplier_agent" if kind == "created_with_pqs" else "sit"
            application = make_application(
                mpid=code, route=route, organisation=organisation, actor=actor, market_role=market_role
            )
            today = uk_today()
            if kind == "created_with_pqs":
                PqsSubmission.objects.create(
                    application=application,
                    preferred_wave=wave,
                    pit_start_date=today - timedelta(days=10),
                    pit_completion_date=today + timedelta(days=20),
                    qt_start_date=today + timedelta(days=30),
                    qt_completion_date=today + timedelta(days=90),
                )
            elif kind == "preparing":
                advance(application, stop_before="initial_qad")
            elif kind == "testing_done":
                advance(application, stop_before="final_qad")
            else:
                advance(application, stop_before="approval_dip_manager")
                if kind == "signed_with_target":
                    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
                elif case is not None:
                    WorkOffItem.objects.create(
                        application=application,
                        number=1,
                        case=case,
                        action=FORMULA,
                        owner="Test team",
                        due_on=today - timedelta(days=3),
                        status=WorkOffStatus.AGREED,
                        proposed_by=actor or member,
                        proposed_at=timezone.now(),
                        agreed_by=analyst,
                        agreed_at=timezone.now(),
                    )
            EvidenceFile.objects.create(
                organisation=organisation,
                application=application,
                file="evidence/aa/placeholder.pdf",
                original_name=f"pit-results-{code}.pdf",
                file_type="pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                uploaded_by=actor or member,
                purpose="pit:criterion:1",
            )
            application.refresh_from_db()
            made.append(application)
            batch.append(application)
        return batch

    return add


def xlsx_rows(response: Any) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = book[book.sheetnames[0]]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0]) if rows else 0
    # A streamed sheet leaves out empty cells at the end of a row.
    return [row + [None] * (width - len(row)) for row in rows]


def csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
