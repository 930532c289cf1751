"""Publish: swap the checked build in as the serving warehouse, Parquet marts and reports.

Dagster blocks downstream assets on failed blocking checks only within one run and not for every
kind of downstream asset, so publish verifies for itself that no check of this run failed with
ERROR severity before it touches the serving files.
"""

import shutil

import dagster as dg

from pipelines.defs.dbt.assets import mart_asset_keys
from pipelines.defs.report.assets import leadership_report
from pipelines.defs.resources import WRITER_POOL, WarehouseResource, build_id
from pipelines.lib.publish import remove_stale_builds, seal_build, swap_in

STALE_BUILD_SECONDS = 24 * 3600


def failed_blocking_checks(context: dg.AssetExecutionContext) -> list[str]:
    """Checks of this run (and of the run it re-executes) that failed with ERROR severity."""
    run_ids = {context.run.run_id, build_id(context)}
    failed = []
    for run_id in run_ids:
        records = context.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        for record in records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return sorted(set(failed))


@dg.asset(
    deps=[leadership_report, *mart_asset_keys()],
    group_name="publish",
    pool=WRITER_POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "Seals the build file (CHECKPOINT, Parquet export, read-back probe) and swaps it in as "
        "warehouse.duckdb, marts/<mart>.parquet and reports/ by atomic rename."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    failed = failed_blocking_checks(context)
    if failed:
        raise dg.Failure(
            "not publishing: blocking checks failed: " + ", ".join(failed),
            metadata={"failed_checks": dg.MetadataValue.json(failed)},
        )
    layout, build = warehouse.layout, build_id(context)
    sealed = seal_build(layout.build_file(build), layout.build_marts_dir(build))
    reports = tuple(sorted(layout.build_reports_dir(build).glob("*.html")))
    result = swap_in(sealed, layout, report_files=reports)
    removed = remove_stale_builds(
        layout.builds_dir, keep=build, older_than_seconds=STALE_BUILD_SECONDS
    )
    shutil.rmtree(layout.build_dir(build), ignore_errors=True)
    context.log.info(f"published {result.serving_file}; removed {len(removed)} stale build folders")
    return dg.MaterializeResult(
        metadata={
            "serving_file": dg.MetadataValue.path(str(result.serving_file)),
            "marts": dg.MetadataValue.int(len(result.parquet_files)),
            "relations_probed": dg.MetadataValue.int(sealed.relation_count),
            "reports": dg.MetadataValue.json([p.name for p in result.report_files]),
        }
    )
