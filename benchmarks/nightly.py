"""Simulate one night's Jira changes: an incremental pull folder, as ``owh extract jira`` writes it.

A share of the demo's open Jira issues moves one step on the day after the demo ends (work starts
on a to-do issue; an issue in progress or waiting is done). Each changed issue is copied whole
from the demo's export pages, with its new status, a later ``updated`` time and one more
changelog history, into ``<landing>/jira/<pull id>/page-0001.json`` ... beside a
``manifest.json`` that says ``full: false`` (see pipelines/extract/pulls.py and
pipelines/lib/landing.py). Ingestion then reads the export pages and this pull, and staging keeps
each issue's newest version, exactly as after a real nightly pull.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from dataclasses import asdict
from pathlib import Path

from pipelines.demo.jira_export import PAGE_SIZE, SITE
from pipelines.demo.organisation import JIRA_CATEGORY_KEYS, JIRA_STATUS_IDS, STATUS_CATEGORIES
from pipelines.extract.pulls import new_pull_id
from pipelines.lib.landing import MANIFEST_NAME, PullManifest
from pipelines.sources.jira import FIELD_ROLES, JiraFieldMap

JQL = "project in (PAY, ONB, MOB)"
# The night's one move per changed issue, by the category of its current status.
NEXT_STATUS = {"todo": "In Progress", "in_progress": "Done", "waiting": "Done"}
AUTHOR = {"accountId": "712020:nightly-benchmark", "displayName": "Nightly Benchmark"}


def export_pages(landing: Path) -> list[Path]:
    """The demo's Jira export pages (``jira/search-*.json``), in file order."""
    return sorted((landing / "jira").glob("search-*.json"))


def read_issues(page: Path) -> list[dict]:
    return json.loads(page.read_text(encoding="utf-8"))["issues"]


def open_issue_positions(landing: Path) -> tuple[list[tuple[Path, int]], int]:
    """(page and position of every open issue, the highest changelog history id).

    One page at a time: a million-task demo's export does not fit in memory as Python objects.
    """
    positions, last_history = [], 100_000
    for page in export_pages(landing):
        for position, issue in enumerate(read_issues(page)):
            if STATUS_CATEGORIES.get(issue["fields"]["status"]["name"]) in NEXT_STATUS:
                positions.append((page, position))
            for history in issue.get("changelog", {}).get("histories", []):
                last_history = max(last_history, int(history["id"]))
    return positions, last_history


def pick_open_issues(landing: Path, count: int, seed: int) -> tuple[list[dict], int]:
    """(``count`` open issues drawn with a fixed seed, so every run changes the same ones, in
    export order; the highest changelog history id of the export)."""
    positions, last_history = open_issue_positions(landing)
    chosen = sorted(random.Random(seed).sample(positions, min(count, len(positions))))
    issues = []
    for page in sorted({page for page, _ in chosen}):
        page_issues = read_issues(page)
        issues += [page_issues[position] for chosen_page, position in chosen if chosen_page == page]
    return issues, last_history


def moved_on(issue: dict, at: dt.datetime, history_id: int) -> dict:
    """A copy of ``issue`` one status further, updated at ``at``, with the history that says so."""
    moved = copy.deepcopy(issue)
    fields = moved["fields"]
    before = fields["status"]["name"]
    after = NEXT_STATUS[STATUS_CATEGORIES[before]]
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    fields["status"] = {
        "name": after,
        "statusCategory": {"key": JIRA_CATEGORY_KEYS[STATUS_CATEGORIES[after]]},
    }
    fields["updated"] = stamp
    if after == "Done":
        fields["resolution"] = {"name": "Done"}
    changelog = moved.setdefault("changelog", {"startAt": 0, "histories": []})
    changelog["histories"].append(
        {
            "id": str(history_id),
            "author": AUTHOR,
            "created": stamp,
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "from": JIRA_STATUS_IDS[before],
                    "fromString": before,
                    "to": JIRA_STATUS_IDS[after],
                    "toString": after,
                }
            ],
        }
    )
    changelog["total"] = changelog["maxResults"] = len(changelog["histories"])
    return moved


def write_nightly_pull(landing: Path, share: float, night: dt.date, seed: int) -> int:
    """Write the night's incremental pull folder into ``landing``; return the issues it holds.

    ``share`` is of all the demo's tasks (``demo_manifest.json``), at least one issue.
    """
    tasks = json.loads((landing / "demo_manifest.json").read_text(encoding="utf-8"))["tasks"]
    chosen, last_history = pick_open_issues(landing, max(1, round(tasks * share)), seed)
    first_history = last_history + 1
    start = dt.datetime.combine(night, dt.time(7, 0), tzinfo=dt.UTC)
    # the moves are spread over the working day, 30 s apart or closer: at 30 s each, the 5,000
    # of a million tasks ran into the day after next, which the suites rightly reject as future
    step = min(dt.timedelta(seconds=30), dt.timedelta(hours=12) / max(1, len(chosen)))
    moved = [moved_on(issue, start + step * n, first_history + n) for n, issue in enumerate(chosen)]
    pulled_at = start + dt.timedelta(hours=13)
    write_pull_folder(landing, moved, since=start - dt.timedelta(days=1), pulled_at=pulled_at)
    return len(moved)


def write_pull_folder(
    landing: Path, issues: list[dict], *, since: dt.datetime, pulled_at: dt.datetime
) -> Path:
    """Pages of ``PAGE_SIZE`` issues and the manifest of an incremental pull, as extract does."""
    pull_id = new_pull_id(pulled_at)
    folder = landing / "jira" / pull_id
    folder.mkdir(parents=True)
    pages = [issues[i : i + PAGE_SIZE] for i in range(0, len(issues), PAGE_SIZE)] or [[]]
    for number, page in enumerate(pages, start=1):
        payload = {"startAt": (number - 1) * PAGE_SIZE, "maxResults": PAGE_SIZE}
        payload |= {"total": len(issues), "issues": page}
        (folder / f"page-{number:04d}.json").write_text(json.dumps(payload), encoding="utf-8")
    field_map = JiraFieldMap()
    cursor = max(issue["fields"]["updated"] for issue in issues) if issues else None
    manifest = PullManifest(
        source="jira",
        scope=f"{SITE}|{JQL}",
        pull_id=pull_id,
        pulled_at=pulled_at.isoformat(),
        full=False,
        since=since.isoformat(),
        issues=len(issues),
        pages=len(pages),
        cursor=_utc_iso(cursor) if cursor else None,
        details={
            "deployment": "cloud",
            "url": SITE,
            "jql": f'({JQL}) AND updated >= "{since:%Y-%m-%d %H:%M}"',
            "time_zone": "UTC",
            "fields": {role: getattr(field_map, role) for role in FIELD_ROLES},
            "changelogs_completed": 0,
        },
    )
    (folder / MANIFEST_NAME).write_text(json.dumps(asdict(manifest)), encoding="utf-8")
    return folder


def _utc_iso(jira_stamp: str) -> str:
    return dt.datetime.strptime(jira_stamp, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat()
