"""Linear GraphQL ``issues`` pages (``owh extract linear``) → canonical tasks and status changes.

A page is Linear's own answer to the ``issues`` query, as ``pipelines.extract.linear`` stores it:
``{"data": {"issues": {"nodes": [...], "pageInfo": {...}}}}``, each issue with its whole
``history`` (the pull fetches the rest of a history Linear sent in part). ``LinearStager`` reads
it; ``parse_linear_page`` turns one into DataFrames.

Tasks, one per issue:

- ``task_id`` is the issue's ``identifier`` (``DATA-12``) and ``project`` its team's key (what the
  ``teams`` seed maps for ``linear``; the pull's team when an issue does not name it);
- ``status`` is the name of its workflow state (the seed's ``linear`` statuses: Triage, Backlog,
  Todo, In Progress, In Review, Done, Canceled, Duplicate);
- Linear has no issue types: ``task_type`` is ``bug`` when a label is named bug (any case), else
  ``issue``;
- as in the demo's Linear export, ``priority`` is Linear's priority label (Urgent, High, Medium,
  Low, No priority) and ``epic_id`` the key of an issue of the team: the parent issue, which is
  also ``parent_id``;
- ``story_points`` is the estimate; the assignee is the user's e-mail address (else the name);
- ``is_history_truncated`` is set, with a warning, when the stored history still says it has
  more entries (``pageInfo.hasNextPage``): the missing transitions are not in the file.

Status changes: one per history entry with a ``toState`` (``from_status`` is the ``fromState``);
entries without one (a priority, assignee or label change) are not status changes and are not
counted. Linear lists a history newest first, so the entries are put in time order; entries of
one instant are chained, each starting where the previous one ended (its ``fromState`` the
previous ``toState``), and otherwise keep the page's order. ``sequence`` numbers an issue's status
changes from 1 in that order.

An issue without an identifier, a title, a parseable ``createdAt`` or a state name is quarantined
with its raw JSON, never dropped silently; a status entry whose time cannot be read is quarantined,
and the issue's other entries load.

Lineage: ``_source_row`` of a task, and of each of its status changes, is the issue's 1-based
position in the page's ``data.issues.nodes``.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from pathlib import Path
from typing import Any, NamedTuple

from pipelines.lib.landing import LandingFile, pull_detail
from pipelines.lib.pseudonymize import normalize_identity
from pipelines.sources import SOURCE_LINEAR, FileRejectedError
from pipelines.sources.pages import (
    PageRows,
    PageStager,
    ParsedPage,
    file_preview,
    json_kind,
    parse_timestamp,
    read_json_file,
)


class StateChange(NamedTuple):
    """A history entry that moved the issue's state, before the entries are put in order."""

    changed_at: dt.datetime
    index: int  # 1-based position in the history as stored
    from_status: str | None
    to_status: str
    author: str | None


def read_linear_page(path: Path) -> dict[str, Any]:
    """Load one page; anything but an object with a ``data.issues.nodes`` array is rejected."""
    payload = read_json_file(path)
    _check_page_shape(payload, path)
    return payload


def parse_linear_page(
    payload: dict[str, Any], *, source_file: str, team: str | None = None
) -> ParsedPage:
    """Turn one page into canonical rows, rejects and warnings (see module doc). ``team`` (a
    key) is the project of issues that do not name their team."""
    builder = _RowBuilder()
    builder.source_file = source_file
    builder.add_page(payload, team)
    return builder.parsed()


class LinearStager(PageStager):
    """Stages Linear pages pulled by ``owh extract linear``."""

    source = SOURCE_LINEAR

    def new_rows(self) -> _RowBuilder:
        return _RowBuilder()

    def add_file(self, rows: PageRows, file: LandingFile) -> None:
        payload = read_linear_page(file.path)
        rows.add_page(payload, pull_detail(file, "team"))


class _RowBuilder(PageRows):
    """Collects canonical rows of one or more Linear pages."""

    def __init__(self):
        super().__init__(SOURCE_LINEAR)
        self.team: str | None = None

    def add_page(self, payload: dict[str, Any], team: str | None = None) -> None:
        _check_page_shape(payload, None)
        self.team = team
        for position, issue in enumerate(payload["data"]["issues"]["nodes"], start=1):
            self.add_issue(position, issue)

    def add_issue(self, position: int, issue: object) -> None:
        if not isinstance(issue, dict):
            self.reject("tasks", position, "issue record is not a JSON object", issue)
            return
        created = parse_timestamp(issue.get("createdAt"))
        problems = _task_problems(issue, created)
        if problems:
            self.reject("tasks", position, "; ".join(problems), issue)
            return
        task_id = _text(issue["identifier"])
        history = issue.get("history") if isinstance(issue.get("history"), dict) else {}
        truncated = history_is_truncated(history)
        if truncated:
            self.warnings.append(
                f"{self.source_file}: issue {task_id} has a truncated history (more entries than "
                "the page holds); its missing transitions are not loaded (pull it with `owh "
                "extract linear` for the whole history). If its status differs from its last "
                'transition, the warehouse infers the missing one (DECISIONS "Truncated '
                'histories")'
            )
        self._add_task(position, task_id, issue, created, truncated)
        self._add_status_changes(position, task_id, history.get("nodes"))

    def _add_task(
        self,
        position: int,
        task_id: str,
        issue: dict,
        created: dt.datetime,
        truncated: bool,
    ) -> None:
        labels = _label_names(issue.get("labels"))
        parent = _name(issue.get("parent"), "identifier")
        self.add_task(
            task_id=task_id,
            title=_text(issue.get("title")),
            task_type="bug" if any(label.casefold() == "bug" for label in labels) else "issue",
            created_at=created,
            status=_name(issue.get("state")),
            project=_name(issue.get("team"), "key") or self.team,
            epic_id=parent,
            parent_id=parent,
            labels=labels,
            assignee=_person(issue.get("assignee")),
            story_points=_number(issue.get("estimate")),
            priority=_text(issue.get("priorityLabel")),
            url=_text(issue.get("url")),
            updated_at=parse_timestamp(issue.get("updatedAt")),
            is_history_truncated=truncated,
            _source_row=position,
        )

    def _add_status_changes(self, position: int, task_id: str, entries: object) -> None:
        changes: list[StateChange] = []
        for index, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            to_status = _name(_field(entry, "toState"))
            if to_status is None:
                continue  # a change of another field
            changed_at = parse_timestamp(entry.get("createdAt"))
            if changed_at is None:
                reason = (
                    f"issue {task_id} history entry {index}: unparseable createdAt "
                    f"{entry.get('createdAt')!r}"
                )
                self.reject("task_status_changes", position, reason, entry)
                continue
            changes.append(
                StateChange(
                    changed_at,
                    index,
                    _name(entry.get("fromState")),
                    to_status,
                    _person(entry.get("actor")),
                )
            )
        for sequence, change in enumerate(in_time_order(changes), start=1):
            self.add_status_change(
                task_id=task_id,
                changed_at=change.changed_at,
                to_status=change.to_status,
                from_status=change.from_status,
                author=change.author,
                sequence=sequence,
                _source_row=position,
            )


def in_time_order(changes: list[StateChange]) -> list[StateChange]:
    """State changes oldest first. Changes of one instant are chained: next comes the one that
    starts from the status the previous one reached, else one no other change of the instant
    leads to, else the first in the page's order."""
    ordered: list[StateChange] = []
    changes = sorted(changes, key=lambda change: (change.changed_at, change.index))
    for _, moment in groupby(changes, key=lambda change: change.changed_at):
        remaining = list(moment)
        while remaining:
            reached = ordered[-1].to_status if ordered else None
            linked = [c for c in remaining if reached is not None and c.from_status == reached]
            if not linked:
                targets = {change.to_status for change in remaining}
                linked = [change for change in remaining if change.from_status not in targets]
            chosen = (linked or remaining)[0]
            remaining.remove(chosen)
            ordered.append(chosen)
    return ordered


def history_is_truncated(history: object) -> bool:
    """The stored history says Linear has more entries than it holds."""
    return _field(_field(history, "pageInfo"), "hasNextPage") is True


def _check_page_shape(payload: object, path: Path | None) -> None:
    nodes = _field(_field(_field(payload, "data"), "issues"), "nodes")
    if isinstance(nodes, list):
        return
    if not isinstance(payload, dict):
        found = json_kind(payload)
    elif isinstance(payload.get("errors"), list):
        found = "a GraphQL error answer"
    else:
        found = "an object without a 'data.issues.nodes' array"
    raise FileRejectedError(
        "not a Linear issues page: expected an object with a 'data.issues.nodes' array (Linear's "
        f"answer to the issues query, as `owh extract linear` writes it), found {found}",
        raw_text=file_preview(path) if path is not None else None,
    )


def _task_problems(issue: dict, created: dt.datetime | None) -> list[str]:
    problems = []
    if _text(issue.get("identifier")) is None:
        problems.append("missing identifier")
    if _text(issue.get("title")) is None:
        problems.append("missing title")
    if issue.get("createdAt") is None:
        problems.append("missing createdAt")
    elif created is None:
        problems.append(f"unparseable createdAt: {issue.get('createdAt')!r}")
    if _name(issue.get("state")) is None:
        problems.append("missing state.name")
    return problems


def _person(user: object) -> str | None:
    """A Linear user as an identity: the e-mail address (the identity other trackers share),
    else the name."""
    if isinstance(user, dict):
        return normalize_identity(user.get("email")) or normalize_identity(user.get("name"))
    return None


def _label_names(labels: object) -> list[str]:
    nodes = _field(labels, "nodes")
    if not isinstance(nodes, list):
        return []
    return [name for name in (_name(label) for label in nodes) if name is not None]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _name(value: object, attribute: str = "name") -> str | None:
    return _text(value.get(attribute)) if isinstance(value, dict) else None


def _field(item: object, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
