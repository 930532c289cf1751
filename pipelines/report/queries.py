"""Read-only queries on schema ``marts``: the only place the report touches SQL.

Every reader returns an empty result with the expected columns when its mart is absent, so a
warehouse built from a landing folder with only task data still yields a report that names what
is missing instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pipelines.report.period import ReportPeriod

REPORT_MARTS = (
    "fct_tasks",
    "fct_daily_flow",
    "mart_flow_weekly",
    "mart_aging_wip",
    "mart_quality_monthly",
    "dim_outcomes",
    "mart_outcome_progress",
    "mart_outcome_review",
    "mart_outcome_recommendations",
    "mart_outcome_scorecard",
    "mart_execution_vs_delivery",
    "mart_delivery_forecast",
    "mart_outcome_forecast",
    "mart_unlinked_work",
    "mart_zombie_work",
)

OUTCOME_STATUSES = ("off_track", "at_risk", "no_data", "on_track", "achieved")

WEEKLY_FLOW_COLUMNS = (
    "week_start",
    "team",
    "throughput",
    "cycle_time_p50_days",
    "cycle_time_p85_days",
)
DAILY_WIP_COLUMNS = ("flow_date", "team", "wip")
OUTCOME_COLUMNS = (
    "outcome_id",
    "statement",
    "kpi_id",
    "kpi_name",
    "unit",
    "direction",
    "baseline_value",
    "baseline_on",
    "target_value",
    "target_on",
    "owner",
)
PROGRESS_COLUMNS = (
    "outcome_id",
    "month",
    "actual_value",
    "expected_value",
    "target_value",
    "progress",
    "expected_progress",
    "status",
    "days_since_last_observation",
)

NO_TEAM = "(no team)"


def plain(values: Iterable[object]) -> list[object]:
    """Python numbers, strings or None in place of numpy scalars and NaN/NA.

    Charts embed these values as JSON and tables format them; neither should depend on the
    dtype pandas picked for a column.
    """
    return [
        None if pd.isna(value) else value.item() if hasattr(value, "item") else value
        for value in values
    ]


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows of ``frame`` as dicts of plain values."""
    return [dict(zip(frame.columns, plain(row), strict=True)) for row in frame.itertuples(False)]


class MartReader:
    """A read-only view of schema ``marts`` that knows which marts exist."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        self._tables = frozenset(name for (name,) in rows)

    def has(self, table: str) -> bool:
        return table in self._tables

    def missing(self, tables: Sequence[str] = REPORT_MARTS) -> tuple[str, ...]:
        return tuple(table for table in tables if table not in self._tables)

    def frame(
        self,
        sql: str,
        columns: Sequence[str],
        params: Sequence[object] = (),
        *,
        reads: Sequence[str],
    ) -> pd.DataFrame:
        """Rows of ``sql``, or no rows (with ``columns``) when a mart it ``reads`` is absent."""
        if self.missing(reads):
            return pd.DataFrame({column: [] for column in columns})
        return self._con.execute(sql, list(params)).df()

    def threshold(self, name: str) -> float | None:
        """A row of the ``delivery_thresholds`` seed (schema ``config``), None when absent."""
        if (
            self._con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'config' and table_name = 'delivery_thresholds'"
            ).fetchone()[0]
            == 0
        ):
            return None
        row = self._con.execute(
            "select threshold_value from config.delivery_thresholds where threshold_name = ?",
            [name],
        ).fetchone()
        return None if row is None else float(row[0])

    def scalar(self, sql: str, params: Sequence[object] = (), *, reads: Sequence[str]) -> object:
        """The single value of ``sql``, or None when a mart it ``reads`` is absent."""
        if self.missing(reads):
            return None
        return self._con.execute(sql, list(params)).fetchone()[0]


@dataclass(frozen=True)
class OrganisationFigures:
    """The headline numbers of the report month, shown in the header and the summary."""

    teams: int
    tasks: int
    completed_in_month: int
    wip: int | None  # None: no daily flow up to the end of the period
    wip_on: dt.date | None
    outcomes: int
    status_counts: dict[str, int] = field(default_factory=dict)
    outcomes_not_evaluated: int = 0
    illusions: int | None = None  # None: no execution-vs-delivery mart
    unlinked_throughput_share: float | None = None  # None: nothing completed in the month


def organisation_figures(marts: MartReader, period: ReportPeriod) -> OrganisationFigures:
    """Teams and tasks known by the period's end, its completions and WIP, outcome statuses."""
    first_day_after = period.data_end + dt.timedelta(days=1)
    task_counts = marts.frame(
        """
        select
            count(distinct team) as teams,
            count(*) as tasks,
            count(*) filter (
                where is_completed and completed_at >= ? and completed_at < ?
            ) as completed_in_month
        from marts.fct_tasks
        where created_at < ?
        """,
        ("teams", "tasks", "completed_in_month"),
        (period.month, first_day_after, first_day_after),
        reads=("fct_tasks",),
    )
    teams, tasks, completed = (
        (int(value) for value in task_counts.iloc[0]) if len(task_counts) else (0, 0, 0)
    )
    wip_on, wip = _wip_at_period_end(marts, period)
    status_counts, not_evaluated = _outcome_status_counts(marts, period)
    illusions = marts.scalar(
        """
        select count(*) filter (where is_productivity_illusion)
        from marts.mart_execution_vs_delivery
        where month = ?
        """,
        (period.month,),
        reads=("mart_execution_vs_delivery",),
    )
    unlinked_share = marts.scalar(
        """
        select sum(unlinked_throughput) / nullif(sum(throughput), 0)
        from marts.mart_unlinked_work
        where month_start = ?
        """,
        (period.month,),
        reads=("mart_unlinked_work",),
    )
    return OrganisationFigures(
        teams=teams,
        tasks=tasks,
        completed_in_month=completed,
        wip=wip,
        wip_on=wip_on,
        outcomes=sum(status_counts.values()) + not_evaluated,
        status_counts=status_counts,
        outcomes_not_evaluated=not_evaluated,
        illusions=None if illusions is None else int(illusions),
        unlinked_throughput_share=None if unlinked_share is None else float(unlinked_share),
    )


def _wip_at_period_end(
    marts: MartReader, period: ReportPeriod
) -> tuple[dt.date | None, int | None]:
    """WIP on the last day with daily flow up to ``data_end`` (0 when no task was in progress)."""
    last_day = marts.scalar(
        "select max(flow_date) from marts.fct_daily_flow where flow_date <= ?",
        (period.data_end,),
        reads=("fct_daily_flow",),
    )
    if last_day is None:
        return None, None
    wip = marts.scalar(
        """
        select coalesce(sum(task_count), 0)
        from marts.fct_daily_flow
        where is_wip_category and flow_date = ?
        """,
        (last_day,),
        reads=("fct_daily_flow",),
    )
    return last_day, int(wip)


def _outcome_status_counts(marts: MartReader, period: ReportPeriod) -> tuple[dict[str, int], int]:
    """Outcomes per status in the report month, and those without a row for that month."""
    frame = marts.frame(
        """
        select p.status, count(*) as outcomes
        from marts.dim_outcomes as d
        left join marts.mart_outcome_progress as p
            on p.outcome_id = d.outcome_id and p.month = ?
        group by p.status
        """,
        ("status", "outcomes"),
        (period.month,),
        reads=("dim_outcomes", "mart_outcome_progress"),
    )
    if frame.empty and marts.has("dim_outcomes"):
        # Outcomes are defined but the progress mart is absent: none of them is evaluated.
        defined = marts.scalar("select count(*) from marts.dim_outcomes", reads=("dim_outcomes",))
        frame = pd.DataFrame({"status": [None], "outcomes": [defined]})
    counts = dict.fromkeys(OUTCOME_STATUSES, 0)
    not_evaluated = 0
    for status, outcomes in frame.itertuples(index=False):
        if pd.isna(status):
            not_evaluated += int(outcomes)
        else:
            counts[str(status)] = counts.get(str(status), 0) + int(outcomes)
    return counts, not_evaluated


def team_names(marts: MartReader) -> list[str]:
    """Every team a flow mart names, sorted: the order that fixes each team's colour."""
    selects = [
        f"select coalesce(team, '{NO_TEAM}') as team from marts.{table}"
        for table in ("fct_tasks", "mart_flow_weekly", "fct_daily_flow")
        if marts.has(table)
    ]
    if not selects:
        return []
    frame = marts.frame(
        f"select distinct team from ({' union '.join(selects)}) order by team",
        ("team",),
        reads=(),
    )
    return [str(team) for team in frame["team"]]


def has_tasks(marts: MartReader) -> bool:
    return bool(marts.scalar("select count(*) > 0 from marts.fct_tasks", reads=("fct_tasks",)))


def weekly_flow(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Throughput and cycle-time percentiles per team for the 26 weeks up to ``data_end``."""
    return marts.frame(
        f"""
        select
            strftime(week_start, '%Y-%m-%d') as week_start,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            cycle_time_p50_days,
            cycle_time_p85_days
        from marts.mart_flow_weekly
        where week_start >= ? and week_start <= ?
        order by team, week_start
        """,
        WEEKLY_FLOW_COLUMNS,
        (period.trend_first_week, period.data_end),
        reads=("mart_flow_weekly",),
    )


def daily_wip(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """WIP per team per day over the last 26 weeks: work-in-progress categories summed."""
    return marts.frame(
        f"""
        select
            strftime(flow_date, '%Y-%m-%d') as flow_date,
            coalesce(team, '{NO_TEAM}') as team,
            sum(task_count) as wip
        from marts.fct_daily_flow
        where is_wip_category and flow_date >= ? and flow_date <= ?
        group by all
        order by flow_date, team
        """,
        DAILY_WIP_COLUMNS,
        (period.trend_first_day, period.data_end),
        reads=("fct_daily_flow",),
    )


def outcome_definitions(marts: MartReader) -> pd.DataFrame:
    """Every defined outcome with its KPI, baseline and target."""
    return marts.frame(
        """
        select
            outcome_id,
            statement,
            kpi_id,
            kpi_name,
            unit,
            direction,
            baseline_value,
            strftime(baseline_on, '%Y-%m-%d') as baseline_on,
            target_value,
            strftime(target_on, '%Y-%m-%d') as target_on,
            owner
        from marts.dim_outcomes
        order by outcome_id
        """,
        OUTCOME_COLUMNS,
        reads=("dim_outcomes",),
    )


def outcome_progress(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Each outcome's monthly rows from its baseline up to the report month, oldest first."""
    return marts.frame(
        """
        select
            outcome_id,
            strftime(month, '%Y-%m-%d') as month,
            actual_value,
            expected_value,
            target_value,
            progress,
            expected_progress,
            status,
            days_since_last_observation
        from marts.mart_outcome_progress
        where month <= ?
        order by outcome_id, month
        """,
        PROGRESS_COLUMNS,
        (period.month,),
        reads=("mart_outcome_progress",),
    )


AGING_COLUMNS = (
    "task_id",
    "team",
    "current_status",
    "age_days",
    "aging_band",
    "blocked_days",
    "outcome_id",
    "as_of_date",
)
QUALITY_COLUMNS = (
    "month_start",
    "team",
    "throughput",
    "rework_rate",
    "bugs_created",
    "defect_escape_rate",
    "bug_share",
)
QUALITY_MONTHS = 12


def aging_wip(marts: MartReader) -> pd.DataFrame:
    """Every task in WIP at the end of the run's as_of day, oldest first."""
    return marts.frame(
        f"""
        select
            task_id,
            coalesce(team, '{NO_TEAM}') as team,
            current_status,
            age_days,
            aging_band,
            blocked_days,
            outcome_id,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date
        from marts.mart_aging_wip
        order by age_days desc, task_key
        """,
        AGING_COLUMNS,
        reads=("mart_aging_wip",),
    )


def quality_monthly(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Rework, defect escape and bug share per team for the 12 months ending with the period."""
    first_month = months_before(period.month, QUALITY_MONTHS - 1)
    return marts.frame(
        f"""
        select
            strftime(month_start, '%Y-%m-%d') as month_start,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            rework_rate,
            bugs_created,
            defect_escape_rate,
            bug_share
        from marts.mart_quality_monthly
        where month_start >= ? and month_start <= ?
        order by team, month_start
        """,
        QUALITY_COLUMNS,
        (first_month, period.month),
        reads=("mart_quality_monthly",),
    )


REVIEW_COLUMNS = (
    "outcome_id",
    "statement",
    "owner",
    "status",
    "what_moved",
    "what_blocked",
    "stuck_linked_tasks",
    "is_productivity_illusion",
)
RECOMMENDATION_COLUMNS = (
    "outcome_id",
    "recommendation_rank",
    "rule_id",
    "recommendation",
    "reason",
)
SCORECARD_COLUMNS = (
    "outcome_id",
    "area",
    "area_order",
    "metric",
    "value",
    "previous_value",
    "trend",
    "sample_size",
    "rag",
)
EXECUTION_COLUMNS = (
    "outcome_id",
    "statement",
    "linked_tasks",
    "completed_linked_tasks",
    "execution_completeness",
    "outcome_progress",
    "expected_progress",
    "progress_gap",
    "outcome_status",
    "is_productivity_illusion",
    "illusion_reason",
)
WORKSTREAM_FORECAST_COLUMNS = (
    "workstream_id",
    "workstream_name",
    "outcome_id",
    "as_of_date",
    "remaining_tasks",
    "window_completed_tasks",
    "window_days",
    "forecast_p50_on",
    "forecast_p85_on",
    "forecast_p95_on",
    "forecast_note",
    "target_on",
    "probability_done_by_target",
)
OUTCOME_FORECAST_COLUMNS = (
    "outcome_id",
    "statement",
    "as_of_date",
    "remaining_tasks",
    "forecast_p50_on",
    "forecast_p85_on",
    "forecast_p95_on",
    "forecast_note",
    "target_on",
    "probability_done_by_target",
)
UNLINKED_COLUMNS = (
    "month_start",
    "team",
    "throughput",
    "unlinked_throughput",
    "unlinked_throughput_share",
    "active_time_days",
    "unlinked_active_time_days",
    "unlinked_active_time_share",
    "unlinked_wip_at_month_end",
)
ZOMBIE_COLUMNS = ("finding_type", "subject_id", "outcome_id", "team", "as_of_date", "finding")
UNLINKED_MONTHS = 12


def outcome_review(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """The review row of each outcome for the report month, in outcome order."""
    return marts.frame(
        """
        select
            outcome_id,
            statement,
            owner,
            status,
            what_moved,
            what_blocked,
            stuck_linked_tasks,
            is_productivity_illusion
        from marts.mart_outcome_review
        where month = ?
        order by outcome_id
        """,
        REVIEW_COLUMNS,
        (period.month,),
        reads=("mart_outcome_review",),
    )


def outcome_recommendations(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Every matched review rule of the report month, most urgent first per outcome."""
    return marts.frame(
        """
        select outcome_id, recommendation_rank, rule_id, recommendation, reason
        from marts.mart_outcome_recommendations
        where month = ?
        order by outcome_id, recommendation_rank
        """,
        RECOMMENDATION_COLUMNS,
        (period.month,),
        reads=("mart_outcome_recommendations",),
    )


def outcome_scorecard(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """The five scorecard areas of every outcome for the report month."""
    return marts.frame(
        """
        select
            outcome_id,
            area,
            area_order,
            metric,
            value,
            previous_value,
            trend,
            sample_size,
            rag
        from marts.mart_outcome_scorecard
        where month = ?
        order by outcome_id, area_order
        """,
        SCORECARD_COLUMNS,
        (period.month,),
        reads=("mart_outcome_scorecard",),
    )


def execution_vs_delivery(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Execution completeness beside outcome progress for the report month."""
    return marts.frame(
        """
        select
            e.outcome_id,
            d.statement,
            e.linked_tasks,
            e.completed_linked_tasks,
            e.execution_completeness,
            e.outcome_progress,
            e.expected_progress,
            e.progress_gap,
            e.outcome_status,
            e.is_productivity_illusion,
            e.illusion_reason
        from marts.mart_execution_vs_delivery as e
        inner join marts.dim_outcomes as d
            on e.outcome_id = d.outcome_id
        where e.month = ?
        order by e.outcome_id
        """,
        EXECUTION_COLUMNS,
        (period.month,),
        reads=("mart_execution_vs_delivery", "dim_outcomes"),
    )


def workstream_forecasts(marts: MartReader) -> pd.DataFrame:
    """The delivery forecast of every workstream at the run's as_of date."""
    return marts.frame(
        """
        select
            workstream_id,
            workstream_name,
            outcome_id,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date,
            remaining_tasks,
            window_completed_tasks,
            window_days,
            strftime(forecast_p50_on, '%Y-%m-%d') as forecast_p50_on,
            strftime(forecast_p85_on, '%Y-%m-%d') as forecast_p85_on,
            strftime(forecast_p95_on, '%Y-%m-%d') as forecast_p95_on,
            forecast_note,
            strftime(target_on, '%Y-%m-%d') as target_on,
            probability_done_by_target
        from marts.mart_delivery_forecast
        order by outcome_id, workstream_id
        """,
        WORKSTREAM_FORECAST_COLUMNS,
        reads=("mart_delivery_forecast",),
    )


def outcome_forecasts(marts: MartReader) -> pd.DataFrame:
    """The delivery forecast of every outcome's remaining linked work at the run's as_of date."""
    return marts.frame(
        """
        select
            outcome_id,
            statement,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date,
            remaining_tasks,
            strftime(forecast_p50_on, '%Y-%m-%d') as forecast_p50_on,
            strftime(forecast_p85_on, '%Y-%m-%d') as forecast_p85_on,
            strftime(forecast_p95_on, '%Y-%m-%d') as forecast_p95_on,
            forecast_note,
            strftime(target_on, '%Y-%m-%d') as target_on,
            probability_done_by_target
        from marts.mart_outcome_forecast
        order by outcome_id
        """,
        OUTCOME_FORECAST_COLUMNS,
        reads=("mart_outcome_forecast",),
    )


def unlinked_work(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Unlinked shares per team for the 12 months ending with the report month."""
    return marts.frame(
        f"""
        select
            strftime(month_start, '%Y-%m-%d') as month_start,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            unlinked_throughput,
            unlinked_throughput_share,
            active_time_days,
            unlinked_active_time_days,
            unlinked_active_time_share,
            unlinked_wip_at_month_end
        from marts.mart_unlinked_work
        where month_start >= ? and month_start <= ?
        order by team, month_start
        """,
        UNLINKED_COLUMNS,
        (months_before(period.month, UNLINKED_MONTHS - 1), period.month),
        reads=("mart_unlinked_work",),
    )


def zombie_findings(marts: MartReader) -> pd.DataFrame:
    """Outcomes without active work and work on finished outcomes, at the run's as_of date."""
    return marts.frame(
        """
        select
            finding_type,
            subject_id,
            outcome_id,
            team,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date,
            finding
        from marts.mart_zombie_work
        order by finding_type, outcome_id, subject_id
        """,
        ZOMBIE_COLUMNS,
        reads=("mart_zombie_work",),
    )


def months_before(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months before ``month`` (a first day)."""
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)
