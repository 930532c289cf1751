"""The leadership report: figures, sections, badges, offline self-containment, determinism.

The marts are hand-made in a temporary DuckDB file with the column names of the dbt contracts,
so every figure below can be recomputed by reading the rows in ``seed_marts``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
import pytest

from pipelines.lib.duckdb_connection import connection
from pipelines.report import ReportResult, build_report
from pipelines.report.charts import _new_figure, inline_plotlyjs
from pipelines.report.fragments import format_number, format_share
from pipelines.report.period import ReportPeriod, last_complete_month
from pipelines.report.queries import MartReader, MissingMartError, quality_monthly, weekly_flow
from pipelines.report.sections.flow import _complete_daily_grid
from pipelines.report.sections.gaps import NO_OUTCOMES, NO_TASKS

# October's last day: a run's data reaches the end of its as-of day, so October is complete and
# is the default report month. The seeded rows run up to 15 October, the day the marts that carry
# an as_of_date (aging, forecasts, zombie work) were last computed.

AS_OF = dt.date(2026, 10, 31)
MID_OCTOBER = dt.date(2026, 10, 15)  # a Thursday: October is still in progress
PARTIAL_OCTOBER = "October 2026 (partial: 1\N{EN DASH}15 October)"

MARTS_DDL = {
    "fct_tasks": """
        create table marts.fct_tasks (
            task_key varchar, source varchar, task_id varchar, title varchar, team varchar,
            project varchar, task_type varchar, flow_item_type varchar, current_status varchar,
            current_category varchar, created_at timestamp, started_at timestamp,
            first_completed_at timestamp, completed_at timestamp, cancelled_at timestamp,
            lead_time_days double, cycle_time_days double, reopen_count integer,
            is_completed boolean, is_cancelled boolean, workstream_id varchar,
            outcome_id varchar, is_linked boolean
        )""",
    "mart_org_monthly": """
        create table marts.mart_org_monthly (
            month date, month_end_on date, teams bigint, tasks_created_to_date bigint,
            tasks_created bigint, throughput bigint, unlinked_throughput bigint,
            unlinked_throughput_share double, wip_at_month_end bigint, outcomes bigint,
            outcomes_off_track bigint, outcomes_at_risk bigint, outcomes_no_data bigint,
            outcomes_on_track bigint, outcomes_achieved bigint, outcomes_not_evaluated bigint,
            productivity_illusions bigint
        )""",
    "mart_wip_daily": """
        create table marts.mart_wip_daily (flow_date date, team varchar, wip bigint)""",
    "mart_aging_wip_by_team": """
        create table marts.mart_aging_wip_by_team (
            team varchar, as_of_date date, wip_tasks bigint, below_p50_tasks bigint,
            p50_p85_tasks bigint, p85_p95_tasks bigint, above_p95_tasks bigint,
            unbanded_tasks bigint, trailing_window_days integer
        )""",
    "mart_flow_weekly": """
        create table marts.mart_flow_weekly (
            week_start date, team varchar, throughput integer, arrivals integer,
            net_flow integer, lead_time_p50_days double, lead_time_p85_days double,
            lead_time_p95_days double, cycle_time_p50_days double, cycle_time_p85_days double,
            cycle_time_p95_days double, cycle_time_p50_days_trailing_12w double,
            cycle_time_p85_days_trailing_12w double, cycle_time_p95_days_trailing_12w double,
            avg_daily_wip double, flow_efficiency double
        )""",
    "fct_daily_flow_by_column": """
        create table marts.fct_daily_flow_by_column (
            flow_date date, team varchar, workflow_column varchar,
            workflow_column_order integer, task_count bigint, is_wip_column boolean
        )""",
    "dim_outcomes": """
        create table marts.dim_outcomes (
            outcome_id varchar, statement varchar, kpi_id varchar, kpi_name varchar,
            unit varchar, direction varchar, baseline_value double, baseline_on date,
            target_value double, target_on date, owner varchar, workstream_count integer
        )""",
    "mart_outcome_progress": """
        create table marts.mart_outcome_progress (
            outcome_id varchar, kpi_id varchar, month date, evaluated_on date,
            baseline_value double, target_value double, actual_value double,
            observation_count integer, last_observed_on date,
            days_since_last_observation integer, progress double, expected_progress double,
            expected_value double, status varchar
        )""",
    "mart_aging_wip": """
        create table marts.mart_aging_wip (
            task_key varchar, source varchar, task_id varchar, title varchar, team varchar,
            current_status varchar, workstream_id varchar, outcome_id varchar,
            as_of_date date, age_days double, days_in_status double, aging_band varchar,
            blocked_days double
        )""",
    "mart_quality_monthly": """
        create table marts.mart_quality_monthly (
            month date, team varchar, throughput bigint, reopened_completions bigint,
            rework_rate double, bugs_created bigint, escaped_bugs_created bigint,
            defect_escape_rate double, bug_completions bigint, bug_share double
        )""",
    "mart_outcome_review": """
        create table marts.mart_outcome_review (
            outcome_id varchar, month date, evaluated_on date, statement varchar,
            owner varchar, status varchar, what_moved varchar, what_blocked varchar,
            stuck_linked_tasks bigint, is_productivity_illusion boolean
        )""",
    "mart_outcome_recommendations": """
        create table marts.mart_outcome_recommendations (
            outcome_id varchar, month date, rule_id varchar, evaluated_on date,
            rule_priority integer, recommendation_rank bigint, recommendation varchar,
            reason varchar
        )""",
    "mart_outcome_scorecard": """
        create table marts.mart_outcome_scorecard (
            outcome_id varchar, month date, area varchar, area_order integer, metric varchar,
            value double, previous_value double, trend varchar, sample_size bigint, rag varchar
        )""",
    "mart_execution_vs_delivery": """
        create table marts.mart_execution_vs_delivery (
            outcome_id varchar, month date, linked_tasks bigint, completed_linked_tasks bigint,
            execution_completeness double, outcome_progress double, expected_progress double,
            progress_gap double, outcome_status varchar, is_productivity_illusion boolean,
            illusion_reason varchar
        )""",
    "mart_delivery_forecast": """
        create table marts.mart_delivery_forecast (
            workstream_id varchar, workstream_name varchar, outcome_id varchar, as_of_date date,
            remaining_tasks bigint, window_completed_tasks bigint, window_days bigint,
            forecast_p50_on date, forecast_p85_on date, forecast_p95_on date,
            forecast_note varchar, target_on date, probability_done_by_target double,
            simulation_trials bigint
        )""",
    "mart_delivery_forecast_how_many": """
        create table marts.mart_delivery_forecast_how_many (
            workstream_id varchar, workstream_name varchar, outcome_id varchar,
            as_of_date date, forecast_on date, days_ahead bigint, is_target_date boolean,
            remaining_tasks bigint, window_days bigint, window_completed_tasks bigint,
            completed_p50_tasks bigint, completed_p85_tasks bigint, completed_p95_tasks bigint,
            probability_all_done double, simulation_trials bigint, simulation_seed bigint,
            horizon_days bigint
        )""",
    "mart_outcome_forecast": """
        create table marts.mart_outcome_forecast (
            outcome_id varchar, statement varchar, as_of_date date, remaining_tasks bigint,
            forecast_p50_on date, forecast_p85_on date, forecast_p95_on date,
            forecast_note varchar, target_on date, probability_done_by_target double
        )""",
    "mart_unlinked_work": """
        create table marts.mart_unlinked_work (
            month date, team varchar, throughput bigint, unlinked_throughput bigint,
            unlinked_throughput_share double, active_time_days double,
            unlinked_active_time_days double, unlinked_active_time_share double,
            unlinked_wip_at_month_end bigint
        )""",
    "mart_zombie_work": """
        create table marts.mart_zombie_work (
            finding_type varchar, subject_id varchar, outcome_id varchar, team varchar,
            as_of_date date, finding varchar
        )""",
}

# (outcome_id, month, status, what_moved, what_blocked, stuck_linked_tasks, is_illusion)
REVIEW = [
    (
        "O-INV",
        "2026-09-01",
        "at_risk",
        "Invoice time fell in September.",
        "Nothing blocked.",
        0,
        False,
    ),
    (
        "O-INV",
        "2026-10-01",
        "off_track",
        "Invoice time fell from 4.70 to 4.40 days.",
        "1 of the 2 linked tasks in progress is stuck.",
        1,
        True,
    ),
    (
        "O-ADO",
        "2026-10-01",
        "on_track",
        "Self-service share rose from 31.0 to 42.0 %.",
        "No linked work in progress at the end of 2026-10-15.",
        0,
        False,
    ),
]

# (outcome_id, month, rule_id, rank, recommendation, reason)
RECOMMENDATIONS = [
    ("O-INV", "2026-09-01", "review_plan", 1, "Review the plan", "Behind in September."),
    (
        "O-INV",
        "2026-10-01",
        "investigate_illusion",
        1,
        "Investigate the hypothesis",
        "90% of the work is done.",
    ),
    ("O-INV", "2026-10-01", "unblock_linked_work", 2, "Unblock or re-plan A-3", "14 days old."),
    ("O-ADO", "2026-10-01", "continue", 1, "Continue: on track", "Ahead of its path."),
]

# (outcome_id, area, area_order, metric, value, previous_value, trend, rag)
SCORECARD = [
    ("O-INV", "flow_stability", 1, "cycle_time_p85_to_p50_ratio", 2.26, 2.0, "worsening", "amber"),
    ("O-INV", "quality_signals", 2, "rework_rate", 0.25, 0.25, "steady", "red"),
    ("O-INV", "adoption", 3, "kpi_progress_vs_expected", None, None, None, "no_data"),
    ("O-INV", "business_impact", 4, "kpi_progress_vs_expected", -0.3, -0.2333, "worsening", "red"),
    ("O-INV", "confidence", 5, "weaker_dimension_mean_score", 3.5, 3.0, "improving", "green"),
    ("O-ADO", "flow_stability", 1, "cycle_time_p85_to_p50_ratio", 1.5, None, None, "green"),
    ("O-ADO", "quality_signals", 2, "rework_rate", 0.0, None, None, "green"),
    ("O-ADO", "adoption", 3, "kpi_progress_vs_expected", 0.05, 0.025, "improving", "green"),
    ("O-ADO", "business_impact", 4, "kpi_progress_vs_expected", None, None, None, "no_data"),
    ("O-ADO", "confidence", 5, "weaker_dimension_mean_score", None, None, None, "no_data"),
]

# (outcome_id, linked, completed, completeness, progress, expected, gap, status, illusion, reason)
EXECUTION = [
    (
        "O-INV",
        10,
        9,
        0.9,
        0.2,
        0.5,
        0.3,
        "off_track",
        True,
        "90% of the 10 linked tasks are done, but the KPI has made 20% of its way",
    ),
    ("O-ADO", 4, 2, 0.5, 0.55, 0.5, -0.05, "on_track", False, None),
]

# (workstream_id, name, outcome_id, remaining, done in window, p50, p85, p95, note, target, p)
WORKSTREAM_FORECASTS = [
    (
        "WS-1",
        "Invoice matching",
        "O-INV",
        4,
        12,
        "2026-11-20",
        "2026-12-05",
        "2026-12-20",
        None,
        "2027-01-01",
        0.97,
    ),
    ("WS-2", "Help centre", "O-ADO", 3, 0, None, None, None, "no_throughput", "2026-12-01", None),
]

# How many of the remaining tasks by 30 and 60 days after 15 October and by the target date:
# (workstream_id, forecast_on, days_ahead, is_target_date, remaining, p50, p85, p95, all done).
# WS-1's target, 1 January, is day 78; all done by then is its probability by target, 0.97.
HOW_MANY = [
    ("WS-1", "2026-11-14", 30, False, 4, 2, 1, 0, 0.05),
    ("WS-1", "2026-12-14", 60, False, 4, 4, 3, 2, 0.62),
    ("WS-1", "2027-01-01", 78, True, 4, 4, 4, 3, 0.97),
    ("WS-2", "2026-11-14", 30, False, 3, 0, 0, 0, 0.0),
    ("WS-2", "2026-12-01", 47, True, 3, 0, 0, 0, 0.0),
    ("WS-2", "2026-12-14", 60, False, 3, 0, 0, 0, 0.0),
]

# (month, team, throughput, unlinked, share, active, unlinked active, share, unlinked wip)
UNLINKED = [
    ("2025-10-01", "Alpha", 4, 4, 1.0, 8.0, 8.0, 1.0, 0),  # 13 months back: outside the window
    ("2026-09-01", "Alpha", 1, 0, 0.0, 2.0, 0.0, 0.0, 1),
    ("2026-10-01", "Alpha", 4, 1, 0.25, 10.0, 3.0, 0.3, 1),
    ("2026-10-01", "Gamma", 2, 0, 0.0, 4.0, 0.0, 0.0, 0),
]

ZOMBIES = [
    (
        "outcome_without_active_work",
        "O-ADO",
        "O-ADO",
        None,
        "O-ADO is not achieved, but none of its linked tasks is in progress",
    ),
    *(
        ("work_past_target_date", f"jira:Z-{n}", "O-INV", "Alpha", f"Z-{n} is still in progress")
        for n in range(1, 10)
    ),
]

# one row of dim_delivery_thresholds, as its contract names the columns
DELIVERY_THRESHOLDS = {
    "illusion_min_execution_completeness": 0.8,
    "illusion_progress_gap_tolerance": 0.05,
    "zombie_recent_completion_days": 30,
    "review_unlinked_share_max": 0.25,
    "review_min_probability_by_target": 0.5,
}

# (task_key, team, created_at, completed_at, is_completed, is_cancelled)
TASKS = [
    ("jira:A-1", "Alpha", "2026-08-01 09:00", "2026-10-03 10:00", True, False),
    ("jira:A-2", "Alpha", "2026-09-01 09:00", "2026-09-30 23:30", True, False),
    ("jira:A-3", "Alpha", "2026-10-01 09:00", None, False, False),
    # completed exactly at midnight on the month boundary: October, not September
    ("jira:B-1", "Beta", "2026-07-10 09:00", "2026-10-01 00:00", True, False),
    ("jira:B-2", "Beta", "2026-09-15 09:00", None, False, True),
    ("jira:G-1", "Gamma", "2026-09-20 09:00", "2026-10-14 16:00", True, False),
    ("jira:G-2", "Gamma", "2026-10-02 09:00", None, False, False),
    ("jira:G-3", "Gamma", "2026-10-10 09:00", "2026-10-12 11:00", True, False),
]

# (flow_date, team, wip)
WIP_DAILY = [
    ("2026-09-30", "Alpha", 4),
    ("2026-09-30", "Beta", 2),
    ("2026-10-14", "Alpha", 1),
    ("2026-10-14", "Gamma", 1),
    ("2026-10-15", "Alpha", 2),
    ("2026-10-15", "Beta", 1),
    ("2026-10-15", "Gamma", 2),
]

# The organisation's months. October's throughput, 6, is the sum over teams of UNLINKED's (each
# team's local month): a UTC month over TASKS would give 4, which is what the report used to
# count itself. (month, month_end_on, teams, tasks to date, created, throughput, unlinked,
# share, wip, outcomes, off_track, at_risk, no_data, on_track, achieved, not evaluated, illusions)
ORG_MONTHLY = [
    ("2026-09-01", "2026-09-30", 3, 5, 3, 1, 0, 0.0, 6, 2, 0, 1, 0, 1, 0, 0, 0),
    ("2026-10-01", "2026-10-15", 3, 8, 3, 6, 1, 1 / 6, 5, 2, 1, 0, 0, 1, 0, 0, 1),
]

# (team, wip, below_p50, p50_p85, p85_p95, above_p95, unbanded): AGING counted per band
AGING_BY_TEAM = [
    ("Alpha", 1, 0, 0, 0, 1, 0),
    ("Beta", 1, 0, 0, 0, 0, 1),
    ("Gamma", 2, 1, 0, 1, 0, 0),
]
TRAILING_WINDOW_DAYS = 60  # not the default 90: the page must print the mart's value
SIMULATION_TRIALS = 2500  # not the default 10,000
FORECAST_WINDOW_DAYS = 45  # not the default 90

# (week_start, team, throughput, cycle_time_p50_days, cycle_time_p85_days)
WEEKLY_FLOW = [
    ("2026-04-13", "Alpha", 3, 2.0, 4.0),
    ("2026-04-20", "Alpha", 1, 3.0, 5.0),
    ("2026-09-28", "Alpha", 2, 4.0, 6.5),
    ("2026-09-28", "Beta", 1, 10.0, 12.0),
    ("2026-10-05", "Beta", 0, None, None),
    ("2026-10-12", "Gamma", 2, 1.5, 2.0),
]

# The week of 26 October holds October's last day: its trailing-12-week cycle-time percentiles
# are the scatterplot's lines, here the continuous percentiles of the cycle times of CYCLE_TIMES
# completed from 10 August (Alpha: 12 and 30.5 days, so p50 = 12 + 0.5 x 18.5 = 21.25; Gamma: 2
# and 20.25). Beta has no cycle time in the window: no lines.
# (week_start, team, throughput, p50, p85, p95 of the trailing 12 weeks, flow_efficiency)
TRAILING_WEEK = [
    ("2026-10-26", "Alpha", 0, 21.25, 27.725, 29.575, None),
    ("2026-10-26", "Beta", 0, None, None, None, None),
    ("2026-10-26", "Gamma", 0, 11.125, 17.5125, 19.3375, None),
]
# flow efficiency of the weeks of WEEKLY_FLOW (the others stay null)
FLOW_EFFICIENCY = [("2026-09-28", "Alpha", 0.4), ("2026-10-12", "Gamma", 0.75)]

# (task_key, title, cycle_time_days) of the completed TASKS; B-1 has no cycle time (an inferred
# transition) and is left out of the scatterplot
CYCLE_TIMES = [
    ("jira:A-1", "Match invoices <b>automatically</b>", 30.5),
    ("jira:A-2", None, 12.0),
    ("jira:B-1", "Old import", None),
    ("jira:G-1", "Help centre search", 20.25),
    ("jira:G-3", "", 2.0),
]

# (flow_date, team, workflow_column, workflow_column_order, task_count, is_wip_column)
BOARD_FLOW = [
    ("2026-10-30", "Alpha", "To Do", 2, 3, False),
    ("2026-10-30", "Alpha", "In Progress", 3, 2, True),
    ("2026-10-30", "Alpha", "Done", 7, 5, False),
    ("2026-10-31", "Alpha", "To Do", 2, 2, False),
    ("2026-10-31", "Alpha", "In Progress", 3, 2, True),
    ("2026-10-31", "Alpha", "Done", 7, 6, False),
    # Gamma's board has a Review column; its first day in the mart is the 31st
    ("2026-10-31", "Gamma", "In Progress", 3, 1, True),
    ("2026-10-31", "Gamma", "Review", 5, 1, True),
    ("2026-10-31", "Gamma", "Done", 7, 2, False),
    # before the 26 weeks of days that end on 31 October
    ("2026-05-02", "Alpha", "To Do", 2, 9, False),
]

# (task_id, team, current_status, outcome_id, age_days, aging_band, blocked_days)
AGING = [
    ("A-3", "Alpha", "In Progress", "O-INV", 14.0, "above_p95", 3.5),
    ("G-2", "Gamma", "In Review", None, 13.0, "p85_p95", 0.0),
    ("G-4", "Gamma", "In Progress", "O-ADO", 2.25, "below_p50", 0.0),
    ("B-3", "Beta", "Blocked", None, 30.0, None, 30.0),
]

# (month, team, throughput, rework_rate, bugs_created, defect_escape_rate, bug_share)
QUALITY = [
    ("2025-10-01", "Alpha", 4, 0.0, 1, 1.0, 0.25),  # 13 months back: outside the window
    ("2025-11-01", "Alpha", 4, 0.25, 2, 0.5, 0.5),
    ("2026-10-01", "Alpha", 2, 0.5, 0, None, 0.0),
    ("2026-10-01", "Gamma", 2, 0.0, 1, 0.0, 0.5),
]

OUTCOMES = [
    (
        "O-INV",
        "Reduce invoice processing time from 5 to 2 days",
        "invoice_days",
        "Invoice processing time",
        "days",
        "decrease",
        5.0,
        "2026-07-01",
        2.0,
        "2027-01-01",
        "Finance operations",
        1,
    ),
    (
        "O-ADO",
        "Raise self-service adoption from 20% to 60%",
        "self_service_share",
        "Self-service share",
        "%",
        "increase",
        20.0,
        "2026-08-01",
        60.0,
        "2026-12-01",
        None,
        2,
    ),
]

# (outcome_id, month, actual, expected_value, progress, expected_progress, status, days since)
PROGRESS = [
    ("O-INV", "2026-07-01", 5.0, 5.0, 0.0, 0.0, "on_track", 2),
    ("O-INV", "2026-08-01", 4.9, 4.5, 0.0333, 0.1667, "at_risk", 5),
    ("O-INV", "2026-09-01", 4.7, 4.0, 0.1, 0.3333, "at_risk", 9),
    ("O-INV", "2026-10-01", 4.4, 3.5, 0.2, 0.5, "off_track", 12),
    ("O-ADO", "2026-08-01", 20.0, 20.0, 0.0, 0.0, "on_track", 1),
    ("O-ADO", "2026-09-01", 31.0, 30.0, 0.275, 0.25, "on_track", 4),
    ("O-ADO", "2026-10-01", 42.0, 40.0, 0.55, 0.5, "on_track", 3),
]


def create_marts(path: Path) -> Path:
    """The marts the report reads, with the contract's column names and no rows, and the one row
    of thresholds that every build publishes."""
    with connection(path) as con:
        con.execute("create schema marts")
        for ddl in MARTS_DDL.values():
            con.execute(ddl)
        columns = ", ".join(
            f"cast({value!r} as {'integer' if isinstance(value, int) else 'double'}) as {name}"
            for name, value in DELIVERY_THRESHOLDS.items()
        )
        con.execute(f"create table marts.dim_delivery_thresholds as select {columns}")
    return path


def seed_marts(path: Path) -> Path:
    create_marts(path)
    with connection(path) as con:
        con.executemany(
            """
            insert into marts.fct_tasks (task_key, team, created_at, completed_at,
                is_completed, is_cancelled)
            values (?, ?, ?::timestamp, ?::timestamp, ?, ?)
            """,
            TASKS,
        )
        con.executemany("insert into marts.mart_wip_daily values (?::date, ?, ?)", WIP_DAILY)
        con.executemany(
            "insert into marts.mart_org_monthly values "
            "(?::date, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ORG_MONTHLY,
        )
        con.executemany(
            f"""
            insert into marts.mart_aging_wip_by_team
            values (?, date '2026-10-15', ?, ?, ?, ?, ?, ?, {TRAILING_WINDOW_DAYS})
            """,
            AGING_BY_TEAM,
        )
        con.executemany(
            """
            insert into marts.mart_flow_weekly (week_start, team, throughput,
                cycle_time_p50_days, cycle_time_p85_days)
            values (?::date, ?, ?, ?, ?)
            """,
            WEEKLY_FLOW,
        )
        con.executemany(
            """
            insert into marts.mart_flow_weekly (week_start, team, throughput,
                cycle_time_p50_days_trailing_12w, cycle_time_p85_days_trailing_12w,
                cycle_time_p95_days_trailing_12w, flow_efficiency)
            values (?::date, ?, ?, ?, ?, ?, ?)
            """,
            TRAILING_WEEK,
        )
        con.executemany(
            "update marts.mart_flow_weekly set flow_efficiency = ? "
            "where week_start = ?::date and team = ?",
            [(value, week, team) for week, team, value in FLOW_EFFICIENCY],
        )
        con.executemany(
            "update marts.fct_tasks set title = ?, cycle_time_days = ? where task_key = ?",
            [(title, days, key) for key, title, days in CYCLE_TIMES],
        )
        con.executemany(
            "insert into marts.fct_daily_flow_by_column values (?::date, ?, ?, ?, ?, ?)",
            BOARD_FLOW,
        )
        con.executemany(
            """
            insert into marts.dim_outcomes
            values (?, ?, ?, ?, ?, ?, ?, ?::date, ?, ?::date, ?, ?)
            """,
            OUTCOMES,
        )
        con.executemany(
            """
            insert into marts.mart_outcome_progress (outcome_id, month, actual_value,
                expected_value, progress, expected_progress, status,
                days_since_last_observation)
            values (?, ?::date, ?, ?, ?, ?, ?, ?)
            """,
            PROGRESS,
        )
        con.executemany(
            """
            insert into marts.mart_aging_wip (task_key, task_id, team, current_status,
                outcome_id, age_days, aging_band, blocked_days, as_of_date)
            values ('jira:' || ?, ?, ?, ?, ?, ?, ?, ?, date '2026-10-15')
            """,
            [(row[0], *row) for row in AGING],  # the task id twice: in the key and alone
        )
        con.executemany(
            """
            insert into marts.mart_quality_monthly (month, team, throughput, rework_rate,
                bugs_created, defect_escape_rate, bug_share)
            values (?::date, ?, ?, ?, ?, ?, ?)
            """,
            QUALITY,
        )
        con.executemany(
            """
            insert into marts.mart_outcome_review (outcome_id, month, status, what_moved,
                what_blocked, stuck_linked_tasks, is_productivity_illusion)
            values (?, ?::date, ?, ?, ?, ?, ?)
            """,
            REVIEW,
        )
        con.execute(
            """
            update marts.mart_outcome_review as r set statement = d.statement
            from marts.dim_outcomes as d where r.outcome_id = d.outcome_id
            """
        )
        con.executemany(
            """
            insert into marts.mart_outcome_recommendations (outcome_id, month, rule_id,
                recommendation_rank, recommendation, reason)
            values (?, ?::date, ?, ?, ?, ?)
            """,
            RECOMMENDATIONS,
        )
        con.executemany(
            """
            insert into marts.mart_outcome_scorecard (outcome_id, area, area_order, metric,
                value, previous_value, trend, rag, month)
            values (?, ?, ?, ?, ?, ?, ?, ?, date '2026-10-01')
            """,
            SCORECARD,
        )
        con.executemany(
            """
            insert into marts.mart_execution_vs_delivery (outcome_id, linked_tasks,
                completed_linked_tasks, execution_completeness, outcome_progress,
                expected_progress, progress_gap, outcome_status, is_productivity_illusion,
                illusion_reason, month)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, date '2026-10-01')
            """,
            EXECUTION,
        )
        con.executemany(
            """
            insert into marts.mart_delivery_forecast (workstream_id, workstream_name,
                outcome_id, remaining_tasks, window_completed_tasks, forecast_p50_on,
                forecast_p85_on, forecast_p95_on, forecast_note, target_on,
                probability_done_by_target, as_of_date, window_days, simulation_trials)
            values (?, ?, ?, ?, ?, ?::date, ?::date, ?::date, ?, ?::date, ?,
                date '2026-10-15', ?, ?)
            """,
            [(*row, FORECAST_WINDOW_DAYS, SIMULATION_TRIALS) for row in WORKSTREAM_FORECASTS],
        )
        con.executemany(
            """
            insert into marts.mart_delivery_forecast_how_many (workstream_id, forecast_on,
                days_ahead, is_target_date, remaining_tasks, completed_p50_tasks,
                completed_p85_tasks, completed_p95_tasks, probability_all_done, as_of_date,
                workstream_name)
            select ?, ?::date, ?, ?, ?, ?, ?, ?, ?, date '2026-10-15', workstream_name
            from marts.mart_delivery_forecast where workstream_id = ?
            """,
            [(*row, row[0]) for row in HOW_MANY],
        )
        con.execute(
            """
            insert into marts.mart_outcome_forecast
            select f.outcome_id, d.statement, f.as_of_date, f.remaining_tasks,
                f.forecast_p50_on, f.forecast_p85_on, f.forecast_p95_on, f.forecast_note,
                f.target_on, f.probability_done_by_target
            from marts.mart_delivery_forecast as f
            inner join marts.dim_outcomes as d on f.outcome_id = d.outcome_id
            """
        )
        con.executemany(
            "insert into marts.mart_unlinked_work values (?::date, ?, ?, ?, ?, ?, ?, ?, ?)",
            UNLINKED,
        )
        con.executemany(
            """
            insert into marts.mart_zombie_work (finding_type, subject_id, outcome_id, team,
                finding, as_of_date)
            values (?, ?, ?, ?, ?, date '2026-10-15')
            """,
            ZOMBIES,
        )
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded once per module: the report only ever opens it read-only."""
    return seed_marts(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def october(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportResult, str]:
    """October's report, the default month on its last day, built once and only read."""
    result = build_report(warehouse, tmp_path_factory.mktemp("reports"), as_of=AS_OF)
    return result, result.paths[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def partial_october(
    warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ReportResult, str]:
    """October asked for on the 15th, while it is in progress, built once and only read."""
    result = build_report(
        warehouse,
        tmp_path_factory.mktemp("partial"),
        as_of=MID_OCTOBER,
        month=dt.date(2026, 10, 1),
    )
    return result, result.paths[0].read_text(encoding="utf-8")


def figure(page: str, key: str) -> str:
    """The value shown in the summary tile ``key``."""
    match = re.search(
        rf'<div class="tile" data-figure="{key}"><div class="tile-value">([^<]*)</div>', page
    )
    assert match, f"no summary tile {key}"
    return match.group(1)


def outcome_card(page: str, outcome_id: str) -> str:
    match = re.search(
        rf'<article class="card outcome" data-outcome="{outcome_id}">.*?</article>', page, re.S
    )
    assert match, f"no card for {outcome_id}"
    return match.group(0)


def table_row(page: str, statement: str) -> list[str]:
    """The cells of the outcome table row whose first cell is ``statement``."""
    match = re.search(rf"<tr><td[^>]*>{re.escape(statement)}</td>(.*?)</tr>", page, re.S)
    assert match, f"no table row for {statement}"
    return [statement, *re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


class ExternalReferences(HTMLParser):
    """Collects every attribute that would make a browser fetch or link outside the file."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "srcset", "action"} and value and not value.startswith("#"):
                self.found.append((tag, name, value))


def test_writes_the_month_and_latest_with_the_counts_used(october):
    result, _ = october
    reports = result.paths[0].parent
    assert result == ReportResult(
        paths=(reports / "2026-10.html", reports / "latest.html"),
        month=dt.date(2026, 10, 1),
        teams=3,
        tasks=8,
        outcomes=2,
    )
    assert (reports / "latest.html").read_bytes() == (reports / "2026-10.html").read_bytes()
    assert sorted(p.name for p in reports.iterdir()) == ["2026-10.html", "latest.html"]


def test_summary_shows_the_inserted_figures(october):
    _, page = october
    assert "3 teams · 8 tasks · 6 completed in October 2026 · 2 outcomes" in page
    assert figure(page, "teams") == "3"
    assert figure(page, "tasks") == "8"
    # October's row of mart_org_monthly: each team's local month, summed
    assert figure(page, "completed_in_month") == "6"
    assert figure(page, "wip") == "5"
    assert "in progress on 2026-10-15" in page
    assert figure(page, "outcomes") == "2"
    assert figure(page, "illusions") == "1"  # O-INV
    # October: Alpha 1 of 4 and Gamma 0 of 2 completions reached no outcome
    assert figure(page, "unlinked_share") == "17%"
    counts = dict(re.findall(r'<li data-status="(\w+)">.*?<strong>(\d+)</strong></li>', page))
    assert counts == {
        "off_track": "1",
        "at_risk": "0",
        "no_data": "0",
        "on_track": "1",
        "achieved": "0",
    }
    assert "Data as of 2026-10-31." in page
    assert "(partial:" not in page
    assert 'class="partial-note"' not in page


def test_every_section_has_its_title_in_page_and_contents(october):
    _, page = october
    # (anchor, title, charts the section declares)
    titles = [
        ("summary", "Summary", 0),
        ("review", "Monthly review: what moved, what blocked it, what changes next", 0),
        ("scorecard", "Outcome scorecard", 0),
        ("execution-vs-delivery", "Execution vs delivery", 1),
        ("outcomes", "Outcomes: actual vs expected vs target", 2),
        ("forecasts", "Delivery forecasts", 1),
        ("unlinked", "Work that reaches no outcome", 1),
        ("throughput", "Throughput per team", 1),
        ("cycle-time", "Cycle time per team", 1),
        ("cycle-time-scatter", "Cycle time of each completed task", 1),
        ("wip", "Work in progress per team", 1),
        ("cumulative-flow", "Cumulative flow per team", 1),
        ("flow-efficiency", "Flow efficiency per team", 1),
        ("aging", "Aging work in progress", 1),
        ("quality", "Quality per team", 1),
    ]
    for number, (anchor, title, charts) in enumerate(titles, start=1):
        assert f'<li><a href="#{anchor}">{title}</a></li>' in page
        assert (
            f'<section class="report-section" id="{anchor}" data-charts="{charts}">\n'
            f'    <h2><span class="number">{number}.</span>{title}</h2>'
        ) in page
    assert page.count("<strong>How to read this:</strong>") == len(titles)
    assert '<main class="page" data-charts="13">' in page


def test_every_chart_has_a_fixed_id(october):
    _, page = october
    assert re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', page) == [
        "chart-execution-vs-delivery",
        "chart-outcome-1-o-inv",
        "chart-outcome-2-o-ado",
        "chart-forecasts",
        "chart-unlinked",
        "chart-throughput",
        "chart-cycle-time",
        "chart-cycle-time-scatter",
        "chart-wip",
        "chart-cumulative-flow",
        "chart-flow-efficiency",
        "chart-aging",
        "chart-quality",
    ]


def test_off_track_outcome_shows_its_badge_and_comes_first(october):
    _, page = october
    invoice = outcome_card(page, "O-INV")
    assert '<span class="badge status-off-track">Off track</span>' in invoice
    assert "Reduce invoice processing time from 5 to 2 days" in invoice
    assert "owner: Finance operations" in invoice
    adoption = outcome_card(page, "O-ADO")
    assert '<span class="badge status-on-track">On track</span>' in adoption
    assert page.index('data-outcome="O-INV"') < page.index('data-outcome="O-ADO"')


def test_outcome_table_row_reads_the_report_month(october):
    _, page = october
    assert table_row(page, "Reduce invoice processing time from 5 to 2 days") == [
        "Reduce invoice processing time from 5 to 2 days",
        "Invoice processing time (lower is better)",
        '<span class="nowrap">5 days → 2 days</span><br>'
        '<span class="muted nowrap">2026-07-01 → 2027-01-01</span>',
        "4.4 days",
        "20%",
        "50%",
        '<span class="badge status-off-track">Off track</span>',
        "12",
    ]
    assert table_row(page, "Raise self-service adoption from 20% to 60%")[3:] == [
        "42%",
        "55%",
        "50%",
        '<span class="badge status-on-track">On track</span>',
        "3",
    ]


def test_outcome_chart_runs_from_baseline_to_the_report_month(october):
    _, page = october
    script = page[page.index('"chart-outcome-1-o-inv",') :]
    script = script[: script.index("</script>")]
    assert '"x":["2026-07-01","2026-08-01","2026-09-01","2026-10-01"]' in script
    assert '"y":[5.0,4.9,4.7,4.4]' in script
    assert '"y":[5.0,4.5,4.0,3.5]' in script
    assert "target 2 days by 2027-01-01" in script


def test_every_chart_is_drawn_on_the_white_template_and_plotly_default_is_left_alone(october):
    """The build sets plotly's default template once for all its figures (the cheap way to give
    each one the template); every figure's layout carries that template, whole, and the process's
    default is back to what it was afterwards."""
    _, page = october
    decoder = json.JSONDecoder()
    layouts = [
        decoder.raw_decode(page, match.start())[0] for match in re.finditer(r'\{"template":', page)
    ]
    assert len(layouts) == 13  # one per chart (test_every_chart_has_a_fixed_id)
    white = json.loads(go.Figure(layout={"template": "plotly_white"}).to_json())["layout"][
        "template"
    ]
    assert all(layout["template"] == white for layout in layouts)
    assert pio.templates.default == "plotly"
    # a figure made outside a build starts on the same template
    assert json.loads(_new_figure().to_json())["layout"]["template"] == white
    assert pio.templates.default == "plotly"


def test_plotly_is_inlined_once_and_nothing_is_fetched(october):
    _, page = october
    assert page.count(inline_plotlyjs()) == 1
    assert page.count("plotly.js v") == inline_plotlyjs().count("plotly.js v")
    for reference in ('src="http', "src='http", 'href="http', "href='http", "<link", "@import"):
        assert reference not in page
    assert "url(" not in page.replace(inline_plotlyjs(), "")
    parser = ExternalReferences()
    parser.feed(page)
    assert parser.found == []
    # plotly.js, one per chart, and the redraw of the charts for printing
    assert parser.tags.count("script") == 1 + 13 + 1


def test_plotly_bundle_only_escapes_the_h_of_attribute_urls():
    bundle = inline_plotlyjs()
    original = plotly.offline.get_plotlyjs()
    assert 'href="http' in original
    assert bundle.replace("\\u0068ttp", "http") == original
    assert len(bundle) - len(original) == 5 * original.count('href="http') + 5 * original.count(
        "href='http"
    )


def test_two_builds_give_identical_bytes(warehouse, tmp_path):
    first = build_report(warehouse, tmp_path / "one", as_of=AS_OF)
    second = build_report(warehouse, tmp_path / "two", as_of=AS_OF)
    assert first.paths[0].read_bytes() == second.paths[0].read_bytes()


def test_older_month_does_not_replace_latest(warehouse, tmp_path):
    reports = tmp_path / "reports"
    build_report(warehouse, reports, as_of=AS_OF)
    latest_before = (reports / "latest.html").read_bytes()
    latest_mtime = (reports / "latest.html").stat().st_mtime_ns

    result = build_report(warehouse, reports, as_of=AS_OF, month=dt.date(2026, 9, 17))

    assert result.paths == (reports / "2026-09.html",)
    assert (result.month, result.teams, result.tasks, result.outcomes) == (
        dt.date(2026, 9, 1),
        3,
        5,
        2,
    )
    assert (reports / "latest.html").read_bytes() == latest_before
    assert (reports / "latest.html").stat().st_mtime_ns == latest_mtime
    page = result.paths[0].read_text(encoding="utf-8")
    assert "<h1>September 2026</h1>" in page
    assert figure(page, "completed_in_month") == "1"  # A-2 only; B-1 closed at 1 October 00:00
    assert figure(page, "wip") == "6"  # 30 September: Alpha 4 + Beta 2
    assert '<span class="badge status-at-risk">At risk</span>' in outcome_card(page, "O-INV")
    assert "2026-10-01" not in outcome_card(page, "O-INV")
    assert sorted(p.name for p in reports.iterdir()) == [
        "2026-09.html",
        "2026-10.html",
        "latest.html",
    ]


@pytest.mark.parametrize(
    ("as_of", "month", "message"),
    [
        (
            MID_OCTOBER,
            dt.date(2026, 11, 1),
            "report month 2026-11 is after the as-of date 2026-10-15",
        ),
        (AS_OF, dt.date(2026, 11, 30), "report month 2026-11 is after the as-of date 2026-10-31"),
        (dt.date(2026, 12, 5), dt.date(2027, 1, 1), "report month 2027-01 is after the as-of date"),
    ],
)
def test_a_month_after_as_of_is_refused(warehouse, tmp_path, as_of, month, message):
    with pytest.raises(ValueError, match=message):
        build_report(warehouse, tmp_path / "reports", as_of=as_of, month=month)
    assert not (tmp_path / "reports").exists()


def test_empty_marts_still_build_and_say_what_is_missing(tmp_path):
    warehouse = create_marts(tmp_path / "warehouse.duckdb")
    result = build_report(warehouse, tmp_path / "reports", as_of=AS_OF)
    page = result.paths[0].read_text(encoding="utf-8")

    assert (result.teams, result.tasks, result.outcomes) == (0, 0, 0)
    assert NO_OUTCOMES == (
        "No outcomes are defined yet: add kpis/ and outcomes/ files to the landing folder."
    )
    # in "What is missing" and in the review, scorecard, execution, outcomes, forecast sections
    assert page.count(NO_OUTCOMES) == 6
    # "What is missing", the five flow sections and unlinked work
    assert page.count(NO_TASKS) == 10
    assert figure(page, "completed_in_month") == "0"
    assert figure(page, "wip") == "—"
    assert 'class="plotly-graph-div"' not in page
    assert page.count(inline_plotlyjs()) == 1


def test_tasks_without_outcomes_show_flow_and_the_outcome_notice(tmp_path):
    warehouse = seed_marts(tmp_path / "warehouse.duckdb")
    with connection(warehouse) as con:
        con.execute("delete from marts.dim_outcomes")
        con.execute("delete from marts.mart_outcome_progress")
        # as dbt would count them without outcomes
        con.execute(
            "update marts.mart_org_monthly set outcomes = 0, outcomes_off_track = 0, "
            "outcomes_at_risk = 0, outcomes_on_track = 0, productivity_illusions = 0"
        )
    page = build_report(warehouse, tmp_path / "reports", as_of=AS_OF).paths[0].read_text()

    outcomes = page[page.index('id="outcomes"') :]
    assert NO_OUTCOMES in outcomes
    assert 'id="chart-throughput"' in page
    assert 'class="tile" data-figure="outcomes"><div class="tile-value">0<' in page


def test_a_warehouse_without_marts_is_an_error_that_names_them(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with connection(warehouse) as con:
        con.execute("create schema raw")
    with pytest.raises(MissingMartError) as raised:
        build_report(warehouse, tmp_path / "reports", as_of=AS_OF)
    assert str(raised.value) == (
        "the warehouse has no marts.fct_tasks, marts.fct_daily_flow_by_column, "
        "marts.mart_org_monthly, marts.mart_flow_weekly, "
        "marts.mart_wip_daily, marts.mart_aging_wip, marts.mart_aging_wip_by_team, "
        "marts.mart_quality_monthly, marts.dim_outcomes, marts.mart_outcome_progress, "
        "marts.mart_outcome_review, marts.mart_outcome_recommendations, "
        "marts.mart_outcome_scorecard, marts.mart_execution_vs_delivery, "
        "marts.mart_delivery_forecast, marts.mart_delivery_forecast_how_many, "
        "marts.mart_outcome_forecast, marts.mart_unlinked_work, "
        "marts.mart_zombie_work, marts.dim_delivery_thresholds: build it with a complete "
        "pipeline run (owh run or owh demo) "
        "before building the report"
    )
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("mart", ["mart_org_monthly", "mart_unlinked_work", "mart_wip_daily"])
def test_one_missing_mart_is_an_error_not_an_empty_section(tmp_path, mart):
    warehouse = seed_marts(tmp_path / "warehouse.duckdb")
    with connection(warehouse) as con:
        con.execute(f"drop table marts.{mart}")
    with pytest.raises(MissingMartError, match=rf"^the warehouse has no marts\.{mart}:"):
        build_report(warehouse, tmp_path / "reports", as_of=AS_OF)


def test_the_headline_completions_are_the_org_mart_figure_not_a_utc_count(october, warehouse):
    _, page = october
    with connection(warehouse, read_only=True) as con:
        (from_mart,) = con.execute(
            "select throughput from marts.mart_org_monthly where month = '2026-10-01'"
        ).fetchone()
        (utc_count,) = con.execute(
            "select count(*) from marts.fct_tasks where is_completed "
            "and completed_at >= '2026-10-01' and completed_at < '2026-11-01'"
        ).fetchone()
    assert (from_mart, utc_count) == (6, 4)  # the fixture makes the two differ
    assert figure(page, "completed_in_month") == f"{from_mart:,}"
    header = re.search(r'<p class="org-line">([^<]*)</p>', page).group(1)
    assert f"{from_mart:,} completed in October 2026" in header
    assert "in its team&#39;s local calendar month" in section(page, "summary")


def test_the_text_prints_the_simulation_and_windows_of_the_marts(october):
    _, page = october
    forecasts = section(page, "forecasts")
    assert (
        f"from {SIMULATION_TRIALS:,} Monte Carlo trials that replay each workstream&#39;s own "
        f"daily completions of the last {FORECAST_WINDOW_DAYS} days"
    ) in forecasts
    assert f"Done in last {FORECAST_WINDOW_DAYS} days" in forecasts
    aging = section(page, "aging")
    assert f"what the team completed in the {TRAILING_WINDOW_DAYS} days before" in aging
    scorecard = section(page, "scorecard")
    assert f"linked completions in the last {TRAILING_WINDOW_DAYS} days" in scorecard
    assert "10,000" not in page
    assert "90 days" not in page


# What each section reads, by anchor: the "Source:" line must name exactly these.
SECTION_SOURCES = {
    "summary": {
        "marts.mart_org_monthly",
        "marts.fct_tasks",
        "marts.dim_outcomes",
        "marts.mart_outcome_progress",
    },
    "review": {
        "marts.dim_outcomes",
        "marts.mart_outcome_review",
        "marts.mart_outcome_recommendations",
    },
    "scorecard": {
        "marts.mart_aging_wip_by_team",
        "marts.dim_outcomes",
        "marts.mart_outcome_scorecard",
        "marts.mart_outcome_review",
    },
    "execution-vs-delivery": {
        "marts.dim_delivery_thresholds",
        "marts.dim_outcomes",
        "marts.mart_execution_vs_delivery",
    },
    "outcomes": {"marts.dim_outcomes", "marts.mart_outcome_progress"},
    "forecasts": {
        "marts.mart_delivery_forecast",
        "marts.mart_delivery_forecast_how_many",
        "marts.dim_outcomes",
        "marts.mart_outcome_forecast",
    },
    "unlinked": {
        "marts.dim_delivery_thresholds",
        "marts.mart_unlinked_work",
        "marts.mart_zombie_work",
    },
    "throughput": {"marts.mart_flow_weekly"},
    "cycle-time": {"marts.mart_flow_weekly"},
    "cycle-time-scatter": {"marts.mart_flow_weekly", "marts.fct_tasks"},
    "wip": {"marts.mart_wip_daily"},
    "cumulative-flow": {"marts.fct_daily_flow_by_column"},
    "flow-efficiency": {"marts.mart_flow_weekly"},
    "aging": {"marts.mart_aging_wip_by_team", "marts.mart_aging_wip"},
    "quality": {"marts.mart_quality_monthly"},
}


def test_every_section_names_the_marts_it_reads(october):
    _, page = october
    anchors = re.findall(r'<section class="report-section" id="([^"]+)"', page)
    assert anchors == list(SECTION_SOURCES)
    for anchor, expected in SECTION_SOURCES.items():
        html = section(page, anchor)
        named = re.findall(r'<p class="sources" data-sources="([^"]*)">Source: ([^<]*)</p>', html)
        assert len(named) == 1, anchor
        listed, shown = named[0]
        assert set(listed.split()) == expected, anchor
        assert set(shown.split(", ")) == expected, anchor
    header = page[: page.index("</header>")]
    assert "Source: marts.mart_org_monthly" in header


def test_a_missing_warehouse_file_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse file not found"):
        build_report(tmp_path / "absent.duckdb", tmp_path / "reports", as_of=AS_OF)
    assert not (tmp_path / "absent.duckdb").exists()


def test_period_windows():
    october = ReportPeriod.resolve(AS_OF)
    assert (
        october.month,
        october.data_end,
        october.is_partial,
        october.replaces_latest,
        october.label,
    ) == (dt.date(2026, 10, 1), AS_OF, False, True, "October 2026")
    assert october.trend_first_week == dt.date(2026, 5, 4)  # 26 Mondays up to 26 October
    assert october.trend_first_day == dt.date(2026, 5, 3)  # 182 days up to 31 October
    partial = ReportPeriod.resolve(MID_OCTOBER, dt.date(2026, 10, 1))
    assert (
        partial.month,
        partial.data_end,
        partial.month_end,
        partial.is_partial,
        partial.replaces_latest,
        partial.slug,
        partial.days_covered,
        partial.label,
    ) == (
        dt.date(2026, 10, 1),
        MID_OCTOBER,
        dt.date(2026, 10, 31),
        True,
        False,
        "2026-10",
        "1\N{EN DASH}15 October",
        PARTIAL_OCTOBER,
    )
    assert partial.trend_first_week == dt.date(2026, 4, 20)  # 26 Mondays up to 12 October
    assert partial.trend_first_day == dt.date(2026, 4, 17)  # 182 days up to 15 October
    older = ReportPeriod.resolve(AS_OF, dt.date(2026, 9, 17))
    assert (
        older.month,
        older.data_end,
        older.is_partial,
        older.replaces_latest,
        older.slug,
        older.label,
    ) == (dt.date(2026, 9, 1), dt.date(2026, 9, 30), False, False, "2026-09", "September 2026")
    assert older.trend_first_week == dt.date(2026, 4, 6)
    # mid-October, September is the last complete month: the default, and latest.html's
    september = ReportPeriod.resolve(MID_OCTOBER)
    assert (september.month, september.data_end, september.replaces_latest) == (
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 30),
        True,
    )
    december = ReportPeriod.resolve(dt.date(2026, 12, 31))
    assert (december.month, december.next_month, december.data_end, december.is_partial) == (
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        dt.date(2026, 12, 31),
        False,
    )
    first_day = ReportPeriod.resolve(dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert first_day.label == "December 2026 (partial: 1 December)"


@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (dt.date(2026, 12, 5), dt.date(2026, 11, 1)),
        (dt.date(2026, 12, 1), dt.date(2026, 11, 1)),
        (dt.date(2026, 11, 30), dt.date(2026, 11, 1)),
        (dt.date(2026, 12, 30), dt.date(2026, 11, 1)),
        (dt.date(2026, 12, 31), dt.date(2026, 12, 1)),
        (dt.date(2027, 1, 1), dt.date(2026, 12, 1)),
        (dt.date(2028, 2, 28), dt.date(2028, 1, 1)),  # a leap year: February has a 29th
        (dt.date(2028, 2, 29), dt.date(2028, 2, 1)),
        (dt.date(2027, 2, 28), dt.date(2027, 2, 1)),
    ],
)
def test_last_complete_month(as_of, month):
    assert last_complete_month(as_of) == month
    assert ReportPeriod.resolve(as_of).month == month


def test_weekly_flow_keeps_the_26_weeks_that_end_with_the_period(warehouse):
    with connection(warehouse, read_only=True) as con:
        marts = MartReader(con)
        october = weekly_flow(marts, ReportPeriod.resolve(AS_OF))
        partial = weekly_flow(marts, ReportPeriod.resolve(MID_OCTOBER, dt.date(2026, 10, 1)))
        september = weekly_flow(marts, ReportPeriod.resolve(AS_OF, dt.date(2026, 9, 1)))
    # 26 weeks up to the week of 26 October: from 4 May
    assert list(zip(october["week_start"], october["team"], strict=True)) == [
        ("2026-09-28", "Alpha"),
        ("2026-10-26", "Alpha"),
        ("2026-09-28", "Beta"),
        ("2026-10-05", "Beta"),
        ("2026-10-26", "Beta"),
        ("2026-10-12", "Gamma"),
        ("2026-10-26", "Gamma"),
    ]
    assert list(zip(partial["week_start"], partial["team"], strict=True)) == [
        ("2026-04-20", "Alpha"),
        ("2026-09-28", "Alpha"),
        ("2026-09-28", "Beta"),
        ("2026-10-05", "Beta"),
        ("2026-10-12", "Gamma"),
    ]
    assert list(zip(september["week_start"], september["team"], strict=True)) == [
        ("2026-04-13", "Alpha"),
        ("2026-04-20", "Alpha"),
        ("2026-09-28", "Alpha"),
        ("2026-09-28", "Beta"),
    ]


def test_partial_week_is_explained(partial_october):
    _, page = partial_october
    assert (
        "The paler last bar is the week of 2026-10-12, which runs past 2026-10-15 and is not "
        "complete."
    ) in page


def test_daily_wip_grid_fills_days_and_teams_without_rows_with_zero():
    daily = pd.DataFrame(
        {
            "flow_date": ["2026-10-01", "2026-10-01", "2026-10-03"],
            "team": ["Beta", "Alpha", "Alpha"],
            "wip": [2, 3, 1],
        }
    )
    days, wip = _complete_daily_grid(daily)
    assert days == ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert wip == {"Alpha": [3, 0, 1], "Beta": [2, 0, 0]}


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (None, "days", "—"),
        (1234.5, None, "1,234.5"),
        (42.0, "%", "42%"),
        (4.4, "days", "4.4 days"),
        (-0.001, "", "0"),
        (2.0 / 3.0, "h", "0.67 h"),
    ],
)
def test_format_number(value, unit, expected):
    assert format_number(value, unit) == expected


def test_format_share():
    assert (format_share(0.2), format_share(1.256), format_share(None)) == ("20%", "126%", "—")


def aging_table_rows(page: str) -> list[list[str]]:
    section = page[page.index('id="aging"') : page.index('id="quality"')]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_aging_section_lists_the_old_tasks_oldest_first(october):
    _, page = october
    assert 'id="chart-aging"' in page
    assert "Tasks in progress at the end of 2026-10-15" in page
    # B-3 is the oldest but its team has no reference completions: it has no band, so it is
    # charted grey and not listed; G-4 is young.
    assert aging_table_rows(page) == [
        ["A-3", "Alpha", "In Progress", "14", "3.5", "O-INV"],
        ["G-2", "Gamma", "In Review", "13", "0", "no outcome"],
    ]


def test_aging_section_says_when_nothing_is_old(tmp_path):
    warehouse = seed_marts(tmp_path / "warehouse.duckdb")
    with connection(warehouse) as con:
        con.execute("delete from marts.mart_aging_wip where aging_band in ('p85_p95', 'above_p95')")
    page = build_report(warehouse, tmp_path / "reports", as_of=AS_OF).paths[0].read_text()
    assert "No task in progress is older than 85% of its team&#39;s recent completions." in page


def test_quality_reads_the_12_months_that_end_with_the_period(warehouse):
    with connection(warehouse, read_only=True) as con:
        frame = quality_monthly(MartReader(con), ReportPeriod.resolve(AS_OF))
    assert frame[["month", "team"]].values.tolist() == [
        ["2025-11-01", "Alpha"],
        ["2026-10-01", "Alpha"],
        ["2026-10-01", "Gamma"],
    ]


def test_quality_section_draws_one_line_per_team_and_measure(october):
    _, page = october
    assert 'id="chart-quality"' in page
    html = section(page, "quality")
    assert html.count('"legendgroup":"Alpha"') == 3
    assert html.count('"legendgroup":"Gamma"') == 3


def section(page: str, anchor: str) -> str:
    """The HTML of one section, from its opening tag to the next section's."""
    start = page.index(f'<section class="report-section" id="{anchor}" ')
    end = page.find('<section class="report-section"', start + 1)
    return page[start : end if end >= 0 else len(page)]


def body_rows(html: str) -> list[list[str]]:
    """The cells of each body row of the first table in ``html``."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_review_answers_the_three_questions_for_the_report_month(october):
    _, page = october
    rows = body_rows(section(page, "review"))
    # the off-track outcome first, with its illusion badge; its rules in rank order
    assert [row[1:3] for row in rows] == [
        [
            "Invoice time fell from 4.70 to 4.40 days.",
            "1 of the 2 linked tasks in progress is stuck.",
        ],
        [
            "Self-service share rose from 31.0 to 42.0 %.",
            "No linked work in progress at the end of 2026-10-15.",
        ],
    ]
    assert '<span class="badge illusion">illusion</span>' in rows[0][0]
    assert "illusion" not in rows[1][0]
    assert re.findall(r'<li data-rule="(\w+)"><strong>([^<]*)</strong>', rows[0][3]) == [
        ("investigate_illusion", "Investigate the hypothesis"),
        ("unblock_linked_work", "Unblock or re-plan A-3"),
    ]
    assert '<span class="muted">90% of the work is done.</span>' in rows[0][3]
    assert re.findall(r'data-rule="(\w+)"', rows[1][3]) == ["continue"]


def test_review_of_an_older_month_reads_that_month(warehouse, tmp_path):
    page = build_report(warehouse, tmp_path, as_of=AS_OF, month=dt.date(2026, 9, 1))
    html = section(page.paths[0].read_text(encoding="utf-8"), "review")
    assert [row[1] for row in body_rows(html)] == ["Invoice time fell in September."]
    assert 'data-rule="review_plan"' in html
    assert "Continue" not in html


def test_scorecard_colours_each_area_and_shows_the_trend(october):
    _, page = october
    html = section(page, "scorecard")
    cells = re.findall(r'<tr data-outcome="([^"]+)">.*?</tr>', html, re.S)
    assert cells == ["O-INV", "O-ADO"]  # off track first
    invoice = re.search(r'<tr data-outcome="O-INV">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(
        r'data-area="(\w+)" data-rag="(\w+)">([^<]*?) ?(?:<span class="trend" title="(\w+)">|<br>)',
        invoice,
    ) == [
        ("flow_stability", "amber", "2.3×", "worsening"),  # noqa: RUF001
        ("quality_signals", "red", "25%", "steady"),
        ("adoption", "no_data", "—", ""),
        ("business_impact", "red", "-30 pts", "worsening"),
        ("confidence", "green", "3.5 / 5", "improving"),
    ]
    adoption = re.search(r'<tr data-outcome="O-ADO">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'data-rag="(\w+)">([^< ]*(?: [^< ]+)*)', adoption) == [
        ("green", "1.5×"),  # noqa: RUF001
        ("green", "0%"),
        ("green", "+5 pts"),
        ("no_data", "—"),
        ("no_data", "—"),
    ]


def test_execution_vs_delivery_marks_the_illusion(october):
    _, page = october
    html = section(page, "execution-vs-delivery")
    assert "at least 80% of the linked work done, more than 5 points behind" in html
    script = html[html.index('"chart-execution-vs-delivery",') :]
    # O-ADO: 50% done, 5 points ahead; O-INV: 90% done, 30 points behind, drawn as an illusion
    assert '"name":"delivering or too early to tell","text":["O-ADO"]' in script
    assert '"x":[50.0],"y":[5.0]' in script
    assert '"name":"productivity illusion","text":["O-INV"]' in script
    assert '"x":[90.0],"y":[-30.0]' in script
    rows = body_rows(html[html.index("</script>") :])
    assert [row[1:5] + row[6:] for row in rows] == [
        [
            "9 / 10",
            "90%",
            "20%",
            "50%",
            "90% of the 10 linked tasks are done, but the KPI has made 20% of its way",
        ],
        ["2 / 4", "50%", "55%", "50%", "—"],
    ]


def test_forecast_section_dates_each_workstream_and_says_why_one_has_none(october):
    _, page = october
    html = section(page, "forecasts")
    assert "still open at the end of 2026-10-15" in html
    tables = html[html.index("</script>") :]
    workstreams = body_rows(tables)  # by outcome: O-ADO's WS-2 first
    assert [re.sub(r"<[^>]+>", "", cell) for cell in workstreams[1]] == [
        "WS-1 Invoice matching",
        "O-INV",
        "4",
        "12",
        "2026-11-20",
        "2026-12-05",
        "2026-12-20",
        "2027-01-01",
        "97%",
        "",
    ]
    assert [re.sub(r"<[^>]+>", "", cell) for cell in workstreams[0]] == [
        "WS-2 Help centre",
        "O-ADO",
        "3",
        "0",
        "—",
        "—",
        "—",
        "2026-12-01",
        "—",
        "no completions in the window: no forecast",
    ]
    outcomes = body_rows(tables[tables.index("Per outcome") :])
    assert [re.sub(r"<[^>]+>", "", cell) for cell in outcomes[1][1:]] == [
        "4",
        "2026-12-05",
        "2027-01-01",
        "97%",
        "",
    ]


def test_unlinked_section_shows_shares_per_team_and_caps_the_zombie_list(october):
    _, page = october
    html = section(page, "unlinked")
    script = html[html.index('"chart-unlinked",') : html.index("</script>")]
    # twelve months up to October 2026: October 2025 is left out
    assert '"x":["2026-09-01","2026-10-01"],"y":[0.0,0.25]' in script
    assert "2025-10-01" not in script
    assert "review threshold 25%" in script
    rows = body_rows(html[html.index("</script>") :])
    assert rows == [
        ["Alpha", "4", "1", "25%", "30%", "1"],
        ["Gamma", "2", "0", "0%", "0%", "0"],
    ]
    assert "<strong>Outcomes nobody is working on</strong> (1)" in html
    assert "<strong>Work still open after its outcome&#39;s target date</strong> (9)" in html
    assert html.count("is still in progress</li>") == 8
    assert "and 1 more in marts.mart_zombie_work" in html


@pytest.mark.parametrize(
    ("as_of", "slug", "label"),
    [
        # the reported case: five days into December, December would be judged on five days
        (dt.date(2026, 12, 5), "2026-11", "November 2026"),
        # the night of 30 November has November's data through the end of its last day
        (dt.date(2026, 11, 30), "2026-11", "November 2026"),
        (dt.date(2026, 12, 1), "2026-11", "November 2026"),
        (dt.date(2027, 1, 1), "2026-12", "December 2026"),
    ],
)
def test_the_default_month_is_the_last_complete_one(warehouse, tmp_path, as_of, slug, label):
    reports = tmp_path / "reports"
    result = build_report(warehouse, reports, as_of=as_of)
    assert result.paths == (reports / f"{slug}.html", reports / "latest.html")
    assert result.month == dt.date.fromisoformat(f"{slug}-01")
    assert (reports / "latest.html").read_bytes() == (reports / f"{slug}.html").read_bytes()
    page = result.paths[0].read_text(encoding="utf-8")
    assert f"<h1>{label}</h1>" in page
    assert "(partial:" not in page
    assert 'class="partial-note"' not in page


def test_the_current_month_on_request_is_marked_partial_and_keeps_latest(warehouse, tmp_path):
    reports = tmp_path / "reports"
    december_5 = dt.date(2026, 12, 5)
    build_report(warehouse, reports, as_of=december_5)
    latest = (reports / "latest.html").read_bytes()

    result = build_report(warehouse, reports, as_of=december_5, month=dt.date(2026, 12, 1))

    assert result.paths == (reports / "2026-12.html",)
    assert (reports / "latest.html").read_bytes() == latest
    assert sorted(p.name for p in reports.iterdir()) == [
        "2026-11.html",
        "2026-12.html",
        "latest.html",
    ]
    page = result.paths[0].read_text(encoding="utf-8")
    marked = "December 2026 (partial: 1\N{EN DASH}5 December)"
    assert f"<h1>{marked}</h1>" in page
    assert f"<title>Leadership report · {marked} · Outcome Warehouse</title>" in page
    assert (
        '<p class="partial-note">Partial month: the figures cover 1\N{EN DASH}5 December only '
        "and will change until the month ends on 2026-12-31.</p>"
    ) in page
    assert f"0 completed in {marked} · " in page
    # every place that names the month says it is partial
    assert page.count("December 2026") == page.count(marked) > 3

    # November asked for by name is the default month: it replaces latest.html as the night does
    november = build_report(warehouse, reports, as_of=december_5, month=dt.date(2026, 11, 30))
    assert november.paths == (reports / "2026-11.html", reports / "latest.html")
    assert (reports / "latest.html").read_bytes() == latest


def test_a_partial_month_is_marked_wherever_it_is_named(partial_october):
    result, page = partial_october
    reports = result.paths[0].parent
    assert result.paths == (reports / "2026-10.html",)
    assert sorted(p.name for p in reports.iterdir()) == ["2026-10.html"]
    assert f"<h1>{PARTIAL_OCTOBER}</h1>" in page
    assert "Data as of 2026-10-15." in page
    assert (
        '<p class="partial-note">Partial month: the figures cover 1\N{EN DASH}15 October only '
        "and will change until the month ends on 2026-10-31.</p>"
    ) in page
    assert f"3 teams · 8 tasks · 6 completed in {PARTIAL_OCTOBER} · 2 outcomes" in page
    assert figure(page, "completed_in_month") == "6"
    assert f"Outcome status in {PARTIAL_OCTOBER}</h3>" in page
    assert f"<h3>{PARTIAL_OCTOBER}</h3>" in section(page, "unlinked")
    assert f"The 12 months up to {PARTIAL_OCTOBER}, each team" in section(page, "quality")
    assert f"Outcome Warehouse · report for {PARTIAL_OCTOBER} · data as of 2026-10-15." in page
    # the title, heading, header line, summary, five sections and footer: none left unmarked
    assert page.count("October 2026") == page.count(PARTIAL_OCTOBER) == 16
