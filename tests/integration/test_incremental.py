"""An incremental run gives the warehouse a full reload gives, on the same landing folder.

From a copy of the Jira-only run (its landing folder and its published warehouse, twice: every
model is built at a fraction of the demo's cost), a Jira pull of updated issues arrives. One copy
runs incrementally: only the pull's page is parsed, the first page is reused from the published
build. The other runs with ``full_refresh``: every
file is parsed. Every published Parquet mart is identical, and so is every raw table but for the
lineage that names the run which parsed a file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.raw_schema import TABLES
from pipelines.runner import run_nightly

from .conftest import DEMO_END, published
from .landing_changes import add_jira_pull
from .mart_digests import mart_digests

# reads the one Jira-only run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]

UPDATED_AT = dt.datetime.combine(DEMO_END, dt.time(2, 0))
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


def test_an_incremental_run_publishes_what_a_full_reload_does(jira_only_run, tmp_path):
    demo_landing, demo_warehouse, demo_summary = jira_only_run
    assert demo_summary.success, demo_summary.errors
    landing = tmp_path / "landing"
    shutil.copytree(demo_landing, landing)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    for warehouse in (incremental, full):
        shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    issues = add_jira_pull(landing, share=0.5, updated_at=UPDATED_AT)
    assert issues == 2

    summary = run_nightly(landing, incremental, as_of=DEMO_END, demo=True)
    assert summary.success, summary.errors
    assert summary.files_parsed == 1
    assert summary.files_reused == demo_summary.files_parsed
    assert summary.ingest_line() == f"1 landing files parsed, {summary.files_reused} reused"

    refreshed = run_nightly(landing, full, as_of=DEMO_END, demo=True, full_refresh=True)
    assert refreshed.success, refreshed.errors
    assert refreshed.files_reused == 0
    assert refreshed.files_parsed == demo_summary.files_parsed + 1
    assert "(full reload: a full refresh was asked for)" in refreshed.ingest_line()

    marts = mart_digests(WarehouseLayout(incremental).marts_dir)
    assert marts == mart_digests(WarehouseLayout(full).marts_dir)
    with connection(published(incremental), read_only=True) as con:
        revised = con.execute(
            "select count(*) from marts.fct_tasks where title like '%(revised)'"
        ).fetchone()[0]
    assert revised == issues  # the pull reached the marts
    assert raw_content(incremental) == raw_content(full)
    # a reused row keeps its load time: the demo run's, not this run's
    demo_page = "jira/page-1.json"
    assert loaded_at(incremental, demo_page) == loaded_at(demo_warehouse, demo_page)
    assert loaded_at(incremental, demo_page) != loaded_at(full, demo_page)
