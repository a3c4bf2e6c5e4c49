"""Charts drawn on the server as SVG markup: the same chart in the page and in the PDF report, read
without JavaScript.

Pure functions, no database: each takes the numbers (already scoped by the selectors) and answers a
`Chart` with its SVG and the same numbers as a table, the text alternative shown beside the chart.

What keeps the markup safe and accessible:
- Every text that comes from data (an organisation's name, a label) passes through `escape` before it
  is put into the markup, and the markup is marked safe only once it is whole. Nothing else from the
  data reaches the SVG: numbers are formatted by us, colours come from the fixed palette, ids are
  checked against a strict pattern.
- The root element is `role="img"` with `aria-labelledby` naming its `<title>` and `<desc>`; the
  table of numbers goes with it (a `<details>` in the page, a table in the PDF).
- Only SVG presentation attributes, no `style` attribute or element: the portal's content security
  policy refuses inline styles, and WeasyPrint draws presentation attributes as browsers do.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "Arial, Helvetica, sans-serif"
INK = "#0b0c0c"
SECONDARY = "#505a5f"
RULE = "#b1b4b6"
LIGHT = "#f3f2f1"
WHITE = "#ffffff"

# The GOV.UK palette; a chart's colours are only ever these.
BLUE = "#1d70b8"
DARK_BLUE = "#003078"
LIGHT_BLUE = "#5694ca"
PALE_BLUE = "#d2e2f1"
GREEN = "#00703c"
RED = "#d4351c"
ORANGE = "#f47738"
YELLOW = "#ffdd00"
PURPLE = "#4c2c92"
TURQUOISE = "#28a197"
PINK = "#d53880"
GREY = "#b1b4b6"
DARK_GREY = "#505a5f"
PALETTE = frozenset(
    {BLUE, DARK_BLUE, LIGHT_BLUE, PALE_BLUE, GREEN, RED, ORANGE, YELLOW, PURPLE, TURQUOISE, PINK, GREY, DARK_GREY}
)
# Colours light enough that text drawn on them must be dark.
LIGHT_COLOURS = frozenset({PALE_BLUE, YELLOW, GREY, LIGHT_BLUE, ORANGE, TURQUOISE})

CHART_ID = re.compile(r"^[a-z][a-z0-9-]{0,60}$")
WIDTH = 760
LABEL_WIDTH = 200
PLOT_LEFT = LABEL_WIDTH + 10
PLOT_RIGHT = WIDTH - 60
MAX_LABEL = 30


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its text alternative: the same numbers as a table."""

    chart_id: str
    title: str
    description: str
    svg: SafeString
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __str__(self) -> str:
        return str(self.svg)


# --- drawing helpers ---------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _colour(value: str) -> str:
    if value not in PALETTE:
        raise ValueError(f"Not a chart colour: {value!r}")
    return value


def _short(label: str, limit: int = MAX_LABEL) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 13,
    bold: bool = False,
    fill: str = INK,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-family="{FONT}" font-size="{size}"'
        f'{weight} fill="{fill}">{escape(content)}</text>'
    )


def _rect(x: float, y: float, width: float, height: float, fill: str, *, tip: str = "", extra: str = "") -> str:
    title = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(width, 0))}" height="{_num(height)}" fill="{fill}"'
        f"{extra}>{title}</rect>"
    )


def _svg(chart_id: str, title: str, description: str, height: float, body: Sequence[str]) -> SafeString:
    if not CHART_ID.match(chart_id):
        raise ValueError(f"Not a chart id: {chart_id!r}")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {_num(height)}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" focusable="false">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    # Every piece of `body` was built by the helpers above, which escape every text they are given.
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    outline: bool = False


def _legend(items: Sequence[LegendItem], y: float) -> tuple[list[str], float]:
    """Legend swatches in rows from the left; answers the markup and the height it took."""
    parts: list[str] = []
    x, row_y = float(PLOT_LEFT), y
    for item in items:
        width = 22 + 7 * len(item.label)
        if x + width > WIDTH and x > PLOT_LEFT:
            x, row_y = float(PLOT_LEFT), row_y + 20
        if item.outline:
            parts.append(_rect(x, row_y, 12, 12, WHITE, extra=f' stroke="{_colour(item.colour)}" stroke-width="2"'))
        else:
            parts.append(_rect(x, row_y, 12, 12, _colour(item.colour)))
        parts.append(_text(x + 17, row_y + 11, item.label, size=12))
        x += width + 12
    return parts, row_y - y + 20


# --- a funnel ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    label: str
    reached: int  # how many got at least this far
    current: int  # how many are here now


def funnel_chart(chart_id: str, title: str, description: str, steps: Sequence[FunnelStep]) -> Chart:
    """Centred bars, one per stage: the pale bar is how many reached the stage, the dark bar inside it
    how many are there now."""
    row, top = 34, 10
    centre = (PLOT_LEFT + PLOT_RIGHT) / 2
    span = PLOT_RIGHT - PLOT_LEFT
    largest = max([s.reached for s in steps] + [1])
    body: list[str] = []
    for index, step in enumerate(steps):
        y = top + index * row
        outer = span * step.reached / largest if step.reached else 0
        inner = span * step.current / largest if step.current else 0
        body.append(_text(LABEL_WIDTH, y + 18, _short(step.label), anchor="end"))
        if outer:
            body.append(
                _rect(centre - outer / 2, y + 2, outer, 24, PALE_BLUE, tip=f"{step.label}: {step.reached} reached")
            )
        if inner:
            body.append(
                _rect(centre - inner / 2, y + 7, inner, 14, DARK_BLUE, tip=f"{step.label}: {step.current} here now")
            )
        body.append(_text(WIDTH - 4, y + 18, f"{step.reached} / {step.current}", anchor="end", size=12))
    legend_y = top + len(steps) * row + 8
    legend, legend_height = _legend(
        [LegendItem("Reached this stage", PALE_BLUE), LegendItem("Here now", DARK_BLUE)], legend_y
    )
    body += legend
    body.append(_text(WIDTH - 4, legend_y + 11, "reached / now", anchor="end", size=11, fill=SECONDARY))
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, legend_y + legend_height + 4, body),
        ("Stage", "Reached", "Here now"),
        tuple((s.label, str(s.reached), str(s.current)) for s in steps),
    )


# --- bars --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str = BLUE


def bar_chart(
    chart_id: str, title: str, description: str, bars: Sequence[Bar], *, category_header: str = "", unit: str = ""
) -> Chart:
    """Horizontal bars from a common baseline, each with its value at its end."""
    row, top = 30, 10
    span = PLOT_RIGHT - PLOT_LEFT
    largest = max([b.value for b in bars] + [1])
    body: list[str] = []
    for index, bar in enumerate(bars):
        y = top + index * row
        width = span * bar.value / largest if bar.value else 0
        body.append(_text(LABEL_WIDTH, y + 16, _short(bar.label), anchor="end"))
        body.append(_rect(PLOT_LEFT, y + 3, width, 18, _colour(bar.colour), tip=f"{bar.label}: {bar.value}"))
        body.append(_text(PLOT_LEFT + width + 6, y + 16, str(bar.value), size=12))
    height = top + len(bars) * row + 6
    body.append(
        f'<line x1="{PLOT_LEFT}" y1="{top}" x2="{PLOT_LEFT}" y2="{_num(height - 6)}" stroke="{INK}" stroke-width="1"/>'
    )
    value_header = unit[:1].upper() + unit[1:] if unit else "Number"
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, height, body),
        (category_header, value_header),
        tuple((b.label, str(b.value)) for b in bars),
    )


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: tuple[int, ...]


def stacked_bar_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    category_header: str = "",
) -> Chart:
    """One horizontal bar per category, made of one segment per series, with the total at its end."""
    for item in series:
        if len(item.values) != len(categories):
            raise ValueError(f"Series {item.label!r} has {len(item.values)} values for {len(categories)} categories.")
    row, top = 30, 10
    span = PLOT_RIGHT - PLOT_LEFT
    totals = [sum(item.values[i] for item in series) for i in range(len(categories))]
    largest = max([*totals, 1])
    body: list[str] = []
    for index, category in enumerate(categories):
        y = top + index * row
        body.append(_text(LABEL_WIDTH, y + 16, _short(category), anchor="end"))
        x = float(PLOT_LEFT)
        for item in series:
            value = item.values[index]
            if not value:
                continue
            width = span * value / largest
            body.append(_rect(x, y + 3, width, 18, _colour(item.colour), tip=f"{category}, {item.label}: {value}"))
            x += width
        body.append(_text(x + 6, y + 16, str(totals[index]), size=12))
    axis_bottom = top + len(categories) * row
    body.append(
        f'<line x1="{PLOT_LEFT}" y1="{top}" x2="{PLOT_LEFT}" y2="{axis_bottom}" stroke="{INK}" stroke-width="1"/>'
    )
    legend, legend_height = _legend([LegendItem(s.label, s.colour) for s in series], axis_bottom + 8)
    body += legend
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, axis_bottom + 8 + legend_height + 4, body),
        (category_header, *(s.label for s in series), "Total"),
        tuple((category, *(str(s.values[i]) for s in series), str(totals[i])) for i, category in enumerate(categories)),
    )


# --- a timeline (Gantt) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A bar from `start` to `end` (inclusive). Planned spans are drawn as outlines above the line,
    actual ones solid below it; an actual span still running is drawn paler."""

    start: date
    end: date
    colour: str
    label: str
    planned: bool = False
    ongoing: bool = False


@dataclass(frozen=True)
class Marker:
    """A date on a row (a diamond), such as a deadline."""

    on: date
    label: str
    colour: str = RED


@dataclass(frozen=True)
class GanttRow:
    label: str
    spans: tuple[Span, ...] = ()
    markers: tuple[Marker, ...] = ()


@dataclass(frozen=True)
class DateLine:
    """A date across every row (a dashed line), such as today or a PAB meeting."""

    on: date
    label: str
    colour: str = RED


@dataclass(frozen=True)
class Axis:
    start: date
    end: date

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def x(self, day: date) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day - self.start).days / self.days

    def ticks(self) -> list[date]:
        """The first day of each month in range (each quarter's, for a range over 18 months)."""
        step = 3 if self.days > 550 else 1
        day = date(self.start.year, self.start.month, 1)
        found = []
        while day <= self.end:
            if day >= self.start and (day.month - 1) % step == 0:
                found.append(day)
            day = date(day.year + (day.month // 12), day.month % 12 + 1, 1)
        return found


MIN_AXIS_DAYS = 60
AXIS_PADDING_DAYS = 7


def axis_for(dates: Sequence[date]) -> Axis:
    """A range holding every date, padded a week either side, at least two months long."""
    start, end = min(dates), max(dates)
    start -= timedelta(days=AXIS_PADDING_DAYS)
    end += timedelta(days=AXIS_PADDING_DAYS)
    short_by = MIN_AXIS_DAYS - (end - start).days
    if short_by > 0:
        start -= timedelta(days=short_by // 2)
        end += timedelta(days=short_by - short_by // 2)
    return Axis(start, end)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


def gantt_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[GanttRow],
    *,
    today: date,
    lines: Sequence[DateLine] = (),
    legend: Sequence[LegendItem] = (),
    table: Table,
    axis: Axis | None = None,
) -> Chart:
    """Rows of planned and actual bars against dates, with markers on rows and date lines across them.
    `table` is the text alternative: the caller knows best how to say what the bars mean."""
    dates = [today, *(line.on for line in lines)]
    for row in rows:
        dates += [d for span in row.spans for d in (span.start, span.end)]
        dates += [m.on for m in row.markers]
    axis = axis or axis_for(dates)
    row_height, top = 30, 38
    bottom = top + max(len(rows), 1) * row_height
    body: list[str] = []
    # Month ticks and the grid.
    for tick in axis.ticks():
        x = axis.x(tick)
        body.append(
            f'<line x1="{_num(x)}" y1="{top - 6}" x2="{_num(x)}" y2="{bottom}" stroke="{LIGHT}" stroke-width="1"/>'
        )
        body.append(_text(x + 2, top - 10, f"{tick:%b %Y}", size=11, fill=SECONDARY))
    for index, row in enumerate(rows):
        y = top + index * row_height
        if index % 2 == 0:
            body.append(_rect(PLOT_LEFT, y, PLOT_RIGHT - PLOT_LEFT, row_height, LIGHT, extra=' fill-opacity="0.5"'))
        body.append(_text(LABEL_WIDTH, y + 19, _short(row.label), anchor="end", size=12))
        for span in row.spans:
            x1 = axis.x(max(span.start, axis.start))
            x2 = axis.x(min(span.end, axis.end) + timedelta(days=1))
            colour = _colour(span.colour)
            if span.planned:
                body.append(
                    _rect(x1, y + 4, x2 - x1, 8, WHITE, tip=span.label, extra=f' stroke="{colour}" stroke-width="2"')
                )
            else:
                opacity = ' fill-opacity="0.55"' if span.ongoing else ""
                body.append(_rect(x1, y + 15, x2 - x1, 11, colour, tip=span.label, extra=opacity))
        for marker in row.markers:
            if not axis.start <= marker.on <= axis.end:
                continue
            x, cy = axis.x(marker.on), y + 20
            body.append(
                f'<path d="M{_num(x)} {_num(cy - 7)} L{_num(x + 6)} {_num(cy)} L{_num(x)} {_num(cy + 7)} '
                f'L{_num(x - 6)} {_num(cy)} Z" fill="{_colour(marker.colour)}" stroke="{WHITE}" stroke-width="1">'
                f"<title>{escape(marker.label)}</title></path>"
            )
    all_lines = [*lines, DateLine(today, "Today", INK_LINE)]
    for position, line in enumerate(all_lines):
        if not axis.start <= line.on <= axis.end:
            continue
        x = axis.x(line.on)
        colour = INK if line.colour == INK_LINE else _colour(line.colour)
        body.append(
            f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{bottom}" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="5 3"><title>{escape(line.label)}</title></line>'
        )
        # Labels of lines below the chart, staggered, so that they never sit on the bars.
        anchor = "end" if x > WIDTH - 120 else "start"
        label_x = x - 3 if anchor == "end" else x + 3
        label_y = bottom + 14 + 14 * (position % 2)
        body.append(_text(label_x, label_y, _short(line.label, 40), anchor=anchor, size=11, fill=colour))
    legend_y = bottom + 40
    parts, legend_height = _legend(legend, legend_y) if legend else ([], 0.0)
    body += parts
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, legend_y + legend_height + 4, body),
        table.headers,
        table.rows,
    )


# "Today" is drawn in ink, the one colour outside the palette a caller may not choose.
INK_LINE = "ink"
