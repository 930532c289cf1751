"""The warehouse resource: where a run reads landing files, builds, and publishes.

Each run builds a fresh DuckDB file in its build folder (``WarehouseLayout.build_file``: the same
basename as the serving file, since dbt-duckdb names the catalog after it) and publishes it only
after every check passed. A re-execution of a failed run continues in the build folder of the run
it re-executes (its root run), so retrying a step never starts from an empty file.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.pseudonymize import pseudonym_key_from_env

# Every asset and check that writes the build file runs in this pool, limited to one at a time in
# dagster_home/dagster.yaml: DuckDB allows one writing process per file.
WRITER_POOL = "duckdb_writer"
AS_OF_TAG = "owh/as_of"
DEMO_TAG = "owh/demo"
# The warehouse folder a run builds for: how `owh check` finds a folder's last run.
WAREHOUSE_TAG = "owh/warehouse"

# What dbt builds on: DuckDB (the default), or Spark (docs/spark.md), where the ingest, the
# suites, the report and the publish step still use the run's DuckDB build file.
ENGINE_TAG = "owh/engine"
ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_WAREHOUSE_DIR = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """Folders of one deployment: the landing folder read, the warehouse folder written."""

    landing_dir: str = DEFAULT_LANDING_DIR
    warehouse_dir: str = DEFAULT_WAREHOUSE_DIR
    # owh.yml: which trackers the extract assets pull; None: $OWH_CONFIG, else ./owh.yml
    config_file: str | None = None
    # "duckdb" or "spark": where dbt builds (ENGINES)
    engine: str = DEFAULT_ENGINE

    @property
    def config_path(self) -> Path | None:
        return Path(self.config_file).resolve() if self.config_file else None

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir).resolve()

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse_dir).resolve()

    @property
    def layout(self) -> WarehouseLayout:
        """The files of the warehouse folder: serving file, build folders, releases, reports."""
        return WarehouseLayout(self.warehouse_path)

    def build_file(self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Path:
        """The build file of the run (of its root run, for a re-execution)."""
        return self.layout.build_file(build_id(context))

    def spark_dir(self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Path:
        """The run's Spark folder (tables, Derby metastore, dbt's target), inside its build
        folder: one metastore per run, removed with the build folder once published."""
        return self.layout.build_dir(build_id(context)) / "spark"

    @property
    def on_spark(self) -> bool:
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        return self.engine == "spark"


def build_id(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    run = context.run
    return run.root_run_id or run.run_id


def run_as_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> dt.date:
    """The date a run reports on: its ``owh/as_of`` tag, else the UTC date the run was created."""
    tag = context.run.tags.get(AS_OF_TAG)
    if tag:
        return dt.date.fromisoformat(tag)
    record = context.instance.get_run_record_by_id(context.run.run_id)
    created = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return created.astimezone(dt.UTC).date()


def tag_run_with_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """Record the run's warehouse folder on the run, however it was launched (CLI, schedule,
    sensor, UI), so that `owh check` can find the folder's last run."""
    folder = str(warehouse.warehouse_path)
    if context.run.tags.get(WAREHOUSE_TAG) != folder:
        context.instance.add_run_tags(context.run.run_id, {WAREHOUSE_TAG: folder})


def run_pseudonym_key(context: dg.AssetExecutionContext) -> bytes:
    """The pseudonymisation key from the environment; the demo key only for runs tagged as demo."""
    return pseudonym_key_from_env(demo=context.run.tags.get(DEMO_TAG) == "true")


def resource_from_env() -> WarehouseResource:
    return WarehouseResource(
        landing_dir=os.environ.get("OWH_LANDING_DIR", DEFAULT_LANDING_DIR),
        warehouse_dir=os.environ.get("OWH_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR),
        config_file=os.environ.get("OWH_CONFIG") or None,
        engine=os.environ.get("OWH_ENGINE") or DEFAULT_ENGINE,
    )
