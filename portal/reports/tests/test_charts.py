"""The SVG charts: escaped, labelled for assistive technology, free of inline styles and scripts, with
the same numbers as a table, and drawn the same by WeasyPrint."""

import io
import xml.etree.ElementTree as ET  # the types only; parsing goes through defusedxml
from datetime import date, timedelta

import pytest
from defusedxml import ElementTree as DefusedET
from pypdf import PdfReader

from portal.approvals.pdf import render_pdf
from portal.reports import charts
from portal.reports.stages import AGE_BUCKETS, age_bucket

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '</title><script>alert("x")</script><b onload="x">&amp;'


def parse(chart: charts.Chart) -> ET.Element:
    return DefusedET.fromstring(str(chart.svg))


def text_of(element: ET.Element | None) -> str:
    assert element is not None
    return element.text or ""


def test_labels_are_escaped_and_the_markup_stays_whole():
    chart = charts.bar_chart("bars", HOSTILE, HOSTILE, [charts.Bar(HOSTILE, 3, charts.RED)])
    markup = str(chart.svg)
    assert "<script" not in markup and "<b " not in markup
    root = parse(chart)  # well-formed XML: nothing broke out of its element
    assert text_of(root.find(f"{SVG}title")) == HOSTILE
    assert text_of(root.find(f"{SVG}desc")) == HOSTILE
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("b"))
    assert all(element.get("onload") is None for element in root.iter())
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert any(text and text.startswith("</title><script>") for text in texts)


def test_every_chart_is_an_image_named_by_its_title_and_description():
    today = date(2026, 3, 10)
    made = [
        charts.funnel_chart("funnel-1", "Funnel", "By stage", [charts.FunnelStep("Preparation", 3, 1)]),
        charts.bar_chart("bars-1", "Bars", "Counts", [charts.Bar("Overdue", 2, charts.RED)]),
        charts.stacked_bar_chart(
            "stack-1", "Stacked", "By age", ["Testing"], [charts.Series("Under 2 weeks", charts.GREEN, (2,))]
        ),
        charts.gantt_chart(
            "gantt-1",
            "Gantt",
            "Dates",
            [charts.GanttRow("Testing", (charts.Span(today, today + timedelta(days=9), charts.PURPLE, "Testing"),))],
            today=today,
            table=charts.Table(("Stage",), (("Testing",),)),
        ),
    ]
    for chart in made:
        root = parse(chart)
        assert root.get("role") == "img"
        labelled = root.get("aria-labelledby", "").split()
        ids = {element.get("id") for element in root.iter() if element.get("id")}
        assert labelled == [f"{chart.chart_id}-title", f"{chart.chart_id}-desc"]
        assert set(labelled) <= ids
        assert root.get("viewBox", "").startswith("0 0 ")
        # The portal's content security policy refuses inline styles and scripts.
        assert all(element.get("style") is None for element in root.iter())
        assert "<style" not in str(chart.svg) and "<script" not in str(chart.svg)
        assert chart.headers and chart.rows


def test_ids_and_colours_come_only_from_the_code():
    with pytest.raises(ValueError, match="chart id"):
        charts.bar_chart('x" onload="alert(1)', "t", "d", [])
    with pytest.raises(ValueError, match="colour"):
        charts.bar_chart("bars", "t", "d", [charts.Bar("a", 1, "red;background:url(x)")])


def test_the_funnel_table_holds_the_numbers_drawn():
    chart = charts.funnel_chart(
        "funnel",
        "Applications by stage",
        "d",
        [
            charts.FunnelStep("Preparation", 15, 3),
            charts.FunnelStep("Testing", 12, 0),
            charts.FunnelStep("Active", 0, 0),
        ],
    )
    assert chart.headers == ("Stage", "Reached", "Here now")
    assert chart.rows == (("Preparation", "15", "3"), ("Testing", "12", "0"), ("Active", "0", "0"))
    widths = [float(r.get("width", "0")) for r in parse(chart).iter(f"{SVG}rect") if r.get("fill") == charts.PALE_BLUE]
    # The widest bar is the stage most reached; a stage nobody reached draws no bar.
    assert widths[0] > widths[1] and len([w for w in widths if w > 12]) == 2


def test_stacked_bars_total_each_category_and_refuse_ragged_series():
    chart = charts.stacked_bar_chart(
        "ageing",
        "Ageing",
        "d",
        ["Preparation", "Testing"],
        [charts.Series("Young", charts.GREEN, (2, 0)), charts.Series("Old", charts.RED, (1, 4))],
        category_header="Stage",
    )
    assert chart.headers == ("Stage", "Young", "Old", "Total")
    assert chart.rows == (("Preparation", "2", "1", "3"), ("Testing", "0", "4", "4"))
    with pytest.raises(ValueError, match="values"):
        charts.stacked_bar_chart("x", "t", "d", ["a", "b"], [charts.Series("s", charts.RED, (1,))])


def test_gantt_axis_spans_every_date_with_month_ticks():
    today = date(2026, 3, 10)
    axis = charts.axis_for([today, date(2026, 5, 20)])
    assert axis.start <= today - timedelta(days=7) and axis.end >= date(2026, 5, 27)
    assert [t.month for t in axis.ticks()] == [4, 5]
    short = charts.axis_for([today])
    assert (short.end - short.start).days >= charts.MIN_AXIS_DAYS
    long = charts.axis_for([date(2025, 1, 15), date(2027, 6, 1)])
    assert all((t.month - 1) % 3 == 0 for t in long.ticks())


def test_gantt_draws_plans_as_outlines_and_actuals_solid_with_markers_and_lines():
    today = date(2026, 3, 10)
    chart = charts.gantt_chart(
        "timeline",
        "Timeline of QA-00001",
        "d",
        [
            charts.GanttRow(
                "Testing",
                (
                    charts.Span(today, today + timedelta(days=30), charts.PURPLE, "planned", planned=True),
                    charts.Span(today - timedelta(days=5), today, charts.PURPLE, "actual", ongoing=True),
                ),
                (charts.Marker(today + timedelta(days=3), "Initial QAD submitted", charts.ORANGE),),
            )
        ],
        today=today,
        lines=[charts.DateLine(today + timedelta(days=40), "Target BSC PAB meeting", charts.DARK_BLUE)],
        legend=[charts.LegendItem("Planned", charts.DARK_GREY, outline=True)],
        table=charts.Table(("Stage", "Planned"), (("Testing", "10 March to 9 April"),)),
    )
    root = parse(chart)
    rects = list(root.iter(f"{SVG}rect"))
    planned = [r for r in rects if r.get("stroke") == charts.PURPLE]
    actual = [r for r in rects if r.get("fill") == charts.PURPLE]
    assert len(planned) == 1 and planned[0].get("fill") == charts.WHITE
    assert len(actual) == 1 and actual[0].get("fill-opacity") == "0.55"
    assert [text_of(p.find(f"{SVG}title")) for p in root.iter(f"{SVG}path")] == ["Initial QAD submitted"]
    lines = [text_of(ln.find(f"{SVG}title")) for ln in root.iter(f"{SVG}line") if ln.find(f"{SVG}title") is not None]
    assert lines == ["Target BSC PAB meeting", "Today"]
    assert chart.rows == (("Testing", "10 March to 9 April"),)


def test_weasyprint_draws_the_same_svg_in_a_pdf():
    chart = charts.funnel_chart("funnel", "By stage", "d", [charts.FunnelStep("Preparation", 4, 2)])
    rendered = render_pdf(f"<!DOCTYPE html><html><body><h1>Report</h1>{chart.svg}</body></html>")
    text = PdfReader(io.BytesIO(rendered.content)).pages[0].extract_text()
    assert "Preparation" in text and "4 / 2" in text


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, 0), (13, 0), (14, 1), (27, 1), (28, 2), (59, 2), (60, 3), (89, 3), (90, 4), (900, 4)]
)
def test_ages_fall_into_their_buckets(days, bucket):
    assert age_bucket(days) == bucket
    assert AGE_BUCKETS[bucket].low <= days
