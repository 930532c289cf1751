"""A failing blocking check stops a Spark run as it stops a DuckDB run.

The edge landing of test_spark_edge_parity.py with one task in a status the seed does not map:
``assert_every_status_is_mapped`` fails on DuckDB, and `owh run --engine spark` exits 1 naming
every check DuckDB named, publishing nothing. A module of its own so that it runs on the worker
that builds the demo (tests/conftest.py): the Spark leg's two workers then carry about the same
time.

Part of `make test-spark` (marker ``spark``); `make test` deselects it.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.spark_engine import spark_available
from pipelines.runner import run_nightly

from .conftest import DEMO_END
from .test_spark_edge_parity import UNMAPPED_STATUS, edge_landing

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("demo_run"),
    pytest.mark.skipif(spark_available() is not None, reason=str(spark_available())),
]


def test_a_failing_blocking_check_stops_the_spark_run_as_it_stops_duckdbs(
    tmp_path, dagster_home, monkeypatch
):
    parked = (
        "DST-9",
        "PAY",
        "2026-10-01T09:00:00",
        [("2026-10-02T09:00:00", "Backlog", UNMAPPED_STATUS)],
    )
    landing = edge_landing(tmp_path / "landing", [parked])
    duckdb_summary = run_nightly(landing, tmp_path / "duckdb", as_of=DEMO_END, demo=True)
    assert not duckdb_summary.success
    assert any("assert_every_status_is_mapped" in c for c in duckdb_summary.failed_checks)

    # the CLI, as an operator runs it: exit 1, each blocking check named on a line of its own
    monkeypatch.setenv("OWH_PSEUDONYM_KEY", "a-test-key-that-is-long-enough-for-hmac-use")
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--engine",
            "spark",
            "--landing",
            str(landing),
            "--warehouse",
            str(tmp_path / "spark"),
            "--as-of",
            DEMO_END.isoformat(),
        ],
    )

    assert result.exit_code == 1, result.output
    output = result.output
    for check in duckdb_summary.failed_checks:
        assert f"blocking check failed: {check}" in " ".join(output.split()), output
    assert not WarehouseLayout(tmp_path / "spark").serving_file.exists()
