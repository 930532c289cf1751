"""Plotly figures of the report, rendered as HTML fragments that share one inlined plotly.js.

Figures take plain lists (ISO date strings, Python numbers or None, see ``queries.plain``) so
that the JSON embedded in the page is the same on every machine and for every pandas dtype.
"""

from __future__ import annotations

import contextlib
import functools
import html
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
from markupsafe import Markup
from plotly.subplots import make_subplots

FONT_FAMILY = '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACTUAL_COLOUR = "#1d4ed8"
EXPECTED_COLOUR = "#9ca3af"
TARGET_COLOUR = "#047857"

# Colour-blind-safe qualitative palette (Okabe-Ito, without yellow, which vanishes on white).
TEAM_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#000000",
    "#8C6D31",
)

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}

GRID_COLUMNS = 3
PANEL_HEIGHT = 210

# plotly.js carries map-attribution links as string literals (href="https://…"). They never fetch
# anything, but they would make a plain-text audit for network references fail, so their first
# letter is written as a JavaScript escape: the strings keep exactly the same value.
_ATTRIBUTE_URL = re.compile(r"""\b(href|src)=(["'])http""")


def chart_text(value: object) -> str:
    """Data text (a team, an outcome, a workstream) as a chart shows it.

    plotly.js reads a few HTML tags in labels, legends and hover text (``<b>``, ``<br>``,
    ``<a href>``), so a name could restyle a chart or add a link to it. ``<``, ``>`` and ``&``
    become entities, which plotly.js shows as the characters they stand for.
    """
    return html.escape(str(value), quote=False)


@functools.cache
def inline_plotlyjs() -> str:
    """The pinned plotly.js bundle, ready to sit inside one inline ``<script>`` element."""
    bundle = _ATTRIBUTE_URL.sub(r"\1=\2\\u0068ttp", plotly.offline.get_plotlyjs())
    if "</script" in bundle.lower():
        raise RuntimeError("plotly.js contains '</script' and cannot be inlined safely")
    return bundle


def team_colours(teams: Iterable[str]) -> dict[str, str]:
    """One colour per team, assigned in sorted order so every chart and every month agree."""
    return {
        team: TEAM_PALETTE[index % len(TEAM_PALETTE)] for index, team in enumerate(sorted(teams))
    }


def figure_html(figure: go.Figure, div_id: str) -> Markup:
    """The figure as a ``<div>`` plus its drawing script; the page supplies plotly.js once."""
    height = figure.layout.height
    return Markup(
        figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config=PLOTLY_CONFIG,
            default_height=f"{height}px",
            default_width="100%",
        )
    )


TEMPLATE = "plotly_white"


@contextlib.contextmanager
def default_template() -> Iterator[None]:
    """``TEMPLATE`` as plotly's default template while the block runs (the report's whole build).
    A figure made then starts with it, at a fraction of a millisecond; setting a template, on a
    figure or as the default, copies and validates the whole of it: about 9 ms each time."""
    previous = pio.templates.default
    if previous == TEMPLATE:
        yield
        return
    pio.templates.default = TEMPLATE
    try:
        yield
    finally:
        pio.templates.default = previous


def _new_figure(**subplots: Any) -> go.Figure:
    """An empty figure on ``TEMPLATE``: a grid of ``make_subplots(**subplots)``, or one plot."""
    with default_template():
        return make_subplots(**subplots) if subplots else go.Figure()


def _style(figure: go.Figure, *, height: int, y_title: str | None = None) -> go.Figure:
    """The report's look on a figure made by ``_new_figure``."""
    figure.update_layout(
        height=height,
        margin={"l": 56, "r": 16, "t": 48, "b": 36},
        font={"family": FONT_FAMILY, "size": 12, "color": INK},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hovermode="x unified",
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    figure.update_xaxes(showgrid=False, linecolor=GRID, ticks="outside", tickcolor=GRID)
    figure.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, rangemode="tozero")
    if y_title:
        figure.update_yaxes(title={"text": y_title, "font": {"size": 11, "color": MUTED}})
    return figure


def _team_grid(teams: Sequence[str], y_title: str, *, shared_y: bool = True) -> go.Figure:
    """Small multiples, one panel per team, on one y scale so teams compare at a glance (or each
    on its own scale, where a team's shape matters more than its size)."""
    rows = max(1, math.ceil(len(teams) / GRID_COLUMNS))
    columns = min(GRID_COLUMNS, max(1, len(teams)))
    figure = _new_figure(
        rows=rows,
        cols=columns,
        subplot_titles=[chart_text(team) for team in teams],
        shared_yaxes="all" if shared_y else False,
        horizontal_spacing=0.06,
        vertical_spacing=0.32 / rows,
    )
    _style(figure, height=rows * PANEL_HEIGHT + 70)
    # The legend sits above the top-right panel and subplot titles are left-aligned: no overlap.
    figure.update_layout(
        legend={"x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
        margin={"t": 56},
    )
    figure.update_annotations(font={"size": 12, "color": INK}, xanchor="left")
    for annotation in figure.layout.annotations:
        annotation.x = _panel_left(figure, annotation)
    figure.update_yaxes(title=None)
    for row in range(1, rows + 1):
        figure.update_yaxes(
            title={"text": y_title, "font": {"size": 11, "color": MUTED}}, row=row, col=1
        )
    figure.update_xaxes(tickformat="%b %Y", dtick="M2", matches="x")
    return figure


def _panel_left(figure: go.Figure, annotation: go.layout.Annotation) -> float:
    """Left edge of the panel an annotation (subplot title) centres on, for left-aligned titles."""
    for axis_name in figure.layout:
        if axis_name.startswith("xaxis"):
            start, end = figure.layout[axis_name].domain
            if abs((start + end) / 2 - annotation.x) < 1e-9:
                return start
    return annotation.x


def _grid_position(index: int) -> tuple[int, int]:
    return index // GRID_COLUMNS + 1, index % GRID_COLUMNS + 1


def throughput_chart(
    weeks_by_team: Mapping[str, tuple[list[str], list[object]]],
    colours: Mapping[str, str],
    partial_week: str | None,
) -> go.Figure:
    """Weekly completed tasks per team; the week still in progress is drawn paler."""
    teams = list(weeks_by_team)
    figure = _team_grid(teams, "tasks completed")
    for index, team in enumerate(teams):
        weeks, throughput = weeks_by_team[team]
        row, column = _grid_position(index)
        figure.add_trace(
            go.Bar(
                x=weeks,
                y=throughput,
                name=chart_text(team),
                marker={
                    "color": colours[team],
                    "opacity": [0.4 if week == partial_week else 1.0 for week in weeks],
                },
                hovertemplate=(
                    "week of %{x|%d %b %Y}: %{y} completed<extra>" + chart_text(team) + "</extra>"
                ),
                showlegend=False,
            ),
            row=row,
            col=column,
        )
    figure.update_layout(hovermode="closest", bargap=0.25)
    return figure


def cycle_time_chart(
    weeks_by_team: Mapping[str, tuple[list[str], list[object], list[object]]],
    colours: Mapping[str, str],
) -> go.Figure:
    """Cycle-time p50 (solid) and p85 (dashed) per team per week, the band between shaded."""
    teams = list(weeks_by_team)
    figure = _team_grid(teams, "days")
    for index, team in enumerate(teams):
        weeks, p50, p85 = weeks_by_team[team]
        row, column = _grid_position(index)
        colour = colours[team]
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=p85,
                name="p85",
                mode="lines+markers",
                line={"color": colour, "width": 1.5, "dash": "dash"},
                marker={"size": 4},
                hovertemplate="p85 %{y:.1f} d<extra></extra>",
                legendgroup="p85",
                showlegend=index == 0,
            ),
            row=row,
            col=column,
        )
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=p50,
                name="p50",
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                marker={"size": 5},
                fill="tonexty",
                fillcolor=_translucent(colour, 0.12),
                hovertemplate="p50 %{y:.1f} d<extra></extra>",
                legendgroup="p50",
                showlegend=index == 0,
            ),
            row=row,
            col=column,
        )
    # p85 is drawn first so that p50 can fill down to it; the legend still reads p50, p85.
    figure.update_layout(legend={"traceorder": "reversed"})
    return figure


def wip_chart(
    days: list[str], wip_by_team: Mapping[str, list[int]], colours: Mapping[str, str]
) -> go.Figure:
    """Daily WIP stacked by team: the top edge is the organisation's WIP."""
    figure = _style(_new_figure(), height=400, y_title="tasks in progress")
    for team, wip in wip_by_team.items():
        figure.add_trace(
            go.Scatter(
                x=days,
                y=wip,
                name=chart_text(team),
                mode="lines",
                stackgroup="wip",
                line={"color": colours[team], "width": 1},
                fillcolor=_translucent(colours[team], 0.55),
                hovertemplate="%{y}<extra>" + chart_text(team) + "</extra>",
            )
        )
    figure.update_xaxes(tickformat="%d %b %Y")
    # Stacked areas list their legend bottom-up by default; keep the teams' alphabetical order.
    figure.update_layout(legend={"traceorder": "normal"})
    return figure


def outcome_chart(
    months: list[str],
    actual: list[object],
    expected: list[object],
    *,
    target_value: float | None,
    target_label: str,
    unit: str,
) -> go.Figure:
    """An outcome's KPI by month: actual against the expected trajectory and the target."""
    figure = _style(_new_figure(), height=300, y_title=unit or None)
    figure.add_trace(
        go.Scatter(
            x=months,
            y=expected,
            name="expected",
            mode="lines",
            line={"color": EXPECTED_COLOUR, "width": 2, "dash": "dash"},
            hovertemplate="expected %{y:,.2f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=months,
            y=actual,
            name="actual",
            mode="lines+markers",
            line={"color": ACTUAL_COLOUR, "width": 3},
            marker={"size": 7},
            hovertemplate="actual %{y:,.2f}<extra></extra>",
        )
    )
    if target_value is not None:
        figure.add_hline(
            y=target_value,
            line={"color": TARGET_COLOUR, "width": 1.5, "dash": "dot"},
            annotation={
                "text": chart_text(target_label),
                "font": {"size": 11, "color": TARGET_COLOUR},
                "xanchor": "left",
                "yanchor": "bottom",
            },
            annotation_position="top left",
        )
    figure.update_yaxes(rangemode="normal")
    figure.update_xaxes(tickformat="%b %Y", dtick=_month_step(len(months)))
    figure.update_layout(margin={"t": 56})
    return figure


def _month_step(month_count: int) -> str:
    """Monthly ticks for a short history, quarterly or half-yearly ones when they would crowd."""
    if month_count <= 7:
        return "M1"
    return "M3" if month_count <= 21 else "M6"


def _translucent(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


# Aging bands from young to old: green to dark red, so the eye goes to the right of each bar.
AGING_BANDS = (
    ("below_p50", "younger than half of recent completions", "#009E73"),
    ("p50_p85", "older than the median", "#E69F00"),
    ("p85_p95", "older than 85% of recent completions", "#D55E00"),
    ("above_p95", "older than 95% of recent completions", "#9B1C1C"),
    (None, "no recent completions to compare with", "#9ca3af"),
)


def aging_chart(teams: Sequence[str], counts_by_band: Mapping[str | None, list[int]]) -> go.Figure:
    """WIP per team split by aging band, one horizontal bar per team."""
    figure = _style(_new_figure(), height=max(220, 60 + 44 * len(teams)), y_title=None)
    for band, label, colour in AGING_BANDS:
        counts = counts_by_band.get(band)
        if counts is None or not any(counts):
            continue
        figure.add_trace(
            go.Bar(
                y=[chart_text(team) for team in teams],
                x=counts,
                name=label,
                orientation="h",
                marker={"color": colour},
                hovertemplate="%{x} tasks " + label + "<extra>%{y}</extra>",
            )
        )
    # stacked bars list their legend in reverse; keep the bands young to old, as drawn
    figure.update_layout(
        barmode="stack", hovermode="closest", bargap=0.35, legend={"traceorder": "normal"}
    )
    largest = max(
        (sum(team_counts) for team_counts in zip(*counts_by_band.values(), strict=True)), default=0
    )
    if largest <= 10:
        figure.update_xaxes(dtick=1)  # whole tasks: no tick at 0.5
    figure.update_yaxes(autorange="reversed", gridcolor="white")
    figure.update_xaxes(
        title={"text": "tasks in progress", "font": {"size": 11, "color": MUTED}},
        showgrid=True,
        gridcolor=GRID,
    )
    return figure


QUALITY_MEASURES = (
    ("rework_rate", "Rework rate"),
    ("defect_escape_rate", "Defect escape rate"),
    ("bug_share", "Bug share of throughput"),
)


def quality_chart(
    months_by_team: Mapping[str, Mapping[str, tuple[list[str], list[object]]]],
    colours: Mapping[str, str],
) -> go.Figure:
    """One panel per quality measure, one line per team, as monthly percentages."""
    figure = _new_figure(
        rows=1,
        cols=len(QUALITY_MEASURES),
        subplot_titles=[title for _, title in QUALITY_MEASURES],
        shared_yaxes="all",
        horizontal_spacing=0.05,
    )
    _style(figure, height=320)
    for column, (measure, _) in enumerate(QUALITY_MEASURES, start=1):
        for team, series in months_by_team.items():
            months, values = series[measure]
            figure.add_trace(
                go.Scatter(
                    x=months,
                    y=values,
                    name=chart_text(team),
                    mode="lines+markers",
                    line={"color": colours[team], "width": 2},
                    marker={"size": 5},
                    hovertemplate="%{y:.0%}<extra>" + chart_text(team) + "</extra>",
                    legendgroup=team,
                    showlegend=column == 1,
                ),
                row=1,
                col=column,
            )
    figure.update_annotations(font={"size": 12, "color": INK})
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    figure.update_xaxes(tickformat="%b %y", dtick="M3")
    # subplot titles sit above the panels, so the team legend goes below them
    figure.update_layout(
        hovermode="closest", legend={"y": -0.16, "yanchor": "top"}, margin={"t": 40, "b": 40}
    )
    return figure


ILLUSION_COLOUR = "#B91C1C"
DELIVERING_COLOUR = "#1d4ed8"


def execution_vs_delivery_chart(
    outcome_ids: Sequence[str],
    completeness: Sequence[float],
    progress_gap: Sequence[float],
    is_illusion: Sequence[bool],
    hover: Sequence[str],
    *,
    min_completeness: float,
    gap_tolerance: float,
) -> go.Figure:
    """Each outcome's linked work done (x) against its KPI's lead over its trajectory (y).

    y is progress minus expected progress, in points of the baseline → target distance: 0 is on
    the straight line to target, below is behind. The shaded corner is where the work is
    (almost) all done while the KPI lags beyond the tolerance: the productivity illusion.
    """
    figure = _style(_new_figure(), height=440, y_title="KPI progress vs expected (points)")
    lowest = min([-(gap_tolerance * 100) - 10, *(-gap * 100 for gap in progress_gap)])
    # the x axis starts a little left of the least complete outcome (or of the illusion corner),
    # so that outcomes which are all largely done do not crowd into one corner
    left = max(0.0, min([min_completeness * 100, *(share * 100 for share in completeness)]) - 10)
    figure.add_shape(
        type="rect",
        x0=min_completeness * 100,
        x1=100,
        y0=lowest - 8,
        y1=-gap_tolerance * 100,
        fillcolor=_translucent(ILLUSION_COLOUR, 0.08),
        line={"width": 0},
        layer="below",
    )
    figure.add_annotation(
        x=min_completeness * 100,
        y=-gap_tolerance * 100,
        xanchor="right",
        yanchor="top",
        text="productivity illusion:<br>work done, KPI behind",
        align="right",
        showarrow=False,
        font={"size": 11, "color": ILLUSION_COLOUR},
    )
    figure.add_hline(y=0, line={"color": EXPECTED_COLOUR, "width": 1.5, "dash": "dash"})
    for illusion, name, colour, symbol in (
        (False, "delivering or too early to tell", DELIVERING_COLOUR, "circle"),
        (True, "productivity illusion", ILLUSION_COLOUR, "x"),
    ):
        chosen = [index for index, flag in enumerate(is_illusion) if flag == illusion]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[completeness[index] * 100 for index in chosen],
                y=[-progress_gap[index] * 100 for index in chosen],
                text=[chart_text(outcome_ids[index]) for index in chosen],
                customdata=[chart_text(hover[index]) for index in chosen],
                name=name,
                mode="markers+text",
                textposition="middle right",
                marker={"color": colour, "size": 12, "symbol": symbol, "line": {"width": 1}},
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    figure.update_xaxes(
        title={"text": "linked tasks done (%)", "font": {"size": 11, "color": MUTED}},
        range=[left - 2, 103],
        ticksuffix="%",
        showgrid=True,
        gridcolor=GRID,
    )
    figure.update_yaxes(rangemode="normal", zeroline=False)
    figure.update_layout(hovermode="closest")
    return figure


def forecast_chart(
    labels: Sequence[str],
    p50: Sequence[str | None],
    p85: Sequence[str | None],
    p95: Sequence[str | None],
    targets: Sequence[str | None],
    *,
    as_of: str,
) -> go.Figure:
    """Per workstream, when its remaining linked work is done: p50 to p95 as a bar, p85 marked,
    the outcome's target date as a diamond. Workstreams without a forecast have no bar."""
    labels = [chart_text(label) for label in labels]
    figure = _style(_new_figure(), height=max(240, 70 + 34 * len(labels)), y_title=None)
    known = [index for index, day in enumerate(p50) if day is not None]
    figure.add_trace(
        go.Scatter(
            x=[p50[index] for index in known],
            y=[labels[index] for index in known],
            name="p50: done in half of the trials",
            mode="markers",
            marker={"color": ACTUAL_COLOUR, "size": 9, "symbol": "circle"},
            hovertemplate="p50 %{x|%d %b %Y}<extra>%{y}</extra>",
        )
    )
    ranged = [index for index in known if p95[index] is not None]
    for index in ranged:
        figure.add_shape(
            type="line",
            x0=p50[index],
            x1=p95[index],
            y0=labels[index],
            y1=labels[index],
            line={"color": _translucent(ACTUAL_COLOUR, 0.45), "width": 6},
            layer="below",
        )
    figure.add_trace(
        go.Scatter(
            x=[p85[index] for index in known if p85[index] is not None],
            y=[labels[index] for index in known if p85[index] is not None],
            name="p85",
            mode="markers",
            marker={
                "color": ACTUAL_COLOUR,
                "size": 11,
                "symbol": "line-ns-open",
                "line": {"width": 3},
            },
            hovertemplate="p85 %{x|%d %b %Y}<extra>%{y}</extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[day for day in targets if day is not None],
            y=[label for label, day in zip(labels, targets, strict=True) if day is not None],
            name="outcome target date",
            mode="markers",
            marker={"color": TARGET_COLOUR, "size": 11, "symbol": "diamond"},
            hovertemplate="target %{x|%d %b %Y}<extra>%{y}</extra>",
        )
    )
    figure.add_vline(x=as_of, line={"color": MUTED, "width": 1, "dash": "dot"})
    figure.update_yaxes(autorange="reversed", gridcolor="white", type="category")
    figure.update_xaxes(type="date", tickformat="%b %Y", showgrid=True, gridcolor=GRID)
    figure.update_layout(hovermode="closest")
    return figure


def unlinked_share_chart(
    months_by_team: Mapping[str, tuple[list[str], list[object]]],
    colours: Mapping[str, str],
    *,
    threshold: float | None,
) -> go.Figure:
    """Each team's share of monthly throughput that reached no outcome, one line per team."""
    figure = _style(_new_figure(), height=360, y_title="share of throughput")
    for team, (months, shares) in months_by_team.items():
        figure.add_trace(
            go.Scatter(
                x=months,
                y=shares,
                name=chart_text(team),
                mode="lines+markers",
                line={"color": colours[team], "width": 2},
                marker={"size": 6},
                hovertemplate="%{y:.0%}<extra>" + chart_text(team) + "</extra>",
            )
        )
    if threshold is not None:
        figure.add_hline(
            y=threshold,
            line={"color": ILLUSION_COLOUR, "width": 1, "dash": "dot"},
            annotation={
                "text": f"review threshold {threshold:.0%}",
                "font": {"size": 11, "color": ILLUSION_COLOUR},
                "xanchor": "left",
            },
            annotation_position="top left",
        )
    highest = max(
        [
            threshold or 0.0,
            *(
                share
                for _, shares in months_by_team.values()
                for share in shares
                if share is not None
            ),
        ],
        default=0.0,
    )
    figure.update_yaxes(tickformat=".0%", range=[0, min(1.0, max(0.5, highest * 1.15))])
    figure.update_xaxes(tickformat="%b %y", dtick="M1")
    figure.update_layout(hovermode="x unified")
    return figure


# Board columns from the first (top of the stack) to the last (done, at the bottom): light for
# work not yet started, saturated for work in progress, green for done.
CFD_PALETTE = (
    "#cbd5e1",
    "#93c5fd",
    "#60a5fa",
    "#3b82f6",
    "#1d4ed8",
    "#7c3aed",
    "#c026d3",
    "#db2777",
)
# the columns after the last WIP column (Done, Cancelled): green, then greys
CFD_FINISHED_PALETTE = ("#15803d", "#9ca3af", "#6b7280")


def board_column_colours(columns: Sequence[str], wip_columns: Iterable[str]) -> dict[str, str]:
    """A colour per board column, in board order: the columns after the last WIP column (done,
    cancelled) take green then greys, the others the palette in order."""
    wip = set(wip_columns)
    last_wip = max((index for index, column in enumerate(columns) if column in wip), default=-1)
    colours = {}
    for index, column in enumerate(columns):
        if last_wip >= 0 and index > last_wip:
            finished = index - last_wip - 1
            colours[column] = CFD_FINISHED_PALETTE[min(finished, len(CFD_FINISHED_PALETTE) - 1)]
        else:
            colours[column] = CFD_PALETTE[index % len(CFD_PALETTE)]
    return colours


def cumulative_flow_chart(
    days: list[str],
    counts_by_team: Mapping[str, Mapping[str, list[int]]],
    column_colours: Mapping[str, str],
) -> go.Figure:
    """A cumulative flow diagram per team: tasks in each board column at each day's end, stacked
    with the first column on top and the last (done) at the bottom, each team on its own scale.

    ``counts_by_team`` maps a team to its columns in board order, each with one count per day of
    ``days``; ``column_colours`` lists every column of any team in board order.
    """
    teams = list(counts_by_team)
    figure = _team_grid(teams, "tasks", shared_y=False)
    for index, team in enumerate(teams):
        row, column = _grid_position(index)
        columns = counts_by_team[team]
        # stacked areas pile up in trace order: the last board column is drawn first, at the bottom
        for board_column in reversed(list(columns)):
            colour = column_colours[board_column]
            figure.add_trace(
                go.Scatter(
                    x=days,
                    y=columns[board_column],
                    name=chart_text(board_column),
                    mode="lines",
                    stackgroup=f"team-{index}",
                    line={"color": colour, "width": 0.5},
                    fillcolor=_translucent(colour, 0.85),
                    hovertemplate="%{y}<extra>" + chart_text(board_column) + "</extra>",
                    legendgroup=board_column,
                    legendrank=list(column_colours).index(board_column),
                    showlegend=False,
                ),
                row=row,
                col=column,
            )
    # one legend entry per board column, in board order, whichever teams have it
    shown = {board_column for columns in counts_by_team.values() for board_column in columns}
    for board_column, colour in column_colours.items():
        if board_column in shown:
            figure.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    name=chart_text(board_column),
                    mode="markers",
                    marker={"color": colour, "symbol": "square", "size": 10},
                    legendgroup=board_column,
                    legendrank=list(column_colours).index(board_column),
                    hoverinfo="skip",
                )
            )
    # the board's columns are too many for the corner above the top-right panel: below the grid
    figure.update_layout(
        hovermode="x unified",
        legend={
            "traceorder": "normal",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
        },
        margin={"b": 64},
        height=figure.layout.height + 28,
    )
    return figure


PERCENTILE_DASHES = {50: "solid", 85: "dash", 95: "dot"}


def cycle_time_scatter_chart(
    points_by_team: Mapping[str, tuple[list[str], list[float], list[str]]],
    percentiles_by_team: Mapping[str, Mapping[int, float | None]],
    colours: Mapping[str, str],
    *,
    first_day: str,
    last_day: str,
) -> go.Figure:
    """Each completed task a point at its completion time (x) with its cycle time in days (y),
    one panel per team, with the team's cycle-time percentiles as horizontal lines from
    ``first_day`` to ``last_day``.

    ``points_by_team`` gives, per team, the completion times, cycle times and hover labels (task
    key and title) of its tasks; ``percentiles_by_team`` the lines, by percent.
    """
    teams = list(points_by_team)
    figure = _team_grid(teams, "cycle time (days)")
    percents_shown: set[int] = set()
    for index, team in enumerate(teams):
        row, column = _grid_position(index)
        completed, cycle_days, labels = points_by_team[team]
        colour = colours[team]
        figure.add_trace(
            go.Scatter(
                x=completed,
                y=cycle_days,
                customdata=[chart_text(label) for label in labels],
                name=chart_text(team),
                mode="markers",
                marker={"color": _translucent(colour, 0.6), "size": 5},
                hovertemplate=("%{customdata}<br>%{y:.1f} days, done %{x|%d %b %Y}<extra></extra>"),
                showlegend=False,
            ),
            row=row,
            col=column,
        )
        for percent, value in percentiles_by_team.get(team, {}).items():
            if value is None:
                continue
            figure.add_trace(
                go.Scatter(
                    x=[first_day, last_day],
                    y=[value, value],
                    name=f"p{percent}",
                    mode="lines",
                    line={"color": INK, "width": 1.2, "dash": PERCENTILE_DASHES.get(percent)},
                    hovertemplate=f"p{percent} %{{y:.1f}} d<extra></extra>",
                    legendgroup=f"p{percent}",
                    showlegend=percent not in percents_shown,
                ),
                row=row,
                col=column,
            )
            percents_shown.add(percent)
    figure.update_xaxes(tickformat="%d %b", dtick=14 * 24 * 3600 * 1000)
    figure.update_layout(hovermode="closest")
    return figure


def flow_efficiency_chart(
    weeks_by_team: Mapping[str, tuple[list[str], list[object]]], colours: Mapping[str, str]
) -> go.Figure:
    """Weekly flow efficiency per team (active time over cycle time of the week's completions),
    one panel per team on the same 0-100% scale; a week without completions is a gap."""
    teams = list(weeks_by_team)
    figure = _team_grid(teams, "flow efficiency")
    for index, team in enumerate(teams):
        weeks, values = weeks_by_team[team]
        row, column = _grid_position(index)
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=values,
                name=chart_text(team),
                mode="lines+markers",
                line={"color": colours[team], "width": 2},
                marker={"size": 5},
                connectgaps=False,
                hovertemplate="week of %{x|%d %b %Y}: %{y:.0%}<extra>"
                + chart_text(team)
                + "</extra>",
                showlegend=False,
            ),
            row=row,
            col=column,
        )
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    figure.update_layout(hovermode="closest")
    return figure
