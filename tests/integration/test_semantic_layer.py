"""The semantic layer against its mart twins, on the shared demo build: every metric that a mart
also publishes gives the mart's figure exactly, for every period (and team or outcome) the mart
has a row for, and no other row."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.metrics.engine import MetricsClient

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

# metric, group-by, the mart's query giving the same columns, ordered the same way; the mart's
# rows are those of periods with something to count (a metric has no row for a period without
# completions, where a mart keeps a row of zeros or nulls)
TWINS = [
    (
        ["throughput"],
        ["metric_time__week"],
        """select week_start, cast(sum(throughput) as bigint) from marts.mart_flow_weekly
           group by week_start having sum(throughput) > 0""",
    ),
    (
        [
            "throughput",
            "lead_time_p50_days",
            "lead_time_p85_days",
            "cycle_time_p50_days",
            "cycle_time_p85_days",
            "cycle_time_p95_days",
            "flow_efficiency",
        ],
        ["metric_time__week", "team"],
        """select week_start, team, throughput, lead_time_p50_days, lead_time_p85_days,
                  cycle_time_p50_days, cycle_time_p85_days, cycle_time_p95_days, flow_efficiency
           from marts.mart_flow_weekly where throughput > 0""",
    ),
    (
        ["arrivals"],
        ["metric_time__week", "team"],
        "select week_start, team, arrivals from marts.mart_flow_weekly where arrivals > 0",
    ),
    (
        ["throughput", "unlinked_throughput", "unlinked_throughput_share"],
        ["metric_time__month"],
        """select month, throughput, unlinked_throughput, unlinked_throughput_share
           from marts.mart_org_monthly where throughput > 0""",
    ),
    (
        ["unlinked_throughput_share"],
        ["metric_time__month", "team"],
        """select month, team, unlinked_throughput_share from marts.mart_unlinked_work
           where throughput > 0""",
    ),
    (
        ["wip"],
        ["metric_time__month"],
        """select month, wip_at_month_end from marts.mart_org_monthly
           where month <= (select max(flow_date) from marts.mart_wip_daily)
             and month >= (select min(flow_date) from marts.mart_wip_daily)""",
    ),
    (
        ["wip"],
        ["metric_time__day"],
        "select flow_date, cast(sum(wip) as bigint) from marts.mart_wip_daily group by flow_date",
    ),
    (
        ["reopened_completions", "rework_rate"],
        ["metric_time__month", "team"],
        """select month, team, reopened_completions, rework_rate from marts.mart_quality_monthly
           where throughput > 0""",
    ),
    (
        ["bugs_created", "escaped_bugs_created", "defect_escape_rate"],
        ["metric_time__month", "team"],
        """select month, team, bugs_created, escaped_bugs_created, defect_escape_rate
           from marts.mart_quality_monthly where bugs_created > 0""",
    ),
    (
        ["outcome_progress", "expected_progress"],
        ["metric_time__month", "outcome"],
        "select month, outcome_id, progress, expected_progress from marts.mart_outcome_progress",
    ),
]


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as plain values in a fixed order, nulls as None, whatever the frame's types."""
    rows = [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame.astype(object).itertuples(index=False)
    ]
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


@pytest.mark.parametrize(
    ("metrics", "group_by", "mart_sql"),
    TWINS,
    ids=[f"{'+'.join(metrics)}@{','.join(group_by)}" for metrics, group_by, _ in TWINS],
)
def test_metric_equals_its_mart_twin(demo_run, metrics, group_by, mart_sql):
    _, warehouse, summary = demo_run
    assert summary.success
    serving = WarehouseLayout(warehouse).serving_file
    with MetricsClient.open(serving) as client:
        metric_rows = _rows(client.query(metrics, group_by).frame)
    with connection(serving, read_only=True) as con:
        mart_rows = _rows(con.sql(mart_sql).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype))
    assert len(metric_rows) > 0
    assert metric_rows == mart_rows


def test_every_metric_with_a_mart_twin_is_compared():
    compared = {metric for metrics, _, _ in TWINS for metric in metrics}
    assert compared >= {
        "throughput",
        "arrivals",
        "lead_time_p85_days",
        "cycle_time_p50_days",
        "cycle_time_p85_days",
        "wip",
        "flow_efficiency",
        "rework_rate",
        "defect_escape_rate",
        "unlinked_throughput_share",
        "outcome_progress",
        "expected_progress",
    }


def test_owh_metrics_query_writes_weekly_throughput_as_summed_over_teams(demo_run, tmp_path):
    """The issue's acceptance, through the command line: every week's throughput is the sum
    over teams of mart_flow_weekly.throughput."""
    _, warehouse, _ = demo_run
    out = tmp_path / "out.csv"
    completed = subprocess.run(
        [
            sys.executable, "-m", "pipelines.cli", "metrics", "query",
            "--metrics", "throughput", "--group-by", "metric_time__week",
            "--csv", str(out), "--warehouse", str(warehouse),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    written = pd.read_csv(out, dtype={"throughput": "int64"})
    with connection(WarehouseLayout(warehouse).serving_file, read_only=True) as con:
        weekly = con.sql(
            """select cast(week_start as varchar) as metric_time__week,
                      sum(throughput) as throughput
               from marts.mart_flow_weekly group by week_start
               having sum(throughput) > 0 order by week_start"""
        ).df()
    assert list(written.columns) == ["metric_time__week", "throughput"]
    assert written["metric_time__week"].tolist() == weekly["metric_time__week"].tolist()
    assert written["throughput"].tolist() == weekly["throughput"].astype("int64").tolist()


def test_saved_queries_answer(demo_run):
    _, warehouse, _ = demo_run
    with MetricsClient.open(WarehouseLayout(warehouse).serving_file) as client:
        names = client.saved_query_names()
        headline = client.query(saved_query="organisation_monthly_headline").frame
    assert names == [
        "organisation_monthly_headline",
        "outcome_progress_monthly",
        "team_flow_weekly",
        "team_quality_monthly",
    ]
    assert list(headline.columns) == [
        "metric_time__month",
        "throughput",
        "arrivals",
        "unlinked_throughput_share",
        "wip",
    ]
