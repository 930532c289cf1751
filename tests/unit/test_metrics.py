"""`owh metrics` and the semantic layer's definitions, on a small hand-made warehouse.

The warehouse holds the relations the semantic models read (``semantic.sem_tasks`` and
``marts.mart_wip_daily``) with a handful of rows whose metrics are computed by hand below.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.layout import DATABASE_FILE_NAME
from pipelines.metrics.engine import MetricsClient, MetricsError

DAY = 86_400_000_000  # microseconds

# task, team, workstream, source, flow item type, found_in, linked, completed, reopened,
# created_on, started_on, completed_on, lead time, cycle time, active time (days)
TASKS = [
    # Payments completes A on Monday 5 October and B on Sunday 11 October: one week
    (
        "A",
        "Payments",
        "WS-1",
        "defect",
        None,
        True,
        True,
        True,
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        2.0,
        1.0,
        0.5,
    ),
    (
        "B",
        "Payments",
        None,
        "feature",
        None,
        False,
        True,
        False,
        "2026-10-01",
        "2026-10-06",
        "2026-10-11",
        4.0,
        3.0,
        1.5,
    ),
    # Mobile completes C without a start on Monday 12 October: a lead time, no cycle time
    (
        "C",
        "Mobile",
        None,
        "feature",
        None,
        False,
        True,
        False,
        "2026-10-10",
        None,
        "2026-10-12",
        1.0,
        None,
        None,
    ),
    # D is in progress; E and F are bugs created in October, E found in production
    (
        "D",
        "Mobile",
        "WS-1",
        "feature",
        None,
        True,
        False,
        False,
        "2026-10-07",
        "2026-10-07",
        None,
        None,
        None,
        None,
    ),
    (
        "E",
        "Payments",
        None,
        "defect",
        "production",
        False,
        False,
        False,
        "2026-10-08",
        None,
        None,
        None,
        None,
        None,
    ),
    (
        "F",
        "Payments",
        None,
        "defect",
        "staging",
        False,
        False,
        False,
        "2026-09-30",
        None,
        None,
        None,
        None,
        None,
    ),
]

# WIP at the end of each day, per team
WIP_DAILY = [
    ("2026-10-30", "Payments", 2),
    ("2026-10-30", "Mobile", 1),
    ("2026-10-31", "Payments", 3),
    ("2026-10-31", "Mobile", 4),
    ("2026-11-01", "Payments", 5),
    ("2026-11-01", "Mobile", 0),
]


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _microseconds(days: float | None) -> int | None:
    return None if days is None else round(days * DAY)


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / DATABASE_FILE_NAME))
    con.execute("create schema semantic")
    con.execute("create schema marts")
    con.execute(
        """
        create table semantic.sem_tasks (
            task_key varchar, team varchar, workstream_id varchar, outcome_id varchar,
            source varchar, task_type varchar, flow_item_type varchar, current_category varchar,
            found_in varchar, is_linked boolean, is_completed boolean, is_started boolean,
            is_bug boolean, is_reopened boolean, created_on date, started_on date,
            completed_on date, lead_time_days double, cycle_time_days double,
            cycle_time_microseconds bigint, active_time_microseconds bigint
        )
        """
    )
    for (key, team, workstream, item_type, found_in, linked, completed, reopened, created,
         started, done, lead, cycle, active) in TASKS:  # fmt: skip
        con.execute(
            "insert into semantic.sem_tasks values "
            "(?, ?, ?, ?, 'jira', 'Story', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                f"jira:{key}", team, workstream, "OUT-1" if workstream else None, item_type,
                "done" if completed else "in_progress", found_in, linked, completed,
                started is not None, item_type == "defect", reopened, _date(created),
                _date(started), _date(done), lead, cycle, _microseconds(cycle),
                _microseconds(active) if cycle is not None else None,
            ],
        )  # fmt: skip
    con.execute("create table marts.mart_wip_daily (flow_date date, team varchar, wip bigint)")
    con.executemany(
        "insert into marts.mart_wip_daily values (?, ?, ?)",
        [(_date(day), team, wip) for day, team, wip in WIP_DAILY],
    )
    con.close()
    return tmp_path


def _query(warehouse, metrics, group_by, **kwargs):
    with MetricsClient.open(warehouse / DATABASE_FILE_NAME) as client:
        frame = client.query(metrics, group_by, **kwargs).frame
    return [
        tuple(None if value is pd.NA else value for value in row)
        for row in frame.itertuples(index=False)
    ]


def _quantile_cont(values: list[float], fraction: float) -> float:
    """The marts' percentile (macro percentile_continuous: DuckDB's quantile_cont)."""
    return duckdb.sql(
        f"select quantile_cont(cast(x as double), {fraction}) from unnest({values}) as t(x)"
    ).fetchone()[0]


def test_throughput_counts_completions_in_the_week_of_their_local_day(warehouse):
    assert _query(warehouse, ["throughput"], ["metric_time__week"]) == [
        (dt.date(2026, 10, 5), 2),
        (dt.date(2026, 10, 12), 1),
    ]


def test_throughput_and_arrivals_by_week_and_team(warehouse):
    assert _query(warehouse, ["throughput", "arrivals"], ["metric_time__week", "team"]) == [
        # A started on Sunday 4 October: the week of Monday 28 September
        (dt.date(2026, 9, 28), "Payments", None, 1),
        (dt.date(2026, 10, 5), "Mobile", None, 1),
        (dt.date(2026, 10, 5), "Payments", 2, 1),
        (dt.date(2026, 10, 12), "Mobile", 1, None),
    ]


def test_percentiles_are_continuous_and_leave_out_tasks_without_a_cycle_time(warehouse):
    rows = _query(
        warehouse,
        ["lead_time_p85_days", "cycle_time_p50_days", "cycle_time_p85_days"],
        ["metric_time__week"],
    )
    # the week of 5 October: A (lead 2, cycle 1) and B (lead 4, cycle 3); by hand the
    # percentiles are 3.7, 2 and 2.7, and they are exactly the marts' quantile_cont
    assert rows[0] == (
        dt.date(2026, 10, 5),
        _quantile_cont([2.0, 4.0], 0.85),
        _quantile_cont([1.0, 3.0], 0.5),
        _quantile_cont([1.0, 3.0], 0.85),
    )
    assert [round(value, 12) for value in rows[0][1:]] == [3.7, 2.0, 2.7]
    # C has a lead time and no cycle time: the week has no cycle-time percentile
    assert rows[1] == (dt.date(2026, 10, 12), 1.0, None, None)


def test_ratios_are_ratios_of_sums(warehouse):
    rows = _query(
        warehouse,
        ["flow_efficiency", "rework_rate", "unlinked_throughput_share"],
        ["metric_time__month"],
    )
    # (0.5 + 1.5) / (1 + 3); A of 3 completions reopened; B and C of 3 unlinked
    assert rows == [(dt.date(2026, 10, 1), 0.5, 1 / 3, 2 / 3)]


def test_defect_escape_rate_counts_bugs_in_the_month_they_were_created(warehouse):
    rows = _query(warehouse, ["defect_escape_rate", "bugs_created"], ["metric_time__month"])
    # F (September) escaped nowhere; A and E were created in October, E found in production
    assert rows == [
        (dt.date(2026, 9, 1), 0.0, 1),
        (dt.date(2026, 10, 1), 0.5, 2),
    ]


def test_wip_is_the_last_day_of_the_period_summed_over_teams(warehouse):
    assert _query(warehouse, ["wip"], ["metric_time__month"]) == [
        (dt.date(2026, 10, 1), 7),
        (dt.date(2026, 11, 1), 5),
    ]
    assert _query(warehouse, ["wip"], ["metric_time__day"]) == [
        (dt.date(2026, 10, 30), 3),
        (dt.date(2026, 10, 31), 7),
        (dt.date(2026, 11, 1), 5),
    ]


def test_a_filter_keeps_one_team(warehouse):
    assert _query(
        warehouse,
        ["throughput"],
        ["metric_time__week"],
        where=["{{ Entity('team') }} = 'Mobile'"],
    ) == [(dt.date(2026, 10, 12), 1)]


def test_an_unknown_metric_names_the_valid_ones(warehouse):
    with (
        MetricsClient.open(warehouse / DATABASE_FILE_NAME) as client,
        pytest.raises(MetricsError) as refused,
    ):
        client.query(["througput"], ["metric_time__week"])
    message = str(refused.value)
    assert "unknown metric 'througput' (did you mean 'throughput'?)" in message
    assert "valid metrics: arrivals, bugs_created," in message
    assert "unlinked_throughput_share, wip" in message


def test_an_unknown_group_by_names_the_valid_ones(warehouse):
    with MetricsClient.open(warehouse / DATABASE_FILE_NAME) as client:
        with pytest.raises(MetricsError) as refused:
            client.query(["throughput"], ["metric_time__weak"])
        valid = client.group_bys(["throughput"])
    message = str(refused.value)
    assert "unknown group-by 'metric_time__weak' for throughput" in message
    assert "(did you mean 'metric_time__week'?)" in message
    assert message.endswith(f"valid: {', '.join(valid)}")
    assert {"metric_time__week", "metric_time__month", "team", "task__flow_item_type"} <= set(valid)


def test_outcome_progress_cannot_be_grouped_by_day(warehouse):
    with MetricsClient.open(warehouse / DATABASE_FILE_NAME) as client:
        valid = client.group_bys(["outcome_progress"])
    assert "metric_time__month" in valid
    assert "metric_time__day" not in valid and "metric_time__week" not in valid


def test_a_missing_warehouse_is_named(tmp_path):
    missing = tmp_path / DATABASE_FILE_NAME
    with (
        pytest.raises(MetricsError, match=f"no published warehouse at {missing}"),
        MetricsClient.open(missing),
    ):
        pass


def test_cli_query_writes_csv(warehouse, tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        [
            "metrics", "query", "--metrics", "throughput,rework_rate",
            "--group-by", "metric_time__week", "--csv", str(out), "--warehouse", str(warehouse),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text() == (
        "metric_time__week,throughput,rework_rate\n2026-10-05,2,0.5\n2026-10-12,1,0.0\n"
    )


def test_cli_refuses_an_unknown_metric_with_exit_status_2(warehouse):
    result = CliRunner().invoke(
        app, ["metrics", "query", "--metrics", "cycle_time", "--warehouse", str(warehouse)]
    )
    assert result.exit_code == 2
    assert "unknown metric 'cycle_time'" in result.output
    assert "valid metrics:" in result.output


def test_cli_list_shows_each_metric_with_its_definition(warehouse):
    result = CliRunner().invoke(app, ["metrics", "list", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "throughput (simple): Tasks completed, counted on the local day" in result.output
    assert "flow_efficiency (ratio): Active time over cycle time" in result.output
    assert "Saved queries: organisation_monthly_headline, outcome_progress_monthly," in (
        result.output
    )


def test_a_filter_on_an_unknown_dimension_is_refused(warehouse):
    with (
        MetricsClient.open(warehouse / DATABASE_FILE_NAME) as client,
        pytest.raises(MetricsError, match="MetricFlow cannot answer this query") as refused,
    ):
        client.query(
            ["throughput"], ["metric_time__week"], where=["{{ Dimension('task__colour') }} = 1"]
        )
    assert "task__colour" in str(refused.value)
