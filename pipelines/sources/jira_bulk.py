"""Jira search pages read by DuckDB in bulk: the fast path of ``JiraStager``.

A million tasks come as a thousand pages and more than a gigabyte of JSON; walking them in Python
(``jira._RowBuilder``) takes a minute, most of it in ``json.load`` and the loop per record. Here
DuckDB's JSON reader parses a batch of pages at once and SQL derives the canonical rows. The rules
are those of ``pipelines.sources.jira`` and must give the very same rows, so SQL only takes what
it can show the Python walk reads the same way, and hands everything else to that walk:

- **a file** goes to Python whole unless DuckDB reads it as exactly one JSON document in strict
  syntax (DuckDB also accepts trailing commas and ``NaN``, which ``json`` rejects or reads
  otherwise) with an ``issues`` array, shaped like the declared schema (an object wherever one is
  expected, no key twice). Python then loads it or rejects it as it always did;
- **an issue** goes to Python (its page is parsed again for it) unless every value the rules read
  is plain: a string where text is expected, a timestamp in the strict ISO form below, a known
  found-in value, a ``toString`` on every status change and every flag cleared after being set.
  Whatever the rules quarantine or warn about, except a truncated changelog, is therefore worked
  out by the Python rules, with their reasons and raw JSON.

People and custom fields (select, text, rich-text or number fields) have few distinct values: each
distinct JSON value gets its canonical value once, from the Python functions of ``jira`` and
``pseudonymize``, so those rules exist in one place.

Pages are read ahead: asked for one page, ``JiraPageReader`` reads it together with the pages after
it in its folder (the order ingest stages them in) and keeps their rows in temporary tables. A page
``take``-n is staged, under the landing path it was asked for, when the batch ends; a page never
taken (a duplicate file that ingest skips) is dropped with its batch.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.pseudonymize import normalize_identity, pseudonymize
from pipelines.lib.raw_schema import TABLES
from pipelines.sources import staged_table
from pipelines.sources.pages import masked_cast

# Pages read in one batch: enough to spread DuckDB's fixed cost per query over many pages, few
# enough that a batch's rows stay small (a page holds at most a few thousand issues).
READ_AHEAD_PAGES = 64
# Issues are numbered ``file_id * ISSUES_PER_FILE + position`` (joins on one integer are cheap).
ISSUES_PER_FILE = 1 << 32
# DuckDB reads a JSON document only up to this size unless told more; a page is one document.
MIN_OBJECT_SIZE = 16 << 20

# Python's str.strip() removes exactly these characters (those of str.isspace()), so a string made
# of them only is blank. Written for RE2; the tests check it against Python.
WHITESPACE_CLASS = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
# The timestamps SQL converts: ``datetime.fromisoformat`` reads each of them the same way (years
# 1000-9899 keep the UTC conversion inside Python's range). Any other spelling is left to Python.
STRICT_TIMESTAMP = (
    r"(1[0-9]{3}|[2-8][0-9]{3}|9[0-8][0-9]{2})-[0-9]{2}-[0-9]{2}"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?"
)
# Syntax DuckDB accepts and Python's json rejects or reads otherwise: a comma before a closing
# bracket; NaN or Inf in any case. A match inside a string sends the file to Python too, which is
# only slower. Each pattern starts with one literal character, which RE2 scans for quickly.
_NOT_A_NUMBER = r"[ \t\n\r]*[-+]?([Nn][Aa][Nn]|[Ii][Nn][Ff])"
LENIENT_SYNTAX = (
    r",[ \t\n\r]*([\]}]|[-+]?([Nn][Aa][Nn]|[Ii][Nn][Ff]))",
    ":" + _NOT_A_NUMBER,
    r"\[" + _NOT_A_NUMBER,
)
# A file with more than one line holds more than one JSON document unless the parser, which is
# slower than this pattern, says otherwise (a page pulled or exported is one line).
SECOND_LINE = r"\n[ \t\r]*[^ \t\r\n]"
# Custom field ids named in SQL (as struct keys); a page pulled with any other is read by Python.
SAFE_FIELD_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_NAME = "STRUCT(name JSON)"
STANDARD_FIELDS = {
    "summary": "JSON",
    "issuetype": "STRUCT(name JSON, subtask JSON)",
    "status": _NAME,
    "created": "JSON",
    "updated": "JSON",
    "project": "STRUCT(key JSON)",
    "labels": "JSON[]",
    "assignee": "JSON",
    "priority": _NAME,
    "resolution": _NAME,
    "parent": "STRUCT(key JSON, fields STRUCT(issuetype STRUCT(name JSON)))",
}
HISTORY = (
    "STRUCT(author JSON, created JSON, items STRUCT(field JSON, fromString JSON, toString JSON)[])"
)
PAGE_TABLES = ("tasks", "task_status_changes", "task_flags")

# Scratch tables of one batch.
ISSUES = "owh_jira_issues"  # one row per issue of every page read
ITEMS = "owh_jira_items"  # status and Flagged items of their issues
PLAIN = "owh_jira_plain"  # whether SQL takes each issue
FLAGS = "owh_jira_flags"
TAKEN = "owh_jira_taken"  # the pages taken, with their landing paths
SCRATCH_TABLES = (ISSUES, ITEMS, PLAIN, FLAGS, TAKEN)
# The canonical value of each distinct JSON value of a person or custom field, kept for the
# reader's lifetime.
VALUES = "owh_jira_values"


@dataclass(frozen=True)
class FieldRoles:
    """The custom field id of each role of ``jira.JiraFieldMap`` (None: not read)."""

    story_points: str | None
    found_in: str | None
    epic_link: str | None
    workstream: str | None
    team: str | None

    def items(self) -> list[tuple[str, str]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)]

    def ids(self) -> list[str]:
        return sorted({field_id for _, field_id in self.items()})


def field_roles(field_map) -> FieldRoles | None:
    """A field map as ids SQL can name, or None when one cannot be (Python reads the pages)."""
    roles = FieldRoles(**{f.name: getattr(field_map, f.name) for f in fields(FieldRoles)})
    lowered = [field_id.lower() for field_id in roles.ids()]
    if len(set(lowered)) != len(lowered) or set(lowered) & set(STANDARD_FIELDS):
        return None
    if not all(SAFE_FIELD_ID.fullmatch(field_id) for field_id in roles.ids()):
        return None
    return roles


@dataclass
class BulkPage:
    """One page as SQL read it: the rows it took, and the issues it left to the Python rules."""

    path: Path
    loaded: dict[str, int]  # rows per raw table, of the issues SQL took
    python_positions: list[int] = field(default_factory=list)  # 1-based issue positions
    truncated: list[tuple[int, str, int, int]] = field(default_factory=list)
    # ^ (position, key, histories exported, total) of each truncated changelog SQL took


@dataclass
class _Batch:
    roles: FieldRoles
    paths: list[Path]  # the pages read; SQL numbers them from 1 (``file_id``)
    pages: dict[Path, BulkPage | None] = field(default_factory=dict)  # None: Python reads it
    taken: dict[Path, str] = field(default_factory=dict)  # page -> its landing path

    def __post_init__(self):
        self.pages = dict.fromkeys(self.paths)


class JiraPageReader:
    """Reads Jira pages ahead in batches and stages the rows of the pages taken.

    ``value_rules`` turns a parsed JSON value of a custom field role into its canonical value:
    text for ``epic_link``, ``workstream`` and ``team``; a number for ``story_points``; for
    ``found_in``, the value and whether it is a known one.
    """

    def __init__(
        self,
        con,
        *,
        loaded_at: dt.datetime,
        pseudonym_key: bytes,
        value_rules: dict[str, Callable[[object], object]],
        read_ahead: int = READ_AHEAD_PAGES,
    ):
        self.con = con
        self.loaded_at = loaded_at
        self.pseudonym_key = pseudonym_key
        self.value_rules = value_rules
        self.read_ahead = read_ahead
        self._batch: _Batch | None = None
        self._values_created = False

    def read(self, path: Path, roles: FieldRoles) -> BulkPage | None:
        """The page at ``path`` as SQL read it; None when the Python walk must read the file."""
        batch = self._batch
        if batch is None or batch.roles != roles or path not in batch.pages:
            self.finish_batch()
            batch = self._batch = _Batch(roles, _pages_from(path, self.read_ahead))
            self._read_batch(batch)
        return batch.pages[path]

    def take(self, page: BulkPage, source_file: str) -> None:
        """Stage the rows SQL took of ``page`` under ``source_file`` when the batch ends."""
        if self._batch is None or self._batch.pages.get(page.path) is not page:
            raise ValueError(f"{page.path} is not a page of the current batch")
        self._batch.taken[page.path] = source_file

    def finish_batch(self) -> None:
        """Stage the rows of the pages taken; drop the batch's scratch tables."""
        batch, self._batch = self._batch, None
        try:
            if batch is not None and batch.taken:
                self._stage_taken(batch)
        finally:
            for table in SCRATCH_TABLES:
                self.con.execute(f"drop table if exists temp.{table}")

    def close(self) -> None:
        """Finish the batch and drop the table of canonical values."""
        self.finish_batch()
        self.con.execute(f"drop table if exists temp.{VALUES}")
        self._values_created = False

    def _read_batch(self, batch: _Batch) -> None:
        strict = _strict_json_files(self.con, batch.paths)
        if not self._load_issues(batch, strict):
            return
        self.con.execute(ITEMS_SQL)
        self._resolve_values(batch.roles)
        self.con.execute(plain_sql(batch.roles))
        self.con.execute(FLAGS_SQL)
        for (file_id,) in self.con.execute(f"select distinct file_id from {ISSUES}").fetchall():
            path = batch.paths[file_id - 1]
            batch.pages[path] = BulkPage(path, dict.fromkeys(PAGE_TABLES, 0))
        self._count(batch)

    def _load_issues(self, batch: _Batch, strict: dict[Path, bool]) -> bool:
        """Fill ``ISSUES`` from the pages DuckDB reads; False when it reads none.

        One-line pages are read together as JSON lines; any other page on its own (and, should
        one of the lines fail, each of them), since one unreadable page fails the whole query.
        """
        lines = [path for path, one_line in strict.items() if one_line]
        alone = [path for path, one_line in strict.items() if not one_line]
        created = False
        if lines:
            try:
                self._read_pages(batch, lines, "newline_delimited", create=True)
                created = True
            except duckdb.Error:
                alone += lines
        for path in alone:
            try:
                self._read_pages(batch, [path], "unstructured", create=not created)
                created = True
            except duckdb.Error:
                continue  # Python reads or rejects it, as before
        return created

    def _read_pages(
        self, batch: _Batch, paths: list[Path], json_format: str, *, create: bool
    ) -> None:
        largest = max(path.stat().st_size for path in paths)
        source = (
            f"read_json($paths, format = '{json_format}', records = true, filename = true, "
            f"columns = {{'issues': '{_issue_type(batch.roles)}[]'}}, "
            f"maximum_object_size = {max(MIN_OBJECT_SIZE, 2 * largest + 1)})"
        )
        target = f"create or replace temp table {ISSUES} as" if create else f"insert into {ISSUES}"
        self.con.execute(
            f"{target} {issues_sql(source, batch.roles)}",
            {"paths": [str(path) for path in paths], "batch": [str(p) for p in batch.paths]},
        )

    def _resolve_values(self, roles: FieldRoles) -> None:
        """Give each new distinct person or custom field value of the batch its canonical value."""
        if not self._values_created:
            self.con.execute(
                f"create or replace temp table {VALUES} "
                "(rule varchar, raw varchar, text varchar, number double, ok boolean)"
            )
            self._values_created = True
        columns = [("person", ISSUES, "assignee_j"), ("person", ITEMS, "author_j")]
        columns += [(role, ISSUES, f"{role}_j") for role, _ in roles.items()]
        for rule, table, column in columns:
            new = self.con.execute(
                f"select distinct {column}::varchar from {table} "
                f"where {column} is not null and {column}::varchar not in "
                f"(select raw from {VALUES} where rule = $rule)",
                {"rule": rule},
            ).fetchall()
            if new:
                self._insert_values(rule, [row[0] for row in new])

    def _insert_values(self, rule: str, raws: list[str]) -> None:
        values = [json.loads(raw) for raw in raws]
        texts: list = [None] * len(raws)
        numbers: list = [None] * len(raws)
        known: list = [True] * len(raws)
        if rule == "person":
            texts = pseudonymize(
                [normalize_identity(value) for value in values], self.pseudonym_key
            )
        elif rule == "story_points":
            numbers = [self.value_rules[rule](value) for value in values]
        elif rule == "found_in":
            texts, known = map(list, zip(*(self.value_rules[rule](v) for v in values), strict=True))
        else:
            texts = [self.value_rules[rule](value) for value in values]
        frame = pd.DataFrame(
            {
                "raw": pd.Series(raws, dtype=object),
                "text": pd.Series(texts, dtype=object),
                # as pages.frame_of builds story_points: a NaN becomes NULL
                "number": pd.Series(numbers, dtype="Float64"),
                "ok": pd.Series(known, dtype="boolean"),
            }
        )
        self.con.register("owh_jira_new_values", frame)
        try:
            self.con.execute(
                f"insert into {VALUES} select $rule, cast(raw as varchar), cast(text as varchar), "
                "cast(number as double), cast(ok as boolean) from owh_jira_new_values",
                {"rule": rule},
            )
        finally:
            self.con.unregister("owh_jira_new_values")

    def _count(self, batch: _Batch) -> None:
        def page(file_id: int) -> BulkPage:
            return batch.pages[batch.paths[file_id - 1]]

        for file_id, table, count in self.con.execute(COUNTS_SQL).fetchall():
            page(file_id).loaded[table] = count
        for file_id, positions in self.con.execute(
            f"select file_id, list(position order by position) from {PLAIN} "
            "where not plain group by file_id"
        ).fetchall():
            page(file_id).python_positions = positions
        for file_id, truncated in self.con.execute(
            "select file_id, list({'position': position, 'key': task_id, "
            "'exported': exported, 'total': total} order by position) "
            f"from {ISSUES} join {PLAIN} using (file_id, position, issue_id, task_id) "
            "where plain and is_history_truncated group by file_id"
        ).fetchall():
            page(file_id).truncated = [tuple(t.values()) for t in truncated]

    def _stage_taken(self, batch: _Batch) -> None:
        self.con.execute(
            f"create or replace temp table {TAKEN} as select unnest($file_ids) as file_id, "
            "unnest($files) as source_file, generate_subscripts($files, 1) as taken",
            {
                "file_ids": [batch.paths.index(path) + 1 for path in batch.taken],
                "files": list(batch.taken.values()),
            },
        )
        for table_name, rows, order in (
            ("tasks", task_rows_sql(batch.roles), "position"),
            ("task_status_changes", CHANGE_ROWS_SQL, "position, sequence"),
            ("task_flags", f"select * from {FLAGS}", "position, flag_group"),
        ):
            self._insert_rows(table_name, rows, order)

    def _insert_rows(self, table_name: str, rows: str, order: str) -> None:
        """Insert as ``pages.insert_frame`` does (every column cast, every e-mail masked), in the
        order the Python walk collects them: page by page, issue by issue."""
        expressions = [
            f"{masked_cast(column)} as {column.name}" for column in TABLES[table_name].columns
        ]
        self.con.execute(
            f"insert into {staged_table(table_name)} by name select {', '.join(expressions)}, "
            "'jira' as _source, source_file as _source_file, _source_row, "
            f"$loaded_at as _loaded_at from ({rows}) join {TAKEN} using (file_id) "
            f"order by taken, {order}",
            {"loaded_at": self.loaded_at},
        )


def _pages_from(path: Path, count: int) -> list[Path]:
    """``path`` and the pages after it in its folder, in the order ingest asks for them."""
    following = sorted(
        entry
        for entry in path.parent.iterdir()
        if entry.name > path.name
        and not entry.name.startswith(".")
        and entry.suffix.lower() == path.suffix.lower()
        and not entry.is_symlink()
        and entry.is_file()
    )
    return [path, *following[: count - 1]]


def _strict_json_files(con, paths: list[Path]) -> dict[Path, bool]:
    """The files that hold one JSON document in strict syntax (see ``LENIENT_SYNTAX``), and
    whether each is one line."""
    lenient = " or ".join(
        f"regexp_matches(content, $lenient_{i})" for i in range(len(LENIENT_SYNTAX))
    )
    query = (
        "select filename, not regexp_matches(content, $second_line) as one_line "
        "from read_text($paths) "
        "where (one_line or json_valid(content)) "
        f"and not ({lenient})"
    )
    patterns = {f"lenient_{i}": pattern for i, pattern in enumerate(LENIENT_SYNTAX)}

    def strict(group: list[Path]) -> dict[Path, bool]:
        params = {"paths": [str(path) for path in group], "second_line": SECOND_LINE, **patterns}
        return {Path(name): one_line for name, one_line in con.execute(query, params).fetchall()}

    # A connection that may not read the landing folder (its allowed directories) is the caller's
    # error, not a file's: raised, rather than walking every page in Python, several times slower
    try:
        return strict(paths)
    except duckdb.PermissionException:
        raise
    except duckdb.Error:  # a file that is not UTF-8 text: look at each on its own
        found: dict[Path, bool] = {}
        for path in paths:
            try:
                found |= strict([path])
            except duckdb.PermissionException:
                raise
            except duckdb.Error:
                continue
        return found


def _issue_type(roles: FieldRoles) -> str:
    """The DuckDB type an issue is read as: only the keys the rules read, custom fields raw."""
    field_types = {**STANDARD_FIELDS, **dict.fromkeys(roles.ids(), "JSON")}
    declared = ", ".join(f'"{name}" {kind}' for name, kind in field_types.items())
    return (
        f"STRUCT(key JSON, self JSON, fields STRUCT({declared}), "
        f"changelog STRUCT(total JSON, histories {HISTORY}[]))"
    )


# SQL fragments. A JSON value is read as text only when it is a string (``_string``: NULL for any
# other value); a value that is neither missing, null nor a string makes its issue Python's.


def _string(json_value: str) -> str:
    return (
        f"case when starts_with({json_value}::varchar, '\"') "
        f"then json_extract_string({json_value}, '$') end"
    )


def _text(string: str) -> str:
    """``jira._text`` of a string: NULL when blank. Most strings start with a visible ASCII
    character, which spares them the regex."""
    return (
        f"case when ord(left({string}, 1)) between 33 and 126 "
        f"or not regexp_full_match({string}, '{WHITESPACE_CLASS}*') then {string} end"
    )


def _timestamp(string: str) -> str:
    """A strict ISO timestamp as naive UTC (``pages.parse_timestamp``); NULL for any other."""
    return (
        f"case when regexp_full_match({string}, '{STRICT_TIMESTAMP}') "
        f"then timezone('UTC', try_cast({string} as timestamptz)) end"
    )


def _read_as_text(name: str) -> str:
    """The JSON value ``{name}_j`` is one the text rules read as SQL does."""
    return f"({name}_j is null or {name}_s is not null)"


# The values read as text: column -> where the issue holds it.
TEXT_LEAVES = {
    "key": "issue.key",
    "title": "issue.fields.summary",
    "task_type": "issue.fields.issuetype.name",
    "status": "issue.fields.status.name",
    "project": "issue.fields.project.key",
    "priority": "issue.fields.priority.name",
    "resolution": "issue.fields.resolution.name",
    "parent_id": "issue.fields.parent.key",
    "parent_type": "issue.fields.parent.fields.issuetype.name",
    "url": "issue.self",
}
TIMESTAMP_LEAVES = {"created": "issue.fields.created", "updated": "issue.fields.updated"}
# A missing or blank one quarantines the issue (``jira._task_problems``).
REQUIRED_TEXTS = ("key", "title", "task_type", "status")
TASK_TEXTS = tuple(name for name in TEXT_LEAVES if name not in ("key", "parent_type"))


def issues_sql(source: str, roles: FieldRoles) -> str:
    """One row per issue of the pages ``source`` reads, with what the rules read of it and
    ``well_formed``: its own values are plain (its histories and people are looked at later)."""
    leaves = [f"{where} as {name}_j" for name, where in {**TEXT_LEAVES, **TIMESTAMP_LEAVES}.items()]
    leaves += [
        f'issue.fields."{field_id}" as {role}_j' if field_id else f"null::json as {role}_j"
        for role, field_id in ((f.name, getattr(roles, f.name)) for f in fields(FieldRoles))
    ]
    strings = [f"{_string(f'{name}_j')} as {name}_s" for name in (*TEXT_LEAVES, *TIMESTAMP_LEAVES)]
    texts = [f"{_text(f'{name}_s')} as {name}" for name in TEXT_LEAVES]
    plain_texts = " and ".join(_read_as_text(name) for name in TEXT_LEAVES)
    required = " and ".join(f"{name} is not null" for name in REQUIRED_TEXTS)
    return f"""
        with listed as (
            select list_position($batch, filename) as file_id,
                generate_subscripts(issues, 1) as position, unnest(issues) as issue
            from {source}
        ),
        leaves as (
            select file_id, position, file_id * {ISSUES_PER_FILE} + position as issue_id,
                issue is null as missing, {", ".join(leaves)},
                issue.fields.issuetype.subtask as subtask_j, issue.fields.labels as labels_j,
                issue.fields.assignee as assignee_j, issue.changelog.total as total_j,
                issue.changelog.histories as histories
            from listed
        ),
        strings as (select *, {", ".join(strings)} from leaves),
        derived as (
            select *, {", ".join(texts)},
                {_timestamp("created_s")} as created_at, {_timestamp("updated_s")} as updated_at,
                list_transform(
                    list_filter(
                        coalesce(labels_j, []), label -> {_text(_string("label"))} is not null
                    ),
                    label -> {_string("label")}
                ) as labels,
                coalesce(len(histories), 0) as exported,
                case when regexp_full_match(total_j::varchar, '-?[0-9]{{1,18}}')
                    then total_j::varchar::bigint end as total
            from strings
        )
        select file_id, position, issue_id, key_s as task_id, {", ".join(TEXT_LEAVES)}, created_at,
            updated_at, labels, coalesce(subtask_j::varchar = 'true', false) as is_subtask,
            coalesce(total > exported, false) as is_history_truncated, exported, total,
            {", ".join(f"{f.name}_j" for f in fields(FieldRoles))}, assignee_j, histories,
            not missing and {required} and created_at is not null
                and (updated_j is null or updated_at is not null) and {plain_texts}
                and (subtask_j is null or subtask_j::varchar in ('true', 'false'))
                and list_bool_and(list_transform(
                    coalesce(labels_j, []), label -> label is null or {_string("label")} is not null
                )) is not false
                and (total is not null
                    or not regexp_full_match(coalesce(total_j::varchar, ''), '-?[0-9]+'))
                as well_formed
        from derived
    """


# The status and Flagged items (field names compared case-insensitively, as in
# ``jira._status_and_flag_items``: DuckDB's lower() and Python's agree on whether a name is one of
# these two) of each well-formed issue, with what the rules read of them, ``sequence`` numbering
# the status items in file order, and ``unreadable``: whether the rules would quarantine the item
# or read one of its values otherwise.
ITEMS_SQL = f"""
    create or replace temp table {ITEMS} as
    with histories as (
        select issue_id, generate_subscripts(histories, 1) as history_index,
            unnest(histories) as history
        from {ISSUES}
        where well_formed
    ),
    items as (
        select issue_id, history_index, history.created as created_j,
            history.author as author_j, generate_subscripts(history.items, 1) as item_index,
            unnest(history.items) as item
        from histories
        where history is not null
    ),
    named as (
        select *, lower({_string("item.field")}) as field_name from items where item is not null
    ),
    strings as (
        select issue_id, history_index, item_index, author_j,
            field_name = 'status' as is_status, item.fromString as from_j,
            item.toString as to_j, {_string("created_j")} as created_s,
            {_string("item.fromString")} as from_s, {_string("item.toString")} as to_s
        from named
        where field_name in ('status', 'flagged')
    ),
    derived as (
        select *, {_timestamp("created_s")} as changed_at, {_text("from_s")} as from_text,
            {_text("to_s")} as to_text
        from strings
    )
    select issue_id, history_index, item_index, author_j, is_status, changed_at,
        from_text, to_text,
        case when is_status then row_number() over (
            partition by issue_id, is_status order by history_index, item_index
        ) end as sequence,
        changed_at is null or not {_read_as_text("from")} or not {_read_as_text("to")}
            or (is_status and to_text is null) as unreadable
    from derived
"""


def _value_joins(roles: FieldRoles, only: tuple[str, ...] | None = None) -> str:
    """Joins of an issue's custom field values to their canonical values, one alias per role."""
    return "\n".join(
        f"left join {VALUES} {role} on {role}.rule = '{role}' and {role}.raw = {role}_j::varchar"
        for role, _ in roles.items()
        if only is None or role in only
    )


def _role_value(roles: FieldRoles, role: str, column: str = "text") -> str:
    return f"{role}.{column}" if getattr(roles, role) else "null"


def plain_sql(roles: FieldRoles) -> str:
    """``plain``: whether SQL takes the issue (``jira_bulk`` module doc)."""
    return f"""
        create or replace temp table {PLAIN} as
        with flag_events as (
            select issue_id, changed_at, history_index, item_index,
                case when to_text is not null then 'set'
                    when from_text is not null then 'clear' end as kind
            from {ITEMS}
            where not is_status
        ),
        paired as (
            select issue_id, kind, lag(kind) over (
                partition by issue_id order by changed_at, history_index, item_index
            ) as previous
            from flag_events
            where kind is not null
        ),
        unplain as (
            select issue_id from {ITEMS} where unreadable
            union
            select issue_id from paired
            where kind = 'clear' and coalesce(previous, 'clear') = 'clear'
        )
        select i.file_id, i.position, i.issue_id, i.task_id, coalesce(
            i.well_formed and {_role_value(roles, "found_in", "ok")} is not false
                and unplain.issue_id is null,
            false
        ) as plain
        from {ISSUES} i
        {_value_joins(roles, only=("found_in",))}
        left join unplain using (issue_id)
    """


# Flag intervals: in time order (file order breaks ties), a set opens a flag unless one is open and
# a clear closes it (an issue with a clear and no open flag is Python's). The events up to a clear
# form one interval: its first set opened it, the clear closed it; the events after the last
# clear, if any set, the interval still open.
FLAGS_SQL = f"""
    create or replace temp table {FLAGS} as
    with events as (
        select file_id, position, issue_id, p.task_id, changed_at, history_index, item_index,
            to_text,
            case when to_text is not null then 'set'
                when from_text is not null then 'clear' end as kind
        from {ITEMS} i join {PLAIN} p using (issue_id)
        where p.plain and not i.is_status
    ),
    grouped as (
        select *, coalesce(sum(case when kind = 'clear' then 1 else 0 end) over (
            partition by issue_id order by changed_at, history_index, item_index
            rows between unbounded preceding and 1 preceding
        ), 0) as flag_group
        from events
        where kind is not null
    ),
    opened as (
        select * from grouped where kind = 'set'
        qualify row_number() over (
            partition by issue_id, flag_group
            order by changed_at, history_index, item_index
        ) = 1
    ),
    closed as (
        select issue_id, flag_group, changed_at as unflagged_at
        from grouped where kind = 'clear'
    )
    select file_id, position, flag_group, 'jira' as source, task_id, changed_at as flagged_at,
        unflagged_at, to_text as reason, history_index as _source_row
    from opened left join closed using (issue_id, flag_group)
"""

COUNTS_SQL = f"""
    select file_id, 'tasks', count(*) from {PLAIN} where plain group by file_id
    union all
    select file_id, 'task_status_changes', count(*)
    from {ITEMS} join {PLAIN} using (issue_id)
    where plain and is_status group by file_id
    union all
    select file_id, 'task_flags', count(*) from {FLAGS} group by file_id
"""


def task_rows_sql(roles: FieldRoles) -> str:
    """The task rows of the issues SQL takes (``jira._RowBuilder._add_task``)."""
    return f"""
        select file_id, position, 'jira' as source, i.task_id, title, task_type, created_at, status,
            {_role_value(roles, "team")} as team, project,
            case when parent_id is not null and not is_subtask
                    and (parent_type is null
                        or regexp_full_match(parent_type, '[Ee][Pp][Ii][Cc]'))
                then parent_id else {_role_value(roles, "epic_link")} end as epic_id,
            parent_id, labels, assignee.text as assignee,
            {_role_value(roles, "story_points", "number")} as story_points, priority,
            resolution, {_role_value(roles, "found_in")} as found_in,
            {_role_value(roles, "workstream")} as workstream_id, url, updated_at,
            is_history_truncated, position as _source_row
        from {ISSUES} i join {PLAIN} p using (file_id, position, issue_id)
        left join {VALUES} assignee
            on assignee.rule = 'person' and assignee.raw = assignee_j::varchar
        {_value_joins(roles)}
        where p.plain
    """


CHANGE_ROWS_SQL = f"""
    select file_id, position, 'jira' as source, p.task_id, changed_at, to_text as to_status,
        from_text as from_status, author.text as author, sequence, history_index as _source_row
    from {ITEMS} i join {PLAIN} p using (issue_id)
    left join {VALUES} author on author.rule = 'person' and author.raw = i.author_j::varchar
    where p.plain and i.is_status
"""
