"""The Dagster definitions load with every asset, check, job, schedule and sensor they promise."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
from importlib.metadata import version

import dagster as dg
import dagster_dbt.core.resource as dagster_dbt_resource
import pytest
from dagster._core.storage.defs_state.base import DefsStateStorage
from dagster_dbt.asset_utils import get_asset_check_key_for_test

from pipelines import runner
from pipelines.definitions import defs
from pipelines.defs.dbt import assets as dbt_assets
from pipelines.defs.dbt.assets import (
    ProjectDbtCliResource,
    dbt_project,
    outcome_warehouse_dbt,
    outcome_warehouse_dbt_after_forecasts,
    translator,
)
from pipelines.defs.forecast.assets import delivery_forecasts
from pipelines.defs.quality.checks import raw_suite_checks
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import (
    NIGHTLY_JOB_NAME,
    SCHEDULE_CRON,
    SCHEDULE_TIMEZONE,
    landing_files_sensor,
    nightly_schedule,
)
from pipelines.lib import gx_worker
from pipelines.lib.dbt_preload import SHARED_VARIABLE, launcher_command
from pipelines.lib.dbt_project import ensure_manifest

RAW_TABLES = [
    "tasks",
    "task_status_changes",
    "task_flags",
    "kpis",
    "outcomes",
    "workstreams",
    "workstream_rules",
    "kpi_observations",
    "confidence_surveys",
]
MARTS = [
    "fct_tasks",
    "fct_task_status_intervals",
    "fct_daily_flow",
    "fct_daily_flow_by_column",
    "mart_flow_weekly",
    "mart_flow_weekly_by_workstream",
    "mart_aging_wip",
    "mart_aging_wip_by_team",
    "mart_quality_monthly",
    "mart_org_monthly",
    "mart_wip_daily",
    "dim_outcomes",
    "dim_workstreams",
    "dim_delivery_thresholds",
    "dim_kpis",
    "fct_kpi_observations",
    "mart_outcome_progress",
]


@pytest.fixture(scope="module")
def asset_graph():
    return defs.resolve_asset_graph()


def test_every_layer_is_an_asset(asset_graph):
    keys = {key.to_user_string() for key in asset_graph.get_all_asset_keys()}
    for table in RAW_TABLES:
        assert f"raw/{table}" in keys
    for mart in MARTS:
        assert f"marts/{mart}" in keys
    assert "staging/stg_tracker__tasks" in keys
    assert "intermediate/int_status_changes_windowed_to_intervals" in keys
    assert {"leadership_report", "published_warehouse", "config/status_categories"} <= keys


def test_groups_follow_the_layers(asset_graph):
    def group(name: str) -> str:
        return asset_graph.get(dg.AssetKey.from_user_string(name)).group_name

    assert group("landing/jira") == "extract"
    assert group("raw/tasks") == "ingest"
    assert group("staging/stg_tracker__tasks") == "staging"
    assert group("intermediate/int_status_changes_windowed_to_intervals") == "intermediate"
    assert group("marts/fct_tasks") == "marts"
    assert group("config/status_categories") == "config"
    assert group("leadership_report") == "report"
    assert group("published_warehouse") == "publish"


def test_the_nightly_job_pulls_every_tracker_before_ingesting(asset_graph):
    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    pulls = {f"landing/{source}" for source in ("jira", "github", "linear")}
    selected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert pulls <= selected
    parents = {
        k.to_user_string() for k in asset_graph.get(dg.AssetKey(["raw", "tasks"])).parent_keys
    }
    assert parents == pulls


def test_publish_waits_on_every_mart_and_the_report(asset_graph):
    parents = {
        k.to_user_string() for k in asset_graph.get(dg.AssetKey("published_warehouse")).parent_keys
    }
    assert {f"marts/{m}" for m in MARTS} | {"leadership_report"} <= parents


def test_dbt_tests_are_blocking_asset_checks(asset_graph):
    checks = list(asset_graph.asset_check_keys)
    on_fct_tasks = [c for c in checks if c.asset_key == dg.AssetKey(["marts", "fct_tasks"])]
    assert any(c.name.startswith("unique_fct_tasks_task_key") for c in on_fct_tasks)
    spec = defs.resolve_assets_def(dg.AssetKey(["marts", "fct_tasks"])).get_spec_for_check_key(
        on_fct_tasks[0]
    )
    assert spec.blocking is True


def test_the_dbt_assets_read_the_manifest_make_test_parses():
    assert ensure_manifest() == dbt_project.manifest_path


def test_every_dbt_data_test_is_an_asset_check():
    """A singular test that reads several models names the one it guards (``meta.dagster.ref``);
    without it dagster-dbt would log an observation the publish gate never sees."""
    manifest = json.loads(ensure_manifest().read_text())
    tests = [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"]
    unattached = [
        uid
        for uid in tests
        if get_asset_check_key_for_test(manifest, translator, uid, None) is None
    ]
    assert tests
    assert unattached == []


def test_every_raw_table_has_a_blocking_great_expectations_suite(asset_graph):
    suites = {c.check_key.asset_key: c for c in raw_suite_checks}
    for table in RAW_TABLES:
        key = dg.AssetCheckKey(dg.AssetKey(["raw", table]), "great_expectations_suite")
        assert key in asset_graph.asset_check_keys, table
        checks_def = suites[key.asset_key]
        assert checks_def.get_spec_for_check_key(key).blocking is True
        assert checks_def.node_def.pool == "duckdb_writer"


def test_the_nightly_job_runs_the_raw_suites_before_dbt():
    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    steps = set(job.graph.node_dict)
    assert {f"raw__{table}_great_expectations_suite" for table in RAW_TABLES} <= steps
    assert "outcome_warehouse_dbt" in steps


def upstream_steps(job: dg.JobDefinition, step: str) -> set[str]:
    inputs = job.graph.dependency_structure.input_to_upstream_outputs_for_node(step)
    return {output.node_name for outputs in inputs.values() for output in outputs}


def test_the_nightly_job_builds_dbt_in_two_steps_with_the_forecast_between():
    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    dbt_steps = {name for name in job.graph.node_dict if "dbt" in name}
    assert dbt_steps == {"outcome_warehouse_dbt", "outcome_warehouse_dbt_after_forecasts"}
    assert upstream_steps(job, "delivery_forecasts") == {"outcome_warehouse_dbt"}
    assert upstream_steps(job, "outcome_warehouse_dbt_after_forecasts") == {
        "outcome_warehouse_dbt",
        "delivery_forecasts",
    }
    for step in ("leadership_report", "published_warehouse"):
        assert {"outcome_warehouse_dbt", "outcome_warehouse_dbt_after_forecasts"} <= (
            upstream_steps(job, step)
        )


def test_every_dbt_node_is_built_by_exactly_one_dbt_step():
    """Every model, seed and test once, and a test in the step that builds its last parent."""
    manifest = json.loads(ensure_manifest().read_text())
    first, after = outcome_warehouse_dbt, outcome_warehouse_dbt_after_forecasts
    assert not set(first.keys) & set(after.keys)
    assert not set(first.check_keys) & set(after.check_keys)
    built = {key.to_user_string() for key in (*first.keys, *after.keys)}
    assert built == {
        translator.get_asset_key(node).to_user_string()
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"}
    }
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    assert len(first.check_keys) + len(after.check_keys) == len(tests)
    forecast_keys = set(delivery_forecasts.keys)
    assert {key.asset_key for key in first.check_keys}.isdisjoint(forecast_keys)
    on_forecasts = [key for key in after.check_keys if key.asset_key in forecast_keys]
    source_tests = [
        test
        for test in tests
        if any(
            n.startswith("source.outcome_warehouse.forecast.") for n in test["depends_on"]["nodes"]
        )
    ]
    assert len(on_forecasts) == len(source_tests) == 15
    assert all(after.get_spec_for_check_key(key).blocking for key in on_forecasts)
    assert {key.to_user_string() for key in after.keys} == {
        "intermediate/int_outcome_forecasts_dated",
        "intermediate/int_outcome_months_matched_to_review_rules",
        "intermediate/int_outcome_months_summarised_for_review",
        "marts/mart_delivery_forecast",
        "marts/mart_delivery_forecast_how_many",
        "marts/mart_outcome_forecast",
        "marts/mart_outcome_recommendations",
        "marts/mart_outcome_review",
    }


def test_writers_share_one_pool():
    for key in (
        "raw/tasks",
        "marts/fct_tasks",
        "forecast/workstream_forecasts_simulated",
        "marts/mart_outcome_forecast",
        "published_warehouse",
    ):
        node = defs.resolve_assets_def(dg.AssetKey.from_user_string(key)).node_def
        assert node.pool == "duckdb_writer", key


def test_job_schedule_and_sensor():
    assert defs.resolve_job_def(NIGHTLY_JOB_NAME).name == NIGHTLY_JOB_NAME
    schedule = defs.resolve_schedule_def(nightly_schedule.name)
    assert schedule.execution_timezone == SCHEDULE_TIMEZONE == "Europe/London"
    assert schedule.cron_schedule == SCHEDULE_CRON
    hour = int(SCHEDULE_CRON.split()[1])
    assert not 1 <= hour <= 3, "nightly cron must avoid the daylight-saving hours 01:00-03:59"
    assert defs.resolve_sensor_def(landing_files_sensor.name).job_name == NIGHTLY_JOB_NAME


def test_schedule_skips_while_a_run_is_in_progress():
    with dg.instance_for_test() as instance:
        job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
        tick = dt.datetime(2026, 11, 20, 4, 30, tzinfo=dt.UTC)

        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        request = nightly_schedule(context)
        assert isinstance(request, dg.RunRequest)
        assert request.tags["owh/as_of"] == "2026-11-20"

        # a run record is all the schedule reads (a run of the whole job would first build its
        # execution plan, which takes long with every dbt test as a check)
        running = dg.DagsterRun(
            job_name=job.name, run_id="in-progress", status=dg.DagsterRunStatus.STARTED
        )
        instance.add_run(running)
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        skip = nightly_schedule(context)
        assert isinstance(skip, dg.SkipReason)
        assert "still in progress" in skip.skip_message


def test_a_nightly_loads_its_definitions_with_its_own_instance_whatever_another_left(
    monkeypatch, tmp_path
):
    for name in ("DAGSTER_HOME", "OWH_LANDING_DIR", "OWH_WAREHOUSE_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setattr(gx_worker, "running", contextlib.nullcontext)
    seen = {}

    def execute(instance, *args, **kwargs):
        seen["instance"], seen["current"] = instance, DefsStateStorage.get()
        return "summary"

    monkeypatch.setattr(runner, "_execute_nightly", execute)

    def run_after_a_schedule_test() -> None:
        # the schedule test above leaves the definitions state of its closed instance (its
        # folder gone) current in Dagster
        test_schedule_skips_while_a_run_is_in_progress()
        left = DefsStateStorage.get()
        assert left is not None
        summary = runner.run_nightly(
            tmp_path / "landing", tmp_path / "warehouse", as_of=dt.date(2026, 11, 2), demo=True
        )
        assert summary == "summary"
        assert seen["current"] is not left
        assert seen["current"] is seen["instance"].defs_state_storage

    # in a copy of the context: what Dagster leaves current here stays out of the other tests
    contextvars.copy_context().run(run_after_a_schedule_test)


def test_sensor_requests_a_run_only_when_landing_files_change(tmp_path):
    resources = {"warehouse": WarehouseResource(landing_dir=str(tmp_path))}
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "a.csv").write_text("source,task_id\n")
    with dg.instance_for_test() as instance:
        first = landing_files_sensor(
            dg.build_sensor_context(instance=instance, resources=resources)
        )
        assert isinstance(first, dg.RunRequest)
        cursor = first.run_key
        unchanged = landing_files_sensor(
            dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        )
        assert isinstance(unchanged, dg.SkipReason)
        (tmp_path / "tasks" / "b.csv").write_text("source,task_id\n")
        changed = landing_files_sensor(
            dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        )
        assert isinstance(changed, dg.RunRequest)
        assert changed.run_key != cursor


def test_the_dbt_resource_starts_dbt_without_asking_its_version_or_opening_an_adapter(
    monkeypatch,
):
    """dagster-dbt ran ``dbt --version`` and opened a dbt adapter in the Dagster process before
    every build; the project's resource takes the version from the installed package and opens
    no adapter (it fetches no row counts or column metadata)."""

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_process)
    resource = defs.resources["dbt"]
    assert isinstance(resource, ProjectDbtCliResource)
    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_the_nightly_dbt_resource_runs_dbt_forked_from_its_preloaded_process(monkeypatch, tmp_path):
    """Once set up, the resource's builds run through the launcher in a process forked from its
    preloaded dbt: with dbt itself replaced by a command that fails, `dbt --version` still
    succeeds. Teardown ends the process."""
    refusing = tmp_path / "refusing-dbt"
    refusing.write_text("#!/bin/sh\nexit 97\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(dbt_assets, "DBT_EXECUTABLE", str(refusing))
    monkeypatch.delenv(SHARED_VARIABLE, raising=False)  # a run's own process, as in production
    with dg.build_resources({"dbt": defs.resources["dbt"]}) as resources:
        process = resources.dbt._preloaded.process
        invocation = resources.dbt.cli(["--version"], raise_on_error=False).wait()
        assert invocation.process.args[: len(launcher_command())] == launcher_command()
        assert invocation.process.returncode == 0
    assert process.poll() is not None


def test_nightlies_of_one_process_can_share_its_preloaded_dbt(monkeypatch):
    """With OWH_DBT_PRELOAD_SHARED=1 (the test session), two set-ups of the nightly's dbt
    resource use one preloaded process, which teardown leaves running for the next."""
    monkeypatch.setenv(SHARED_VARIABLE, "1")
    processes = []
    for _ in range(2):
        with dg.build_resources({"dbt": defs.resources["dbt"]}) as resources:
            processes.append(resources.dbt._preloaded.process)
            assert resources.dbt.cli(["--version"], raise_on_error=False).wait().is_successful()
    assert processes[0] is processes[1]
    assert processes[0].poll() is None
