"""Source adapters: each turns one kind of landing file into the canonical raw tables.

The tables and the landing layout are described in docs/input-contract.md.

- ``jira``: Jira REST search pages with ``expand=changelog``, API v2 or v3 (``jira/*.json``, and
  the pull folders ``owh extract jira`` writes: ``jira/<pull id>/page-*.json``);
- ``github``: GitHub issues with their timelines (``github/<pull id>/page-*.json``);
- ``linear``: Linear GraphQL ``issues`` pages with their history (``linear/<pull id>/page-*.json``);
- ``canonical``: the canonical tables themselves as CSV or Parquet (``tasks/*.csv``, ...).

The contract every adapter keeps, so that ``pipelines.sources.ingest`` can orchestrate them alike:

- an adapter reads one file and appends its rows to the **staging** tables (temporary tables
  named ``owh_staged_<raw table>`` and ``owh_staged_quarantine``, shaped exactly like ``raw.*``);
  ingest then copies the staging tables into ``raw`` in a single transaction. Reading happens
  outside that transaction because a DuckDB error (a malformed file) aborts the transaction it
  occurs in: staging keeps a bad file from taking the whole load down with it;
- a problem with the whole file (not JSON, a missing required column) raises
  ``FileRejectedError`` *before* the adapter stages anything;
- every record read is either staged as a row or staged as a quarantine row with its reason, so
  rows read = rows loaded + rows quarantined, per file and table (docs/data-quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.lib.raw_schema import RAW_SCHEMA

SOURCE_JIRA = "jira"
SOURCE_GITHUB = "github"
SOURCE_LINEAR = "linear"
SOURCE_CANONICAL = "canonical"

STAGED_QUARANTINE = "owh_staged_quarantine"


def staged_table(table_name: str) -> str:
    """The temporary staging table that mirrors ``raw.<table_name>``."""
    return f"owh_staged_{table_name}"


def create_staging_tables(con, table_names: tuple[str, ...]) -> None:
    """(Re)create empty staging tables shaped like the raw tables (which must exist)."""
    for name in (*table_names, "quarantine"):
        target = STAGED_QUARANTINE if name == "quarantine" else staged_table(name)
        con.execute(
            f"create or replace temp table {target} as select * from {RAW_SCHEMA}.{name} limit 0"
        )


def drop_staging_tables(con, table_names: tuple[str, ...]) -> None:
    for target in (*map(staged_table, table_names), STAGED_QUARANTINE):
        con.execute(f"drop table if exists temp.{target}")


@dataclass(frozen=True)
class TableLoad:
    """What one file contributed to one raw table."""

    table_name: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    notes: tuple[str, ...] = ()  # for the file's load_log message (schema drift, quarantined rows)
    warnings: tuple[str, ...] = ()  # for the run's log


class FileRejectedError(Exception):
    """The whole file cannot be loaded; nothing of it was staged.

    ``problem`` says what is wrong without naming the file (the caller adds it); ``raw_text`` is
    the part of the file that shows the problem (a header line, the first characters).
    """

    def __init__(self, problem: str, *, raw_text: str | None = None, line: int | None = None):
        super().__init__(problem)
        self.problem = problem
        self.raw_text = raw_text
        self.line = line
