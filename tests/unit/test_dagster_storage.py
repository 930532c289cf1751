"""The project's Dagster instance records run history without a disk flush per event
(pipelines/lib/dagster_storage.py), and records all of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.lib import dagster_storage
from pipelines.lib.dagster_storage import EventLogStorage, OutcomeSqliteStorage
from pipelines.runner import DEFAULT_DAGSTER_HOME

# PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL (SQLite's default)
NORMAL = 1


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A Dagster instance of the project's own dagster.yaml, in a fresh folder."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@dg.asset(check_specs=[dg.AssetCheckSpec("has_rows", asset="numbers")])
def numbers():
    yield dg.Output([1, 2, 3])
    yield dg.AssetCheckResult(passed=True, check_name="has_rows")


def test_the_projects_instance_uses_the_storage_in_dagster_home(instance):
    assert isinstance(instance.event_log_storage, EventLogStorage)
    # runs and schedules keep Dagster's own SQLite storage
    assert type(instance.run_storage) is type(
        OutcomeSqliteStorage.from_local(str(instance.root_directory)).run_storage
    )
    # where Dagster's default would put them: an existing dagster_home keeps its history
    assert (
        Path(instance.event_log_storage._base_dir)
        == Path(instance.root_directory) / "history" / "runs"
    )


def test_every_event_connection_runs_at_synchronous_normal(instance):
    storage = instance.event_log_storage
    with storage.index_connection() as conn:
        assert conn.exec_driver_sql("pragma synchronous").scalar() == NORMAL
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"


def test_a_run_is_recorded_whole_and_its_databases_stay_open(instance):
    result = dg.materialize([numbers], instance=instance)

    assert result.success
    events = instance.all_logs(result.run_id)
    planned = [
        e
        for e in events
        if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    ]
    evaluated = [
        e for e in events if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    assert (len(planned), len(evaluated)) == (1, 1)
    assert instance.get_latest_materialization_event(dg.AssetKey("numbers")).run_id == result.run_id
    # the run's shard and the index keep their engine, and its connection: closing a write's
    # connection did not checkpoint them, and their compiled statements are reused
    engines = instance.event_log_storage._engines
    assert set(engines) == {result.run_id, "index"}
    assert all(engine.pool.checkedin() == 1 for engine in engines.values())
    index = engines["index"]
    with instance.event_log_storage.index_connection() as conn:
        assert conn.engine is index
    # an event like one stored before compiles no statement again
    instance.report_runless_asset_event(dg.AssetMaterialization("numbers"))
    compiled = set(index._compiled_cache)
    instance.report_runless_asset_event(dg.AssetMaterialization("numbers"))
    assert set(index._compiled_cache) == compiled


def test_it_keeps_a_bounded_number_of_databases_open(instance, monkeypatch):
    monkeypatch.setattr(dagster_storage, "KEPT_OPEN", 2)
    runs = [dg.materialize([numbers], instance=instance).run_id for _ in range(3)]

    kept = instance.event_log_storage._engines
    assert set(kept) == {"index", runs[-1]}
    assert all(instance.all_logs(run_id) for run_id in runs)

    instance.event_log_storage.dispose()
    assert not kept


def test_a_table_found_once_is_not_looked_up_again(instance, monkeypatch):
    storage = instance.event_log_storage
    assert storage.supports_asset_checks
    looked_up = []
    monkeypatch.setattr(
        SqliteEventLogStorage, "has_table", lambda self, name: looked_up.append(name) or False
    )
    assert storage.supports_asset_checks
    assert not storage.has_table("no_such_table")
    assert not storage.has_table("no_such_table")
    # a missing table is asked again each time: it may be created by a migration
    assert looked_up == ["no_such_table", "no_such_table"]
