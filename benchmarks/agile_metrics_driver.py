"""Time jira-agile-metrics' cycle-time calculator on Jira search pages read from files.

Runs inside the separate environment where jira-agile-metrics is installed (see
agile_metrics.py), never in the project's: it imports jira-agile-metrics and nothing of ours.

Usage: ``python agile_metrics_driver.py --pages DIR --config cycle.json --now YYYY-MM-DD``.

jira-agile-metrics normally asks a Jira site through the ``jira`` client. Here a stand-in client
answers ``fields()`` and ``search_issues()`` from the pages: each issue becomes a
``jira.resources.Issue`` exactly as the client builds it from a search response, and the real
``QueryManager`` and ``CycleTimeCalculator`` do the rest. Printed: the line ``calculator
started`` between loading and calculating (a parent measuring this process books the two apart),
then the seconds of each and how many issues got a cycle time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time
from pathlib import Path

from jira.resources import Issue
from jira_agile_metrics.calculators.cycletime import CycleTimeCalculator
from jira_agile_metrics.querymanager import QueryManager

SERVER = "https://acme.atlassian.net"
# The fields the calculator looks up by name; ids as the demo's Jira site has them.
FIELDS = [
    {"id": "summary", "name": "Summary"},
    {"id": "issuetype", "name": "Issue type"},
    {"id": "status", "name": "Status"},
    {"id": "resolution", "name": "Resolution"},
    {"id": "created", "name": "Created date"},
    {"id": "customfield_10021", "name": "Flagged"},
]


class PagesJira:
    """The part of ``jira.JIRA`` that jira-agile-metrics uses, answered from loaded issues."""

    def __init__(self, issues: list[Issue]):
        self._options = {"server": SERVER}
        self._issues = issues

    def fields(self) -> list[dict]:
        return FIELDS

    def search_issues(self, jql, *args, **kwargs) -> list[Issue]:
        return self._issues


def load_issues(pages: Path) -> list[Issue]:
    """Every issue of every page, as the ``jira`` client turns a search response into objects."""
    options = {"server": SERVER}
    issues = []
    for page in sorted(pages.glob("*.json")):
        payload = json.loads(page.read_text(encoding="utf-8"))
        issues += [Issue(options, None, raw=raw) for raw in payload["issues"]]
    return issues


def settings(cycle: list[dict]) -> dict:
    """The calculator's settings: the cycle, no extra attributes, one query."""
    return {
        "attributes": {},
        "known_values": {},
        "max_results": None,
        "cycle": cycle,
        "backlog_column": cycle[0]["name"],
        "committed_column": cycle[1]["name"],
        "done_column": cycle[-1]["name"],
        "queries": [{"jql": "project in (demo)", "value": None}],
        "query_attribute": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--now", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    # one line per unmapped transition at INFO would time the logging, not the calculation
    logging.basicConfig(level=logging.ERROR)
    cycle = json.loads(args.config.read_text(encoding="utf-8"))

    started = time.perf_counter()
    issues = load_issues(args.pages)
    loaded = time.perf_counter()
    print("calculator started", flush=True)
    query_manager = QueryManager(PagesJira(issues), settings(cycle))
    calculator = CycleTimeCalculator(query_manager, settings(cycle), {})
    now = dt.datetime.combine(args.now + dt.timedelta(days=1), dt.time())
    frame = calculator.run(now=now)
    calculated = time.perf_counter()

    print(f"issues: {len(frame)}")
    print(f"with cycle time: {int(frame['cycle_time'].notna().sum())}")
    print(f"load seconds: {loaded - started:.3f}")
    print(f"calculate seconds: {calculated - loaded:.3f}", flush=True)


if __name__ == "__main__":
    main()
