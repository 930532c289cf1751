"""The demo generator: deterministic files in the exact shapes the ingest adapters read.

The files are parsed here on their own terms (JSON pages, CSV rows, ISO timestamps), not through
the generator's internals, and the manifest's ground truth is recomputed from them.

Documented tolerances for a 600-task demo (the targets hold for any seed; these bounds leave room
for sampling at that size): unlinked 15-25 % of tasks (target 20 %), reopened 5-12 % of the tasks
that reached done (target 8 %), cancelled 4-9 % of all tasks (target 6 %), flagged 5-15 % of
tasks (target 10 %), production bugs 20-50 % of bugs (target 35 %).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipelines.demo import DemoManifest, generate_demo, jira_export
from pipelines.lib.raw_schema import TABLES

END = dt.date(2026, 10, 31)
TASKS = 600
SEED = 11

DONE = {"Done", "Resolved", "Closed"}
CANCELLED = {"Won't Do", "Cancelled", "Canceled"}
INITIAL = {"Backlog", "To Do", "Todo", "Open"}
TIME_ZONES = {
    "PAY": "Europe/London",
    "ONB": "Asia/Kolkata",
    "MOB": "America/New_York",
    "DATA": "Europe/Berlin",
    "GRO": "America/Los_Angeles",
    "SUP": "Australia/Sydney",
}
EXPECTED_FILES = {
    "demo_manifest.json",
    "jira/search-0001.json",
    "tasks/linear-tasks.csv",
    "task_status_changes/linear-status-changes.csv",
    "task_flags/linear-flags.csv",
    "kpis/kpis.csv",
    "outcomes/outcomes.csv",
    "workstreams/workstreams.csv",
    "workstream_rules/workstream_rules.csv",
    "kpi_observations/kpi_observations.csv",
    "confidence_surveys/confidence_surveys.csv",
}
CSV_CONTRACTS = {
    "tasks/linear-tasks.csv": "tasks",
    "task_status_changes/linear-status-changes.csv": "task_status_changes",
    "task_flags/linear-flags.csv": "task_flags",
    "kpis/kpis.csv": "kpis",
    "outcomes/outcomes.csv": "outcomes",
    "workstreams/workstreams.csv": "workstreams",
    "workstream_rules/workstream_rules.csv": "workstream_rules",
    "kpi_observations/kpi_observations.csv": "kpi_observations",
    "confidence_surveys/confidence_surveys.csv": "confidence_surveys",
}
JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
ISO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass
class Task:
    source: str
    task_id: str
    project: str
    task_type: str
    status: str
    created_text: str
    labels: tuple[str, ...]
    epic_id: str | None
    workstream_id: str | None
    found_in: str | None
    assignee: str | None
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def created(self) -> dt.datetime:
        return parse_timestamp(self.created_text)


@dataclass
class Change:
    text: str
    from_status: str
    to_status: str

    @property
    def at(self) -> dt.datetime:
        return parse_timestamp(self.text)


@dataclass
class Flag:
    set_text: str
    cleared_text: str | None


def parse_timestamp(text: str) -> dt.datetime:
    if JIRA_TIMESTAMP.match(text):
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_jira(landing: Path) -> list[Task]:
    tasks = []
    for page in sorted((landing / "jira").glob("*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            fields = issue["fields"]
            task = Task(
                source="jira",
                task_id=issue["key"],
                project=fields["project"]["key"],
                task_type=fields["issuetype"]["name"].lower(),
                status=fields["status"]["name"],
                created_text=fields["created"],
                labels=tuple(fields["labels"]),
                epic_id=(fields.get("parent") or {}).get("key"),
                workstream_id=None,
                found_in=(fields["customfield_10200"] or {}).get("value"),
                assignee=(fields["assignee"] or {}).get("emailAddress"),
            )
            open_flag: str | None = None
            for history in issue["changelog"]["histories"]:
                for item in history["items"]:
                    if item["field"] == "status":
                        task.changes.append(
                            Change(history["created"], item["fromString"], item["toString"])
                        )
                    elif item["field"] == "Flagged" and item["toString"]:
                        assert open_flag is None, f"{issue['key']}: flag raised twice"
                        open_flag = history["created"]
                    elif item["field"] == "Flagged":
                        assert open_flag is not None, f"{issue['key']}: cleared without a flag"
                        task.flags.append(Flag(open_flag, history["created"]))
                        open_flag = None
            if open_flag is not None:
                task.flags.append(Flag(open_flag, None))
            tasks.append(task)
    return tasks


def read_linear(landing: Path) -> list[Task]:
    tasks = {
        row["task_id"]: Task(
            source=row["source"],
            task_id=row["task_id"],
            project=row["project"],
            task_type=row["task_type"],
            status=row["status"],
            created_text=row["created_at"],
            labels=tuple(row["labels"].split(";")) if row["labels"] else (),
            epic_id=row["epic_id"] or None,
            workstream_id=row["workstream_id"] or None,
            found_in=row["found_in"] or None,
            assignee=row["assignee"] or None,
        )
        for row in read_csv(landing / "tasks" / "linear-tasks.csv")
    }
    changes = read_csv(landing / "task_status_changes" / "linear-status-changes.csv")
    for row in sorted(changes, key=lambda r: (r["task_id"], int(r["sequence"]))):
        tasks[row["task_id"]].changes.append(
            Change(row["changed_at"], row["from_status"], row["to_status"])
        )
    for row in read_csv(landing / "task_flags" / "linear-flags.csv"):
        tasks[row["task_id"]].flags.append(Flag(row["flagged_at"], row["unflagged_at"] or None))
    return list(tasks.values())


@dataclass
class Demo:
    landing: Path
    manifest: DemoManifest
    tasks: list[Task]

    def csv(self, relative: str) -> list[dict[str, str]]:
        return read_csv(self.landing / relative)


def hashes(landing: Path) -> dict[str, str]:
    return {
        p.relative_to(landing).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    manifest = generate_demo(landing, tasks=TASKS, seed=SEED, end_date=END)
    return Demo(landing, manifest, read_jira(landing) + read_linear(landing))


def resolve_workstreams(demo: Demo) -> dict[str, str | None]:
    """Each task's workstream: its own, else the best rule (priority, then lowest id).

    The rule of docs/input-contract.md ("workstream_rules").
    """
    rules = sorted(
        demo.csv("workstream_rules/workstream_rules.csv"),
        key=lambda r: (-int(r["priority"]), r["workstream_id"]),
    )
    resolved = {}
    for task in demo.tasks:
        found = task.workstream_id
        for rule in rules if found is None else ():
            if (
                (not rule["source"] or rule["source"] == task.source)
                and (not rule["project"] or rule["project"] == task.project)
                and (not rule["epic_id"] or rule["epic_id"] == task.epic_id)
                and (not rule["label"] or rule["label"] in task.labels)
            ):
                found = rule["workstream_id"]
                break
        resolved[f"{task.source}:{task.task_id}"] = found
    return resolved


def outcome_of_tasks(demo: Demo) -> dict[str, str | None]:
    outcome_of = {
        r["workstream_id"]: r["outcome_id"] for r in demo.csv("workstreams/workstreams.csv")
    }
    return {
        key: outcome_of.get(ws) if ws else None for key, ws in resolve_workstreams(demo).items()
    }


# Determinism and layout --------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(demo, tmp_path):
    again = tmp_path / "elsewhere"
    generate_demo(again, tasks=TASKS, seed=SEED, end_date=END)
    assert hashes(again) == hashes(demo.landing)


def test_different_seed_gives_different_files(demo, tmp_path):
    other = tmp_path / "other"
    generate_demo(other, tasks=TASKS, seed=SEED + 1, end_date=END)
    first, second = hashes(demo.landing), hashes(other)
    assert first.keys() == second.keys()
    for tracker_file in (
        "jira/search-0001.json",
        "tasks/linear-tasks.csv",
        "task_status_changes/linear-status-changes.csv",
        "kpi_observations/kpi_observations.csv",
    ):
        assert first[tracker_file] != second[tracker_file], tracker_file


def test_rerun_replaces_only_its_own_folders(tmp_path):
    landing = tmp_path / "landing"
    generate_demo(landing, tasks=60, seed=3, end_date=END)
    first = hashes(landing)
    (landing / "jira" / "stale-page.json").write_text("{}")
    (landing / "github").mkdir()
    (landing / "github" / "issues.json").write_text("[]")
    (landing / "README.txt").write_text("kept")
    generate_demo(landing, tasks=60, seed=3, end_date=END)
    after = hashes(landing)
    assert {k: v for k, v in after.items() if k in first} == first
    assert set(after) - set(first) == {"github/issues.json", "README.txt"}


def test_file_set_is_as_specified(demo):
    assert set(hashes(demo.landing)) == EXPECTED_FILES
    assert demo.manifest.files_written == [
        *sorted(EXPECTED_FILES - {"demo_manifest.json"}),
        "demo_manifest.json",
    ]


def test_canonical_csv_headers_equal_the_contract(demo):
    for relative, table in CSV_CONTRACTS.items():
        with (demo.landing / relative).open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split(",")
        assert header == TABLES[table].column_names, relative


def test_manifest_file_holds_no_machine_path(demo):
    text = (demo.landing / "demo_manifest.json").read_text(encoding="utf-8")
    assert str(demo.landing) not in text
    payload = json.loads(text)
    assert payload["unlinked_tasks"] == demo.manifest.unlinked_tasks
    assert payload["end_date"] == "2026-10-31"


def test_too_few_tasks_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 50 tasks"):
        generate_demo(tmp_path, tasks=49, seed=1, end_date=END)


# Jira pages --------------------------------------------------------------------------------------


def test_jira_pages_are_search_results_with_changelogs(demo):
    payload = json.loads((demo.landing / "jira" / "search-0001.json").read_text(encoding="utf-8"))
    jira_tasks = demo.manifest.tasks_by_source["jira"]
    assert (payload["expand"], payload["startAt"], payload["maxResults"]) == (
        "schema,names",
        0,
        500,
    )
    assert payload["total"] == len(payload["issues"]) == jira_tasks
    for issue in payload["issues"]:
        assert re.fullmatch(r"(PAY|ONB|MOB)-\d+", issue["key"])
        assert issue["self"] == f"https://acme.atlassian.net/rest/api/2/issue/{issue['id']}"
        changelog = issue["changelog"]
        assert changelog["total"] == changelog["maxResults"] == len(changelog["histories"])
    ids = [int(issue["id"]) for issue in payload["issues"]]
    assert ids == list(range(10_001, 10_001 + jira_tasks))


def test_jira_pages_split_at_page_size(tmp_path, monkeypatch):
    monkeypatch.setattr(jira_export, "PAGE_SIZE", 10)
    landing = tmp_path / "landing"
    manifest = generate_demo(landing, tasks=60, seed=5, end_date=END)
    pages = sorted((landing / "jira").glob("*.json"))
    total = manifest.tasks_by_source["jira"]
    assert [p.name for p in pages] == [
        f"search-{i:04d}.json" for i in range(1, -(-total // 10) + 1)
    ]
    keys = []
    for number, page in enumerate(pages):
        payload = json.loads(page.read_text(encoding="utf-8"))
        assert (payload["startAt"], payload["maxResults"], payload["total"]) == (
            number * 10,
            10,
            total,
        )
        keys += [issue["key"] for issue in payload["issues"]]
    assert len(keys) == len(set(keys)) == total


def test_jira_current_status_is_the_last_transition(demo):
    for task in (t for t in demo.tasks if t.source == "jira"):
        if task.changes:
            assert task.status == task.changes[-1].to_status, task.task_id
        else:
            assert task.status in INITIAL, task.task_id


def test_jira_timestamps_carry_the_team_offset_at_that_instant(demo):
    seen: dict[str, set[str]] = {}
    for task in (t for t in demo.tasks if t.source == "jira"):
        zone = ZoneInfo(TIME_ZONES[task.project])
        texts = [task.created_text] + [c.text for c in task.changes]
        texts += [f.set_text for f in task.flags] + [
            f.cleared_text for f in task.flags if f.cleared_text
        ]
        for text in texts:
            assert JIRA_TIMESTAMP.match(text), text
            when = parse_timestamp(text)
            assert when.utcoffset() == when.astimezone(zone).utcoffset(), (task.task_id, text)
            seen.setdefault(task.project, set()).add(text[-5:])
    assert seen == {"PAY": {"+0000", "+0100"}, "ONB": {"+0530"}, "MOB": {"-0500", "-0400"}}


def test_jira_flag_field_matches_the_changelog(demo):
    payload = json.loads((demo.landing / "jira" / "search-0001.json").read_text(encoding="utf-8"))
    raised_now = {
        t.task_id
        for t in demo.tasks
        if t.source == "jira" and any(f.cleared_text is None for f in t.flags)
    }
    flagged_field = {
        issue["key"]
        for issue in payload["issues"]
        if issue["fields"]["customfield_10021"] == [{"value": "Impediment"}]
    }
    assert flagged_field == raised_now
    assert raised_now  # some impediments are still open at the end date


def test_jira_changelogs_hold_other_fields_too(demo):
    payload = json.loads((demo.landing / "jira" / "search-0001.json").read_text(encoding="utf-8"))
    fields = {
        item["field"]
        for issue in payload["issues"]
        for history in issue["changelog"]["histories"]
        for item in history["items"]
    }
    assert fields == {"status", "Flagged", "assignee", "priority"}
    for issue in payload["issues"]:
        changes = [
            item["toString"]
            for history in issue["changelog"]["histories"]
            for item in history["items"]
            if item["field"] == "priority"
        ]
        if changes:  # the last priority change ends at the issue's current priority
            assert changes[-1] == issue["fields"]["priority"]["name"], issue["key"]


# Histories on both trackers ----------------------------------------------------------------------


def test_linear_timestamps_are_iso_with_offset_and_flags_in_utc(demo):
    for task in (t for t in demo.tasks if t.source == "linear"):
        zone = ZoneInfo(TIME_ZONES[task.project])
        for text in [task.created_text] + [c.text for c in task.changes]:
            assert ISO_OFFSET.match(text), text
            when = parse_timestamp(text)
            assert when.utcoffset() == when.astimezone(zone).utcoffset(), (task.task_id, text)
        for flag in task.flags:
            assert ISO_UTC.match(flag.set_text)
            assert flag.cleared_text is None or ISO_UTC.match(flag.cleared_text)


def test_transitions_chain_from_the_initial_status_in_time_order(demo):
    for task in demo.tasks:
        previous_status = None
        previous_at = task.created
        for change in task.changes:
            if previous_status is None:
                assert change.from_status in INITIAL, task.task_id
            else:
                assert change.from_status == previous_status, task.task_id
            assert change.at >= previous_at, task.task_id  # never before creation either
            previous_status, previous_at = change.to_status, change.at
        if task.source == "linear":
            assert task.status == (previous_status or task.status), task.task_id


def test_flags_lie_inside_the_history(demo):
    end_of_history = dt.datetime.combine(END, dt.time(9), dt.UTC)
    for task in (t for t in demo.tasks if t.flags):
        started = task.changes[0].at
        for flag in task.flags:
            set_at = parse_timestamp(flag.set_text)
            assert started <= set_at <= end_of_history, task.task_id
            if flag.cleared_text is not None:
                assert parse_timestamp(flag.cleared_text) > set_at, task.task_id
            else:
                assert task.status not in DONE | CANCELLED, task.task_id


def test_history_spans_two_years_up_to_the_end_date(demo):
    created = [t.created.astimezone(dt.UTC) for t in demo.tasks]
    latest = max(c.at.astimezone(dt.UTC) for t in demo.tasks for c in t.changes)
    assert min(created).date() >= END - dt.timedelta(days=730)
    assert min(created).date() <= END - dt.timedelta(days=700)
    assert latest <= dt.datetime.combine(END, dt.time(9), dt.UTC)
    for task in demo.tasks:
        local_days = [
            c.at.astimezone(ZoneInfo(TIME_ZONES[task.project])).date() for c in task.changes
        ]
        assert all(day <= END for day in local_days), task.task_id


def recorded_instants(landing: Path) -> dict[str, list[dt.datetime]]:
    """Every instant written to the tracker files, by what it records."""
    tasks = read_jira(landing) + read_linear(landing)
    found: dict[str, list[dt.datetime]] = {
        "created": [t.created for t in tasks],
        "status change": [c.at for t in tasks for c in t.changes],
        "flag raised": [parse_timestamp(f.set_text) for t in tasks for f in t.flags],
        "flag cleared": [
            parse_timestamp(f.cleared_text) for t in tasks for f in t.flags if f.cleared_text
        ],
        "jira history": [],
        "jira updated": [],
    }
    # Read raw as well: histories that change other fields (priority) and "updated".
    for page in sorted((landing / "jira").glob("*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            found["jira updated"].append(parse_timestamp(issue["fields"]["updated"]))
            found["jira history"] += [
                parse_timestamp(h["created"]) for h in issue["changelog"]["histories"]
            ]
    return found


def recorded_days(landing: Path) -> dict[str, list[dt.date]]:
    """Observed and answered days (planned ones, such as target dates, may lie ahead)."""
    columns = {
        "kpi_observations/kpi_observations.csv": "observed_on",
        "confidence_surveys/confidence_surveys.csv": "answered_on",
        "outcomes/outcomes.csv": "baseline_on",
    }
    return {
        column: [dt.date.fromisoformat(row[column]) for row in read_csv(landing / relative)]
        for relative, column in columns.items()
    }


@pytest.mark.parametrize(
    ("tasks", "seed", "end_date"),
    [
        # The cases below once had a second impediment flag raised at the working-time end of
        # the history, which reads back as the next office morning of the team's zone:
        (2_000, 296, END),  # Mobile (Jira), Monday 09:00 in New York after a Saturday end
        (10_000, 17, END),  # Growth (Linear), Monday 09:00 in Los Angeles
        (10_000, 92, dt.date(2026, 10, 28)),  # Support Tools, Thursday 09:00 in Sydney
        (TASKS, SEED, END),
    ],
    ids=["mobile-saturday", "growth-saturday", "support-wednesday", "fixture-demo"],
)
def test_nothing_is_recorded_after_the_end_of_the_history(tmp_path, tasks, seed, end_date):
    """The history ends at ``end_date`` 09:00 UTC; no file records anything later."""
    landing = tmp_path / "landing"
    manifest = generate_demo(landing, tasks=tasks, seed=seed, end_date=end_date)
    end_of_history = dt.datetime.combine(end_date, dt.time(9), dt.UTC)
    instants = recorded_instants(landing)
    assert len(instants["created"]) == tasks
    assert len(instants["status change"]) == manifest.status_changes
    assert len(instants["flag raised"]) == manifest.flag_intervals
    late = {kind: sum(1 for at in ats if at > end_of_history) for kind, ats in instants.items()}
    assert late == dict.fromkeys(instants, 0)
    days = recorded_days(landing)
    assert {column: sum(1 for d in ds if d > end_date) for column, ds in days.items()} == {
        "observed_on": 0,
        "answered_on": 0,
        "baseline_on": 0,
    }
    assert max(max(ds) for ds in days.values()) == end_date  # observed up to the end date itself


def test_realistic_flow_patterns_are_present(demo):
    tasks = demo.tasks
    same_instant = sum(
        1 for t in tasks for a, b in zip(t.changes, t.changes[1:], strict=False) if a.at == b.at
    )
    weekend = sum(1 for t in tasks for c in t.changes if c.at.weekday() >= 5)
    all_changes = sum(len(t.changes) for t in tasks)
    never_started = [t for t in tasks if not t.changes]
    straight_to_done = [
        t
        for t in tasks
        if t.changes and t.changes[0].from_status in INITIAL and t.changes[0].to_status in DONE
    ]
    in_progress = [
        t
        for t in tasks
        if t.status not in DONE | CANCELLED | INITIAL | {"Selected for Development"}
    ]
    backward = sum(
        1
        for t in tasks
        for c in t.changes
        if c.from_status in {"In Review", "Code Review", "QA"} and c.to_status == "In Progress"
    )
    assert same_instant >= 10
    assert 0 < weekend < 0.08 * all_changes
    assert len(never_started) >= 20
    assert 3 <= len(straight_to_done) <= 30
    assert len(in_progress) >= 5  # work in progress at the end date (about a week of arrivals)
    assert backward >= 30
    assert any(c.to_status == "Blocked" for t in tasks for c in t.changes)
    assert {t.task_type for t in tasks} == {"story", "task", "bug", "spike", "epic"}
    children_of_epics = [t for t in tasks if t.epic_id]
    epic_ids = {f"{t.task_id}" for t in tasks if t.task_type == "epic"}
    assert children_of_epics and all(t.epic_id in epic_ids for t in children_of_epics)


def test_shares_match_targets_and_manifest(demo):
    tasks = demo.tasks
    reached_done = [t for t in tasks if any(c.to_status in DONE for c in t.changes)]
    reopened = [
        t
        for t in reached_done
        if any(c.from_status in DONE and c.to_status not in DONE | CANCELLED for c in t.changes)
    ]
    cancelled = [t for t in tasks if t.status in CANCELLED]
    reopened_twice = [
        t
        for t in reopened
        if sum(c.from_status in DONE and c.to_status not in DONE | CANCELLED for c in t.changes)
        == 2
    ]
    flagged = [t for t in tasks if t.flags]
    bugs = [t for t in tasks if t.task_type == "bug"]
    production = [t for t in bugs if t.found_in == "production"]

    assert len(tasks) == demo.manifest.tasks == TASKS
    assert len(reopened) / len(reached_done) == demo.manifest.reopened_task_share
    assert len(cancelled) / len(tasks) == demo.manifest.cancelled_task_share
    assert 0.05 <= demo.manifest.reopened_task_share <= 0.12
    assert 0.04 <= demo.manifest.cancelled_task_share <= 0.09
    assert 0.15 <= demo.manifest.unlinked_task_share <= 0.25
    assert 0.05 <= len(flagged) / len(tasks) <= 0.15
    assert 0.20 <= len(production) / len(bugs) <= 0.50
    assert {t.found_in for t in bugs} == {"production", "pre_release"}
    assert all(t.found_in is None for t in tasks if t.task_type != "bug")
    assert reopened_twice  # a few reopened twice
    cancelled_after_start = [t for t in cancelled if len(t.changes) >= 2]
    assert cancelled_after_start


def test_manifest_counts_match_the_files(demo):
    manifest = demo.manifest
    by_source = {"jira": 0, "linear": 0}
    for task in demo.tasks:
        by_source[task.source] += 1
    assert manifest.tasks_by_source == by_source
    assert manifest.status_changes == sum(len(t.changes) for t in demo.tasks)
    assert manifest.flag_intervals == sum(len(t.flags) for t in demo.tasks)
    assert manifest.teams == [
        "Payments",
        "Onboarding",
        "Mobile",
        "Data Platform",
        "Growth",
        "Support Tools",
    ]
    assert (manifest.tasks, manifest.seed, manifest.end_date) == (TASKS, SEED, END)
    assert manifest.history_start == dt.date(2024, 10, 31)


def test_people_are_spelled_differently_across_trackers(demo):
    jira = {t.assignee for t in demo.tasks if t.source == "jira" and t.assignee}
    linear = {t.assignee for t in demo.tasks if t.source == "linear" and t.assignee}
    assert all(a == a.strip().lower() for a in jira)
    respelled = {a for a in linear if a != a.strip().lower()}
    assert respelled
    assert {a.strip().lower() for a in respelled} & jira  # the same people, written differently


# Outcomes and impact -----------------------------------------------------------------------------


def test_unlinked_share_recomputed_from_tasks_workstreams_and_rules(demo):
    outcomes = outcome_of_tasks(demo)
    unlinked = sum(1 for outcome in outcomes.values() if outcome is None)
    assert unlinked == demo.manifest.unlinked_tasks
    assert unlinked / TASKS == demo.manifest.unlinked_task_share
    by_outcome = {r["outcome_id"]: 0 for r in demo.csv("outcomes/outcomes.csv")}
    for outcome in outcomes.values():
        if outcome is not None:
            by_outcome[outcome] += 1
    assert by_outcome == demo.manifest.tasks_by_outcome
    assert all(count > 0 for count in by_outcome.values())


def test_rule_precedence_is_exercised(demo):
    """Tasks matching two rules exist and resolve to the higher priority, then the lower id."""
    resolved = resolve_workstreams(demo)
    mobile_both = [
        t for t in demo.tasks if t.project == "MOB" and {"checkout", "performance"} <= set(t.labels)
    ]
    payments_both = [
        t for t in demo.tasks if t.project == "PAY" and {"checkout", "invoicing"} <= set(t.labels)
    ]
    assert mobile_both and payments_both
    assert {resolved[f"jira:{t.task_id}"] for t in mobile_both} == {"WS-03"}
    assert {resolved[f"jira:{t.task_id}"] for t in payments_both} == {"WS-01"}
    own = [t for t in demo.tasks if t.workstream_id]
    assert own and all(t.source == "linear" for t in own)


def test_definitions_are_complete_and_consistent(demo):
    kpis = {r["kpi_id"]: r for r in demo.csv("kpis/kpis.csv")}
    outcomes = demo.csv("outcomes/outcomes.csv")
    workstreams = demo.csv("workstreams/workstreams.csv")
    assert len(outcomes) >= 8 and len(workstreams) == 12
    assert all(o["kpi_id"] in kpis for o in outcomes)
    assert {w["outcome_id"] for w in workstreams} == {o["outcome_id"] for o in outcomes}
    assert {kpis[o["kpi_id"]]["direction"] for o in outcomes} == {"increase", "decrease"}
    past_targets = []
    for outcome in outcomes:
        baseline_on = dt.date.fromisoformat(outcome["baseline_on"])
        target_on = dt.date.fromisoformat(outcome["target_on"])
        assert 365 <= (END - baseline_on).days <= 550, outcome["outcome_id"]
        if target_on < END:
            past_targets.append(outcome["outcome_id"])
        else:
            assert 89 <= (target_on - END).days <= 275, outcome["outcome_id"]
    assert past_targets == [demo.manifest.achieved_outcome_id]
    rules = demo.csv("workstream_rules/workstream_rules.csv")
    assert {r["workstream_id"] for r in rules} == {w["workstream_id"] for w in workstreams}
    assert all(any(r[c] for c in ("source", "project", "epic_id", "label")) for r in rules)


def _observations(demo: Demo, kpi_id: str) -> list[tuple[dt.date, float]]:
    return [
        (dt.date.fromisoformat(r["observed_on"]), float(r["value"]))
        for r in demo.csv("kpi_observations/kpi_observations.csv")
        if r["kpi_id"] == kpi_id
    ]


def _outcome(demo: Demo, outcome_id: str) -> dict[str, str]:
    return next(r for r in demo.csv("outcomes/outcomes.csv") if r["outcome_id"] == outcome_id)


def _progress(outcome: dict[str, str], values: list[float]) -> float:
    baseline, target = float(outcome["baseline_value"]), float(outcome["target_value"])
    return (sum(values) / len(values) - baseline) / (target - baseline)


def test_stale_kpi_stops_45_days_before_the_end(demo):
    stale = _observations(demo, demo.manifest.stale_kpi_id)
    assert max(day for day, _ in stale) == END - dt.timedelta(days=45)
    assert demo.manifest.stale_kpi_last_observed_on == END - dt.timedelta(days=45)
    for outcome in demo.csv("outcomes/outcomes.csv"):
        if outcome["kpi_id"] != demo.manifest.stale_kpi_id:
            series = _observations(demo, outcome["kpi_id"])
            days = [day for day, _ in series]
            assert days[0] == dt.date.fromisoformat(outcome["baseline_on"])
            assert days[-1] == END
            assert len(days) == (END - days[0]).days + 1  # daily, no gaps


def test_flat_outcome_has_all_its_work_finished_and_a_flat_kpi(demo):
    flat = demo.manifest.flat_outcome_id
    outcomes = outcome_of_tasks(demo)
    linked = [t for t in demo.tasks if outcomes[f"{t.source}:{t.task_id}"] == flat]
    assert len(linked) >= 5
    assert all(t.status in DONE | CANCELLED for t in linked)
    outcome = _outcome(demo, flat)
    last_month = [v for day, v in _observations(demo, outcome["kpi_id"]) if (END - day).days < 30]
    assert abs(_progress(outcome, last_month)) < 0.1


def test_decrease_kpi_on_track_and_achieved_outcome(demo):
    invoices = _outcome(demo, "O-01")
    assert float(invoices["target_value"]) < float(invoices["baseline_value"])
    baseline_on = dt.date.fromisoformat(invoices["baseline_on"])
    target_on = dt.date.fromisoformat(invoices["target_on"])
    expected = (END - baseline_on).days / (target_on - baseline_on).days
    last_month = [v for day, v in _observations(demo, invoices["kpi_id"]) if (END - day).days < 30]
    assert _progress(invoices, last_month) >= expected - 0.1

    achieved = _outcome(demo, demo.manifest.achieved_outcome_id)
    target_on = dt.date.fromisoformat(achieved["target_on"])
    around_target = [
        v for day, v in _observations(demo, achieved["kpi_id"]) if 0 <= (target_on - day).days < 30
    ]
    assert _progress(achieved, around_target) >= 1.0


def test_confidence_pulses_are_monthly_per_outcome(demo):
    rows = demo.csv("confidence_surveys/confidence_surveys.csv")
    assert {r["dimension"] for r in rows} == {"readiness", "ownership"}
    assert {int(r["score"]) for r in rows} <= {1, 2, 3, 4, 5}
    for outcome in demo.csv("outcomes/outcomes.csv"):
        days = sorted({r["answered_on"] for r in rows if r["outcome_id"] == outcome["outcome_id"]})
        months = {d[:7] for d in days}
        assert len(days) == len(months)  # one pulse a month
        assert days[0] >= outcome["baseline_on"] and days[-1] <= END.isoformat()
        assert all(d.endswith("-05") for d in days)
