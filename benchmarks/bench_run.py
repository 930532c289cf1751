"""Benchmark ``owh run``: wall time and peak memory per stage, a nightly, and two comparisons.

Usage: ``python benchmarks/bench_run.py --tasks 10000 100000 1000000`` (``make bench``;
``make bench BENCH_TASKS="2000 20000"`` for smaller sizes). Everything lives under ``bench/``
(git-ignored). For each size:

1. generate: ``owh demo --no-run`` writes the demo landing folder (fixed seed and end date);
2. ``owh run`` on a fresh warehouse folder, as a child process whose output is read as it comes:
   its progress lines say which Dagster step runs, so wall time and the peak resident memory of
   the whole process tree (dbt included, sampled from /proc every 50 ms) are booked per stage:
   extract/ingest (``landing__*``, ``ingest_*``), suites (``*_great_expectations_suite``), dbt
   (``outcome_warehouse_dbt``, the forecasts' ``delivery_forecasts`` and
   ``outcome_warehouse_dbt_after_forecasts``), report (``leadership_report``), publish
   (``published_warehouse``); start-up is before the first step, other is between and after
   steps. Steps are reported by the run up to half a second late, and so are the stage switches;
3. nightly: an incremental Jira pull folder holding 0.5 % of the tasks, moved one status on the
   next day (nightly.py), then ``owh run`` again on the same warehouse, as of that day;
4. floor: ``floor.sql``, the same per-task facts and weekly percentiles in plain DuckDB SQL, on
   the raw tables of the warehouse the full run built (floor.py).

Then jira-agile-metrics (agile_metrics.py) computes cycle times for every task of the
``--compare-tasks`` demo (20,000 by default; that size gets its own full run unless it is one of
``--tasks``). Last, the demo ``make run`` opens with (``owh demo``'s own size and seed, as of the
benchmark's end date) is run ``--demo-runs`` times, each on a fresh warehouse and Dagster home as
on a new clone: the wall time of each ``owh run``, the seconds it reports itself (from the start
of the run's first step), its start-up and dbt stages, and its peak. Printed: one table per size
(the nightly's stages beside the full run's, and the slowest dbt models of each), the ratios,
then the demo's runs. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from agile_metrics import AgileMetricsRun, run_agile_metrics
from measure import Measured, run_measured
from nightly import write_nightly_pull

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
OWH = str(Path(sys.executable).with_name("owh"))
END_DATE = dt.date(2026, 10, 31)
NIGHTLY_SHARE = 0.005
STAGES = ("start-up", "extract/ingest", "suites", "dbt", "report", "publish", "other")
STEP = re.compile(r"^\s*(…|✓|✗) (\S+)$")
DBT_NODE = re.compile(r"^\s*· dbt \d+ of \d+ (\S+) ([\d.]+) s$")
TRACKER_INGEST_STEP = "ingest_task_tracker_exports"
CYCLE_TIME_MODEL = "fct_tasks"
# the seconds ``owh run`` reports on its last line: "Published ... in 25 s (run <id>)."
RUN_SECONDS = re.compile(r" in (\d+) s \(run ")
DEMO = "demo"


def stage_of_step(step: str) -> str:
    """The benchmark stage a Dagster step of the nightly job belongs to."""
    if step.startswith(("ingest_", "landing__")):
        return "extract/ingest"
    if step.endswith("_great_expectations_suite"):
        return "suites"
    return {
        "outcome_warehouse_dbt": "dbt",
        # the Monte Carlo forecasts run between the two dbt builds, as a model did inside one
        "delivery_forecasts": "dbt",
        "outcome_warehouse_dbt_after_forecasts": "dbt",
        "leadership_report": "report",
        "published_warehouse": "publish",
    }.get(step, "other")


def owh_stage(line: str) -> str | None:
    """The stage an ``owh run`` line starts: a step's start starts its stage, its end "other"."""
    match = STEP.match(line)
    if match is None:
        return None
    mark, step = match.groups()
    return stage_of_step(step) if mark == "…" else "other"


def step_seconds(measured: Measured) -> dict[str, float]:
    """Seconds from each step's start line to its end line, as read."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for at, line in measured.timed_lines:
        match = STEP.match(line)
        if match and match.group(1) == "…":
            started[match.group(2)] = at
        elif match and match.group(2) in started:
            seconds[match.group(2)] = at - started[match.group(2)]
    return seconds


def node_seconds(measured: Measured) -> dict[str, float]:
    """dbt's own seconds for each model and seed (``· dbt n of N path s`` lines), by name."""
    nodes = {}
    for line in measured.lines:
        match = DBT_NODE.match(line)
        if match:
            nodes[match.group(1).rsplit("/", 1)[-1]] = float(match.group(2))
    return nodes


def lineage(model: str) -> set[str]:
    """The names of ``model`` and every model and seed it is built from (dbt manifest)."""
    from pipelines.lib.dbt_project import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    names: set[str] = set()
    pending = [uid for uid in nodes if uid.split(".")[0] == "model" and uid.endswith(f".{model}")]
    while pending:
        node = nodes.get(pending.pop())
        if node is None or node["resource_type"] not in {"model", "seed"}:
            continue
        if node["name"] not in names:
            names.add(node["name"])
            pending.extend(node["depends_on"].get("nodes", []))
    return names


@dataclass(frozen=True)
class FloorRun:
    seconds: float
    peak_mib: float
    agreement: str


@dataclass
class SizeResult:
    tasks: int
    generate: Measured
    full: Measured
    transitions: int = 0
    nightly: Measured | None = None
    nightly_issues: int = 0
    floor: FloorRun | None = None

    @property
    def succeeded(self) -> bool:
        return self.full.return_code == 0


def child_env(root: Path) -> dict[str, str]:
    """The environment of every ``owh`` child: its own Dagster instance, a throwaway key (the
    data is the demo's), plain wide output, and none of the caller's folder settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OWH_", "DAGSTER_"))}
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return env | {
        "OWH_PSEUDONYM_KEY": secrets.token_hex(32),
        "DAGSTER_HOME": str(home),
        "COLUMNS": "250",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }


def progress(line: str) -> None:
    """Show the steps of a long run as they go by, on stderr, without the per-model lines."""
    if STEP.match(line):
        print(f"    {line.strip()}", file=sys.stderr, flush=True)


def generate(root: Path, tasks: int, seed: int, env: dict[str, str]) -> Measured:
    shutil.rmtree(root / "landing", ignore_errors=True)
    command = [OWH, "demo", "--no-run", "--tasks", str(tasks), "--seed", str(seed)]
    command += ["--end-date", END_DATE.isoformat(), "--landing", str(root / "landing")]
    return run_measured(command, env=env, cwd=root, first_stage="generate")


def owh_run(root: Path, as_of: dt.date, env: dict[str, str]) -> Measured:
    command = [OWH, "run", "--landing", str(root / "landing")]
    command += ["--warehouse", str(root / "warehouse"), "--as-of", as_of.isoformat()]
    measured = run_measured(command, env=env, cwd=root, classify=owh_stage, echo=progress)
    if measured.return_code != 0:
        print(f"owh run FAILED (exit {measured.return_code}); its last lines:", file=sys.stderr)
        print("\n".join(measured.lines[-15:]), file=sys.stderr)
    return measured


def transitions_loaded(root: Path) -> int:
    import duckdb

    con = duckdb.connect(str(root / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select count(*) from raw.task_status_changes").fetchone()[0]
    finally:
        con.close()


def run_floor(root: Path, env: dict[str, str]) -> FloorRun:
    """floor.py in a child; the floor's own seconds, and the peak while the floor ran."""
    command = [sys.executable, str(Path(__file__).with_name("floor.py"))]
    command += ["--warehouse", str(root / "warehouse" / "warehouse.duckdb")]
    command += ["--scratch", str(root / "floor-input.duckdb"), "--as-of", END_DATE.isoformat()]
    measured = run_measured(
        command,
        env=env,
        cwd=root,
        classify=lambda line: "floor" if line == "floor started" else None,
        first_stage="copy",
    )
    values = dict(line.split(": ", 1) for line in measured.lines if ": " in line)
    if measured.return_code != 0 or "floor seconds" not in values:
        print("\n".join(measured.lines[-10:]), file=sys.stderr)
        return FloorRun(0.0, 0.0, f"floor.sql failed (exit {measured.return_code})")
    same, compared = (int(n) for n in values["floor agreement"].split(" of "))
    return FloorRun(
        seconds=float(values["floor seconds"]),
        peak_mib=measured.stages["floor"].peak_mib,
        agreement=f"cycle times equal to fct_tasks': {same:,} of {compared:,}",
    )


def measure_size(tasks: int, seed: int, *, nightly: bool) -> SizeResult:
    root = BENCH / str(tasks)
    shutil.rmtree(root / "warehouse", ignore_errors=True)
    shutil.rmtree(root / "dagster_home", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    env = child_env(root)
    print(f"{tasks:,} tasks: generating, then owh run", file=sys.stderr, flush=True)
    generated = generate(root, tasks, seed, env)
    result = SizeResult(tasks, generated, owh_run(root, END_DATE, env))
    if generated.return_code != 0 or not result.succeeded:
        return result
    result.transitions = transitions_loaded(root)
    result.floor = run_floor(root, env)
    if nightly:
        night = END_DATE + dt.timedelta(days=1)
        result.nightly_issues = write_nightly_pull(root / "landing", NIGHTLY_SHARE, night, seed)
        print(f"{tasks:,} tasks: nightly owh run", file=sys.stderr, flush=True)
        result.nightly = owh_run(root, night, env)
    return result


def print_size(result: SizeResult) -> None:
    full, nightly = result.full, result.nightly
    print(
        f"\n{result.tasks:,} tasks, {result.transitions:,} status transitions loaded "
        f"(as of {END_DATE})"
    )
    # the nightly's stages beside the full run's: what a nightly still spends, and where
    night = nightly if nightly is not None and nightly.return_code == 0 else None
    header = f"  {'stage':<22} {'wall s':>9} {'peak MiB':>9}"
    print(header + (f" {'nightly s':>10} {'peak MiB':>9}" if night else ""))
    rows = [("generate", result.generate.seconds, result.generate.peak_mib, None)]
    for stage in (s for s in STAGES if s in full.stages):
        figures = full.stages[stage]
        rows.append((stage, figures.seconds, figures.peak_mib, stage))
    rows.append(("owh run, total", full.seconds, full.peak_mib, "total"))
    for name, seconds, peak, stage in rows:
        line = f"  {name:<22} {seconds:>9.1f} {peak:>9.0f}"
        if night is not None and stage == "total":
            line += f" {night.seconds:>10.1f} {night.peak_mib:>9.0f}"
        elif night is not None and stage in night.stages:
            line += f" {night.stages[stage].seconds:>10.1f} {night.stages[stage].peak_mib:>9.0f}"
        print(line)
    if not result.succeeded:
        print(f"  owh run FAILED (exit {full.return_code}): no nightly, no floor")
        return
    if nightly is not None:
        state = "" if nightly.return_code == 0 else f", FAILED (exit {nightly.return_code})"
        print(
            f"  nightly, {result.nightly_issues:,} issues changed ({NIGHTLY_SHARE:.1%} of the "
            f"tasks): owh run {nightly.seconds:.1f} s, peak {nightly.peak_mib:.0f} MiB, "
            f"{nightly.seconds / full.seconds:.2f} x the full run{state}"
        )
    for name, measured in (("full run", full), ("nightly", night)):
        if measured is not None:
            print(f"  slowest dbt models, {name}: {slowest_nodes(measured)}")
    floor = result.floor
    if floor is not None:
        print(
            f"  floor.sql: {floor.seconds:.2f} s, peak {floor.peak_mib:.0f} MiB ({floor.agreement})"
        )


def slowest_nodes(measured: Measured, count: int = 6) -> str:
    """dbt's own seconds of the ``count`` slowest models and seeds of a run, slowest first."""
    nodes = sorted(node_seconds(measured).items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in nodes)


def print_floor_ratios(results: list[SizeResult]) -> None:
    """dbt's time against the floor's, for the whole dbt step and for fct_tasks' lineage."""
    cycle_models = lineage(CYCLE_TIME_MODEL)
    print("\ndbt build / DuckDB floor (same warehouse, same machine)")
    print(
        f"  {'tasks':>10} {'dbt step s':>11} {'fct_tasks lineage s':>20} {'floor s':>8} "
        f"{'step/floor':>11} {'lineage/floor':>14}"
    )
    for result in results:
        if result.floor is None or not result.floor.seconds:
            print(f"  {result.tasks:>10,} (no figures: the run or the floor failed)")
            continue
        dbt_step = result.full.stages["dbt"].seconds
        nodes = node_seconds(result.full)
        path = sum(seconds for name, seconds in nodes.items() if name in cycle_models)
        floor = result.floor.seconds
        print(
            f"  {result.tasks:>10,} {dbt_step:>11.1f} {path:>20.1f} {floor:>8.2f} "
            f"{dbt_step / floor:>10.0f}x {path / floor:>13.0f}x"
        )
    print(
        f"  fct_tasks lineage: dbt's own seconds of the {len(cycle_models)} models and seeds "
        "fct_tasks is built from; the dbt step adds every other model, the tests, and start-up"
    )


def print_agile_ratio(result: SizeResult, theirs: AgileMetricsRun) -> None:
    print(f"\njira-agile-metrics 0.24 against us, cycle times of the same {result.tasks:,} tasks")
    if theirs.failure is not None:
        print(f"  not measured: {theirs.failure}")
        return
    if not result.succeeded:
        print("  not measured: our owh run of that demo failed")
        return
    print(
        f"  theirs: load pages {theirs.load_seconds:.1f} s + CycleTimeCalculator "
        f"{theirs.calculate_seconds:.1f} s = {theirs.seconds:.1f} s, peak {theirs.peak_mib:.0f} "
        f"MiB; {theirs.issues:,} issues, {theirs.with_cycle_time:,} with a cycle time"
    )
    ingest = step_seconds(result.full).get(TRACKER_INGEST_STEP, 0.0)
    dbt_step = result.full.stages["dbt"].seconds
    cycle_models = lineage(CYCLE_TIME_MODEL)
    path = sum(s for name, s in node_seconds(result.full).items() if name in cycle_models)
    print(
        f"  ours:   tracker ingest {ingest:.1f} s + dbt step {dbt_step:.1f} s = "
        f"{ingest + dbt_step:.1f} s; cycle-time path only (ingest + fct_tasks lineage): "
        f"{ingest + path:.1f} s"
    )
    print(
        f"  ours / theirs: {(ingest + dbt_step) / theirs.seconds:.1f}x (with the whole dbt "
        f"build and its tests), {(ingest + path) / theirs.seconds:.1f}x (cycle-time path only)"
    )


@dataclass
class DemoRuns:
    """The demo of ``make run`` as generated, and the ``owh run``-s measured on it."""

    generate: Measured
    tasks: int = 0
    runs: list[Measured] = field(default_factory=list)


def measure_demo(runs: int) -> DemoRuns:
    """The demo of ``make run`` (``owh demo``'s defaults but the end date), generated once, then
    ``owh run`` ``runs`` times, each on a fresh warehouse and Dagster home."""
    root = BENCH / DEMO
    shutil.rmtree(root / "landing", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    command = [OWH, "demo", "--no-run", "--end-date", END_DATE.isoformat()]
    command += ["--landing", str(root / "landing")]
    demo = DemoRuns(run_measured(command, env=child_env(root), cwd=root, first_stage="generate"))
    if demo.generate.return_code != 0:
        print("\n".join(demo.generate.lines[-10:]), file=sys.stderr)
        return demo
    manifest = json.loads((root / "landing" / "demo_manifest.json").read_text(encoding="utf-8"))
    demo.tasks = int(manifest["tasks"])
    for number in range(1, runs + 1):
        shutil.rmtree(root / "warehouse", ignore_errors=True)
        shutil.rmtree(root / "dagster_home", ignore_errors=True)
        print(f"demo: owh run {number} of {runs}", file=sys.stderr, flush=True)
        demo.runs.append(owh_run(root, END_DATE, child_env(root)))
    return demo


def reported_seconds(measured: Measured) -> int | None:
    """The seconds ``owh run`` reported for its run, from its last lines."""
    for line in reversed(measured.lines):
        match = RUN_SECONDS.search(line)
        if match:
            return int(match.group(1))
    return None


def print_demo(demo: DemoRuns) -> None:
    if demo.generate.return_code != 0:
        print(f"\nowh demo FAILED (exit {demo.generate.return_code}): the demo was not run")
        return
    runs = demo.runs
    print(
        f"\nowh run on the demo of make run ({demo.tasks:,} tasks, as of {END_DATE}), "
        f"{len(runs)} runs, each on a fresh warehouse and Dagster home"
    )
    print(
        f"  {'run':>4} {'wall s':>8} {'reported s':>11} {'start-up s':>11} {'dbt s':>7} "
        f"{'peak MiB':>9}"
    )
    for number, run in enumerate(runs, start=1):
        if run.return_code != 0:
            print(f"  {number:>4} FAILED (exit {run.return_code})")
            continue
        reported = reported_seconds(run)
        print(
            f"  {number:>4} {run.seconds:>8.1f} {reported if reported is not None else '?':>11} "
            f"{run.stages['start-up'].seconds:>11.1f} {run.stages['dbt'].seconds:>7.1f} "
            f"{run.peak_mib:>9.0f}"
        )
    print(
        "  wall: the whole owh run process; reported: what owh run prints, from the start of "
        "the run's first step to its end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--compare-tasks",
        type=int,
        default=20_000,
        help="demo size jira-agile-metrics is compared on (0: skip the comparison)",
    )
    parser.add_argument(
        "--demo-runs",
        type=int,
        default=3,
        help="runs of owh run on the demo of make run (0: skip them)",
    )
    args = parser.parse_args()
    print(f"owh run benchmark, {dt.date.today()}, {os.cpu_count()} cores, seed {args.seed}")
    results = [measure_size(tasks, args.seed, nightly=True) for tasks in args.tasks]
    for result in results:
        print_size(result)
    print_floor_ratios(results)
    if args.compare_tasks:
        compared = next((r for r in results if r.tasks == args.compare_tasks), None)
        if compared is None:
            compared = measure_size(args.compare_tasks, args.seed, nightly=False)
        # both sides read the demo's own export: its pages skip any nightly pull folder, and
        # our figures are the full run's, before the nightly
        landing = BENCH / str(args.compare_tasks) / "landing"
        theirs = run_agile_metrics(landing, BENCH / "jira-agile-metrics", END_DATE.isoformat())
        print_agile_ratio(compared, theirs)
    if args.demo_runs:
        print_demo(measure_demo(args.demo_runs))


if __name__ == "__main__":
    main()
