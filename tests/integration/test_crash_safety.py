"""A nightly run killed in the middle of its build leaves the serving files as they were, and
the next run succeeds with the same result, whatever the machine's time zone.

One scenario on a copy of the demo warehouse, while a BI reader polls the serving file read-only
from another process the whole time:

1. ``owh run`` is killed with SIGKILL (its whole process group: the Python process and the dbt it
   started) while dbt is building models on the ingested build file (once its log shows ten
   models created, before it reports done): the serving DuckDB file, every Parquet mart and
   every report stay byte-identical;
2. the next run runs in another time zone (Pacific/Auckland, UTC+13 in November, where the local
   date is a day ahead of UTC for half of every day) and succeeds: its marts and report are
   byte-identical to the demo run's;
3. the reader never saw an error or a partial warehouse.

A kill during publish, between each of its renames, is in ``tests/unit/test_publish.py``: the
swap is the only step that touches a serving file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.pseudonymize import DEMO_PSEUDONYM_KEY
from pipelines.runner import run_nightly

from .conftest import DEMO_END, published

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

OWH = Path(sys.executable).with_name("owh")
KILL_TIMEOUT_SECONDS = 600
# the line dbt prints as it starts: the build is killed then, with its build file half-made
# dbt's console line for each model it created, and the line it ends a build with
MODEL_CREATED = re.compile(r"\d+ of \d+ OK created sql \w+ model ")
BUILD_DONE = "Done. PASS="
MODELS_BEFORE_KILL = 10

READER = """
import json, sys, time
from pathlib import Path
from pipelines.lib.duckdb_connection import connection

serving, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), open(sys.argv[3], "w")
while not stop.exists():
    try:
        with connection(serving, read_only=True) as con:
            marts = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'marts'"
            ).fetchone()[0]
            tasks = con.execute("select count(*) from marts.fct_tasks").fetchone()[0]
            reviews = con.execute("select count(*) from marts.mart_outcome_review").fetchone()[0]
            parquet = con.execute(
                "select count(*) from read_parquet(?)",
                [str(serving.parent / "marts" / "fct_tasks.parquet")],
            ).fetchone()[0]
        seen = {"marts": marts, "fct_tasks": tasks, "reviews": reviews, "parquet": parquet}
    except Exception as exc:
        seen = {"error": f"{type(exc).__name__}: {exc}"}
    out.write(json.dumps(seen) + "\\n")
    out.flush()
    time.sleep(0.5)
"""


def served_files(warehouse: Path) -> dict[str, str]:
    """Digest of every file a reader is served: the DuckDB file, the Parquet marts, the reports."""
    files = [
        published(warehouse),
        *sorted(WarehouseLayout(warehouse).marts_dir.glob("*.parquet")),
        *sorted(WarehouseLayout(warehouse).reports_dir.glob("*.html")),
    ]
    return {
        str(p.relative_to(warehouse)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def start_run(landing: Path, warehouse: Path, log: Path, **env: str) -> subprocess.Popen:
    """``owh run`` in its own process group, so that a kill reaches dbt too."""
    return subprocess.Popen(
        [
            str(OWH),
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--as-of",
            DEMO_END.isoformat(),
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **env},
    )


def kill_when(run: subprocess.Popen, ready, what: str) -> None:
    """SIGKILL the run's process group as soon as ``ready()`` is true."""
    deadline = time.monotonic() + KILL_TIMEOUT_SECONDS
    while not ready():
        assert run.poll() is None, f"the run ended (exit {run.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} after {KILL_TIMEOUT_SECONDS} s"
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGKILL)
    assert run.wait(timeout=60) == -signal.SIGKILL


def new_files(pattern: str, folder: Path, since: float) -> list[Path]:
    return [p for p in folder.glob(pattern) if p.stat().st_mtime >= since]


def models_being_built(warehouse: Path, since: float) -> bool:
    """dbt has created some models of the build and is still running (the run writes dbt's
    console output to logs/<run id>.log)."""
    return any(
        len(MODEL_CREATED.findall(log.read_text())) >= MODELS_BEFORE_KILL
        for log in new_files("*.log", WarehouseLayout(warehouse).logs_dir, since)
    )


def dbt_log(warehouse: Path, since: float) -> str:
    logs = new_files("*.log", WarehouseLayout(warehouse).logs_dir, since)
    return "".join(log.read_text() for log in logs)


def test_a_run_killed_in_its_build_changes_nothing_and_the_next_run_succeeds(
    demo_run, tmp_path, monkeypatch
):
    landing, demo_warehouse, summary = demo_run
    assert summary.success, summary.errors
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    before = served_files(warehouse)
    stop, observations = tmp_path / "stop", tmp_path / "reader.jsonl"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published(warehouse)), str(stop), str(observations)]
    )
    try:
        started = time.time()
        # `owh run` never takes the demo key from a landing folder: it is given, as an operator
        # would give their own
        run = start_run(
            landing,
            warehouse,
            tmp_path / "killed-in-build.log",
            OWH_PSEUDONYM_KEY=DEMO_PSEUDONYM_KEY.decode(),
        )
        kill_when(
            run,
            lambda: models_being_built(warehouse, started),
            f"{MODELS_BEFORE_KILL} models created by dbt",
        )
        # killed mid-build: models were being created and the build had not finished
        log = dbt_log(warehouse, started)
        assert len(MODEL_CREATED.findall(log)) >= MODELS_BEFORE_KILL
        assert BUILD_DONE not in log
        assert served_files(warehouse) == before
        killed_builds = [p.name for p in WarehouseLayout(warehouse).builds_dir.iterdir()]
        assert len(killed_builds) == 1

        monkeypatch.setenv("TZ", "Pacific/Auckland")
        time.tzset()
        try:
            next_run = run_nightly(landing, warehouse, as_of=DEMO_END, demo=True)
        finally:
            monkeypatch.undo()
            time.tzset()
        assert next_run.success, next_run.errors
    finally:
        stop.touch()
        reader.wait(timeout=60)

    after = served_files(warehouse)
    assert after.pop("warehouse.duckdb") != before.pop("warehouse.duckdb")  # a new file
    assert after == before
    # the killed run's folder stays a day (a run in progress must not lose its build), no longer
    assert [p.name for p in WarehouseLayout(warehouse).builds_dir.iterdir()] == killed_builds

    seen = [json.loads(line) for line in observations.read_text().splitlines()]
    errors = [s["error"] for s in seen if "error" in s]
    assert errors == []
    assert len(seen) >= 40  # polled through both runs
    assert {json.dumps(s, sort_keys=True) for s in seen} == {json.dumps(seen[0], sort_keys=True)}
    assert seen[0]["marts"] >= 22 and seen[0]["fct_tasks"] == seen[0]["parquet"]
