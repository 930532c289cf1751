"""Benchmark ``owh run``: wall time and peak memory at several demo sizes.

Usage: ``python benchmarks/bench_run.py --tasks 10000 100000``. Each size generates its demo landing
data under ``bench/<tasks>/`` (not timed), then runs ``owh run`` in a fresh child process; the peak
resident memory is the largest of that process tree (the run, dbt).
Prints one line per size; figures, not assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
END_DATE = "2026-10-31"


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command in a child that reports its own tree's peak RSS; return (seconds, MiB)."""
    wrapper = (
        "import resource, subprocess, sys;"
        "code = subprocess.call(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(code)"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"command failed: {' '.join(command)}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    owh = str(Path(sys.executable).with_name("owh"))
    print(f"owh run benchmark, {dt.date.today()}, {os.cpu_count()} cores")
    print(f"{'tasks':>10} {'generate s':>11} {'run s':>8} {'peak MiB':>9}")
    for tasks in args.tasks:
        root = REPO / "bench" / str(tasks)
        # the landing data is the demo's, so the run may pseudonymise with a throwaway key
        env = {
            "OWH_PSEUDONYM_KEY": secrets.token_hex(32),
            **os.environ,
            "DAGSTER_HOME": str(root / "dagster_home"),
        }
        (root / "dagster_home").mkdir(parents=True, exist_ok=True)
        generate_s, _ = measure(
            [
                owh,
                "demo",
                "--no-run",
                "--tasks",
                str(tasks),
                "--seed",
                str(args.seed),
                "--end-date",
                END_DATE,
                "--landing",
                str(root / "landing"),
            ],
            env,
        )
        run_s, peak_mib = measure(
            [
                owh,
                "run",
                "--landing",
                str(root / "landing"),
                "--warehouse",
                str(root / "warehouse"),
                "--as-of",
                END_DATE,
            ],
            env,
        )
        print(f"{tasks:>10,} {generate_s:>11.1f} {run_s:>8.1f} {peak_mib:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
