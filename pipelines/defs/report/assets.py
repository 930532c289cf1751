"""The leadership report, built from the run's build file before anything is published."""

import dagster as dg

from pipelines.defs.dbt.assets import mart_asset_keys
from pipelines.defs.resources import WarehouseResource, build_id, run_as_of
from pipelines.report.build import build_report


@dg.asset(
    deps=mart_asset_keys(),
    group_name="report",
    kinds={"html", "plotly"},
    description=(
        "Self-contained HTML report of the last complete month at the run's as-of date, "
        "copied to latest.html, from the marts."
    ),
)
def leadership_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    result = build_report(
        warehouse.build_file(context),
        warehouse.layout.build_reports_dir(build_id(context)),
        as_of=run_as_of(context),
    )
    return dg.MaterializeResult(
        metadata={
            "month": dg.MetadataValue.text(result.month.strftime("%Y-%m")),
            "files": dg.MetadataValue.json([p.name for p in result.paths]),
        }
    )
