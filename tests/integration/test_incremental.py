"""An incremental run gives the warehouse a full reload gives, on the same landing folder.

From a copy of the Jira-only run (its landing folder and its published warehouse, twice: every
model is built at a fraction of the demo's cost), a Jira pull of updated issues arrives
(``incremental_runs`` in conftest.py). One copy runs incrementally: only the pull's page is
parsed, the first page is reused from the published build, and the task history models rebuild
only the pulled tasks (docs/incremental.md). The other runs with ``full_refresh``: every file is
parsed and every model built from nothing. Every published Parquet mart is identical, byte for
byte, and so is every raw table but for the lineage that names the run which parsed a file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.ingest.assets import ingest_task_tracker_exports
from pipelines.defs.resources import DEMO_TAG, WarehouseResource
from pipelines.lib.carry_over import (
    CarryOver,
    incremental_models,
    project_code,
    recorded_carry_over,
    task_history,
)
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.raw_schema import TABLES
from tests.duckdb_tables import relations

from .conftest import published
from .mart_digests import mart_digests

# reads the one Jira-only run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]

# The columns that name the run which parsed a file: a reused file keeps the published build's.
LINEAGE = {
    **{table: ("_loaded_at",) for table in TABLES},
    "load_log": ("run_id", "loaded_at"),
    "quarantine": ("run_id", "quarantined_at"),
    "ingest_state": (),
    "ingest_warnings": (),
}


def raw_content(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw table of the published warehouse without its lineage columns, rows sorted."""
    with connection(published(warehouse), read_only=True) as con:
        return {
            table: con.execute(
                f"select * {_exclude(columns)} from raw.{table} order by all"
            ).fetchall()
            for table, columns in LINEAGE.items()
        }


def _exclude(columns: tuple[str, ...]) -> str:
    return f"exclude ({', '.join(columns)})" if columns else ""


def loaded_at(warehouse: Path, source_file: str) -> set:
    with connection(published(warehouse), read_only=True) as con:
        rows = con.execute(
            "select distinct _loaded_at from raw.tasks where _source_file = ?", [source_file]
        ).fetchall()
    return {value for (value,) in rows}


def test_an_incremental_run_publishes_what_a_full_reload_does(incremental_runs):
    runs = incremental_runs
    first, incremental, full = runs.first, runs.incremental, runs.full
    assert first.success, first.errors
    assert runs.pulled_issues == 2

    summary = runs.summary
    assert summary.success, summary.errors
    assert summary.files_parsed == 1
    assert summary.files_reused == first.files_parsed
    assert summary.ingest_line() == f"1 landing files parsed, {summary.files_reused} reused"

    refreshed = runs.refreshed
    assert refreshed.success, refreshed.errors
    assert refreshed.files_reused == 0
    assert refreshed.files_parsed == first.files_parsed + 1
    assert "(full reload: a full refresh was asked for)" in refreshed.ingest_line()

    marts = mart_digests(WarehouseLayout(incremental).marts_dir)
    assert marts == mart_digests(WarehouseLayout(full).marts_dir)
    with connection(published(incremental), read_only=True) as con:
        revised = con.execute(
            "select count(*) from marts.fct_tasks where title like '%(revised)'"
        ).fetchone()[0]
    assert revised == runs.pulled_issues  # the pull reached the marts
    assert raw_content(incremental) == raw_content(full)
    # a reused row keeps its load time: the first run's, not this run's
    first_page = "jira/page-1.json"
    assert loaded_at(incremental, first_page) == loaded_at(runs.first_warehouse, first_page)
    assert loaded_at(incremental, first_page) != loaded_at(full, first_page)


def test_the_incremental_run_rebuilds_only_the_pulled_tasks_and_publishes_the_same_bytes(
    incremental_runs,
):
    runs = incremental_runs
    with connection(published(runs.incremental), read_only=True) as con:
        rebuilt = con.execute(
            "select task_key, reason from intermediate.int_tasks_to_rebuild order by task_key"
        ).fetchall()
        revised = con.execute(
            "select task_key from marts.fct_tasks where title like '%(revised)' order by task_key"
        ).fetchall()
    incremental = task_history(published(runs.incremental))
    refreshed = task_history(published(runs.full))
    # the task history started from the published tables, and only the pulled tasks changed
    assert len(incremental.carry_over.carried) == 15
    assert incremental.carry_over.reason is None
    assert rebuilt == [(key, "changed") for (key,) in revised]
    assert len(rebuilt) == runs.pulled_issues == incremental.rebuilt
    assert refreshed.carry_over == CarryOver((), "a full refresh was asked for")
    # and owh run says so
    assert runs.first.task_history_line() == "every model built in full (nothing is published yet)"
    assert runs.summary.task_history_line() == (
        "2 tasks rebuilt of 3, the others kept from the published build"
    )
    assert runs.refreshed.task_history_line() == (
        "every model built in full (a full refresh was asked for)"
    )

    # the published Parquet marts are the same files, byte for byte
    incremental_marts = WarehouseLayout(runs.incremental).marts_dir
    full_marts = WarehouseLayout(runs.full).marts_dir
    names = sorted(p.name for p in incremental_marts.glob("*.parquet"))
    assert names == sorted(p.name for p in full_marts.glob("*.parquet"))
    assert len(names) == 28
    for name in names:
        assert (incremental_marts / name).read_bytes() == (full_marts / name).read_bytes(), name


def test_a_tracker_parsed_again_whole_drops_the_carried_tables_for_a_full_build(
    jira_only_run, tmp_path
):
    first_landing, first_warehouse, first = jira_only_run
    assert first.success, first.errors
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(first_landing, landing)
    shutil.copytree(first_warehouse, warehouse, symlinks=True)
    # the tracker exported again: the same issues in other bytes, so the page is parsed again
    # and every row it gives is new
    page = landing / "jira" / "page-1.json"
    page.write_text(json.dumps(json.loads(page.read_text()), indent=1))

    result = dg.materialize(
        [ingest_task_tracker_exports],
        resources={
            "warehouse": WarehouseResource(landing_dir=str(landing), warehouse_dir=str(warehouse))
        },
        tags={DEMO_TAG: "true"},
    )
    assert result.success
    (build_file,) = WarehouseLayout(warehouse).builds_dir.glob("*/warehouse.duckdb")
    reason = (
        "the tracker files parsed again hold 100% of the raw task rows, and each of their tasks "
        "counts as changed"
    )
    assert recorded_carry_over(build_file) == CarryOver((), reason)
    # the build file was started from the published one: its raw tables stay, the incremental
    # tables are gone, and the published fingerprints are empty
    manifest, _ = project_code()
    held = relations(build_file)
    assert "raw.tasks" in held
    assert not {str(r) for r in incremental_models(manifest)} & set(held)
    with connection(build_file, read_only=True) as con:
        fingerprints = con.execute(
            "select count(*) from previous_build.task_input_fingerprints"
        ).fetchone()[0]
    assert fingerprints == 0
