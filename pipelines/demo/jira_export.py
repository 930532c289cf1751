"""Write the Jira teams' tasks as Jira REST ``/rest/api/2/search`` pages with ``expand=changelog``.

The pages look like what a Jira Cloud site returns: issue ids and changelog history ids that grow
with time, timestamps in the team's UTC offset at that instant (``+0530``, ``-0400``), the first
status implicit (no history at creation), status and flag changes as changelog items, and some
histories that change other fields (assignee, priority) which a status parser must skip.

Everything that can be is computed column-wise first; the only Python loop builds the JSON
objects, with the repeated parts (status objects, people, changelog items) built once and shared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.demo.clock import format_jira, utc_to_local_by_team
from pipelines.demo.organisation import (
    JIRA,
    JIRA_CATEGORY_KEYS,
    JIRA_STATUS_IDS,
    JIRA_TASK_TYPES,
    LABELS,
    PEOPLE,
    STATUS_CATEGORIES,
    STATUSES,
    TASK_TYPES,
    TEAMS,
    team_members,
)
from pipelines.demo.tasks import BUG, TaskTable
from pipelines.demo.timelines import IS_CANCELLED, IS_DONE, IS_STARTED, Timelines

PAGE_SIZE = 500
SITE = "https://acme.atlassian.net"
JIRA_PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
FLAGGED_ID = "[10019]"
PRIORITY_CHANGE_SHARE = 0.05
ASSIGNEE_ON_START_SHARE = 0.4  # the start transition also sets the assignee, in one history

# History kinds, in the order histories with the same timestamp are listed.
STATUS, FLAG_SET, FLAG_CLEAR, PRIORITY = 0, 1, 2, 3


@dataclass(frozen=True)
class Authors:
    """Who made each status change and each flag change (indexes into PEOPLE)."""

    event: np.ndarray
    flag_set: np.ndarray
    flag_clear: np.ndarray


def _account_id(email: str) -> str:
    return "712020:" + hashlib.sha256(email.encode()).hexdigest()[:24]


def _user(person: int) -> dict[str, object] | None:
    if person < 0:
        return None
    p = PEOPLE[person]
    return {
        "accountId": _account_id(p.email),
        "emailAddress": p.email,
        "displayName": p.display_name,
    }


def _label_lists(labels: np.ndarray) -> list[list[str]]:
    lists: list[list[str]] = [[] for _ in range(len(labels))]
    rows, cols = np.nonzero(labels)
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        lists[row].append(LABELS[col])
    return lists


def write_jira_pages(
    folder: Path,
    rng: np.random.Generator,
    tasks: TaskTable,
    timelines: Timelines,
    authors: Authors,
) -> list[Path]:
    """Write ``search-0001.json``, ... (``PAGE_SIZE`` issues each, oldest issue first)."""
    folder.mkdir(parents=True, exist_ok=True)
    is_jira = np.array([t.source == JIRA for t in TEAMS])[tasks.team]
    issues = np.flatnonzero(is_jira)
    # Jira numbers issue ids site-wide in creation order.
    issues = issues[np.lexsort((issues, timelines.created_utc_ms[issues]))]
    issue_rank = np.full(len(tasks), -1)
    issue_rank[issues] = np.arange(len(issues))

    histories = _histories(rng, tasks, timelines, authors, issue_rank)
    written = []
    for page, page_issues in enumerate(_issue_pages(tasks, timelines, issues, histories)):
        payload = {
            "expand": "schema,names",
            "startAt": page * PAGE_SIZE,
            "maxResults": PAGE_SIZE,
            "total": len(issues),
            "issues": page_issues,
        }
        path = folder / f"search-{page + 1:04d}.json"
        path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "utf-8")
        written.append(path)
    return written


@dataclass
class _Histories:
    """Changelog histories of all Jira issues, sorted by issue then time."""

    issue_starts: np.ndarray  # per issue rank: first history row
    issue_counts: np.ndarray
    ids: list[str]
    created: list[str]
    authors: list[int]
    items: list[list[dict[str, object]]]


def _histories(
    rng: np.random.Generator,
    tasks: TaskTable,
    timelines: Timelines,
    authors: Authors,
    issue_rank: np.ndarray,
) -> _Histories:
    events = np.flatnonzero(issue_rank[timelines.event_task] >= 0)
    flags = np.flatnonzero(issue_rank[timelines.flag_task] >= 0)
    cleared = flags[timelines.flag_clear_utc_ms[flags] >= 0]

    # Picking work up sometimes also assigns it (Jira records both in one history).
    event_task = timelines.event_task[events]
    is_start = IS_STARTED[timelines.event_to[events]] & ~IS_STARTED[timelines.event_from[events]]
    assigns = is_start & (rng.random(len(events)) < ASSIGNEE_ON_START_SHARE)
    assigns &= tasks.assignee[event_task] >= 0

    # A few issues have their priority changed between creation and their last change.
    jira_tasks = np.flatnonzero(issue_rank >= 0)
    reprioritised = jira_tasks[rng.random(len(jira_tasks)) < PRIORITY_CHANGE_SHARE]
    last_seen = timelines.created_utc_ms.copy()
    np.maximum.at(last_seen, timelines.event_task, timelines.event_utc_ms)
    created = timelines.created_utc_ms[reprioritised]
    span = last_seen[reprioritised] - created
    priority_utc = created + (rng.random(len(reprioritised)) * span).astype(np.int64)
    # The change ends at the issue's current priority, from a neighbouring one.
    current_priority = tasks.priority[reprioritised]
    step = rng.choice([-1, 1], len(reprioritised))
    earlier_priority = np.where(
        (current_priority + step < 0) | (current_priority + step > 4),
        current_priority - step,
        current_priority + step,
    )
    priority_author = _team_member(rng, tasks.team[reprioritised])
    priority_local = utc_to_local_by_team(priority_utc, tasks.team[reprioritised])

    task = np.concatenate(
        [event_task, timelines.flag_task[flags], timelines.flag_task[cleared], reprioritised]
    )
    utc = np.concatenate(
        [
            timelines.event_utc_ms[events],
            timelines.flag_set_utc_ms[flags],
            timelines.flag_clear_utc_ms[cleared],
            priority_utc,
        ]
    )
    local = np.concatenate(
        [
            timelines.event_local_ms[events],
            timelines.flag_set_local_ms[flags],
            timelines.flag_clear_local_ms[cleared],
            priority_local,
        ]
    )
    kind = np.concatenate(
        [
            np.full(len(events), STATUS),
            np.full(len(flags), FLAG_SET),
            np.full(len(cleared), FLAG_CLEAR),
            np.full(len(reprioritised), PRIORITY),
        ]
    )
    # Status changes keep their own order; other histories follow them at equal timestamps.
    tiebreak = (
        np.concatenate(
            [
                timelines.event_sequence[events],
                np.full(len(flags) + len(cleared) + len(reprioritised), 1_000_000),
            ]
        )
        + kind
    )
    author = np.concatenate(
        [
            authors.event[events],
            authors.flag_set[flags],
            authors.flag_clear[cleared],
            priority_author,
        ]
    )
    source_row = np.concatenate(
        [events, flags, cleared, np.arange(len(reprioritised))]
    )  # what each history describes, in its own table
    assign_flag = np.concatenate([assigns, np.zeros(len(task) - len(events), dtype=bool)])
    from_priority = np.concatenate(
        [np.zeros(len(task) - len(reprioritised), dtype=np.int64), earlier_priority]
    )
    to_priority = np.concatenate(
        [np.zeros(len(task) - len(reprioritised), dtype=np.int64), current_priority]
    )

    rank = issue_rank[task]
    order = np.lexsort((tiebreak, utc, rank))
    # History ids grow with time across the whole site, as Jira's do.
    ids = np.empty(len(order), dtype=np.int64)
    ids[np.lexsort((tiebreak, rank, utc))] = np.arange(len(order))
    counts = np.bincount(rank, minlength=int(issue_rank.max()) + 1)
    starts = np.cumsum(counts) - counts

    items = _items(
        kind[order],
        source_row[order],
        assign_flag[order],
        from_priority[order],
        to_priority[order],
        timelines,
        tasks,
        task[order],
    )
    return _Histories(
        issue_starts=starts,
        issue_counts=counts,
        ids=(ids[order] + 100_001).astype(str).tolist(),
        created=format_jira(local[order], utc[order]).tolist(),
        authors=author[order].tolist(),
        items=items,
    )


def _team_member(rng: np.random.Generator, team: np.ndarray) -> np.ndarray:
    result = np.empty(len(team), dtype=np.int64)
    for team_index, t in enumerate(TEAMS):
        rows = np.flatnonzero(team == team_index)
        members = np.array(team_members(t.name))
        result[rows] = members[rng.integers(0, len(members), size=len(rows))]
    return result


def _items(
    kind: np.ndarray,
    source_row: np.ndarray,
    assigns: np.ndarray,
    from_priority: np.ndarray,
    to_priority: np.ndarray,
    timelines: Timelines,
    tasks: TaskTable,
    task: np.ndarray,
) -> list[list[dict[str, object]]]:
    """The items of each history; identical item lists are built once and shared."""
    status_items: dict[tuple[int, int, int], list[dict[str, object]]] = {}
    flag_set = [
        {
            "field": "Flagged",
            "fieldtype": "custom",
            "from": None,
            "fromString": None,
            "to": FLAGGED_ID,
            "toString": "Impediment",
        }
    ]
    flag_clear = [
        {
            "field": "Flagged",
            "fieldtype": "custom",
            "from": FLAGGED_ID,
            "fromString": "Impediment",
            "to": None,
            "toString": "",
        }
    ]
    priority_items: dict[tuple[int, int], list[dict[str, object]]] = {}
    from_status = timelines.event_from.tolist()
    to_status = timelines.event_to.tolist()
    assignee = tasks.assignee.tolist()
    result: list[list[dict[str, object]]] = []
    for k, row, assign, p_from, p_to, t in zip(
        kind.tolist(),
        source_row.tolist(),
        assigns.tolist(),
        from_priority.tolist(),
        to_priority.tolist(),
        task.tolist(),
        strict=True,
    ):
        if k == STATUS:
            key = (from_status[row], to_status[row], assignee[t] if assign else -1)
            items = status_items.get(key)
            if items is None:
                items = [_status_item(key[0], key[1])]
                if key[2] >= 0:
                    items.append(_assignee_item(key[2]))
                status_items[key] = items
        elif k == FLAG_SET:
            items = flag_set
        elif k == FLAG_CLEAR:
            items = flag_clear
        else:
            items = priority_items.get((p_from, p_to))
            if items is None:
                items = [
                    {
                        "field": "priority",
                        "fieldtype": "jira",
                        "from": str(p_from + 1),
                        "fromString": JIRA_PRIORITIES[p_from],
                        "to": str(p_to + 1),
                        "toString": JIRA_PRIORITIES[p_to],
                    }
                ]
                priority_items[(p_from, p_to)] = items
        result.append(items)
    return result


def _status_item(from_status: int, to_status: int) -> dict[str, object]:
    return {
        "field": "status",
        "fieldtype": "jira",
        "from": JIRA_STATUS_IDS[STATUSES[from_status]],
        "fromString": STATUSES[from_status],
        "to": JIRA_STATUS_IDS[STATUSES[to_status]],
        "toString": STATUSES[to_status],
    }


def _assignee_item(person: int) -> dict[str, object]:
    return {
        "field": "assignee",
        "fieldtype": "jira",
        "from": None,
        "fromString": None,
        "to": _account_id(PEOPLE[person].email),
        "toString": PEOPLE[person].display_name,
    }


def _issue_pages(
    tasks: TaskTable, timelines: Timelines, issues: np.ndarray, histories: _Histories
) -> Iterator[list[dict[str, object]]]:
    """The issue objects, one page at a time (an empty page when there are no issues).

    Columns are prepared once for all issues; JSON objects only for the page being written, so
    memory stays flat however many issues there are.
    """
    users = [_user(i) for i in range(len(PEOPLE))]
    status_objects = [
        {
            "name": status,
            "statusCategory": {"key": JIRA_CATEGORY_KEYS[STATUS_CATEGORIES[status]]},
        }
        for status in STATUSES
    ]
    issue_types = [{"name": JIRA_TASK_TYPES[name]} for name in TASK_TYPES]
    projects = [{"key": t.project} for t in TEAMS]
    priorities = [{"name": name} for name in JIRA_PRIORITIES]
    found_in = {True: {"value": "production"}, False: {"value": "pre_release"}}
    raised_flag = [{"value": "Impediment"}]
    resolutions = {
        "Done": {"name": "Done"},
        "Fixed": {"name": "Fixed"},
        "Won't Do": {"name": "Won't Do"},
    }

    created = format_jira(tasks.created_local_ms[issues], timelines.created_utc_ms[issues]).tolist()
    labels = _label_lists(tasks.labels[issues])
    flag_raised = np.zeros(len(tasks), dtype=bool)
    flag_raised[timelines.flag_task[timelines.flag_clear_utc_ms < 0]] = True
    status = timelines.current_status[issues]
    category_done = IS_DONE[status]
    category_cancelled = IS_CANCELLED[status]
    is_bug = tasks.task_type[issues] == BUG
    project = np.array([t.project for t in TEAMS], dtype=object)[tasks.team[issues]]
    keys = (project + "-" + tasks.number[issues].astype(str).astype(object)).tolist()
    epic = tasks.epic[issues]
    parent_keys = np.full(len(issues), None, dtype=object)
    has_epic = epic >= 0
    parent_keys[has_epic] = project[has_epic] + "-" + tasks.number[epic[has_epic]].astype(str)
    points = tasks.story_points[issues]
    points_list = np.where(np.isnan(points), None, points).tolist()

    columns = list(
        zip(
            keys,
            tasks.team[issues].tolist(),
            status.tolist(),
            category_done.tolist(),
            category_cancelled.tolist(),
            is_bug.tolist(),
            tasks.production_bug[issues].tolist(),
            tasks.task_type[issues].tolist(),
            tasks.title[issues].tolist(),
            tasks.assignee[issues].tolist(),
            tasks.priority[issues].tolist(),
            parent_keys.tolist(),
            points_list,
            flag_raised[issues].tolist(),
            histories.issue_starts.tolist(),
            histories.issue_counts.tolist(),
            strict=True,
        )
    )
    for page_start in range(0, max(len(issues), 1), PAGE_SIZE):
        page_columns = columns[page_start : page_start + PAGE_SIZE]
        first_history = page_columns[0][-2] if page_columns else 0
        last_history = page_columns[-1][-2] + page_columns[-1][-1] if page_columns else 0
        history_objects = [
            {"id": history_id, "author": users[author], "created": when, "items": items}
            for history_id, author, when, items in zip(
                histories.ids[first_history:last_history],
                histories.authors[first_history:last_history],
                histories.created[first_history:last_history],
                histories.items[first_history:last_history],
                strict=True,
            )
        ]
        objects = []
        for position, (
            key,
            team,
            state,
            done,
            cancelled,
            bug,
            production,
            kind,
            title,
            assignee,
            priority,
            parent,
            story_points,
            raised,
            first,
            count,
        ) in enumerate(page_columns, start=page_start):
            issue_id = str(10_001 + position)
            if done:
                fixed = bug and TEAMS[team].project == "MOB"
                resolution = resolutions["Fixed" if fixed else "Done"]
            elif cancelled:
                resolution = resolutions["Won't Do"]
            else:
                resolution = None
            changelog = history_objects[first - first_history : first - first_history + count]
            fields: dict[str, object] = {
                "summary": title,
                "issuetype": issue_types[kind],
                "status": status_objects[state],
                "created": created[position],
                "updated": changelog[-1]["created"] if changelog else created[position],
                "project": projects[team],
                "labels": labels[position],
                "assignee": users[assignee] if assignee >= 0 else None,
                "priority": priorities[priority],
                "resolution": resolution,
            }
            if parent is not None:
                fields["parent"] = {"key": parent}
            fields["customfield_10016"] = story_points
            fields["customfield_10200"] = found_in[production] if bug else None
            fields["customfield_10021"] = raised_flag if raised else None
            objects.append(
                {
                    "id": issue_id,
                    "key": key,
                    "self": f"{SITE}/rest/api/2/issue/{issue_id}",
                    "fields": fields,
                    "changelog": {
                        "startAt": 0,
                        "maxResults": count,
                        "total": count,
                        "histories": changelog,
                    },
                }
            )
        yield objects
