"""Ingest assets: landing files → the canonical raw tables of the run's build file.

Three assets, one per kind of landing data, so a failure in the KPI feed is told apart from one in a
tracker export. Each replaces its raw tables with what the landing folder holds now and records
every file in ``raw.load_log`` (rows read = loaded + quarantined).

Incremental: each attaches the published warehouse read-only and reuses the rows of every file
unchanged since it was built; only new and changed files are parsed (``pipelines.sources.ingest``).
The first of them creates the run's build file, holding the published build's incremental dbt
tables when it may (``pipelines.lib.carry_over``); the tracker ingest drops them again when it
parsed most task rows (``MOST_ROWS_PARSED``). ``full_refresh`` in an asset's config
(``owh run --full-refresh``) parses every file again and starts the build file empty.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines.defs.extract.assets import landing_asset_key
from pipelines.defs.resources import (
    WRITER_POOL,
    WarehouseResource,
    run_pseudonym_key,
    tag_run_with_warehouse,
)
from pipelines.extract.sources import SOURCES
from pipelines.lib.carry_over import project_code, start_build_file, start_over
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.raw_schema import DEFINITION_TABLES, IMPACT_TABLES, TABLES, TASK_TABLES
from pipelines.sources.ingest import (
    IngestResult,
    ingest_definitions,
    ingest_impact,
    ingest_task_tracker,
    previous_build,
)

# Metadata of every raw table's materialisation: how its ingest went, read by `owh run`.
FILES_PARSED = "ingest_files_parsed"
FILES_REUSED = "ingest_files_reused"
FULL_RELOAD_REASON = "ingest_full_reload_reason"
# A build whose tracker files parsed this run hold more than this share of the raw task rows
# drops the incremental tables it carried, and dbt builds every model in full: each task of a
# file parsed again counts as changed (its rows' lineage is new), and rebuilding nearly every
# task in place costs more than building from nothing (docs/incremental.md).
MOST_ROWS_PARSED = 0.75


class IngestConfig(dg.Config):
    """How an ingest asset loads the landing folder."""

    full_refresh: bool = Field(
        default=False,
        description=(
            "Parse every landing file again instead of reusing the rows of the files unchanged "
            "since the published build, and start the build file from nothing instead of from "
            "the published build's incremental dbt tables (set on every ingest asset alike)."
        ),
    )


def full_refresh_run_config(full_refresh: bool) -> dict:
    """The run config that sets ``full_refresh`` on every ingest asset."""
    return {"ops": {name: {"config": {"full_refresh": full_refresh}} for name in INGEST_OP_NAMES}}


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _specs(tables: tuple[str, ...], deps: list[dg.AssetKey] | None = None) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            raw_asset_key(name),
            description=f"raw.{name}: {TABLES[name].grain}.",
            group_name="ingest",
            kinds={"duckdb", "python"},
            deps=deps or [],
        )
        for name in tables
    ]


def _materialize(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: IngestConfig,
    tables: tuple[str, ...],
    load: Callable[..., IngestResult],
    *,
    loaded: Callable[[dg.AssetExecutionContext, Path, IngestResult], None] | None = None,
    **kwargs,
) -> Iterator[dg.MaterializeResult]:
    tag_run_with_warehouse(context, warehouse)
    build_file = warehouse.build_file(context)
    serving_file = warehouse.layout.serving_file
    start_build(context, warehouse, config, build_file)
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with (
        connection(
            build_file,
            allowed_directories=[warehouse.landing_path],
            allowed_files=[serving_file],
        ) as con,
        previous_build(con, serving_file, full_refresh=config.full_refresh) as previous,
    ):
        result = load(
            con,
            warehouse.landing_path,
            run_id=context.run.run_id,
            loaded_at=loaded_at,
            previous=previous,
            **kwargs,
        )
    context.log.info(ingest_summary(result))
    for warning in result.warnings:
        context.log.warning(warning)
    if loaded is not None:
        loaded(context, build_file, result)
    for table in tables:
        files = [f for f in result.files if f.table_name == table]
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(table),
            metadata={
                "rows_loaded": dg.MetadataValue.int(result.rows_loaded.get(table, 0)),
                "rows_quarantined": dg.MetadataValue.int(result.rows_quarantined.get(table, 0)),
                "files": dg.MetadataValue.int(len(files)),
                "files_rejected": dg.MetadataValue.int(
                    sum(1 for f in files if f.status == "rejected")
                ),
                # of the whole ingest (every table of this asset carries the same figures)
                FILES_PARSED: dg.MetadataValue.int(result.files_parsed),
                FILES_REUSED: dg.MetadataValue.int(result.files_reused),
                FULL_RELOAD_REASON: dg.MetadataValue.text(result.full_reload_reason or ""),
            },
        )


def start_build(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    config: IngestConfig,
    build_file: Path,
) -> None:
    """The first ingest of a run creates its build file, from the published build's incremental
    dbt tables when it may (``pipelines.lib.carry_over``); the others find it."""
    if build_file.exists():
        return
    refused = None
    if config.full_refresh:
        refused = "a full refresh was asked for"
    elif warehouse.on_spark:
        refused = "Spark builds every model in full"
    manifest, fingerprint = project_code()
    carry = start_build_file(
        build_file,
        warehouse.layout.serving_file,
        manifest,
        fingerprint=fingerprint,
        refused=refused,
    )
    if carry.carried:
        context.log.info(
            f"build file started from the published build's {len(carry.carried)} "
            "incremental dbt tables"
        )
    else:
        context.log.info(f"build file started empty: {carry.reason}")


def why_build_in_full(result: IngestResult) -> str | None:
    """Why dbt should build every model in full after this tracker ingest (most raw task rows
    parsed again), or None."""
    rows = sum(result.rows_loaded.values())
    if not rows or result.rows_parsed <= MOST_ROWS_PARSED * rows:
        return None
    return (
        f"the tracker files parsed again hold {result.rows_parsed / rows:.0%} of the raw task "
        "rows, and each of their tasks counts as changed"
    )


def build_in_full_when_most_rows_are_new(
    context: dg.AssetExecutionContext, build_file: Path, result: IngestResult
) -> None:
    """After the tracker ingest: drop the build file's carried incremental tables when most task
    rows were parsed again (``why_build_in_full``)."""
    reason = why_build_in_full(result)
    if reason is None:
        return
    manifest, _ = project_code()
    if start_over(build_file, manifest, reason).reason == reason:
        context.log.info(f"carried incremental tables dropped, every model built in full: {reason}")


def ingest_summary(result: IngestResult) -> str:
    """One line on what an ingest parsed and reused, and why it reused nothing when it did not."""
    line = f"{result.files_parsed} files parsed, {result.files_reused} reused"
    if result.full_reload_reason:
        line += f" (full reload: {result.full_reload_reason})"
    return line


@dg.multi_asset(
    # after the pulls: the nightly build reads what its extract assets just pulled
    specs=_specs(TASK_TABLES, deps=[landing_asset_key(source) for source in SOURCES]),
    pool=WRITER_POOL,
    description=(
        "Task-tracker pages (Jira, GitHub, Linear: pulled or exported) and canonical CSV/Parquet "
        "→ raw task tables."
    ),
)
def ingest_task_tracker_exports(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: IngestConfig
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(
        context,
        warehouse,
        config,
        TASK_TABLES,
        ingest_task_tracker,
        loaded=build_in_full_when_most_rows_are_new,
        pseudonym_key=run_pseudonym_key(context),
    )


@dg.multi_asset(
    specs=_specs(DEFINITION_TABLES),
    pool=WRITER_POOL,
    description="Business definitions owned by the PMO → raw KPIs, outcomes and workstreams.",
)
def ingest_business_definitions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: IngestConfig
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(context, warehouse, config, DEFINITION_TABLES, ingest_definitions)


@dg.multi_asset(
    specs=_specs(IMPACT_TABLES),
    pool=WRITER_POOL,
    description="KPI observations and confidence surveys → raw impact tables.",
)
def ingest_impact_data(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: IngestConfig
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(
        context,
        warehouse,
        config,
        IMPACT_TABLES,
        ingest_impact,
        pseudonym_key=run_pseudonym_key(context),
    )


ingest_assets = [ingest_task_tracker_exports, ingest_business_definitions, ingest_impact_data]
# The ops whose config ``full_refresh_run_config`` sets.
INGEST_OP_NAMES = tuple(asset.op.name for asset in ingest_assets)
