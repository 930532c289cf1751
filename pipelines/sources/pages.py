"""What every tracker adapter shares: canonical rows as column lists, staged many pages at once.

A tracker page (a Jira search page, a GitHub issues page with its timelines, a Linear GraphQL page)
is walked once in Python, since the nesting of issues and histories leaves nothing to vectorise,
but every column is collected as a list, so each DataFrame is built in one step.
``PageStager`` then pseudonymises the people and inserts the frames of many pages at once, *by
name* (never by position), into the staging tables, with every e-mail address in free text masked.

An adapter subclasses ``PageRows`` (how one page becomes rows) and ``PageStager`` (how a file is
read), and keeps the contract of ``pipelines.sources``: every record read is a row or a
quarantine row with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from pipelines.lib.landing import LandingFile
from pipelines.lib.pseudonymize import mask_emails, mask_emails_sql, pseudonymize
from pipelines.lib.raw_schema import TABLES, Column, RawTable
from pipelines.sources import STAGED_QUARANTINE, FileRejectedError, TableLoad, staged_table

PAGE_TABLES = ("tasks", "task_status_changes", "task_flags")
PERSON_COLUMNS = {"tasks": "assignee", "task_status_changes": "author"}
RAW_TEXT_PREVIEW_CHARS = 2_000

TASK_COLUMNS = {
    "source": "object",
    "task_id": "object",
    "title": "object",
    "task_type": "object",
    "created_at": "datetime64[us]",
    "status": "object",
    "team": "object",
    "project": "object",
    "epic_id": "object",
    "parent_id": "object",
    "labels": "object",
    "assignee": "object",
    "story_points": "Float64",
    "priority": "object",
    "resolution": "object",
    "found_in": "object",
    "workstream_id": "object",
    "url": "object",
    "updated_at": "datetime64[us]",
    "is_history_truncated": "boolean",
    "_source_row": "int64",
}
STATUS_CHANGE_COLUMNS = {
    "source": "object",
    "task_id": "object",
    "changed_at": "datetime64[us]",
    "to_status": "object",
    "from_status": "object",
    "author": "object",
    "sequence": "int64",
    "_source_row": "int64",
}
FLAG_COLUMNS = {
    "source": "object",
    "task_id": "object",
    "flagged_at": "datetime64[us]",
    "unflagged_at": "datetime64[us]",
    "reason": "object",
    "_source_row": "int64",
}
_COLUMNS = {
    "tasks": TASK_COLUMNS,
    "task_status_changes": STATUS_CHANGE_COLUMNS,
    "task_flags": FLAG_COLUMNS,
}


def parse_timestamp(value: object) -> dt.datetime | None:
    """A tracker timestamp as naive UTC; None when it is missing or not ISO 8601.

    Accepts ``2026-09-01T15:30:00.000+0530``, the same without millis, ``Z`` and ``+05:30``; a
    timestamp without an offset is read as UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class ParsedPage:
    """One or more pages in canonical form; people are normalised identities, not yet
    pseudonymised (the stager pseudonymises them before anything is stored)."""

    tasks: pd.DataFrame
    status_changes: pd.DataFrame
    flags: pd.DataFrame
    rejects: list[Reject]
    warnings: list[str] = field(default_factory=list)


class FileMark(NamedTuple):
    """What the row collector held when a file's reading started."""

    rows: dict[str, int]
    rejected: dict[str, int]
    warnings: int


class Reject(NamedTuple):
    """A record that could not be loaded: where it is, why, and its raw JSON (e-mails masked)."""

    source_row: int | None
    reason: str
    raw_text: str
    table_name: str


class PageRows:
    """Canonical rows of one or more pages, collected as column lists.

    ``add_task``, ``add_status_change`` and ``add_flag`` take the row's values by column name
    (``source`` and ``_source_file`` are filled in); ``reject`` records a quarantined record.
    People (``assignee``, ``author``) are normalised identities here, pseudonymised on staging.
    """

    def __init__(self, source: str):
        self.source = source
        self.source_file = ""
        self.columns: dict[str, dict[str, list]] = {
            table: {name: [] for name in (*dtypes, "_source_file")}
            for table, dtypes in _COLUMNS.items()
        }
        self.rejects: list[Reject] = []
        self.reject_files: list[str] = []
        self.rejected: Counter[str] = Counter()
        self.warnings: list[str] = []

    @property
    def tasks(self) -> dict[str, list]:
        return self.columns["tasks"]

    @property
    def changes(self) -> dict[str, list]:
        return self.columns["task_status_changes"]

    @property
    def flags(self) -> dict[str, list]:
        return self.columns["task_flags"]

    def add_task(self, **values: Any) -> None:
        self._append("tasks", values)

    def add_status_change(self, **values: Any) -> None:
        self._append("task_status_changes", values)

    def add_flag(self, **values: Any) -> None:
        self._append("task_flags", values)

    def reject(self, table_name: str, position: int | None, reason: str, record: object) -> None:
        raw_text = mask_emails(json.dumps(record, ensure_ascii=False, default=str))
        self.rejects.append(Reject(position, mask_emails(reason), raw_text, table_name))
        self.reject_files.append(self.source_file)
        self.rejected[table_name] += 1

    def parsed(self) -> ParsedPage:
        """What was collected, as DataFrames without the lineage file column."""
        frames = self.frames(with_source_file=False)
        return ParsedPage(
            tasks=frames["tasks"],
            status_changes=frames["task_status_changes"],
            flags=frames["task_flags"],
            rejects=self.rejects,
            warnings=self.warnings,
        )

    def row_counts(self) -> dict[str, int]:
        return {table: len(columns["task_id"]) for table, columns in self.columns.items()}

    def frames(self, *, with_source_file: bool) -> dict[str, pd.DataFrame]:
        extra = {"_source_file": "object"} if with_source_file else {}
        return {
            table: frame_of(self.columns[table], {**dtypes, **extra})
            for table, dtypes in _COLUMNS.items()
        }

    def _append(self, table: str, values: dict[str, Any]) -> None:
        columns = self.columns[table]
        unknown = set(values) - set(columns)
        if unknown:
            raise KeyError(f"not a column of {table}: {', '.join(sorted(unknown))}")
        values = {"source": self.source, "_source_file": self.source_file, **values}
        for name, column in columns.items():
            column.append(values.get(name))


class PageStager(ABC):
    """Stages the pages of one tracker into the staging tables, many pages per insert.

    Each insert from a DataFrame has a fixed cost far above its cost per row (50 pages inserted
    one by one took eight times as long as the same rows inserted at once), so the rows of many
    pages are collected and inserted together once ``batch_tasks`` tasks are waiting; call
    ``flush`` after the last page. People are pseudonymised per batch, each distinct identity
    hashed once.
    """

    source: str

    def __init__(
        self,
        con,
        *,
        run_id: str,
        loaded_at: dt.datetime,
        pseudonym_key: bytes,
        batch_tasks: int = 50_000,
    ):
        self.con = con
        self.run_id = run_id
        self.loaded_at = loaded_at
        self.pseudonym_key = pseudonym_key
        self.batch_tasks = batch_tasks
        self._rows = self.new_rows()

    @abstractmethod
    def new_rows(self) -> PageRows:
        """An empty row collector of this tracker."""

    @abstractmethod
    def add_file(self, rows: PageRows, file: LandingFile) -> None:
        """Read one landing file into ``rows``; raise ``FileRejectedError`` before adding
        anything when the whole file cannot be read."""

    def stage(self, file: LandingFile) -> list[TableLoad]:
        """Read and parse one page into the batch; one ``TableLoad`` per table it feeds."""
        mark = self.start_file(file)
        self.add_file(self._rows, file)
        return self.file_loads(mark)

    def start_file(self, file: LandingFile) -> FileMark:
        """Point the row collector at ``file`` and note what it held before."""
        rows = self._rows
        rows.source_file = file.relative_path
        return FileMark(rows.row_counts(), dict(rows.rejected), len(rows.warnings))

    def file_loads(
        self,
        mark: FileMark,
        staged: dict[str, int] | None = None,
        warnings: list[str] | None = None,
    ) -> list[TableLoad]:
        """What the file gave each table since ``mark``; ``staged`` counts the rows the stager
        staged itself, ``warnings`` replaces the collected ones (then it holds them all, in
        record order). Inserts the batch once it holds ``batch_tasks`` tasks."""
        rows = self._rows
        rows_after = rows.row_counts()
        if warnings is None:
            warnings = rows.warnings[mark.warnings :]
        loads = []
        for table_name in PAGE_TABLES:
            loaded = rows_after[table_name] - mark.rows[table_name]
            loaded += (staged or {}).get(table_name, 0)
            quarantined = rows.rejected[table_name] - mark.rejected.get(table_name, 0)
            loads.append(
                TableLoad(
                    table_name=table_name,
                    rows_read=loaded + quarantined,
                    rows_loaded=loaded,
                    rows_quarantined=quarantined,
                    notes=quarantine_note(quarantined),
                    warnings=tuple(warnings) if table_name == "tasks" else (),
                )
            )
        if rows_after["tasks"] >= self.batch_tasks:
            self.insert_rows()
        return loads

    def flush(self) -> None:
        """Stage everything still collected: called after the last page."""
        self.insert_rows()

    def insert_rows(self) -> None:
        """Insert every collected row into the staging tables and start a new batch."""
        rows, self._rows = self._rows, self.new_rows()
        for table_name, frame in rows.frames(with_source_file=True).items():
            if frame.empty:
                continue
            person = PERSON_COLUMNS.get(table_name)
            if person:
                frame[person] = pseudonymize(frame[person], self.pseudonym_key)
            insert_frame(self.con, TABLES[table_name], frame, self.loaded_at, self.source)
        if rows.rejects:
            insert_rejects(
                self.con,
                list(zip(rows.reject_files, rows.rejects, strict=True)),
                self.run_id,
                self.loaded_at,
                self.source,
            )


def read_json_file(path: Path) -> Any:
    """A landing file's JSON; a file that is not JSON is rejected with the line of the error."""
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise FileRejectedError(
            f"not valid JSON ({exc})", raw_text=file_preview(path), line=line
        ) from None


def json_kind(value: object) -> str:
    """How a JSON value is named in an error ("an array", "an object", ...)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return "a JSON literal"
    return "a number"


def quarantine_note(count: int) -> tuple[str, ...]:
    if not count:
        return ()
    return (f"{count} record{'s' if count != 1 else ''} quarantined",)


def frame_of(columns: dict[str, list], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(columns[name], dtype=dtype) for name, dtype in dtypes.items()}
    )


def file_preview(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(RAW_TEXT_PREVIEW_CHARS)
    return mask_emails(head.decode("utf-8", errors="replace"))


def masked_cast(column: Column) -> str:
    """SQL for a raw column's value cast to its type, every e-mail address in its text masked:
    how every tracker row reaches a staged table, whether a DataFrame or DuckDB read it."""
    value = f"cast({column.name} as {column.type})"
    if column.type == "VARCHAR":
        return mask_emails_sql(value)
    if column.type == "VARCHAR[]":
        return f"list_transform({value}, label -> {mask_emails_sql('label')})"
    return value


def insert_frame(
    con, table: RawTable, frame: pd.DataFrame, loaded_at: dt.datetime, source: str
) -> None:
    expressions = [
        f"{masked_cast(column)} as {column.name}"
        for column in table.columns
        if column.name in frame.columns
    ]
    con.register("owh_page_frame", frame)
    try:
        con.execute(
            f"insert into {staged_table(table.name)} by name select "
            + ", ".join(expressions)
            + ", $source as _source, cast(_source_file as varchar) as _source_file, "
            "_source_row, $loaded_at as _loaded_at from owh_page_frame",
            {"loaded_at": loaded_at, "source": source},
        )
    finally:
        con.unregister("owh_page_frame")


def insert_rejects(
    con,
    rejects: list[tuple[str, Reject]],
    run_id: str,
    loaded_at: dt.datetime,
    source: str,
) -> None:
    frame = pd.DataFrame(
        [(source_file, *reject) for source_file, reject in rejects],
        columns=["source_file", *Reject._fields],
    ).astype({"source_row": "Int64"})
    con.register("owh_page_rejects", frame)
    try:
        con.execute(
            f"insert into {STAGED_QUARANTINE} by name "
            "select $run_id as run_id, cast(table_name as varchar) as table_name, "
            "$source as source, cast(source_file as varchar) as source_file, "
            "source_row, null as line, cast(reason as varchar) as reason, "
            "cast(raw_text as varchar) as raw_text, $loaded_at as quarantined_at "
            "from owh_page_rejects",
            {"run_id": run_id, "loaded_at": loaded_at, "source": source},
        )
    finally:
        con.unregister("owh_page_rejects")
