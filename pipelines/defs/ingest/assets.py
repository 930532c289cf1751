"""Ingest assets: landing files → the canonical raw tables of the run's build file.

Three assets, one per kind of landing data, so a failure in the KPI feed is told apart from one in a
tracker export. Each replaces its raw tables with what the landing folder holds now and records
every file in ``raw.load_log`` (rows read = loaded + quarantined).
"""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg

from pipelines.defs.extract.assets import landing_asset_key
from pipelines.defs.resources import (
    WRITER_POOL,
    WarehouseResource,
    run_pseudonym_key,
    tag_run_with_warehouse,
)
from pipelines.extract.sources import SOURCES
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.raw_schema import DEFINITION_TABLES, IMPACT_TABLES, TABLES, TASK_TABLES
from pipelines.sources.ingest import (
    IngestResult,
    ingest_definitions,
    ingest_impact,
    ingest_task_tracker,
)


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
    tables: tuple[str, ...],
    load: Callable[..., IngestResult],
    **kwargs,
) -> Iterator[dg.MaterializeResult]:
    tag_run_with_warehouse(context, warehouse)
    build_file = warehouse.build_file(context)
    build_file.parent.mkdir(parents=True, exist_ok=True)
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connection(build_file, allowed_directories=[warehouse.landing_path]) as con:
        result = load(
            con, warehouse.landing_path, run_id=context.run.run_id, loaded_at=loaded_at, **kwargs
        )
    for warning in result.warnings:
        context.log.warning(warning)
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
            },
        )


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
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(
        context,
        warehouse,
        TASK_TABLES,
        ingest_task_tracker,
        pseudonym_key=run_pseudonym_key(context),
    )


@dg.multi_asset(
    specs=_specs(DEFINITION_TABLES),
    pool=WRITER_POOL,
    description="Business definitions owned by the PMO → raw KPIs, outcomes and workstreams.",
)
def ingest_business_definitions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(context, warehouse, DEFINITION_TABLES, ingest_definitions)


@dg.multi_asset(
    specs=_specs(IMPACT_TABLES),
    pool=WRITER_POOL,
    description="KPI observations and confidence surveys → raw impact tables.",
)
def ingest_impact_data(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    yield from _materialize(
        context,
        warehouse,
        IMPACT_TABLES,
        ingest_impact,
        pseudonym_key=run_pseudonym_key(context),
    )


ingest_assets = [ingest_task_tracker_exports, ingest_business_definitions, ingest_impact_data]
