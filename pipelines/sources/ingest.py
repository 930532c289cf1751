"""Ingest the landing folder into the raw tables: what the Dagster assets and ``owh ingest`` call.

It runs the adapters of this package (the tracker stagers registered in ``TRACKER_STAGERS``, the
canonical loader) and sits above ``pipelines.lib``, whose helpers it uses: lib imports nothing of
it.

Three entry points, one per kind of landing data (task trackers, business definitions, impact
data). Each one:

1. lists its landing files (sorted; paths outside the landing folder are refused);
2. stages every file through its adapter into temporary tables: a file whose bytes equal a file
   already staged for the same table is logged ``duplicate_file`` and not read again; a file with
   a whole-file problem is logged ``rejected`` with one quarantine row naming the problem;
3. moves the rows of a file that share a table's key but not its content (conflicting
   duplicates: nothing says which one is true) from the staged table to the quarantine, and
   counts them as quarantined in that file's load-log row;
4. in **one transaction**, replaces the content of its raw tables with the staged rows, and
   replaces those tables' rows in ``raw.load_log`` and ``raw.quarantine``. An exception rolls it
   all back, so a failed ingest leaves the tables as they were. (The raw schema itself is created
   beforehand when missing: idempotent DDL that the staging tables are modelled on.)

Calling a function twice gives the same table content: the build file holds what the landing
folder holds now (DECISIONS "Full reload"). The load log and the quarantine are replaced for the
function's tables whatever run wrote them, so they always describe the rows in the raw tables
(a re-executed Dagster run writes into its root run's build file under a new run id).

No e-mail address reaches a message or a warning: they are masked like the data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from pipelines.lib.landing import (
    LandingFile,
    landing_root,
    list_landing_files,
    list_tracker_files,
    unknown_folders,
    unmatched_entries,
)
from pipelines.lib.pseudonymize import mask_emails, mask_emails_sql
from pipelines.lib.raw_schema import (
    DEFINITION_TABLES,
    IMPACT_TABLES,
    RAW_SCHEMA,
    TABLES,
    TASK_TABLES,
    RawTable,
    create_raw_schema,
)
from pipelines.sources import (
    SOURCE_CANONICAL,
    STAGED_QUARANTINE,
    FileRejectedError,
    TableLoad,
    create_staging_tables,
    drop_staging_tables,
    staged_table,
)
from pipelines.sources.canonical import CANONICAL_PATTERNS, stage_canonical_file
from pipelines.sources.github import GitHubStager
from pipelines.sources.jira import JiraStager
from pipelines.sources.linear import LinearStager
from pipelines.sources.pages import PageStager

# Tracker folders: pages of a tracker's API, exported by hand (directly in the folder) or pulled
# by `owh extract` (in pull folders). Jira pages exported by hand are the only loose ones.
TRACKER_STAGERS: dict[str, type[PageStager]] = {
    "jira": JiraStager,
    "github": GitHubStager,
    "linear": LinearStager,
}
TRACKER_PATTERNS = {"jira": ("*.json",), "github": (), "linear": ()}
# Canonical files live in a folder named after their raw table.
KNOWN_FOLDERS = (*TRACKER_STAGERS, *TABLES)

STATUS_LOADED = "loaded"
STATUS_DUPLICATE = "duplicate_file"
STATUS_REJECTED = "rejected"

# Scratch table of the conflicting duplicates on their way from a staged table to the quarantine.
CONFLICTS = "owh_conflicting_duplicates"
# A conflicting duplicate's reason names at most this many of the lines holding other content.
LINES_NAMED = 5
# Lines for a CSV file, records (``_source_row``) for the others.
CONFLICT_REASON = """
    'conflicting duplicate: key (' || $key_columns || ') also '
    || case when line is null then 'in record' else 'on line' end
    || case when other_rows > 1 then 's ' else ' ' end
    || array_to_string(others, ', ')
    || case when other_rows > $named then ' and ' || (other_rows - $named) || ' more' else '' end
    || ' with other content'
"""
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class FileLoad:
    """One row of ``raw.load_log``: what one file gave one raw table."""

    table_name: str
    source: str
    source_file: str
    file_hash: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    status: str
    message: str | None


@dataclass(frozen=True)
class IngestResult:
    files: list[FileLoad]
    rows_loaded: dict[str, int]  # raw table -> rows loaded by this call
    rows_quarantined: dict[str, int]
    warnings: list[str]


def ingest_task_tracker(
    con, landing_dir: Path, *, run_id: str, loaded_at: dt.datetime, pseudonym_key: bytes
) -> IngestResult:
    """Jira pages and canonical task files → raw tasks, task_status_changes and task_flags."""
    root = landing_root(landing_dir)
    warnings = [
        f"landing folder {name}/ is not read by any adapter; its files are ignored "
        f"(known folders: {', '.join(KNOWN_FOLDERS)})"
        for name in unknown_folders(root, KNOWN_FOLDERS)
    ]
    return _ingest(
        con,
        root,
        TASK_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=pseudonym_key,
        include_trackers=True,
        warnings=warnings,
    )


def ingest_definitions(
    con, landing_dir: Path, *, run_id: str, loaded_at: dt.datetime
) -> IngestResult:
    """Business definitions → raw kpis, outcomes, workstreams and workstream_rules.

    These tables hold no person column, so no pseudonym key is needed; e-mail addresses in their
    text are masked like everywhere else.
    """
    return _ingest(
        con,
        landing_root(landing_dir),
        DEFINITION_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=b"",
    )


def ingest_impact(
    con, landing_dir: Path, *, run_id: str, loaded_at: dt.datetime, pseudonym_key: bytes
) -> IngestResult:
    """KPI observations and confidence surveys → raw kpi_observations and confidence_surveys."""
    return _ingest(
        con,
        landing_root(landing_dir),
        IMPACT_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=pseudonym_key,
    )


@dataclass(frozen=True)
class _Staged:
    """One load-log row as staging left it, and the warnings that come before its count."""

    load: FileLoad
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Job:
    """One landing file to stage, and the tables it feeds."""

    file: LandingFile
    source: str
    tables: tuple[str, ...]
    stage: Callable[[], list[TableLoad]]


def _ingest(
    con,
    root: Path,
    tables: tuple[str, ...],
    *,
    run_id: str,
    loaded_at: dt.datetime,
    pseudonym_key: bytes,
    include_trackers: bool = False,
    warnings: list[str] | None = None,
) -> IngestResult:
    warnings = list(warnings or [])
    create_raw_schema(con)
    stagers = (
        {
            folder: stager(con, run_id=run_id, loaded_at=loaded_at, pseudonym_key=pseudonym_key)
            for folder, stager in TRACKER_STAGERS.items()
        }
        if include_trackers
        else {}
    )
    # Every path is checked before any file is read: an unsafe path stops the load up front.
    jobs = list(_jobs(con, root, tables, stagers, loaded_at, run_id, pseudonym_key))
    for folder, patterns in _folders(tables, include_trackers):
        read = (
            f"{' and '.join(patterns)} files and pull folders"
            if patterns and folder in stagers
            else f"{' and '.join(patterns)} files"
            if patterns
            else f"pull folders of `owh extract {folder}`"
        )
        warnings += [
            f"{entry} is ignored: only {read} are read in {folder}/"
            for entry in unmatched_entries(root, folder, patterns)
        ]
    create_staging_tables(con, tables)
    try:
        staged = _stage(con, jobs, run_id, loaded_at)
        for stager in stagers.values():
            stager.flush()
        csv_files = [
            job.file.relative_path
            for job in jobs
            if job.source == SOURCE_CANONICAL and job.file.path.suffix.lower() == ".csv"
        ]
        conflicts = {
            (table, source_file): moved
            for table in tables
            for source_file, moved in _quarantine_conflicting_duplicates(
                con, TABLES[table], csv_files, run_id, loaded_at
            ).items()
        }
        files = _report(staged, conflicts, warnings)
        _publish(con, tables, files, loaded_at, run_id)
    finally:
        drop_staging_tables(con, tables)
    return IngestResult(
        files=files,
        rows_loaded={t: sum(f.rows_loaded for f in files if f.table_name == t) for t in tables},
        rows_quarantined={
            t: sum(f.rows_quarantined for f in files if f.table_name == t) for t in tables
        },
        warnings=[mask_emails(warning) for warning in warnings],
    )


def _folders(tables: tuple[str, ...], include_trackers: bool) -> Iterator[tuple[str, tuple]]:
    if include_trackers:
        yield from TRACKER_PATTERNS.items()
    for table in tables:
        yield table, CANONICAL_PATTERNS


def _jobs(
    con,
    root: Path,
    tables: tuple[str, ...],
    stagers: dict[str, PageStager],
    loaded_at: dt.datetime,
    run_id: str,
    pseudonym_key: bytes,
) -> Iterator[_Job]:
    for folder, patterns in _folders(tables, include_trackers=bool(stagers)):
        stager = stagers.get(folder)
        if stager is not None:
            for file in list_tracker_files(root, folder, patterns):
                yield _Job(
                    file, stager.source, TASK_TABLES, lambda file=file, s=stager: s.stage(file)
                )
            continue
        table = TABLES[folder]
        for file in list_landing_files(root, folder, patterns):
            yield _Job(
                file,
                SOURCE_CANONICAL,
                (folder,),
                lambda file=file, table=table: [
                    stage_canonical_file(
                        con,
                        file,
                        table,
                        run_id=run_id,
                        loaded_at=loaded_at,
                        pseudonym_key=pseudonym_key,
                    )
                ],
            )


def _stage(con, jobs: list[_Job], run_id: str, loaded_at: dt.datetime) -> list[_Staged]:
    """Stage every job's file; its load-log rows are final once conflicts are quarantined.

    A tracker page's rows reach the staging tables only when its stager flushes, so conflicting
    duplicates are looked for after every file is staged, and the counts are reported then.
    """
    staged: list[_Staged] = []
    seen: dict[tuple[str, str], str] = {}  # (table, sha256) -> file that was staged
    for job in jobs:
        file = job.file
        first = seen.get((job.tables[0], file.sha256))
        if first is not None:
            message = f"same bytes as {first}; this copy is not read again"
            staged += [
                _Staged(_file_load(job, t, 0, 0, 0, STATUS_DUPLICATE, message)) for t in job.tables
            ]
            continue
        for table in job.tables:
            seen[(table, file.sha256)] = file.relative_path
        try:
            loads = job.stage()
        except FileRejectedError as rejection:
            message = f"{file.relative_path}: {rejection.problem}"
            warning = f"{message}; the file is rejected, nothing of it is loaded"
            _stage_file_rejection(con, job, rejection, run_id, loaded_at)
            staged += [
                _Staged(
                    _file_load(job, t, int(i == 0), 0, int(i == 0), STATUS_REJECTED, message),
                    (warning,) if i == 0 else (),
                )
                for i, t in enumerate(job.tables)
            ]
            continue
        staged += [
            _Staged(
                _file_load(
                    job,
                    load.table_name,
                    load.rows_read,
                    load.rows_loaded,
                    load.rows_quarantined,
                    STATUS_LOADED,
                    "; ".join(load.notes) or None,
                ),
                load.warnings,
            )
            for load in loads
        ]
    return staged


def _quarantine_conflicting_duplicates(
    con, table: RawTable, csv_files: list[str], run_id: str, loaded_at: dt.datetime
) -> dict[str, int]:
    """Move the rows of a file whose key comes back with other content to the quarantine.

    Two rows of one file with one key and different content cannot both be true, and nothing
    says which one is, so every row of such a key is quarantined rather than one of them
    guessed. The same key with the same content (an exact duplicate) is not a conflict and
    stays loaded; the same key in another file is a correction that dbt resolves (the later
    file wins). Content is every contract column; the lineage columns and ``_extra`` are not,
    as in the GX check that guards the same rule afterwards. Rows are grouped and compared by
    ranking them, where NULLs are equal: an optional key column left empty (a KPI observation
    without a segment) is one value, and a row missing a required key column never reaches
    staging, it is already quarantined.

    A reason names the key's columns and the first ``LINES_NAMED`` positions holding other
    content: lines for a CSV file (``_source_row + 1``, as the canonical adapter numbers them),
    else records (``_source_row``: for Jira, the issue's position in the page, or the history's
    in its issue's changelog). They are picked from a short list per key (the first
    ``LINES_NAMED`` rows of each content, then the first ``2 * LINES_NAMED`` of those), which
    always holds them and stays small however often a broken export repeats one key.
    ``raw_text`` is the staged row as JSON, so its people are already pseudonymised and its
    e-mail addresses masked. Returns the rows moved per source file.
    """
    if not table.key:
        return {}
    staged = staged_table(table.name)
    keys = ", ".join(map(_identifier, table.key))
    content = ", ".join(map(_identifier, table.column_names))
    row_json = ", ".join(
        f"{_identifier(name)} := {_identifier(name)}" for name in (*table.column_names, "_extra")
    )
    group = "_source_file, key_group"
    con.execute(
        f"""
        create or replace temp table {CONFLICTS} as
        with repeated as (
            select rowid as staged_rowid, * from {staged}
            qualify count(*) over (partition by _source_file, {keys}) > 1
        ),
        ranked as (
            select staged_rowid, _source, _source_file, _source_row,
                case when list_contains($csv_files, _source_file) then _source_row + 1 end as line,
                to_json(struct_pack({row_json}))::varchar as raw_text,
                dense_rank() over (partition by _source_file order by {keys}) as key_group,
                dense_rank() over (partition by _source_file, {keys} order by {content})
                    as content_id
            from repeated
        ),
        counted as (
            select *, coalesce(line, _source_row) as place,
                max(content_id) over (partition by {group}) as contents,
                count(*) over (partition by {group})
                    - count(*) over (partition by {group}, content_id) as other_rows,
                row_number() over (partition by {group}, content_id order by _source_row) as nth
            from ranked
        ),
        conflicting as (select * from counted where contents > 1),
        candidates as (
            select {group},
                list(struct_pack(content_id := content_id, place := place) order by place)
                    as candidates
            from (
                select * from conflicting
                where nth <= $named
                qualify row_number() over (partition by {group} order by place) <= 2 * $named
            )
            group by {group}
        )
        select c.*,
            list_transform(
                list_filter(n.candidates, x -> x.content_id <> c.content_id)[1:$named],
                x -> x.place
            ) as others
        from conflicting c join candidates n using ({group})
        """,
        {"csv_files": csv_files, "named": LINES_NAMED},
    )
    try:
        con.execute(
            f"insert into {STAGED_QUARANTINE} by name "
            "select $run_id as run_id, $table_name as table_name, _source as source, "
            "_source_file as source_file, _source_row as source_row, line, "
            f"{mask_emails_sql(f'({CONFLICT_REASON})')} as reason, "
            f"{mask_emails_sql('raw_text')} as raw_text, $loaded_at as quarantined_at "
            f"from {CONFLICTS} order by _source_file, _source_row",
            {
                "run_id": run_id,
                "table_name": table.name,
                "key_columns": ", ".join(table.key),
                "named": LINES_NAMED,
                "loaded_at": loaded_at,
            },
        )
        con.execute(f"delete from {staged} where rowid in (select staged_rowid from {CONFLICTS})")
        moved = con.execute(f"select _source_file, count(*) from {CONFLICTS} group by 1")
        return dict(moved.fetchall())
    finally:
        con.execute(f"drop table if exists temp.{CONFLICTS}")


def _report(
    staged: list[_Staged], conflicts: dict[tuple[str, str], int], warnings: list[str]
) -> list[FileLoad]:
    """The load-log rows with conflicting duplicates counted as quarantined, warnings in order."""
    files: list[FileLoad] = []
    for entry in staged:
        load = entry.load
        moved = conflicts.get((load.table_name, load.source_file), 0)
        if moved:
            note = f"{moved} conflicting duplicate{'s' if moved != 1 else ''} quarantined"
            load = replace(
                load,
                rows_loaded=load.rows_loaded - moved,
                rows_quarantined=load.rows_quarantined + moved,
                message="; ".join(filter(None, (load.message, note))),
            )
        warnings += entry.warnings
        if load.status == STATUS_LOADED and load.rows_quarantined:
            count = load.rows_quarantined
            detail = f"{moved} as conflicting duplicates; " if moved else ""
            warnings.append(
                f"{load.source_file}: {count} record{'s' if count != 1 else ''} for "
                f"{load.table_name} quarantined ({detail}see {RAW_SCHEMA}.quarantine)"
            )
        files.append(load)
    return files


def _identifier(name: str) -> str:
    """A column name from ``raw_schema``, checked and quoted before it is written into SQL."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a raw column name: {name!r}")
    return f'"{name}"'


def _file_load(
    job: _Job,
    table_name: str,
    rows_read: int,
    rows_loaded: int,
    rows_quarantined: int,
    status: str,
    message: str | None,
) -> FileLoad:
    return FileLoad(
        table_name=table_name,
        source=job.source,
        source_file=job.file.relative_path,
        file_hash=job.file.sha256,
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        status=status,
        message=mask_emails(message),
    )


def _stage_file_rejection(
    con, job: _Job, rejection: FileRejectedError, run_id: str, loaded_at: dt.datetime
) -> None:
    """One quarantine row for a rejected file, on the first table it feeds."""
    con.execute(
        f"insert into {STAGED_QUARANTINE} by name select $run_id as run_id, "
        "$table_name as table_name, $source as source, $source_file as source_file, "
        "cast(null as bigint) as source_row, $line as line, $reason as reason, "
        "$raw_text as raw_text, $loaded_at as quarantined_at",
        {
            "run_id": run_id,
            "table_name": job.tables[0],
            "source": job.source,
            "source_file": job.file.relative_path,
            "line": rejection.line,
            "reason": mask_emails(f"file rejected: {rejection.problem}"),
            "raw_text": mask_emails(rejection.raw_text),
            "loaded_at": loaded_at,
        },
    )


def _publish(
    con, tables: tuple[str, ...], files: list[FileLoad], loaded_at: dt.datetime, run_id: str
) -> None:
    """Replace the raw tables and their load-log and quarantine rows with the staged ones."""
    table_list = {"tables": list(tables)}
    con.execute("begin transaction")
    try:
        for table in tables:
            con.execute(f"delete from {RAW_SCHEMA}.{table}")
            con.execute(
                f"insert into {RAW_SCHEMA}.{table} by name select * from {staged_table(table)}"
            )
        for log_table in ("load_log", "quarantine"):
            con.execute(
                f"delete from {RAW_SCHEMA}.{log_table} where list_contains($tables, table_name)",
                table_list,
            )
        con.execute(
            f"insert into {RAW_SCHEMA}.quarantine by name select * from {STAGED_QUARANTINE}"
        )
        _write_load_log(con, files, run_id, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _write_load_log(con, files: list[FileLoad], run_id: str, loaded_at: dt.datetime) -> None:
    log = pd.DataFrame([vars(f) for f in files], columns=list(FileLoad.__dataclass_fields__))
    con.register("owh_load_log_rows", log)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.load_log by name select $run_id as run_id, "
            "cast(table_name as varchar) as table_name, cast(source as varchar) as source, "
            "cast(source_file as varchar) as source_file, "
            "cast(file_hash as varchar) as file_hash, cast(rows_read as bigint) as rows_read, "
            "cast(rows_loaded as bigint) as rows_loaded, "
            "cast(rows_quarantined as bigint) as rows_quarantined, "
            "cast(status as varchar) as status, cast(message as varchar) as message, "
            "$loaded_at as loaded_at from owh_load_log_rows",
            {"run_id": run_id, "loaded_at": loaded_at},
        )
    finally:
        con.unregister("owh_load_log_rows")
