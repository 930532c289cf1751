"""Benchmark ``dbt build`` alone: wall time, peak memory and the slowest nodes at several sizes.

Usage: ``python benchmarks/bench_dbt.py --tasks 100000 1000000 [--threads 4]``.

``bench_run.py`` times the whole ``owh run``; this script isolates the dbt part, which is where the
time goes as the data grows, and says which nodes take it. For each size, under
``bench/dbt/<tasks>/`` (git-ignored):

1. demo landing data is generated in this process (fixed seed and end date, so every run of the
   benchmark sees the same bytes);
2. it is ingested into a fresh ``warehouse.duckdb`` with the project's ingestion functions and the
   public demo pseudonym key, as a demo run does;
3. ``dbt build`` of the whole project (seeds, models, data tests; unit tests are left out, as
   in the nightly run) runs in a child process with the project's profile and the environment the
   Dagster asset gives it (``pipelines.lib.dbt_project.build_environment``). Its target folder is
   emptied first and given the project's kept parse, as the nightly's is, so it never reads a
   stale ``run_results.json``.

Printed per size: tasks, status transitions loaded, generate / ingest / dbt wall seconds, dbt's own
execution seconds (``run_results.json`` ``elapsed_time``; the rest of the wall time is start-up and
parsing), the dbt process's peak resident memory, the summed node time per resource type (models
against tests), and the ten slowest nodes. Figures, not assertions; a failing build still prints
its figures, lists the failed nodes and exits with status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from pipelines.demo import generate_demo
from pipelines.lib.dbt_project import (
    DBT_PROJECT_DIR,
    build_environment,
    dbt_command,
    reuse_parse,
)
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import DATABASE_FILE_NAME
from pipelines.lib.pseudonymize import DEMO_PSEUDONYM_KEY
from pipelines.sources.ingest import ingest_definitions, ingest_impact, ingest_task_tracker

REPO = Path(__file__).resolve().parents[1]
END_DATE = dt.date(2026, 10, 31)
RUN_ID = "bench-dbt"
SLOWEST_NODES = 10
# ru_maxrss is in KiB on Linux and in bytes on macOS.
MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024
FAILED_STATUSES = {"error", "fail", "runtime error"}
RESOURCE_LABELS = {
    "seed": "seeds",
    "model": "models",
    "test": "data tests",
    "unit_test": "unit tests",
}


@dataclass(frozen=True)
class NodeTiming:
    """One node of ``run_results.json``: what ran, how it ended and how long it took."""

    unique_id: str
    resource_type: str
    status: str
    execution_seconds: float


@dataclass(frozen=True)
class DbtBuild:
    """What one ``dbt build`` cost and what its nodes reported."""

    wall_seconds: float
    execution_seconds: float
    peak_rss_mib: float
    return_code: int
    nodes: list[NodeTiming]
    output_file: Path


@dataclass(frozen=True)
class SizeResult:
    tasks: int
    transitions: int
    generate_seconds: float
    ingest_seconds: float
    build: DbtBuild


def generate_landing(landing: Path, tasks: int, seed: int) -> float:
    """Write the demo landing folder; return the seconds it took."""
    started = time.perf_counter()
    generate_demo(landing, tasks=tasks, seed=seed, end_date=END_DATE)
    return time.perf_counter() - started


def ingest_landing(landing: Path, database: Path) -> tuple[int, float]:
    """Load the landing folder into a fresh DuckDB file; return (transitions loaded, seconds).

    The three loads run in the order of ``owh ingest``, on one connection, with the demo key.
    """
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    # DuckDB reads the pages only from the folders the connection allows
    with connection(database, allowed_directories=[landing]) as con:
        tasks = ingest_task_tracker(
            con, landing, run_id=RUN_ID, loaded_at=loaded_at, pseudonym_key=DEMO_PSEUDONYM_KEY
        )
        ingest_definitions(con, landing, run_id=RUN_ID, loaded_at=loaded_at)
        ingest_impact(
            con, landing, run_id=RUN_ID, loaded_at=loaded_at, pseudonym_key=DEMO_PSEUDONYM_KEY
        )
    return tasks.rows_loaded["task_status_changes"], time.perf_counter() - started


def run_dbt_build(database: Path, scratch: Path, threads: int) -> DbtBuild:
    """Run ``dbt build`` on ``database`` in a child process and measure it.

    The peak memory comes from ``os.wait4``: the resource usage of exactly this child (and any
    process it waited for). ``getrusage(RUSAGE_CHILDREN)`` would give the largest child of the
    whole benchmark so far, which is wrong as soon as a smaller size follows a larger one.
    """
    target = scratch / "target"
    shutil.rmtree(target, ignore_errors=True)
    output_file = scratch / "dbt_build.log"
    command = dbt_command(
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--no-use-colors",
        "--threads",
        str(threads),
        target_path=target,
        log_path=scratch / "logs",
    )
    reuse_parse(target)
    env = {
        **os.environ,
        **build_environment(database, END_DATE),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with output_file.open("w", encoding="utf-8") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=DBT_PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall_seconds = time.perf_counter() - started
    # The child is reaped already; tell Popen so it neither waits again nor warns.
    child.returncode = os.waitstatus_to_exitcode(status)
    execution_seconds, nodes = read_run_results(target / "run_results.json")
    return DbtBuild(
        wall_seconds=wall_seconds,
        execution_seconds=execution_seconds,
        peak_rss_mib=usage.ru_maxrss * MAXRSS_BYTES / 2**20,
        return_code=child.returncode,
        nodes=nodes,
        output_file=output_file,
    )


def read_run_results(path: Path) -> tuple[float, list[NodeTiming]]:
    """dbt's execution seconds and node timings; (0, []) when dbt stopped before writing them."""
    if not path.exists():
        return 0.0, []
    results = json.loads(path.read_text(encoding="utf-8"))
    nodes = [
        NodeTiming(
            unique_id=result["unique_id"],
            resource_type=result["unique_id"].split(".", 1)[0],
            status=result["status"],
            execution_seconds=result["execution_time"],
        )
        for result in results["results"]
    ]
    return results["elapsed_time"], nodes


def seconds_by_resource_type(nodes: list[NodeTiming]) -> dict[str, tuple[int, float]]:
    """Node count and summed execution seconds per resource type: seeds, models, tests first."""
    counts: Counter[str] = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)
    for node in nodes:
        counts[node.resource_type] += 1
        seconds[node.resource_type] += node.execution_seconds
    known = [t for t in RESOURCE_LABELS if t in counts]
    return {t: (counts[t], seconds[t]) for t in known + sorted(set(counts) - set(known))}


def measure_size(tasks: int, seed: int, threads: int) -> SizeResult:
    scratch = REPO / "bench" / "dbt" / str(tasks)
    scratch.mkdir(parents=True, exist_ok=True)
    landing = scratch / "landing"
    # dbt views name the catalog after the file, so the file keeps the pipeline's name.
    database = scratch / DATABASE_FILE_NAME
    generate_seconds = generate_landing(landing, tasks, seed)
    transitions, ingest_seconds = ingest_landing(landing, database)
    build = run_dbt_build(database, scratch, threads)
    return SizeResult(tasks, transitions, generate_seconds, ingest_seconds, build)


SUMMARY_HEADER = (
    f"{'tasks':>10} {'transitions':>12} {'generate s':>11} {'ingest s':>9} "
    f"{'dbt wall s':>11} {'dbt exec s':>11} {'dbt peak MiB':>13}"
)


def summary_line(result: SizeResult) -> str:
    build = result.build
    return (
        f"{result.tasks:>10,} {result.transitions:>12,} {result.generate_seconds:>11.1f} "
        f"{result.ingest_seconds:>9.1f} {build.wall_seconds:>11.1f} "
        f"{build.execution_seconds:>11.1f} {build.peak_rss_mib:>13.0f}"
    )


def print_detail(result: SizeResult) -> None:
    """Time per resource type and the slowest nodes of one build, then any failure."""
    build = result.build
    print(f"\n{result.tasks:,} tasks: summed node time by resource type")
    print(f"  {'resource type':<14} {'nodes':>6} {'seconds':>9}")
    for resource_type, (count, seconds) in seconds_by_resource_type(build.nodes).items():
        label = RESOURCE_LABELS.get(resource_type, resource_type)
        print(f"  {label:<14} {count:>6} {seconds:>9.1f}")
    slowest = sorted(build.nodes, key=lambda node: node.execution_seconds, reverse=True)
    print(f"{result.tasks:,} tasks: the {SLOWEST_NODES} slowest nodes")
    print(f"  {'seconds':>9} {'status':<7} node")
    for node in slowest[:SLOWEST_NODES]:
        print(f"  {node.execution_seconds:>9.2f} {node.status:<7} {node.unique_id}")
    if build.return_code != 0:
        failed = [n for n in build.nodes if n.status in FAILED_STATUSES]
        skipped = sum(1 for n in build.nodes if n.status == "skipped")
        print(
            f"dbt build FAILED (exit {build.return_code}): {len(failed)} failed, {skipped} "
            f"skipped (their time is missing above); output: {build.output_file}"
        )
        for node in failed:
            print(f"  {node.status:<7} {node.unique_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, default=1, help="dbt threads (the profile's default is 1)"
    )
    args = parser.parse_args()
    print(
        f"dbt build benchmark, {dt.date.today()}, {os.cpu_count()} cores, "
        f"{args.threads} dbt thread{'s' if args.threads != 1 else ''}, seed {args.seed}"
    )
    results = []
    for tasks in args.tasks:
        result = measure_size(tasks, args.seed, args.threads)
        results.append(result)
        print(SUMMARY_HEADER)
        print(summary_line(result))
        print_detail(result)
        print(flush=True)
    if len(results) > 1:
        print(SUMMARY_HEADER)
        for result in results:
            print(summary_line(result))
    if any(result.build.return_code != 0 for result in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
