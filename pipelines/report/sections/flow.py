"""The flow of work per team over the weeks that end with the report period: throughput, cycle
time (trend and scatterplot), work in progress, cumulative flow and flow efficiency."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.report.charts import (
    board_column_colours,
    cumulative_flow_chart,
    cycle_time_chart,
    cycle_time_scatter_chart,
    figure_html,
    flow_efficiency_chart,
    throughput_chart,
    wip_chart,
)
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import notice
from pipelines.report.period import week_monday
from pipelines.report.queries import (
    daily_flow_by_column,
    daily_wip,
    finished_tasks,
    plain,
    records,
    trailing_cycle_time_percentiles,
    weekly_flow,
    weekly_trailing_cycle_time,
)
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


def cumulative_flow_section(context: ReportContext) -> Section:
    title = "Cumulative flow per team"
    how_to_read = (
        "Tasks in each column of the team's board at the end of each day in its time zone, "
        "stacked in board order: the first column on top, done at the bottom, each team on its "
        "own scale. The vertical distance between two bands' top edges is the work between "
        "them; bands that widen mean work arrives faster than it leaves, parallel edges a "
        "steady flow."
    )
    flow = daily_flow_by_column(context.marts, context.period)
    if flow.empty:
        return Section("cumulative-flow", title, how_to_read, notice(no_flow_sentence(context)))
    days, counts_by_team = board_column_counts(flow)
    board = flow.drop_duplicates("workflow_column").sort_values(
        ["workflow_column_order", "workflow_column"]
    )
    colours = board_column_colours(
        [str(column) for column in board["workflow_column"]],
        [str(column) for column in board.loc[board["is_wip_column"], "workflow_column"]],
    )
    chart = cumulative_flow_chart(days, counts_by_team, colours)
    return Section(
        "cumulative-flow", title, how_to_read, figure_html(chart, "chart-cumulative-flow")
    )


def board_column_counts(
    flow: pd.DataFrame,
) -> tuple[list[str], dict[str, dict[str, list[int]]]]:
    """Every day of the window, and per team its board columns in board order with one count
    per day (a day without a row counts 0; ``fct_daily_flow_by_column`` has none missing)."""
    days = sorted(set(flow["flow_date"]))
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    days = [
        (first + dt.timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)
    ]
    counts: dict[str, dict[str, list[int]]] = {}
    for team, rows in flow.groupby("team", sort=True):
        grid = rows.pivot(index="flow_date", columns="workflow_column", values="task_count")
        order = (
            rows.drop_duplicates("workflow_column")
            .sort_values(["workflow_column_order", "workflow_column"])["workflow_column"]
            .tolist()
        )
        grid = grid.reindex(index=days, columns=order).fillna(0)
        counts[str(team)] = {
            str(column): [int(value) for value in grid[column]] for column in order
        }
    return days, counts


def cycle_time_scatter_section(context: ReportContext) -> Section:
    title = "Cycle time of each completed task"
    percentiles = trailing_cycle_time_percentiles(context.marts)
    last_week = week_monday(context.period.data_end)
    first_day = last_week - dt.timedelta(weeks=percentiles.weeks - 1)
    percent_names = ", ".join(f"p{percent}" for percent in percentiles.columns)
    how_to_read = (
        f"Every task completed from {first_day.isoformat()} to "
        f"{context.period.data_end.isoformat()} (the {percentiles.weeks} weeks that end with "
        f"the week of {last_week.isoformat()}), at its completion time, by its cycle time in "
        f"calendar days; hover over a point for its task. The lines are the team's {percent_names} "
        f"of those {percentiles.weeks} weeks' completions: "
        + ", ".join(
            f"{percent} of 100 took at most the p{percent} line" for percent in percentiles.columns
        )
        + ". Points far above the top line are the outliers worth a look."
    )
    tasks = finished_tasks(context.marts, first_day, context.period.data_end)
    if tasks.empty:
        return Section("cycle-time-scatter", title, how_to_read, notice(no_flow_sentence(context)))
    lines = {
        str(row["team"]): {percent: row[f"p{percent}"] for percent in percentiles.columns}
        for row in records(weekly_trailing_cycle_time(context.marts, last_week, percentiles))
    }
    points = {
        str(team): (
            plain(rows["completed_at"]),
            plain(rows["cycle_time_days"]),
            [
                task_label(key, title)
                for key, title in zip(rows["task_key"], rows["title"], strict=True)
            ],
        )
        for team, rows in tasks.groupby("team", sort=True)
    }
    chart = cycle_time_scatter_chart(
        points,
        lines,
        context.team_colours,
        first_day=first_day.isoformat(),
        last_day=context.period.data_end.isoformat(),
    )
    return Section(
        "cycle-time-scatter", title, how_to_read, figure_html(chart, "chart-cycle-time-scatter")
    )


def task_label(key: object, title: object) -> str:
    """``jira:PAY-12 · Retry failed payouts``; the key alone when the task has no title."""
    if title is None or pd.isna(title) or not str(title).strip():
        return str(key)
    return f"{key} · {title}"


def flow_efficiency_section(context: ReportContext) -> Section:
    title = "Flow efficiency per team"
    how_to_read = (
        "For the tasks each team completed in a week (one panel per team): their time in active "
        "statuses divided by "
        "their cycle time, summed over the week's completions. The rest is waiting (review, "
        "queues, blocked). Low and falling means work spends its time waiting, not being "
        "worked on; gaps are weeks without completions."
    )
    weekly = weekly_flow(context.marts, context.period)
    if not weekly["flow_efficiency"].notna().any():
        return Section("flow-efficiency", title, how_to_read, notice(no_flow_sentence(context)))
    series = {
        str(team): (plain(rows["week_start"]), plain(rows["flow_efficiency"]))
        for team, rows in weekly.groupby("team", sort=True)
        if rows["flow_efficiency"].notna().any()  # a team without completions has no panel
    }
    chart = flow_efficiency_chart(series, context.team_colours)
    return Section(
        "flow-efficiency", title, how_to_read, figure_html(chart, "chart-flow-efficiency")
    )
