"""The Dagster definitions of Outcome Warehouse: every asset, check, job, schedule and sensor.

The asset graph reads extract → ingest → staging → intermediate → marts → report → publish; the
delivery forecasts run between two dbt builds (``pipelines.defs.dbt.assets``).
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt.assets import (
    dbt_resource,
    outcome_warehouse_dbt,
    outcome_warehouse_dbt_after_forecasts,
)
from pipelines.defs.extract.assets import extract_assets
from pipelines.defs.forecast.assets import delivery_forecasts
from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.quality.checks import raw_suite_checks
from pipelines.defs.report.assets import leadership_report
from pipelines.defs.resources import WarehouseResource, resource_from_env
from pipelines.defs.schedules import landing_files_sensor, nightly_build, nightly_schedule


def build_defs(warehouse: WarehouseResource) -> dg.Definitions:
    """Definitions bound to one deployment's folders (the CLI passes its own)."""
    return dg.Definitions(
        assets=[
            *extract_assets,
            *ingest_assets,
            outcome_warehouse_dbt,
            delivery_forecasts,
            outcome_warehouse_dbt_after_forecasts,
            leadership_report,
            published_warehouse,
        ],
        asset_checks=raw_suite_checks,
        jobs=[nightly_build],
        schedules=[nightly_schedule],
        sensors=[landing_files_sensor],
        resources={"dbt": dbt_resource, "warehouse": warehouse},
    )


defs = build_defs(resource_from_env())
