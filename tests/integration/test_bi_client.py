"""A BI tool reads the published warehouse while a nightly run builds and swaps the next one.

The client is what Superset and other SQLAlchemy-based BI tools use: the `duckdb-engine` dialect
on the published file opened ``access_mode=read_only``, a new connection per query (as a BI
server's pool hands out), plus the Parquet marts read through the ``marts`` folder and the
semantic layer's metrics through `owh metrics`' client. It runs in a process of its own, started
by the test, and polls until the test tells it to stop, logging every read as one JSON line.

The nightly run is a copy of the shared Jira-only build run again one day later (so the new
release has one more month, the as_of month): the shared build itself stays as the other tests
read it. It costs one more `owh run` of that one-page landing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]

POLL_SECONDS = 0.2


def poll(warehouse: Path, stop_file: Path, log_file: Path) -> None:
    """Read marts, Parquet and metrics until ``stop_file`` exists; one JSON line per round."""
    import duckdb
    import pandas as pd
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    from pipelines.metrics.engine import MetricsClient

    serving = warehouse / "warehouse.duckdb"
    marts = warehouse / "marts"
    engine = sqlalchemy.create_engine(
        f"duckdb:///{serving}?access_mode=read_only", poolclass=NullPool
    )
    with log_file.open("a") as log:
        while not stop_file.exists():
            record: dict[str, object] = {"at": time.time()}
            try:
                with engine.connect() as con:
                    monthly = pd.read_sql(
                        "select month, throughput from marts.mart_org_monthly order by month", con
                    )
                    weekly = pd.read_sql("select count(*) as n from marts.mart_flow_weekly", con)
                record["months"] = len(monthly)
                record["weekly_rows"] = int(weekly["n"].iloc[0])
                record["release"] = os.readlink(marts)
                parquet = duckdb.connect()
                record["parquet_months"] = parquet.sql(
                    f"select count(*) from read_parquet('{marts}/mart_org_monthly.parquet')"
                ).fetchone()[0]
                record["parquet_marts"] = len(list(marts.glob("*.parquet")))
                parquet.close()
                with MetricsClient.open(serving) as client:
                    throughput = client.query(["throughput"], ["metric_time__month"]).frame
                record["metric_months"] = len(throughput)
            except Exception as exc:  # every failure is the finding: logged, never raised
                record["error"] = f"{type(exc).__name__}: {exc}"
            log.write(json.dumps(record) + "\n")
            log.flush()
            time.sleep(POLL_SECONDS)


def _published_state(warehouse: Path) -> dict[str, object]:
    from pipelines.lib.duckdb_connection import connection

    with connection(warehouse / "warehouse.duckdb", read_only=True) as con:
        months = con.sql("select count(*) from marts.mart_org_monthly").fetchone()[0]
    return {"months": months, "release": os.readlink(warehouse / "marts")}


def test_a_bi_client_reads_without_error_through_a_nightly_swap(jira_only_run, tmp_path):
    from pipelines.runner import run_nightly
    from tests.integration.conftest import DEMO_END

    landing, shared_warehouse, _ = jira_only_run
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copy(shared_warehouse / "warehouse.duckdb", warehouse / "warehouse.duckdb")
    shutil.copytree(shared_warehouse / "releases", warehouse / "releases", symlinks=True)
    os.symlink(os.readlink(shared_warehouse / "marts"), warehouse / "marts")
    before = _published_state(warehouse)

    stop_file, log_file = tmp_path / "stop", tmp_path / "reads.jsonl"
    client = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.test_bi_client",
            str(warehouse),
            str(stop_file),
            str(log_file),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_reads(log_file, client, count=3)
        started = time.monotonic()
        summary = run_nightly(landing, warehouse, as_of=DEMO_END + dt.timedelta(days=1), demo=True)
        run_seconds = time.monotonic() - started
        reads_at_swap = _count_lines(log_file)
        _wait_for_reads(log_file, client, count=reads_at_swap + 3)
    finally:
        stop_file.touch()
        _, stderr = client.communicate(timeout=60)
    assert summary.success, summary.errors
    assert client.returncode == 0, stderr
    after = _published_state(warehouse)

    reads = [json.loads(line) for line in log_file.read_text().splitlines()]
    errors = [read["error"] for read in reads if "error" in read]
    print(
        f"BI client: {len(reads)} reads in {run_seconds:.0f} s of nightly run, {len(errors)} errors"
    )
    assert errors == []
    assert after["release"] != before["release"]
    assert after["months"] == before["months"] + 1
    # every read saw one whole version: the old one until the swap, then the new one
    releases = [read["release"] for read in reads]
    assert releases[0] == before["release"] and releases[-1] == after["release"]
    assert set(releases) == {before["release"], after["release"]}
    switch = releases.index(after["release"])
    assert releases[switch:] == [after["release"]] * (len(reads) - switch)
    for key in ("months", "parquet_months"):
        seen = [read[key] for read in reads]
        assert set(seen) == {before["months"], after["months"]}, key
        assert seen[0] == before["months"] and seen[-1] == after["months"], key
    # the one Jira page completes nothing in the added month: the metric's months stay
    assert {read["metric_months"] for read in reads} == {reads[0]["metric_months"]}
    assert reads[0]["metric_months"] > 0
    assert {read["parquet_marts"] for read in reads} == {
        len(list((warehouse / "marts").glob("*.parquet")))
    }


def _count_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _wait_for_reads(log_file: Path, client: subprocess.Popen, *, count: int) -> None:
    deadline = time.monotonic() + 120
    while _count_lines(log_file) < count:
        if client.poll() is not None:
            raise AssertionError(f"the BI client stopped: {client.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the BI client logged fewer than {count} reads in 120 s")
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    poll(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
