"""Jira REST ``/search`` pages (``expand=changelog``) → canonical tasks, status changes and flags.

``parse_search_page`` is pure: a parsed page in, DataFrames out. It walks the page once in Python
(the nesting of issues, histories and items leaves nothing to vectorise) but collects every column
as a list, so each DataFrame is built in one step. ``JiraStager`` then pseudonymises the people and
inserts the frames, many pages at a time, *by name* (never by position) into the staging tables.

Rules:

- timestamps carry offsets (``+0000``, ``+0530``, ``-0400``, ``Z``, with or without millis) and are
  stored as naive UTC; a timestamp without an offset is read as UTC;
- one status-change row per changelog item whose field is ``status``; ``sequence`` numbers the
  status items of an issue in file order (history position, then item position), so transitions
  with the same timestamp keep the export's order. Histories are never reordered;
- flags: an item on ``Flagged`` with a ``toString`` starts a flag (reason = ``toString``); one with
  a ``fromString`` and an empty ``toString`` ends the open flag. Flag events are paired in time
  order, so a history listed out of order still closes the right flag. A flag set again while
  already set keeps the open interval; a flag never cleared has no ``unflagged_at``; a clear with
  no open flag is quarantined;
- an issue without ``key``, or with a missing or unparseable ``created`` (or summary, type or
  status) is quarantined with its raw JSON (e-mail addresses masked), never dropped silently; an
  unparseable history timestamp quarantines that history's status changes and flag events, not
  the task;
- a changelog truncated by the export (``total`` > histories present) gives a warning: the missing
  transitions are not in the file and cannot be guessed.

Lineage: ``_source_row`` of a task is the issue's 1-based position in the page; of a status change
or flag, the 1-based position of its history in the issue's changelog. Quarantine rows of an
issue's histories carry the issue's position (the record to look at in the file).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from pipelines.lib.landing import LandingFile
from pipelines.lib.pseudonymize import (
    mask_emails,
    mask_emails_sql,
    normalize_identity,
    pseudonymize,
)
from pipelines.lib.raw_schema import TABLES, RawTable
from pipelines.sources import (
    SOURCE_JIRA,
    STAGED_QUARANTINE,
    FileRejectedError,
    TableLoad,
    staged_table,
)

FOUND_IN_VALUES = ("production", "pre_release")
PAGE_TABLES = ("tasks", "task_status_changes", "task_flags")
PERSON_COLUMNS = {"tasks": "assignee", "task_status_changes": "author"}
RAW_TEXT_PREVIEW_CHARS = 2_000


@dataclass(frozen=True)
class JiraFieldMap:
    """Where a Jira site keeps the values that are custom fields; defaults are Jira Cloud's.

    - ``story_points``: a number field (Jira Cloud "Story point estimate": ``customfield_10016``);
    - ``found_in``: a select field (``{"value": "Production"}``) telling where a bug was found,
      normalised to ``production`` / ``pre_release``;
    - ``epic_link``: the legacy "Epic Link" field, used when the issue has no epic parent;
    - ``workstream``: an optional text or select field naming the issue's workstream;
    - ``team``: none by default: teams come from the dbt ``teams`` seed by project.
    """

    story_points: str = "customfield_10016"
    found_in: str = "customfield_10200"
    epic_link: str = "customfield_10014"
    workstream: str | None = "customfield_10300"
    team: str | None = None


class FlagEvent(NamedTuple):
    """A change of the ``Flagged`` field, before set and clear events are paired."""

    changed_at: dt.datetime
    history_index: int
    item_index: int
    from_string: str | None
    to_string: str | None
    history: dict


class JiraReject(NamedTuple):
    """A record that could not be loaded: where it is, why, and its raw JSON (e-mails masked)."""

    source_row: int | None
    reason: str
    raw_text: str
    table_name: str


@dataclass(frozen=True)
class JiraPage:
    """One page in canonical form. Assignee and author hold normalised identities, not yet
    pseudonymised: ``JiraStager`` pseudonymises them before anything is stored."""

    tasks: pd.DataFrame
    status_changes: pd.DataFrame
    flags: pd.DataFrame
    rejects: list[JiraReject]
    warnings: list[str] = field(default_factory=list)


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


def parse_jira_timestamp(value: object) -> dt.datetime | None:
    """A Jira timestamp as naive UTC; None when it is missing or not ISO 8601.

    Accepts ``2026-09-01T15:30:00.000+0530``, the same without millis, ``Z`` and ``+05:30``.
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


def read_search_page(path: Path) -> dict[str, Any]:
    """Load one page; a file that is not a JSON object with an ``issues`` array is rejected."""
    try:
        with path.open("rb") as handle:
            payload = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise FileRejectedError(
            f"not valid JSON ({exc})", raw_text=_file_preview(path), line=line
        ) from None
    _check_page_shape(payload, path)
    return payload


def parse_search_page(
    payload: dict[str, Any], *, source_file: str, field_map: JiraFieldMap = JiraFieldMap()
) -> JiraPage:
    """Turn one ``/search`` page into canonical rows, rejects and warnings (see module doc)."""
    builder = _RowBuilder(field_map)
    builder.add_page(payload, source_file)
    return builder.page()


class JiraStager:
    """Stages Jira pages into the staging tables, many pages per insert.

    Each insert from a DataFrame has a fixed cost far above its cost per row (50 pages inserted
    one by one took eight times as long as the same rows inserted at once), so the rows of many
    pages are collected into the same column lists and inserted together once ``batch_tasks``
    tasks are waiting; call ``flush`` after the last page. People are pseudonymised per batch,
    each distinct identity hashed once.
    """

    def __init__(
        self,
        con,
        *,
        run_id: str,
        loaded_at: dt.datetime,
        pseudonym_key: bytes,
        field_map: JiraFieldMap = JiraFieldMap(),
        batch_tasks: int = 50_000,
    ):
        self.con = con
        self.run_id = run_id
        self.loaded_at = loaded_at
        self.pseudonym_key = pseudonym_key
        self.field_map = field_map
        self.batch_tasks = batch_tasks
        self._rows = _RowBuilder(field_map)

    def stage(self, file: LandingFile) -> list[TableLoad]:
        """Read and parse one page into the batch; one ``TableLoad`` per table it feeds."""
        payload = read_search_page(file.path)
        rows = self._rows
        rows_before, rejects_before = rows.row_counts(), dict(rows.rejected)
        warnings_before = len(rows.warnings)
        rows.add_page(payload, file.relative_path)
        rows_after = rows.row_counts()
        loads = []
        for table_name in PAGE_TABLES:
            loaded = rows_after[table_name] - rows_before[table_name]
            quarantined = rows.rejected[table_name] - rejects_before.get(table_name, 0)
            loads.append(
                TableLoad(
                    table_name=table_name,
                    rows_read=loaded + quarantined,
                    rows_loaded=loaded,
                    rows_quarantined=quarantined,
                    notes=_quarantine_note(quarantined),
                    warnings=tuple(rows.warnings[warnings_before:])
                    if table_name == "tasks"
                    else (),
                )
            )
        if rows_after["tasks"] >= self.batch_tasks:
            self.flush()
        return loads

    def flush(self) -> None:
        """Insert every collected row into the staging tables and start a new batch."""
        rows, self._rows = self._rows, _RowBuilder(self.field_map)
        for table_name, frame in rows.frames(with_source_file=True).items():
            if frame.empty:
                continue
            person = PERSON_COLUMNS.get(table_name)
            if person:
                frame[person] = pseudonymize(frame[person], self.pseudonym_key)
            _insert_frame(self.con, TABLES[table_name], frame, self.loaded_at)
        if rows.rejects:
            _insert_rejects(
                self.con,
                list(zip(rows.reject_files, rows.rejects, strict=True)),
                self.run_id,
                self.loaded_at,
            )


def _quarantine_note(count: int) -> tuple[str, ...]:
    if not count:
        return ()
    return (f"{count} record{'s' if count != 1 else ''} quarantined",)


class _RowBuilder:
    """Collects canonical rows of one or more pages as column lists; DataFrames are built once."""

    def __init__(self, field_map: JiraFieldMap):
        self.field_map = field_map
        self.source_file = ""
        self.tasks: dict[str, list] = {name: [] for name in TASK_COLUMNS}
        self.changes: dict[str, list] = {name: [] for name in STATUS_CHANGE_COLUMNS}
        self.flags: dict[str, list] = {name: [] for name in FLAG_COLUMNS}
        for columns in (self.tasks, self.changes, self.flags):
            columns["_source_file"] = []
        self.rejects: list[JiraReject] = []
        self.reject_files: list[str] = []
        self.rejected: Counter[str] = Counter()
        self.warnings: list[str] = []

    def add_page(self, payload: dict[str, Any], source_file: str) -> None:
        _check_page_shape(payload, None)
        self.source_file = source_file
        for position, issue in enumerate(payload["issues"], start=1):
            self.add_issue(position, issue)

    def row_counts(self) -> dict[str, int]:
        return {
            "tasks": len(self.tasks["task_id"]),
            "task_status_changes": len(self.changes["task_id"]),
            "task_flags": len(self.flags["task_id"]),
        }

    def frames(self, *, with_source_file: bool) -> dict[str, pd.DataFrame]:
        extra = {"_source_file": "object"} if with_source_file else {}
        return {
            "tasks": _frame(self.tasks, {**TASK_COLUMNS, **extra}),
            "task_status_changes": _frame(self.changes, {**STATUS_CHANGE_COLUMNS, **extra}),
            "task_flags": _frame(self.flags, {**FLAG_COLUMNS, **extra}),
        }

    def page(self) -> JiraPage:
        frames = self.frames(with_source_file=False)
        return JiraPage(
            tasks=frames["tasks"],
            status_changes=frames["task_status_changes"],
            flags=frames["task_flags"],
            rejects=self.rejects,
            warnings=self.warnings,
        )

    def add_issue(self, position: int, issue: object) -> None:
        if not isinstance(issue, dict):
            self._reject("tasks", position, "issue record is not a JSON object", issue)
            return
        fields = issue.get("fields")
        if not isinstance(fields, dict):
            fields = {}
        key = issue.get("key")
        created = parse_jira_timestamp(fields.get("created"))
        problems = _task_problems(key, fields, created)
        if problems:
            self._reject("tasks", position, "; ".join(problems), issue)
            return
        self._add_task(position, key, fields, created, issue.get("self"))
        self._add_changelog(position, key, issue.get("changelog"))

    def _add_task(
        self, position: int, key: str, fields: dict, created: dt.datetime, url: object
    ) -> None:
        field_map = self.field_map
        parent = fields.get("parent") if isinstance(fields.get("parent"), dict) else {}
        parent_key = _text(parent.get("key"))
        row = self.tasks
        row["source"].append(SOURCE_JIRA)
        row["task_id"].append(key)
        row["title"].append(_text(fields.get("summary")))
        row["task_type"].append(_name(fields.get("issuetype")))
        row["created_at"].append(created)
        row["status"].append(_name(fields.get("status")))
        row["team"].append(_option(fields.get(field_map.team)) if field_map.team else None)
        row["project"].append(_name(fields.get("project"), "key"))
        row["epic_id"].append(_epic_id(fields, parent, parent_key, field_map))
        row["parent_id"].append(parent_key)
        row["labels"].append(_labels(fields.get("labels")))
        row["assignee"].append(normalize_identity(fields.get("assignee")))
        row["story_points"].append(_number(fields.get(field_map.story_points)))
        row["priority"].append(_name(fields.get("priority")))
        row["resolution"].append(_name(fields.get("resolution")))
        row["found_in"].append(self._found_in(key, fields.get(field_map.found_in)))
        row["workstream_id"].append(
            _option(fields.get(field_map.workstream)) if field_map.workstream else None
        )
        row["url"].append(_text(url))
        row["_source_row"].append(position)
        row["_source_file"].append(self.source_file)

    def _add_changelog(self, position: int, key: str, changelog: object) -> None:
        if not isinstance(changelog, dict):
            return
        histories = changelog.get("histories")
        if not isinstance(histories, list):
            histories = []
        total = changelog.get("total")
        if isinstance(total, int) and total > len(histories):
            self.warnings.append(
                f"{self.source_file}: issue {key} has a truncated changelog ({len(histories)} "
                f"of {total} histories exported); its {total - len(histories)} missing "
                "histories are not loaded: export the issue's full changelog"
            )
        status_sequence = 0
        flag_events: list[FlagEvent] = []
        for history_index, history in enumerate(histories, start=1):
            if isinstance(history, dict):
                status_sequence = self._add_history(
                    position, key, history_index, history, status_sequence, flag_events
                )
        if flag_events:
            self._add_flags(position, key, flag_events)

    def _add_history(
        self,
        position: int,
        key: str,
        history_index: int,
        history: dict,
        status_sequence: int,
        flag_events: list[FlagEvent],
    ) -> int:
        """Add one history's status changes, collect its flag events; return the sequence."""
        status_items, flag_items = _status_and_flag_items(history.get("items"))
        if not status_items and not flag_items:
            return status_sequence
        changed_at = parse_jira_timestamp(history.get("created"))
        if changed_at is None:
            reason = (
                f"issue {key} history {history_index}: unparseable created "
                f"{history.get('created')!r}"
            )
            for table_name, items in (
                ("task_status_changes", status_items),
                ("task_flags", flag_items),
            ):
                for _ in items:
                    self._reject(table_name, position, reason, history)
            return status_sequence + len(status_items)
        author = normalize_identity(history.get("author"))
        changes = self.changes
        for item in status_items:
            status_sequence += 1
            to_status = _text(item.get("toString"))
            if to_status is None:
                reason = f"issue {key} history {history_index}: status change without toString"
                self._reject("task_status_changes", position, reason, history)
                continue
            changes["source"].append(SOURCE_JIRA)
            changes["task_id"].append(key)
            changes["changed_at"].append(changed_at)
            changes["to_status"].append(to_status)
            changes["from_status"].append(_text(item.get("fromString")))
            changes["author"].append(author)
            changes["sequence"].append(status_sequence)
            changes["_source_row"].append(history_index)
            changes["_source_file"].append(self.source_file)
        for item_index, item in enumerate(flag_items):
            flag_events.append(
                FlagEvent(
                    changed_at,
                    history_index,
                    item_index,
                    _text(item.get("fromString")),
                    _text(item.get("toString")),
                    history,
                )
            )
        return status_sequence

    def _add_flags(self, position: int, key: str, events: list[FlagEvent]) -> None:
        # Pair in time order (file order breaks ties): a history listed out of order must still
        # close the flag that was set before it.
        events.sort(key=lambda event: (event.changed_at, event.history_index, event.item_index))
        open_flag: tuple[dt.datetime, str, int] | None = None
        for changed_at, history_index, _, from_string, to_string, history in events:
            if to_string:
                if open_flag is None:
                    open_flag = (changed_at, to_string, history_index)
            elif from_string:
                if open_flag is None:
                    reason = (
                        f"issue {key} history {history_index}: flag cleared at "
                        f"{changed_at.isoformat()} without a flag set before it"
                    )
                    self._reject("task_flags", position, reason, history)
                    continue
                self._append_flag(key, *open_flag, unflagged_at=changed_at)
                open_flag = None
        if open_flag is not None:
            self._append_flag(key, *open_flag, unflagged_at=None)

    def _append_flag(
        self,
        key: str,
        flagged_at: dt.datetime,
        reason: str,
        history_index: int,
        *,
        unflagged_at: dt.datetime | None,
    ) -> None:
        flags = self.flags
        flags["source"].append(SOURCE_JIRA)
        flags["task_id"].append(key)
        flags["flagged_at"].append(flagged_at)
        flags["unflagged_at"].append(unflagged_at)
        flags["reason"].append(reason)
        flags["_source_row"].append(history_index)
        flags["_source_file"].append(self.source_file)

    def _found_in(self, key: str, value: object) -> str | None:
        text = _option(value)
        if text is None:
            return None
        normalised = text.strip().lower().replace("-", "_").replace(" ", "_")
        if normalised in FOUND_IN_VALUES:
            return normalised
        self.warnings.append(
            f"{self.source_file}: issue {key} has found-in value {text!r}, expected one of "
            f"{', '.join(FOUND_IN_VALUES)}; loaded without found_in"
        )
        return None

    def _reject(self, table_name: str, position: int, reason: str, record: object) -> None:
        raw_text = mask_emails(json.dumps(record, ensure_ascii=False, default=str))
        self.rejects.append(JiraReject(position, mask_emails(reason), raw_text, table_name))
        self.reject_files.append(self.source_file)
        self.rejected[table_name] += 1


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number"}


def _check_page_shape(payload: object, path: Path | None) -> None:
    if isinstance(payload, dict) and isinstance(payload.get("issues"), list):
        return
    if isinstance(payload, dict):
        found = "an object without an 'issues' array"
    else:
        found = _JSON_KINDS.get(type(payload), "a JSON literal")
    raise FileRejectedError(
        f"not a Jira /search page: expected an object with an 'issues' array, found {found}",
        raw_text=_file_preview(path) if path is not None else None,
    )


def _task_problems(key: object, fields: dict, created: dt.datetime | None) -> list[str]:
    problems = []
    if not isinstance(key, str) or not key.strip():
        problems.append("missing key")
    if fields.get("created") is None:
        problems.append("missing fields.created")
    elif created is None:
        problems.append(f"unparseable created: {fields.get('created')!r}")
    if _text(fields.get("summary")) is None:
        problems.append("missing fields.summary")
    if _name(fields.get("issuetype")) is None:
        problems.append("missing fields.issuetype.name")
    if _name(fields.get("status")) is None:
        problems.append("missing fields.status.name")
    return problems


def _epic_id(
    fields: dict, parent: dict, parent_key: str | None, field_map: JiraFieldMap
) -> str | None:
    # Jira Cloud's `parent` of a story is its epic; the parent of a sub-task is a story, so the
    # legacy Epic Link field answers for sub-tasks and for sites that still use it.
    parent_type = _name((parent.get("fields") or {}).get("issuetype"))
    is_subtask = bool((fields.get("issuetype") or {}).get("subtask"))
    parent_is_epic = parent_type is None or parent_type.lower() == "epic"
    if parent_key and parent_is_epic and not is_subtask:
        return parent_key
    return _option(fields.get(field_map.epic_link))


def _status_and_flag_items(items: object) -> tuple[list[dict], list[dict]]:
    """A history's status items and ``Flagged`` items (field names compared case-insensitively)."""
    status_items: list[dict] = []
    flag_items: list[dict] = []
    if isinstance(items, list):
        for item in items:
            name = item.get("field") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            name = name.lower()
            if name == "status":
                status_items.append(item)
            elif name == "flagged":
                flag_items.append(item)
    return status_items, flag_items


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _name(value: object, attribute: str = "name") -> str | None:
    return _text(value.get(attribute)) if isinstance(value, dict) else None


def _option(value: object) -> str | None:
    """A select field (``{"value": ...}``) or a plain text field."""
    if isinstance(value, dict):
        return _text(value.get("value") or value.get("name"))
    return _text(value) if isinstance(value, str | int | float) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _labels(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(label) for label in value if label is not None and str(label).strip()]


def _frame(columns: dict[str, list], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(columns[name], dtype=dtype) for name, dtype in dtypes.items()}
    )


def _file_preview(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(RAW_TEXT_PREVIEW_CHARS)
    return mask_emails(head.decode("utf-8", errors="replace"))


def _insert_frame(con, table: RawTable, frame: pd.DataFrame, loaded_at: dt.datetime) -> None:
    expressions = []
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        value = f"cast({column.name} as {column.type})"
        if column.type == "VARCHAR":
            value = mask_emails_sql(value)
        elif column.type == "VARCHAR[]":
            value = f"list_transform({value}, label -> {mask_emails_sql('label')})"
        expressions.append(f"{value} as {column.name}")
    con.register("owh_jira_frame", frame)
    try:
        con.execute(
            f"insert into {staged_table(table.name)} by name select "
            + ", ".join(expressions)
            + f", '{SOURCE_JIRA}' as _source, cast(_source_file as varchar) as _source_file, "
            "_source_row, $loaded_at as _loaded_at from owh_jira_frame",
            {"loaded_at": loaded_at},
        )
    finally:
        con.unregister("owh_jira_frame")


def _insert_rejects(
    con, rejects: list[tuple[str, JiraReject]], run_id: str, loaded_at: dt.datetime
) -> None:
    frame = pd.DataFrame(
        [(source_file, *reject) for source_file, reject in rejects],
        columns=["source_file", *JiraReject._fields],
    ).astype({"source_row": "Int64"})
    con.register("owh_jira_rejects", frame)
    try:
        con.execute(
            f"insert into {STAGED_QUARANTINE} by name "
            "select $run_id as run_id, cast(table_name as varchar) as table_name, "
            f"'{SOURCE_JIRA}' as source, cast(source_file as varchar) as source_file, "
            "source_row, null as line, cast(reason as varchar) as reason, "
            "cast(raw_text as varchar) as raw_text, $loaded_at as quarantined_at "
            "from owh_jira_rejects",
            {"run_id": run_id, "loaded_at": loaded_at},
        )
    finally:
        con.unregister("owh_jira_rejects")
