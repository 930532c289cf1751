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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pipelines.lib.landing import LandingFile, pull_manifest_of
from pipelines.lib.pseudonymize import normalize_identity
from pipelines.sources import SOURCE_JIRA, FileRejectedError, TableLoad
from pipelines.sources.jira_bulk import BulkPage, JiraPageReader, field_roles
from pipelines.sources.pages import (
    PageRows,
    PageStager,
    ParsedPage,
    Reject,
    file_preview,
    json_kind,
    parse_timestamp,
    read_json_file,
)

FOUND_IN_VALUES = ("production", "pre_release")
# the roles of ``JiraFieldMap`` that a pull resolves from display names (``owh.yml``)
FIELD_ROLES = ("story_points", "found_in", "epic_link", "workstream", "team")

# Kept under its old name: a Jira record that could not be loaded.
JiraReject = Reject


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


# Kept under their old names: one page in canonical form, and how Jira writes a timestamp.
JiraPage = ParsedPage
parse_jira_timestamp = parse_timestamp


def read_search_page(path: Path) -> dict[str, Any]:
    """Load one page; a file that is not a JSON object with an ``issues`` array is rejected."""
    payload = read_json_file(path)
    _check_page_shape(payload, path)
    return payload


def parse_search_page(
    payload: dict[str, Any], *, source_file: str, field_map: JiraFieldMap = JiraFieldMap()
) -> ParsedPage:
    """Turn one search page into canonical rows, rejects and warnings (see module doc)."""
    builder = _RowBuilder()
    builder.source_file = source_file
    builder.add_page(payload, field_map)
    return builder.parsed()


def field_map_of(file: LandingFile, default: JiraFieldMap = JiraFieldMap()) -> JiraFieldMap:
    """The custom field ids a page was pulled with (its pull folder's manifest), else the
    default: an export made by hand carries no manifest."""
    manifest = pull_manifest_of(file)
    fields = (manifest.details.get("fields") if manifest else None) or None
    if not isinstance(fields, dict):
        return default
    return JiraFieldMap(**{role: fields.get(role) for role in FIELD_ROLES})


class JiraStager(PageStager):
    """Stages Jira pages (exported by hand, or pulled by ``owh extract jira``).

    DuckDB reads the pages in bulk (``jira_bulk``); the issues it leaves, and the files it cannot
    read, are walked in Python by ``_RowBuilder``, whose rules both follow.
    """

    source = SOURCE_JIRA

    def __init__(self, con, *, field_map: JiraFieldMap = JiraFieldMap(), **kwargs):
        self.field_map = field_map
        super().__init__(con, **kwargs)
        self.pages = JiraPageReader(
            con,
            loaded_at=self.loaded_at,
            pseudonym_key=self.pseudonym_key,
            value_rules=VALUE_RULES,
        )

    def new_rows(self) -> _RowBuilder:
        return _RowBuilder()

    def stage(self, file: LandingFile) -> list[TableLoad]:
        field_map = field_map_of(file, self.field_map)
        roles = field_roles(field_map)
        page = self.pages.read(file.path, roles) if roles is not None else None
        if page is None:
            return super().stage(file)
        mark = self.start_file(file)
        warnings = self._add_python_issues(file, page, field_map)
        self.pages.take(page, file.relative_path)
        return self.file_loads(mark, page.loaded, warnings)

    def add_file(self, rows: PageRows, file: LandingFile) -> None:
        payload = read_search_page(file.path)
        rows.add_page(payload, field_map_of(file, self.field_map))

    def flush(self) -> None:
        self.pages.close()
        super().flush()

    def _add_python_issues(
        self, file: LandingFile, page: BulkPage, field_map: JiraFieldMap
    ) -> list[str]:
        """Walk the issues SQL left in Python; return the page's warnings in issue order."""
        warnings = [
            (position, truncated_changelog_warning(file.relative_path, key, exported, total))
            for position, key, exported, total in page.truncated
        ]
        if page.python_positions:
            issues = read_search_page(file.path)["issues"]
            rows = self._rows
            rows.field_map = field_map
            for position in page.python_positions:
                before = len(rows.warnings)
                rows.add_issue(position, issues[position - 1])
                warnings += [(position, warning) for warning in rows.warnings[before:]]
        return [warning for _, warning in sorted(warnings, key=lambda pair: pair[0])]


class _RowBuilder(PageRows):
    """Collects canonical rows of one or more Jira pages."""

    def __init__(self):
        super().__init__(SOURCE_JIRA)
        self.field_map = JiraFieldMap()

    def add_page(self, payload: dict[str, Any], field_map: JiraFieldMap) -> None:
        _check_page_shape(payload, None)
        self.field_map = field_map
        for position, issue in enumerate(payload["issues"], start=1):
            self.add_issue(position, issue)

    def add_issue(self, position: int, issue: object) -> None:
        if not isinstance(issue, dict):
            self.reject("tasks", position, "issue record is not a JSON object", issue)
            return
        fields = issue.get("fields")
        if not isinstance(fields, dict):
            fields = {}
        key = issue.get("key")
        created = parse_jira_timestamp(fields.get("created"))
        problems = _task_problems(key, fields, created)
        if problems:
            self.reject("tasks", position, "; ".join(problems), issue)
            return
        changelog = issue.get("changelog")
        truncated = changelog_is_truncated(changelog)
        self._add_task(position, key, fields, created, issue.get("self"), truncated)
        self._add_changelog(position, key, changelog)

    def _add_task(
        self,
        position: int,
        key: str,
        fields: dict,
        created: dt.datetime,
        url: object,
        truncated: bool,
    ) -> None:
        field_map = self.field_map
        parent = fields.get("parent") if isinstance(fields.get("parent"), dict) else {}
        parent_key = _text(parent.get("key"))
        self.add_task(
            task_id=key,
            title=_text(fields.get("summary")),
            task_type=_name(fields.get("issuetype")),
            created_at=created,
            status=_name(fields.get("status")),
            team=_option(fields.get(field_map.team)) if field_map.team else None,
            project=_name(fields.get("project"), "key"),
            epic_id=_epic_id(fields, parent, parent_key, field_map),
            parent_id=parent_key,
            labels=_labels(fields.get("labels")),
            assignee=normalize_identity(fields.get("assignee")),
            story_points=_number(fields.get(field_map.story_points)),
            priority=_name(fields.get("priority")),
            resolution=_name(fields.get("resolution")),
            found_in=self._found_in(key, fields.get(field_map.found_in)),
            workstream_id=(
                _option(fields.get(field_map.workstream)) if field_map.workstream else None
            ),
            url=_text(url),
            updated_at=parse_jira_timestamp(fields.get("updated")),
            is_history_truncated=truncated,
            _source_row=position,
        )

    def _add_changelog(self, position: int, key: str, changelog: object) -> None:
        if not isinstance(changelog, dict):
            return
        histories = changelog.get("histories")
        if not isinstance(histories, list):
            histories = []
        if changelog_is_truncated(changelog):
            self.warnings.append(
                truncated_changelog_warning(
                    self.source_file, key, len(histories), changelog["total"]
                )
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
                    self.reject(table_name, position, reason, history)
            return status_sequence + len(status_items)
        author = normalize_identity(history.get("author"))
        for item in status_items:
            status_sequence += 1
            to_status = _text(item.get("toString"))
            if to_status is None:
                reason = f"issue {key} history {history_index}: status change without toString"
                self.reject("task_status_changes", position, reason, history)
                continue
            self.add_status_change(
                task_id=key,
                changed_at=changed_at,
                to_status=to_status,
                from_status=_text(item.get("fromString")),
                author=author,
                sequence=status_sequence,
                _source_row=history_index,
            )
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
                    self.reject("task_flags", position, reason, history)
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
        self.add_flag(
            task_id=key,
            flagged_at=flagged_at,
            unflagged_at=unflagged_at,
            reason=reason,
            _source_row=history_index,
        )

    def _found_in(self, key: str, value: object) -> str | None:
        found_in, known = found_in_value(value)
        if known:
            return found_in
        text = _option(value)
        self.warnings.append(
            f"{self.source_file}: issue {key} has found-in value {text!r}, expected one of "
            f"{', '.join(FOUND_IN_VALUES)}; loaded without found_in"
        )
        return None


def truncated_changelog_warning(source_file: str, key: str, exported: int, total: int) -> str:
    return (
        f"{source_file}: issue {key} has a truncated changelog ({exported} of {total} histories "
        f"exported); its {total - exported} missing histories are not loaded (pull it with "
        "`owh extract jira` for the whole history). If its status differs from its last "
        'transition, the warehouse infers the missing one (DECISIONS "Truncated histories")'
    )


def found_in_value(value: object) -> tuple[str | None, bool]:
    """A found-in field as ``production`` / ``pre_release`` (None when empty), and whether it is
    empty or one of those: any other value is loaded as None with a warning."""
    text = _option(value)
    if text is None:
        return None, True
    normalised = text.strip().lower().replace("-", "_").replace(" ", "_")
    if normalised in FOUND_IN_VALUES:
        return normalised, True
    return None, False


def _check_page_shape(payload: object, path: Path | None) -> None:
    if isinstance(payload, dict) and isinstance(payload.get("issues"), list):
        return
    if isinstance(payload, dict):
        found = "an object without an 'issues' array"
    else:
        found = json_kind(payload)
    raise FileRejectedError(
        f"not a Jira /search page: expected an object with an 'issues' array, found {found}",
        raw_text=file_preview(path) if path is not None else None,
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


def changelog_is_truncated(changelog: object) -> bool:
    """The changelog says it has more histories than the page carries (``total`` above them)."""
    if not isinstance(changelog, dict):
        return False
    total, histories = changelog.get("total"), changelog.get("histories")
    count = len(histories) if isinstance(histories, list) else 0
    return isinstance(total, int) and not isinstance(total, bool) and total > count


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = adf_text(value) if _is_adf(value) else str(value)
    return text if text.strip() else None


def _is_adf(value: object) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc"


def adf_text(node: object) -> str:
    """The plain text of an Atlassian Document Format node (how API v3 sends rich-text fields):
    its text leaves in order, paragraphs and other blocks on lines of their own."""
    if isinstance(node, list):
        return "".join(adf_text(child) for child in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date", "inlineCard"):
        attributes = node.get("attrs") or {}
        return str(attributes.get("text") or attributes.get("url") or "")
    inner = adf_text(node.get("content") or [])
    if kind in ("doc", "bulletList", "orderedList", "table", "tableRow"):
        return inner.strip("\n") if kind == "doc" else inner
    return f"{inner}\n"


def _name(value: object, attribute: str = "name") -> str | None:
    return _text(value.get(attribute)) if isinstance(value, dict) else None


def _option(value: object) -> str | None:
    """A select field (``{"value": ...}``), a plain text field or a rich-text one (ADF)."""
    if _is_adf(value):
        return _text(value)
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


# How ``jira_bulk`` reads the distinct values of the custom field roles: as the walk above does.
VALUE_RULES = {
    "story_points": _number,
    "found_in": found_in_value,
    "epic_link": _option,
    "workstream": _option,
    "team": _option,
}
