"""``generate_demo``: a believable organisation's landing data, with its ground truth.

Six teams on two trackers (Jira REST pages and Linear's canonical CSV), two years of work with
reopens, rework, cancellations, impediments and work in progress at the end date, the PMO's
outcome definitions, and KPI series that respond to the work. The same (tasks, seed, end_date)
always gives byte-identical files, so a demo run, a test and a benchmark see the same data.

``demo_manifest.json`` (top level, ignored by ingestion) records what was generated, computed
from the generated data itself, so tests can check the warehouse against it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.demo.business import (
    LinkedWork,
    flat_outcome_index,
    outcome_dates,
    write_definitions,
    write_impact,
)
from pipelines.demo.clock import MS_PER_HOUR, WorkingClock
from pipelines.demo.jira_export import Authors, write_jira_pages
from pipelines.demo.linear_export import write_linear_csvs
from pipelines.demo.organisation import (
    FLAT_OUTCOME_ID,
    JIRA,
    LINEAR,
    OUTCOMES,
    STALE_OUTCOME_ID,
    TEAM_NAMES,
    TEAMS,
    team_members,
)
from pipelines.demo.tasks import TaskTable, draw_tasks, unassign, workstream_rules
from pipelines.demo.timelines import IS_CANCELLED, IS_DONE, Timelines, build_timelines

HISTORY_DAYS = 730
MIN_TASKS = 50  # below this a team has too few tasks for its epics and workstreams
HORIZON_UTC_HOUR = 9  # nothing after end_date 09:00 UTC: still end_date in every team's zone
MANIFEST_NAME = "demo_manifest.json"
LANDING_FOLDERS: tuple[str, ...] = (
    "jira",
    "tasks",
    "task_status_changes",
    "task_flags",
    "kpis",
    "outcomes",
    "workstreams",
    "workstream_rules",
    "kpi_observations",
    "confidence_surveys",
)
ACHIEVED_OUTCOME_ID = next(o.outcome_id for o in OUTCOMES if o.target_months_after_end < 0)

# Independent random streams, so that changing how one part is drawn leaves the others alone.
TASKS_STREAM, TIMELINES_STREAM, PEOPLE_STREAM, JIRA_STREAM, LINEAR_STREAM, IMPACT_STREAM = range(6)


@dataclass(frozen=True)
class DemoManifest:
    """What ``generate_demo`` wrote, and the ground truth the warehouse should reproduce.

    Shares are exact for the generated files: ``unlinked_task_share`` is the share of all tasks
    that reach no outcome (no own workstream and no matching rule); ``reopened_task_share`` the
    share of tasks that ever reached done and later left it for a status that is neither done nor
    cancelled; ``cancelled_task_share`` the share of all tasks whose current status is cancelled.
    ``tasks_by_outcome`` counts the tasks that reach each outcome through their workstream.
    ``files_written`` holds paths relative to ``landing_dir``, POSIX style, sorted, then the
    manifest itself.
    """

    landing_dir: Path
    tasks: int
    seed: int
    end_date: dt.date
    history_start: dt.date
    teams: list[str]
    tasks_by_source: dict[str, int]
    flat_outcome_id: str
    stale_kpi_id: str
    stale_kpi_last_observed_on: dt.date
    achieved_outcome_id: str
    unlinked_tasks: int
    unlinked_task_share: float
    tasks_by_outcome: dict[str, int]
    reopened_task_share: float
    cancelled_task_share: float
    status_changes: int
    flag_intervals: int
    files_written: list[str]

    def to_json(self) -> str:
        """The manifest file: no absolute path, so identical inputs give identical bytes."""
        payload = {
            "tasks": self.tasks,
            "seed": self.seed,
            "end_date": self.end_date.isoformat(),
            "history_start": self.history_start.isoformat(),
            "teams": self.teams,
            "tasks_by_source": self.tasks_by_source,
            "flat_outcome_id": self.flat_outcome_id,
            "stale_kpi_id": self.stale_kpi_id,
            "stale_kpi_last_observed_on": self.stale_kpi_last_observed_on.isoformat(),
            "achieved_outcome_id": self.achieved_outcome_id,
            "unlinked_tasks": self.unlinked_tasks,
            "unlinked_task_share": self.unlinked_task_share,
            "tasks_by_outcome": self.tasks_by_outcome,
            "reopened_task_share": self.reopened_task_share,
            "cancelled_task_share": self.cancelled_task_share,
            "status_changes": self.status_changes,
            "flag_intervals": self.flag_intervals,
            "files_written": self.files_written,
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def generate_demo(
    landing_dir: Path,
    *,
    tasks: int = 12_000,
    seed: int = 7,
    end_date: dt.date | None = None,
) -> DemoManifest:
    """(Re)write the demo landing folders under ``landing_dir`` and return the manifest.

    Only the folders the demo writes are replaced (and the manifest); anything else in
    ``landing_dir`` is left alone. History covers the ``HISTORY_DAYS`` days before ``end_date``
    (default: today in UTC); nothing happens after ``end_date`` 09:00 UTC.
    """
    if tasks < MIN_TASKS:
        raise ValueError(f"the demo needs at least {MIN_TASKS} tasks, got {tasks}")
    landing_dir = Path(landing_dir)
    end_date = end_date or dt.datetime.now(dt.UTC).date()
    history_start = end_date - dt.timedelta(days=HISTORY_DAYS)
    horizon_utc_ms = _epoch_ms(end_date) + HORIZON_UTC_HOUR * MS_PER_HOUR

    def stream(component: int) -> np.random.Generator:
        return np.random.default_rng([seed, component])

    table = draw_tasks(stream(TASKS_STREAM), tasks, history_start, end_date)
    flat_work = table.outcome_reached == flat_outcome_index()
    clock = WorkingClock(history_start - dt.timedelta(days=7), end_date)
    timelines = build_timelines(
        stream(TIMELINES_STREAM), table, clock, horizon_utc_ms, restricted=flat_work
    )
    _check_flat_work_finished(timelines, flat_work)
    people_rng = stream(PEOPLE_STREAM)
    never_started = np.bincount(timelines.event_task, minlength=len(table)) == 0
    unassign(people_rng, table, never_started)
    authors = _draw_authors(people_rng, table, timelines)

    for folder in LANDING_FOLDERS:
        shutil.rmtree(landing_dir / folder, ignore_errors=True)
    (landing_dir / MANIFEST_NAME).unlink(missing_ok=True)
    landing_dir.mkdir(parents=True, exist_ok=True)

    work = LinkedWork(
        outcome=table.outcome_reached,
        completed_utc_ms=timelines.completed_utc_ms,
        cancelled=IS_CANCELLED[timelines.current_status],
    )
    written = write_jira_pages(landing_dir / "jira", stream(JIRA_STREAM), table, timelines, authors)
    written += write_linear_csvs(landing_dir, stream(LINEAR_STREAM), table, timelines, authors)
    written += write_definitions(landing_dir, end_date, workstream_rules(table))
    written += write_impact(landing_dir, stream(IMPACT_STREAM), end_date, work)

    manifest = _manifest(
        landing_dir, tasks, seed, end_date, history_start, table, timelines, written
    )
    (landing_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _epoch_ms(day: dt.date) -> int:
    return int(np.datetime64(day, "ms").astype(np.int64))


def _check_flat_work_finished(timelines: Timelines, flat_work: np.ndarray) -> None:
    """The flat outcome's story needs all of its work finished; fail loudly if it is not."""
    status = timelines.current_status[flat_work]
    if not np.all(IS_DONE[status] | IS_CANCELLED[status]):
        raise RuntimeError("the flat outcome's work was not all finished by the end date")


def _draw_authors(rng: np.random.Generator, table: TaskTable, timelines: Timelines) -> Authors:
    """Mostly the assignee moves the ticket; otherwise a teammate (a reviewer, the lead)."""

    def teammates(team: np.ndarray) -> np.ndarray:
        result = np.empty(len(team), dtype=np.int64)
        for team_index, spec in enumerate(TEAMS):
            rows = np.flatnonzero(team == team_index)
            members = np.array(team_members(spec.name))
            result[rows] = members[rng.integers(0, len(members), size=len(rows))]
        return result

    def by_assignee(task: np.ndarray, share: float) -> np.ndarray:
        assignee = table.assignee[task]
        use_assignee = (assignee >= 0) & (rng.random(len(task)) < share)
        return np.where(use_assignee, assignee, teammates(table.team[task]))

    return Authors(
        event=by_assignee(timelines.event_task, 0.7),
        flag_set=teammates(table.team[timelines.flag_task]),
        flag_clear=by_assignee(timelines.flag_task, 0.5),
    )


def _manifest(
    landing_dir: Path,
    tasks: int,
    seed: int,
    end_date: dt.date,
    history_start: dt.date,
    table: TaskTable,
    timelines: Timelines,
    written: list[Path],
) -> DemoManifest:
    source = np.array([t.source for t in TEAMS], dtype=object)[table.team]
    unlinked = int((table.workstream == -1).sum())
    reached_done = timelines.reached_done
    stale = next(o for o in OUTCOMES if o.outcome_id == STALE_OUTCOME_ID)
    return DemoManifest(
        landing_dir=landing_dir,
        tasks=tasks,
        seed=seed,
        end_date=end_date,
        history_start=history_start,
        teams=list(TEAM_NAMES),
        tasks_by_source={JIRA: int((source == JIRA).sum()), LINEAR: int((source == LINEAR).sum())},
        flat_outcome_id=FLAT_OUTCOME_ID,
        stale_kpi_id=stale.kpi.kpi_id,
        stale_kpi_last_observed_on=outcome_dates(stale, end_date).last_observed_on,
        achieved_outcome_id=ACHIEVED_OUTCOME_ID,
        unlinked_tasks=unlinked,
        unlinked_task_share=unlinked / tasks,
        tasks_by_outcome={
            outcome.outcome_id: int((table.outcome_reached == index).sum())
            for index, outcome in enumerate(OUTCOMES)
        },
        reopened_task_share=float(timelines.reopened.sum() / max(reached_done.sum(), 1)),
        cancelled_task_share=float(IS_CANCELLED[timelines.current_status].mean()),
        status_changes=len(timelines.event_task),
        flag_intervals=len(timelines.flag_task),
        files_written=[
            *sorted(p.relative_to(landing_dir).as_posix() for p in written),
            MANIFEST_NAME,
        ],
    )
