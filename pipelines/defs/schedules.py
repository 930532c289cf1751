"""The nightly job, its schedule and the landing-folder sensor.

The schedule fires at 04:30 Europe/London: outside the 01:00-03:59 window where daylight-saving
changes skip or repeat local times. Both the schedule and the sensor skip while a run of the job is
queued or in progress, so two builds never race for the writer pool.
"""

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import AS_OF_TAG, WarehouseResource

NIGHTLY_JOB_NAME = "nightly_build"
SCHEDULE_TIMEZONE = "Europe/London"
SCHEDULE_CRON = "30 4 * * *"

# Every step reads or writes the run's one DuckDB build file, which one process at a time may
# open for writing: the steps run one after another in the run's process, as `owh run` runs them,
# whoever launches the run (the schedule, the sensor, the UI). Dagster's default executor would
# start each step in a process of its own, two at a time, and two ingest steps would collide on
# the file's lock. dbt's threads and DuckDB's are where a run uses the machine's cores.
nightly_build = dg.define_asset_job(
    name=NIGHTLY_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest → dbt build (with tests) → report → publish, on a fresh build file.",
    executor_def=dg.in_process_executor,
)

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def run_in_progress(instance: dg.DagsterInstance) -> dg.RunRecord | None:
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=NIGHTLY_JOB_NAME, statuses=IN_PROGRESS), limit=1
    )
    return records[0] if records else None


@dg.schedule(
    job=nightly_build,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly build of the warehouse and the leadership report.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    running = run_in_progress(context.instance)
    if running:
        return dg.SkipReason(
            f"run {running.dagster_run.run_id} of {NIGHTLY_JOB_NAME} is still in progress"
        )
    scheduled = context.scheduled_execution_time
    return dg.RunRequest(tags={AS_OF_TAG: scheduled.date().isoformat()})


def landing_fingerprint(landing_dir: Path) -> str:
    """A digest of every landing file's path, size and modification time."""
    digest = hashlib.sha256()
    if landing_dir.exists():
        for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(
                f"{path.relative_to(landing_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()


@dg.sensor(
    job=nightly_build,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts a build when files in the landing folder are added or changed.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    landing = warehouse.landing_path
    fingerprint = landing_fingerprint(landing)
    if fingerprint == context.cursor:
        return dg.SkipReason(f"no new or changed files in {landing}")
    running = run_in_progress(context.instance)
    if running:
        return dg.SkipReason(
            f"landing files changed, but run {running.dagster_run.run_id} is still in progress"
        )
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
