"""Draw the tasks of the demo organisation: who, when, what kind, and which outcome they serve.

Columnar throughout (one numpy array per attribute, one row per task) so that a million tasks are
drawn in seconds. Each task first gets a *purpose* (a workstream, or none); its labels, epic and own
workstream id are then chosen so that the warehouse's rule matching leads it there. What a task
finally reaches is computed by the same precedence the warehouse applies (`resolve_workstreams`),
never assumed from the purpose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipelines.demo.clock import MS_PER_DAY, MS_PER_HOUR
from pipelines.demo.organisation import (
    BUG_SYMPTOMS,
    CROSS_LABELS,
    EPIC_SUFFIXES,
    FLAT_OUTCOME_ID,
    LABELS,
    OUTCOMES,
    PRODUCTION_BUG_SHARE,
    TASK_PURPOSES,
    TASK_TYPE_SHARES,
    TASK_TYPES,
    TEAMS,
    TITLE_OBJECTS,
    TITLE_QUALIFIERS,
    TITLE_VERBS,
    WORKSTREAMS,
    team_members,
)

EPIC_SHARE = 0.025  # epics among a team's tasks
MIN_EPICS_PER_TEAM = 3
FLAT_EPIC_SHARE = 0.3  # share of Support Tools epics that belong to the flat outcome
EPIC_CHILD_SPAN_DAYS = 120  # children of a workstream's epic are created within this window
NEUTRAL_EPIC_SHARE = 0.45  # other stories, tasks and bugs that sit under an epic
FREE_LABEL_ON_LINKED = 0.25
UNASSIGNED_BACKLOG_SHARE = 0.6
UNASSIGNED_SHARE = 0.05

WORKSTREAM_INDEX = {ws.workstream_id: i for i, ws in enumerate(WORKSTREAMS)}
_OUTCOME_INDEX = {o.outcome_id: i for i, o in enumerate(OUTCOMES)}
# Outcome (OUTCOMES index) of each workstream; the extra last entry serves index -1 (none).
WORKSTREAM_OUTCOME = np.array([_OUTCOME_INDEX[ws.outcome_id] for ws in WORKSTREAMS] + [-1])
LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}
TYPE_INDEX = {name: i for i, name in enumerate(TASK_TYPES)}
EPIC = TYPE_INDEX["epic"]
BUG = TYPE_INDEX["bug"]
THEMES: tuple[str, ...] = tuple(TITLE_OBJECTS)
THEME_INDEX = {theme: i for i, theme in enumerate(THEMES)}
# The title theme of a free label (labels without their own vocabulary read as general work).
LABEL_THEME = np.array([THEME_INDEX.get(label, THEME_INDEX["general"]) for label in LABELS])


@dataclass
class TaskTable:
    """One row per task, sorted by team then creation time (the order keys are numbered in)."""

    team: np.ndarray  # index into TEAMS
    number: np.ndarray  # key number within the project: PAY-<number>
    created_local_ms: np.ndarray  # team-local wall clock
    task_type: np.ndarray  # index into TASK_TYPES
    theme: np.ndarray  # index into THEMES
    labels: np.ndarray  # bool matrix, tasks x LABELS
    epic: np.ndarray  # row of the task's epic, -1 if none
    own_workstream: np.ndarray  # index into WORKSTREAMS a task carries itself, -1 if none
    workstream: np.ndarray  # index into WORKSTREAMS the task reaches, -1 if none
    rule_epic_workstream: np.ndarray  # for epics matched by rules: the workstream, else -1
    title: np.ndarray  # str objects
    assignee: np.ndarray  # index into PEOPLE, -1 if unassigned
    story_points: np.ndarray  # float, NaN if not estimated
    priority: np.ndarray  # 0 (highest) .. 4 (lowest)
    production_bug: np.ndarray  # bool, meaningful for bugs only

    def __len__(self) -> int:
        return len(self.team)

    @property
    def outcome_reached(self) -> np.ndarray:
        """Index into OUTCOMES of the outcome each task reaches, -1 if none."""
        return WORKSTREAM_OUTCOME[self.workstream]


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` by ``weights`` in whole numbers (largest remainder), deterministically."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def creation_day_weights(days: np.ndarray, growth: float) -> np.ndarray:
    """Relative volume of new tasks per day: weekdays, seasons, a year-end dip, team growth."""
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    weight = np.where(weekday < 5, 1.0, 0.06)
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64)
    weight *= 1.0 + 0.12 * np.sin(2 * np.pi * (day_of_year - 80) / 365.25)
    # Holidays: from about 21 December to 3 January little new work is raised.
    weight *= np.where((day_of_year >= 355) | (day_of_year <= 2), 0.3, 1.0)
    position = np.linspace(0.0, 1.0, len(days))
    weight *= 1.0 + growth * (position - 0.5)
    return weight / weight.sum()


def draw_created(
    rng: np.random.Generator, days: np.ndarray, weights: np.ndarray, size: int
) -> np.ndarray:
    """Local creation instants: office hours on workdays, later in the day now and then."""
    day = rng.choice(days, size=size, p=weights).astype(np.int64)
    weekday = (day + 3) % 7
    hour = np.where(
        weekday < 5,
        9.0 + 9.0 * rng.random(size),
        10.0 + 10.0 * rng.random(size),
    )
    evening = rng.random(size) < 0.05
    hour = np.where(evening, 18.0 + 4.0 * rng.random(size), hour)
    return day * MS_PER_DAY + (hour * MS_PER_HOUR).astype(np.int64)


def _choose(rng: np.random.Generator, options: np.ndarray, size: int) -> np.ndarray:
    return options[rng.integers(0, len(options), size=size)]


def draw_tasks(
    rng: np.random.Generator, tasks: int, first_day: dt.date, end_date: dt.date
) -> TaskTable:
    """Draw ``tasks`` tasks created between ``first_day`` and the day before ``end_date``."""
    days = np.arange(np.datetime64(first_day, "D"), np.datetime64(end_date, "D"))
    last_created_ms = (days[-1].astype(np.int64) + 1) * MS_PER_DAY - MS_PER_HOUR
    per_team = apportion(tasks, np.array([t.volume_weight for t in TEAMS]))
    parts = [
        _draw_team(rng, team_index, int(count), days, last_created_ms)
        for team_index, count in enumerate(per_team)
    ]
    return _assemble(rng, parts)


@dataclass
class _TeamDraw:
    team: int
    created: np.ndarray
    task_type: np.ndarray
    theme: np.ndarray
    labels: np.ndarray
    epic: np.ndarray  # local row within the team draw
    own_workstream: np.ndarray
    rule_epic_workstream: np.ndarray


def _draw_team(
    rng: np.random.Generator,
    team_index: int,
    count: int,
    days: np.ndarray,
    last_created_ms: int,
) -> _TeamDraw:
    team = TEAMS[team_index]
    weights = creation_day_weights(days, team.growth)
    n_epics = min(max(MIN_EPICS_PER_TEAM, round(count * EPIC_SHARE)), count // 4)
    n_work = count - n_epics
    team_workstreams = [ws for ws in WORKSTREAMS if ws.team == team.name]
    epic_workstreams = [ws for ws in team_workstreams if ws.via_epics]

    # Epics: some belong to an epic-matched workstream; the rest are neutral.
    epic_created = np.sort(draw_created(rng, days, weights, n_epics))
    epic_rule_ws = np.full(n_epics, -1)
    for ws in epic_workstreams:
        if ws.outcome_id == FLAT_OUTCOME_ID:
            chosen = _flat_epics(rng, n_epics, days, epic_created)
        else:
            # Every other epic of the first four fifths of the history: a long-running programme.
            chosen = np.arange(0, n_epics, 2)[: max(1, round(n_epics * 0.4))]
        epic_rule_ws[chosen] = WORKSTREAM_INDEX[ws.workstream_id]
    epic_created = np.minimum(epic_created, last_created_ms)

    # Non-epic work: purpose first, then attributes that lead there.
    purposes = TASK_PURPOSES[team.name]
    purpose_ws = np.array([WORKSTREAM_INDEX[p] if p else -1 for p, _ in purposes])
    purpose_p = np.array([w for _, w in purposes])
    purpose = purpose_ws[rng.choice(len(purposes), size=n_work, p=purpose_p / purpose_p.sum())]
    type_names = list(TASK_TYPE_SHARES)
    type_p = np.array(list(TASK_TYPE_SHARES.values()))
    work_type = np.array([TYPE_INDEX[t] for t in type_names])[
        rng.choice(len(type_names), size=n_work, p=type_p / type_p.sum())
    ]
    created = draw_created(rng, days, weights, n_work)
    epic = np.full(n_work, -1)
    labels = np.zeros((n_work, len(LABELS)), dtype=bool)
    own = np.full(n_work, -1)
    theme = np.full(n_work, THEME_INDEX["general"])
    free = np.array([LABEL_INDEX[label] for label in team.free_labels])

    for ws in team_workstreams:
        ws_index = WORKSTREAM_INDEX[ws.workstream_id]
        rows = np.flatnonzero(purpose == ws_index)
        theme[rows] = THEME_INDEX[ws.theme]
        if ws.via_epics:
            epics_of_ws = np.flatnonzero(epic_rule_ws == ws_index)
            parent = _choose(rng, epics_of_ws, len(rows))
            epic[rows] = parent
            span = np.minimum(
                EPIC_CHILD_SPAN_DAYS * MS_PER_DAY, last_created_ms - epic_created[parent]
            )
            created[rows] = epic_created[parent] + (rng.random(len(rows)) * span).astype(np.int64)
        elif ws.label:
            carries_own = rng.random(len(rows)) < ws.own_share
            own[rows[carries_own]] = ws_index
            labels[rows[~carries_own], LABEL_INDEX[ws.label]] = True
            # Some tasks with their own workstream id also carry the label, as people do.
            both = carries_own & (rng.random(len(rows)) < 0.3)
            labels[rows[both], LABEL_INDEX[ws.label]] = True
        # whole_project workstreams need nothing: the project rule matches every task.
    for ws_id, label, share in CROSS_LABELS:
        rows = np.flatnonzero(purpose == WORKSTREAM_INDEX[ws_id])
        chosen = rng.random(len(rows)) < share
        # Even a small demo has one such task, so rule precedence is always exercised.
        chosen[:1] |= not chosen.any()
        labels[rows[chosen], LABEL_INDEX[label]] = True

    # Free labels: on some linked work, and on most unlinked work (whose title follows the label).
    unlinked = purpose == -1
    extra_p = np.where(unlinked, 0.65, FREE_LABEL_ON_LINKED)
    extra = rng.random(n_work) < extra_p
    extra_label = _choose(rng, free, n_work)
    labels[np.flatnonzero(extra), extra_label[extra]] = True
    second = unlinked & (rng.random(n_work) < 0.1)
    labels[np.flatnonzero(second), _choose(rng, free, n_work)[second]] = True
    theme = np.where(unlinked & extra, LABEL_THEME[extra_label], theme)

    # Work that is not placed under a workstream's epic may sit under a neutral epic.
    neutral = np.flatnonzero(epic_rule_ws == -1)
    # Bugs rarely sit under an epic.
    eligible = (epic == -1) & ((work_type != BUG) | (rng.random(n_work) < 0.2))
    under_neutral = eligible & (rng.random(n_work) < NEUTRAL_EPIC_SHARE)
    if len(neutral):
        # The latest neutral epics created before the task (one of the last three).
        preceding = np.searchsorted(epic_created[neutral], created, side="right") - 1
        preceding -= rng.integers(0, 3, size=n_work)
        has_parent = under_neutral & (preceding >= 0)
        epic[has_parent] = neutral[preceding[has_parent]]

    # Epics: themed like the team's work; a themed neutral epic carries the label of its theme.
    label_ws = [ws for ws in team_workstreams if ws.label]
    epic_theme = np.full(n_epics, THEME_INDEX["general"])
    epic_labels = np.zeros((n_epics, len(LABELS)), dtype=bool)
    for i in range(n_epics):
        if epic_rule_ws[i] >= 0:
            epic_theme[i] = THEME_INDEX[WORKSTREAMS[epic_rule_ws[i]].theme]
    themed = np.flatnonzero((epic_rule_ws == -1) & (rng.random(n_epics) < 0.6))
    if label_ws:
        pick = rng.integers(0, len(label_ws), size=len(themed))
        for row, k in zip(themed.tolist(), pick.tolist(), strict=True):
            epic_theme[row] = THEME_INDEX[label_ws[k].theme]
            epic_labels[row, LABEL_INDEX[label_ws[k].label]] = True

    return _TeamDraw(
        team=team_index,
        created=np.concatenate([epic_created, created]),
        task_type=np.concatenate([np.full(n_epics, EPIC), work_type]),
        theme=np.concatenate([epic_theme, theme]),
        labels=np.concatenate([epic_labels, labels]),
        epic=np.concatenate([np.full(n_epics, -1), epic]),
        own_workstream=np.concatenate([np.full(n_epics, -1), own]),
        rule_epic_workstream=np.concatenate([epic_rule_ws, np.full(n_work, -1)]),
    )


def _flat_epics(
    rng: np.random.Generator, n_epics: int, days: np.ndarray, epic_created: np.ndarray
) -> np.ndarray:
    """Epics of the flat outcome: the first ones, moved to 330-400 days before the end.

    That is just after the outcome's baseline (14 months before the end). Their children are
    created within four months of the epic and their steps are capped, so all of that work is
    completed or cancelled well before the end of the history.
    """
    count = max(2, round(n_epics * FLAT_EPIC_SHARE))
    first = days[-1].astype(np.int64) - 400
    start_day = first + np.sort(rng.integers(0, 70, size=count))
    epic_created[:count] = start_day * MS_PER_DAY + 10 * MS_PER_HOUR
    return np.arange(count)


def _assemble(rng: np.random.Generator, parts: list[_TeamDraw]) -> TaskTable:
    """Concatenate team draws, sort each team by creation, number keys, add descriptive fields."""
    team_rows = []
    offset = 0
    for part in parts:
        order = np.lexsort((np.arange(len(part.created)), part.created))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        team_rows.append((part, order, rank, offset))
        offset += len(order)

    def gather(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name)[order] for p, order, _, _ in team_rows])

    team = np.concatenate([np.full(len(order), p.team) for p, order, _, _ in team_rows])
    number = np.concatenate([np.arange(1, len(order) + 1) for _, order, _, _ in team_rows])
    epic = np.concatenate(
        [
            np.where(p.epic[order] >= 0, rank[p.epic[order]] + base, -1)
            for p, order, rank, base in team_rows
        ]
    )
    table = TaskTable(
        team=team,
        number=number,
        created_local_ms=gather("created"),
        task_type=gather("task_type"),
        theme=gather("theme"),
        labels=gather("labels"),
        epic=epic,
        own_workstream=gather("own_workstream"),
        workstream=np.full(len(team), -1),
        rule_epic_workstream=gather("rule_epic_workstream"),
        title=np.empty(len(team), dtype=object),
        assignee=np.full(len(team), -1),
        story_points=np.full(len(team), np.nan),
        priority=np.zeros(len(team), dtype=np.int64),
        production_bug=np.zeros(len(team), dtype=bool),
    )
    table.workstream = resolve_workstreams(table)
    _describe(rng, table)
    return table


def workstream_rules(table: TaskTable) -> list[dict[str, object]]:
    """The rules file: one row per label rule, project rule, and epic of an epic workstream."""
    rules: list[dict[str, object]] = []
    for i, ws in enumerate(WORKSTREAMS):
        team = next(t for t in TEAMS if t.name == ws.team)
        base = {
            "workstream_id": ws.workstream_id,
            "priority": ws.priority,
            "source": team.source,
            "project": team.project,
            "epic_id": None,
            "label": None,
        }
        if ws.label:
            rules.append({**base, "label": ws.label})
        if ws.whole_project:
            rules.append(dict(base))
        if ws.via_epics:
            for row in np.flatnonzero(table.rule_epic_workstream == i).tolist():
                rules.append({**base, "epic_id": f"{team.project}-{table.number[row]}"})
    return rules


def resolve_workstreams(table: TaskTable) -> np.ndarray:
    """The workstream each task reaches: its own id, else the best matching rule.

    The rule is the one of `docs/input-contract.md` ("workstream_rules"). Rules are tried from the
    highest priority down, ties broken by the lowest workstream id; the first rule whose given match
    columns all equal the task's wins. The epic rules of one workstream share its priority, so they
    are tried together (one set of epics).
    """
    resolved = table.own_workstream.copy()
    source = np.array([t.source for t in TEAMS], dtype=object)[table.team]
    project = np.array([t.project for t in TEAMS], dtype=object)[table.team]
    epic_row = {
        (
            TEAMS[table.team[row]].project,
            f"{TEAMS[table.team[row]].project}-{table.number[row]}",
        ): row
        for row in np.flatnonzero(table.task_type == EPIC).tolist()
    }
    groups: dict[tuple[object, ...], list[int]] = {}
    for rule in workstream_rules(table):
        key = (
            -int(rule["priority"]),
            rule["workstream_id"],
            rule["source"],
            rule["project"],
            rule["label"],
            rule["epic_id"] is not None,
        )
        rows = groups.setdefault(key, [])
        if rule["epic_id"] is not None:
            rows.append(epic_row[(rule["project"], rule["epic_id"])])
    for key in sorted(groups, key=lambda k: (k[0], k[1])):
        _, workstream_id, rule_source, rule_project, label, by_epic = key
        match = resolved == -1
        if rule_source is not None:
            match &= source == rule_source
        if rule_project is not None:
            match &= project == rule_project
        if by_epic:
            match &= np.isin(table.epic, np.array(groups[key]))
        if label is not None:
            match &= table.labels[:, LABEL_INDEX[label]]
        resolved[match] = WORKSTREAM_INDEX[workstream_id]
    return resolved


def _describe(rng: np.random.Generator, table: TaskTable) -> None:
    """Titles, assignees, story points, priorities and where bugs were found."""
    n = len(table)
    objects = [np.array(TITLE_OBJECTS[theme], dtype=object) for theme in THEMES]
    obj = np.empty(n, dtype=object)
    for theme_index, options in enumerate(objects):
        rows = np.flatnonzero(table.theme == theme_index)
        obj[rows] = _choose(rng, options, len(rows))
    verb = _choose(rng, np.array(TITLE_VERBS, dtype=object), n)
    qualifier = _choose(rng, np.array(TITLE_QUALIFIERS, dtype=object), n)
    symptom = _choose(rng, np.array(BUG_SYMPTOMS, dtype=object), n)
    suffix = _choose(rng, np.array(EPIC_SUFFIXES, dtype=object), n)
    capitalised = np.array([s[:1].upper() + s[1:] for s in obj.tolist()], dtype=object)
    kind = table.task_type
    table.title = np.select(
        [kind == EPIC, kind == BUG, kind == TYPE_INDEX["spike"]],
        [capitalised + suffix, capitalised + symptom, "Spike: evaluate options for " + obj],
        default=verb + " " + obj + qualifier,
    )

    for team_index, team in enumerate(TEAMS):
        rows = np.flatnonzero(table.team == team_index)
        members = np.array(team_members(team.name))
        # Team members carry unequal loads: a few people take most of the tickets.
        load = np.linspace(1.6, 0.6, len(members))
        table.assignee[rows] = members[
            rng.choice(len(members), size=len(rows), p=load / load.sum())
        ]

    points_by_type = {
        "story": ([1, 2, 3, 5, 8, 13], [0.10, 0.20, 0.30, 0.25, 0.10, 0.05], 0.15),
        "task": ([1, 2, 3, 5], [0.30, 0.35, 0.25, 0.10], 0.20),
        "bug": ([1, 2, 3], [0.40, 0.40, 0.20], 0.40),
        "spike": ([2, 3, 5], [0.30, 0.50, 0.20], 0.10),
    }
    for type_name, (values, weights, unestimated) in points_by_type.items():
        rows = np.flatnonzero(kind == TYPE_INDEX[type_name])
        points = np.array(values, dtype=float)[rng.choice(len(values), size=len(rows), p=weights)]
        points[rng.random(len(rows)) < unestimated] = np.nan
        table.story_points[rows] = points

    base_priority = rng.choice(5, size=n, p=[0.05, 0.20, 0.50, 0.20, 0.05])
    urgent_bug = (kind == BUG) & (rng.random(n) < 0.4)
    table.priority = np.where(urgent_bug, np.maximum(base_priority - 1, 0), base_priority)
    table.production_bug = (kind == BUG) & (rng.random(n) < PRODUCTION_BUG_SHARE)


def unassign(rng: np.random.Generator, table: TaskTable, never_started: np.ndarray) -> None:
    """Backlog items nobody picked up are mostly unassigned; a few others are too."""
    share = np.where(never_started, UNASSIGNED_BACKLOG_SHARE, UNASSIGNED_SHARE)
    table.assignee[rng.random(len(table)) < share] = -1
