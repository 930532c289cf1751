"""The sentences the report uses when data is missing, so every section says it the same way."""

from __future__ import annotations

from pipelines.report.context import ReportContext
from pipelines.report.queries import has_tasks

NO_TASKS = (
    "No tasks are loaded yet: add task tracker exports (jira/, github/ or tasks/ files) "
    "to the landing folder."
)
NO_OUTCOMES = "No outcomes are defined yet: add kpis/ and outcomes/ files to the landing folder."
NO_OBSERVATIONS = (
    "No KPI observations up to {month} yet: add kpi_observations/ files to the landing folder."
)


def no_flow_sentence(context: ReportContext) -> str:
    """Why a flow chart is empty: no tasks at all, or none active in the window."""
    if not has_tasks(context.marts):
        return NO_TASKS
    period = context.period
    return (
        f"No flow recorded between {period.trend_first_day.isoformat()} and "
        f"{period.data_end.isoformat()}."
    )
