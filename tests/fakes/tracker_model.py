"""A tracker's issues as ground truth, for the fake Jira, GitHub and Linear servers of the tests.

Each fake server renders the same ``FakeIssue`` list in its API's own shape, and each test compares
what the warehouse computed with ``FakeIssue.expected()``, worked out here from the transitions
alone: a status ``stage`` (todo, doing, review, done) per transition, which every tracker names its
own way (``STATUS_NAMES``).

- ``generate_issues(n)``: deterministic issues; every third one has a long history (more than 40
  changes: many status round trips plus changes of other fields), some are reopened, some open.
- ``change_issues(issues, count, at)``: the next day's work on ``count`` issues, for incremental
  pulls: each moves one or two stages on, with its ``updated`` time at ``at``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

TODO, DOING, REVIEW, DONE = "todo", "doing", "review", "done"
STATUS_NAMES = {
    "jira": {TODO: "To Do", DOING: "In Progress", REVIEW: "In Review", DONE: "Done"},
    "github": {TODO: "Open", DOING: "In Progress", REVIEW: "In Review", DONE: "Closed"},
    "linear": {TODO: "Todo", DOING: "In Progress", REVIEW: "In Review", DONE: "Done"},
}
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PEOPLE = ("ana@example.com", "bo@example.com", "chen@example.com", "dee@example.com")
OTHER_FIELDS = ("priority", "assignee", "labels")


@dataclass(frozen=True)
class Transition:
    at: dt.datetime  # aware, UTC
    from_stage: str
    to_stage: str
    author: str


@dataclass(frozen=True)
class OtherChange:
    """A change of a field other than the status: it pads histories, never moves the status."""

    at: dt.datetime
    field: str
    from_value: str
    to_value: str
    author: str


@dataclass(frozen=True)
class FakeIssue:
    number: int  # 1-based; the key is PROJECT-number
    project: str
    title: str
    issue_type: str  # Story, Bug, Task
    created: dt.datetime
    transitions: tuple[Transition, ...]
    other_changes: tuple[OtherChange, ...] = ()
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    story_points: float | None = None
    extra_updated: dt.datetime | None = None  # an edit after the last change (a comment)

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"

    @property
    def stage(self) -> str:
        return self.transitions[-1].to_stage if self.transitions else TODO

    @property
    def updated(self) -> dt.datetime:
        times = [self.created, *(t.at for t in self.transitions)]
        times += [c.at for c in self.other_changes]
        if self.extra_updated:
            times.append(self.extra_updated)
        return max(times)

    @property
    def history_count(self) -> int:
        """Changes a tracker lists in the issue's history (one per transition or other change)."""
        return len(self.transitions) + len(self.other_changes)

    def status(self, tracker: str) -> str:
        return STATUS_NAMES[tracker][self.stage]

    def expected(self) -> dict[str, object]:
        """What ``fct_tasks`` must say of the issue (timestamps naive UTC, as the warehouse has
        them): current stage, first start, completion (last entry into done, if done now) and
        the number of times it left done."""
        started = next((t.at for t in self.transitions if t.to_stage in (DOING, REVIEW)), None)
        completed = None
        reopens = 0
        for t in self.transitions:
            if t.to_stage == DONE and t.from_stage != DONE:
                completed = t.at
            if t.from_stage == DONE and t.to_stage != DONE:
                reopens += 1
        return {
            "stage": self.stage,
            "started_at": _naive(started),
            "completed_at": _naive(completed) if self.stage == DONE else None,
            "reopen_count": reopens,
        }


def generate_issues(count: int, *, project: str = "HX", seed: int = 3) -> list[FakeIssue]:
    """``count`` issues created over the summer; every third has more than 40 history entries."""
    rng = random.Random(seed)
    issues = []
    for number in range(1, count + 1):
        created = START + dt.timedelta(hours=7 * number, minutes=rng.randrange(60))
        long_history = number % 3 == 0
        transitions = _walk(rng, created, round_trips=12 if long_history else rng.randrange(0, 3))
        others = _other_changes(rng, created, 42 if long_history else rng.randrange(0, 3))
        issues.append(
            FakeIssue(
                number=number,
                project=project,
                title=f"Issue {number}: {rng.choice(('Fix', 'Build', 'Tune', 'Ship'))} it",
                issue_type=("Story", "Bug", "Task")[number % 3],
                created=created,
                transitions=transitions,
                other_changes=others,
                labels=("backend",) if number % 2 else ("frontend", "ux"),
                assignee=PEOPLE[number % len(PEOPLE)],
                story_points=float(number % 5 + 1),
            )
        )
    return issues


def change_issues(issues: list[FakeIssue], count: int, at: dt.datetime) -> list[FakeIssue]:
    """The same issues after a day's work: the first ``count`` issues not yet done move on (a
    done one is reopened), one transition a minute from ``at``."""
    changed = 0
    result = []
    for issue in issues:
        if changed < count and issue.number % 7 == 1:
            stage = issue.stage
            step = {TODO: DOING, DOING: REVIEW, REVIEW: DONE, DONE: DOING}[stage]
            moment = at + dt.timedelta(minutes=changed)
            transition = Transition(moment, stage, step, PEOPLE[changed % len(PEOPLE)])
            issue = replace(issue, transitions=(*issue.transitions, transition))
            changed += 1
        result.append(issue)
    if changed < count:
        raise ValueError(f"only {changed} issues could change, {count} asked")
    return result


def _walk(rng: random.Random, created: dt.datetime, *, round_trips: int) -> tuple[Transition, ...]:
    """A path through the stages: start, ``round_trips`` review round trips, maybe a reopen."""
    at = created
    stage = TODO
    path: list[Transition] = []

    def move(to_stage: str) -> None:
        nonlocal at, stage
        at = at + dt.timedelta(hours=rng.randrange(1, 30), minutes=rng.randrange(60))
        path.append(Transition(at, stage, to_stage, rng.choice(PEOPLE)))
        stage = to_stage

    ending = rng.random()
    if ending < 0.15:
        return ()  # never started
    move(DOING)
    for _ in range(round_trips):
        move(REVIEW)
        move(DOING)
    if ending < 0.3:
        return tuple(path)  # still in progress
    move(REVIEW)
    move(DONE)
    if ending > 0.8:
        move(DOING)  # reopened
        if ending > 0.9:
            move(DONE)
    return tuple(path)


def _other_changes(rng: random.Random, created: dt.datetime, count: int) -> tuple[OtherChange, ...]:
    changes = []
    for index in range(count):
        at = created + dt.timedelta(minutes=17 * (index + 1))
        name = OTHER_FIELDS[index % len(OTHER_FIELDS)]
        changes.append(OtherChange(at, name, f"{name}-{index}", f"{name}-{index + 1}", PEOPLE[0]))
    return tuple(changes)


def _naive(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment else None


__all__ = [
    "DOING",
    "DONE",
    "REVIEW",
    "STATUS_NAMES",
    "TODO",
    "FakeIssue",
    "OtherChange",
    "Transition",
    "change_issues",
    "generate_issues",
]
