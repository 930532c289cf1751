"""A BI client that reads a published warehouse, in a process of its own, until told to stop.

It reads as Superset and other SQLAlchemy-based BI tools do: the `duckdb-engine` dialect on the
published file opened ``access_mode=read_only``, a new connection per query (as a BI server's pool
hands them out); plus the Parquet marts through the ``marts`` folder and the semantic layer's
metrics through `owh metrics`' client. Every round of reads is one JSON line of its log; a failed
read is logged with its error, never raised, so that the test sees every one.

``reading(warehouse)`` starts it, waits for its first reads, and on leaving waits for a few reads
more before stopping it; ``BIClient.reads`` is then the whole log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.2
# The pause between two rounds of reads. A round (a SQLAlchemy query, a Parquet scan and a
# metrics query) takes about 0.4 s of a core: at 0.2 s apart the client kept most of a core busy
# for the whole run it reads through, slowing that run and the tests beside it. A round a second
# or so still reads about twenty times through a demo nightly, and the swap is one rename.
READ_PAUSE_SECONDS = 1.0
REPO = Path(__file__).resolve().parents[2]


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
                    revised = pd.read_sql(
                        "select count(*) as n from marts.fct_tasks where title like '%(revised)'",
                        con,
                    )
                record["months"] = len(monthly)
                record["revised"] = int(revised["n"].iloc[0])
                record["release"] = os.readlink(marts)
                parquet = duckdb.connect()
                record["parquet_revised"] = parquet.sql(
                    f"select count(*) from read_parquet('{marts}/fct_tasks.parquet') "
                    "where title like '%(revised)'"
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
            time.sleep(READ_PAUSE_SECONDS)


@dataclass
class BIClient:
    log_file: Path
    reads: list[dict] = field(default_factory=list)

    def count(self) -> int:
        return len(self.log_file.read_text().splitlines()) if self.log_file.exists() else 0


@contextmanager
def reading(warehouse: Path, work_dir: Path) -> Iterator[BIClient]:
    """The client polling ``warehouse`` for as long as the block runs (see the module)."""
    stop_file, log_file = work_dir / "stop", work_dir / "reads.jsonl"
    client = BIClient(log_file)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.bi_client",
            *map(str, (warehouse, stop_file, log_file)),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_reads(client, process, count=2)
        yield client
        _wait_for_reads(client, process, count=client.count() + 2)
    finally:
        stop_file.touch()
        _, stderr = process.communicate(timeout=60)
    if process.returncode != 0:
        raise AssertionError(f"the BI client exited with {process.returncode}: {stderr}")
    client.reads = [json.loads(line) for line in log_file.read_text().splitlines()]


def _wait_for_reads(client: BIClient, process: subprocess.Popen, *, count: int) -> None:
    deadline = time.monotonic() + 120
    while client.count() < count:
        if process.poll() is not None:
            raise AssertionError(f"the BI client stopped: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the BI client logged fewer than {count} reads in 120 s")
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    poll(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
