"""Every dbt unit test passes, and every one of them ran.

The nightly build leaves unit tests out: they test the SQL, not the data. They run here, against a
copy of a published warehouse (the Jira-only run's: every model is built there, and dbt only needs
the column types of each model's inputs, not their rows).
"""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import published, run_dbt

# beside the Jira-only run, on the worker that does not build the demo
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]


def test_every_dbt_unit_test_passes(jira_only_run, tmp_path):
    _, warehouse, summary = jira_only_run
    assert summary.success, summary.errors
    copy = tmp_path / "db" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(published(warehouse), copy)

    completed = run_dbt(copy, "test", "--select", "test_type:unit")

    target = tmp_path / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    failures = {r["unique_id"]: r["message"] for r in results if r["status"] != "pass"}
    assert failures == {}, completed.stdout[-4000:]
    assert completed.returncode == 0, completed.stdout[-4000:]
    defined = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    assert {r["unique_id"] for r in results} == defined
    assert len(defined) >= 90
