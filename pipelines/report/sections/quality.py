"""Sections on the health of the work itself: aging work in progress, and quality per month."""

from __future__ import annotations

from markupsafe import Markup

from pipelines.report.charts import AGING_BANDS, aging_chart, figure_html, quality_chart
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import Column, data_table, format_number, notice
from pipelines.report.queries import (
    QUALITY_MONTHS,
    aging_wip,
    aging_wip_by_team,
    plain,
    quality_monthly,
    records,
)
from pipelines.report.sections.gaps import no_flow_sentence

OLDEST_SHOWN = 10
AT_RISK_BANDS = ("p85_p95", "above_p95")
# the column of mart_aging_wip_by_team that counts each band of mart_aging_wip (None: no band)
BAND_COLUMNS = {
    "below_p50": "below_p50_tasks",
    "p50_p85": "p50_p85_tasks",
    "p85_p95": "p85_p95_tasks",
    "above_p95": "above_p95_tasks",
    None: "unbanded_tasks",
}


def aging_section(context: ReportContext) -> Section:
    title = "Aging work in progress"
    by_team = aging_wip_by_team(context.marts)
    if by_team.empty:
        how_to_read = (
            "Each task in progress at the end of the run's day, by how its age compares with "
            "the cycle times its team achieved over a trailing window of days."
        )
        return Section("aging", title, how_to_read, notice(no_flow_sentence(context)))
    teams = records(by_team)
    as_of = str(teams[0]["as_of_date"])
    window_days = int(teams[0]["trailing_window_days"])
    how_to_read = (
        f"Tasks in progress at the end of {as_of}, per team, coloured by their age against the "
        f"cycle times of what the team completed in the {window_days} days before: a task older "
        "than 85 of 100 recent completions (orange, red) is unlikely to finish soon without "
        f"help. The table lists the {OLDEST_SHOWN} oldest of those."
    )
    counts_by_band = {
        band: [int(team[BAND_COLUMNS[band]]) for team in teams] for band, _, _ in AGING_BANDS
    }
    chart = figure_html(
        aging_chart([str(team["team"]) for team in teams], counts_by_band), "chart-aging"
    )
    aging = aging_wip(context.marts)
    at_risk = aging[aging["aging_band"].isin(AT_RISK_BANDS)].head(OLDEST_SHOWN)
    if at_risk.empty:
        table = notice("No task in progress is older than 85% of its team's recent completions.")
    else:
        columns = (
            Column("Task"),
            Column("Team"),
            Column("Status"),
            Column("Age (days)", numeric=True),
            Column("Blocked (days)", numeric=True),
            Column("Outcome"),
        )
        rows = [
            (
                row["task_id"],
                row["team"],
                row["current_status"],
                format_number(row["age_days"]),
                format_number(row["blocked_days"]),
                row["outcome_id"] or "no outcome",
            )
            for row in (
                dict(zip(at_risk.columns, plain(values), strict=True))
                for values in at_risk.itertuples(index=False)
            )
        ]
        table = data_table(columns, rows)
    return Section("aging", title, how_to_read, Markup("{}{}").format(chart, table))


def quality_section(context: ReportContext) -> Section:
    title = "Quality per team"
    how_to_read = (
        f"The {QUALITY_MONTHS} months up to {context.period.label}, each team's local calendar "
        "month. Rework rate: share of the month's completions that had been reopened. Defect "
        "escape rate: share of the bugs created in the month that were found in production. "
        "Bug share: share of the month's completions that were bugs. Lower is better for all "
        "three; a gap is a month without completions or without new bugs."
    )
    quality = quality_monthly(context.marts, context.period)
    if quality.empty:
        return Section("quality", title, how_to_read, notice(no_flow_sentence(context)))
    series = {
        str(team): {
            measure: (plain(rows["month"]), plain(rows[measure]))
            for measure in ("rework_rate", "defect_escape_rate", "bug_share")
        }
        for team, rows in quality.groupby("team", sort=True)
    }
    body = figure_html(quality_chart(series, context.team_colours), "chart-quality")
    return Section("quality", title, how_to_read, body)
