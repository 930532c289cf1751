"""Read-only queries on schema ``marts``: the only place the report touches SQL.

Every reader selects rows and columns of one or more marts and computes nothing: counts, monthly
buckets, windows, percentiles and rates are made in the dbt models, where they are defined once
and unit-tested. A build always creates every mart the report reads, so a missing mart is an
error that names it, never an empty section.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pipelines.report.period import ReportPeriod

REPORT_MARTS = (
    "fct_tasks",
    "fct_daily_flow_by_column",
    "mart_org_monthly",
    "mart_flow_weekly",
    "mart_wip_daily",
    "mart_aging_wip",
    "mart_aging_wip_by_team",
    "mart_quality_monthly",
    "dim_outcomes",
    "mart_outcome_progress",
    "mart_outcome_review",
    "mart_outcome_recommendations",
    "mart_outcome_scorecard",
    "mart_execution_vs_delivery",
    "mart_delivery_forecast",
    "mart_delivery_forecast_how_many",
    "mart_outcome_forecast",
    "mart_unlinked_work",
    "mart_zombie_work",
    "dim_delivery_thresholds",
)

OUTCOME_STATUSES = ("off_track", "at_risk", "no_data", "on_track", "achieved")

WEEKLY_FLOW_COLUMNS = (
    "week_start",
    "team",
    "throughput",
    "cycle_time_p50_days",
    "cycle_time_p85_days",
    "flow_efficiency",
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


class MissingMartError(RuntimeError):
    """The warehouse lacks a mart the report reads: it was not built by a complete run."""


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
    """A read-only view of schema ``marts`` that remembers which relations it was asked to read.

    ``read`` lets each section name, on the page, the marts its figures come from.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: frozenset[str] | None = None):
        self._con = con
        if tables is None:
            rows = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ('marts', 'config')"
            ).fetchall()
            tables = frozenset(name for (name,) in rows)
        self._tables = tables
        self.read: list[str] = []

    def fresh(self) -> MartReader:
        """The same connection with an empty record of what was read."""
        return MartReader(self._con, self._tables)

    def missing(self, tables: Sequence[str] = REPORT_MARTS) -> tuple[str, ...]:
        return tuple(table for table in tables if f"marts.{table}" not in self._tables)

    def require(self, tables: Sequence[str] = REPORT_MARTS) -> None:
        """Raise MissingMartError naming every mart of ``tables`` the warehouse lacks."""
        missing = self.missing(tables)
        if missing:
            names = ", ".join(f"marts.{table}" for table in missing)
            raise MissingMartError(
                f"the warehouse has no {names}: build it with a complete pipeline run "
                "(owh run or owh demo) before building the report"
            )

    def _note(self, relations: Sequence[str]) -> None:
        for relation in relations:
            if relation not in self.read:
                self.read.append(relation)

    def frame(
        self,
        sql: str,
        columns: Sequence[str],
        params: Sequence[object] = (),
        *,
        reads: Sequence[str],
    ) -> pd.DataFrame:
        """Rows of ``sql``, which selects ``columns`` from the marts it ``reads``."""
        self.require(reads)
        self._note([f"marts.{table}" for table in reads])
        frame = self._con.execute(sql, list(params)).df()
        return frame if len(frame) else pd.DataFrame({column: [] for column in columns})

    def threshold(self, name: str) -> float:
        """A delivery rule's threshold as the rules read it: a column of dim_delivery_thresholds."""
        return float(
            self.scalar(
                f"select {name} from marts.dim_delivery_thresholds",
                reads=["dim_delivery_thresholds"],
            )
        )

    def columns(self, table: str) -> list[str]:
        """The column names of ``marts.<table>``, in table order (a read of that mart)."""
        self.require((table,))
        self._note([f"marts.{table}"])
        rows = self._con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        return [name for (name,) in rows]

    def scalar(self, sql: str, params: Sequence[object] = (), *, reads: Sequence[str]) -> object:
        """The single value of ``sql``, which reads the marts ``reads``."""
        self.require(reads)
        self._note([f"marts.{table}" for table in reads])
        return self._con.execute(sql, list(params)).fetchone()[0]


@dataclass(frozen=True)
class OrganisationFigures:
    """The headline numbers of the report month, one row of ``mart_org_monthly``."""

    teams: int
    tasks: int
    completed_in_month: int
    wip: int | None  # None: the mart has no row for the month (no tasks and no outcomes yet)
    wip_on: dt.date | None
    outcomes: int
    status_counts: dict[str, int] = field(default_factory=dict)
    outcomes_not_evaluated: int = 0
    illusions: int = 0
    unlinked_throughput_share: float | None = None  # None: nothing completed in the month


ORG_MONTHLY_COLUMNS = (
    "month_end_on",
    "teams",
    "tasks_created_to_date",
    "throughput",
    "unlinked_throughput_share",
    "wip_at_month_end",
    "outcomes",
    *(f"outcomes_{status}" for status in OUTCOME_STATUSES),
    "outcomes_not_evaluated",
    "productivity_illusions",
)


def organisation_figures(marts: MartReader, period: ReportPeriod) -> OrganisationFigures:
    """The report month's row of ``mart_org_monthly``: teams and tasks known by its end, its
    completions in each team's local month, WIP at its end, outcome statuses and illusions."""
    frame = marts.frame(
        f"""
        select {", ".join(ORG_MONTHLY_COLUMNS)}
        from marts.mart_org_monthly
        where month = ?
        """,
        ORG_MONTHLY_COLUMNS,
        (period.month,),
        reads=("mart_org_monthly",),
    )
    if frame.empty:
        # a month before any task or outcome: nothing to count yet
        return OrganisationFigures(
            teams=0, tasks=0, completed_in_month=0, wip=None, wip_on=None, outcomes=0
        )
    row = records(frame)[0]
    return OrganisationFigures(
        teams=int(row["teams"]),
        tasks=int(row["tasks_created_to_date"]),
        completed_in_month=int(row["throughput"]),
        wip=int(row["wip_at_month_end"]),
        wip_on=pd.Timestamp(row["month_end_on"]).date(),
        outcomes=int(row["outcomes"]),
        status_counts={status: int(row[f"outcomes_{status}"]) for status in OUTCOME_STATUSES},
        outcomes_not_evaluated=int(row["outcomes_not_evaluated"]),
        illusions=int(row["productivity_illusions"]),
        unlinked_throughput_share=row["unlinked_throughput_share"],
    )


def team_names(marts: MartReader) -> list[str]:
    """Every team a flow mart names, sorted: the order that fixes each team's colour."""
    tables = ("fct_tasks", "mart_flow_weekly", "mart_wip_daily")
    selects = " union ".join(
        f"select coalesce(team, '{NO_TEAM}') as team from marts.{table}" for table in tables
    )
    frame = marts.frame(
        f"select distinct team from ({selects}) order by team", ("team",), reads=tables
    )
    return [str(team) for team in frame["team"]]


def has_tasks(marts: MartReader) -> bool:
    return bool(marts.scalar("select exists (select 1 from marts.fct_tasks)", reads=("fct_tasks",)))


def weekly_flow(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Throughput, cycle-time percentiles and flow efficiency per team for the 26 weeks up to
    ``data_end``."""
    return marts.frame(
        f"""
        select
            strftime(week_start, '%Y-%m-%d') as week_start,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            cycle_time_p50_days,
            cycle_time_p85_days,
            flow_efficiency
        from marts.mart_flow_weekly
        where week_start >= ? and week_start <= ?
        order by team, week_start
        """,
        WEEKLY_FLOW_COLUMNS,
        (period.trend_first_week, period.data_end),
        reads=("mart_flow_weekly",),
    )


def daily_wip(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """WIP per team per day over the last 26 weeks, as ``mart_wip_daily`` counts it."""
    return marts.frame(
        f"""
        select
            strftime(flow_date, '%Y-%m-%d') as flow_date,
            coalesce(team, '{NO_TEAM}') as team,
            wip
        from marts.mart_wip_daily
        where flow_date >= ? and flow_date <= ?
        order by flow_date, team
        """,
        DAILY_WIP_COLUMNS,
        (period.trend_first_day, period.data_end),
        reads=("mart_wip_daily",),
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
    "month",
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


AGING_BY_TEAM_COLUMNS = (
    "team",
    "as_of_date",
    "wip_tasks",
    "below_p50_tasks",
    "p50_p85_tasks",
    "p85_p95_tasks",
    "above_p95_tasks",
    "unbanded_tasks",
    "trailing_window_days",
)


def aging_wip_by_team(marts: MartReader) -> pd.DataFrame:
    """Each team's tasks in WIP at the run's as_of day, counted per aging band, by team name."""
    return marts.frame(
        f"""
        select
            coalesce(team, '{NO_TEAM}') as team,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date,
            wip_tasks,
            below_p50_tasks,
            p50_p85_tasks,
            p85_p95_tasks,
            above_p95_tasks,
            unbanded_tasks,
            trailing_window_days
        from marts.mart_aging_wip_by_team
        order by team
        """,
        AGING_BY_TEAM_COLUMNS,
        reads=("mart_aging_wip_by_team",),
    )


def trailing_window_days(marts: MartReader) -> int | None:
    """The trailing window of the team cycle-time percentiles (var ``trailing_window_days``), as
    ``mart_aging_wip_by_team`` carries it; None when no team has work in progress."""
    value = marts.scalar(
        "select any_value(trailing_window_days) from marts.mart_aging_wip_by_team",
        reads=("mart_aging_wip_by_team",),
    )
    return None if value is None else int(value)


def quality_monthly(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Rework, defect escape and bug share per team for the 12 months ending with the period."""
    first_month = months_before(period.month, QUALITY_MONTHS - 1)
    return marts.frame(
        f"""
        select
            strftime(month, '%Y-%m-%d') as month,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            rework_rate,
            bugs_created,
            defect_escape_rate,
            bug_share
        from marts.mart_quality_monthly
        where month >= ? and month <= ?
        order by team, month
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
    "month",
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


@dataclass(frozen=True)
class ForecastParameters:
    """How the delivery forecasts were simulated, as ``mart_delivery_forecast`` records it."""

    simulation_trials: int
    window_days: int


def forecast_parameters(marts: MartReader) -> ForecastParameters | None:
    """The trials and throughput window of the forecasts; None when no workstream is forecast.

    Every row of a run carries the same values (dbt vars); two different ones would mean a
    mart assembled from two runs, which the page must not paper over.
    """
    frame = marts.frame(
        """
        select distinct simulation_trials, window_days
        from marts.mart_delivery_forecast
        """,
        ("simulation_trials", "window_days"),
        reads=("mart_delivery_forecast",),
    )
    if frame.empty:
        return None
    if len(frame) > 1:
        raise ValueError(
            "marts.mart_delivery_forecast mixes simulation parameters: "
            f"{records(frame)}; rebuild the warehouse"
        )
    row = records(frame)[0]
    return ForecastParameters(int(row["simulation_trials"]), int(row["window_days"]))


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
            strftime(month, '%Y-%m-%d') as month,
            coalesce(team, '{NO_TEAM}') as team,
            throughput,
            unlinked_throughput,
            unlinked_throughput_share,
            active_time_days,
            unlinked_active_time_days,
            unlinked_active_time_share,
            unlinked_wip_at_month_end
        from marts.mart_unlinked_work
        where month >= ? and month <= ?
        order by team, month
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


BOARD_COLUMN_FLOW_COLUMNS = (
    "flow_date",
    "team",
    "workflow_column",
    "workflow_column_order",
    "task_count",
    "is_wip_column",
)


def daily_flow_by_column(marts: MartReader, period: ReportPeriod) -> pd.DataFrame:
    """Tasks per board column per team at each day's end over the 26 weeks of days up to
    ``data_end``, in board order."""
    return marts.frame(
        f"""
        select
            strftime(flow_date, '%Y-%m-%d') as flow_date,
            coalesce(team, '{NO_TEAM}') as team,
            workflow_column,
            workflow_column_order,
            task_count,
            is_wip_column
        from marts.fct_daily_flow_by_column
        where flow_date >= ? and flow_date <= ?
        order by team, workflow_column_order, workflow_column, flow_date
        """,
        BOARD_COLUMN_FLOW_COLUMNS,
        (period.trend_first_day, period.data_end),
        reads=("fct_daily_flow_by_column",),
    )


@dataclass(frozen=True)
class TrailingPercentiles:
    """The trailing cycle-time percentiles ``mart_flow_weekly`` publishes: which percents, over
    how many weeks, and the columns that hold them (``cycle_time_p85_days_trailing_12w``)."""

    weeks: int
    columns: dict[int, str]


_TRAILING_CYCLE_TIME = re.compile(r"cycle_time_p(\d+)_days_trailing_(\d+)w")


def trailing_cycle_time_percentiles(marts: MartReader) -> TrailingPercentiles:
    """The percents and window of the trailing cycle-time columns of ``mart_flow_weekly``, read
    from its columns, so the page names what the mart computes and nothing else."""
    found = [
        (int(match.group(1)), int(match.group(2)), name)
        for name in marts.columns("mart_flow_weekly")
        if (match := _TRAILING_CYCLE_TIME.fullmatch(name))
    ]
    windows = {weeks for _, weeks, _ in found}
    if len(windows) != 1:
        raise ValueError(
            "marts.mart_flow_weekly should have trailing cycle-time percentile columns over one "
            f"window of weeks, found windows {sorted(windows)}"
        )
    return TrailingPercentiles(
        weeks=windows.pop(), columns={percent: name for percent, _, name in sorted(found)}
    )


def weekly_trailing_cycle_time(
    marts: MartReader, week_start: dt.date, percentiles: TrailingPercentiles
) -> pd.DataFrame:
    """Each team's trailing cycle-time percentiles of the week starting ``week_start``."""
    selected = ", ".join(
        f"{column} as p{percent}" for percent, column in percentiles.columns.items()
    )
    return marts.frame(
        f"""
        select coalesce(team, '{NO_TEAM}') as team, {selected}
        from marts.mart_flow_weekly
        where week_start = ?
        order by team
        """,
        ("team", *(f"p{percent}" for percent in percentiles.columns)),
        (week_start,),
        reads=("mart_flow_weekly",),
    )


FINISHED_TASK_COLUMNS = ("task_key", "title", "team", "completed_at", "cycle_time_days")


def finished_tasks(marts: MartReader, first_day: dt.date, last_day: dt.date) -> pd.DataFrame:
    """Tasks completed from ``first_day`` to the end of ``last_day`` (UTC) that have a cycle
    time, by team and completion time."""
    return marts.frame(
        f"""
        select
            task_key,
            title,
            coalesce(team, '{NO_TEAM}') as team,
            strftime(completed_at, '%Y-%m-%d %H:%M') as completed_at,
            cycle_time_days
        from marts.fct_tasks
        where
            completed_at >= ?
            and completed_at < ?
            and cycle_time_days is not null
        order by team, completed_at, task_key
        """,
        FINISHED_TASK_COLUMNS,
        (first_day, last_day + dt.timedelta(days=1)),
        reads=("fct_tasks",),
    )


# The shares of trials the report prints for "how many by a date": the count reached in 85 of 100
# trials, and in half of them (columns completed_p85_tasks and completed_p50_tasks of the mart).
HOW_MANY_PERCENTS = (85, 50)
HOW_MANY_COLUMNS = (
    "workstream_id",
    "workstream_name",
    "as_of_date",
    "forecast_on",
    "days_ahead",
    "is_target_date",
    "remaining_tasks",
    *(f"completed_p{percent}_tasks" for percent in HOW_MANY_PERCENTS),
    "probability_all_done",
)


def how_many_forecasts(marts: MartReader) -> pd.DataFrame:
    """How many of each workstream's remaining tasks are done by each forecast date."""
    return marts.frame(
        f"""
        select
            workstream_id,
            workstream_name,
            strftime(as_of_date, '%Y-%m-%d') as as_of_date,
            strftime(forecast_on, '%Y-%m-%d') as forecast_on,
            days_ahead,
            is_target_date,
            remaining_tasks,
            {", ".join(f"completed_p{percent}_tasks" for percent in HOW_MANY_PERCENTS)},
            probability_all_done
        from marts.mart_delivery_forecast_how_many
        order by workstream_id, forecast_on
        """,
        HOW_MANY_COLUMNS,
        reads=("mart_delivery_forecast_how_many",),
    )
