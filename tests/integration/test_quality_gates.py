"""Raw tables that break their Great Expectations suites stop the run before dbt reads them.

The demo's published warehouse and landing folder are copied and two files broken: one KPI
definition gets an area that does not exist (ingestion quarantines the row, and one row of twelve
is more than the share of rejects a table may have), and one KPI observation gets another unit
than the rest of its KPI's (ingestion cannot see that; the suite can). The run must fail on both
suites, say which expectations broke in counts only, never start dbt, and leave the published
files byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.runner import run_nightly

from .conftest import DEMO_END, published

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]


def digests(warehouse: Path) -> dict[str, str]:
    files = [published(warehouse), *sorted(WarehouseLayout(warehouse).marts_dir.glob("*.parquet"))]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_broken_raw_tables_fail_their_suites_and_nothing_is_published(demo_run, tmp_path):
    landing, warehouse, summary = demo_run
    assert summary.success, summary.errors
    broken_landing, copy = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(landing, broken_landing)
    shutil.copytree(warehouse, copy)
    kpis = broken_landing / "kpis" / "kpis.csv"
    kpis.write_text(kpis.read_text().replace(",adoption,", ",marketing,", 1))
    observations = broken_landing / "kpi_observations" / "kpi_observations.csv"
    observations.write_text(observations.read_text().replace(",,days\n", ",,hours\n", 1))
    before = digests(copy)

    result = run_nightly(broken_landing, copy, as_of=DEMO_END, demo=True)

    assert not result.success
    assert result.failed_checks == [
        "raw/kpis:great_expectations_suite",
        "raw/kpi_observations:great_expectations_suite",
    ]
    kpi_suite = result.failing_rows["raw/kpis:great_expectations_suite"]
    assert "| kpis: load log | expect_column_values_to_be_between(quarantined_share) | 1 | 1 |" in (
        kpi_suite
    )
    units = result.failing_rows["raw/kpi_observations:great_expectations_suite"]
    assert (
        "| kpi_observations: units per KPI | expect_column_values_to_be_unique(kpi_id) | 2 |"
        in (units)
    )
    assert "marketing" not in kpi_suite + units  # counts, never values
    # dbt never started: the run's build file has its raw tables, the task history tables it
    # started with (docs/incremental.md), and nothing built from them
    build_file = WarehouseLayout(copy).build_file(result.run_id)
    with connection(build_file, read_only=True) as con:
        schemas = {
            name
            for (name,) in con.execute(
                "select schema_name from information_schema.schemata"
            ).fetchall()
        }
        built = sorted(
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('staging', 'intermediate', 'marts')"
            ).fetchall()
        )
        (carried,) = con.execute("select carried from build_state.carry_over").fetchone()
    assert "raw" in schemas
    assert len(carried) == 15
    # not one model beside them: no table in staging, intermediate or marts but the carried ones
    assert built == sorted(carried)
    assert digests(copy) == before

    # owh check reports the same run from the folder alone, and fails
    checked = CliRunner().invoke(app, ["check", "--warehouse", str(copy)])
    assert checked.exit_code == 1, checked.output
    output = " ".join(checked.output.split())
    assert f"Last run {result.run_id}: failure, not published" in output
    assert "Blocking checks failed: 2" in output
    assert "raw/kpis:great_expectations_suite" in output
    assert "raw/kpi_observations:great_expectations_suite" in output
    assert "expect_column_values_to_be_unique(kpi_id)" in output
    # the quarantined row, with the reason ingestion gave it (a reason names the bad value)
    assert "Quarantined rows: 1" in output
    assert "kpis: 1 row(s): invalid area: 'marketing' (expected one of flow," in output
    assert "Unmapped statuses: 0" in output
