"""The report's charts for flow practitioners: cumulative flow, the cycle-time scatterplot and
flow efficiency, checked against the rows of the hand-made marts of ``test_report``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest

from pipelines.lib.duckdb_connection import connection
from pipelines.report import build_report
from pipelines.report.charts import (
    CFD_FINISHED_PALETTE,
    CFD_PALETTE,
    board_column_colours,
    cumulative_flow_chart,
    cycle_time_scatter_chart,
)
from pipelines.report.period import ReportPeriod
from pipelines.report.queries import (
    MartReader,
    daily_flow_by_column,
    trailing_cycle_time_percentiles,
)
from pipelines.report.sections.flow import board_column_counts, task_label

from .test_report import AS_OF, TRAILING_WEEK, body_rows, section, seed_marts


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_marts(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def page(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """October's report (the default month on its last day)."""
    result = build_report(warehouse, tmp_path_factory.mktemp("reports"), as_of=AS_OF)
    return result.paths[0].read_text(encoding="utf-8")


def chart_traces(page: str, div_id: str) -> list[dict]:
    """The traces of the chart ``div_id`` as the page hands them to plotly.js."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    start = call.end()
    traces, _ = json.JSONDecoder().raw_decode(page, start)
    return traces


def test_board_column_counts_fill_each_team_and_day_in_board_order(warehouse):
    with connection(warehouse, read_only=True) as con:
        flow = daily_flow_by_column(MartReader(con), ReportPeriod.resolve(AS_OF))
    days, counts = board_column_counts(flow)
    # the row of 2 May lies before the 26 weeks of days that end on 31 October
    assert days == ["2026-10-30", "2026-10-31"]
    assert counts == {
        "Alpha": {"To Do": [3, 2], "In Progress": [2, 2], "Done": [5, 6]},
        # Gamma's first row is on the 31st: the 30th counts 0 in every column
        "Gamma": {"In Progress": [0, 1], "Review": [0, 1], "Done": [0, 2]},
    }


def test_board_columns_are_coloured_in_board_order_done_and_after_apart():
    colours = board_column_colours(
        ["Backlog", "In Progress", "Review", "Done", "Cancelled"], ["In Progress", "Review"]
    )
    assert colours == {
        "Backlog": CFD_PALETTE[0],
        "In Progress": CFD_PALETTE[1],
        "Review": CFD_PALETTE[2],
        "Done": CFD_FINISHED_PALETTE[0],
        "Cancelled": CFD_FINISHED_PALETTE[1],
    }


def test_cumulative_flow_stacks_done_at_the_bottom_per_team(page):
    traces = chart_traces(page, "chart-cumulative-flow")
    areas = [trace for trace in traces if "stackgroup" in trace]
    # per team, drawn from the last board column to the first: stacked, the first is on top
    assert [(trace["stackgroup"], trace["name"], trace["y"]) for trace in areas] == [
        ("team-0", "Done", [5, 6]),
        ("team-0", "In Progress", [2, 2]),
        ("team-0", "To Do", [3, 2]),
        ("team-1", "Done", [0, 2]),
        ("team-1", "Review", [0, 1]),
        ("team-1", "In Progress", [0, 1]),
    ]
    assert all(trace["x"] == ["2026-10-30", "2026-10-31"] for trace in areas)
    # the top of Alpha's stack on the 31st is all its tasks on the board: 2 + 2 + 6
    assert sum(trace["y"][1] for trace in areas if trace["stackgroup"] == "team-0") == 10
    # one legend entry per board column, in board order
    legend = [trace["name"] for trace in traces if trace.get("showlegend", True)]
    assert legend == ["To Do", "In Progress", "Review", "Done"]
    html = section(page, "cumulative-flow")
    assert "Source: marts.fct_daily_flow_by_column" in html


def test_the_scatterplot_puts_each_completed_task_at_its_completion(page):
    traces = chart_traces(page, "chart-cycle-time-scatter")
    points = [trace for trace in traces if trace["mode"] == "markers"]
    assert [(trace["name"], trace["x"], trace["y"], trace["customdata"]) for trace in points] == [
        (
            "Alpha",
            ["2026-09-30 23:30", "2026-10-03 10:00"],
            [12.0, 30.5],
            # the title is escaped: plotly.js would read <b> as markup
            ["jira:A-2", "jira:A-1 · Match invoices &lt;b&gt;automatically&lt;/b&gt;"],
        ),
        # G-3's title is empty: the key alone; B-1 has no cycle time and is no point
        (
            "Gamma",
            ["2026-10-12 11:00", "2026-10-14 16:00"],
            [2.0, 20.25],
            ["jira:G-3", "jira:G-1 · Help centre search"],
        ),
    ]
    assert all("%{customdata}" in trace["hovertemplate"] for trace in points)


def test_the_scatterplot_lines_are_the_marts_trailing_percentiles_of_those_tasks(page):
    traces = chart_traces(page, "chart-cycle-time-scatter")
    lines = [
        (trace["name"], trace["x"], trace["y"]) for trace in traces if trace["mode"] == "lines"
    ]
    window = ["2026-08-10", "2026-10-31"]
    assert lines == [
        ("p50", window, [21.25, 21.25]),
        ("p85", window, [27.725, 27.725]),
        ("p95", window, [29.575, 29.575]),
        ("p50", window, [11.125, 11.125]),
        ("p85", window, [17.5125, 17.5125]),
        ("p95", window, [19.3375, 19.3375]),
    ]
    # the mart's figures are the percentiles of the points drawn, as the text says
    drawn = {"Alpha": [12.0, 30.5], "Gamma": [2.0, 20.25]}
    for _, team, _, p50, p85, p95, _ in TRAILING_WEEK:
        if team in drawn:
            assert np.percentile(drawn[team], [50, 85, 95]).tolist() == pytest.approx(
                [p50, p85, p95]
            )
    html = section(page, "cycle-time-scatter")
    assert "Every task completed from 2026-08-10 to 2026-10-31 (the 12 weeks" in html
    assert "the team&#39;s p50, p85, p95 of those 12 weeks&#39; completions" in html


def test_the_window_and_percents_come_from_the_marts_columns(tmp_path):
    with connection(tmp_path / "warehouse.duckdb") as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_flow_weekly (week_start date, team varchar, "
            "cycle_time_p50_days_trailing_8w double, cycle_time_p90_days_trailing_8w double, "
            "lead_time_p50_days_trailing_8w double)"
        )
        percentiles = trailing_cycle_time_percentiles(MartReader(con))
        assert (percentiles.weeks, percentiles.columns) == (
            8,
            {50: "cycle_time_p50_days_trailing_8w", 90: "cycle_time_p90_days_trailing_8w"},
        )
        con.execute(
            "alter table marts.mart_flow_weekly add column cycle_time_p95_days_trailing_4w double"
        )
        with pytest.raises(ValueError, match=r"over one window of weeks, found windows \[4, 8\]"):
            trailing_cycle_time_percentiles(MartReader(con))


def test_flow_efficiency_is_drawn_per_team_with_weeks_without_completions_as_gaps(page):
    traces = chart_traces(page, "chart-flow-efficiency")
    # Beta has no flow efficiency in the 26 weeks: no panel
    assert [(trace["name"], trace["x"], trace["y"]) for trace in traces] == [
        ("Alpha", ["2026-09-28", "2026-10-26"], [0.4, None]),
        ("Gamma", ["2026-10-12", "2026-10-26"], [0.75, None]),
    ]
    assert all(trace["connectgaps"] is False for trace in traces)
    assert "Source: marts.mart_flow_weekly" in section(page, "flow-efficiency")


def test_task_label():
    assert task_label("jira:A-1", "Pay out") == "jira:A-1 · Pay out"
    assert task_label("jira:A-1", None) == "jira:A-1"
    assert task_label("jira:A-1", "  ") == "jira:A-1"


def test_cumulative_flow_chart_draws_one_area_per_team_and_column():
    figure = cumulative_flow_chart(
        ["2026-01-01", "2026-01-02"],
        {"Ops": {"To Do": [1, 0], "Done": [0, 1]}},
        {"To Do": "#cbd5e1", "Done": "#15803d"},
    )
    areas = [trace for trace in figure.data if trace.stackgroup]
    assert [(trace.name, list(trace.y)) for trace in areas] == [("Done", [0, 1]), ("To Do", [1, 0])]


def test_cycle_time_scatter_chart_skips_a_missing_percentile():
    figure = cycle_time_scatter_chart(
        {"Ops": (["2026-01-05 10:00"], [3.0], ["jira:O-1"])},
        {"Ops": {50: 3.0, 85: None}},
        {"Ops": "#0072B2"},
        first_day=dt.date(2026, 1, 1).isoformat(),
        last_day="2026-01-31",
    )
    assert [(trace.name, trace.mode) for trace in figure.data] == [
        ("Ops", "markers"),
        ("p50", "lines"),
    ]


def test_how_many_by_a_date_stands_beside_when(page):
    html = section(page, "forecasts")
    how_many = html[html.index("<h3>How many by a date</h3>") :]
    assert "at least the bold number in 85 of 100 trials" in how_many
    assert "the number in brackets in 50 of 100" in how_many
    assert "Counted from the end of 2026-10-15." in how_many
    header = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", how_many[: how_many.index("</thead>")])
    assert header == [
        "Workstream",
        "Remaining",
        "By 2026-11-14 (30 days)",
        "By 2026-12-14 (60 days)",
        "By the target date",
    ]
    rows = [[re.sub(r"<[^>]+>", " ", cell).split() for cell in row] for row in body_rows(how_many)]
    assert rows == [
        [
            ["WS-1", "Invoice", "matching"],
            ["4"],
            ["1", "(2)", "5%", "all", "done"],
            ["3", "(4)", "62%", "all", "done"],
            # on the target date, all done is the probability of the "when" table: 97%
            ["4", "(4)", "97%", "all", "done", "by", "2027-01-01"],
        ],
        [
            ["WS-2", "Help", "centre"],
            ["3"],
            ["0", "(0)", "0%", "all", "done"],
            ["0", "(0)", "0%", "all", "done"],
            ["0", "(0)", "0%", "all", "done", "by", "2026-12-01"],
        ],
    ]
