"""Runs on a landing folder holding one hand-checked Jira page and nothing else.

Every model is built (the outcome marts empty) at a fraction of the demo's cost, so the tests that
need a whole run but not a whole organisation run here, on the other test worker than the demo's:
the Jira-only warehouse itself, and the acceptance case for the join guards, where a status
change for a task that does not exist makes ``owh run`` fail by the name of the check that caught
it and leave every published file as it was.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout

from .conftest import DEMO_END, published

# every test here reads the one Jira-only run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]


def query(warehouse: Path, sql: str) -> list[tuple]:
    with connection(published(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def digests(warehouse: Path) -> dict[str, str]:
    files = [
        published(warehouse),
        *sorted(WarehouseLayout(warehouse).marts_dir.glob("*.parquet")),
        *sorted(WarehouseLayout(warehouse).reports_dir.glob("*.html")),
    ]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_jira_only_landing_builds_every_mart(jira_only_run):
    _, warehouse, summary = jira_only_run
    assert summary.success, summary.errors
    assert query(warehouse, "select task_id from marts.fct_tasks order by 1") == [
        ("HAND-1",),
        ("HAND-2",),
        ("HAND-3",),
    ]
    assert query(warehouse, "select count(*) from marts.mart_outcome_progress") == [(0,)]
    assert query(warehouse, "select count(*) from marts.dim_outcomes") == [(0,)]
    assert (WarehouseLayout(warehouse).reports_dir / "latest.html").exists()


GHOST_TRANSITION = (
    "source,task_id,changed_at,to_status,from_status\n"
    "jira,GHOST-1,2026-10-01T10:00:00+00:00,Done,In Progress\n"
)
RELATIONSHIPS_CHECK = (
    "staging/stg_tracker__task_status_changes:relationships_stg_tracker__task_status_changes_"
    "source_task_id__source_task_id__ref_stg_tracker__tasks_"
)


def add_a_transition_for_a_task_that_does_not_exist(landing: Path) -> None:
    (landing / "task_status_changes").mkdir()
    (landing / "task_status_changes" / "ghost.csv").write_text(GHOST_TRANSITION)


def test_a_broken_join_fails_owh_run_by_name_and_nothing_is_published(
    jira_only_run, tmp_path, monkeypatch
):
    """The acceptance case for the join guards: a status change for a task that does not exist
    passes ingestion and the suites, then fails its blocking dbt check; ``owh run`` exits 1
    naming that check and the orphan task, and every published file stays byte for byte as it
    was. (An unmapped status fails ``assert_every_status_is_mapped`` the same way: its failing
    rows are in ``test_history_checks.py``; every dbt test is a blocking check, see
    ``tests/unit/test_definitions.py``.)"""
    landing, warehouse, summary = jira_only_run
    assert summary.success, summary.errors
    broken_landing, copy = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(landing, broken_landing)
    shutil.copytree(warehouse, copy, symlinks=True)
    add_a_transition_for_a_task_that_does_not_exist(broken_landing)
    before = digests(copy)
    # not demo data (no demo manifest): a real run, with a key of its own
    monkeypatch.setenv("OWH_PSEUDONYM_KEY", "join-guard-test-key")

    result = CliRunner().invoke(
        app,
        [
            "run",
            "--landing",
            str(broken_landing),
            "--warehouse",
            str(copy),
            "--as-of",
            DEMO_END.isoformat(),
        ],
    )

    assert result.exit_code == 1, result.output
    assert "failed: nothing was published" in result.output
    failed = [
        line.split("blocking check failed: ", 1)[1].strip()
        for line in result.output.splitlines()
        if "blocking check failed: " in line
    ]
    assert failed == [RELATIONSHIPS_CHECK]
    assert "| jira:GHOST-1 |" in result.output
    assert digests(copy) == before
    # dbt's log of the failed build stays with the failed build, not in the dbt project
    (build,) = (copy / "build").iterdir()
    log = (build / "dbt" / "outcome_warehouse_dbt" / "dbt.log").read_text()
    assert f"FAIL 1 {RELATIONSHIPS_CHECK.split(':', 1)[1]}" in log
