"""Section 1: the organisation's numbers for the month and what data is still missing."""

from __future__ import annotations

from markupsafe import Markup

from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import Figure, figure_tiles, format_share, status_badge
from pipelines.report.queries import (
    OUTCOME_STATUSES,
    OrganisationFigures,
    has_tasks,
    organisation_figures,
    outcome_definitions,
    outcome_progress,
)
from pipelines.report.sections.gaps import NO_OBSERVATIONS, NO_OUTCOMES, NO_TASKS


def summary_section(context: ReportContext) -> Section:
    period = context.period
    figures = organisation_figures(context.marts, period)
    wip_label = f"in progress on {figures.wip_on.isoformat()}" if figures.wip_on else "in progress"
    tiles = figure_tiles(
        [
            Figure("teams", f"{figures.teams:,}", "teams"),
            Figure(
                "tasks", f"{figures.tasks:,}", f"tasks created by {period.data_end.isoformat()}"
            ),
            Figure(
                "completed_in_month",
                f"{figures.completed_in_month:,}",
                f"completed in {period.label}",
            ),
            Figure("wip", "—" if figures.wip is None else f"{figures.wip:,}", wip_label),
            Figure("outcomes", f"{figures.outcomes:,}", "outcomes"),
            Figure(
                "illusions",
                f"{figures.illusions:,}",
                "productivity illusions: work done, KPI behind",
            ),
            Figure(
                "unlinked_share",
                format_share(figures.unlinked_throughput_share),
                f"of the completions in {period.label} reached no outcome",
            ),
        ]
    )
    return Section(
        anchor="summary",
        title="Summary",
        how_to_read=(
            f"Figures as of {period.data_end.isoformat()}. Completed means the task's final "
            f"move to done fell in {period.label}, in its team's local calendar month (a task "
            "done at 23:30 UTC on a month's last day by a team in Berlin counts in the next "
            "month); in progress counts tasks in an in-progress or waiting status at the end of "
            f"that day in each team's time zone; outcome statuses are those of {period.label}."
        ),
        body=tiles + _status_counts(context, figures) + _gaps(context),
    )


def _status_counts(context: ReportContext, figures: OrganisationFigures) -> Markup:
    if figures.outcomes == 0:
        return Markup("")
    items = [
        Markup('<li data-status="{}">{} <strong>{}</strong></li>').format(
            status, status_badge(status), figures.status_counts.get(status, 0)
        )
        for status in OUTCOME_STATUSES
    ]
    if figures.outcomes_not_evaluated:
        items.append(
            Markup('<li data-status="not_evaluated">{} <strong>{}</strong></li>').format(
                status_badge(None), figures.outcomes_not_evaluated
            )
        )
    return Markup('<h3>Outcome status in {}</h3><ul class="status-counts">{}</ul>').format(
        context.period.label, Markup("").join(items)
    )


def _gaps(context: ReportContext) -> Markup:
    """Every reason a later section will be empty, listed once at the top."""
    sentences = []
    if not has_tasks(context.marts):
        sentences.append(NO_TASKS)
    if outcome_definitions(context.marts).empty:
        sentences.append(NO_OUTCOMES)
    elif not outcome_progress(context.marts, context.period)["actual_value"].notna().any():
        sentences.append(NO_OBSERVATIONS.format(month=context.period.label))
    if not sentences:
        return Markup("")
    items = Markup("").join(Markup("<li>{}</li>").format(sentence) for sentence in sentences)
    return Markup('<div class="gaps"><h3>What is missing</h3><ul>{}</ul></div>').format(items)
