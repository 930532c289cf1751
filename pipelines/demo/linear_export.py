"""Write the Linear teams' tasks as the canonical CSV contract (docs/input-contract.md).

Linear's own export is turned into the canonical columns upstream of the warehouse, so the files
use exactly the column names of ``pipelines.lib.raw_schema``. Timestamps carry the team's offset
(``2025-01-02T10:00:00+01:00``), except the flag export, which Linear writes in UTC (``Z``). People
are written as the Linear user directory spells them, which is not always how Jira does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.demo.clock import format_iso, format_utc_z
from pipelines.demo.jira_export import Authors
from pipelines.demo.organisation import (
    FLAG_REASONS,
    LABELS,
    LINEAR,
    PEOPLE,
    STATUSES,
    TASK_TYPES,
    TEAMS,
    WORKSTREAMS,
)
from pipelines.demo.tasks import BUG, TaskTable
from pipelines.demo.timelines import Timelines
from pipelines.lib.raw_schema import TASK_FLAGS, TASK_STATUS_CHANGES, TASKS

LINEAR_PRIORITIES = ("Urgent", "High", "Medium", "Low", "No priority")
WORKSPACE_URL = "https://linear.app/acme/issue"


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def _people(index: np.ndarray) -> np.ndarray:
    spelled = np.array([p.linear_email for p in PEOPLE] + [""], dtype=object)
    return spelled[np.where(index >= 0, index, len(PEOPLE))]


def _joined_labels(labels: np.ndarray) -> np.ndarray:
    """``a;b`` per row of a tasks x LABELS bool matrix (labels in vocabulary order)."""
    joined = np.full(len(labels), "", dtype=object)
    for column, label in enumerate(LABELS):
        rows = labels[:, column]
        joined[rows] = np.where(joined[rows] == "", label, joined[rows] + ";" + label)
    return joined


def write_linear_csvs(
    landing: Path,
    rng: np.random.Generator,
    tasks: TaskTable,
    timelines: Timelines,
    authors: Authors,
) -> list[Path]:
    """Write the tasks, status changes and flags files of the Linear teams."""
    is_linear = np.array([t.source == LINEAR for t in TEAMS])[tasks.team]
    rows = np.flatnonzero(is_linear)
    project = np.array([t.project for t in TEAMS], dtype=object)[tasks.team]
    key = project + "-" + tasks.number.astype(str).astype(object)
    team_name = np.array([t.name for t in TEAMS], dtype=object)[tasks.team]

    epic_key = np.full(len(tasks), "", dtype=object)
    has_epic = tasks.epic >= 0
    epic_key[has_epic] = key[tasks.epic[has_epic]]
    points = tasks.story_points
    points_text = np.where(np.isnan(points), "", np.char.mod("%g", np.nan_to_num(points)))
    workstream_ids = np.array([ws.workstream_id for ws in WORKSTREAMS] + [""], dtype=object)
    found_in = np.where(
        tasks.task_type == BUG,
        np.where(tasks.production_bug, "production", "pre_release"),
        "",
    )
    columns = {
        "source": LINEAR,
        "task_id": key[rows],
        "title": tasks.title[rows],
        "task_type": np.array(TASK_TYPES, dtype=object)[tasks.task_type[rows]],
        "created_at": format_iso(tasks.created_local_ms[rows], timelines.created_utc_ms[rows]),
        "status": np.array(STATUSES, dtype=object)[timelines.current_status[rows]],
        "team": team_name[rows],
        "project": project[rows],
        "epic_id": epic_key[rows],
        "parent_id": "",
        "labels": _joined_labels(tasks.labels[rows]),
        "assignee": _people(tasks.assignee[rows]),
        "story_points": points_text[rows].astype(object),
        "priority": np.array(LINEAR_PRIORITIES, dtype=object)[tasks.priority[rows]],
        "resolution": "",
        "found_in": found_in[rows].astype(object),
        "workstream_id": workstream_ids[tasks.own_workstream[rows]],
        "url": WORKSPACE_URL + "/" + key[rows],
        # the export knows neither: left empty, as the contract allows
        "updated_at": "",
        "is_history_truncated": "",
    }
    written = [
        _write_csv(
            pd.DataFrame(
                {name: columns[name] for name in TASKS.column_names},
                index=None,
            ),
            landing / "tasks" / "linear-tasks.csv",
        )
    ]

    events = np.flatnonzero(is_linear[timelines.event_task])
    event_task = timelines.event_task[events]
    statuses = np.array(STATUSES, dtype=object)
    changes = {
        "source": LINEAR,
        "task_id": key[event_task],
        "changed_at": format_iso(timelines.event_local_ms[events], timelines.event_utc_ms[events]),
        "from_status": statuses[timelines.event_from[events]],
        "to_status": statuses[timelines.event_to[events]],
        "author": _people(authors.event[events]),
        "sequence": timelines.event_sequence[events],
    }
    written.append(
        _write_csv(
            pd.DataFrame({name: changes[name] for name in TASK_STATUS_CHANGES.column_names}),
            landing / "task_status_changes" / "linear-status-changes.csv",
        )
    )

    flags = np.flatnonzero(is_linear[timelines.flag_task])
    cleared = timelines.flag_clear_utc_ms[flags]
    reasons = np.array(FLAG_REASONS, dtype=object)
    flag_columns = {
        "source": LINEAR,
        "task_id": key[timelines.flag_task[flags]],
        "flagged_at": format_utc_z(timelines.flag_set_utc_ms[flags]),
        "unflagged_at": np.where(cleared >= 0, format_utc_z(np.maximum(cleared, 0)), ""),
        "reason": reasons[rng.integers(0, len(reasons), size=len(flags))],
    }
    written.append(
        _write_csv(
            pd.DataFrame({name: flag_columns[name] for name in TASK_FLAGS.column_names}),
            landing / "task_flags" / "linear-flags.csv",
        )
    )
    return written
