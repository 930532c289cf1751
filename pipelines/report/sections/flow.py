"""Sections 2-4: flow trends per team over the 26 weeks that end with the report period."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.report.charts import cycle_time_chart, figure_html, throughput_chart, wip_chart
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import notice
from pipelines.report.queries import daily_wip, plain, weekly_flow
from pipelines.report.sections.gaps import no_flow_sentence


def throughput_section(context: ReportContext) -> Section:
    weekly = weekly_flow(context.marts, context.period)
    how_to_read = (
        "Tasks whose final move to done fell in each week (weeks start on Monday), one panel per "
        "team on a shared scale. A steady or rising bar height is a team delivering predictably."
    )
    partial_week = _partial_week(weekly, context.period.data_end)
    if partial_week:
        how_to_read += (
            f" The paler last bar is the week of {partial_week}, which runs past "
            f"{context.period.data_end.isoformat()} and is not complete."
        )
    if weekly.empty:
        body = notice(no_flow_sentence(context))
    else:
        series = {
            team: (plain(rows["week_start"]), plain(rows["throughput"]))
            for team, rows in weekly.groupby("team", sort=True)
        }
        body = figure_html(
            throughput_chart(series, context.team_colours, partial_week), "chart-throughput"
        )
    return Section("throughput", "Throughput per team", how_to_read, body)


def cycle_time_section(context: ReportContext) -> Section:
    weekly = weekly_flow(context.marts, context.period)
    weekly = weekly[weekly["cycle_time_p50_days"].notna() | weekly["cycle_time_p85_days"].notna()]
    how_to_read = (
        "Calendar days from first start to final done of the tasks completed each week: half "
        "took at most the solid line (p50), 85 of 100 at most the dashed line (p85). A wide or "
        "widening band means less predictable delivery; gaps are weeks without completions."
    )
    if weekly.empty:
        body = notice(no_flow_sentence(context))
    else:
        series = {
            team: (
                plain(rows["week_start"]),
                plain(rows["cycle_time_p50_days"]),
                plain(rows["cycle_time_p85_days"]),
            )
            for team, rows in weekly.groupby("team", sort=True)
        }
        body = figure_html(cycle_time_chart(series, context.team_colours), "chart-cycle-time")
    return Section("cycle-time", "Cycle time per team", how_to_read, body)


def wip_section(context: ReportContext) -> Section:
    daily = daily_wip(context.marts, context.period)
    how_to_read = (
        "Tasks in an in-progress or waiting status at the end of each day in the team's time "
        "zone, stacked by team: the "
        "top edge is the organisation's work in progress. Rising WIP with flat throughput means "
        "work is started faster than it is finished."
    )
    if daily.empty:
        body = notice(no_flow_sentence(context))
    else:
        days, wip_by_team = _complete_daily_grid(daily)
        body = figure_html(wip_chart(days, wip_by_team, context.team_colours), "chart-wip")
    return Section("wip", "Work in progress per team", how_to_read, body)


def _partial_week(weekly: pd.DataFrame, data_end: dt.date) -> str | None:
    """The last week's start when that week runs past the last day of data."""
    if weekly.empty:
        return None
    last_week = max(weekly["week_start"])
    week_end = dt.date.fromisoformat(last_week) + dt.timedelta(days=6)
    return last_week if week_end > data_end else None


def _complete_daily_grid(daily: pd.DataFrame) -> tuple[list[str], dict[str, list[int]]]:
    """The mart's rows as one series per team over every day of the window.

    ``mart_wip_daily`` has a row for every team and day; a day or team without one would still
    be drawn as zero, so that a stacked area never interpolates across a gap.
    """
    grid = daily.pivot(index="flow_date", columns="team", values="wip").fillna(0)
    first, last = dt.date.fromisoformat(grid.index[0]), dt.date.fromisoformat(grid.index[-1])
    days = [
        (first + dt.timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)
    ]
    grid = grid.reindex(index=days, fill_value=0).sort_index(axis=1)
    return days, {str(team): [int(value) for value in grid[team]] for team in grid.columns}
