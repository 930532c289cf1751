"""The demo built on Spark publishes the marts the DuckDB demo run published, row for row.

`owh run --engine spark` runs the same nightly job with dbt on a local Spark session: the raw
tables reach Spark as Parquet, the forecast asset writes its tables through the Spark store, and
the tables Spark built come back into the run's DuckDB build file, from which the report and the
publish step work as they do after a DuckDB build. Here the demo landing of ``demo_run`` is run
again on Spark and every published mart compared with DuckDB's (``tests/spark_parity.py``).

Part of `make test-spark` (marker ``spark``); `make test` deselects it.
"""

from __future__ import annotations

import pytest

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.spark_engine import spark_available
from pipelines.runner import RunSummary, run_nightly
from tests.spark_parity import compare_mart_folders, differences

from .conftest import DEMO_END, published
from .test_pipeline import MARTS

# the DuckDB side is the demo run of this worker (tests/integration/conftest.py)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("demo_run"),
    pytest.mark.skipif(spark_available() is not None, reason=str(spark_available())),
]

DBT_STEPS = ("outcome_warehouse_dbt", "delivery_forecasts", "outcome_warehouse_dbt_after_forecasts")


@pytest.fixture(scope="module")
def spark_demo_run(demo_run, tmp_path_factory) -> tuple[WarehouseLayout, RunSummary]:
    landing, _, _ = demo_run
    warehouse = tmp_path_factory.mktemp("spark_demo") / "warehouse"
    summary = run_nightly(landing, warehouse, as_of=DEMO_END, demo=True, engine="spark")
    return WarehouseLayout(warehouse), summary


def step_times(summary: RunSummary) -> str:
    return ", ".join(f"{step} {summary.step_seconds.get(step, 0):.0f} s" for step in DBT_STEPS)


def test_the_spark_demo_run_publishes_the_duckdb_marts_row_for_row(demo_run, spark_demo_run):
    _, duckdb_warehouse, duckdb_summary = demo_run
    spark_layout, spark_summary = spark_demo_run
    assert duckdb_summary.success, duckdb_summary.errors
    assert spark_summary.success, spark_summary.errors
    assert spark_summary.failed_checks == []

    results = compare_mart_folders(
        WarehouseLayout(duckdb_warehouse).marts_dir, spark_layout.marts_dir
    )

    print(f"DuckDB run {duckdb_summary.seconds:.0f} s: {step_times(duckdb_summary)}")
    print(f"Spark run {spark_summary.seconds:.0f} s: {step_times(spark_summary)}")
    print("\n".join(result.line() for result in results))
    assert differences(results) == {}
    assert {result.name for result in results} >= MARTS
    assert sum(result.rows for result in results) > 10_000


def test_the_spark_demo_run_publishes_the_report_and_serving_file(demo_run, spark_demo_run):
    _, duckdb_warehouse, _ = demo_run
    spark_layout, spark_summary = spark_demo_run
    assert spark_summary.success, spark_summary.errors
    duckdb_layout = WarehouseLayout(duckdb_warehouse)

    assert sorted(p.name for p in spark_layout.reports_dir.glob("*.html")) == sorted(
        p.name for p in duckdb_layout.reports_dir.glob("*.html")
    )
    assert (spark_layout.reports_dir / "latest.html").stat().st_size > 100_000
    # the serving file has every table of DuckDB's; the build folder (Spark's too) is gone
    tables = "select table_schema, table_name from information_schema.tables"
    with connection(published(duckdb_warehouse), read_only=True) as con:
        duckdb_tables = set(con.execute(tables + " where table_type = 'BASE TABLE'").fetchall())
    with connection(spark_layout.serving_file, read_only=True) as con:
        spark_tables = set(con.execute(tables).fetchall())
    assert duckdb_tables - spark_tables == set()
    assert not spark_layout.builds_dir.exists() or not any(spark_layout.builds_dir.iterdir())
