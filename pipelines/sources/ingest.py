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
   replaces those tables' rows in ``raw.load_log``, ``raw.quarantine``, ``raw.ingest_warnings``
   and its own in ``raw.ingest_state``. An exception rolls it all back, so a failed ingest leaves
   the tables as they were. (The raw schema itself is created beforehand when missing:
   idempotent DDL that the staging tables are modelled on.)

Incremental: given the published build (``previous_build``, attached read-only), step 2 does not
parse a file whose relative path and bytes equal those of a file that build loaded or rejected:
its load-log rows, quarantine rows, warnings and raw rows are taken from that build instead. The
raw rows stay where they are when the build file already holds them as the published build has
them (a build file started from the published one keeps its raw tables,
``pipelines.lib.carry_over``: same ingest state, same load-log rows), and are copied otherwise. A
raw row depends only on its own file (conflicts are looked for within a file; corrections across
files are resolved in dbt), on the pull manifest beside it, and on what ``ingest_fingerprints``
names: the pseudonym key, the ingestion code, the adapters' configuration, the raw schema. Those
are stored in ``raw.ingest_state``; when one of them differs from the published build's, every
file is parsed again, and a changed manifest has its pull folder's pages parsed again. A file
gone from the landing folder is simply not copied. So the result is the full reload's, row for
row, except the lineage of the copied rows (``_loaded_at``, the run id and time in the load log
and the quarantine), which names the run that parsed the file.

Calling a function twice gives the same table content: the build file holds what the landing
folder holds now (DECISIONS "Full reload", "Incremental ingestion"). The load log and the
quarantine are replaced for the function's tables whatever run wrote them, so they always
describe the rows in the raw tables (a re-executed Dagster run writes into its root run's build
file under a new run id).

No e-mail address reaches a message or a warning: they are masked like the data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import importlib.metadata
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.landing import (
    MANIFEST_NAME,
    LandingFile,
    file_sha256,
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
    raw_schema_ddl,
)
from pipelines.lib.sql import quote_literal
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
# A file the published build loaded or rejected gives the same rows and quarantine again; a
# duplicate is decided anew from the listing, so it is never reused.
REUSABLE_STATUSES = (STATUS_LOADED, STATUS_REJECTED)

# The ingests, named in raw.ingest_state: each keeps its own fingerprints.
INGEST_TASK_TRACKER = "task_tracker"
INGEST_DEFINITIONS = "definitions"
INGEST_IMPACT = "impact"

# The alias of the published build attached read-only; the scratch lists of the files reused
# whose rows are copied from it, and of those the build file holds already.
PREVIOUS_CATALOG = "owh_previous"
REUSED_FILES = "owh_reused_files"
KEPT_FILES = "owh_kept_files"

# What a raw row depends on besides its file and its pull manifest; a change to any of these
# makes the next run parse every file again. The ingestion code: the adapters, the orchestration,
# and the helpers they call (landing paths, pseudonyms and masking, the raw schema) ...
_PIPELINES = Path(__file__).resolve().parents[1]
INGEST_CODE = (
    *sorted((_PIPELINES / "sources").glob("*.py")),
    _PIPELINES / "lib" / "raw_schema.py",
    _PIPELINES / "lib" / "pseudonymize.py",
    _PIPELINES / "lib" / "landing.py",
)
# ... Python and the libraries that parse, cast and hash (their versions) ...
INGEST_LIBRARIES = ("duckdb", "pandas", "numpy", "pyarrow")
# ... and the configuration files the adapters read (GitHub's status labels).
ADAPTER_CONFIGURATION = (_PIPELINES.parent / "seeds" / "status_categories.csv",)
# The fingerprints every file depends on, and what a change of each is called in the run's log.
FINGERPRINT_NAMES = {
    "pseudonym_key": "the pseudonym key",
    "code": "the ingestion code",
    "configuration": "the adapters' configuration (seeds/status_categories.csv)",
    "raw_schema": "the raw schema",
}
MANIFEST_FINGERPRINT = "manifest "
# Binds the key's fingerprint to this use: the key itself is never stored.
KEY_FINGERPRINT_LABEL = b"outcome-warehouse ingest state"

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
    # The run that parsed the file and when, for a file whose rows were reused from the
    # published build; None for a file this run parsed (or found a duplicate of).
    run_id: str | None = None
    loaded_at: dt.datetime | None = None

    @property
    def reused(self) -> bool:
        return self.run_id is not None


@dataclass(frozen=True)
class IngestResult:
    files: list[FileLoad]
    rows_loaded: dict[str, int]  # raw table -> rows loaded by this call
    rows_quarantined: dict[str, int]
    warnings: list[str]
    # Why no file could be reused (nothing published, --full-refresh, a fingerprint changed);
    # None when every file unchanged since the published build was reused.
    full_reload_reason: str | None = None

    @property
    def files_reused(self) -> int:
        """Landing files whose rows were copied from the published build."""
        return len({f.source_file for f in self.files if f.reused})

    @property
    def rows_parsed(self) -> int:
        """Rows loaded from the files this call parsed, not reused."""
        return sum(f.rows_loaded for f in self.files if not f.reused)

    @property
    def files_parsed(self) -> int:
        """Landing files read through their adapter (duplicates are neither parsed nor reused)."""
        return len(
            {f.source_file for f in self.files if not f.reused and f.status != STATUS_DUPLICATE}
        )


@dataclass(frozen=True)
class PreviousBuild:
    """The published build whose rows a load may reuse, attached under ``catalog``; ``catalog``
    is None when nothing may be reused, and ``reason`` says why."""

    catalog: str | None
    reason: str | None = None


NO_PREVIOUS_BUILD = PreviousBuild(None, "no published warehouse was given")


@contextlib.contextmanager
def previous_build(
    con, serving_file: Path | None, *, full_refresh: bool = False
) -> Iterator[PreviousBuild]:
    """Attach the published warehouse read-only for the length of the block, to reuse its rows.

    ``con`` must be allowed to read ``serving_file`` (``connect(allowed_files=...)``). A
    published file that cannot be attached (an old format, a damaged file) only means a full
    reload: reuse saves time, it is never needed for a correct result. The file is only read;
    a publish that replaces it meanwhile leaves the attached version readable.
    """
    if full_refresh:
        yield PreviousBuild(None, "a full refresh was asked for")
        return
    if serving_file is None or not serving_file.is_file():
        yield PreviousBuild(None, "nothing is published yet")
        return
    try:
        con.execute(f"attach {quote_literal(str(serving_file))} as {PREVIOUS_CATALOG} (read_only)")
    except duckdb.Error as exc:
        yield PreviousBuild(None, f"the published warehouse cannot be read ({exc})")
        return
    try:
        yield PreviousBuild(PREVIOUS_CATALOG)
    finally:
        con.execute(f"detach {PREVIOUS_CATALOG}")


def ingest_fingerprints(pseudonym_key: bytes) -> dict[str, str]:
    """What every raw row depends on besides its file and its manifest, each as a digest.

    The key is fingerprinted with itself (an HMAC of a fixed label), so the stored value tells
    whether the key changed without giving anything to guess the key or a pseudonym from.
    """
    return {
        "pseudonym_key": hmac.new(pseudonym_key, KEY_FINGERPRINT_LABEL, hashlib.sha256).hexdigest(),
        "code": _code_fingerprint(),
        "configuration": _files_fingerprint(ADAPTER_CONFIGURATION),
        "raw_schema": _raw_schema_fingerprint(),
    }


def _raw_schema_fingerprint() -> str:
    return hashlib.sha256(raw_schema_ddl().encode()).hexdigest()


@functools.cache
def _code_fingerprint() -> str:
    """The ingestion code's files and the versions of the libraries it parses with, hashed
    once per process (the code of a running process does not change)."""
    versions = "\n".join(
        [f"python {sys.version}"]
        + [f"{lib} {importlib.metadata.version(lib)}" for lib in INGEST_LIBRARIES]
    )
    return hashlib.sha256((versions + "\n" + _files_fingerprint(INGEST_CODE)).encode()).hexdigest()


def _files_fingerprint(paths: tuple[Path, ...]) -> str:
    """One digest of files' names and bytes; a missing file counts as one (and differs)."""
    digest = hashlib.sha256()
    for path in paths:
        content = file_sha256(path) if path.is_file() else "missing"
        digest.update(f"{path.name} {content}\n".encode())
    return digest.hexdigest()


def ingest_task_tracker(
    con,
    landing_dir: Path,
    *,
    run_id: str,
    loaded_at: dt.datetime,
    pseudonym_key: bytes,
    previous: PreviousBuild = NO_PREVIOUS_BUILD,
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
        INGEST_TASK_TRACKER,
        TASK_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=pseudonym_key,
        previous=previous,
        include_trackers=True,
        warnings=warnings,
    )


def ingest_definitions(
    con,
    landing_dir: Path,
    *,
    run_id: str,
    loaded_at: dt.datetime,
    previous: PreviousBuild = NO_PREVIOUS_BUILD,
) -> IngestResult:
    """Business definitions → raw kpis, outcomes, workstreams and workstream_rules.

    These tables hold no person column, so no pseudonym key is needed; e-mail addresses in their
    text are masked like everywhere else.
    """
    return _ingest(
        con,
        landing_root(landing_dir),
        INGEST_DEFINITIONS,
        DEFINITION_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=b"",
        previous=previous,
    )


def ingest_impact(
    con,
    landing_dir: Path,
    *,
    run_id: str,
    loaded_at: dt.datetime,
    pseudonym_key: bytes,
    previous: PreviousBuild = NO_PREVIOUS_BUILD,
) -> IngestResult:
    """KPI observations and confidence surveys → raw kpi_observations and confidence_surveys."""
    return _ingest(
        con,
        landing_root(landing_dir),
        INGEST_IMPACT,
        IMPACT_TABLES,
        run_id=run_id,
        loaded_at=loaded_at,
        pseudonym_key=pseudonym_key,
        previous=previous,
    )


@dataclass(frozen=True)
class _Staged:
    """One load-log row as staging left it, and the warnings that come before its count.

    For a reused file (``load.reused``), the row and warnings are final: those the published
    build recorded once its conflicts were counted.
    """

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
    ingest: str,
    tables: tuple[str, ...],
    *,
    run_id: str,
    loaded_at: dt.datetime,
    pseudonym_key: bytes,
    previous: PreviousBuild,
    include_trackers: bool = False,
    warnings: list[str] | None = None,
) -> IngestResult:
    warnings = list(warnings or [])
    _drop_stale_raw_schema(con)
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
    warnings += _unmatched_warnings(root, tables, stagers)
    state = {**ingest_fingerprints(pseudonym_key), **_manifest_fingerprints(jobs)}
    reusable, full_reload_reason = _reusable_files(con, previous, ingest, tables, state, jobs)
    create_staging_tables(con, tables)
    try:
        staged = _stage(con, jobs, run_id, loaded_at, reusable)
        for stager in stagers.values():
            stager.flush()
        conflicts = _quarantine_conflicts(con, tables, jobs, run_id, loaded_at)
        kept = _files_held(con, ingest, tables, state, staged)
        copied = sorted(
            {entry.load.source_file for entry in staged if entry.load.reused} - set(kept)
        )
        if copied:
            _copy_reused_rows(con, previous, tables, copied)
        reported = _report(staged, conflicts)
        _publish(con, ingest, tables, reported, state, loaded_at, run_id, kept)
    finally:
        drop_staging_tables(con, tables)
    files = [entry.load for entry in reported]
    warnings += [warning for entry in reported for warning in entry.warnings]
    return IngestResult(
        files=files,
        rows_loaded={t: sum(f.rows_loaded for f in files if f.table_name == t) for t in tables},
        rows_quarantined={
            t: sum(f.rows_quarantined for f in files if f.table_name == t) for t in tables
        },
        warnings=[mask_emails(warning) for warning in warnings],
        full_reload_reason=full_reload_reason,
    )


def _drop_stale_raw_schema(con) -> None:
    """Drop the raw schema a build file holds when the raw schema of this code did not make it
    (a build file started from a published build of other ingestion code, or that records no
    ingest state): its tables may lack a column or have one too many. Every file is then
    parsed again anyway, its ingest state being another."""
    stored = con.execute(
        "select count(*) filter (where table_name = 'ingest_state'), count(*) "
        "from duckdb_tables() where database_name = current_database() and schema_name = $raw",
        {"raw": RAW_SCHEMA},
    ).fetchone()
    if stored[1] == 0:
        return
    fingerprints = set()
    if stored[0]:
        fingerprints = {
            row[0]
            for row in con.execute(
                f"select distinct fingerprint from {RAW_SCHEMA}.ingest_state "
                "where name = 'raw_schema'"
            ).fetchall()
        }
    if fingerprints != {_raw_schema_fingerprint()}:
        con.execute(f"drop schema {RAW_SCHEMA} cascade")


def _files_held(
    con, ingest: str, tables: tuple[str, ...], state: dict[str, str], staged: list[_Staged]
) -> list[str]:
    """The reused files whose raw rows the build file already holds as the published build has
    them: the fingerprints its ingest state records are this run's (every one in
    ``FINGERPRINT_NAMES``, and the file's pull manifest), and its load-log rows of the file (run
    and time of the parse included) and warnings equal those of the published build. Same code,
    same bytes, same parse: same rows, which stay where they are."""
    reused: dict[tuple[str, str], set[_Staged]] = {}
    for entry in staged:
        if entry.load.reused:
            reused.setdefault((entry.load.source_file, entry.load.file_hash), set()).add(entry)
    if not reused:
        return []
    catalog = con.execute("select current_database()").fetchone()[0]
    recorded = _previous_state(con, catalog, ingest) or {}
    if _changed_fingerprint(recorded, state):
        return []
    held = _previous_loads(con, catalog, tables)
    return sorted(
        source_file
        for (source_file, file_hash), entries in reused.items()
        if set(held.get((source_file, file_hash), ())) == entries
        and _same_manifest(recorded, state, source_file)
    )


def _unmatched_warnings(
    root: Path, tables: tuple[str, ...], stagers: dict[str, PageStager]
) -> list[str]:
    """A warning for every entry of a known folder that no adapter reads."""
    warnings = []
    for folder, patterns in _folders(tables, bool(stagers)):
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
    return warnings


def _quarantine_conflicts(
    con, tables: tuple[str, ...], jobs: list[_Job], run_id: str, loaded_at: dt.datetime
) -> dict[tuple[str, str], int]:
    """Conflicting duplicates of the staged files moved to the quarantine, per table and file."""
    csv_files = [
        job.file.relative_path
        for job in jobs
        if job.source == SOURCE_CANONICAL and job.file.path.suffix.lower() == ".csv"
    ]
    return {
        (table, source_file): moved
        for table in tables
        for source_file, moved in _quarantine_conflicting_duplicates(
            con, TABLES[table], csv_files, run_id, loaded_at
        ).items()
    }


def _manifest_fingerprints(jobs: list[_Job]) -> dict[str, str]:
    """The digest of the manifest of every pull folder listed: the adapters read a page with
    its manifest (Jira's custom field ids, a GitHub repository, a Linear team)."""
    fingerprints = {}
    for job in jobs:
        folder, _, _ = job.file.relative_path.rpartition("/")
        manifest = job.file.path.parent / MANIFEST_NAME
        if folder.count("/") >= 1 and manifest.is_file():
            fingerprints.setdefault(MANIFEST_FINGERPRINT + folder, file_sha256(manifest))
    return fingerprints


def _reusable_files(
    con,
    previous: PreviousBuild,
    ingest: str,
    tables: tuple[str, ...],
    state: dict[str, str],
    jobs: list[_Job],
) -> tuple[dict[tuple[str, str], list[_Staged]], str | None]:
    """The files whose rows may be copied from the published build, by (relative path, sha256),
    each with its final load-log rows and warnings; and why none may be, when none may.

    A file is reusable when the published build loaded or rejected the same path with the same
    bytes, for exactly the tables it feeds now, and its pull manifest (if any) is unchanged; and
    only when every fingerprint in ``FINGERPRINT_NAMES`` equals the published build's.
    """
    if previous.catalog is None:
        return {}, previous.reason
    before = _previous_state(con, previous.catalog, ingest)
    if before is None:
        return {}, "the published warehouse records no ingest state"
    changed = _changed_fingerprint(before, state)
    if changed:
        return {}, f"{changed} changed since the published build"
    loads = _previous_loads(con, previous.catalog, tables)
    reusable = {}
    for job in jobs:
        key = (job.file.relative_path, job.file.sha256)
        entries = loads.get(key, [])
        if (
            entries
            and all(entry.load.status in REUSABLE_STATUSES for entry in entries)
            and sorted(entry.load.table_name for entry in entries) == sorted(job.tables)
            and _same_manifest(before, state, job.file.relative_path)
        ):
            # in the order a parse gives them: the file's tables in the order it feeds them
            reusable[key] = sorted(entries, key=lambda e: job.tables.index(e.load.table_name))
    return reusable, None


def _changed_fingerprint(recorded: dict[str, str], state: dict[str, str]) -> str | None:
    """What the first fingerprint of ``FINGERPRINT_NAMES`` that differs between an ingest state
    recorded by a build and this run's is called; None when they are all equal."""
    for name, label in FINGERPRINT_NAMES.items():
        if recorded.get(name) != state[name]:
            return label
    return None


def _same_manifest(recorded: dict[str, str], state: dict[str, str], relative_path: str) -> bool:
    """Whether the pull manifest beside a file has the fingerprint a build recorded (both
    absent for a file outside a pull folder)."""
    key = MANIFEST_FINGERPRINT + relative_path.rpartition("/")[0]
    return recorded.get(key) == state.get(key)


def _previous_state(con, catalog: str, ingest: str) -> dict[str, str] | None:
    """The fingerprints the published build stored for an ingest; None when it stored none
    (it predates incremental ingestion, or never ran this ingest)."""
    present = con.execute(
        "select count(*) from duckdb_tables() where database_name = $catalog "
        "and schema_name = $schema and table_name in ('ingest_state', 'ingest_warnings')",
        {"catalog": catalog, "schema": RAW_SCHEMA},
    ).fetchone()[0]
    if present < 2:
        return None
    rows = con.execute(
        f"select name, fingerprint from {catalog}.{RAW_SCHEMA}.ingest_state where ingest = ?",
        [ingest],
    ).fetchall()
    return dict(rows) or None


def _previous_loads(
    con, catalog: str, tables: tuple[str, ...]
) -> dict[tuple[str, str], list[_Staged]]:
    """The published build's load-log rows of these tables with their warnings, by file."""
    rows = con.execute(
        f"""
        select l.table_name, l.source, l.source_file, l.file_hash, l.rows_read, l.rows_loaded,
            l.rows_quarantined, l.status, l.message, l.run_id, l.loaded_at,
            coalesce(
                (select list(w.warning order by w.position)
                 from {catalog}.{RAW_SCHEMA}.ingest_warnings w
                 where w.table_name = l.table_name and w.source_file = l.source_file),
                []
            ) as warnings
        from {catalog}.{RAW_SCHEMA}.load_log l
        where list_contains($tables, l.table_name)
        order by l.source_file, l.table_name
        """,
        {"tables": list(tables)},
    ).fetchall()
    loads: dict[tuple[str, str], list[_Staged]] = {}
    for *fields, warnings in rows:
        load = FileLoad(*fields)
        loads.setdefault((load.source_file, load.file_hash), []).append(
            _Staged(load, tuple(warnings))
        )
    return loads


def _copy_reused_rows(
    con, previous: PreviousBuild, tables: tuple[str, ...], files: list[str]
) -> None:
    """Copy the reused files' raw rows and quarantine rows from the published build into the
    staging tables, as they are (lineage included: they were loaded by the run that parsed
    them). Rows carry their file's relative path, and the path's bytes are those the published
    build loaded, so the path picks exactly that file's rows."""
    catalog = previous.catalog
    con.execute(
        f"create or replace temp table {REUSED_FILES} as "
        "select unnest($files::varchar[]) as source_file",
        {"files": files},
    )
    try:
        for table in tables:
            con.execute(
                f"insert into {staged_table(table)} by name "
                f"select * from {catalog}.{RAW_SCHEMA}.{table} "
                f"where _source_file in (select source_file from {REUSED_FILES})"
            )
        con.execute(
            f"insert into {STAGED_QUARANTINE} by name "
            f"select * from {catalog}.{RAW_SCHEMA}.quarantine "
            "where list_contains($tables, table_name) "
            f"and source_file in (select source_file from {REUSED_FILES})",
            {"tables": list(tables)},
        )
    finally:
        con.execute(f"drop table if exists temp.{REUSED_FILES}")


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


def _stage(
    con,
    jobs: list[_Job],
    run_id: str,
    loaded_at: dt.datetime,
    reusable: dict[tuple[str, str], list[_Staged]],
) -> list[_Staged]:
    """Stage every job's file; its load-log rows are final once conflicts are quarantined.

    A tracker page's rows reach the staging tables only when its stager flushes, so conflicting
    duplicates are looked for after every file is staged, and the counts are reported then. A
    file in ``reusable`` is not read: its final rows are taken as they are, and its raw rows are
    copied once conflicts are settled. Duplicates are decided first, from the listing alone, as
    in a full reload.
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
        reused = reusable.get((file.relative_path, file.sha256))
        if reused is not None:
            staged += reused
            continue
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


def _report(staged: list[_Staged], conflicts: dict[tuple[str, str], int]) -> list[_Staged]:
    """The final load-log rows, conflicting duplicates counted as quarantined, each with its
    warnings in order: what this run reports, and what a later run reusing the file reports."""
    reported = []
    for entry in staged:
        if entry.load.reused:
            reported.append(entry)
            continue
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
        warnings = list(entry.warnings)
        if load.status == STATUS_LOADED and load.rows_quarantined:
            count = load.rows_quarantined
            detail = f"{moved} as conflicting duplicates; " if moved else ""
            warnings.append(
                f"{load.source_file}: {count} record{'s' if count != 1 else ''} for "
                f"{load.table_name} quarantined ({detail}see {RAW_SCHEMA}.quarantine)"
            )
        reported.append(_Staged(load, tuple(mask_emails(w) for w in warnings)))
    return reported


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
    con,
    ingest: str,
    tables: tuple[str, ...],
    reported: list[_Staged],
    state: dict[str, str],
    loaded_at: dt.datetime,
    run_id: str,
    kept: list[str],
) -> None:
    """Replace the raw tables and their load-log, quarantine and warning rows with the staged
    ones, and the ingest's fingerprints with this run's, in one transaction. The raw and
    quarantine rows of the ``kept`` files stay (``_files_held``): they are what staging them
    again would give."""
    table_list = {"tables": list(tables)}
    con.execute(
        f"create or replace temp table {KEPT_FILES} as "
        "select unnest($files::varchar[]) as source_file",
        {"files": kept},
    )
    con.execute("begin transaction")
    try:
        for table in tables:
            con.execute(f"delete from {RAW_SCHEMA}.{table} where {_not_kept('_source_file')}")
            con.execute(
                f"insert into {RAW_SCHEMA}.{table} by name select * from {staged_table(table)}"
            )
        con.execute(
            f"delete from {RAW_SCHEMA}.quarantine where list_contains($tables, table_name) "
            f"and {_not_kept('source_file')}",
            table_list,
        )
        for log_table in ("load_log", "ingest_warnings"):
            con.execute(
                f"delete from {RAW_SCHEMA}.{log_table} where list_contains($tables, table_name)",
                table_list,
            )
        con.execute(
            f"insert into {RAW_SCHEMA}.quarantine by name select * from {STAGED_QUARANTINE}"
        )
        _write_load_log(con, [entry.load for entry in reported], run_id, loaded_at)
        _write_warnings(con, reported)
        _write_state(con, ingest, state)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"drop table if exists temp.{KEPT_FILES}")


def _not_kept(column: str) -> str:
    """A row whose file (``column``) is not in the scratch list of kept files."""
    return f"({column} is null or {column} not in (select source_file from temp.{KEPT_FILES}))"


def _write_load_log(con, files: list[FileLoad], run_id: str, loaded_at: dt.datetime) -> None:
    """The load log; a reused file keeps the run id and time of the run that parsed it, like
    its rows' ``_loaded_at`` and its quarantine rows."""
    log = pd.DataFrame([vars(f) for f in files], columns=list(FileLoad.__dataclass_fields__))
    log["loaded_at"] = pd.to_datetime(log["loaded_at"])
    con.register("owh_load_log_rows", log)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.load_log by name "
            "select coalesce(cast(run_id as varchar), $run_id) as run_id, "
            "cast(table_name as varchar) as table_name, cast(source as varchar) as source, "
            "cast(source_file as varchar) as source_file, "
            "cast(file_hash as varchar) as file_hash, cast(rows_read as bigint) as rows_read, "
            "cast(rows_loaded as bigint) as rows_loaded, "
            "cast(rows_quarantined as bigint) as rows_quarantined, "
            "cast(status as varchar) as status, cast(message as varchar) as message, "
            "coalesce(cast(loaded_at as timestamp), $loaded_at) as loaded_at "
            "from owh_load_log_rows",
            {"run_id": run_id, "loaded_at": loaded_at},
        )
    finally:
        con.unregister("owh_load_log_rows")


def _write_warnings(con, reported: list[_Staged]) -> None:
    """Each file's warnings, so that a run reusing the file reports them again."""
    rows = [
        (entry.load.table_name, entry.load.source_file, position, warning)
        for entry in reported
        for position, warning in enumerate(entry.warnings)
    ]
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["table_name", "source_file", "position", "warning"])
    con.register("owh_warning_rows", frame)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.ingest_warnings by name "
            "select cast(table_name as varchar) as table_name, "
            "cast(source_file as varchar) as source_file, cast(position as bigint) as position, "
            "cast(warning as varchar) as warning from owh_warning_rows"
        )
    finally:
        con.unregister("owh_warning_rows")


def _write_state(con, ingest: str, state: dict[str, str]) -> None:
    con.execute(f"delete from {RAW_SCHEMA}.ingest_state where ingest = ?", [ingest])
    con.executemany(
        f"insert into {RAW_SCHEMA}.ingest_state values (?, ?, ?)",
        [(ingest, name, fingerprint) for name, fingerprint in sorted(state.items())],
    )
