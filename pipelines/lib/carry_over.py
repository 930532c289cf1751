"""Start a build file from the published one: what an incremental dbt build needs in it.

Every run builds its own DuckDB file and swaps it in (``pipelines.lib.publish``). For the
incremental models of the task history (dbt ``materialized='incremental'``,
macros/incremental/tasks_to_rebuild.sql) to rebuild only the tasks that changed, the build file
must hold, before dbt runs:

- each incremental model's table as the published build left it (same schema and name), which
  dbt then updates in place instead of building it from nothing;
- in schema ``previous_build``, the published build's fingerprints (the tables of the dbt source
  ``previous_build``: each a copy of the model of the same name), which the models compare with
  this build's own to find the tasks to rebuild.

It also keeps the published raw tables (schema ``raw``, with its load log and ingest state):
ingestion leaves the rows of every landing file it would reuse where they are, instead of copying
them again, when they are the published build's rows of that file
(``pipelines.sources.ingest``), and drops the schema when another raw schema made it.

``start_build_file`` creates the build file before the first ingest writes to it. When it may
carry, the build file starts as a byte copy of the published file, from which every relation but
the incremental models' and the raw tables is dropped: copying the file costs a fraction of a
second where copying the tables row by row cost 20 s at a million tasks. DuckDB reuses the freed
blocks for the tables the run then writes.

Nothing is carried, and dbt builds every model in full, when a full refresh is asked for, the
run is on another engine, nothing is published, the published file cannot be read or lacks a
table, or the dbt code differs from the code that built it (``code_fingerprint``: the project's
models, seeds, macros and settings, and the versions of dbt and DuckDB). The build file is then
new, and ``previous_build`` gets the fingerprint tables empty, with the models' contract columns:
every task counts as new. ``start_over`` does the same to a build file that carried the tables,
when the ingest finds that most tasks are new anyway (``pipelines.defs.ingest.assets``).
Either way the build records, in schema ``build_state``, the fingerprint of its code (for the
next run to compare) and what it carried or why not.

A carried table only saves time: a full build gives the same rows (docs/incremental.md, and the
tests that compare an incremental build with a full one).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import duckdb

from pipelines.lib.dbt_project import DBT_PROJECT_DIR, ensure_manifest
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.raw_schema import RAW_SCHEMA
from pipelines.lib.sql import quote_identifier

PREVIOUS_BUILD_SCHEMA = "previous_build"
STATE_SCHEMA = "build_state"
CODE_FINGERPRINT_TABLE = "code_fingerprint"
CARRY_OVER_TABLE = "carry_over"
# The schemas DuckDB creates in every file, which are never dropped.
BUILT_IN_SCHEMAS = ("main", "information_schema", "pg_catalog")
# The libraries whose version changes what a model computes (DuckDB's time-zone rules among it).
ENGINE_LIBRARIES = ("dbt-core", "dbt-duckdb", "duckdb")


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str

    @property
    def sql(self) -> str:
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class StateTable:
    """A table of the source ``previous_build``: a copy of the model ``model`` (the source
    table's ``meta: {copy_of: <model>}``; its own name differs, since a dbt unit test names
    the fixtures of a model and of a source table by the table name alone)."""

    name: str
    model: Relation
    columns: tuple[tuple[str, str], ...]  # (name, data type) of the model's contract


@dataclass(frozen=True)
class CarryOver:
    """What a build started from: the tables carried from the published build (empty when
    none), and why nothing was carried."""

    carried: tuple[Relation, ...]
    reason: str | None = None


@dataclass(frozen=True)
class TaskHistory:
    """How a published build made its task history: the tables it started from (none for a
    full build) and why none, and how many tasks it rebuilt of how many it holds."""

    carry_over: CarryOver
    rebuilt: int
    tasks: int

    def line(self) -> str:
        if not self.carry_over.carried:
            return f"every model built in full ({self.carry_over.reason})"
        return (
            f"{self.rebuilt:,} tasks rebuilt of {self.tasks:,}, the others kept from the "
            "published build"
        )


# The models that say which tasks a build rebuilt and how many it holds.
TASKS_TO_REBUILD = Relation("intermediate", "int_tasks_to_rebuild")
TASKS = Relation("staging", "stg_tracker__tasks")


def task_history(database_file: Path) -> TaskHistory | None:
    """What a build file says of its task history; None when it does not say (built by an older
    version)."""
    with connection(database_file, read_only=True) as con:
        if not all(
            _has_table(con, r.schema, r.name)
            for r in (Relation(STATE_SCHEMA, CARRY_OVER_TABLE), TASKS_TO_REBUILD, TASKS)
        ):
            return None
        rebuilt = con.execute(f"select count(*) from {TASKS_TO_REBUILD.sql}").fetchone()[0]
        tasks = con.execute(f"select count(*) from {TASKS.sql}").fetchone()[0]
    return TaskHistory(recorded_carry_over(database_file), rebuilt, tasks)


def incremental_models(manifest: dict) -> list[Relation]:
    """The models dbt updates in place, as they are named in the build file."""
    return sorted(
        (
            _relation(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["config"].get("materialized") == "incremental"
        ),
        key=str,
    )


def _relation(node: dict) -> Relation:
    """Where a model's table is in the build file."""
    return Relation(node["schema"], node["alias"] or node["name"])


def state_tables(manifest: dict) -> list[StateTable]:
    """The tables of the source ``previous_build``, each with the model it copies."""
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    tables = []
    for source in manifest["sources"].values():
        if source["source_name"] != PREVIOUS_BUILD_SCHEMA:
            continue
        copy_of = source.get("meta", {}).get("copy_of")
        model = models.get(copy_of)
        if model is None:
            raise ValueError(
                f"source {PREVIOUS_BUILD_SCHEMA}.{source['name']} names no model in its "
                f"meta copy_of ({copy_of!r})"
            )
        columns = tuple((c["name"], c["data_type"]) for c in model["columns"].values())
        if not columns or any(not data_type for _, data_type in columns):
            raise ValueError(
                f"model {model['name']} needs a contract with a data_type for every column: "
                f"the empty {PREVIOUS_BUILD_SCHEMA}.{source['name']} is created from it"
            )
        tables.append(StateTable(source["name"], _relation(model), columns))
    return sorted(tables, key=lambda table: table.name)


def code_fingerprint(manifest: dict, project_file: Path) -> str:
    """One digest of everything in the dbt code that decides what a model computes: each model's
    and seed's file, configuration and columns, every macro (the adapters' too), the project
    file (its variables), and the versions of dbt and DuckDB."""
    digest = hashlib.sha256()
    for library in ENGINE_LIBRARIES:
        digest.update(f"{library} {package_version(library)}\n".encode())
    digest.update(project_file.read_bytes())
    for unique_id in sorted(manifest["nodes"]):
        node = manifest["nodes"][unique_id]
        if node["resource_type"] not in {"model", "seed", "snapshot"}:
            continue
        described = {
            "checksum": node["checksum"],
            "config": node["config"],
            "columns": {name: column.get("data_type") for name, column in node["columns"].items()},
        }
        described_text = json.dumps(described, sort_keys=True, default=str)
        digest.update(f"{unique_id} {described_text}\n".encode())
    for unique_id in sorted(manifest["macros"]):
        digest.update(f"{unique_id} {manifest['macros'][unique_id]['macro_sql']}\n".encode())
    return digest.hexdigest()


@functools.cache
def project_code() -> tuple[dict, str]:
    """The dbt project's parsed manifest and the fingerprint of its code, once per process (the
    code of a running process does not change)."""
    manifest = json.loads(ensure_manifest().read_text())
    return manifest, code_fingerprint(manifest, DBT_PROJECT_DIR / "dbt_project.yml")


def start_build_file(
    build_file: Path,
    published_file: Path | None,
    manifest: dict,
    *,
    fingerprint: str,
    refused: str | None = None,
) -> CarryOver:
    """Create ``build_file``, from the published build when the same code built it, and record
    what it carried; ``refused`` says why nothing may be carried this time (a full refresh,
    another engine). A build file that exists already (a later step of the run, a re-execution)
    is left as it is, and what it records is returned."""
    build_file.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(build_file):
        if build_file.exists():
            return recorded_carry_over(build_file) or CarryOver((), NOT_STARTED)
        models, tables = incremental_models(manifest), state_tables(manifest)
        reason = refused or _why_not_carried(published_file, fingerprint, models, tables)
        draft = build_file.with_name(f"starting-{build_file.name}")
        draft.unlink(missing_ok=True)
        if reason is None:
            with published_file.open("rb") as source, draft.open("wb") as target:
                os.sendfile(target.fileno(), source.fileno(), 0, os.fstat(source.fileno()).st_size)
        with connection(draft) as con:
            if reason is None:
                _keep_only(con, models, tables)
            _record(con, fingerprint, models if reason is None else [], reason, tables)
        os.replace(draft, build_file)
    return CarryOver(tuple(models) if reason is None else (), reason)


def start_over(build_file: Path, manifest: dict, reason: str) -> CarryOver:
    """Drop what ``build_file`` carried from the published build (the incremental models' tables
    and the published fingerprints) and record ``reason``: dbt then builds every model in full,
    as after a start that carried nothing. The raw tables stay. A build file that carried
    nothing is left as it is, and what it records is returned."""
    with _exclusive(build_file):
        carry = recorded_carry_over(build_file)
        if carry is None or not carry.carried:
            return carry or CarryOver((), NOT_STARTED)
        with connection(build_file) as con:
            (fingerprint,) = con.execute(
                f"select fingerprint from {Relation(STATE_SCHEMA, CODE_FINGERPRINT_TABLE).sql}"
            ).fetchone()
            _record(con, fingerprint, [], reason, state_tables(manifest), dropped=carry.carried)
    return CarryOver((), reason)


# Why a build file that ``start_build_file`` did not start (written by an older version, or by
# hand) carries nothing.
NOT_STARTED = "the build file was not started from the published build"


def recorded_carry_over(build_file: Path) -> CarryOver | None:
    """What ``start_build_file`` recorded in ``build_file``; None when it recorded nothing."""
    with connection(build_file, read_only=True) as con:
        if not _has_table(con, STATE_SCHEMA, CARRY_OVER_TABLE):
            return None
        relations, reason = con.execute(
            f"select carried, reason from {Relation(STATE_SCHEMA, CARRY_OVER_TABLE).sql}"
        ).fetchone()
    return CarryOver(tuple(Relation(*r.split(".", 1)) for r in relations), reason)


def ensure_build_state(build_file: Path, manifest: dict, *, fingerprint: str) -> CarryOver:
    """Before dbt runs: what ``build_file`` records of its carry-over, after recording that it
    carries nothing (with empty fingerprints) in a build file no ingest started."""
    with _exclusive(build_file):
        carry = recorded_carry_over(build_file)
        if carry is None:
            carry = CarryOver((), NOT_STARTED)
            with connection(build_file) as con:
                _record(con, fingerprint, [], carry.reason, state_tables(manifest))
    return carry


@contextlib.contextmanager
def _exclusive(build_file: Path) -> Iterator[None]:
    """One process at a time starts a build file (two ingest steps may start together)."""
    lock = build_file.with_name(f".{build_file.name}.lock")
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _why_not_carried(
    published_file: Path | None,
    fingerprint: str,
    models: list[Relation],
    tables: list[StateTable],
) -> str | None:
    """None when the published build can be carried over, else why not."""
    if not models:
        return "the project has no incremental model"
    if published_file is None or not published_file.is_file():
        return "nothing is published yet"
    try:
        with connection(published_file, read_only=True) as con:
            present = {
                (schema, name)
                for schema, name in con.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_catalog = current_database() and table_type = 'BASE TABLE'"
                ).fetchall()
            }
            if (STATE_SCHEMA, CODE_FINGERPRINT_TABLE) not in present:
                return "the published build has no code fingerprint"
            stored = con.execute(
                f"select fingerprint from {Relation(STATE_SCHEMA, CODE_FINGERPRINT_TABLE).sql}"
            ).fetchall()
    except duckdb.Error as exc:
        return f"the published warehouse cannot be read ({exc})"
    if stored != [(fingerprint,)]:
        return "the dbt code changed since the published build"
    missing = [
        str(r) for r in [*models, *(t.model for t in tables)] if (r.schema, r.name) not in present
    ]
    if missing:
        return f"the published build lacks {', '.join(missing)}"
    return None


def _keep_only(con, models: list[Relation], tables: list[StateTable]) -> None:
    """In a copy of the published file: the fingerprint models copied into ``previous_build``,
    then every relation dropped but the incremental models' tables and the raw tables."""
    keep = {(m.schema, m.name) for m in models}
    con.execute("begin transaction")
    con.execute(f"drop schema if exists {quote_identifier(PREVIOUS_BUILD_SCHEMA)} cascade")
    con.execute(f"create schema {quote_identifier(PREVIOUS_BUILD_SCHEMA)}")
    for table in tables:
        con.execute(
            f"create table {Relation(PREVIOUS_BUILD_SCHEMA, table.name).sql} as "
            f"select * from {table.model.sql}"
        )
    keep |= {(PREVIOUS_BUILD_SCHEMA, t.name) for t in tables}
    relations = con.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    keep |= {(schema, name) for schema, name, kind in relations if schema == RAW_SCHEMA}
    for schema, name, kind in sorted(relations, key=lambda r: r[2] != "VIEW"):
        if (schema, name) not in keep:
            what = "view" if kind == "VIEW" else "table"
            con.execute(f"drop {what} {Relation(schema, name).sql}")
    kept_schemas = {schema for schema, _ in keep} | set(BUILT_IN_SCHEMAS)
    schemas = con.execute(
        "select schema_name from information_schema.schemata "
        "where catalog_name = current_database()"
    ).fetchall()
    for (schema,) in schemas:
        if schema not in kept_schemas:
            con.execute(f"drop schema {quote_identifier(schema)} cascade")
    con.execute("commit")


def _record(
    con,
    fingerprint: str,
    carried: list[Relation],
    reason: str | None,
    tables: list[StateTable],
    *,
    dropped: tuple[Relation, ...] = (),
) -> None:
    """The build's code fingerprint and carry-over, and empty fingerprint tables when nothing was
    carried; in the same transaction, the ``dropped`` tables go."""
    con.execute("begin transaction")
    for relation in dropped:
        con.execute(f"drop table if exists {relation.sql}")
    con.execute(f"create schema if not exists {quote_identifier(STATE_SCHEMA)}")
    code = Relation(STATE_SCHEMA, CODE_FINGERPRINT_TABLE)
    con.execute(f"create or replace table {code.sql} (fingerprint varchar not null)")
    con.execute(f"insert into {code.sql} values (?)", [fingerprint])
    carry = Relation(STATE_SCHEMA, CARRY_OVER_TABLE)
    con.execute(f"create or replace table {carry.sql} (carried varchar[] not null, reason varchar)")
    con.execute(f"insert into {carry.sql} values (?, ?)", [[str(r) for r in carried], reason])
    if not carried:
        con.execute(f"create schema if not exists {quote_identifier(PREVIOUS_BUILD_SCHEMA)}")
        for table in tables:
            columns = ", ".join(f"{quote_identifier(n)} {t}" for n, t in table.columns)
            target = Relation(PREVIOUS_BUILD_SCHEMA, table.name)
            con.execute(f"create or replace table {target.sql} ({columns})")
    con.execute("commit")


def _has_table(con, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
