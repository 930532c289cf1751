"""The edge cases on Spark: the hand-checked Jira page and tasks at DST changes, a failing blocking
check, and the dbt unit tests.

- One landing of Jira pages (the hand-checked page and ``dst-edges.json``: tasks whose milestones
  fall just before, inside and just after the spring gap and the autumn overlap of London and New
  York, and at the local midnights around them) is run on DuckDB and on Spark; every published
  mart must be equal row for row, and so must the per-task positions on the teams' business-day
  calendars (``int_status_intervals_aggregated_to_tasks``), which read each milestone's local day.
- The same landing with one task in a status the seed does not map fails the blocking check
  ``assert_every_status_is_mapped`` on both engines (test_spark_failing_check.py, on the other
  test worker).
- Every dbt unit test passes on the `spark` target (their input relations registered in Spark
  from the DuckDB run's serving file).

Part of `make test-spark` (marker ``spark``); `make test` deselects it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.lib.dbt_project import dbt_command
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.spark_engine import (
    SPARK_TARGET,
    dbt_spark_environment,
    export_raw_tables,
    register_through_dbt,
    registration_statements,
    spark_available,
)
from pipelines.runner import RunSummary, run_nightly
from tests.spark_parity import compare_mart_folders, differences

from .conftest import DEMO_END, FIXTURES
from .test_pipeline import MARTS

# on the worker that does not build the demo (tests/conftest.py)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("jira_only"),
    pytest.mark.skipif(spark_available() is not None, reason=str(spark_available())),
]

# (key, project, created, [(changed, from, to), ...]); PAY is Europe/London, MOB America/New_York
# (seeds/teams.csv). London: 2026-03-29 01:00 UTC clocks go 01:00 GMT -> 02:00 BST, 2025-10-26
# 01:00 UTC 02:00 BST -> 01:00 GMT. New York: 2026-03-08 07:00 UTC 02:00 EST -> 03:00 EDT,
# 2025-11-02 06:00 UTC 02:00 EDT -> 01:00 EST.
DST_TASKS = [
    # London spring: Saturday 23:59:59 GMT, then Sunday 00:59:59 GMT and 02:00 BST around the gap
    (
        "DST-1",
        "PAY",
        "2026-03-27T12:00:00",
        [
            ("2026-03-28T23:59:59", "Backlog", "In Progress"),
            ("2026-03-29T00:59:59", "In Progress", "Code Review"),
            ("2026-03-29T01:00:00", "Code Review", "Done"),
        ],
    ),
    # London, first BST midnights: Monday 00:00 BST is Sunday 23:00 UTC
    (
        "DST-2",
        "PAY",
        "2026-03-27T12:00:00",
        [
            ("2026-03-29T23:00:00", "Backlog", "In Progress"),
            ("2026-03-30T22:59:59", "In Progress", "Done"),
        ],
    ),
    # London autumn overlap: 01:30 BST and 01:30 GMT on Sunday, then Sunday 23:59 GMT
    (
        "DST-3",
        "PAY",
        "2025-10-20T09:00:00",
        [
            ("2025-10-25T23:00:00", "Backlog", "In Progress"),
            ("2025-10-26T00:30:00", "In Progress", "Code Review"),
            ("2025-10-26T01:30:00", "Code Review", "In Progress"),
            ("2025-10-26T23:59:00", "In Progress", "Done"),
        ],
    ),
    # New York spring gap: 01:59:59 EST, then 03:00 EDT on Sunday
    (
        "DST-4",
        "MOB",
        "2026-03-05T15:00:00",
        [
            ("2026-03-08T06:59:59", "Backlog", "In Progress"),
            ("2026-03-08T07:00:00", "In Progress", "Done"),
        ],
    ),
    # New York: Sunday 23:59:59 EDT, then Monday 00:00 EDT
    (
        "DST-5",
        "MOB",
        "2026-03-06T15:00:00",
        [
            ("2026-03-09T03:59:59", "Backlog", "In Progress"),
            ("2026-03-09T04:00:00", "In Progress", "Done"),
        ],
    ),
    # New York autumn overlap: 01:30 EDT, 01:30 EST, then Sunday 23:59:59 EST
    (
        "DST-6",
        "MOB",
        "2025-10-30T15:00:00",
        [
            ("2025-11-02T05:30:00", "Backlog", "In Progress"),
            ("2025-11-02T06:30:00", "In Progress", "Code Review"),
            ("2025-11-03T04:59:59", "Code Review", "Done"),
        ],
    ),
]
UNMAPPED_STATUS = "Parked Indefinitely"


def jira_page(tasks: list[tuple[str, str, str, list[tuple[str, str, str]]]]) -> dict:
    """A Jira search page of ``tasks``, each shaped like the hand-checked page's first issue."""
    template = json.loads((FIXTURES / "jira" / "hand-checked.json").read_text())
    issue_template = template["issues"][0]
    issues = []
    for number, (key, project, created, changes) in enumerate(tasks, start=1):
        issue = copy.deepcopy(issue_template)
        issue["id"] = str(99000 + number)
        issue["key"] = key
        issue["fields"]["summary"] = f"DST edge {key}"
        issue["fields"]["project"] = {"key": project}
        issue["fields"]["created"] = f"{created}.000+0000"
        issue["fields"]["status"] = {"name": changes[-1][2]}
        done = changes[-1][2] == "Done"
        issue["fields"]["resolution"] = {"name": "Done"} if done else None
        author = issue["changelog"]["histories"][0]["author"]
        issue["changelog"] = {
            "startAt": 0,
            "maxResults": len(changes),
            "total": len(changes),
            "histories": [
                {
                    "id": str(index),
                    "author": author,
                    "created": f"{changed}.000+0000",
                    "items": [{"field": "status", "fromString": before, "toString": after}],
                }
                for index, (changed, before, after) in enumerate(changes, start=1)
            ],
        }
        issues.append(issue)
    return {**template, "total": len(issues), "maxResults": len(issues), "issues": issues}


def edge_landing(folder: Path, extra_tasks=()) -> Path:
    (folder / "jira").mkdir(parents=True)
    shutil.copy(FIXTURES / "jira" / "hand-checked.json", folder / "jira" / "hand-checked.json")
    page = jira_page([*DST_TASKS, *extra_tasks])
    (folder / "jira" / "dst-edges.json").write_text(json.dumps(page, indent=1))
    return folder


@pytest.fixture(scope="module")
def edge_runs(tmp_path_factory, dagster_home) -> dict[str, tuple[WarehouseLayout, RunSummary]]:
    """The edge landing run on each engine."""
    root = tmp_path_factory.mktemp("spark_edges")
    landing = edge_landing(root / "landing")
    runs = {}
    for engine in ("duckdb", "spark"):
        warehouse = root / f"warehouse-{engine}"
        summary = run_nightly(landing, warehouse, as_of=DEMO_END, demo=True, engine=engine)
        runs[engine] = (WarehouseLayout(warehouse), summary)
    return runs


def rows(serving_file: Path, sql: str) -> list[tuple]:
    with connection(serving_file, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_edge_landing_publishes_the_same_marts_on_both_engines(edge_runs):
    (duckdb_layout, duckdb_summary), (spark_layout, spark_summary) = (
        edge_runs["duckdb"],
        edge_runs["spark"],
    )
    assert duckdb_summary.success, duckdb_summary.errors
    assert spark_summary.success, spark_summary.errors

    results = compare_mart_folders(duckdb_layout.marts_dir, spark_layout.marts_dir)

    print("\n".join(result.line() for result in results))
    assert differences(results) == {}
    assert {result.name for result in results} >= MARTS
    tasks = rows(spark_layout.serving_file, "select count(*) from marts.fct_tasks")
    assert tasks == [(3 + len(DST_TASKS),)]


def test_dst_milestones_fall_on_the_same_local_days_on_both_engines(edge_runs):
    query = """
        select task_id, created_business_microseconds, started_business_microseconds,
            first_completed_business_microseconds, completed_business_microseconds
        from intermediate.int_status_intervals_aggregated_to_tasks
        where task_id like 'DST-%' order by task_id
    """
    duckdb_rows = rows(edge_runs["duckdb"][0].serving_file, query)
    spark_rows = rows(edge_runs["spark"][0].serving_file, query)

    assert [r[0] for r in duckdb_rows] == [key for key, *_ in DST_TASKS]
    assert spark_rows == duckdb_rows


def test_dst_tasks_business_days(edge_runs):
    """Hand-computed from the local times in DST_TASKS; the same on both engines. Every DST change
    falls on a Sunday, so a cycle that starts and ends on that weekend counts no business time,
    and lead times count the weekdays around it in local hours."""
    query = """
        select task_id, round(cycle_time_business_days, 9), round(lead_time_business_days, 9)
        from marts.fct_tasks where task_id like 'DST-%' order by task_id
    """
    expected = [
        # created Friday 12:00 GMT; started Saturday, done Sunday 02:00 BST
        ("DST-1", 0.0, 0.5),
        # Monday 00:00:00 to 23:59:59 BST: one second short of a business day; Friday half a day
        ("DST-2", round(86_399 / 86_400, 9), round(1.5 - 1 / 86_400, 9)),
        # created Monday 10:00 BST: 14 hours and four days; the overlap is on Sunday
        ("DST-3", 0.0, round(4 + 14 / 24, 9)),
        # created Thursday 10:00 EST: 14 hours and Friday; started and done on Sunday
        ("DST-4", 0.0, round(1 + 14 / 24, 9)),
        # Sunday 23:59:59 EDT to Monday 00:00 EDT; created Friday 10:00 EST
        ("DST-5", 0.0, round(14 / 24, 9)),
        # created Thursday 11:00 EDT: 13 hours and Friday; the overlap is on Sunday
        ("DST-6", 0.0, round(1 + 13 / 24, 9)),
    ]
    for engine in ("duckdb", "spark"):
        assert rows(edge_runs[engine][0].serving_file, query) == expected, engine


def test_every_dbt_unit_test_passes_on_spark(edge_runs, tmp_path):
    """Unit tests need only the columns of their inputs: every relation of the DuckDB run's serving
    file is registered in a fresh Spark metastore, then dbt runs the unit tests on Spark."""
    duckdb_layout, summary = edge_runs["duckdb"]
    assert summary.success, summary.errors
    spark_dir = tmp_path / "spark"
    statements = []
    with connection(duckdb_layout.serving_file, read_only=True) as con:
        schemas = [
            name
            for (name,) in con.execute(
                "select distinct table_schema from information_schema.tables order by 1"
            ).fetchall()
        ]
    for schema in schemas:
        tables = export_raw_tables(
            duckdb_layout.serving_file, spark_dir / "relations" / schema, schema, include_views=True
        )
        statements += registration_statements(tables, schema)
    register_through_dbt(spark_dir, statements)

    completed = subprocess.run(
        dbt_command(
            "test",
            "--select",
            "test_type:unit",
            "--target",
            SPARK_TARGET,
            target_path=spark_dir / "target",
            log_path=spark_dir / "logs",
        ),
        capture_output=True,
        text=True,
        env={**os.environ, **dbt_spark_environment(spark_dir), "OWH_AS_OF": DEMO_END.isoformat()},
    )

    results = json.loads((spark_dir / "target" / "run_results.json").read_text())["results"]
    failures = {r["unique_id"]: r["message"] for r in results if r["status"] != "pass"}
    assert failures == {}, completed.stdout[-4000:]
    assert completed.returncode == 0, completed.stdout[-4000:]
    defined = set(json.loads((spark_dir / "target" / "manifest.json").read_text())["unit_tests"])
    assert {r["unique_id"] for r in results} == defined
    assert len(defined) >= 90
