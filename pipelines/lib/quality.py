"""Great Expectations suites on the raw tables, run on pandas DataFrames.

GX's SQL data source does not work on DuckDB (every expectation fails with an IndexError), so each
raw table is read into a DataFrame and validated through GX's pandas data source. One suite per
raw table, derived from the table's contract in ``raw_schema`` so that a new column or table gets
its expectations from one place:

- required columns are never null;
- a row's key is unique among the distinct rows of one file: the same key twice in a file with
  different content is a conflict (a later file re-sending a row is a correction, and staging
  keeps the last one). Ingestion already moves such rows to ``raw.quarantine``
  (``pipelines.sources.ingest``), so this expectation is a second guard: it fails only if a
  conflict got past ingestion;
- timestamps and dates are plausible: from ``EARLIEST_PLAUSIBLE`` to the day after ``as_of``
  for events (nothing can have happened later), to ``PLANNING_HORIZON_YEARS`` after it for the
  dates a plan sets (an outcome's baseline and target dates);
- columns with a closed vocabulary hold only its values, scores and cadences stay in range;
- a KPI's observations carry one unit;
- the table's volume stays within ``VOLUME_FLOOR``..``VOLUME_CEILING`` times the rows the
  published warehouse loaded last time (no bound on a first load);
- no more than ``MAX_QUARANTINED_SHARE`` of the rows read from the table's files was quarantined;
- every row is accounted for, per landing file: the load log's rows read equal its rows loaded
  plus quarantined, and those equal the file's rows in the raw table and in ``raw.quarantine``
  (nothing lost, nothing counted that is not there).

A validation reports counts, never values: results use GX's ``BASIC`` format with no partial
list, and only counts are copied out of them, so a check result cannot carry personal data. An
expectation that raised an exception (a missing column, a type GX cannot compare) is reported as
``could not run``: an error, never a pass.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from pipelines.lib.raw_schema import LINEAGE_COLUMNS, RAW_SCHEMA, TABLES, RawTable

# GX would otherwise try to send usage statistics from a machine that may have no network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

# No tracker export, KPI or survey in this warehouse predates this day.
EARLIEST_PLAUSIBLE = dt.datetime(2000, 1, 1)
# An outcome may be planned this far ahead.
PLANNING_HORIZON_YEARS = 20
PLANNED_DATES = frozenset({("outcomes", "baseline_on"), ("outcomes", "target_on")})
# Today's load may hold between 40% and 4 times the rows of the last published load (DECISIONS.md,
# "Volume is held to the last published load": a half-empty export, or one loaded twice).
VOLUME_FLOOR = 0.4
VOLUME_CEILING = 4.0
# More than 1% of a table's rows quarantined fails the run: a file that is mostly rejected is a
# broken export, not a few bad rows.
MAX_QUARANTINED_SHARE = 0.01

ALLOWED_VALUES: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("kpis", "area"): ("flow", "quality", "adoption", "business", "confidence"),
    ("kpis", "aggregation"): ("last", "avg", "sum"),
    ("kpis", "direction"): ("increase", "decrease"),
    ("confidence_surveys", "dimension"): ("readiness", "ownership"),
    ("tasks", "found_in"): ("production", "pre_release"),
}
VALUE_RANGES: Mapping[tuple[str, str], tuple[float | None, float | None]] = {
    ("confidence_surveys", "score"): (1, 5),
    ("kpis", "cadence_days"): (1, None),
}
LINEAGE_NAMES = frozenset(column.name for column in LINEAGE_COLUMNS)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, in counts only."""

    batch: str  # which frame it ran on: the table, or a view derived from it
    expectation: str  # e.g. expect_column_values_to_not_be_null(task_id)
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: int | None = None  # table-level counts only (rows, quarantined per mille)
    error: str | None = None  # the exception's first line when it could not run

    @property
    def could_not_run(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class SuiteResult:
    table: str
    outcomes: tuple[ExpectationOutcome, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.could_not_run]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and not o.could_not_run]

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)

    def summary(self) -> str:
        if self.errors:
            return (
                f"raw.{self.table}: {len(self.errors)} expectation(s) could not run; "
                f"{len(self.failures)} failed"
            )
        if self.failures:
            return f"raw.{self.table}: {len(self.failures)} of {len(self.outcomes)} failed"
        return f"raw.{self.table}: {len(self.outcomes)} expectations passed"

    def markdown(self) -> str:
        """The failed and unrunnable expectations as a table: counts and errors, no values."""
        rows = [o for o in self.outcomes if not o.success]
        lines = [
            "| batch | expectation | unexpected | of | error |",
            "| --- | --- | --- | --- | --- |",
        ]
        for o in rows:
            lines.append(
                f"| {o.batch} | {o.expectation} | {_cell(o.unexpected_count)} | "
                f"{_cell(o.element_count if o.observed is None else o.observed)} | "
                f"{(o.error or '').replace('|', '/')} |"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Batch:
    """A frame and the expectations that run on it."""

    name: str
    frame: pd.DataFrame
    expectations: Sequence[gx.expectations.Expectation]


def raw_table_batches(
    table: RawTable,
    frame: pd.DataFrame,
    *,
    as_of: dt.date,
    previous_rows: int | None = None,
    rows_read: int = 0,
    rows_quarantined: int = 0,
    file_accounts: pd.DataFrame | None = None,
) -> list[Batch]:
    """The suite of one raw table: its contract's expectations on ``frame`` and derived views.

    ``file_accounts`` has one row per landing file with the differences of ``FILE_ACCOUNTS``
    (see ``read_file_accounts``); each must be 0.
    """
    latest_event = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.max)
    latest_plan = dt.datetime.combine(
        as_of.replace(year=as_of.year + PLANNING_HORIZON_YEARS, day=min(as_of.day, 28)),
        dt.time.max,
    )
    expectations: list[gx.expectations.Expectation] = []
    for column in table.columns:
        if column.required:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.type in ("TIMESTAMP", "DATE"):
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column.name,
                    min_value=EARLIEST_PLAUSIBLE,
                    max_value=(
                        latest_plan if (table.name, column.name) in PLANNED_DATES else latest_event
                    ),
                )
            )
        allowed = ALLOWED_VALUES.get((table.name, column.name))
        if allowed:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=column.name, value_set=list(allowed)
                )
            )
        bounds = VALUE_RANGES.get((table.name, column.name))
        if bounds:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=bounds[0], max_value=bounds[1]
                )
            )
    if previous_rows:
        expectations.append(
            gx.expectations.ExpectTableRowCountToBeBetween(
                min_value=math.ceil(previous_rows * VOLUME_FLOOR),
                max_value=math.floor(previous_rows * VOLUME_CEILING),
            )
        )
    batches = [Batch(table.name, frame, expectations)]

    if table.key:
        content = [c for c in frame.columns if c not in LINEAGE_NAMES]
        keyed = [*table.key, "_source_file"]
        if all(c in frame.columns for c in keyed):
            distinct = frame[[*content, "_source_file"]].astype(str).drop_duplicates()
        else:  # the unrunnable expectation then says which column is missing
            distinct = frame
        batches.append(
            Batch(
                f"{table.name}: distinct rows per file",
                distinct,
                [gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=keyed)],
            )
        )
    if table.name == "kpi_observations" and {"kpi_id", "unit"} <= set(frame.columns):
        units = frame[["kpi_id", "unit"]].dropna().drop_duplicates()
        batches.append(
            Batch(
                "kpi_observations: units per KPI",
                units,
                [gx.expectations.ExpectColumnValuesToBeUnique(column="kpi_id")],
            )
        )
    if rows_read:
        batches.append(
            Batch(
                f"{table.name}: load log",
                pd.DataFrame({"quarantined_share": [rows_quarantined / rows_read]}),
                [
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column="quarantined_share", min_value=0, max_value=MAX_QUARANTINED_SHARE
                    )
                ],
            )
        )
    if file_accounts is not None:
        batches.append(
            Batch(
                f"{table.name}: rows of each file accounted for",
                file_accounts,
                [
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=column, min_value=0, max_value=0
                    )
                    for column in FILE_ACCOUNTS
                ],
            )
        )
    return batches


# Per landing file, differences that are 0 when every row is accounted for.
FILE_ACCOUNTS = (
    "read_minus_loaded_and_quarantined",
    "table_rows_minus_loaded",
    "quarantine_rows_minus_quarantined",
)


def read_file_accounts(con, table: RawTable) -> pd.DataFrame:
    """One row per landing file of ``table``: the load log against the rows the tables hold.

    A file may appear in any of the three places alone: rows in the raw table from a file the
    log does not know count against it as much as logged rows that are missing.
    """
    return con.execute(
        f"""
        with logged as (
            select source_file, sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded,
                sum(rows_quarantined) as rows_quarantined
            from {RAW_SCHEMA}.load_log
            where table_name = $table
            group by source_file
        ),
        loaded as (
            select _source_file as source_file, count(*) as table_rows
            from {table.qualified_name}
            group by _source_file
        ),
        quarantined as (
            select source_file, count(*) as quarantine_rows
            from {RAW_SCHEMA}.quarantine
            where table_name = $table
            group by source_file
        ),
        files as (
            select source_file from logged
            union
            select source_file from loaded
            union
            select source_file from quarantined
        )
        select
            coalesce(logged.rows_read, 0) - coalesce(logged.rows_loaded, 0)
                - coalesce(logged.rows_quarantined, 0) as read_minus_loaded_and_quarantined,
            coalesce(loaded.table_rows, 0) - coalesce(logged.rows_loaded, 0)
                as table_rows_minus_loaded,
            coalesce(quarantined.quarantine_rows, 0) - coalesce(logged.rows_quarantined, 0)
                as quarantine_rows_minus_quarantined
        from files
        left join logged on files.source_file is not distinct from logged.source_file
        left join loaded on files.source_file is not distinct from loaded.source_file
        left join quarantined on files.source_file is not distinct from quarantined.source_file
        order by files.source_file
        """,
        {"table": table.name},
    ).df()


def validate(table: str, batches: Sequence[Batch]) -> SuiteResult:
    """Run every batch's expectations in an ephemeral GX context; counts out, values never."""
    # in memory, without a Data Docs site: nothing of a validation is written anywhere
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults()),
    )
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("raw")
    outcomes: list[ExpectationOutcome] = []
    for index, batch in enumerate(batches):
        asset = source.add_dataframe_asset(f"batch_{index}")
        definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name=f"{table}_{index}")
        for expectation in batch.expectations:
            suite.add_expectation(expectation)
        result = definition.get_batch(batch_parameters={"dataframe": batch.frame}).validate(
            suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0}
        )
        outcomes.extend(_outcome(batch.name, r) for r in result.results)
    return SuiteResult(table=table, outcomes=tuple(outcomes))


def validate_raw_table(
    con,
    table_name: str,
    *,
    as_of: dt.date,
    previous_rows: int | None = None,
) -> SuiteResult:
    """Read ``raw.<table_name>`` and its load-log totals from ``con`` and validate them."""
    table = TABLES[table_name]
    frame = con.execute(f"select * from {table.qualified_name}").df()
    rows_read, rows_quarantined = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0) "
        "from raw.load_log where table_name = ?",
        [table_name],
    ).fetchone()
    return validate(
        table_name,
        raw_table_batches(
            table,
            frame,
            as_of=as_of,
            previous_rows=previous_rows,
            rows_read=int(rows_read),
            rows_quarantined=int(rows_quarantined),
            file_accounts=read_file_accounts(con, table),
        ),
    )


def _outcome(batch: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column") or ", ".join(kwargs.get("column_list") or [])
    name = f"{config.type}({columns})" if columns else config.type
    message = _raised_exception(result.exception_info or {})
    if message is not None:
        return ExpectationOutcome(batch, name, success=False, error=message)
    counts = result.result or {}
    observed = counts.get("observed_value")
    return ExpectationOutcome(
        batch,
        name,
        success=bool(result.success),
        element_count=counts.get("element_count"),
        unexpected_count=counts.get("unexpected_count"),
        # only row counts are copied: other observed values could be data
        observed=observed if config.type == "expect_table_row_count_to_be_between" else None,
    )


def _raised_exception(info: Mapping[str, object]) -> str | None:
    """The first line of the exception an expectation raised, wherever GX put it.

    GX reports it at the top level of ``exception_info`` for some failures and, for a metric
    that could not be computed (a missing column), in a dict per metric.
    """
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "exception raised")
            return message.strip().splitlines()[0]
    return None


def _cell(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
