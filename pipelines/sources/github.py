"""GitHub issues pages with their timelines (``owh extract github``) → canonical tasks and status
changes.

A page is what ``pipelines.extract.github`` stores: ``{"issues": [...], "timelines": {"<number>":
[...]}}``, GitHub's own issues page and each issue's timeline events. ``GitHubStager`` reads it;
``parse_issues_page`` turns one into DataFrames.

GitHub has two states, open and closed; a board's columns are labels. The status of an issue is
therefore derived, so that its moves across the board are transitions like any tracker's:

- closed → ``Closed``, or ``Not Planned`` when it was closed as not planned (or as a duplicate);
- open → the status label most recently applied and still present, else ``Open``. A status label
  is a label named like one of the ``github`` statuses of ``seeds/status_categories.csv`` other
  than Open, Closed and Not Planned (``In Progress``, ``In Review``, ``Blocked``), ignoring case
  and surrounding spaces; the seed's spelling is kept.

Transitions come from replaying the timeline in time order (the API's order breaks ties):
``labeled`` and ``unlabeled`` of a status label, ``closed`` (with its ``state_reason``) and
``reopened``. The events of one instant are applied together and give at most one transition, and
only when the derived status changes, so swapping one status label for another is one move. The
first ``from_status`` is the status at creation (``Open``, or a status label applied with the
issue). Other events (comments, assignments, other labels, commits) do not move the status.

The task's ``status`` comes from the issue's own ``state`` and labels, which GitHub keeps current;
the timeline only tells which of several status labels present was applied last. An issue whose
timeline is missing from the page, or leads to another status (a timeline cut short), keeps that
status, is marked ``is_history_truncated`` (the warehouse then infers the missing transition,
DECISIONS "Truncated histories"), and a warning names it.

Other columns: ``task_id`` is ``OWNER/NAME#number`` (from the issue's ``repository_url``, else the
pull's manifest), unique across repositories; ``project`` is the repository's name (what the
``teams`` seed maps for ``github``); ``task_type`` is GitHub's issue type when the issue has one,
else ``bug`` with a label named bug, else ``issue``; ``epic_id`` is the milestone's title;
``resolution`` the ``state_reason`` of a closed issue; people are the user's e-mail address when
GitHub shows one, else the login.

Pull requests (items with a ``pull_request`` key, which GitHub lists among the issues) are
skipped: they are not read, loaded or quarantined. An issue without a number, a title, a
parseable ``created_at`` or a known state is quarantined with its raw JSON; a status event whose
time cannot be read is quarantined, and the replay goes on without it.

Lineage: ``_source_row`` of a task, and of each of its status changes, is the issue's 1-based
position in the page's ``issues``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from itertools import groupby
from pathlib import Path
from typing import Any

from pipelines.lib.landing import LandingFile, pull_detail
from pipelines.lib.pseudonymize import normalize_identity
from pipelines.sources import SOURCE_GITHUB, FileRejectedError
from pipelines.sources.pages import (
    PageRows,
    PageStager,
    ParsedPage,
    file_preview,
    json_kind,
    parse_timestamp,
    read_json_file,
)

OPEN = "Open"
CLOSED = "Closed"
NOT_PLANNED = "Not Planned"
# How GitHub says an issue was closed without being done.
NOT_DONE_REASONS = ("not_planned", "duplicate")
STATUS_EVENTS = ("labeled", "unlabeled", "closed", "reopened")
STATUS_SEED = Path(__file__).resolve().parents[2] / "seeds" / "status_categories.csv"
_REPOSITORY_URL = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/?$")


@functools.cache
def status_labels() -> dict[str, str]:
    """The statuses a label carries, by their name ignoring case (seed spelling as values)."""
    with STATUS_SEED.open(encoding="utf-8", newline="") as handle:
        statuses = [
            row["status"].strip()
            for row in csv.DictReader(handle)
            if row["source"].strip() == SOURCE_GITHUB
        ]
    return {
        status.casefold(): status
        for status in statuses
        if status and status not in (OPEN, CLOSED, NOT_PLANNED)
    }


def status_of_label(name: object) -> str | None:
    """The status a label stands for (in the seed's spelling), None for any other label."""
    if not isinstance(name, str):
        return None
    return status_labels().get(name.strip().casefold())


def read_issues_page(path: Path) -> dict[str, Any]:
    """Load one page; anything but an object with an ``issues`` array and a ``timelines``
    object is rejected."""
    payload = read_json_file(path)
    _check_page_shape(payload, path)
    return payload


def parse_issues_page(
    payload: dict[str, Any], *, source_file: str, repo: str | None = None
) -> ParsedPage:
    """Turn one page into canonical rows, rejects and warnings (see module doc). ``repo``
    (``OWNER/NAME``) names the repository of issues that carry no ``repository_url``."""
    builder = _RowBuilder()
    builder.source_file = source_file
    builder.add_page(payload, repo)
    return builder.parsed()


class GitHubStager(PageStager):
    """Stages GitHub pages pulled by ``owh extract github``."""

    source = SOURCE_GITHUB

    def new_rows(self) -> _RowBuilder:
        return _RowBuilder()

    def add_file(self, rows: PageRows, file: LandingFile) -> None:
        payload = read_issues_page(file.path)
        rows.add_page(payload, pull_detail(file, "repo"))


class _BoardState:
    """Where an issue stands while its timeline is replayed: closed or not, and the status
    labels present, in the order they were applied."""

    def __init__(self):
        self.closed_as: str | None = None  # the state_reason while closed, None while open
        self.is_closed = False
        self.labels: dict[str, int] = {}  # status → when applied (a counter)
        self._applied = 0

    def apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "closed":
            self.is_closed = True
            self.closed_as = _text(event.get("state_reason"))
        elif kind == "reopened":
            self.is_closed = False
            self.closed_as = None
        elif kind in ("labeled", "unlabeled"):
            status = status_of_label(_label_name(event.get("label")))
            if status is None:
                return
            self.labels.pop(status, None)
            if kind == "labeled":
                self._applied += 1
                self.labels[status] = self._applied

    @property
    def status(self) -> str:
        if self.is_closed:
            return closed_status(self.closed_as)
        if not self.labels:
            return OPEN
        return max(self.labels, key=self.labels.__getitem__)


def closed_status(state_reason: object) -> str:
    return NOT_PLANNED if state_reason in NOT_DONE_REASONS else CLOSED


def is_pull_request(item: object) -> bool:
    """GitHub's issues endpoint lists pull requests as issues carrying a ``pull_request`` key."""
    return isinstance(item, dict) and "pull_request" in item


class _RowBuilder(PageRows):
    """Collects canonical rows of one or more GitHub pages."""

    def __init__(self):
        super().__init__(SOURCE_GITHUB)
        self.repo: str | None = None

    def add_page(self, payload: dict[str, Any], repo: str | None = None) -> None:
        _check_page_shape(payload, None)
        self.repo = repo
        timelines = payload["timelines"]
        for position, issue in enumerate(payload["issues"], start=1):
            if is_pull_request(issue):
                continue
            self.add_issue(position, issue, timelines)

    def add_issue(self, position: int, issue: object, timelines: dict[str, Any]) -> None:
        if not isinstance(issue, dict):
            self.reject("tasks", position, "issue record is not a JSON object", issue)
            return
        number = issue.get("number")
        created = parse_timestamp(issue.get("created_at"))
        repository = _repository(issue.get("repository_url")) or self.repo
        problems = _task_problems(issue, number, created, repository)
        if problems:
            self.reject("tasks", position, "; ".join(problems), issue)
            return
        task_id = f"{repository}#{number}"
        timeline = timelines.get(str(number))
        if timeline is not None and not isinstance(timeline, list):
            self.warnings.append(
                f"{self.source_file}: issue {task_id} has a timeline that is "
                f"{json_kind(timeline)}, not an array; it is not read"
            )
            timeline = None
        elif timeline is None:
            self.warnings.append(
                f"{self.source_file}: issue {task_id} has no timeline in the page; its status "
                "changes are unknown (pull it with `owh extract github` for its whole history)"
            )
        state = _BoardState()
        timeline_status = self._add_transitions(position, task_id, created, timeline or [], state)
        status = _current_status(issue, state)
        truncated = timeline is None or status != timeline_status
        if timeline is not None and status != timeline_status:
            self.warnings.append(
                f"{self.source_file}: issue {task_id} is {status!r} but its timeline leads to "
                f"{timeline_status!r}; the timeline is incomplete, so the task keeps "
                f"{status!r} and is marked as having a truncated history"
            )
        self._add_task(position, task_id, repository, issue, created, status, truncated)

    def _add_task(
        self,
        position: int,
        task_id: str,
        repository: str,
        issue: dict,
        created: dt.datetime,
        status: str,
        truncated: bool,
    ) -> None:
        labels = _label_names(issue.get("labels"))
        milestone = issue.get("milestone")
        self.add_task(
            task_id=task_id,
            title=_text(issue.get("title")),
            task_type=_task_type(issue.get("type"), labels),
            created_at=created,
            status=status,
            project=repository.split("/", 1)[1],
            epic_id=_text(milestone.get("title")) if isinstance(milestone, dict) else None,
            labels=labels,
            assignee=_assignee(issue),
            resolution=_text(issue.get("state_reason")) if issue["state"] == "closed" else None,
            url=_text(issue.get("html_url")),
            updated_at=parse_timestamp(issue.get("updated_at")),
            is_history_truncated=truncated,
            _source_row=position,
        )

    def _add_transitions(
        self,
        position: int,
        task_id: str,
        created: dt.datetime,
        timeline: list[Any],
        state: _BoardState,
    ) -> str:
        """Replay the status events of a timeline into ``state``, adding one transition per
        instant that changes the derived status; return the status the timeline leads to."""
        events: list[tuple[dt.datetime, int, dict]] = []
        for index, event in enumerate(timeline, start=1):
            if not _moves_status(event):
                continue
            at = parse_timestamp(event.get("created_at"))
            if at is None:
                reason = (
                    f"issue {task_id} timeline event {index} ({event.get('event')}): "
                    f"unparseable created_at {event.get('created_at')!r}"
                )
                self.reject("task_status_changes", position, reason, event)
                continue
            events.append((at, index, event))
        events.sort(key=lambda item: item[:2])  # time order; the API's order breaks ties
        previous = None  # the status at creation until the first instant after it
        sequence = 0
        for at, moment in groupby(events, key=lambda item: item[0]):
            if previous is None and at > created:
                previous = state.status
            moment_events = [event for _, _, event in moment]
            for event in moment_events:
                state.apply(event)
            if previous is None:
                continue  # applied with the issue: part of its status at creation
            status = state.status
            if status == previous:
                continue
            sequence += 1
            self.add_status_change(
                task_id=task_id,
                changed_at=at,
                to_status=status,
                from_status=previous,
                author=_person(moment_events[-1].get("actor")),
                sequence=sequence,
                _source_row=position,
            )
            previous = status
        return state.status


def _current_status(issue: dict, replayed: _BoardState) -> str:
    """The issue's status now, from its own state and labels: the timeline only decides which
    of several present status labels was applied last."""
    if issue["state"] == "closed":
        return closed_status(issue.get("state_reason"))
    present = [
        status
        for status in map(status_of_label, _label_names(issue.get("labels")))
        if status is not None
    ]
    if not present:
        return OPEN
    return max(present, key=lambda status: replayed.labels.get(status, 0))


def _moves_status(event: object) -> bool:
    if not isinstance(event, dict):
        return False
    kind = event.get("event")
    if kind in ("closed", "reopened"):
        return True
    if kind in ("labeled", "unlabeled"):
        return status_of_label(_label_name(event.get("label"))) is not None
    return False


def _check_page_shape(payload: object, path: Path | None) -> None:
    if (
        isinstance(payload, dict)
        and isinstance(payload.get("issues"), list)
        and isinstance(payload.get("timelines"), dict)
    ):
        return
    if not isinstance(payload, dict):
        found = json_kind(payload)
    elif not isinstance(payload.get("issues"), list):
        found = "an object without an 'issues' array"
    else:
        found = "an object without a 'timelines' object"
    raise FileRejectedError(
        "not a GitHub issues page: expected an object with an 'issues' array and a 'timelines' "
        f"object (as `owh extract github` writes), found {found}",
        raw_text=file_preview(path) if path is not None else None,
    )


def _task_problems(
    issue: dict, number: object, created: dt.datetime | None, repository: str | None
) -> list[str]:
    problems = []
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append("missing number" if number is None else f"invalid number: {number!r}")
    if _text(issue.get("title")) is None:
        problems.append("missing title")
    if issue.get("created_at") is None:
        problems.append("missing created_at")
    elif created is None:
        problems.append(f"unparseable created_at: {issue.get('created_at')!r}")
    state = issue.get("state")
    if state is None:
        problems.append("missing state")
    elif state not in ("open", "closed"):
        problems.append(f"unknown state: {state!r}")
    if repository is None:
        problems.append("no repository_url, and the page is not from a pull naming its repo")
    return problems


def _repository(url: object) -> str | None:
    """``OWNER/NAME`` from an issue's ``repository_url`` (``.../repos/OWNER/NAME``)."""
    if not isinstance(url, str):
        return None
    match = _REPOSITORY_URL.search(url)
    return f"{match['owner']}/{match['name']}" if match else None


def _task_type(issue_type: object, labels: list[str]) -> str:
    if isinstance(issue_type, dict) and _text(issue_type.get("name")):
        return _text(issue_type.get("name")) or ""
    if any(label.strip().casefold() == "bug" for label in labels):
        return "bug"
    return "issue"


def _assignee(issue: dict) -> str | None:
    assignee = _person(issue.get("assignee"))
    if assignee is not None:
        return assignee
    assignees = issue.get("assignees")
    if isinstance(assignees, list) and assignees:
        return _person(assignees[0])
    return None


def _person(user: object) -> str | None:
    """A GitHub user as an identity: the e-mail address when GitHub shows one (the identity other
    trackers share), else the login."""
    if isinstance(user, dict):
        return normalize_identity(user.get("email")) or normalize_identity(user.get("login"))
    return normalize_identity(user) if isinstance(user, str) else None


def _label_name(label: object) -> str | None:
    if isinstance(label, dict):
        return _text(label.get("name"))
    return _text(label) if isinstance(label, str) else None


def _label_names(labels: object) -> list[str]:
    if not isinstance(labels, list):
        return []
    return [name for name in map(_label_name, labels) if name is not None]


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
