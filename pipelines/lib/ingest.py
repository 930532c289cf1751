"""Ingest the landing folder into the raw tables: what the Dagster assets and ``owh ingest`` call.

Three entry points, one per kind of landing data (task trackers, business definitions, impact
data). Each one:

1. lists its landing files (sorted; paths outside the landing folder are refused);
2. stages every file through its adapter into temporary tables: a file whose bytes equal a file
   already staged for the same table is logged ``duplicate_file`` and not read again; a file with
   a whole-file problem is logged ``rejected`` with one quarantine row naming the problem;
3. in **one transaction**, replaces the content of its raw tables with the staged rows, and
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.lib.landing import (
    LandingFile,
    landing_root,
    list_landing_files,
    unknown_folders,
    unmatched_entries,
)
from pipelines.lib.pseudonymize import mask_emails
from pipelines.lib.raw_schema import (
    DEFINITION_TABLES,
    IMPACT_TABLES,
    RAW_SCHEMA,
    TABLES,
    TASK_TABLES,
    create_raw_schema,
)
from pipelines.sources import (
    SOURCE_CANONICAL,
    SOURCE_JIRA,
    STAGED_QUARANTINE,
    FileRejectedError,
    TableLoad,
    create_staging_tables,
    drop_staging_tables,
    staged_table,
)
from pipelines.sources.canonical import CANONICAL_PATTERNS, stage_canonical_file
from pipelines.sources.jira import JiraStager

JIRA_FOLDER = "jira"
JIRA_PATTERNS = ("*.json",)
# Canonical files live in a folder named after their raw table.
KNOWN_FOLDERS = (JIRA_FOLDER, *TABLES)

STATUS_LOADED = "loaded"
STATUS_DUPLICATE = "duplicate_file"
STATUS_REJECTED = "rejected"


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
        include_jira=True,
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
    include_jira: bool = False,
    warnings: list[str] | None = None,
) -> IngestResult:
    warnings = list(warnings or [])
    create_raw_schema(con)
    jira = (
        JiraStager(con, run_id=run_id, loaded_at=loaded_at, pseudonym_key=pseudonym_key)
        if include_jira
        else None
    )
    # Every path is checked before any file is read: an unsafe path stops the load up front.
    jobs = list(_jobs(con, root, tables, jira, loaded_at, run_id, pseudonym_key))
    for folder, patterns in _folders(tables, include_jira):
        warnings += [
            f"{entry} is ignored: only {' and '.join(patterns)} files are read in {folder}/"
            for entry in unmatched_entries(root, folder, patterns)
        ]
    create_staging_tables(con, tables)
    try:
        files = _stage(con, jobs, warnings, run_id, loaded_at)
        if jira is not None:
            jira.flush()
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


def _folders(tables: tuple[str, ...], include_jira: bool) -> Iterator[tuple[str, tuple]]:
    if include_jira:
        yield JIRA_FOLDER, JIRA_PATTERNS
    for table in tables:
        yield table, CANONICAL_PATTERNS


def _jobs(
    con,
    root: Path,
    tables: tuple[str, ...],
    jira: JiraStager | None,
    loaded_at: dt.datetime,
    run_id: str,
    pseudonym_key: bytes,
) -> Iterator[_Job]:
    for folder, patterns in _folders(tables, include_jira=jira is not None):
        for file in list_landing_files(root, folder, patterns):
            if jira is not None and folder == JIRA_FOLDER:
                yield _Job(file, SOURCE_JIRA, TASK_TABLES, lambda file=file: jira.stage(file))
                continue
            table = TABLES[folder]
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


def _stage(
    con, jobs: list[_Job], warnings: list[str], run_id: str, loaded_at: dt.datetime
) -> list[FileLoad]:
    files: list[FileLoad] = []
    seen: dict[tuple[str, str], str] = {}  # (table, sha256) -> file that was staged
    for job in jobs:
        file = job.file
        first = seen.get((job.tables[0], file.sha256))
        if first is not None:
            message = f"same bytes as {first}; this copy is not read again"
            files += [_file_load(job, t, 0, 0, 0, STATUS_DUPLICATE, message) for t in job.tables]
            continue
        for table in job.tables:
            seen[(table, file.sha256)] = file.relative_path
        try:
            loads = job.stage()
        except FileRejectedError as rejection:
            message = f"{file.relative_path}: {rejection.problem}"
            warnings.append(f"{message}; the file is rejected, nothing of it is loaded")
            _stage_file_rejection(con, job, rejection, run_id, loaded_at)
            files += [
                _file_load(job, t, int(i == 0), 0, int(i == 0), STATUS_REJECTED, message)
                for i, t in enumerate(job.tables)
            ]
            continue
        for load in loads:
            warnings += load.warnings
            if load.rows_quarantined:
                count = load.rows_quarantined
                warnings.append(
                    f"{file.relative_path}: {count} record{'s' if count != 1 else ''} for "
                    f"{load.table_name} quarantined (see {RAW_SCHEMA}.quarantine)"
                )
            files.append(
                _file_load(
                    job,
                    load.table_name,
                    load.rows_read,
                    load.rows_loaded,
                    load.rows_quarantined,
                    STATUS_LOADED,
                    "; ".join(load.notes) or None,
                )
            )
    return files


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
