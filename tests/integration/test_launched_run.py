"""The nightly job as the schedule, the sensor and the Dagster UI launch it: through a run worker
that executes the job with the job's own executor, not through ``owh run``.

Every step opens the run's one DuckDB build file; Dagster's default executor ran the steps in
processes of their own, two at a time, and the run failed on the file's lock
(``WarehouseLockedError``) as soon as two ingest steps started together.
"""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from pipelines.lib.layout import WarehouseLayout

from .conftest import DEMO_END, FIXTURES

pytestmark = pytest.mark.integration


def nightly_job() -> dg.JobDefinition:
    """The nightly job of the definitions a code location loads (folders from the environment)."""
    from pipelines.definitions import build_defs
    from pipelines.defs.resources import resource_from_env
    from pipelines.defs.schedules import NIGHTLY_JOB_NAME

    return build_defs(resource_from_env()).resolve_job_def(NIGHTLY_JOB_NAME)


def test_a_launched_nightly_run_succeeds_with_every_step_in_the_run_process(
    tmp_path, dagster_home, monkeypatch
):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    (landing / "jira").mkdir(parents=True)
    shutil.copy(FIXTURES / "jira" / "hand-checked.json", landing / "jira" / "page-1.json")
    monkeypatch.setenv("OWH_LANDING_DIR", str(landing))
    monkeypatch.setenv("OWH_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("OWH_PSEUDONYM_KEY", "launched-run-test-key")
    instance = dg.DagsterInstance.get()

    with dg.execute_job(
        dg.reconstructable(nightly_job),
        instance=instance,
        tags={"owh/as_of": DEMO_END.isoformat()},
        raise_on_error=False,
    ) as result:
        failures = [
            f"{event.step_key}: {event.event_specific_data.error.to_string()}"
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        step_processes = {
            event.pid
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_START
        }
        run_process = next(
            event.pid
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.RUN_START
        )
        assert failures == []
        assert result.success
    assert step_processes == {run_process}
    assert WarehouseLayout(warehouse).serving_file.exists()
    assert (WarehouseLayout(warehouse).marts_dir / "fct_tasks.parquet").exists()
