"""The nightly job pulls Jira, GitHub and Linear (fake sites on local servers), then builds.

``owh.yml`` names the three fake sites and the credentials are in the environment, as an operator
would set them up; ``run_nightly`` then runs the whole job, extract assets first. Every issue's
status category, start, completion and reopen count in ``marts.fct_tasks`` must equal what its
ground truth (tests/fakes/tracker_model.py) says. Then issues change in every tracker, the next
nightly run pulls only what changed (plus the overlap), and the warehouse holds each issue once,
in its new state, with its whole history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.landing import read_manifest
from pipelines.runner import run_nightly
from tests.fakes import github_api, jira_api, linear_api
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.fakes.linear_api import FakeLinear
from tests.fakes.tracker_model import DOING, DONE, REVIEW, TODO, FakeIssue, change_issues
from tests.fakes.tracker_model import generate_issues as issues

from .conftest import DEMO_END, published

# its own runs of fake trackers, shared with no other module: a group of its own lets the test
# workers balance it against the demo and Jira-only groups
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("extract")]

CATEGORY = {TODO: "todo", DOING: "in_progress", REVIEW: "waiting", DONE: "done"}
CHANGED_AT = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
CHANGED = 20


@pytest.fixture
def trackers() -> Iterator[dict[str, object]]:
    servers = [HTTPServer(), HTTPServer(), HTTPServer()]
    for server in servers:
        server.start()
    yield {
        "jira": FakeJira(servers[0], issues(300)),
        "github": FakeGitHub(servers[1], issues(150), repo="acme/hx"),
        "linear": FakeLinear(servers[2], issues(150), team="HX"),
    }
    for server in servers:
        server.stop()


@pytest.fixture
def operator_environment(trackers, tmp_path, monkeypatch, dagster_home) -> Path:
    config = tmp_path / "owh.yml"
    config.write_text(
        f"jira:\n  url: {trackers['jira'].url}\n  jql: project = HX\n  page_size: 50\n"
        # the fake site's workstreams are defined nowhere in this landing: not read
        "  fields:\n    workstream: null\n"
        f"github:\n  repo: acme/hx\n  api_url: {trackers['github'].api_url}\n"
        f"linear:\n  team: HX\n  api_url: {trackers['linear'].api_url}\n"
    )
    monkeypatch.setenv("OWH_CONFIG", str(config))
    monkeypatch.setenv("OWH_JIRA_EMAIL", jira_api.EMAIL)
    monkeypatch.setenv("OWH_JIRA_API_TOKEN", jira_api.API_TOKEN)
    monkeypatch.setenv("OWH_GITHUB_TOKEN", github_api.TOKEN)
    monkeypatch.setenv("OWH_LINEAR_API_KEY", linear_api.API_KEY)
    monkeypatch.setenv("OWH_PSEUDONYM_KEY", "a-test-key-for-pulled-trackers")
    return tmp_path


def task_ids(source: str, issue: FakeIssue) -> str:
    return f"acme/hx#{issue.number}" if source == "github" else issue.key


def expected(trackers) -> dict[tuple[str, str], tuple]:
    rows = {}
    for source, fake in trackers.items():
        for issue in fake.issues:
            truth = issue.expected()
            rows[(source, task_ids(source, issue))] = (
                issue.status(source),
                CATEGORY[truth["stage"]],
                truth["started_at"],
                truth["completed_at"],
                truth["reopen_count"],
            )
    return rows


def warehouse_tasks(warehouse: Path) -> dict[tuple[str, str], tuple]:
    with connection(published(warehouse), read_only=True) as con:
        rows = con.execute(
            "select source, task_id, current_status, current_category, started_at, "
            "completed_at, reopen_count from marts.fct_tasks"
        ).fetchall()
    return {(row[0], row[1]): row[2:] for row in rows}


def test_the_nightly_run_pulls_every_tracker_and_stays_exact_after_changes(
    trackers, operator_environment, dagster_home
):
    landing, warehouse = operator_environment / "landing", operator_environment / "warehouse"
    landing.mkdir()

    first = run_nightly(landing, warehouse, as_of=DEMO_END, demo=False)

    assert first.success, first.errors
    assert warehouse_tasks(warehouse) == expected(trackers)

    searched_before = len(trackers["jira"].search_requests())
    for fake in trackers.values():
        fake.issues = change_issues(fake.issues, CHANGED, CHANGED_AT)

    second = run_nightly(landing, warehouse, as_of=DEMO_END, demo=False)

    assert second.success, second.errors
    assert warehouse_tasks(warehouse) == expected(trackers)
    # each second pull holds the changed issues and the few inside the overlap, no more
    for source in trackers:
        pulls = sorted(p for p in (landing / source).iterdir() if not p.name.startswith("."))
        assert len(pulls) == 2, source
        assert CHANGED <= read_manifest(pulls[1]).issues <= CHANGED + 3, source
    assert len(trackers["jira"].search_requests()) - searched_before == 1

    # no credential reached a file: landing pages, cursors, logs, the warehouse, Dagster's events
    secrets = [jira_api.API_TOKEN, github_api.TOKEN, linear_api.API_KEY]
    for folder in (landing, warehouse, dagster_home):
        for path in folder.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                assert not [s for s in secrets if s.encode() in content], path
