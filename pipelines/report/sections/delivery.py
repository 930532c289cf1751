"""Sections on delivery: is the work moving the outcomes it is for?

The monthly review (what moved, what blocked it, what changes next), the red/amber/green
scorecard, execution against delivery with the productivity illusion marked, delivery forecasts,
and the work that reaches no outcome. Every number comes from a mart; nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from markupsafe import Markup

from pipelines.report.charts import (
    execution_vs_delivery_chart,
    figure_html,
    forecast_chart,
    unlinked_share_chart,
)
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import (
    Column,
    attention_rank,
    data_table,
    format_number,
    format_share,
    notice,
    status_badge,
)
from pipelines.report.queries import (
    HOW_MANY_PERCENTS,
    UNLINKED_MONTHS,
    execution_vs_delivery,
    forecast_parameters,
    how_many_forecasts,
    outcome_definitions,
    outcome_forecasts,
    outcome_recommendations,
    outcome_review,
    outcome_scorecard,
    plain,
    records,
    trailing_window_days,
    unlinked_work,
    workstream_forecasts,
    zombie_findings,
)
from pipelines.report.sections.gaps import NO_OUTCOMES, no_flow_sentence

SCORECARD_AREAS = (
    ("flow_stability", "Flow stability"),
    ("quality_signals", "Quality signals"),
    ("adoption", "Adoption"),
    ("business_impact", "Business impact"),
    ("confidence", "Confidence"),
)
RAG_LABELS = {"green": "green", "amber": "amber", "red": "red", "no_data": "no data"}
TREND_ARROWS = {"improving": "▲", "worsening": "▼", "steady": "▶"}

FORECAST_NOTES = {
    "no_tasks": "no linked tasks",
    "no_remaining_tasks": "all linked work done",
    "no_throughput": "no completions in the window: no forecast",
    "beyond_horizon": "not all trials finish within the horizon",
}
ZOMBIE_FINDINGS_SHOWN = 8
ZOMBIE_TITLES = {
    "outcome_without_active_work": "Outcomes nobody is working on",
    "work_on_achieved_outcome": "Work still open for an achieved outcome",
    "work_past_target_date": "Work still open after its outcome's target date",
}


def _by_attention(frame: pd.DataFrame, status_column: str) -> pd.DataFrame:
    order = frame[status_column].map(attention_rank)
    return frame.assign(_rank=order).sort_values(["_rank", "outcome_id"]).drop(columns="_rank")


def review_section(context: ReportContext) -> Section:
    title = "Monthly review: what moved, what blocked it, what changes next"
    how_to_read = (
        f"One row per outcome for {context.period.label}, the outcomes that need attention "
        "first. What moved: the KPI's change in the month against the change its straight path "
        "to target expected. What blocked it: linked tasks in progress at the month's end that "
        "are blocked or older than 85 of 100 of their team's recent completions. What changes "
        "next: the review rules the month matched, most urgent first, each with its reason."
    )
    if outcome_definitions(context.marts).empty:
        return Section("review", title, how_to_read, notice(NO_OUTCOMES))
    review = outcome_review(context.marts, context.period)
    if review.empty:
        return Section(
            "review",
            title,
            how_to_read,
            notice(
                f"No outcome has a review for {context.period.label}: its window has not begun."
            ),
        )
    recommendations = outcome_recommendations(context.marts, context.period)
    advice: dict[str, list[dict[str, object]]] = {}
    for row in records(recommendations):
        advice.setdefault(str(row["outcome_id"]), []).append(row)
    rows = [
        (
            Markup('<strong>{}</strong><br><span class="muted">{}</span><br>{}{}').format(
                row["outcome_id"],
                row["statement"],
                status_badge(row["status"]),
                Markup(' <span class="badge illusion">illusion</span>')
                if row["is_productivity_illusion"]
                else "",
            ),
            row["what_moved"],
            row["what_blocked"],
            _recommendation_list(advice.get(str(row["outcome_id"]), [])),
        )
        for row in records(_by_attention(review, "status"))
    ]
    columns = (
        Column("Outcome"),
        Column("What moved"),
        Column("What blocked it"),
        Column("What changes next"),
    )
    return Section(
        "review",
        title,
        how_to_read,
        Markup('<div class="review">{}</div>').format(data_table(columns, rows)),
    )


def _recommendation_list(items: list[dict[str, object]]) -> Markup:
    entries = Markup("").join(
        Markup(
            '<li data-rule="{}"><strong>{}</strong><br><span class="muted">{}</span></li>'
        ).format(item["rule_id"], item["recommendation"], item["reason"])
        for item in items
    )
    return Markup('<ol class="advice">{}</ol>').format(entries)


def scorecard_section(context: ReportContext) -> Section:
    title = "Outcome scorecard"
    window_days = trailing_window_days(context.marts)
    window = "trailing window" if window_days is None else f"last {window_days} days"
    how_to_read = (
        f"Each outcome in {context.period.label} on five areas, each read through one measure "
        "and coloured by the thresholds of the scorecard_thresholds seed. Flow stability: cycle "
        f"time p85 ÷ p50 of the outcome's linked completions in the {window} (lower is more "
        "predictable). Quality signals: share of those completions that were reopened. Adoption "
        "and business impact: the KPI's progress minus its expected progress, in points (an "
        "outcome has one KPI, so one of the two is 'no data'). Confidence: the lower of the "
        "month's mean readiness and ownership survey scores (1 to 5). The arrow compares with the "
        "month before: ▲ better, ▼ worse, ▶ about the same."
    )
    definitions = outcome_definitions(context.marts)
    if definitions.empty:
        return Section("scorecard", title, how_to_read, notice(NO_OUTCOMES))
    scorecard = outcome_scorecard(context.marts, context.period)
    if scorecard.empty:
        return Section(
            "scorecard",
            title,
            how_to_read,
            notice(f"No outcome has a scorecard for {context.period.label} yet."),
        )
    statements = dict(zip(definitions["outcome_id"], definitions["statement"], strict=True))
    statuses = _statuses(context)
    cells: dict[str, dict[str, dict[str, object]]] = {}
    for row in records(scorecard):
        cells.setdefault(str(row["outcome_id"]), {})[str(row["area"])] = row
    outcome_ids = sorted(
        cells, key=lambda outcome: (attention_rank(statuses.get(outcome)), outcome)
    )
    header = Markup("").join(Markup("<th>{}</th>").format(label) for _, label in SCORECARD_AREAS)
    body = Markup("").join(
        Markup(
            '<tr data-outcome="{}"><th scope="row">{}<br><span class="muted">{}</span></th>{}</tr>'
        ).format(
            outcome,
            outcome,
            statements.get(outcome, ""),
            Markup("").join(
                _scorecard_cell(cells[outcome].get(area)) for area, _ in SCORECARD_AREAS
            ),
        )
        for outcome in outcome_ids
    )
    legend = Markup(
        '<p class="legend"><span class="rag rag-green">green</span> on course '
        '<span class="rag rag-amber">amber</span> watch '
        '<span class="rag rag-red">red</span> act '
        '<span class="rag rag-no-data">no data</span> not enough to judge</p>'
    )
    table = Markup(
        '<div class="table-wrap"><table class="scorecard"><thead><tr><th>Outcome</th>{}</tr>'
        "</thead><tbody>{}</tbody></table></div>"
    ).format(header, body)
    return Section("scorecard", title, how_to_read, legend + table)


def _statuses(context: ReportContext) -> Mapping[str, object]:
    review = outcome_review(context.marts, context.period)
    return dict(zip(review["outcome_id"], review["status"], strict=True))


def _scorecard_cell(row: Mapping[str, object] | None) -> Markup:
    if row is None:
        return Markup('<td class="rag-cell rag-no-data">—</td>')
    rag = str(row["rag"])
    trend = row["trend"]
    arrow = (
        Markup(' <span class="trend" title="{}">{}</span>').format(trend, TREND_ARROWS[trend])
        if trend in TREND_ARROWS
        else ""
    )
    value = _scorecard_value(str(row["metric"]), row["value"])
    return Markup(
        '<td class="rag-cell rag-{}" data-area="{}" data-rag="{}">{}{}<br>'
        '<span class="rag-label">{}</span></td>'
    ).format(rag.replace("_", "-"), row["area"], rag, value, arrow, RAG_LABELS.get(rag, rag))


def _scorecard_value(metric: str, value: object) -> str:
    if value is None:
        return "—"
    number = float(value)
    if metric == "cycle_time_p85_to_p50_ratio":
        return f"{number:.1f}×"  # noqa: RUF001 (the multiplication sign is meant)
    if metric == "rework_rate":
        return f"{number:.0%}"
    if metric == "kpi_progress_vs_expected":
        return f"{number * 100:+.0f} pts"
    if metric == "weaker_dimension_mean_score":
        return f"{number:.1f} / 5"
    return format_number(number)


def execution_section(context: ReportContext) -> Section:
    title = "Execution vs delivery"
    minimum = context.marts.threshold("illusion_min_execution_completeness")
    tolerance = context.marts.threshold("illusion_progress_gap_tolerance")
    how_to_read = (
        f"Each outcome in {context.period.label}: how much of its linked work is done (right is "
        "more) against how far its KPI is ahead of (up) or behind (down) the straight path from "
        "baseline to target. An outcome far right and low has had its work delivered without "
        "the result it was for: a productivity illusion (shaded corner"
        + f": at least {minimum:.0%} of the linked work done, more than "
        f"{tolerance * 100:.0f} points behind)."
        + " Work finished before an outcome's baseline is part of its baseline and not counted."
    )
    if outcome_definitions(context.marts).empty:
        return Section("execution-vs-delivery", title, how_to_read, notice(NO_OUTCOMES))
    execution = execution_vs_delivery(context.marts, context.period)
    plotted = execution[
        execution["execution_completeness"].notna() & execution["progress_gap"].notna()
    ]
    if plotted.empty:
        return Section(
            "execution-vs-delivery",
            title,
            how_to_read,
            notice(f"No outcome has both linked work and a KPI value in {context.period.label}."),
        )
    rows = records(plotted)
    chart = execution_vs_delivery_chart(
        [str(row["outcome_id"]) for row in rows],
        [float(row["execution_completeness"]) for row in rows],
        [float(row["progress_gap"]) for row in rows],
        [bool(row["is_productivity_illusion"]) for row in rows],
        [
            f"{row['outcome_id']}: {row['completed_linked_tasks']:,} of "
            f"{row['linked_tasks']:,} linked tasks done; progress "
            f"{format_share(row['outcome_progress'])} against "
            f"{format_share(row['expected_progress'])} expected"
            for row in rows
        ],
        min_completeness=minimum,
        gap_tolerance=tolerance,
    )
    table_rows = [
        (
            Markup('<strong>{}</strong><br><span class="muted">{}</span>').format(
                row["outcome_id"], row["statement"]
            ),
            f"{row['completed_linked_tasks']:,} / {row['linked_tasks']:,}",
            format_share(row["execution_completeness"]),
            format_share(row["outcome_progress"]),
            format_share(row["expected_progress"]),
            status_badge(row["outcome_status"]),
            row["illusion_reason"] or "—",
        )
        for row in records(_by_attention(execution, "outcome_status"))
    ]
    columns = (
        Column("Outcome"),
        Column("Linked tasks done", numeric=True),
        Column("Completeness", numeric=True),
        Column("Progress", numeric=True),
        Column("Expected", numeric=True),
        Column("Status"),
        Column("Productivity illusion"),
    )
    body = figure_html(chart, "chart-execution-vs-delivery") + data_table(columns, table_rows)
    return Section("execution-vs-delivery", title, how_to_read, body)


def forecast_section(context: ReportContext) -> Section:
    title = "Delivery forecasts"
    workstreams = workstream_forecasts(context.marts)
    as_of = str(workstreams["as_of_date"].iloc[0]) if len(workstreams) else ""
    parameters = forecast_parameters(context.marts)
    simulation = (
        "Monte Carlo trials that replay each workstream's own daily completions of a trailing "
        "window"
        if parameters is None
        else f"{parameters.simulation_trials:,} Monte Carlo trials that replay each "
        f"workstream's own daily completions of the last {parameters.window_days} days"
    )
    how_to_read = (
        "When the linked work still open at the end of "
        f"{as_of or 'the run day'} will be done, from {simulation}. The dot is the date by which "
        "half of the trials are done (p50), the tick 85 of 100 (p85), the bar reaches 95 of 100 "
        "(p95); the diamond is the outcome's target date. Forecasts are made for the run's "
        "date, whatever the report month."
    )
    if outcome_definitions(context.marts).empty:
        return Section("forecasts", title, how_to_read, notice(NO_OUTCOMES))
    if workstreams.empty:
        return Section(
            "forecasts",
            title,
            how_to_read,
            notice("No workstream is defined yet: add workstreams/ files to the landing folder."),
        )
    rows = records(workstreams)
    chart = forecast_chart(
        [f"{row['workstream_id']} {row['workstream_name']}" for row in rows],
        [row["forecast_p50_on"] for row in rows],
        [row["forecast_p85_on"] for row in rows],
        [row["forecast_p95_on"] for row in rows],
        [row["target_on"] for row in rows],
        as_of=as_of,
    )
    workstream_rows = [
        (
            Markup("<strong>{}</strong> {}").format(row["workstream_id"], row["workstream_name"]),
            row["outcome_id"],
            f"{row['remaining_tasks']:,}",
            f"{row['window_completed_tasks']:,}",
            _day(row["forecast_p50_on"]),
            _day(row["forecast_p85_on"]),
            _day(row["forecast_p95_on"]),
            _day(row["target_on"]),
            format_share(row["probability_done_by_target"]),
            FORECAST_NOTES.get(str(row["forecast_note"]), "") if row["forecast_note"] else "",
        )
        for row in rows
    ]
    columns = (
        Column("Workstream"),
        Column("Outcome"),
        Column("Remaining", numeric=True),
        # the section returned above when no workstream is forecast: parameters is set here
        Column(f"Done in last {parameters.window_days} days", numeric=True),
        Column("p50"),
        Column("p85"),
        Column("p95"),
        Column("Target"),
        Column("Done by target", numeric=True),
        Column("Note"),
    )
    outcome_rows = [
        (
            Markup('<strong>{}</strong><br><span class="muted">{}</span>').format(
                row["outcome_id"], row["statement"]
            ),
            f"{row['remaining_tasks']:,}",
            _day(row["forecast_p85_on"]),
            _day(row["target_on"]),
            format_share(row["probability_done_by_target"]),
            FORECAST_NOTES.get(str(row["forecast_note"]), "") if row["forecast_note"] else "",
        )
        for row in records(outcome_forecasts(context.marts))
    ]
    outcome_columns = (
        Column("Outcome"),
        Column("Remaining linked tasks", numeric=True),
        Column("All done by (p85)"),
        Column("Target"),
        Column("Probability by target", numeric=True),
        Column("Note"),
    )
    body = (
        figure_html(chart, "chart-forecasts")
        + Markup("<h3>Per workstream</h3>")
        + data_table(columns, workstream_rows)
        + _how_many(context)
        + Markup("<h3>Per outcome: all of its workstreams done</h3>")
        + data_table(outcome_columns, outcome_rows)
    )
    return Section("forecasts", title, how_to_read, body)


def _how_many(context: ReportContext) -> Markup:
    """How many of each workstream's remaining tasks are done by each forecast date: the dates
    after as_of of the mart, then the outcome's target date."""
    forecasts = how_many_forecasts(context.marts)
    likely, half = HOW_MANY_PERCENTS
    heading = Markup("<h3>How many by a date</h3>")
    if forecasts.empty:
        return heading + notice("No workstream has remaining tasks to count.")
    rows = records(forecasts)
    fixed_days = sorted({int(row["days_ahead"]) for row in rows if not row["is_target_date"]})
    by_day: dict[tuple[str, int], dict[str, object]] = {}
    by_target: dict[str, dict[str, object]] = {}
    names: dict[str, str] = {}
    remaining: dict[str, int] = {}
    for row in rows:
        workstream = str(row["workstream_id"])
        names[workstream] = str(row["workstream_name"] or "")
        remaining[workstream] = int(row["remaining_tasks"])
        by_day[(workstream, int(row["days_ahead"]))] = row
        if row["is_target_date"]:
            by_target[workstream] = row
    dates = {
        int(row["days_ahead"]): str(row["forecast_on"]) for row in rows if not row["is_target_date"]
    }
    columns = (
        Column("Workstream"),
        Column("Remaining", numeric=True),
        *(Column(f"By {dates[day]} ({day} days)", numeric=True) for day in fixed_days),
        Column("By the target date", numeric=True),
    )
    table_rows = [
        (
            Markup("<strong>{}</strong> {}").format(workstream, names[workstream]),
            f"{remaining[workstream]:,}",
            *(_how_many_cell(by_day.get((workstream, day)), likely, half) for day in fixed_days),
            _how_many_cell(by_target.get(workstream), likely, half, with_date=True),
        )
        for workstream in sorted(names)
    ]
    explanation = Markup('<p class="muted">{}</p>').format(
        f"How many of each workstream's remaining linked tasks are done by each date, in the "
        f"same trials as the dates above: at least the bold number in {likely} of 100 trials, "
        f"the number in brackets in {half} of 100, and the share of trials in which all of them "
        "are done. The last column counts up to the outcome's target date (— when it has passed "
        f"or lies beyond the forecast horizon). Counted from the end of "
        f"{rows[0]['as_of_date']}."
    )
    return heading + explanation + data_table(columns, table_rows)


def _how_many_cell(
    row: Mapping[str, object] | None, likely: int, half: int, *, with_date: bool = False
) -> Markup | str:
    if row is None:
        return "—"
    cell = Markup('<strong>{}</strong> <span class="muted">({})</span><br>{} all done').format(
        f"{row[f'completed_p{likely}_tasks']:,}",
        f"{row[f'completed_p{half}_tasks']:,}",
        format_share(row["probability_all_done"]),
    )
    if with_date:
        cell = Markup('{}<br><span class="muted nowrap">by {}</span>').format(
            cell, row["forecast_on"]
        )
    return cell


def unlinked_section(context: ReportContext) -> Section:
    title = "Work that reaches no outcome"
    threshold = context.marts.threshold("review_unlinked_share_max")
    how_to_read = (
        f"Per team, the share of each month's completed tasks that reached no outcome (no "
        f"workstream, or a workstream without an outcome), over the {UNLINKED_MONTHS} months up "
        f"to {context.period.label}; the table gives {context.period.label} with the share of "
        "active time too. Above the dotted line, the monthly review asks a team whose outcome "
        "lags to pause such work. Below: outcomes nobody works on and work that no longer "
        "serves its outcome, at the run's date."
    )
    unlinked = unlinked_work(context.marts, context.period)
    if unlinked.empty:
        return Section("unlinked", title, how_to_read, notice(no_flow_sentence(context)))
    series = {
        str(team): (plain(rows["month"]), plain(rows["unlinked_throughput_share"]))
        for team, rows in unlinked.groupby("team", sort=True)
    }
    chart = unlinked_share_chart(series, context.team_colours, threshold=threshold)
    month = unlinked[unlinked["month"] == context.period.month.isoformat()]
    month_rows = [
        (
            row["team"],
            f"{row['throughput']:,}",
            f"{row['unlinked_throughput']:,}",
            format_share(row["unlinked_throughput_share"]),
            format_share(row["unlinked_active_time_share"]),
            f"{row['unlinked_wip_at_month_end']:,}",
        )
        for row in records(month.sort_values("unlinked_throughput_share", ascending=False))
    ]
    columns = (
        Column("Team"),
        Column("Completed", numeric=True),
        Column("Of which unlinked", numeric=True),
        Column("Share of throughput", numeric=True),
        Column("Share of active time", numeric=True),
        Column("Unlinked in progress at month end", numeric=True),
    )
    table = (
        data_table(columns, month_rows)
        if month_rows
        else notice(f"No team completed anything in {context.period.label}.")
    )
    body = (
        figure_html(chart, "chart-unlinked")
        + Markup("<h3>{}</h3>").format(context.period.label)
        + table
        + _zombie_findings(context)
    )
    return Section("unlinked", title, how_to_read, body)


def _day(iso_date: object) -> Markup | str:
    """A date that never wraps inside a table cell; an em dash when there is none."""
    return "—" if iso_date is None else Markup('<span class="nowrap">{}</span>').format(iso_date)


def _zombie_findings(context: ReportContext) -> Markup:
    findings = zombie_findings(context.marts)
    if findings.empty:
        return Markup("<h3>Zombie work</h3>") + notice(
            "Every outcome in its window has work in progress or recently done, and no open "
            "work serves an achieved or overdue outcome."
        )
    parts = [Markup("<h3>Zombie work at {}</h3>").format(findings["as_of_date"].iloc[0])]
    for finding_type, rows in findings.groupby("finding_type", sort=False):
        shown = rows["finding"].tolist()[:ZOMBIE_FINDINGS_SHOWN]
        items = Markup("").join(Markup("<li>{}</li>").format(finding) for finding in shown)
        if len(rows) > len(shown):
            items += Markup('<li class="muted">and {} more in marts.mart_zombie_work</li>').format(
                len(rows) - len(shown)
            )
        parts.append(
            Markup('<p><strong>{}</strong> ({})</p><ul class="findings">{}</ul>').format(
                ZOMBIE_TITLES.get(str(finding_type), str(finding_type)), len(rows), items
            )
        )
    return Markup("").join(parts)
