"""Status histories and impediment flags for every task, drawn without a per-task loop.

Each workflow has a finite set of *templates*: a template is the whole path a task would walk if
nothing stopped it (initial status, then each status entered with the kind of wait before it). A
task draws one template; its steps are exploded into one row per transition, each given a
log-normal duration on the working clock, summed per task, converted to the team's local time and
to UTC, and cut at the end of the history: what has not happened by then is not in the export, so
recent tasks are naturally in progress or still in the backlog.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pipelines.demo.clock import (
    MS_PER_DAY,
    MS_PER_HOUR,
    WorkingClock,
    local_to_utc_by_team,
    utc_to_local_by_team,
)
from pipelines.demo.organisation import (
    CANCELLED,
    DONE,
    IN_PROGRESS,
    STATUS_CATEGORIES,
    STATUSES,
    STEP_DURATIONS,
    STEP_KINDS,
    TEAMS,
    WAITING,
    WORKFLOWS,
    Workflow,
)
from pipelines.demo.tasks import TYPE_INDEX, TaskTable

# Shares of a workflow's tasks by how their path ends (before the cut at the end of the history).
NEVER_STARTED_SHARE = 0.06
STRAIGHT_DONE_SHARE = 0.02
CANCEL_BEFORE_START_SHARE = 0.045
CANCEL_AFTER_START_SHARE = 0.035
REWORK_LOOPS = {0: 0.70, 1: 0.22, 2: 0.08}  # review sends the work back to In Progress
QA_FAILURES = {0: 0.88, 1: 0.12}
BLOCKED_SPELLS = {0: 0.85, 1: 0.15}
REOPENS = {0: 0.913, 1: 0.075, 2: 0.012}

FLAG_SHARE = 0.10  # tasks flagged as impeded at least once
SECOND_FLAG_SHARE = 0.15
RAISED_AT_END_SHARE = 0.12  # of the work in progress at the end of the history
FLAG_MEDIAN_HOURS = 10.0  # working hours: from an afternoon to several days
FLAT_STEP_CAP_HOURS = 45.0  # caps each step of the flat outcome's work so it all finishes early
EVENING_SHARE = 0.06
WEEKEND_SHARE = 0.02
TYPE_PACE = {"epic": 4.0, "bug": 0.7, "spike": 0.6}

STATUS_INDEX = {status: i for i, status in enumerate(STATUSES)}
CATEGORY = np.array([STATUS_CATEGORIES[s] for s in STATUSES], dtype=object)
IS_DONE = CATEGORY == DONE
IS_CANCELLED = CATEGORY == CANCELLED
IS_STARTED = (CATEGORY == IN_PROGRESS) | (CATEGORY == WAITING)
KIND_INDEX = {kind: i for i, kind in enumerate(STEP_KINDS)}


@dataclass(frozen=True)
class Template:
    initial: str
    steps: tuple[tuple[str, str], ...]  # (status entered, kind of wait before entering it)
    weight: float
    ending: str  # never_started, straight_done, cancelled, delivered


def workflow_templates(workflow: Workflow) -> list[Template]:
    """Every path a task of this workflow can take, with its probability."""
    cancel_share = CANCEL_BEFORE_START_SHARE + CANCEL_AFTER_START_SHARE if workflow.cancel else 0.0
    delivered_share = 1.0 - NEVER_STARTED_SHARE - STRAIGHT_DONE_SHARE - cancel_share
    done_kind = "qa" if workflow.qa else "review"
    done_steps = ((workflow.done[0], done_kind), *((s, "close") for s in workflow.done[1:]))
    back_to_work = ("In Progress", "review")
    templates: list[Template] = []
    for initial, opening, opening_weight in workflow.opening:
        templates.append(
            Template(initial, (), opening_weight * NEVER_STARTED_SHARE, "never_started")
        )
        templates.append(
            Template(
                initial,
                ((workflow.straight_done, "queue"),),
                opening_weight * STRAIGHT_DONE_SHARE,
                "straight_done",
            )
        )
        if workflow.cancel:
            cancel = ((workflow.cancel, "cancel"),)
            templates.append(
                Template(initial, cancel, opening_weight * CANCEL_BEFORE_START_SHARE, "cancelled")
            )
            templates.append(
                Template(
                    initial,
                    opening + cancel,
                    opening_weight * CANCEL_AFTER_START_SHARE,
                    "cancelled",
                )
            )
        qa_options = QA_FAILURES if workflow.qa else {0: 1.0}
        blocked_options = BLOCKED_SPELLS if workflow.blocked else {0: 1.0}
        for (rework, p_rework), (qa_fail, p_qa), (blocked, p_blocked), (
            reopens,
            p_reopen,
        ) in itertools.product(
            REWORK_LOOPS.items(), qa_options.items(), blocked_options.items(), REOPENS.items()
        ):
            steps = list(opening)
            if blocked:
                steps += [(workflow.blocked, "active"), ("In Progress", "blocked")]
            steps += [(workflow.review, "active")]
            steps += [back_to_work, (workflow.review, "rework")] * rework
            if workflow.qa:
                steps += [(workflow.qa, "review")]
                steps += [
                    ("In Progress", "qa"),
                    (workflow.review, "rework"),
                    (workflow.qa, "review"),
                ] * qa_fail
            steps += done_steps
            for _ in range(reopens):
                steps += [("In Progress", "reopen"), (workflow.review, "rework")]
                if workflow.qa:
                    steps += [(workflow.qa, "review")]
                steps += done_steps
            weight = opening_weight * delivered_share * p_rework * p_qa * p_blocked * p_reopen
            templates.append(Template(initial, tuple(steps), weight, "delivered"))
    return templates


@dataclass
class Timelines:
    """What the trackers recorded by the end of the history.

    Events are the status transitions that happened, ordered by task then by source order; each
    has its from-status (the previous status, or the task's initial one) and a 1-based sequence.
    """

    created_utc_ms: np.ndarray
    initial_status: np.ndarray  # per task, index into STATUSES
    current_status: np.ndarray
    event_task: np.ndarray
    event_from: np.ndarray
    event_to: np.ndarray
    event_local_ms: np.ndarray
    event_utc_ms: np.ndarray
    event_sequence: np.ndarray
    flag_task: np.ndarray
    flag_set_local_ms: np.ndarray
    flag_set_utc_ms: np.ndarray
    flag_clear_local_ms: np.ndarray  # -1 when the flag is still raised
    flag_clear_utc_ms: np.ndarray

    @property
    def completed_utc_ms(self) -> np.ndarray:
        """Per task: when it last entered done from a status that is not done; -1 if not done."""
        n = len(self.current_status)
        entry = IS_DONE[self.event_to] & ~IS_DONE[self.event_from]
        completed = np.full(n, -1, dtype=np.int64)
        # Times never decrease within a task, so the latest entry is the last one.
        np.maximum.at(completed, self.event_task[entry], self.event_utc_ms[entry])
        completed[~IS_DONE[self.current_status]] = -1
        return completed

    @property
    def reopened(self) -> np.ndarray:
        """Per task: left a done status for a status that is neither done nor cancelled."""
        back = IS_DONE[self.event_from] & ~IS_DONE[self.event_to] & ~IS_CANCELLED[self.event_to]
        result = np.zeros(len(self.current_status), dtype=bool)
        result[self.event_task[back]] = True
        return result

    @property
    def reached_done(self) -> np.ndarray:
        result = np.zeros(len(self.current_status), dtype=bool)
        result[self.event_task[IS_DONE[self.event_to]]] = True
        return result


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _within_group_cumsum(values: np.ndarray, group_starts: np.ndarray, counts: np.ndarray):
    """Cumulative sum restarting at each group (groups are contiguous)."""
    if len(values) == 0:
        return values
    total = np.cumsum(values)
    before = np.where(group_starts > 0, total[group_starts - 1], 0)
    return total - np.repeat(before, counts)


def build_timelines(
    rng: np.random.Generator,
    tasks: TaskTable,
    clock: WorkingClock,
    horizon_utc_ms: int,
    restricted: np.ndarray,
) -> Timelines:
    """Draw every task's history up to ``horizon_utc_ms``.

    ``restricted`` tasks (the flat outcome's work) always finish: no never-started path and capped
    step durations, so they are completed or cancelled well before the horizon.
    """
    n = len(tasks)
    template_id, templates = _draw_templates(rng, tasks, restricted)
    flat_status = np.array([STATUS_INDEX[s] for t in templates for s, _ in t.steps], dtype=np.int64)
    flat_kind = np.array([KIND_INDEX[k] for t in templates for _, k in t.steps], dtype=np.int64)
    lengths = np.array([len(t.steps) for t in templates], dtype=np.int64)
    offsets = _group_starts(lengths)
    initial = np.array([STATUS_INDEX[t.initial] for t in templates])[template_id]

    counts = lengths[template_id]
    starts = _group_starts(counts)
    event_task = np.repeat(np.arange(n), counts)
    position = np.arange(counts.sum()) - np.repeat(starts, counts)
    flat_row = np.repeat(offsets[template_id], counts) + position
    status = flat_status[flat_row]
    kind = flat_kind[flat_row]

    duration_ms = _draw_durations(rng, tasks, event_task, kind, restricted)
    created_working = clock.to_working(tasks.created_local_ms)
    working = created_working[event_task] + _within_group_cumsum(duration_ms, starts, counts)
    base_local = clock.to_local(working)
    local = _off_hours(rng, base_local, starts, counts)

    created_utc = local_to_utc_by_team(tasks.created_local_ms, tasks.team)
    utc = local_to_utc_by_team(local, tasks.team[event_task])

    same_task = event_task[1:] == event_task[:-1]
    if np.any(same_task & (np.diff(utc) < 0)):
        raise RuntimeError("generated transitions go back in time within a task")
    happened = utc <= horizon_utc_ms
    kept_counts = np.bincount(event_task[happened], minlength=n)
    kept_starts = _group_starts(kept_counts)
    event_task, status, local, utc, working = (
        a[happened] for a in (event_task, status, local, utc, working)
    )
    sequence = np.arange(len(status)) - np.repeat(kept_starts, kept_counts)
    from_status = np.empty_like(status)
    from_status[1:] = status[:-1]
    first = sequence == 0
    from_status[first] = initial[event_task[first]]

    current = initial.copy()
    has_events = kept_counts > 0
    current[has_events] = status[kept_starts[has_events] + kept_counts[has_events] - 1]

    timelines = Timelines(
        created_utc_ms=created_utc,
        initial_status=initial,
        current_status=current,
        event_task=event_task,
        event_from=from_status,
        event_to=status,
        event_local_ms=local,
        event_utc_ms=utc,
        event_sequence=sequence + 1,
        flag_task=np.zeros(0, dtype=np.int64),
        flag_set_local_ms=np.zeros(0, dtype=np.int64),
        flag_set_utc_ms=np.zeros(0, dtype=np.int64),
        flag_clear_local_ms=np.zeros(0, dtype=np.int64),
        flag_clear_utc_ms=np.zeros(0, dtype=np.int64),
    )
    _draw_flags(rng, tasks, timelines, working, kept_starts, kept_counts, clock, horizon_utc_ms)
    # Downstream checks bound every timestamp by the end date: fail here, where the cause is.
    recorded = (created_utc, utc, timelines.flag_set_utc_ms, timelines.flag_clear_utc_ms)
    if any(np.any(instants > horizon_utc_ms) for instants in recorded):
        raise RuntimeError("generated history goes past its end")
    return timelines


def _draw_templates(
    rng: np.random.Generator, tasks: TaskTable, restricted: np.ndarray
) -> tuple[np.ndarray, list[Template]]:
    """A template per task, from its team's workflow (restricted tasks always finish)."""
    templates: list[Template] = []
    template_id = np.empty(len(tasks), dtype=np.int64)
    workflow_of_team = np.array([t.workflow for t in TEAMS], dtype=object)[tasks.team]
    for name, workflow in WORKFLOWS.items():
        options = workflow_templates(workflow)
        first = len(templates)
        templates += options
        weights = np.array([t.weight for t in options])
        finishing = weights * np.array([t.ending != "never_started" for t in options])
        for is_restricted, w in ((False, weights), (True, finishing)):
            rows = np.flatnonzero((workflow_of_team == name) & (restricted == is_restricted))
            template_id[rows] = first + rng.choice(len(options), size=len(rows), p=w / w.sum())
    return template_id, templates


def _draw_durations(
    rng: np.random.Generator,
    tasks: TaskTable,
    event_task: np.ndarray,
    kind: np.ndarray,
    restricted: np.ndarray,
) -> np.ndarray:
    """Working milliseconds before each transition: log-normal by kind, team pace and task size."""
    median = np.array([STEP_DURATIONS[k][0] for k in STEP_KINDS])
    sigma = np.array([STEP_DURATIONS[k][1] for k in STEP_KINDS])
    zero_share = np.array([STEP_DURATIONS[k][2] for k in STEP_KINDS])
    team_pace = np.array([t.pace for t in TEAMS])[tasks.team]
    type_pace = np.ones(len(TYPE_INDEX))
    for type_name, factor in TYPE_PACE.items():
        type_pace[TYPE_INDEX[type_name]] = factor
    task_pace = team_pace * type_pace[tasks.task_type] * rng.lognormal(0.0, 0.45, size=len(tasks))
    hours = median[kind] * np.exp(sigma[kind] * rng.standard_normal(len(kind)))
    hours *= task_pace[event_task]
    hours[rng.random(len(kind)) < zero_share[kind]] = 0.0
    hours = np.where(restricted[event_task], np.minimum(hours, FLAT_STEP_CAP_HOURS), hours)
    return (hours * MS_PER_HOUR).astype(np.int64)


def _off_hours(
    rng: np.random.Generator, base_local: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Move a few transitions to the evening or the weekend, never past the task's next one."""
    size = len(base_local)
    upper = np.full(size, np.iinfo(np.int64).max)
    upper[:-1] = base_local[1:]
    last = starts + counts - 1
    upper[last[counts > 0]] = np.iinfo(np.int64).max
    day = base_local // MS_PER_DAY
    weekday = (day + 3) % 7
    evening = day * MS_PER_DAY + (18 * MS_PER_HOUR + rng.random(size) * 4 * MS_PER_HOUR).astype(
        np.int64
    )
    saturday = (day + (5 - weekday) % 7) * MS_PER_DAY
    weekend = saturday + (10 * MS_PER_HOUR + rng.random(size) * 7 * MS_PER_HOUR).astype(np.int64)
    pick = rng.random(size)
    candidate = np.where(pick < WEEKEND_SHARE, weekend, evening)
    wanted = pick < WEEKEND_SHARE + EVENING_SHARE
    accept = wanted & (candidate > base_local) & (candidate < upper)
    return np.where(accept, candidate, base_local)


def _draw_flags(
    rng: np.random.Generator,
    tasks: TaskTable,
    timelines: Timelines,
    working: np.ndarray,
    kept_starts: np.ndarray,
    kept_counts: np.ndarray,
    clock: WorkingClock,
    horizon_utc_ms: int,
) -> None:
    """Impediment flags raised while a task was under way, some still raised at the end."""
    n = len(tasks)
    started_event = IS_STARTED[timelines.event_to]
    no_start = len(timelines.event_task)
    first_start = np.full(n, no_start)
    rows = np.flatnonzero(started_event)
    np.minimum.at(first_start, timelines.event_task[rows], rows)
    started = first_start < no_start
    finished = IS_DONE[timelines.current_status] | IS_CANCELLED[timelines.current_status]
    last_event = kept_starts + kept_counts - 1

    horizon_local = utc_to_local_by_team(np.full(n, horizon_utc_ms, dtype=np.int64), tasks.team)
    horizon_working = clock.to_working(horizon_local)

    # Some work in progress is impeded right now: its flag was raised hours or days ago.
    raised_now = started & ~finished & (rng.random(n) < RAISED_AT_END_SHARE)
    share = FLAG_SHARE / max(started.mean(), FLAG_SHARE)
    flagged = np.flatnonzero(started & ~raised_now & (rng.random(n) < share))
    window_start = working[first_start[flagged]]
    window_end = np.where(finished[flagged], working[last_event[flagged]], horizon_working[flagged])

    def one_flag(begin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        set_at = begin + (rng.random(len(begin)) * 0.6 * (window_end - begin)).astype(np.int64)
        hours = FLAG_MEDIAN_HOURS * rng.lognormal(0.0, 1.0, size=len(begin))
        return set_at, set_at + (hours * MS_PER_HOUR).astype(np.int64)

    set_1, clear_1 = one_flag(window_start)
    second = rng.random(len(flagged)) < SECOND_FLAG_SHARE
    # A second flag needs room: raised an hour or more after the first cleared and strictly before
    # the window closes. Raised at the window's end itself, it would read back (working time to
    # local) as the next office morning when the horizon falls outside a team's office hours.
    set_2, clear_2 = one_flag(clear_1 + MS_PER_HOUR)
    keep_2 = second & (clear_1 + MS_PER_HOUR < window_end)
    now = np.flatnonzero(raised_now)
    raised_for = (FLAG_MEDIAN_HOURS * rng.lognormal(0.0, 1.0, size=len(now)) * MS_PER_HOUR).astype(
        np.int64
    )
    set_now = np.maximum(working[first_start[now]], horizon_working[now] - raised_for)
    task = np.concatenate([flagged, flagged[keep_2], now])
    set_w = np.concatenate([set_1, set_2[keep_2], set_now])
    clear_w = np.concatenate([clear_1, clear_2[keep_2], horizon_working[now]])
    end_w = np.concatenate([window_end, window_end[keep_2], horizon_working[now]])

    quarter_hour = MS_PER_HOUR // 4
    is_finished = finished[task]
    clear_w = np.where(is_finished, np.minimum(clear_w, end_w - quarter_hour), clear_w)
    still_raised = ~is_finished & (clear_w >= end_w)
    valid = still_raised | (clear_w > set_w + quarter_hour)
    task, set_w, clear_w, still_raised = (a[valid] for a in (task, set_w, clear_w, still_raised))

    # Bound by the transitions as they were written (some moved to evenings or weekends).
    start_local = timelines.event_local_ms[first_start[task]]
    end_local = timelines.event_local_ms[last_event[task]]
    set_local = np.maximum(clock.to_local(set_w), start_local)
    clear_local = clock.to_local(clear_w)
    clear_local = np.where(finished[task], np.minimum(clear_local, end_local - 60_000), clear_local)
    valid = still_raised | (clear_local > set_local)
    task, set_local, clear_local, still_raised = (
        a[valid] for a in (task, set_local, clear_local, still_raised)
    )
    order = np.lexsort((set_local, task))
    task, set_local, clear_local, still_raised = (
        a[order] for a in (task, set_local, clear_local, still_raised)
    )
    set_utc = local_to_utc_by_team(set_local, tasks.team[task])
    clear_utc = local_to_utc_by_team(clear_local, tasks.team[task])
    timelines.flag_task = task
    timelines.flag_set_local_ms = set_local
    timelines.flag_set_utc_ms = set_utc
    timelines.flag_clear_local_ms = np.where(still_raised, -1, clear_local)
    timelines.flag_clear_utc_ms = np.where(still_raised, -1, clear_utc)
