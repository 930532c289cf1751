"""What the last run of a warehouse folder found: what ``owh check`` prints.

Every run tags itself with its warehouse folder when it starts ingesting (``owh/warehouse``),
however it was launched (``owh run``, the schedule, the sensor, the Dagster UI). The findings of a
folder are those of its latest tagged run, read from two places:

- the run's event log in the Dagster instance: every check that failed or warned, with what it
  showed (a dbt test's failing rows, a suite's failed expectations);
- the DuckDB file the run wrote: its build file when the run did not publish (kept for
  re-execution), else the serving file it published: rows quarantined per table and reason, and
  the statuses no seed row maps.

Nothing here writes: the files are opened read-only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.checks import failing_rows_of
from pipelines.defs.resources import WAREHOUSE_TAG
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout

UNMAPPED_STATUSES_TABLE = "audit.assert_every_status_is_mapped"


@dataclass(frozen=True)
class CheckFinding:
    name: str  # asset/check
    severity: str  # ERROR (blocking) or WARN
    description: str | None
    details: str | None  # failing rows or failed expectations, as a markdown table


@dataclass(frozen=True)
class QuarantineCount:
    table_name: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Findings:
    run_id: str
    status: str
    as_of: str | None
    started_at: dt.datetime | None
    database_file: Path | None  # where quarantine and unmapped statuses were read
    published: bool
    failed_checks: list[CheckFinding] = field(default_factory=list)
    warned_checks: list[CheckFinding] = field(default_factory=list)
    checks_evaluated: int = 0
    quarantine: list[QuarantineCount] = field(default_factory=list)
    unmapped_statuses: list[dict[str, object]] = field(default_factory=list)

    @property
    def blocking_check_failed(self) -> bool:
        return bool(self.failed_checks)


def latest_run(instance: dg.DagsterInstance, warehouse_dir: Path) -> dg.RunRecord | None:
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={WAREHOUSE_TAG: str(warehouse_dir.resolve())}), limit=1
    )
    return records[0] if records else None


def findings_of_last_run(instance: dg.DagsterInstance, warehouse_dir: Path) -> Findings | None:
    """The findings of the latest run tagged with ``warehouse_dir``; None when there is none."""
    record = latest_run(instance, warehouse_dir)
    if record is None:
        return None
    run = record.dagster_run
    failed, warned, evaluated = _check_findings(instance, run.run_id)
    published = run.status == dg.DagsterRunStatus.SUCCESS
    database_file = _database_file(WarehouseLayout(warehouse_dir.resolve()), run, published)
    quarantine, unmapped = _file_findings(database_file)
    return Findings(
        run_id=run.run_id,
        status=run.status.value,
        as_of=run.tags.get("owh/as_of"),
        started_at=(
            dt.datetime.fromtimestamp(record.start_time, dt.UTC) if record.start_time else None
        ),
        database_file=database_file,
        published=published,
        failed_checks=failed,
        warned_checks=warned,
        checks_evaluated=evaluated,
        quarantine=quarantine,
        unmapped_statuses=unmapped,
    )


def _check_findings(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[list[CheckFinding], list[CheckFinding], int]:
    failed: dict[str, CheckFinding] = {}
    warned: dict[str, CheckFinding] = {}
    entries = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for entry in entries:
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        finding = CheckFinding(
            name=name,
            severity=evaluation.severity.value,
            description=evaluation.description,
            details=failing_rows_of(evaluation.metadata),
        )
        target = failed if evaluation.severity == dg.AssetCheckSeverity.ERROR else warned
        target[name] = finding
    return (
        sorted(failed.values(), key=_by_name),
        sorted(warned.values(), key=_by_name),
        len(entries),
    )


def _by_name(finding: CheckFinding) -> str:
    return finding.name


def _database_file(layout: WarehouseLayout, run: dg.DagsterRun, published: bool) -> Path | None:
    """The build file a run left behind, else (for a published run) the serving file."""
    build_file = layout.build_file(run.root_run_id or run.run_id)
    if build_file.exists():
        return build_file
    serving = layout.serving_file
    return serving if published and serving.exists() else None


def _file_findings(
    database_file: Path | None,
) -> tuple[list[QuarantineCount], list[dict[str, object]]]:
    if database_file is None:
        return [], []
    with connection(database_file, read_only=True) as con:
        quarantine = [
            QuarantineCount(table, reason, int(rows))
            for table, reason, rows in _rows(
                con,
                "select table_name, reason, count(*) from raw.quarantine "
                "group by table_name, reason order by table_name, count(*) desc, reason",
            )
        ]
        unmapped = _records(con, f"select * from {UNMAPPED_STATUSES_TABLE} order by all")
    return quarantine, unmapped


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:  # a run that stopped before creating the table
        return []


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[Mapping[str, object]]:
    try:
        cursor = con.execute(sql)
    except duckdb.CatalogException:
        return []
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
