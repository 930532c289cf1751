"""Benchmark ``dbt build`` alone: wall time, peak memory and the slowest nodes at several sizes.

Usage: ``python benchmarks/bench_dbt.py --tasks 100000 1000000 [--threads 4]``.

``bench_run.py`` times the whole ``owh run``; this script isolates the dbt part, which is where the
time goes as the data grows, and says which nodes take it. For each size, under
``bench/dbt/<tasks>/`` (git-ignored):

1. demo landing data is generated in this process (fixed seed and end date, so every run of the
   benchmark sees the same bytes);
2. it is ingested into a fresh ``warehouse.duckdb`` with the project's ingestion functions and the
   public demo pseudonym key, as a demo run does;
3. the build file records that it carries nothing from a published build (empty fingerprints in
   schema ``previous_build``), as the nightly's first dbt step does when nothing is published;
4. the nightly's two ``dbt build`` invocations run in child processes, with the Monte Carlo
   forecasts between them: the first builds everything that does not read the dbt source
   ``forecast``, the forecasts are written into the file, the second builds what reads them
   (``pipelines.defs.dbt.assets`` says why the project builds in two parts). Each runs with the
   nightly's threads (every core, ``OWH_DBT_THREADS``), the project's profile and the
   environment the Dagster asset gives it (``pipelines.lib.dbt_project.build_environment``). Its
   target folder is emptied first and given the project's kept parse, as the nightly's is, so it
   never reads a stale ``run_results.json``. It has the nightly's arguments (unit tests left out,
   dbt.log in text at info), but writes its artifacts, where the timings come from.

Printed per size: tasks, status transitions loaded, generate / ingest / dbt wall seconds (both
builds), the forecasts' seconds, dbt's own execution seconds (``run_results.json``
``elapsed_time`` of both builds; the rest of the wall time is start-up and parsing), the larger
peak resident memory of the two dbt processes, the node count and summed node time per resource
type (models against tests), and the ten slowest nodes. Figures, not assertions; a failing build
still prints its figures, lists the failed nodes and exits with status 1 (a failed first build
stops there, as the nightly does).
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

from pipelines.defs.dbt.assets import AFTER_FORECASTS, BUILD_ARGS, read_manifest
from pipelines.defs.forecast.assets import forecast_plan
from pipelines.demo import generate_demo
from pipelines.forecast.run import run_forecasts
from pipelines.forecast.tables import DuckDBTableStore
from pipelines.lib.carry_over import ensure_build_state, project_code
from pipelines.lib.dbt_project import (
    DBT_PROJECT_DIR,
    build_environment,
    dbt_command,
    dbt_threads,
    ensure_manifest,
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


# The nightly's build arguments, but for the artifacts: the timings come from run_results.json.
NIGHTLY_BUILD_ARGS = tuple(arg for arg in BUILD_ARGS if arg != "--no-write-json")
# The nightly's two builds, by name, and what each selects (pipelines.defs.dbt.assets).
BUILDS = (
    ("before_forecasts", ("--exclude", AFTER_FORECASTS)),
    ("after_forecasts", ("--select", AFTER_FORECASTS)),
)


@dataclass(frozen=True)
class SizeResult:
    tasks: int
    transitions: int
    generate_seconds: float
    ingest_seconds: float
    # the builds that ran, in order: the second is missing when the first failed
    builds: list[DbtBuild]
    forecast_seconds: float | None

    @property
    def dbt_wall_seconds(self) -> float:
        return sum(build.wall_seconds for build in self.builds)

    @property
    def dbt_execution_seconds(self) -> float:
        return sum(build.execution_seconds for build in self.builds)

    @property
    def peak_rss_mib(self) -> float:
        return max(build.peak_rss_mib for build in self.builds)

    @property
    def nodes(self) -> list[NodeTiming]:
        return [node for build in self.builds for node in build.nodes]

    @property
    def failed_build(self) -> DbtBuild | None:
        return next((build for build in self.builds if build.return_code != 0), None)


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


def start_build_state(database: Path) -> None:
    """Record in the fresh build file that it carries nothing from a published build, as the
    nightly's first dbt step does when nothing is published (docs/incremental.md)."""
    manifest, fingerprint = project_code()
    ensure_build_state(database, manifest, fingerprint=fingerprint)


def run_forecasts_into(database: Path) -> float:
    """The nightly's forecast step on ``database``; return the seconds it took."""
    plan = forecast_plan(read_manifest(ensure_manifest()))
    started = time.perf_counter()
    run_forecasts(DuckDBTableStore(database), plan.relations, plan.settings)
    return time.perf_counter() - started


def run_dbt_build(
    database: Path, scratch: Path, threads: int, name: str, selection: tuple[str, ...]
) -> DbtBuild:
    """Run ``dbt build`` of ``selection`` on ``database`` in a child process and measure it.

    The peak memory comes from ``os.wait4``: the resource usage of exactly this child (and any
    process it waited for). ``getrusage(RUSAGE_CHILDREN)`` would give the largest child of the
    whole benchmark so far, which is wrong as soon as a smaller size follows a larger one.
    """
    target = scratch / name / "target"
    shutil.rmtree(target, ignore_errors=True)
    output_file = scratch / f"dbt_build_{name}.log"
    command = dbt_command(
        *NIGHTLY_BUILD_ARGS,
        *selection,
        "--no-use-colors",
        "--threads",
        str(threads),
        target_path=target,
        log_path=scratch / name / "logs",
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
    start_build_state(database)
    (first_name, first_selection), (second_name, second_selection) = BUILDS
    builds = [run_dbt_build(database, scratch, threads, first_name, first_selection)]
    forecast_seconds = None
    if builds[0].return_code == 0:  # the nightly stops at a failed build too
        forecast_seconds = run_forecasts_into(database)
        builds.append(run_dbt_build(database, scratch, threads, second_name, second_selection))
    return SizeResult(
        tasks, transitions, generate_seconds, ingest_seconds, builds, forecast_seconds
    )


SUMMARY_HEADER = (
    f"{'tasks':>10} {'transitions':>12} {'generate s':>11} {'ingest s':>9} "
    f"{'dbt wall s':>11} {'forecast s':>11} {'dbt exec s':>11} {'dbt peak MiB':>13}"
)


def summary_line(result: SizeResult) -> str:
    forecast = "-" if result.forecast_seconds is None else f"{result.forecast_seconds:.1f}"
    return (
        f"{result.tasks:>10,} {result.transitions:>12,} {result.generate_seconds:>11.1f} "
        f"{result.ingest_seconds:>9.1f} {result.dbt_wall_seconds:>11.1f} {forecast:>11} "
        f"{result.dbt_execution_seconds:>11.1f} {result.peak_rss_mib:>13.0f}"
    )


def print_detail(result: SizeResult) -> None:
    """Each build's wall time, the time per resource type and the slowest nodes of both builds,
    then any failure."""
    print(f"\n{result.tasks:,} tasks: the builds")
    print(f"  {'build':<18} {'nodes':>6} {'wall s':>8} {'exec s':>8} {'peak MiB':>9}")
    for (name, _), build in zip(BUILDS, result.builds, strict=False):
        print(
            f"  {name:<18} {len(build.nodes):>6} {build.wall_seconds:>8.1f} "
            f"{build.execution_seconds:>8.1f} {build.peak_rss_mib:>9.0f}"
        )
    print(f"{result.tasks:,} tasks: summed node time by resource type")
    print(f"  {'resource type':<14} {'nodes':>6} {'seconds':>9}")
    for resource_type, (count, seconds) in seconds_by_resource_type(result.nodes).items():
        label = RESOURCE_LABELS.get(resource_type, resource_type)
        print(f"  {label:<14} {count:>6} {seconds:>9.1f}")
    slowest = sorted(result.nodes, key=lambda node: node.execution_seconds, reverse=True)
    print(f"{result.tasks:,} tasks: the {SLOWEST_NODES} slowest nodes")
    print(f"  {'seconds':>9} {'status':<7} node")
    for node in slowest[:SLOWEST_NODES]:
        print(f"  {node.execution_seconds:>9.2f} {node.status:<7} {node.unique_id}")
    build = result.failed_build
    if build is not None:
        failed = [n for n in build.nodes if n.status in FAILED_STATUSES]
        skipped = sum(1 for n in build.nodes if n.status == "skipped")
        stopped = (
            " (the forecasts and the second build did not run)"
            if len(result.builds) < len(BUILDS)
            else ""
        )
        print(
            f"dbt build FAILED (exit {build.return_code}): {len(failed)} failed, {skipped} "
            f"skipped (their time is missing above){stopped}; output: {build.output_file}"
        )
        for node in failed:
            print(f"  {node.status:<7} {node.unique_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--threads",
        type=int,
        default=dbt_threads(),
        help="dbt threads (default: the nightly's, every core or OWH_DBT_THREADS)",
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
    if any(result.failed_build is not None for result in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
