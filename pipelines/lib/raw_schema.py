"""The canonical raw tables: one definition shared by ingestion, dbt sources and tests.

Described for readers in docs/input-contract.md.

Every source adapter turns its native export into these tables. Timestamps are naive ``TIMESTAMP``
values in UTC; identifiers are strings. Each row keeps the lineage columns ``_source``,
``_source_file``, ``_source_row`` and ``_loaded_at``; columns a file carries beyond the contract are
kept as a JSON object in ``_extra`` (and reported as a warning in ``raw.load_log``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class RawTable:
    name: str
    grain: str
    columns: tuple[Column, ...]
    # Columns that identify a row; duplicates on these keys with different content are conflicts.
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def qualified_name(self) -> str:
        return f"{RAW_SCHEMA}.{self.name}"


LINEAGE_COLUMNS: tuple[Column, ...] = (
    Column(
        "_source",
        "VARCHAR",
        description="Source adapter that produced the row (jira, canonical, ...).",
    ),
    Column(
        "_source_file",
        "VARCHAR",
        description="Landing file the row came from, relative to the landing folder.",
    ),
    Column(
        "_source_row",
        "BIGINT",
        description=(
            "1-based position of the record in its file "
            "(data row for CSV, issue/history index for JSON)."
        ),
    ),
    Column(
        "_loaded_at", "TIMESTAMP", description="UTC time of the ingest run that loaded the row."
    ),
    Column(
        "_extra",
        "JSON",
        description="Columns the file carried beyond the contract, as a JSON object.",
    ),
)

TASKS = RawTable(
    name="tasks",
    grain="one row per task per source",
    key=("source", "task_id"),
    columns=(
        Column("source", "VARCHAR", True),
        Column("task_id", "VARCHAR", True),
        Column("title", "VARCHAR", True),
        Column("task_type", "VARCHAR", True),
        Column("created_at", "TIMESTAMP", True),
        Column("status", "VARCHAR", True),
        Column("team", "VARCHAR"),
        Column("project", "VARCHAR"),
        Column("epic_id", "VARCHAR"),
        Column("parent_id", "VARCHAR"),
        Column("labels", "VARCHAR[]"),
        Column("assignee", "VARCHAR"),
        Column("story_points", "DOUBLE"),
        Column("priority", "VARCHAR"),
        Column("resolution", "VARCHAR"),
        Column("found_in", "VARCHAR"),
        Column("workstream_id", "VARCHAR"),
        Column("url", "VARCHAR"),
        Column(
            "updated_at",
            "TIMESTAMP",
            description="When the tracker last changed the task (UTC): the newest version wins.",
        ),
        Column(
            "is_history_truncated",
            "BOOLEAN",
            description="The export holds only part of the task's status history.",
        ),
    ),
)

TASK_STATUS_CHANGES = RawTable(
    name="task_status_changes",
    grain="one row per status transition",
    key=("source", "task_id", "changed_at", "sequence"),
    columns=(
        Column("source", "VARCHAR", True),
        Column("task_id", "VARCHAR", True),
        Column("changed_at", "TIMESTAMP", True),
        Column("to_status", "VARCHAR", True),
        Column("from_status", "VARCHAR"),
        Column("author", "VARCHAR"),
        Column("sequence", "BIGINT"),
    ),
)

TASK_FLAGS = RawTable(
    name="task_flags",
    grain="one row per flag (impediment) interval",
    key=("source", "task_id", "flagged_at"),
    columns=(
        Column("source", "VARCHAR", True),
        Column("task_id", "VARCHAR", True),
        Column("flagged_at", "TIMESTAMP", True),
        Column("unflagged_at", "TIMESTAMP"),
        Column("reason", "VARCHAR"),
    ),
)

KPI_OBSERVATIONS = RawTable(
    name="kpi_observations",
    grain="one row per KPI per date (per segment)",
    key=("kpi_id", "observed_on", "segment"),
    columns=(
        Column("kpi_id", "VARCHAR", True),
        Column("observed_on", "DATE", True),
        Column("value", "DOUBLE", True),
        Column("segment", "VARCHAR"),
        Column("unit", "VARCHAR"),
    ),
)

CONFIDENCE_SURVEYS = RawTable(
    name="confidence_surveys",
    grain="one survey answer",
    key=(),
    columns=(
        Column("outcome_id", "VARCHAR", True),
        Column("answered_on", "DATE", True),
        Column("dimension", "VARCHAR", True),
        Column("score", "INTEGER", True),
        Column("respondent", "VARCHAR"),
    ),
)

KPIS = RawTable(
    name="kpis",
    grain="one row per KPI definition",
    key=("kpi_id",),
    columns=(
        Column("kpi_id", "VARCHAR", True),
        Column("name", "VARCHAR", True),
        Column("unit", "VARCHAR", True),
        Column("area", "VARCHAR", True),
        Column("aggregation", "VARCHAR", True),
        Column("direction", "VARCHAR", True),
        Column("cadence_days", "INTEGER", True),
    ),
)

OUTCOMES = RawTable(
    name="outcomes",
    grain="one row per outcome definition",
    key=("outcome_id",),
    columns=(
        Column("outcome_id", "VARCHAR", True),
        Column("statement", "VARCHAR", True),
        Column("kpi_id", "VARCHAR", True),
        Column("baseline_value", "DOUBLE", True),
        Column("baseline_on", "DATE", True),
        Column("target_value", "DOUBLE", True),
        Column("target_on", "DATE", True),
        Column("owner", "VARCHAR"),
    ),
)

WORKSTREAMS = RawTable(
    name="workstreams",
    grain="one row per workstream",
    key=("workstream_id",),
    columns=(
        Column("workstream_id", "VARCHAR", True),
        Column("name", "VARCHAR", True),
        Column("outcome_id", "VARCHAR", True),
        Column("hypothesis", "VARCHAR", True),
    ),
)

WORKSTREAM_RULES = RawTable(
    name="workstream_rules",
    grain="one row per matching rule",
    key=(),
    columns=(
        Column("workstream_id", "VARCHAR", True),
        Column("priority", "INTEGER", True),
        Column("source", "VARCHAR"),
        Column("project", "VARCHAR"),
        Column("epic_id", "VARCHAR"),
        Column("label", "VARCHAR"),
    ),
)

TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        TASKS,
        TASK_STATUS_CHANGES,
        TASK_FLAGS,
        KPIS,
        OUTCOMES,
        WORKSTREAMS,
        WORKSTREAM_RULES,
        KPI_OBSERVATIONS,
        CONFIDENCE_SURVEYS,
    )
}

# Tables fed by task trackers, by business definitions, and by impact data: one ingest asset each.
TASK_TABLES = ("tasks", "task_status_changes", "task_flags")
DEFINITION_TABLES = ("kpis", "outcomes", "workstreams", "workstream_rules")
IMPACT_TABLES = ("kpi_observations", "confidence_surveys")

LOAD_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_log (
    run_id varchar not null,
    table_name varchar not null,
    source varchar not null,
    source_file varchar not null,
    file_hash varchar,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    status varchar not null,        -- loaded, duplicate_file, rejected
    message varchar,
    loaded_at timestamp not null
)
"""

QUARANTINE_DDL = f"""
create table if not exists {RAW_SCHEMA}.quarantine (
    run_id varchar not null,
    table_name varchar not null,
    source varchar not null,
    source_file varchar not null,
    source_row bigint,             -- 1-based record position in the file (data row for CSV)
    line bigint,                   -- physical line in the file where known
    reason varchar not null,
    raw_text varchar,
    quarantined_at timestamp not null
)
"""


# What the next run compares to decide which files it may reuse instead of parsing them again
# (pipelines.sources.ingest, DECISIONS "Incremental ingestion"): one row per fingerprint of an
# ingest (the pseudonym key as a keyed digest, the ingestion code, the adapters' configuration,
# this schema, each pull folder's manifest), and the warnings each file gave when it was parsed.
INGEST_STATE_DDL = f"""
create table if not exists {RAW_SCHEMA}.ingest_state (
    ingest varchar not null,        -- task_tracker, definitions, impact
    name varchar not null,          -- pseudonym_key, code, configuration, raw_schema,
                                    -- manifest <pull folder>
    fingerprint varchar not null
)
"""

INGEST_WARNINGS_DDL = f"""
create table if not exists {RAW_SCHEMA}.ingest_warnings (
    table_name varchar not null,
    source_file varchar not null,
    position bigint not null,       -- the warnings of one file and table, in the order given
    warning varchar not null
)
"""


def table_ddl(table: RawTable) -> str:
    cols = [f"    {c.name} {c.type}" for c in (*table.columns, *LINEAGE_COLUMNS)]
    return f"create table if not exists {table.qualified_name} (\n" + ",\n".join(cols) + "\n)"


def create_raw_schema(con) -> None:
    """Create schema ``raw``: every canonical table, the load log, the quarantine and the ingest
    state (idempotent)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in TABLES.values():
        con.execute(table_ddl(table))
    con.execute(LOAD_LOG_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(INGEST_STATE_DDL)
    con.execute(INGEST_WARNINGS_DDL)


def raw_schema_ddl() -> str:
    """Every statement ``create_raw_schema`` runs: what a fingerprint of the schema is taken of."""
    return "\n".join(
        [
            *(table_ddl(table) for table in TABLES.values()),
            LOAD_LOG_DDL,
            QUARANTINE_DDL,
            INGEST_STATE_DDL,
            INGEST_WARNINGS_DDL,
        ]
    )
