"""The whole nightly job in process: demo landing data → ingest → dbt build → report → publish."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.dbt_project import DBT_PROJECT_DIR, ensure_manifest
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout

from .conftest import published
from .mart_digests import mart_digests, recorded_digests

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[a-zA-Z]+"
# in files, binary ones too: only the characters an address is written with
EMAIL_BYTES = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
MARTS = {
    "dim_kpis",
    "dim_outcomes",
    "dim_workstreams",
    "dim_delivery_thresholds",
    "fct_daily_flow",
    "fct_daily_flow_by_column",
    "fct_kpi_observations",
    "fct_task_status_intervals",
    "fct_tasks",
    "mart_aging_wip",
    "mart_aging_wip_by_team",
    "mart_flow_weekly",
    "mart_flow_weekly_by_workstream",
    "mart_outcome_progress",
    "mart_quality_monthly",
    "mart_outcome_scorecard",
    "mart_execution_vs_delivery",
    "mart_unlinked_work",
    "mart_unlinked_tasks",
    "mart_zombie_work",
    "mart_outcome_review",
    "mart_outcome_recommendations",
    "mart_delivery_forecast",
    "mart_delivery_forecast_how_many",
    "mart_outcome_forecast",
    "mart_org_monthly",
    "mart_wip_daily",
}


def query(warehouse: Path, sql: str, params=()):
    with connection(published(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_demo_run_publishes_warehouse_parquet_and_report(demo_run):
    _, warehouse, summary = demo_run
    assert summary.success, summary.errors
    assert summary.failed_checks == []
    tables = {
        r[0]
        for r in query(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    assert tables >= MARTS
    layout = WarehouseLayout(warehouse)
    assert {p.stem for p in layout.marts_dir.glob("*.parquet")} == tables
    assert (layout.reports_dir / "latest.html").exists()
    assert (layout.reports_dir / "2026-10.html").exists()
    assert not layout.builds_dir.exists() or not any(layout.builds_dir.iterdir())


def test_owh_check_reports_the_clean_demo_run(demo_run):
    _, warehouse, _ = demo_run
    checked = CliRunner().invoke(app, ["check", "--warehouse", str(warehouse)])
    assert checked.exit_code == 0, checked.output
    output = " ".join(checked.output.split())
    # the demo run, or its re-run if that test ran first: both succeed the same way
    assert ": success, published" in output
    assert "Blocking checks failed: 0" in output
    assert "Checks warned: 0" in output
    assert "Quarantined rows: 0" in output
    assert "Unmapped statuses: 0" in output
    assert f"Read from {published(warehouse)}" in output


def test_every_generated_and_hand_written_task_reaches_fct_tasks(demo_run):
    landing, warehouse, _ = demo_run
    jira_keys = set()
    for page in (landing / "jira").glob("*.json"):
        jira_keys |= {issue["key"] for issue in json.loads(page.read_text())["issues"]}
    rows = query(warehouse, "select source, task_id from marts.fct_tasks")
    assert {t for s, t in rows if s == "jira"} == jira_keys
    linear_rows = query(warehouse, "select count(*) from raw.tasks where source = 'linear'")[0][0]
    assert sum(1 for s, _ in rows if s == "linear") == linear_rows


def test_hand_checked_forward_only_task(demo_run):
    _, warehouse, _ = demo_run
    row = query(
        warehouse,
        """
        select team, task_type, created_at, started_at, completed_at, lead_time_days,
               cycle_time_days, reopen_count, is_completed
        from marts.fct_tasks where task_key = 'jira:HAND-1'
        """,
    )[0]
    # created 09-01 09:00, started 09-02 09:00, done 09-05 21:00 (all UTC)
    assert row == (
        "Payments",
        "story",
        dt.datetime(2026, 9, 1, 9),
        dt.datetime(2026, 9, 2, 9),
        dt.datetime(2026, 9, 5, 21),
        4.5,
        3.5,
        0,
        True,
    )


def test_hand_checked_reopened_task_with_offset(demo_run):
    _, warehouse, _ = demo_run
    row = query(
        warehouse,
        """
        select created_at, started_at, first_completed_at, completed_at, lead_time_days,
               cycle_time_days, first_pass_cycle_time_days, rework_time_days, reopen_count
        from marts.fct_tasks where task_key = 'jira:HAND-2'
        """,
    )[0]
    # created 2026-09-01 15:30 +0530 = 10:00 UTC; first done 09-04 10:00; final done 09-07 16:00
    assert row == (
        dt.datetime(2026, 9, 1, 10),
        dt.datetime(2026, 9, 3, 10),
        dt.datetime(2026, 9, 4, 10),
        dt.datetime(2026, 9, 7, 16),
        6.25,
        4.25,
        1.0,
        3.25,
        1,
    )


def test_hand_checked_never_started_task(demo_run):
    _, warehouse, _ = demo_run
    row = query(
        warehouse,
        """
        select created_at, started_at, completed_at, lead_time_days, cycle_time_days,
               is_completed, flow_item_type
        from marts.fct_tasks where task_key = 'jira:HAND-3'
        """,
    )[0]
    assert row == (dt.datetime(2026, 9, 10, 12), None, None, None, None, False, "debt")


def test_no_email_address_is_published_or_logged(demo_run):
    """The demo's landing files are full of e-mail addresses (authors, assignees, respondents);
    none reaches a column of the published warehouse, a run log, dbt's log or the Dagster
    instance (event log, check results, run storage)."""
    landing, warehouse, _ = demo_run
    email = EMAIL_BYTES
    addresses = {
        match.group(0).lower()
        for path in landing.rglob("*")
        if path.is_file()
        for match in email.finditer(path.read_bytes())
    }
    assert len(addresses) > 10
    landing_addresses = re.compile(
        b"|".join(re.escape(address) for address in sorted(addresses)), re.IGNORECASE
    )

    with connection(published(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog = current_database()"
        ).fetchall()
        assert len(columns) > 100
        for schema, table, column in columns:
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where regexp_matches("{column}", ?)',
                [EMAIL_PATTERN],
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column} holds e-mail addresses"

    logs = [
        *WarehouseLayout(warehouse).logs_dir.rglob("*"),
        *Path(os.environ["DAGSTER_HOME"]).rglob("*"),
        *(DBT_PROJECT_DIR / "logs").rglob("*"),
    ]
    files = [p for p in logs if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(p.suffix == ".db" for p in files)
    for path in files:
        content = path.read_bytes()
        # Dagster's SQLite files are binary, and random bytes can spell an address: a WAL frame's
        # checksum before the "SQLite format 3" of a page once read "w@0.SQLite". Binary files are
        # searched for the landing's own addresses, which noise cannot spell; text files for any.
        found = (landing_addresses if b"\0" in content else email).search(content)
        assert not found, f"{path} holds an e-mail address"


def test_the_published_report_prints_the_marts_figures(demo_run):
    _, warehouse, _ = demo_run
    page = (warehouse / "reports" / "2026-10.html").read_text(encoding="utf-8")
    ((throughput, team_throughput),) = query(
        warehouse,
        """
        select o.throughput, (select sum(throughput) from marts.mart_unlinked_work as u
                              where u.month = o.month)
        from marts.mart_org_monthly as o
        where o.month = date '2026-10-01'
        """,
    )
    assert throughput == team_throughput  # each team's local month, summed
    header = re.search(r'<p class="org-line">([^<]*)</p>', page).group(1)
    assert f" · {throughput:,} completed in October 2026 · " in header
    ((trials, window_days),) = query(
        warehouse,
        "select distinct simulation_trials, window_days from marts.mart_delivery_forecast",
    )
    assert f"from {trials:,} Monte Carlo trials" in page
    assert f"completions of the last {window_days} days" in page
    assert page.count('<p class="sources" data-sources="marts.') + page.count(
        '<p class="sources" data-sources="config.'
    ) == page.count('<section class="report-section"')


def test_the_run_times_every_dbt_node_and_names_its_slowest_steps(demo_run):
    _, _, summary = demo_run
    manifest = json.loads(ensure_manifest().read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] in {"model", "seed"}]
    assert summary.models_total == len(models)
    built = dict(summary.models_built)
    # every model and seed, once, keyed as the Dagster UI shows it, with dbt's own time for it
    assert len(summary.models_built) == len(models) == len(built)
    assert {"marts/fct_tasks", "marts/mart_org_monthly", "staging/stg_tracker__tasks"} <= set(built)
    assert all(seconds >= 0 for seconds in built.values())
    # dbt builds in two steps, the forecast between them (pipelines/defs/dbt/assets.py)
    assert {
        "outcome_warehouse_dbt",
        "delivery_forecasts",
        "outcome_warehouse_dbt_after_forecasts",
        "published_warehouse",
    } <= set(summary.step_seconds)
    slowest = summary.slowest(5)
    assert len(slowest) == 5
    assert [seconds for _, seconds in slowest] == sorted(
        [*summary.step_seconds.values(), *built.values()], reverse=True
    )[:5]


def test_every_published_mart_is_identical_to_its_recorded_digest(demo_run):
    """The speed work of the pipeline changes how figures are computed, never a figure: the
    demo's marts equal, column types and every bit of every value, the digests recorded before
    it (tests/integration/mart_digests.py says when to record them again)."""
    _, warehouse, _ = demo_run
    digests = mart_digests(WarehouseLayout(warehouse).marts_dir)
    recorded = recorded_digests()
    assert sorted(digests) == sorted(recorded)
    changed = {name for name in recorded if digests[name] != recorded[name]}
    assert not changed, {name: (digests[name], recorded[name]) for name in sorted(changed)}


def test_the_run_reuses_the_projects_parse(demo_run):
    """dbt parses the project once per code version: a run whose build file, as_of date or
    warehouse folder is new still reuses the parse ``ensure_manifest`` kept."""
    _, _, summary = demo_run
    log = summary.log_file.read_text()
    assert "Found " in log  # dbt logged its project, so the log is the dbt step's
    assert "Unable to do partial parsing" not in log
