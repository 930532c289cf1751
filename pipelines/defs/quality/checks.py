"""Great Expectations suites on the raw tables, as blocking Dagster asset checks.

One check per raw table (``great_expectations_suite``), run right after its ingest asset and
before dbt reads the table: a failure (or an expectation that could not run) has ERROR severity,
so the dbt build, the report and publish do not run and the serving files stay as they were. The
suites themselves are in ``pipelines.lib.quality``; this module only finds the run's build file,
the last published load's volume, and hands the result to ``pipelines.defs.checks``, which makes
the check result (counts, no values).
"""

from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.checks import suite_check_result
from pipelines.defs.ingest.assets import raw_asset_key
from pipelines.defs.resources import WRITER_POOL, WarehouseResource, run_as_of
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.quality import (
    MAX_QUARANTINED_SHARE,
    VOLUME_CEILING,
    VOLUME_FLOOR,
    validate_raw_table,
)
from pipelines.lib.raw_schema import TABLES

CHECK_NAME = "great_expectations_suite"


def published_row_counts(serving_file: Path) -> Mapping[str, int]:
    """Rows each raw table loaded in the published warehouse: the volume the next load is held
    to. Empty when nothing is published yet or the file predates the load log."""
    if not serving_file.exists():
        return {}
    try:
        with connection(serving_file, read_only=True) as con:
            rows = con.execute(
                "select table_name, sum(rows_loaded) from raw.load_log group by table_name"
            ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {table: int(count) for table, count in rows}


def _suite_check(table_name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_asset_key(table_name),
        name=CHECK_NAME,
        blocking=True,
        pool=WRITER_POOL,
        description=(
            f"Great Expectations suite on raw.{table_name}: required columns not null, keys "
            "unique within a file, plausible dates, allowed values, volume within "
            f"{VOLUME_FLOOR:g}-{VOLUME_CEILING:g} x the last published load, at most "
            f"{MAX_QUARANTINED_SHARE:.0%} of the rows read quarantined."
        ),
    )
    def suite_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        previous = published_row_counts(warehouse.layout.serving_file).get(table_name)
        with connection(warehouse.build_file(context), read_only=True) as con:
            result = validate_raw_table(
                con, table_name, as_of=run_as_of(context), previous_rows=previous
            )
        return suite_check_result(result, previous)

    return suite_check


raw_suite_checks = [_suite_check(name) for name in TABLES]
