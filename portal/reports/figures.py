"""The dashboards' charts, drawn from what the selectors read: the same `Chart` goes into the page and
into the portfolio report PDF."""

from collections.abc import Sequence
from datetime import date

from portal.approvals.deadlines import Deadline, short_date
from portal.qualification.workflow import Stage
from portal.reports import charts
from portal.reports.charts import Chart
from portal.reports.selectors import Pipeline
from portal.reports.stages import AGE_BUCKETS
from portal.reports.timeline import STAGE_LABELS, StageTimeline, Timeline

STAGE_COLOURS: dict[Stage, str] = {
    Stage.PREPARATION: charts.BLUE,
    Stage.TESTING: charts.PURPLE,
    Stage.FINAL_QAD: charts.TURQUOISE,
    Stage.APPROVAL: charts.PINK,
    Stage.SERVICE_ACTIVATION: charts.GREEN,
}
AGE_COLOURS = (charts.GREEN, charts.TURQUOISE, charts.YELLOW, charts.ORANGE, charts.RED)
DEADLINE_COLOURS = {
    "overdue": charts.RED,
    "due_today": charts.ORANGE,
    "due_soon": charts.ORANGE,
    "upcoming": charts.LIGHT_BLUE,
    "done": charts.GREY,
    "done_late": charts.GREY,
}
DEADLINE_WORDS = {
    "overdue": "overdue",
    "due_today": "due today",
    "due_soon": "due soon",
    "upcoming": "upcoming",
    "done": "met",
    "done_late": "met late",
}
PAB_COLOUR = charts.DARK_BLUE
DEADLINE_LEGEND = (
    charts.LegendItem("Deadline overdue", charts.RED),
    charts.LegendItem("Deadline due soon", charts.ORANGE),
    charts.LegendItem("Deadline ahead", charts.LIGHT_BLUE),
    charts.LegendItem("Deadline met", charts.GREY),
)
# Rows per portfolio timeline chart: a chart is one image, so the PDF splits longer lists into several.
GANTT_ROWS = 25


def funnel(pipeline: Pipeline, chart_id: str = "funnel") -> Chart:
    closed = pipeline.closed_count
    return charts.funnel_chart(
        chart_id,
        "Applications by stage",
        f"Of {pipeline.total} application{'s' if pipeline.total != 1 else ''}, how many reached each stage of the "
        f"process and how many are at each stage now"
        + (f"; {closed} closed (withdrawn, non-completion or rejected)." if closed else "."),
        [charts.FunnelStep(s.label, s.reached, s.now) for s in pipeline.stages],
    )


def ageing(pipeline: Pipeline, chart_id: str = "ageing") -> Chart:
    rows = pipeline.ageing
    return charts.stacked_bar_chart(
        chart_id,
        "How long applications have been in their stage",
        "Open applications in each stage, by the time since they entered it.",
        [row.label for row in rows],
        [
            charts.Series(bucket.label, AGE_COLOURS[index], tuple(row.buckets[index] for row in rows))
            for index, bucket in enumerate(AGE_BUCKETS)
        ],
        category_header="Stage",
    )


def deadline_bars(pipeline: Pipeline, chart_id: str = "deadlines") -> Chart:
    overdue = pipeline.overdue_count
    at_risk = pipeline.at_risk_count
    upcoming = pipeline.upcoming_count
    return charts.bar_chart(
        chart_id,
        "Deadlines not yet met",
        f"{overdue} overdue, {at_risk} due today or soon, {upcoming} further ahead.",
        [
            charts.Bar("Overdue", overdue, charts.RED),
            charts.Bar("Due today or soon", at_risk, charts.ORANGE),
            charts.Bar("Further ahead", upcoming, charts.DARK_BLUE),
        ],
        category_header="Deadlines",
        unit="number",
    )


def _deadline_marker(deadline: Deadline) -> charts.Marker:
    return charts.Marker(
        deadline.due_on,
        f"{deadline.title}: {short_date(deadline.due_on)} ({DEADLINE_WORDS[deadline.status]})",
        DEADLINE_COLOURS[deadline.status],
    )


def _span_label(stage: StageTimeline, planned: bool) -> str:
    if planned:
        assert stage.planned.start is not None and stage.planned.end is not None
        return (
            f"{stage.label}, planned: {short_date(stage.planned.start)} to {short_date(stage.planned.end)} "
            f"({stage.planned.basis})"
        )
    assert stage.actual_start is not None
    if stage.finished and stage.actual_end is not None:
        return f"{stage.label}, actual: {short_date(stage.actual_start)} to {short_date(stage.actual_end)}"
    return f"{stage.label}, actual: since {short_date(stage.actual_start)} (not finished)"


def _stage_spans(stage: StageTimeline) -> list[charts.Span]:
    colour = STAGE_COLOURS[stage.stage]
    spans = []
    if stage.planned.known:
        assert stage.planned.start is not None and stage.planned.end is not None
        spans.append(charts.Span(stage.planned.start, stage.planned.end, colour, _span_label(stage, True), True))
    end = stage.drawn_end
    if stage.actual_start is not None and end is not None:
        spans.append(
            charts.Span(stage.actual_start, end, colour, _span_label(stage, False), ongoing=not stage.finished)
        )
    return spans


def _dates(start: date | None, end: date | None, *, open_end: str = "not known") -> str:
    if start is None and end is None:
        return "–"
    first = short_date(start) if start is not None else "not known"
    last = short_date(end) if end is not None else open_end
    return f"{first} to {last}"


LEGEND = (
    charts.LegendItem("Planned", charts.DARK_GREY, outline=True),
    charts.LegendItem("Actual", charts.DARK_GREY),
)


def application_gantt(timeline: Timeline, chart_id: str = "timeline") -> Chart:
    """One application: a row per stage, planned above actual, deadlines as diamonds on the row of
    their task's stage, the target PAB meeting and today as lines across."""
    rows = [
        charts.GanttRow(
            stage.label,
            tuple(_stage_spans(stage)),
            tuple(_deadline_marker(d) for d in timeline.deadlines_of(stage.stage)),
        )
        for stage in timeline.stages
    ]
    lines = []
    if timeline.target_meeting_on is not None:
        lines.append(
            charts.DateLine(
                timeline.target_meeting_on, f"Target BSC PAB {short_date(timeline.target_meeting_on)}", PAB_COLOUR
            )
        )
    if timeline.closed_on is not None:
        lines.append(charts.DateLine(timeline.closed_on, f"Closed {short_date(timeline.closed_on)}", charts.DARK_GREY))
    application = timeline.application
    target_on = timeline.target_meeting_on
    meeting = f" and its target BSC PAB meeting on {short_date(target_on)}" if target_on else ""
    table_rows = tuple(
        (
            stage.label,
            _dates(stage.planned.start, stage.planned.end),
            stage.planned.basis or "No plan recorded",
            _dates(stage.actual_start, stage.actual_end if stage.finished else None, open_end="now")
            if stage.started
            else "Not started",
            stage.status + (" (late)" if stage.late else ""),
        )
        for stage in timeline.stages
    )
    return charts.gantt_chart(
        chart_id,
        f"Timeline of {application.reference}",
        f"Planned and actual dates of each stage of {application.reference} ({application.organisation.name}, "
        f"{application.mpid.code}, {application.market_role.name}), with its deadlines{meeting}.",
        rows,
        today=timeline.today,
        lines=lines,
        legend=[
            *LEGEND,
            *DEADLINE_LEGEND,
        ],
        table=charts.Table(("Stage", "Planned", "Planned from", "Actual", "Status"), table_rows),
    )


def portfolio_gantts(timelines: Sequence[Timeline], chart_id: str = "portfolio") -> list[Chart]:
    """Every application on one time axis: a row each, its stages as they happened in their colours,
    its whole plan as an outline, its next deadline and its target PAB meeting as diamonds. Split into
    charts of GANTT_ROWS rows, all on the same axis."""
    if not timelines:
        return []
    today = timelines[0].today
    dates = [today]
    for timeline in timelines:
        dates += [timeline.started_on]
        dates += [d for s in timeline.stages for d in (s.planned.start, s.planned.end, s.drawn_end) if d is not None]
        if timeline.target_meeting_on is not None:
            dates.append(timeline.target_meeting_on)
        if timeline.next_deadline is not None:
            dates.append(timeline.next_deadline.due_on)
    axis = charts.axis_for(dates)
    result = []
    for number, start in enumerate(range(0, len(timelines), GANTT_ROWS), start=1):
        chunk = timelines[start : start + GANTT_ROWS]
        rows = []
        table_rows = []
        for timeline in chunk:
            application = timeline.application
            spans: list[charts.Span] = []
            if timeline.planned_start is not None and timeline.planned_end is not None:
                spans.append(
                    charts.Span(
                        timeline.planned_start,
                        max(timeline.planned_end, timeline.planned_start),
                        charts.DARK_GREY,
                        f"Planned: {short_date(timeline.planned_start)} to {short_date(timeline.planned_end)}",
                        planned=True,
                    )
                )
            for stage in timeline.stages:
                end = stage.drawn_end
                if stage.actual_start is not None and end is not None:
                    spans.append(
                        charts.Span(
                            stage.actual_start,
                            end,
                            STAGE_COLOURS[stage.stage],
                            _span_label(stage, False),
                            ongoing=not stage.finished,
                        )
                    )
            markers = []
            if timeline.target_meeting_on is not None:
                markers.append(
                    charts.Marker(
                        timeline.target_meeting_on,
                        f"Target BSC PAB meeting {short_date(timeline.target_meeting_on)}",
                        PAB_COLOUR,
                    )
                )
            following = timeline.next_deadline
            if following is not None:
                markers.append(_deadline_marker(following))
            label = f"{application.reference} {application.mpid.code} {application.market_role.code}"
            rows.append(charts.GanttRow(label, tuple(spans), tuple(markers)))
            table_rows.append(
                (
                    f"{application.reference} ({application.organisation.name}, {application.mpid.code}, "
                    f"{application.market_role.name})",
                    timeline.stage_now,
                    _dates(timeline.planned_start, timeline.planned_end),
                    short_date(timeline.target_meeting_on) if timeline.target_meeting_on else "–",
                    f"{following.title}: {short_date(following.due_on)} ({DEADLINE_WORDS[following.status]})"
                    if following
                    else "–",
                )
            )
        first, last = start + 1, start + len(chunk)
        result.append(
            charts.gantt_chart(
                f"{chart_id}-{number}",
                f"Timeline of applications {first} to {last}",
                f"Each application's stages as they happened, its planned dates as an outline, its target BSC PAB "
                f"meeting and its next deadline, applications {first} to {last} of {len(timelines)}.",
                rows,
                today=today,
                axis=axis,
                legend=[
                    charts.LegendItem("Planned", charts.DARK_GREY, outline=True),
                    *(charts.LegendItem(label, STAGE_COLOURS[stage]) for stage, label in STAGE_LABELS.items()),
                    charts.LegendItem("Target PAB meeting", PAB_COLOUR),
                    *DEADLINE_LEGEND,
                ],
                table=charts.Table(
                    ("Application", "Stage now", "Planned", "Target PAB meeting", "Next deadline"), tuple(table_rows)
                ),
            )
        )
    return result
