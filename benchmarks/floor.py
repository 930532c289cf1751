"""Run ``floor.sql`` on the raw tables of a built warehouse: the plain-SQL lower bound of dbt.

Usage: ``python benchmarks/floor.py --warehouse W/warehouse.duckdb --scratch S.duckdb --as-of D``.

The raw and seed tables the floor reads are first copied into a scratch file (not timed: dbt's
sources exist before its build too), so the published warehouse is never written. The floor
then runs on a connection with the project's settings (UTC, the same memory limit as dbt's), and
prints ``floor started`` just before and ``floor seconds: N`` just after, so that a parent
measuring this process books the copy and the floor apart. Last, it compares its cycle times with
the warehouse's ``fct_tasks``: a floor that computed something else would be no floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import duckdb

from pipelines.lib.duckdb_connection import connection

FLOOR_SQL = Path(__file__).with_name("floor.sql")
COPIED_TABLES = (
    "raw.tasks",
    "raw.task_status_changes",
    "config.status_categories",
    "config.teams",
)
STARTED_LINE = "floor started"


def copy_sources(warehouse: Path, scratch: Path) -> None:
    """A scratch file holding the tables the floor reads, copied from the built warehouse."""
    for stale in (scratch, scratch.with_name(scratch.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    try:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        for table in COPIED_TABLES:
            schema = table.split(".")[0]
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {table} as select * from built.{table}")
        con.execute("detach built")
    finally:
        con.close()


def run_floor(scratch: Path, as_of: dt.date) -> float:
    """Seconds ``floor.sql`` took on the scratch file."""
    with connection(scratch) as con:
        con.execute("set variable as_of = ?", [as_of])
        print(STARTED_LINE, flush=True)
        started = time.perf_counter()
        con.execute(FLOOR_SQL.read_text(encoding="utf-8"))
        return time.perf_counter() - started


def agreement(scratch: Path, warehouse: Path) -> tuple[int, int]:
    """(completed tasks whose floor cycle time equals fct_tasks' to the second, tasks compared)."""
    con = duckdb.connect(str(scratch), read_only=True)
    try:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        same, compared = con.execute(
            """
            select
                count(*) filter (
                    where abs(floor_facts.cycle_time_days - marts.cycle_time_days) < 1 / 86400
                ),
                count(*)
            from built.marts.fct_tasks as marts
            inner join floor.task_facts as floor_facts using (task_key)
            where marts.cycle_time_days is not null
            """
        ).fetchone()
        return same, compared
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    copy_sources(args.warehouse, args.scratch)
    seconds = run_floor(args.scratch, args.as_of)
    print(f"floor seconds: {seconds:.3f}", flush=True)
    same, compared = agreement(args.scratch, args.warehouse)
    print(f"floor agreement: {same} of {compared}", flush=True)


if __name__ == "__main__":
    main()
