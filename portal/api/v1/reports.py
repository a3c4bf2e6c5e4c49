"""Dashboards and search, read-only: the pipeline summary (applications per stage, time in stage,
deadlines, the REC queue, overdue work-off items, the coming PAB meetings), the pipeline row by row,
one application's timeline (planned and actual dates of each stage), and search across organisations,
applications, evidence files and test cases.

Everything answers within what you may see: a participant its own organisation's applications, the
REC Code Manager and the BSC PAB the roles that need their approval, other staff every application.
Another organisation's application answers 404, as a missing one does. Mounted at `/v1`."""

import datetime as dt
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from portal.api.errors import responses
from portal.api.pagination import LimitOffset, PresentedPages, each
from portal.api.schemas import ApplicationRef
from portal.api.v1._request import ObjectId, caller
from portal.approvals.deadlines import Deadline
from portal.approvals.models import MeetingStatus, PabMeeting
from portal.qualification.workflow import ApplicationStatus, Stage
from portal.reports import selectors
from portal.reports.search import KINDS, MAX_QUERY_LENGTH, SearchHit, search
from portal.reports.selectors import Pipeline, PipelineRow
from portal.reports.snapshots import dashboard_pipeline
from portal.reports.stages import AGE_BUCKETS
from portal.reports.timeline import Timeline, application_timeline

router = Router(tags=["dashboards and search"])

DeadlineStatus = Literal["done", "done_late", "overdue", "due_today", "due_soon", "upcoming"]
SearchKindName = Literal["organisation", "application", "document", "test_case"]
assert set(SearchKindName.__args__) == set(KINDS)  # type: ignore[attr-defined]


# --- input -----------------------------------------------------------------------------------------


class PipelineQuery(Schema):
    route: str | None = Field(None, max_length=40, description="Only applications on this route (its code).")
    role_group: str | None = Field(None, max_length=40, description="Only this role group (its code, e.g. supplier).")
    wave: str | None = Field(None, max_length=40, description="Only applications preferring this QT wave (its code).")


class SearchQuery(Schema):
    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        description="Organisation name or MPID, application reference (QA-00012), MPID or role code, evidence file "
        "name, test case identifier or title: at least 2 characters (or an application's number). Control characters "
        "are refused.",
    )
    kind: SearchKindName | None = Field(None, description="Only results of this kind.")


# --- output ----------------------------------------------------------------------------------------


class ReportMeetingRef(Schema):
    id: int
    date: dt.date
    paper_deadline: dt.date
    status: MeetingStatus


class ReportDeadlineOut(Schema):
    rule: str = Field(description="The deadline rule's code.")
    title: str
    task_code: str
    due_on: date
    status: DeadlineStatus
    working_days_left: int = Field(description="Working days from today to the due date; negative once passed.")
    done_on: date | None


class StageCountOut(Schema):
    status: ApplicationStatus
    label: str
    now: int = Field(description="Applications at this stage now.")
    reached: int = Field(description="Applications that reached at least this stage (closed ones included).")


class ClosedCountOut(Schema):
    status: ApplicationStatus
    label: str
    count: int


class AgeBucketOut(Schema):
    label: str
    min_days: int
    max_days: int | None
    count: int


class AgeingOut(Schema):
    status: ApplicationStatus
    label: str
    count: int
    median_days: int | None
    buckets: list[AgeBucketOut] = Field(description="How many have been at this stage for how long.")
    oldest: ApplicationRef | None = Field(description="The application longest at this stage.")
    oldest_days: int | None


class DeadlineCountsOut(Schema):
    overdue: int
    due_today: int
    due_soon: int
    upcoming: int


class QueueCountOut(Schema):
    count: int
    overdue: int


class MeetingAgendaOut(ReportMeetingRef):
    application_count: int = Field(description="How many applications you may see are on its agenda.")
    applications: list[ApplicationRef] = Field(
        description="The first ten of them, in agenda order; the meeting's own agenda lists them all."
    )


class PipelineFiltersOut(Schema):
    route: str | None
    role_group: str | None
    wave: str | None


class PipelineSummaryOut(Schema):
    filters: PipelineFiltersOut
    today: date
    worked_out_at: datetime = Field(description="When these figures were worked out.")
    may_be_behind: bool = Field(
        description="True when changes made since are not yet included: newer figures are being worked out, "
        "so ask again in a minute."
    )
    total: int
    open: int
    stages: list[StageCountOut] = Field(description="The funnel: each stage in process order.")
    closed: list[ClosedCountOut]
    ageing: list[AgeingOut] = Field(description="Time in the current stage, per open stage.")
    deadlines: DeadlineCountsOut = Field(description="Deadlines not yet met of open applications.")
    rec_queue: QueueCountOut = Field(description="Applications waiting on the REC Code Manager's decision.")
    workoff_overdue: int = Field(description="Agreed work-off items past their due date.")
    upcoming_meetings: list[MeetingAgendaOut]


class WaitingOut(Schema):
    task_code: str
    task_title: str
    holder: str = Field(description="Who the task waits on, in words.")


class PipelineRowOut(Schema):
    application: ApplicationRef
    route: str
    role_group: str
    wave: str | None = Field(description="The preferred QT wave's code, from the PQS.")
    stage: str
    in_stage_since: date | None
    days_in_stage: int | None
    waiting_on: list[WaitingOut]
    next_deadline: ReportDeadlineOut | None
    overdue_deadlines: int
    target_meeting: ReportMeetingRef | None


class StagePlanOut(Schema):
    start: date | None
    end: date | None
    basis: str = Field(description="Where the planned dates come from; empty when nothing is planned.")


class StageTimelineOut(Schema):
    stage: Stage
    label: str
    planned: StagePlanOut
    actual_start: date | None
    actual_end: date | None = Field(description="When its last task was done; null while it is not finished.")
    finished: bool
    status: str
    late: bool = Field(description="Finished after its planned end, or its planned end passed unfinished.")


class TimelineOut(Schema):
    application: ApplicationRef
    today: date
    registered_on: date
    stages: list[StageTimelineOut]
    deadlines: list[ReportDeadlineOut]
    target_meeting: ReportMeetingRef | None
    planned_go_live: date | None
    closed_on: date | None


class SearchHitOut(Schema):
    kind: SearchKindName
    id: int
    title: str
    detail: str
    url: str = Field(description="Its page (or download) in the portal.")
    application_id: int | None


# --- presenting --------------------------------------------------------------------------------------


def _meeting(meeting: PabMeeting | None) -> dict[str, Any] | None:
    if meeting is None:
        return None
    return {"id": meeting.pk, "date": meeting.date, "paper_deadline": meeting.paper_deadline, "status": meeting.status}


def _deadline(deadline: Deadline | None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    return {
        "rule": deadline.rule.code,
        "title": deadline.title,
        "task_code": deadline.task.code,
        "due_on": deadline.due_on,
        "status": deadline.status,
        "working_days_left": deadline.working_days_left,
        "done_on": deadline.done_on,
    }


def _summary(picture: Pipeline, *, behind: bool) -> dict[str, Any]:
    return {
        "filters": {
            "route": picture.filters.route or None,
            "role_group": picture.filters.role_group or None,
            "wave": picture.filters.wave or None,
        },
        "today": picture.today,
        "worked_out_at": picture.worked_out_at,
        "may_be_behind": behind,
        "total": picture.total,
        "open": picture.open_count,
        "stages": [{"status": s.status, "label": s.label, "now": s.now, "reached": s.reached} for s in picture.stages],
        "closed": [{"status": s, "label": label, "count": n} for s, label, n in picture.closed],
        "ageing": [
            {
                "status": row.status,
                "label": row.label,
                "count": row.count,
                "median_days": row.median_days,
                "buckets": [
                    {"label": b.label, "min_days": b.low, "max_days": b.high, "count": row.buckets[i]}
                    for i, b in enumerate(AGE_BUCKETS)
                ],
                "oldest": row.oldest.application if row.oldest else None,
                "oldest_days": row.oldest.days_in_stage if row.oldest else None,
            }
            for row in picture.ageing
        ],
        "deadlines": {
            status: picture.deadline_counts.get(status, 0)
            for status in ("overdue", "due_today", "due_soon", "upcoming")
        },
        "rec_queue": {"count": picture.rec_queue_count, "overdue": picture.rec_overdue_count},
        "workoff_overdue": picture.workoff_overdue_count,
        "upcoming_meetings": [
            {
                **(_meeting(item.meeting) or {}),
                "application_count": item.on_agenda_count,
                "applications": [row.application for row in item.on_agenda],
            }
            for item in picture.meetings
        ],
    }


def _row(row: PipelineRow) -> dict[str, Any]:
    application = row.application
    return {
        "application": application,
        "route": application.route.code,
        "role_group": application.market_role.role_group.code,
        "wave": row.wave.code if row.wave else None,
        "stage": row.stage_label,
        "in_stage_since": row.entered_on,
        "days_in_stage": row.days_in_stage,
        "waiting_on": [
            {"task_code": w.task.code, "task_title": w.task.definition.title, "holder": w.holder} for w in row.waiting
        ],
        "next_deadline": _deadline(row.next_deadline),
        "overdue_deadlines": row.overdue_count,
        "target_meeting": _meeting(row.target.meeting) if row.target else None,
    }


def _timeline(timeline: Timeline) -> dict[str, Any]:
    return {
        "application": timeline.application,
        "today": timeline.today,
        "registered_on": timeline.started_on,
        "stages": [
            {
                "stage": s.stage,
                "label": s.label,
                "planned": {"start": s.planned.start, "end": s.planned.end, "basis": s.planned.basis},
                "actual_start": s.actual_start,
                "actual_end": s.actual_end if s.finished else None,
                "finished": s.finished,
                "status": s.status,
                "late": s.late,
            }
            for s in timeline.stages
        ],
        "deadlines": [_deadline(d) for d in timeline.deadlines],
        "target_meeting": _meeting(timeline.target.meeting) if timeline.target else None,
        "planned_go_live": timeline.go_live,
        "closed_on": timeline.closed_on,
    }


def _hit(hit: SearchHit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "id": hit.id,
        "title": hit.title,
        "detail": hit.detail,
        "url": hit.url,
        "application_id": hit.application_id,
    }


# --- operations -----------------------------------------------------------------------------------------


@router.get("/reports/pipeline", response={200: PipelineSummaryOut, **responses()})
def pipeline_summary(request: HttpRequest, filters: Query[PipelineQuery]) -> dict[str, Any]:
    """The picture of where everything you may see stands: applications per stage (the funnel), time in
    the current stage, deadlines overdue and at risk, the REC Code Manager's queue, overdue work-off items
    and the next BSC PAB meetings with their agendas. Filter by route, role group or QT wave; an unknown
    code is refused (422)."""
    chosen = selectors.pipeline_filters(**filters.model_dump())
    picture, behind = dashboard_pipeline(user=caller(request), filters=chosen)
    return _summary(picture, behind=behind)


@router.get("/reports/pipeline/applications", response={200: list[PipelineRowOut], **responses()})
@paginate(LimitOffset)
def pipeline_application_list(request: HttpRequest, filters: Query[PipelineQuery]) -> Any:
    """The pipeline row by row: each application's stage and since when, who it waits on, its next
    deadline and its target BSC PAB meeting, by organisation and MPID."""
    chosen = selectors.pipeline_filters(**filters.model_dump())
    applications = selectors.pipeline_applications(user=caller(request), filters=chosen)
    return PresentedPages(applications, lambda page: [_row(row) for row in selectors.pipeline_rows(page)])


@router.get("/applications/{int:application_id}/timeline", response={200: TimelineOut, **responses(404)})
def application_timeline_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's timeline: planned and actual dates of each stage (where the planned dates come
    from is named), its deadlines, its target BSC PAB meeting and its planned go-live."""
    return _timeline(application_timeline(user=caller(request), application_id=application_id))


@router.get("/search", response={200: list[SearchHitOut], **responses()})
@paginate(LimitOffset)
def search_list(request: HttpRequest, query: Query[SearchQuery]) -> Any:
    """Search organisations, applications, evidence files and test cases you may see: organisations
    first, then applications, documents and test cases."""
    return PresentedPages(search(user=caller(request), q=query.q, kind=query.kind or ""), each(_hit))
