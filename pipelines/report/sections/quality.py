"""Sections on the health of the work itself: aging work in progress, and quality per month."""

from __future__ import annotations

from markupsafe import Markup

from pipelines.report.charts import AGING_BANDS, aging_chart, figure_html, quality_chart
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import Column, counted, data_table, format_number, notice
from pipelines.report.queries import QUALITY_MONTHS, aging_wip, plain, quality_monthly
from pipelines.report.sections.gaps import no_flow_sentence

OLDEST_SHOWN = 10
AT_RISK_BANDS = ("p85_p95", "above_p95")


def aging_section(context: ReportContext) -> Section:
    title = "Aging work in progress"
    aging = aging_wip(context.marts)
    if aging.empty:
        how_to_read = (
            "Each task in progress at the end of the run's day, by how its age compares with "
            "the cycle times its team achieved over the last 90 days."
        )
        return Section("aging", title, how_to_read, notice(no_flow_sentence(context)))
    as_of = str(aging["as_of_date"].iloc[0])
    how_to_read = (
        f"Tasks in progress at the end of {as_of}, per team, coloured by their age against the "
        "cycle times of what the team completed in the 90 days before: a task older than 85 of "
        "100 recent completions (orange, red) is unlikely to finish soon without help. The table "
        f"lists the {OLDEST_SHOWN} oldest of those."
    )
    teams = sorted({str(team) for team in aging["team"]})
    counts_by_band: dict[str | None, list[int]] = {}
    for band, _, _ in AGING_BANDS:
        in_band = (
            aging[aging["aging_band"].isna()]
            if band is None
            else aging[aging["aging_band"] == band]
        )
        per_team = in_band.groupby("team").size()
        counts_by_band[band] = [int(per_team.get(team, 0)) for team in teams]
    chart = figure_html(aging_chart(teams, counts_by_band), "chart-aging")
    at_risk = aging[aging["aging_band"].isin(AT_RISK_BANDS)].head(OLDEST_SHOWN)
    if at_risk.empty:
        table = notice(
            f"None of the {counted(len(aging), 'task')} in progress is older than 85% of its "
            "team's recent completions."
        )
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
            measure: (plain(rows["month_start"]), plain(rows[measure]))
            for measure in ("rework_rate", "defect_escape_rate", "bug_share")
        }
        for team, rows in quality.groupby("team", sort=True)
    }
    body = figure_html(quality_chart(series, context.team_colours), "chart-quality")
    return Section("quality", title, how_to_read, body)
