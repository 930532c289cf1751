"""Great Expectations suites on the raw tables, run on pandas DataFrames.

GX's SQL data source does not work on DuckDB (every expectation fails with an IndexError), so the
suites run through GX's pandas data source. A raw table is never copied into pandas whole: DuckDB
reduces it, per expectation, to a small frame on which GX gives the same verdict and, through the
row counts the frame carries, the same counts as on the whole table (see ``Batch``). Time and
memory then follow the number of distinct failing values, not the table's rows; a reduced frame
that is still large is read and validated in chunks of ``CHUNK_ROWS`` rows and the results added
up (DuckDB's own aggregates stay within its memory limit and spill beyond it). Nothing is
sampled: every count is exact. One suite per raw table, derived from the table's
contract in ``raw_schema`` so that a new column or table gets its expectations from one place:

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
  published warehouse loaded last time (no bound on a first load): DuckDB counts the rows, GX
  checks the count (batch ``<table>: row count``);
- no more than ``MAX_QUARANTINED_SHARE`` of the rows read from the table's files was quarantined;
- every row is accounted for, per landing file: the load log's rows read equal its rows loaded
  plus quarantined, and those equal the file's rows in the raw table and in ``raw.quarantine``
  (nothing lost, nothing counted that is not there).

This module never imports GX: it describes each expectation (``Expect``: GX's class name and
arguments) and leaves GX to ``pipelines.lib.gx_suites``, which ``pipelines.lib.gx_worker`` runs in
a worker process during `owh run` (GX's import then costs the run no time) or in this process.

A validation reports counts, never values: only counts are copied out of GX's results (the
positions of the unexpected rows of a reduced frame are read to add up their row counts, and
dropped), so a check result cannot carry personal data. An expectation that raised an exception (a
missing column, a type GX cannot compare) is reported as ``could not run``: an error, never a pass;
so is a reduced frame on which GX and DuckDB disagree about which rows are unexpected.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from pipelines.lib.raw_schema import LINEAGE_COLUMNS, RAW_SCHEMA, TABLES, Column, RawTable
from pipelines.lib.sql import quote_identifier, quote_literal

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
# A reduced frame longer than this is read from DuckDB and validated in chunks of about this many
# rows, so memory stays bounded whatever a broken table holds.
CHUNK_ROWS = 100_000
# The columns of a reduced frame besides the values: how many of the table's rows a frame row
# stands for, and whether DuckDB finds those rows unexpected.
ROWS = "_rows"
DUCKDB_UNEXPECTED = "_duckdb_unexpected"
# The view of a keyed table whose keys must be unique within a file.
DISTINCT_ROWS = "distinct rows per file"


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
class Expect:
    """A GX expectation, by the name of its class in ``great_expectations.expectations`` and its
    arguments: made into GX's object where GX runs."""

    name: str
    kwargs: Mapping[str, object] = field(default_factory=dict)


def expect(name: str, **kwargs: object) -> Expect:
    return Expect(name, kwargs)


@dataclass(frozen=True)
class FrameResult:
    """GX's verdict on one frame for one expectation, and the positions of the rows it flagged
    (asked for on a reduced frame only, to add up their weights)."""

    outcome: ExpectationOutcome
    flagged: tuple[int, ...] = ()


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


Frames = Callable[[], Iterable[pd.DataFrame]]


@dataclass(frozen=True)
class Batch:
    """A frame and the expectations that run on it.

    ``frame`` is a DataFrame, or a function that yields one in chunks (read from DuckDB only when
    the batch runs): the expectations' results on the chunks are added up, which is exact for the
    expectations given chunks, because each flags rows one at a time or, for uniqueness, a chunk
    holds every row of the keys it holds.

    A reduced frame stands for more rows than it has:

    - ``weights`` names a column with how many of the table's rows each frame row stands for (its
      value, or its class of values that GX judges alike): the unexpected count is the sum of the
      weights of the rows GX flags, the element count the sum of all weights. Such a frame also
      carries ``DUCKDB_UNEXPECTED``, DuckDB's own verdict on each row; where GX disagrees with it,
      the frame did not keep the expectation's meaning and the expectation is reported as could
      not run rather than with a count that may be wrong;
    - ``element_count`` replaces GX's own when the frame holds only the rows that can fail (the
      rows of repeated keys, for uniqueness);
    - ``observed`` is a table-level count the frame holds as its one value (the row count), shown
      instead of the one-row frame's counts.
    """

    name: str
    frame: pd.DataFrame | Frames
    expectations: Sequence[Expect]
    weights: str | None = None
    element_count: int | None = None
    observed: int | None = None


def raw_table_batches(
    con,
    table: RawTable,
    *,
    as_of: dt.date,
    previous_rows: int | None = None,
    rows_read: int = 0,
    rows_quarantined: int = 0,
    file_accounts: pd.DataFrame | None = None,
) -> list[Batch]:
    """The suite of one raw table: its contract's expectations on frames DuckDB derives from it.

    ``file_accounts`` has one row per landing file with the differences of ``FILE_ACCOUNTS``
    (see ``read_file_accounts``); each must be 0.
    """
    present = table_columns(con, table)
    latest_event = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.max)
    latest_plan = dt.datetime.combine(
        as_of.replace(year=as_of.year + PLANNING_HORIZON_YEARS, day=min(as_of.day, 28)),
        dt.time.max,
    )
    batches: list[Batch] = []
    for column in table.columns:
        if column.required:
            batches.append(_not_null_batch(con, table, column, present))
        if column.type in ("TIMESTAMP", "DATE"):
            latest = latest_plan if (table.name, column.name) in PLANNED_DATES else latest_event
            batches.append(
                _between_batch(con, table, column.name, present, EARLIEST_PLAUSIBLE, latest)
            )
        allowed = ALLOWED_VALUES.get((table.name, column.name))
        if allowed:
            batches.append(_in_set_batch(con, table, column.name, present, allowed))
        bounds = VALUE_RANGES.get((table.name, column.name))
        if bounds:
            batches.append(_between_batch(con, table, column.name, present, *bounds))
    if previous_rows:
        batches.append(_row_count_batch(con, table, previous_rows))
    if table.key:
        batches.append(_conflicting_keys_batch(con, table, present))
    if table.name == "kpi_observations" and {"kpi_id", "unit"} <= set(present):
        batches.append(_units_per_kpi_batch(con, table))
    if rows_read:
        batches.append(
            Batch(
                f"{table.name}: load log",
                pd.DataFrame({"quarantined_share": [rows_quarantined / rows_read]}),
                [
                    expect(
                        "ExpectColumnValuesToBeBetween",
                        column="quarantined_share",
                        min_value=0,
                        max_value=MAX_QUARANTINED_SHARE,
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
                    expect("ExpectColumnValuesToBeBetween", column=column, min_value=0, max_value=0)
                    for column in FILE_ACCOUNTS
                ],
            )
        )
    return batches


def table_columns(con, table: RawTable) -> list[str]:
    """The columns ``table`` has in the database, which a broken load may not match."""
    return [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = ? and table_name = ? order by column_index",
            [RAW_SCHEMA, table.name],
        ).fetchall()
    ]


def _not_null_batch(con, table: RawTable, column: Column, present: Sequence[str]) -> Batch:
    """Not null, on one row per kind of value: null, and any value that is not (with its rows).

    GX counts NaN as null, DuckDB does not: a floating column also separates NaN.
    """
    expectation = expect("ExpectColumnValuesToNotBeNull", column=column.name)
    if column.name not in present:
        return _missing_column_batch(table, expectation, present)
    name = quote_identifier(column.name)
    missing = f"{name} is null"
    if column.type in ("DOUBLE", "FLOAT", "REAL"):
        missing = f"({missing} or isnan({name}))"
    sql = (
        f"select any_value({name}) as {name}, {missing} as {DUCKDB_UNEXPECTED}, "
        f"count(*) as {ROWS} from {table.qualified_name} group by {missing}"
    )
    return Batch(table.name, _chunks_of(con, sql), [expectation], weights=ROWS)


def _between_batch(
    con,
    table: RawTable,
    column: str,
    present: Sequence[str],
    low: object | None,
    high: object | None,
) -> Batch:
    """Between ``low`` and ``high``, on the values outside them (each distinct value with its
    rows), the nulls, and the least and greatest value within them.

    A value between the least and the greatest within is within as well, so the two stand for all
    of them: one carries their rows, the other none.
    """
    expectation = expect(
        "ExpectColumnValuesToBeBetween", column=column, min_value=low, max_value=high
    )
    if column not in present:
        return _missing_column_batch(table, expectation, present)
    name = quote_identifier(column)
    outside = " or ".join(
        condition
        for condition in (
            None if low is None else f"{name} < {_literal(low)}",
            None if high is None else f"{name} > {_literal(high)}",
        )
        if condition
    )
    unexpected = f"coalesce({outside}, false)"
    sql = f"""
        select {name}, {unexpected} as {DUCKDB_UNEXPECTED}, count(*) as {ROWS}
        from {table.qualified_name}
        where {name} is null or {unexpected}
        group by all
        union all
        select min({name}), false, count(*) from {table.qualified_name}
        where {name} is not null and not {unexpected} having count(*) > 0
        union all
        select max({name}), false, 0 from {table.qualified_name}
        where {name} is not null and not {unexpected} having count(*) > 0
    """
    return Batch(table.name, _chunks_of(con, sql), [expectation], weights=ROWS)


def _in_set_batch(
    con, table: RawTable, column: str, present: Sequence[str], allowed: Sequence[str]
) -> Batch:
    """In the set, on the column's distinct values with their rows: a closed vocabulary has few."""
    expectation = expect("ExpectColumnValuesToBeInSet", column=column, value_set=list(allowed))
    if column not in present:
        return _missing_column_batch(table, expectation, present)
    name = quote_identifier(column)
    values = ", ".join(_literal(value) for value in allowed)
    sql = (
        f"select {name}, coalesce({name} not in ({values}), false) as {DUCKDB_UNEXPECTED}, "
        f"count(*) as {ROWS} from {table.qualified_name} group by all"
    )
    return Batch(table.name, _chunks_of(con, sql), [expectation], weights=ROWS)


def _row_count_batch(con, table: RawTable, previous_rows: int) -> Batch:
    """The volume bound on the row count DuckDB counts: a frame of the table's rows would grow
    with the table only for GX to count them."""
    (rows,) = con.execute(f"select count(*) from {table.qualified_name}").fetchone()
    return Batch(
        f"{table.name}: row count",
        pd.DataFrame({"rows": [rows]}),
        [
            expect(
                "ExpectColumnValuesToBeBetween",
                column="rows",
                min_value=math.ceil(previous_rows * VOLUME_FLOOR),
                max_value=math.floor(previous_rows * VOLUME_CEILING),
            )
        ],
        observed=int(rows),
    )


def _conflicting_keys_batch(con, table: RawTable, present: Sequence[str]) -> Batch:
    """A key unique among the distinct rows of one file, on the distinct rows whose key repeats.

    Rows of a key that occurs once can never be unexpected, so only the others are read; the
    element count is still that of all distinct rows.
    """
    keyed = [*table.key, "_source_file"]
    expectation = expect("ExpectCompoundColumnsToBeUnique", column_list=keyed)
    if not set(keyed) <= set(present):  # the unrunnable expectation then says which is missing
        return _missing_column_batch(table, expectation, present, name_suffix=DISTINCT_ROWS)
    content = [c for c in present if c not in LINEAGE_NAMES]
    return _repeated_keys_batch(
        con,
        f"{table.name}: {DISTINCT_ROWS}",
        table.qualified_name,
        [*content, "_source_file"],
        keyed,
        expectation,
    )


def _units_per_kpi_batch(con, table: RawTable) -> Batch:
    """One unit per KPI: its distinct (KPI, unit) pairs are unique on the KPI."""
    return _repeated_keys_batch(
        con,
        "kpi_observations: units per KPI",
        f"(select * from {table.qualified_name} where kpi_id is not null and unit is not null)",
        ["kpi_id", "unit"],
        ["kpi_id"],
        expect("ExpectColumnValuesToBeUnique", column="kpi_id"),
    )


def _repeated_keys_batch(
    con,
    name: str,
    rows: str,
    columns: Sequence[str],
    key: Sequence[str],
    expectation: Expect,
) -> Batch:
    """Uniqueness of ``key`` among the distinct ``columns`` of ``rows``, on the distinct rows
    whose key occurs more than once.

    Grouping rows by a hash of their key is much cheaper than making every row distinct: a key
    can only repeat among the distinct rows if its hash repeats among all rows, so only the rows
    of repeated hashes are made distinct (a hash two keys share costs time, never a count). Every
    other row is a key of its own, one distinct row. The rows of repeated keys are read in parts
    by a hash of the key, so a key's rows stay in one chunk.
    """
    key_hash = f"hash({_columns(key)})"
    candidates = f"""
        with repeated_hashes as materialized (
            select {key_hash} as key_hash, count(*) as n from {rows} group by all
            having count(*) > 1
        ),
        candidates as (
            select distinct {_columns(columns)} from {rows}
            where {key_hash} in (select key_hash from repeated_hashes)
        )
    """
    distinct_rows, repeated = con.execute(
        f"""
        {candidates},
        per_key as (select count(*) as n from candidates group by {_columns(key)})
        select
            (select count(*) from {rows})
                - (select coalesce(sum(n), 0) from repeated_hashes)
                + (select count(*) from candidates),
            (select coalesce(sum(n), 0) from per_key where n > 1)
        """
    ).fetchone()
    if not repeated:
        return Batch(
            name, pd.DataFrame(columns=list(key)), [expectation], element_count=int(distinct_rows)
        )
    parts = math.ceil(repeated / CHUNK_ROWS)

    def chunks() -> Iterator[pd.DataFrame]:
        # as text, like the distinct rows always were: GX skips a row whose key values are all
        # missing, and a null key is as much a key as any other
        for part in range(parts):
            frame = con.execute(
                f"""
                {candidates}
                select {_columns(key)} from candidates
                where {key_hash} % {parts} = {part}
                qualify count(*) over (partition by {_columns(key)}) > 1
                """
            ).df()
            yield frame.astype(str)

    return Batch(name, chunks, [expectation], element_count=int(distinct_rows))


def _missing_column_batch(
    table: RawTable,
    expectation: Expect,
    present: Sequence[str],
    name_suffix: str | None = None,
) -> Batch:
    """An empty frame of the columns the table has, so GX reports the missing one as an error."""
    name = table.name if name_suffix is None else f"{table.name}: {name_suffix}"
    return Batch(name, pd.DataFrame(columns=list(present)), [expectation])


def _chunks_of(con, sql: str) -> Frames:
    """The result of ``sql`` in chunks of about ``CHUNK_ROWS`` rows, read when the batch runs.

    The first chunk is yielded even when empty: an expectation on no rows still has a result.
    """

    def chunks() -> Iterator[pd.DataFrame]:
        result = con.execute(sql)
        vectors = max(1, CHUNK_ROWS // 2048)  # DuckDB hands results over 2,048 rows at a time
        chunk = result.fetch_df_chunk(vectors)
        yield chunk
        while True:
            chunk = result.fetch_df_chunk(vectors)
            if chunk.empty:
                return
            yield chunk

    return chunks


def _columns(names: Iterable[str]) -> str:
    return ", ".join(quote_identifier(name) for name in names)


def _literal(value: object) -> str:
    """A bound of the suite as SQL: our own constants, never data."""
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(str(value))


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
    """Run every batch's expectations through GX (``pipelines.lib.gx_worker``); counts out,
    values never."""
    outcomes: list[ExpectationOutcome] = []
    for batch in batches:
        outcomes.extend(_batch_outcomes(batch))
    return SuiteResult(table=table, outcomes=tuple(outcomes))


def _batch_outcomes(batch: Batch) -> list[ExpectationOutcome]:
    """The expectations' outcomes on every chunk of the batch's frame, added up per
    expectation."""
    from pipelines.lib.gx_worker import validate_frame

    totals: list[ExpectationOutcome | None] = [None] * len(batch.expectations)
    for chunk in _frames(batch.frame):
        # a weighted frame needs the positions of the unexpected rows to add up their weights
        results = validate_frame(
            batch.name, chunk, batch.expectations, complete=batch.weights is not None
        )
        for position, result in enumerate(results):
            outcome = result.outcome
            if batch.weights and not outcome.could_not_run:
                outcome = _weighted(outcome, chunk, result.flagged, batch.weights)
            totals[position] = _added(totals[position], outcome)
    return [_as_batch_counts(outcome, batch) for outcome in totals if outcome is not None]


def _frames(frame: pd.DataFrame | Frames) -> Iterator[pd.DataFrame]:
    if isinstance(frame, pd.DataFrame):
        yield frame
        return
    for chunk in frame():
        # GX reports unexpected rows by index label: a fresh index makes them positions
        yield chunk.reset_index(drop=True)


def _weighted(
    outcome: ExpectationOutcome, chunk: pd.DataFrame, flagged: Sequence[int], weights: str
) -> ExpectationOutcome:
    """The outcome in the table's rows: the weights of the rows GX flagged, of all weights.

    Could not run when GX flagged other rows than DuckDB found unexpected: the reduction would
    then not have kept the expectation's meaning.
    """
    flagged = sorted(flagged)
    expected = sorted(chunk.index[chunk[DUCKDB_UNEXPECTED].fillna(False).astype(bool)])
    if flagged != expected:
        return replace(
            outcome,
            success=False,
            element_count=None,
            unexpected_count=None,
            error=(
                f"Great Expectations flagged {len(flagged)} and DuckDB {len(expected)} of "
                f"{len(chunk)} reduced rows"
            ),
        )
    return replace(
        outcome,
        element_count=int(chunk[weights].sum()),
        unexpected_count=int(chunk[weights].iloc[flagged].sum()),
    )


def _added(total: ExpectationOutcome | None, chunk: ExpectationOutcome) -> ExpectationOutcome:
    """Two chunks' outcomes of one expectation as one: any error wins, counts add up."""
    if total is None or total.could_not_run:
        return total or chunk
    if chunk.could_not_run:
        return chunk
    return replace(
        total,
        success=total.success and chunk.success,
        element_count=_sum(total.element_count, chunk.element_count),
        unexpected_count=_sum(total.unexpected_count, chunk.unexpected_count),
    )


def _as_batch_counts(outcome: ExpectationOutcome, batch: Batch) -> ExpectationOutcome:
    """The counts the batch stands for, where its frame holds only part of them."""
    if outcome.could_not_run:
        return outcome
    if batch.observed is not None:
        return replace(outcome, element_count=None, unexpected_count=None, observed=batch.observed)
    if batch.element_count is not None:
        return replace(outcome, element_count=batch.element_count)
    return outcome


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def validate_raw_table(
    con,
    table_name: str,
    *,
    as_of: dt.date,
    previous_rows: int | None = None,
) -> SuiteResult:
    """Validate ``raw.<table_name>`` and its load-log totals, read from ``con`` as the suite runs.

    The batches read ``con`` lazily, so it stays open until ``validate`` returns.
    """
    table = TABLES[table_name]
    rows_read, rows_quarantined = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0) "
        "from raw.load_log where table_name = ?",
        [table_name],
    ).fetchone()
    return validate(
        table_name,
        raw_table_batches(
            con,
            table,
            as_of=as_of,
            previous_rows=previous_rows,
            rows_read=int(rows_read),
            rows_quarantined=int(rows_quarantined),
            file_accounts=read_file_accounts(con, table),
        ),
    )


def _cell(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
