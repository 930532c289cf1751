"""The forecast asset and its table store: what they read and exactly what they write.

The published marts are built from the two forecast tables, and their Parquet files must stay
bit for bit as they were when dbt built the forecasts; so the tables' column types are pinned
here, and so are their rows for inputs whose forecast is certain (one completion every day).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.defs.dbt.assets import translator
from pipelines.defs.forecast.assets import (
    delivery_forecasts,
    forecast_plan,
    simulation_settings,
)
from pipelines.defs.resources import AS_OF_TAG, WarehouseResource
from pipelines.forecast.delivery import SimulationSettings
from pipelines.forecast.run import ForecastRelations
from pipelines.forecast.tables import Relation
from pipelines.lib.dbt_project import DBT_PROJECT_DIR, ensure_manifest
from pipelines.lib.duckdb_connection import connection
from tests.duckdb_tables import table

MANIFEST = json.loads(ensure_manifest().read_text())
PLAN = forecast_plan(MANIFEST)
AS_OF = dt.date(2026, 10, 31)
RUN_ID = "5f0c4e1a-0000-4000-8000-000000000001"

# The types dbt-duckdb gave the two Python models' tables, which the marts were built from.
WORKSTREAM_FORECAST_TYPES = [
    ("workstream_id", "VARCHAR"),
    ("outcome_id", "VARCHAR"),
    ("remaining_tasks", "BIGINT"),
    ("window_days", "BIGINT"),
    ("window_completed_tasks", "BIGINT"),
    ("forecast_p50_days", "BIGINT"),
    ("forecast_p85_days", "BIGINT"),
    ("forecast_p95_days", "BIGINT"),
    ("probability_done_by_target", "DOUBLE"),
    ("forecast_note", "VARCHAR"),
    ("simulation_trials", "BIGINT"),
    ("simulation_seed", "BIGINT"),
    ("horizon_days", "BIGINT"),
]
OUTCOME_FORECAST_TYPES = [
    ("outcome_id", "VARCHAR"),
    ("workstreams_with_tasks", "BIGINT"),
    *WORKSTREAM_FORECAST_TYPES[2:],
]

HOW_MANY_FORECAST_TYPES = [
    ("workstream_id", "VARCHAR"),
    ("outcome_id", "VARCHAR"),
    ("days_ahead", "BIGINT"),
    ("is_target_day", "BOOLEAN"),
    ("remaining_tasks", "BIGINT"),
    ("window_days", "BIGINT"),
    ("window_completed_tasks", "BIGINT"),
    ("completed_p50_tasks", "BIGINT"),
    ("completed_p85_tasks", "BIGINT"),
    ("completed_p95_tasks", "BIGINT"),
    ("probability_all_done", "DOUBLE"),
    ("simulation_trials", "BIGINT"),
    ("simulation_seed", "BIGINT"),
    ("horizon_days", "BIGINT"),
]

# the two input models' columns, as dbt builds them
INPUT_TABLES = """
create schema intermediate;
create table intermediate.int_workstream_tasks_counted_at_as_of (
    workstream_id varchar, outcome_id varchar, as_of_date date, target_on date,
    days_to_target bigint, linked_tasks bigint, completed_tasks bigint, cancelled_tasks bigint,
    remaining_tasks bigint, in_progress_tasks bigint
);
create table intermediate.int_workstream_completions_counted_to_days (
    workstream_id varchar, completed_on date, completed_tasks bigint
);
"""
# WS-STEADY completes one task every day of the window: its 5 remaining tasks are done on day 5
# in every trial. WS-DONE has nothing left; WS-IDLE completed nothing; WS-EMPTY has no task.
WORKSTREAM_TASKS = [
    ("WS-STEADY", "O-1", AS_OF, dt.date(2026, 11, 30), 30, 20, 14, 1, 5, 2),
    ("WS-DONE", "O-1", AS_OF, dt.date(2026, 11, 30), 30, 4, 4, 0, 0, 0),
    ("WS-IDLE", "O-2", AS_OF, dt.date(2026, 9, 30), -31, 3, 0, 0, 3, 1),
    ("WS-EMPTY", "O-3", AS_OF, None, None, 0, 0, 0, 0, 0),
]
WINDOW = [AS_OF - dt.timedelta(days=offset) for offset in range(90)]
DAILY_COMPLETIONS = [("WS-STEADY", day, 1) for day in WINDOW]

SEED, TRIALS, HORIZON = PLAN.settings.seed, PLAN.settings.trials, PLAN.settings.horizon_days
EXPECTED_WORKSTREAM_ROWS = [
    ("WS-DONE", "O-1", 0, 90, 0, 0, 0, 0, 1.0, "no_remaining_tasks", TRIALS, SEED, HORIZON),
    ("WS-EMPTY", "O-3", 0, 90, 0, None, None, None, None, "no_tasks", TRIALS, SEED, HORIZON),
    ("WS-IDLE", "O-2", 3, 90, 0, None, None, None, None, "no_throughput", TRIALS, SEED, HORIZON),
    ("WS-STEADY", "O-1", 5, 90, 90, 5, 5, 5, 1.0, None, TRIALS, SEED, HORIZON),
]
# How many by 30, 60 and 90 days (the dbt var) and the target day: WS-STEADY's target is day 30,
# by which its 5 remaining tasks are done in every trial; WS-IDLE, whose target has passed,
# completes nothing; WS-DONE and WS-EMPTY have nothing remaining and no row.
EXPECTED_HOW_MANY_ROWS = [
    *(
        ("WS-IDLE", "O-2", day, False, 3, 90, 0, 0, 0, 0, 0.0, TRIALS, SEED, HORIZON)
        for day in (30, 60, 90)
    ),
    ("WS-STEADY", "O-1", 30, True, 5, 90, 90, 5, 5, 5, 1.0, TRIALS, SEED, HORIZON),
    *(
        ("WS-STEADY", "O-1", day, False, 5, 90, 90, 5, 5, 5, 1.0, TRIALS, SEED, HORIZON)
        for day in (60, 90)
    ),
]
EXPECTED_OUTCOME_ROWS = [
    ("O-1", 2, 5, 90, 90, 5, 5, 5, 1.0, None, TRIALS, SEED, HORIZON),
    ("O-2", 1, 3, 90, 0, None, None, None, None, "no_throughput", TRIALS, SEED, HORIZON),
    ("O-3", 0, 0, 90, 0, None, None, None, None, "no_tasks", TRIALS, SEED, HORIZON),
]


def build_file_with_inputs(warehouse_dir: Path) -> Path:
    """The run's build file as dbt leaves it before the forecast: the two input models built."""
    build_file = WarehouseResource(warehouse_dir=str(warehouse_dir)).layout.build_file(RUN_ID)
    build_file.parent.mkdir(parents=True)
    with connection(build_file) as con:
        con.execute(INPUT_TABLES)
        con.executemany(
            "insert into intermediate.int_workstream_tasks_counted_at_as_of "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            WORKSTREAM_TASKS,
        )
        con.executemany(
            "insert into intermediate.int_workstream_completions_counted_to_days values (?, ?, ?)",
            DAILY_COMPLETIONS,
        )
    return build_file


def materialize_forecasts(warehouse_dir: Path) -> dg.ExecuteInProcessResult:
    defs = dg.Definitions(
        assets=[delivery_forecasts],
        resources={"warehouse": WarehouseResource(warehouse_dir=str(warehouse_dir))},
    )
    with dg.instance_for_test() as instance:
        return defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, run_id=RUN_ID, tags={AS_OF_TAG: AS_OF.isoformat()}
        )


def test_the_asset_writes_the_forecast_tables_with_the_models_types_and_rows(tmp_path):
    build_file = build_file_with_inputs(tmp_path)

    result = materialize_forecasts(tmp_path)

    assert result.success
    assert table(build_file, PLAN.relations.workstream_forecasts) == (
        WORKSTREAM_FORECAST_TYPES,
        EXPECTED_WORKSTREAM_ROWS,
    )
    assert table(build_file, PLAN.relations.outcome_forecasts) == (
        OUTCOME_FORECAST_TYPES,
        EXPECTED_OUTCOME_ROWS,
    )
    assert table(build_file, PLAN.relations.how_many_forecasts) == (
        HOW_MANY_FORECAST_TYPES,
        EXPECTED_HOW_MANY_ROWS,
    )
    materialized = {
        materialization.asset_key.to_user_string(): materialization.metadata
        for materialization in (
            event.materialization for event in result.get_asset_materialization_events()
        )
    }
    assert sorted(materialized) == [
        "forecast/outcome_forecasts_simulated",
        "forecast/workstream_forecasts_simulated",
        "forecast/workstream_how_many_simulated",
    ]
    metadata = materialized["forecast/workstream_forecasts_simulated"]
    assert metadata["dagster/row_count"].value == 4
    assert metadata["as_of"].value == "2026-10-31"
    assert metadata["table"].value == "forecast.workstream_forecasts_simulated"
    assert materialized["forecast/outcome_forecasts_simulated"]["dagster/row_count"].value == 3
    assert materialized["forecast/workstream_how_many_simulated"]["dagster/row_count"].value == 6


def test_running_the_asset_again_replaces_its_rows(tmp_path):
    build_file = build_file_with_inputs(tmp_path)
    assert materialize_forecasts(tmp_path).success

    assert materialize_forecasts(tmp_path).success

    assert table(build_file, PLAN.relations.workstream_forecasts)[1] == EXPECTED_WORKSTREAM_ROWS
    assert table(build_file, PLAN.relations.outcome_forecasts)[1] == EXPECTED_OUTCOME_ROWS
    assert table(build_file, PLAN.relations.how_many_forecasts)[1] == EXPECTED_HOW_MANY_ROWS


def test_the_asset_fails_without_the_runs_build_file(tmp_path):
    with pytest.raises(dg.Failure, match="does not exist"):
        materialize_forecasts(tmp_path)


def test_the_declared_source_columns_are_the_types_written():
    """The sources YAML documents the tables the asset writes: same columns, same types (the
    YAML names them as every engine does, e.g. ``string``; DuckDB says which type that is)."""
    for source, written in (
        (PLAN.workstream_forecasts, WORKSTREAM_FORECAST_TYPES),
        (PLAN.outcome_forecasts, OUTCOME_FORECAST_TYPES),
        (PLAN.how_many_forecasts, HOW_MANY_FORECAST_TYPES),
    ):
        declared = [
            (c["name"], duckdb.sql(f"select typeof(cast(null as {c['data_type']}))").fetchone()[0])
            for c in source["columns"].values()
        ]
        assert declared == written


def test_the_plan_names_the_dbt_relations_and_asset_keys():
    assert PLAN.relations == ForecastRelations(
        workstream_tasks=Relation("intermediate", "int_workstream_tasks_counted_at_as_of"),
        daily_completions=Relation("intermediate", "int_workstream_completions_counted_to_days"),
        workstream_forecasts=Relation("forecast", "workstream_forecasts_simulated"),
        outcome_forecasts=Relation("forecast", "outcome_forecasts_simulated"),
        how_many_forecasts=Relation("forecast", "workstream_how_many_simulated"),
    )
    assert PLAN.input_keys == (
        dg.AssetKey(["intermediate", "int_workstream_tasks_counted_at_as_of"]),
        dg.AssetKey(["intermediate", "int_workstream_completions_counted_to_days"]),
    )
    assert PLAN.workstream_forecasts_key == dg.AssetKey(
        ["forecast", "workstream_forecasts_simulated"]
    )
    assert PLAN.outcome_forecasts_key == dg.AssetKey(["forecast", "outcome_forecasts_simulated"])
    assert PLAN.how_many_forecasts_key == dg.AssetKey(["forecast", "workstream_how_many_simulated"])


def test_the_settings_are_the_dbt_vars():
    """One place for seed, trials and horizon: the vars of dbt_project.yml, through the manifest."""
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]

    assert PLAN.settings == SimulationSettings(
        seed=variables["forecast_seed"],
        trials=variables["forecast_trials"],
        horizon_days=variables["forecast_horizon_days"],
        how_many_days=tuple(variables["forecast_how_many_days"]),
    )
    assert PLAN.settings == SimulationSettings(
        seed=20261122, trials=10_000, horizon_days=1095, how_many_days=(30, 60, 90)
    )


def test_a_source_without_the_settings_is_refused():
    source = {"unique_id": "source.p.forecast.t", "config": {"meta": {"forecast_seed": 7}}}

    with pytest.raises(ValueError, match="lacks meta forecast_trials, forecast_horizon_days"):
        simulation_settings(source)


@pytest.mark.parametrize(
    ("rendered", "message"),
    [
        ("[30, soon]", "expected a list of whole days, such as"),
        ("[0, 30]", "every day must be at least 1"),
    ],
)
def test_how_many_days_that_are_not_days_after_as_of_are_refused(rendered, message):
    meta = {
        "forecast_seed": 7,
        "forecast_trials": 10,
        "forecast_horizon_days": 365,
        "forecast_how_many_days": rendered,
    }
    source = {"unique_id": "source.p.forecast.t", "config": {"meta": meta}}

    with pytest.raises(ValueError, match=f"forecast_how_many_days is '{re.escape(rendered)}'"):
        simulation_settings(source)
    with pytest.raises(ValueError, match=message):
        simulation_settings(source)


def test_the_forecast_asset_keys_are_the_dbt_sources_keys():
    sources = [
        props for props in MANIFEST["sources"].values() if props["source_name"] == "forecast"
    ]
    assert set(delivery_forecasts.keys) == {translator.get_asset_key(s) for s in sources}
    for key in delivery_forecasts.keys:
        assert set(delivery_forecasts.asset_deps[key]) == set(PLAN.input_keys)
