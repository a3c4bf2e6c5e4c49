"""Every list of the portal as a table, for CSV and XLSX downloads.

Each function reads through the same scoped selector as the page that shows the list, with the same
filters, and answers a `Table` of plain values (text, numbers, dates). The downloads write the cells
through `portal.core.workbooks.safe_cell`, so a value someone typed as `=HYPERLINK(…)` stays text in a
reviewer's spreadsheet. Each table is read in a fixed number of queries, whatever its length.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from portal.approvals.decision_selectors import approval_queue
from portal.approvals.selectors import work_queue_deadlines
from portal.core.calendar import UK
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application
from portal.qualification.selectors import application_list, work_queue
from portal.qualification.workflow import CLOSED_STATUSES, TaskState
from portal.reports.figures import DEADLINE_WORDS
from portal.reports.search import SearchResults
from portal.reports.selectors import PipelineFilters, pipeline_applications, pipeline_rows
from portal.workoff.models import WorkOffStatus
from portal.workoff.selectors import rows_of, workoff_item_list

# Rows are read and written in batches of this many: constant memory for the CSV, a fixed number of
# queries per batch.
BATCH = 500
# The most rows one download holds (far beyond the market's size); a longer list is cut here.
MAX_ROWS = 50_000


@dataclass(frozen=True)
class Table:
    name: str  # the file's name, without extension
    title: str  # the sheet's title
    headers: tuple[str, ...]
    rows: Iterable[Sequence[Any]]


def _moment(value: datetime | None) -> datetime | None:
    """A date and time in the UK, without its zone (spreadsheets have none)."""
    return timezone.localtime(value, UK).replace(tzinfo=None) if value is not None else None


def _batches(items: Sequence[Any] | Any, size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, MAX_ROWS, size):
        batch = list(items[start : start + size])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return


# --- the pipeline ------------------------------------------------------------------------------------

PIPELINE_HEADERS = (
    "Reference",
    "Organisation",
    "MPID",
    "Market role",
    "Role group",
    "Route",
    "QT wave",
    "Stage",
    "In stage since",
    "Days in stage",
    "Waiting on",
    "Next deadline",
    "Next deadline due",
    "Next deadline status",
    "Overdue deadlines",
    "Target BSC PAB meeting",
)


def pipeline_table(*, user: Any, filters: PipelineFilters, today: date | None = None) -> Table:
    applications = pipeline_applications(user=user, filters=filters)

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(applications):
            for row in pipeline_rows(batch, today=today):
                application = row.application
                following = row.next_deadline
                yield [
                    application.reference,
                    application.organisation.name,
                    application.mpid.code,
                    application.market_role.name,
                    application.market_role.role_group.name,
                    application.route.name,
                    row.wave.name if row.wave else "",
                    row.stage_label,
                    row.entered_on,
                    row.days_in_stage,
                    row.holders,
                    following.title if following else "",
                    following.due_on if following else None,
                    DEADLINE_WORDS[following.status] if following else "",
                    row.overdue_count,
                    row.target.meeting.date if row.target else None,
                ]

    return Table("pipeline", "Pipeline", PIPELINE_HEADERS, rows())


# --- the applications list (/applications/) ------------------------------------------------------------


def applications_table(*, user: Any, status: str = "", route: str = "", search: str = "") -> Table:
    applications = application_list(user=user, status=status or None, route=route or None, search=search or None)

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(applications):
            for application in batch:
                yield [
                    application.reference,
                    application.organisation.name,
                    application.mpid.code,
                    application.market_role.name,
                    application.route.name,
                    application.get_status_display(),
                    _moment(application.created_at),
                    _moment(application.updated_at),
                ]

    return Table(
        "applications",
        "Applications",
        ("Reference", "Organisation", "MPID", "Market role", "Route", "Status", "Registered", "Updated"),
        rows(),
    )


# --- the work queue ----------------------------------------------------------------------------------------


def work_queue_table(*, user: Any) -> Table:
    tasks = work_queue(user=user)

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(tasks):
            deadlines = work_queue_deadlines(batch)
            for task in batch:
                application: Application = task.application
                deadline = deadlines.get(task.pk)
                yield [
                    task.definition.title,
                    application.reference,
                    application.organisation.name,
                    application.mpid.code,
                    application.market_role.name,
                    TaskState(task.state).label,
                    _moment(task.updated_at),
                    deadline.title if deadline else "",
                    deadline.due_on if deadline else None,
                    DEADLINE_WORDS[deadline.status] if deadline else "",
                ]

    return Table(
        "work-queue",
        "Work queue",
        (
            "Task",
            "Application",
            "Organisation",
            "MPID",
            "Market role",
            "Status",
            "Waiting since",
            "Deadline",
            "Deadline due",
            "Deadline status",
        ),
        rows(),
    )


# --- work-off items -------------------------------------------------------------------------------------------


def workoff_table(
    *, user: Any, status: str = "", overdue: bool | None = None, organisation_id: int | None = None, sort: str = ""
) -> Table:
    items = workoff_item_list(
        user=user, status=status or None, overdue=overdue, organisation_id=organisation_id, sort=sort or "due_on"
    )

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(items):
            for row in rows_of(batch):
                item = row.item
                application = item.application
                yield [
                    item.reference,
                    application.reference,
                    application.organisation.name,
                    application.mpid.code,
                    application.market_role.name,
                    row.covers,
                    row.latest_execution_label,
                    item.action,
                    item.owner,
                    item.due_on,
                    WorkOffStatus(item.status).label,
                    "yes" if row.overdue else "no",
                    _moment(item.closed_at),
                ]

    return Table(
        "work-off-items",
        "Work-off items",
        (
            "Item",
            "Application",
            "Organisation",
            "MPID",
            "Market role",
            "Covers",
            "Latest run",
            "Action",
            "Owner",
            "Due on",
            "Status",
            "Overdue",
            "Closed",
        ),
        rows(),
    )


# --- the REC Code Manager's queue ------------------------------------------------------------------------------


def rec_queue_table(*, user: Any) -> Table:
    queue = approval_queue(user=user, body=ApprovalBody.REC_CODE_MANAGER, decided_limit=0)

    def rows() -> Iterator[list[Any]]:
        for row in queue.rows:
            application = row.application
            yield [
                application.reference,
                application.organisation.name,
                application.mpid.code,
                application.market_role.name,
                _moment(row.entered_at),
                row.due.due_on,
                row.due.basis,
                "yes" if row.due.overdue and not row.waiting_on_participant else "no",
                row.status,
                row.latest.get_outcome_display() if row.latest else "",
            ]

    return Table(
        "rec-queue",
        "REC queue",
        (
            "Application",
            "Organisation",
            "MPID",
            "Market role",
            "Signed by a Director",
            "Decision due",
            "Due date from",
            "Overdue",
            "Status",
            "Latest decision",
        ),
        rows(),
    )


# --- search results ----------------------------------------------------------------------------------------------


def search_table(results: SearchResults) -> Table:
    def rows() -> Iterator[list[Any]]:
        for batch in _batches(results):
            for hit in batch:
                yield [hit.kind_label, hit.title, hit.detail, hit.url]

    return Table("search", "Search results", ("Kind", "Name", "Details", "Address in the portal"), rows())


# --- deadlines ---------------------------------------------------------------------------------------------------


def deadlines_table(*, user: Any, filters: PipelineFilters, today: date | None = None) -> Table:
    """Every deadline not yet met of the open applications in the pipeline, soonest first."""
    applications = pipeline_applications(user=user, filters=filters).exclude(status__in=_closed())

    def rows() -> Iterator[list[Any]]:
        found = []
        for batch in _batches(applications):
            for row in pipeline_rows(batch, today=today):
                found += [d for d in row.deadlines if not d.done]
        for deadline in sorted(found, key=lambda d: (d.due_on, d.application.pk, d.rule.order)):
            application = deadline.application
            yield [
                application.reference,
                application.organisation.name,
                application.mpid.code,
                application.market_role.name,
                deadline.title,
                deadline.task.definition.title,
                deadline.due_on,
                deadline.working_days_left,
                DEADLINE_WORDS[deadline.status],
                deadline.explanation,
            ]

    return Table(
        "deadlines",
        "Deadlines",
        (
            "Application",
            "Organisation",
            "MPID",
            "Market role",
            "Deadline",
            "Task",
            "Due on",
            "Working days left",
            "Status",
            "Counted from",
        ),
        rows(),
    )


def _closed() -> list[str]:
    return [s.value for s in CLOSED_STATUSES]
