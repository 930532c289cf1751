"""Run the nightly job in this process, recorded in the Dagster instance like any other run.

The CLI is thin: it sets the folders, then executes the same job the schedule launches, so a run
started with ``owh run`` shows in the Dagster UI with every asset, check and failure reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.lib.carry_over import TaskHistory, task_history
from pipelines.lib.layout import WarehouseLayout

if TYPE_CHECKING:
    import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DAGSTER_HOME = REPO_ROOT / "dagster_home"
# Failing rows are printed under their check's name, indented past the check's own line.
FAILING_ROWS_INDENT = " " * 6


@dataclass(frozen=True)
class IngestFigures:
    """What one ingest step did with the landing files (from its materialisations' metadata)."""

    parsed: int
    reused: int
    full_reload_reason: str  # empty when the files unchanged since the published build were reused


@dataclass
class RunSummary:
    run_id: str
    success: bool
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    # check name -> its first failing rows (a markdown table), for checks that stored them
    failing_rows: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log_file: Path | None = None
    # the dbt models and seeds of the project, and (node, seconds) for each one built, in order
    models_total: int = 0
    models_built: list[tuple[str, float]] = field(default_factory=list)
    # step key -> seconds, for the steps that succeeded
    step_seconds: dict[str, float] = field(default_factory=dict)
    # ingest step key -> what it parsed and reused
    ingests: dict[str, IngestFigures] = field(default_factory=dict)
    # how the published build made its task history (docs/incremental.md)
    task_history: TaskHistory | None = None

    @property
    def files_parsed(self) -> int:
        return sum(figures.parsed for figures in self.ingests.values())

    @property
    def files_reused(self) -> int:
        return sum(figures.reused for figures in self.ingests.values())

    def ingest_line(self) -> str | None:
        """Files parsed and reused by the run's ingests, and why any of them reused nothing."""
        if not self.ingests:
            return None
        line = f"{self.files_parsed} landing files parsed, {self.files_reused} reused"
        reasons = sorted({f.full_reload_reason for f in self.ingests.values()} - {""})
        if reasons:
            line += f" (full reload: {'; '.join(reasons)})"
        return line

    def task_history_line(self) -> str | None:
        """How many tasks the build rebuilt, or why it built every model in full."""
        return self.task_history.line() if self.task_history else None

    def slowest(self, count: int = 5) -> list[tuple[str, float]]:
        """The slowest steps and dbt models of the run, slowest first."""
        timed = [*self.step_seconds.items(), *(("dbt " + m, s) for m, s in self.models_built)]
        return sorted(timed, key=lambda item: -item[1])[:count]


# the metadata dagster-dbt gives each model it materialises: dbt's own timing of the node
DBT_DURATION_KEY = "Execution Duration"


def dbt_model_count() -> int:
    """The number of models and seeds in the dbt project: the N of the run's "n of N" lines."""
    from pipelines.lib.dbt_project import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    nodes = manifest["nodes"].values()
    return sum(1 for node in nodes if node["resource_type"] in {"model", "seed"})


def configure_environment(landing_dir: Path, warehouse_dir: Path) -> None:
    """Point the definitions at these folders and the instance at the project's dagster_home."""
    os.environ["OWH_LANDING_DIR"] = str(landing_dir.resolve())
    os.environ["OWH_WAREHOUSE_DIR"] = str(warehouse_dir.resolve())
    os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


def run_nightly(
    landing_dir: Path,
    warehouse_dir: Path,
    *,
    as_of: dt.date,
    demo: bool,
    full_refresh: bool = False,
    engine: str = "duckdb",
    on_event: Callable[[str, str], None] = lambda kind, text: None,
) -> RunSummary:
    """Execute the nightly job once; ``on_event(kind, text)`` is called as steps start and end.

    ``full_refresh`` parses every landing file again instead of reusing the raw rows of the files
    unchanged since the published build, and builds every dbt model from nothing instead of
    starting the incremental ones from the published build. ``engine`` is where dbt builds:
    ``duckdb``, or ``spark`` (the profile's `spark` target; raises when Spark is not
    installed)."""
    configure_environment(landing_dir, warehouse_dir)
    if engine == "spark":
        from pipelines.lib.spark_engine import spark_available

        missing = spark_available()
        if missing is not None:
            raise RuntimeError(f"the spark engine cannot run here: {missing}")

    from pipelines.lib import gx_worker

    # started before Dagster is imported: the worker imports Great Expectations meanwhile
    with gx_worker.running():
        import dagster as dg

        # entered for the run: the definitions are then loaded with this instance's state, not
        # with whatever another instance of this process left current (an instance entered twice
        # leaves its state current after it is closed), and the instance is closed afterwards
        with dg.DagsterInstance.get() as instance:
            return _execute_nightly(
                instance,
                landing_dir,
                warehouse_dir,
                as_of=as_of,
                demo=demo,
                full_refresh=full_refresh,
                engine=engine,
                on_event=on_event,
            )


def _execute_nightly(
    instance: dg.DagsterInstance,
    landing_dir: Path,
    warehouse_dir: Path,
    *,
    as_of: dt.date,
    demo: bool,
    full_refresh: bool,
    engine: str,
    on_event: Callable[[str, str], None],
) -> RunSummary:
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.defs.ingest.assets import full_refresh_run_config
    from pipelines.defs.resources import (
        AS_OF_TAG,
        DEMO_TAG,
        ENGINE_TAG,
        WAREHOUSE_TAG,
        WarehouseResource,
    )
    from pipelines.defs.schedules import NIGHTLY_JOB_NAME

    run_id = str(uuid.uuid4())
    defs = build_defs(
        WarehouseResource(
            landing_dir=str(landing_dir.resolve()),
            warehouse_dir=str(warehouse_dir.resolve()),
            engine=engine,
        )
    )
    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    tags = {
        AS_OF_TAG: as_of.isoformat(),
        DEMO_TAG: "true" if demo else "false",
        WAREHOUSE_TAG: str(warehouse_dir.resolve()),
        ENGINE_TAG: engine,
    }
    outcome: dict[str, object] = {}

    log_file = WarehouseLayout(warehouse_dir).log_file(run_id)
    log_file.parent.mkdir(parents=True, exist_ok=True)

    def execute() -> None:
        # dbt's console output goes to the run's log file; progress is reported through on_event.
        try:
            with log_file.open("w") as log, contextlib.redirect_stdout(log):
                outcome["result"] = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    tags=tags,
                    raise_on_error=False,
                    # Failures are reported through on_event and the summary, with their cause;
                    # the full event log stays in the instance for the Dagster UI.
                    run_config={
                        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                        **full_refresh_run_config(full_refresh),
                    },
                )
        except BaseException as exc:  # reported below; the thread must not die silently
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=execute, name="owh-run")
    worker.start()
    summary = RunSummary(
        run_id=run_id, success=False, log_file=log_file, models_total=dbt_model_count()
    )
    cursor = None
    watched = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    while True:
        alive = worker.is_alive()
        # only the events after the cursor: rereading the whole log every half second cost the
        # run's own thread more the longer the run
        while True:
            page = instance.get_records_for_run(run_id, cursor=cursor, of_type=watched)
            for record in page.records:
                _report(record.event_log_entry, summary, on_event)
            cursor = page.cursor
            if not page.has_more:
                break
        if not alive:
            break
        # half a second between reads, but no longer once the run has ended
        worker.join(timeout=0.5)
    worker.join()
    summary.seconds = time.monotonic() - started
    if "error" in outcome:
        summary.errors.append(f"{type(outcome['error']).__name__}: {outcome['error']}")
        return summary
    result = outcome["result"]
    summary.success = bool(result.success)
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause  # the user's exception, not Dagster's wrapper
            if error is not None:
                summary.errors.append(f"{event.step_key}: {error.message.strip()}")
    if summary.success:
        summary.task_history = task_history(WarehouseLayout(warehouse_dir).serving_file)
    return summary


def _report(entry, summary: RunSummary, on_event: Callable[[str, str], None]) -> None:
    import dagster as dg

    from pipelines.defs.checks import failing_rows_of

    event = entry.dagster_event
    if event is None:
        return
    if event.event_type == dg.DagsterEventType.STEP_START:
        on_event("start", event.step_key)
    elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
        summary.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        on_event("success", event.step_key)
    elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.event_specific_data.materialization
        _record_ingest(event.step_key, materialization.metadata, summary)
        # dbt's models and seeds carry dbt's own timing; other assets are timed by their step
        duration = materialization.metadata.get(DBT_DURATION_KEY)
        if duration is not None:
            name = materialization.asset_key.to_user_string()
            summary.models_built.append((name, float(duration.value)))
            on_event(
                "model",
                f"{len(summary.models_built)} of {summary.models_total} "
                f"{name} {float(duration.value):.1f} s",
            )
    elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
        summary.failed_steps.append(event.step_key)
        on_event("failure", event.step_key)
    elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        if not evaluation.passed:
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            severity = evaluation.severity.value.lower()
            if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                summary.failed_checks.append(name)
            rows = failing_rows_of(evaluation.metadata)
            if rows is not None:
                summary.failing_rows[name] = rows
            on_event(f"check_{severity}", check_report(name, rows))


def _record_ingest(step_key: str, metadata, summary: RunSummary) -> None:
    """An ingest's figures, from any of its raw tables' materialisations (they all carry them)."""
    from pipelines.defs.ingest.assets import FILES_PARSED, FILES_REUSED, FULL_RELOAD_REASON

    if FILES_PARSED not in metadata:
        return
    summary.ingests[step_key] = IngestFigures(
        parsed=int(metadata[FILES_PARSED].value),
        reused=int(metadata[FILES_REUSED].value),
        full_reload_reason=str(metadata[FULL_RELOAD_REASON].value),
    )


def check_report(name: str, failing_rows: str | None) -> str:
    """A failed check's name, with its failing rows on the lines below it when it has them."""
    if not failing_rows:
        return name
    return "\n".join([name, failing_rows_indented(failing_rows)])


def failing_rows_indented(failing_rows: str) -> str:
    """Failing rows indented under the line of their check."""
    return "\n".join(FAILING_ROWS_INDENT + line for line in failing_rows.splitlines())
