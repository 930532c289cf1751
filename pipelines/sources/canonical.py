"""Canonical CSV and Parquet files → the raw tables, bulk-loaded through DuckDB's readers.

One file at a time, no per-row Python:

1. **Header first.** The header (CSV: its first line; Parquet: its schema) is matched to the
   table's contract by name, trimmed and case-insensitive, in any order. A missing required column
   rejects the file before anything is read or staged; extra columns are kept as a JSON object in
   ``_extra`` with a warning naming the file and the columns.
2. **Read.** ``read_csv(all varchar, store_rejects)`` with the dialect fixed (comma, double quote,
   header) instead of sniffed, so a small or odd file is never misread; structurally broken rows
   (too many or too few fields, invalid UTF-8) land in DuckDB's rejects table with their line and
   raw text. Parquet goes through ``read_parquet``. Columns are read under positional names
   (``c0``, ``c1``, ...), so no name taken from a file is ever written into SQL.
3. **Validate in SQL.** Required values present; timestamps ISO 8601 with an offset or ``Z``
   (without one: UTC), stored as naive UTC; dates ``YYYY-MM-DD``; numbers finite; integers whole;
   the contract's enums (``dimension``, ``area``, ``aggregation``, ``direction``, ``found_in``,
   compared trimmed and lower-cased, stored lower-case); ``score`` within 1..5 and ``cadence_days``
   at least 1. A failing row is quarantined with every reason (``unparseable created_at:
   '2025-13-01'``), its row number and its raw text; good rows are staged with casts, by name.
4. **Pseudonymise** ``assignee``, ``author`` and ``respondent`` through a table of the file's
   distinct identities (each hashed once) before any row is staged; e-mail addresses in any other
   text (titles, ``_extra``, quarantined raw text) are masked.

Row numbers: ``_source_row`` is the data row (the header is row 0) and the quarantine's ``line``
is ``_source_row + 1``, the physical line of the file; blank lines are skipped but counted. Both are
exact unless a quoted field spans several lines (or the file is not valid UTF-8): then they count
records instead of physical lines, and the file gets a warning saying so. Labels are
``;``-separated in CSV and a list in Parquet. For Parquet, ``line`` is empty and the raw text of a
quarantined row is its values as a JSON object.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.lib.landing import LandingFile
from pipelines.lib.pseudonymize import mask_emails, mask_emails_sql, pseudonymize
from pipelines.lib.raw_schema import Column, RawTable
from pipelines.sources import (
    SOURCE_CANONICAL,
    STAGED_QUARANTINE,
    FileRejectedError,
    TableLoad,
    staged_table,
)

CANONICAL_PATTERNS = ("*.csv", "*.parquet")

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("tasks", "found_in"): ("production", "pre_release"),
    ("kpis", "area"): ("flow", "quality", "adoption", "business", "confidence"),
    ("kpis", "aggregation"): ("last", "avg", "sum"),
    ("kpis", "direction"): ("increase", "decrease"),
    ("confidence_surveys", "dimension"): ("readiness", "ownership"),
}
RANGES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("confidence_surveys", "score"): (1, 5),
    ("kpis", "cadence_days"): (1, None),
}
PSEUDONYMISED: dict[str, str] = {
    "tasks": "assignee",
    "task_status_changes": "author",
    "confidence_surveys": "respondent",
}

TIMESTAMP_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
    r" ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
INTEGER_PATTERN = r"[+-]?[0-9]+(\.0+)?"
HEADER_MAX_BYTES = 1 << 20
MALFORMED_REASON = "'malformed CSV row: ' || e.problems"
# DuckDB logs one error per missing or surplus field; its column index tells how many fields the
# row really has (its messages do not), so the reason is written here.
MALFORMED_PROBLEM = """
    case error_type
        when 'TOO MANY COLUMNS'
            then 'too many fields: expected ' || $column_count || ', found ' || max(column_idx)
        when 'MISSING COLUMNS'
            then 'too few fields: expected ' || $column_count || ', found ' || min(column_idx)
        else lower(cast(error_type as varchar)) || ': ' || min(error_message)
    end
"""

# Temporary tables of the file being staged (dropped after each file).
ROWS = "owh_canonical_rows"
LINES = "owh_canonical_lines"
NUMBERS = "owh_canonical_numbers"
PSEUDONYMS = "owh_canonical_pseudonyms"
CHECKED = "owh_canonical_checked"
REJECT_ERRORS = "owh_canonical_reject_errors"
REJECT_SCANS = "owh_canonical_reject_scans"
SCRATCH_TABLES = (ROWS, LINES, NUMBERS, PSEUDONYMS, CHECKED, REJECT_ERRORS, REJECT_SCANS)


@dataclass(frozen=True)
class Header:
    """A file's columns matched to a table's contract."""

    names: list[str]  # as written in the file, in file order
    positions: dict[str, int]  # contract column -> position in the file
    extras: list[int]  # positions of the columns beyond the contract
    list_positions: frozenset[int] = frozenset()  # Parquet list columns (labels)


def stage_canonical_file(
    con,
    file: LandingFile,
    table: RawTable,
    *,
    run_id: str,
    loaded_at: dt.datetime,
    pseudonym_key: bytes,
) -> TableLoad:
    """Validate one canonical file and stage its rows and quarantine rows (see module doc)."""
    is_csv = file.path.suffix.lower() == ".csv"
    names, types = _csv_header(file) if is_csv else _parquet_header(con, file)
    header = match_header(names, table, types)
    try:
        if is_csv:
            _read_csv(con, file, len(names))
        else:
            _read_parquet(con, file, len(names))
        _stage_pseudonyms(con, table, header, pseudonym_key)
        _check_rows(con, table, header)
        exact_lines = _number_csv_rows(con, file) if is_csv else _number_parquet_rows(con)
        params = {"source_file": file.relative_path, "loaded_at": loaded_at}
        loaded, invalid = _stage_checked_rows(con, table, header, params, run_id)
        malformed = (
            _stage_malformed_rows(con, table, header, params, run_id, exact_lines) if is_csv else 0
        )
    finally:
        for scratch in SCRATCH_TABLES:
            con.execute(f"drop table if exists temp.{scratch}")
    return _table_load(file, table, header, loaded, invalid + malformed, exact_lines)


def match_header(names: list[str], table: RawTable, types: list[str] | None = None) -> Header:
    """Match file columns to the contract by trimmed, lower-cased name; reject a bad header."""
    normalised = [name.strip().lower() for name in names]
    duplicates = sorted({n for n in normalised if normalised.count(n) > 1})
    if duplicates:
        raise FileRejectedError(
            f"duplicate columns in the header: {', '.join(duplicates)}", raw_text=",".join(names)
        )
    missing = [name for name in table.required if name not in normalised]
    if missing:
        raise FileRejectedError(
            f"missing required columns: {', '.join(missing)} "
            f"(the file has: {', '.join(names) or 'no columns'})",
            raw_text=",".join(names),
            line=1,
        )
    contract = set(table.column_names)
    return Header(
        names=[name if name.strip() else f"column_{i + 1}" for i, name in enumerate(names)],
        positions={
            name: normalised.index(name) for name in table.column_names if name in normalised
        },
        extras=[i for i, name in enumerate(normalised) if name not in contract],
        list_positions=frozenset(
            i for i, column_type in enumerate(types or []) if column_type.endswith("[]")
        ),
    )


def _csv_header(file: LandingFile) -> tuple[list[str], None]:
    with file.path.open("rb") as handle:
        first_line = handle.readline(HEADER_MAX_BYTES)
    if not first_line.strip():
        raise FileRejectedError("empty file: no header row", line=1)
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejectedError(
            "the header row is not UTF-8 text",
            raw_text=first_line.decode("utf-8", errors="replace"),
            line=1,
        ) from None
    return next(csv.reader([text.rstrip("\r\n")])), None


def _parquet_header(con, file: LandingFile) -> tuple[list[str], list[str]]:
    try:
        described = con.execute(
            "describe select * from read_parquet($path)", {"path": str(file.path)}
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejectedError(f"not a readable Parquet file: {_first_line(exc)}") from None
    return [row[0] for row in described], [row[1] for row in described]


def _read_csv(con, file: LandingFile, column_count: int) -> None:
    for scratch in (REJECT_ERRORS, REJECT_SCANS):
        con.execute(f"drop table if exists temp.{scratch}")
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(column_count))
    try:
        con.execute(
            f"create temp table {ROWS} as select * from read_csv($path, auto_detect = false, "
            f"header = true, delim = ',', quote = '\"', escape = '\"', columns = {{{columns}}}, "
            f"store_rejects = true, rejects_table = '{REJECT_ERRORS}', "
            f"rejects_scan = '{REJECT_SCANS}')",
            {"path": str(file.path)},
        )
    except duckdb.Error as exc:
        raise FileRejectedError(f"not a well-formed CSV file: {_first_line(exc)}") from None


def _read_parquet(con, file: LandingFile, column_count: int) -> None:
    columns = ", ".join(f"#{i + 1} as c{i}" for i in range(column_count))
    try:
        con.execute(
            f"create temp table {ROWS} as select {columns} from read_parquet($path)",
            {"path": str(file.path)},
        )
    except duckdb.Error as exc:
        raise FileRejectedError(f"not a readable Parquet file: {_first_line(exc)}") from None


def _number_csv_rows(con, file: LandingFile) -> bool:
    """Give each parsed row its data row number; True when they are exact physical lines.

    The parsed rows (in file order) are the file's non-blank lines after the header minus the
    lines DuckDB rejected. When the counts disagree, a quoted field spans lines and DuckDB's
    record numbers are used instead.
    """
    if _rows_are_lines(con, file):
        con.execute(
            f"create temp table {NUMBERS} as select rowid as owh_row_index, "
            "rowid + 1 as source_row, rowid + 2 as line, cast(null as varchar) as raw_text "
            f"from {ROWS}"
        )
        return True
    try:
        con.execute(
            f"create temp table {LINES} as "
            "select generate_subscripts(lines, 1) as line, "
            "rtrim(unnest(lines), chr(13)) as raw_text "
            "from (select string_split(content, chr(10)) as lines from read_text($path))",
            {"path": str(file.path)},
        )
    except duckdb.Error:  # not valid UTF-8: only DuckDB's record numbers are available
        return _number_csv_records(con)
    con.execute(
        f"create temp table {NUMBERS} as "
        "select row_number() over (order by line) - 1 as owh_row_index, "
        "line - 1 as source_row, line, raw_text "
        f"from {LINES} where line > 1 and raw_text <> '' "
        f"and line not in (select line from {REJECT_ERRORS})"
    )
    numbered, parsed = con.execute(
        f"select (select count(*) from {NUMBERS}), (select count(*) from {ROWS})"
    ).fetchone()
    if numbered == parsed:
        return True
    con.execute(f"drop table temp.{NUMBERS}")
    return _number_csv_records(con)


def _rows_are_lines(con, file: LandingFile) -> bool:
    """Whether the parsed rows are the lines after the header, one each, so that their numbers
    need not be looked up line by line: no blank line (but the end of the last one), as many
    lines as rows (a quoted field spanning lines adds one), no row rejected and no row
    quarantined (whose raw text would be its line)."""
    try:
        return con.execute(
            "select not regexp_matches(content, '\\n\\r*\\n|\\n\\r+$') "
            "and len(string_split(content, chr(10))) - 1 - suffix(content, chr(10))::int "
            f"= (select count(*) from {ROWS}) "
            f"and not exists (select 1 from {REJECT_ERRORS}) "
            f"and not exists (select 1 from {CHECKED} where owh_problems is not null) "
            "from read_text($path)",
            {"path": str(file.path)},
        ).fetchone()[0]
    except duckdb.Error:  # not valid UTF-8: numbered record by record
        return False


def _number_csv_records(con) -> bool:
    # DuckDB numbers rejected records by record; the parsed rows fill the numbers in between.
    con.execute(
        f"create temp table {NUMBERS} as "
        "with rejected as (select distinct line - 1 as data_row from "
        f"{REJECT_ERRORS}), "
        "candidates as (select range as data_row from range(1, "
        f"(select count(*) from {ROWS}) + (select count(*) from rejected) + 1) "
        "where data_row not in (select data_row from rejected)) "
        "select row_number() over (order by data_row) - 1 as owh_row_index, "
        "data_row as source_row, data_row + 1 as line, cast(null as varchar) as raw_text "
        "from candidates"
    )
    return False


def _number_parquet_rows(con) -> bool:
    con.execute(
        f"create temp table {NUMBERS} as select rowid as owh_row_index, rowid + 1 as source_row, "
        f"cast(null as bigint) as line, cast(null as varchar) as raw_text from {ROWS}"
    )
    return True


def _stage_pseudonyms(con, table: RawTable, header: Header, key: bytes) -> None:
    """A table from each distinct raw identity of the file to its pseudonym."""
    column = PSEUDONYMISED.get(table.name)
    if column not in header.positions:
        return
    position = header.positions[column]
    identities = [
        row[0]
        for row in con.execute(
            f"select distinct cast(c{position} as varchar) from {ROWS} "
            f"where c{position} is not null"
        ).fetchall()
    ]
    mapping = pd.DataFrame(
        {"identity": identities, "pseudonym": pseudonymize(identities, key)}, dtype=object
    )
    con.register("owh_canonical_identity_map", mapping)
    try:
        con.execute(
            f"create temp table {PSEUDONYMS} as select cast(identity as varchar) as identity, "
            "cast(pseudonym as varchar) as pseudonym from owh_canonical_identity_map"
        )
    finally:
        con.unregister("owh_canonical_identity_map")


def _check_rows(con, table: RawTable, header: Header) -> None:
    """Type every contract column and collect every row's reasons in one pass."""
    present = [c for c in table.columns if c.name in header.positions]
    pseudonymised = PSEUDONYMISED.get(table.name)
    texts = ["r.rowid as owh_row_index"]
    for column in present:
        source = f"r.c{header.positions[column.name]}"
        if header.positions[column.name] in header.list_positions:
            texts.append(f"cast({source} as varchar[]) as v_{column.name}")
        else:
            texts.append(f"nullif(trim(cast({source} as varchar)), '') as v_{column.name}")
    texts += [f"cast(r.c{i} as varchar) as e{i}" for i in header.extras]
    join = ""
    if pseudonymised in header.positions:
        texts.append("p.pseudonym")
        join = (
            f" left join {PSEUDONYMS} p "
            f"on p.identity = cast(r.c{header.positions[pseudonymised]} as varchar)"
        )
    typed = []
    reasons = []
    for column in present:
        is_list = header.positions[column.name] in header.list_positions
        value, column_reasons = _column_checks(table, column, is_list, pseudonymised)
        typed.append(f"{value} as x_{column.name}")
        reasons += column_reasons
    final = [f"x_{c.name} as {c.name}" for c in present]
    final.append(f"{_extra_json(header)} as _extra")
    final.append(f"nullif(concat_ws('; ', {', '.join(reasons) or 'null'}), '') as owh_problems")
    con.execute(
        f"create temp table {CHECKED} as "
        f"with texts as (select {', '.join(texts)} from {ROWS} r{join}), "
        f"typed as (select *, {', '.join(typed)} from texts) "
        f"select owh_row_index, {', '.join(final)} from typed",
        {f"extra_key_{i}": mask_emails(header.names[i]) for i in header.extras},
    )


def _column_checks(
    table: RawTable, column: Column, is_list: bool, pseudonymised: str | None
) -> tuple[str, list[str]]:
    """The typed value of one column and the reasons a row fails on it (SQL expressions)."""
    name, text = column.name, f"v_{column.name}"
    reasons = []
    if column.required:
        reasons.append(f"case when {text} is null then 'missing {name}' end")
    quoted_text = f"'''' || {text} || ''''"
    unparseable = f"'unparseable {name}: ' || {quoted_text}"
    if column.type == "VARCHAR[]":
        # A labels column that is present but empty means "no labels": [] rather than NULL.
        labels = f"coalesce({text}, [])" if is_list else f"string_split(coalesce({text}, ''), ';')"
        value = (
            f"list_filter(list_transform({labels}, label -> "
            f"{mask_emails_sql('trim(label)')}), label -> coalesce(label, '') <> '')"
        )
        return value, reasons
    if name == pseudonymised:
        value = "pseudonym"
    elif (table.name, name) in ENUMS:
        allowed = ENUMS[(table.name, name)]
        value = f"lower({text})"
        in_list = ", ".join(f"'{option}'" for option in allowed)
        reasons.append(
            f"case when {value} not in ({in_list}) then 'invalid {name}: ' || {quoted_text} "
            f"|| ' (expected one of {', '.join(allowed)})' end"
        )
    elif column.type == "VARCHAR":
        value = mask_emails_sql(text)
    elif column.type == "TIMESTAMP":
        value = (
            f"case when regexp_full_match({text}, '{TIMESTAMP_PATTERN}') "
            f"then timezone('UTC', try_cast({text} as timestamptz)) end"
        )
    elif column.type == "DATE":
        value = (
            f"case when regexp_full_match({text}, '{DATE_PATTERN}') "
            f"then try_cast({text} as date) end"
        )
    elif column.type == "DOUBLE":
        value = (
            f"case when isfinite(try_cast({text} as double)) then try_cast({text} as double) end"
        )
    elif column.type in ("INTEGER", "BIGINT"):
        value = (
            f"case when regexp_full_match({text}, '{INTEGER_PATTERN}') "
            f"then try_cast({text} as {column.type}) end"
        )
    elif column.type == "BOOLEAN":
        # true/false, yes/no, 1/0 in any case: what spreadsheets and exporters write
        value = (
            f"case when lower({text}) in ('true', 'yes', '1') then true "
            f"when lower({text}) in ('false', 'no', '0') then false end"
        )
    else:
        raise ValueError(f"no validation rule for {table.name}.{name} of type {column.type}")
    if column.type not in ("VARCHAR",):
        reasons.append(f"case when {text} is not null and x_{name} is null then {unparseable} end")
    if (table.name, name) in RANGES:
        low, high = RANGES[(table.name, name)]
        if high is None:
            failure, problem = f"x_{name} < {low}", f"{name} below {low}"
        else:
            failure = f"x_{name} not between {low} and {high}"
            problem = f"{name} out of range {low}..{high}"
        reasons.append(f"case when {failure} then '{problem}: ' || {quoted_text} end")
    return value, reasons


def _extra_json(header: Header) -> str:
    if not header.extras:
        return "cast(null as json)"
    pairs = ", ".join(f"$extra_key_{i}, {mask_emails_sql(f'e{i}')}" for i in header.extras)
    return f"json_object({pairs})"


def _stage_checked_rows(
    con, table: RawTable, header: Header, params: dict, run_id: str
) -> tuple[int, int]:
    """Stage the valid rows and quarantine the invalid ones; return (loaded, quarantined)."""
    columns = ", ".join(f"c.{c.name}" for c in table.columns if c.name in header.positions)
    con.execute(
        f"insert into {staged_table(table.name)} by name "
        f"select {columns}, c._extra, '{SOURCE_CANONICAL}' as _source, "
        "$source_file as _source_file, n.source_row as _source_row, $loaded_at as _loaded_at "
        f"from {CHECKED} c join {NUMBERS} n using (owh_row_index) where c.owh_problems is null "
        "order by n.source_row",
        params,
    )
    row_json = (
        "json_object("
        + ", ".join(f"$column_{i}, cast(r.c{i} as varchar)" for i in range(len(header.names)))
        + ")::varchar"
    )
    con.execute(
        f"insert into {STAGED_QUARANTINE} by name "
        f"select $run_id as run_id, $table_name as table_name, '{SOURCE_CANONICAL}' as source, "
        "$source_file as source_file, n.source_row, n.line, "
        f"{mask_emails_sql('c.owh_problems')} as reason, "
        f"{mask_emails_sql(f'coalesce(n.raw_text, {row_json})')} as raw_text, "
        "$loaded_at as quarantined_at "
        f"from {CHECKED} c join {NUMBERS} n using (owh_row_index) "
        f"join {ROWS} r on r.rowid = c.owh_row_index where c.owh_problems is not null "
        "order by n.source_row",
        {
            **params,
            "run_id": run_id,
            "table_name": table.name,
            **{f"column_{i}": mask_emails(name) for i, name in enumerate(header.names)},
        },
    )
    loaded, invalid = con.execute(
        "select count(*) filter (where owh_problems is null), "
        f"count(*) filter (where owh_problems is not null) from {CHECKED}"
    ).fetchone()
    return loaded, invalid


def _stage_malformed_rows(
    con, table: RawTable, header: Header, params: dict, run_id: str, exact_lines: bool
) -> int:
    """Quarantine the rows DuckDB's CSV reader rejected (too many or too few fields, ...)."""
    rejected = con.execute(f"select count(distinct line) from {REJECT_ERRORS}").fetchone()[0]
    if not rejected:  # then the lines were not split out (``_rows_are_lines``)
        return 0
    raw_text = "coalesce(l.raw_text, e.csv_line)" if exact_lines else "e.csv_line"
    lines_join = f"left join {LINES} l on l.line = e.line" if exact_lines else ""
    con.execute(
        f"insert into {STAGED_QUARANTINE} by name "
        f"select $run_id as run_id, $table_name as table_name, '{SOURCE_CANONICAL}' as source, "
        "$source_file as source_file, e.line - 1 as source_row, e.line, "
        f"{mask_emails_sql(MALFORMED_REASON)} as reason, "
        f"{mask_emails_sql(raw_text)} as raw_text, $loaded_at as quarantined_at "
        "from (select line, string_agg(problem, '; ' order by problem) as problems, "
        "trim(min(csv_line), chr(10) || chr(13)) as csv_line "
        f"from (select line, {MALFORMED_PROBLEM} as problem, min(csv_line) as csv_line "
        f"from {REJECT_ERRORS} group by line, error_type) group by line) e {lines_join} "
        "order by e.line",
        {
            **params,
            "run_id": run_id,
            "table_name": table.name,
            "column_count": len(header.names),
        },
    )
    return rejected


def _table_load(
    file: LandingFile,
    table: RawTable,
    header: Header,
    loaded: int,
    quarantined: int,
    exact_lines: bool,
) -> TableLoad:
    notes, warnings = [], []
    if quarantined:
        notes.append(f"{quarantined} row{'s' if quarantined != 1 else ''} quarantined")
    if header.extras:
        extra_names = ", ".join(header.names[i] for i in header.extras)
        notes.append(f"extra columns kept in _extra: {extra_names}")
        warnings.append(f"{file.relative_path}: extra columns kept in _extra: {extra_names}")
    if not exact_lines:
        warnings.append(
            f"{file.relative_path}: a quoted field spans lines or the file is not valid UTF-8, "
            "so row and line numbers count records rather than physical lines"
        )
    return TableLoad(
        table_name=table.name,
        rows_read=loaded + quarantined,
        rows_loaded=loaded,
        rows_quarantined=quarantined,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
