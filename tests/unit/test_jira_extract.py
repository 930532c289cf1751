"""``owh extract jira`` against a fake Jira site on a local server (tests/fakes/jira_api.py).

Every expected value comes from the ground-truth issues of tests/fakes/tracker_model.py: what a
pull stores must let the Jira adapter rebuild each issue's status and every transition.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.extract.config import JiraFields
from pipelines.extract.jira import JiraCredentials, credentials_from_env, incremental_jql, pull_jira
from pipelines.extract.policy import ExtractError, RetryPolicy
from pipelines.extract.pulls import CursorStore
from pipelines.lib.landing import list_tracker_files, read_manifest
from pipelines.sources.jira import JiraFieldMap, parse_search_page
from tests.fakes.jira_api import API_TOKEN, EMAIL, PAT, FakeJira
from tests.fakes.tracker_model import STATUS_NAMES, change_issues, generate_issues

FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=2, timeout_seconds=5)
CLOUD = JiraCredentials("cloud", email=EMAIL, api_token=API_TOKEN)
DATA_CENTER = JiraCredentials("data_center", personal_access_token=PAT)
NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    # two levels that do not exist yet, as data/landing on a first pull
    return tmp_path / "data" / "landing", tmp_path / "warehouse"


def pull(jira: FakeJira, folders, **kwargs):
    landing, warehouse = folders
    options = {
        "url": jira.url,
        "jql": "project = HX",
        "landing_dir": landing,
        "warehouse_dir": warehouse,
        "credentials": CLOUD if jira.api == 3 else DATA_CENTER,
        "page_size": 25,
        "policy": FAST,
        "now": NOW,
    }
    return pull_jira(**{**options, **kwargs})


def parsed(landing: Path):
    """Every pulled page parsed with its manifest's field map, as ingestion does."""
    tasks, changes = [], []
    for file in list_tracker_files(landing, "jira", ("*.json",)):
        fields = read_manifest(file.path.parent).details["fields"]
        page = parse_search_page(
            json.loads(file.path.read_text()),
            source_file=file.relative_path,
            field_map=JiraFieldMap(**fields),
        )
        tasks += page.tasks.to_dict("records")
        changes += page.status_changes.to_dict("records")
    return tasks, changes


def landing_state(landing: Path, warehouse: Path) -> dict[str, bytes]:
    """Every file under the two folders with its bytes (the lock file aside)."""
    return {
        str(path.relative_to(landing.parent.parent)): path.read_bytes()
        for root in (landing, warehouse)
        if root.exists()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def test_a_cloud_pull_stores_every_issue_with_its_complete_changelog(httpserver, folders):
    issues = generate_issues(60)
    jira = FakeJira(httpserver, issues)
    seen = []
    result = pull(jira, folders, on_progress=seen.append)
    landing, warehouse = folders

    assert (result.issues, result.pages, result.full) == (60, 3, True)
    assert seen == [25, 50, 60]
    assert result.folder == landing / "jira" / "20261205T100000Z"
    # the 20 issues with more than 40 histories were completed through bulkfetch
    long_ones = [issue for issue in issues if issue.history_count > 40]
    assert len(long_ones) == 20
    assert sum("bulkfetch" in path for path, _ in jira.served) >= 1
    manifest = read_manifest(result.folder)
    assert manifest.details["changelogs_completed"] == 20
    assert manifest.details["fields"] == {
        "story_points": "customfield_10016",
        "found_in": "customfield_10200",
        "epic_link": "customfield_10014",
        "workstream": "customfield_10300",
        "team": None,
    }
    assert manifest.cursor == max(issue.updated for issue in issues).isoformat()
    assert CursorStore(warehouse).read("jira", f"{jira.url}|project = HX") == max(
        issue.updated for issue in issues
    )

    tasks, changes = parsed(landing)
    by_key = {task["task_id"]: task for task in tasks}
    assert sorted(by_key) == sorted(issue.key for issue in issues)
    for issue in issues:
        task = by_key[issue.key]
        assert task["status"] == issue.status("jira")
        assert task["is_history_truncated"] is False
        # the workstream is a rich-text field: API v3 sends it as an ADF document
        assert task["workstream_id"] == f"WS-{issue.number % 4 + 1}"
        assert task["story_points"] == issue.story_points
        transitions = [c["to_status"] for c in changes if c["task_id"] == issue.key]
        names = STATUS_NAMES["jira"]
        assert transitions == [names[t.to_stage] for t in issue.transitions], issue.key


def test_an_incremental_pull_asks_only_for_issues_updated_since_the_cursor(httpserver, folders):
    issues = generate_issues(60)
    jira = FakeJira(httpserver, issues)
    pull(jira, folders)
    later = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
    jira.issues = change_issues(issues, 5, later)
    jira.served.clear()

    result = pull(jira, folders, now=later + dt.timedelta(hours=1))

    landing, warehouse = folders
    assert result.full is False
    # the five changed issues, and the one last updated before the cursor (inside the overlap)
    last_before = max(issues, key=lambda issue: issue.updated)
    assert result.issues == 6
    pulled = {task["task_id"] for task in parsed(result.folder.parent.parent)[0][60:]}
    changed = {issue.key for issue in jira.issues if issue.updated >= later}
    assert pulled == changed | {last_before.key}
    (search,) = jira.search_requests()
    # the cursor less five minutes, in the user's time zone (London, summer time in July)
    last = max(issue.updated for issue in issues)
    since = (last - dt.timedelta(minutes=5)).astimezone(ZoneInfo("Europe/London"))
    expected_since = since.strftime("%Y-%m-%d %H:%M")
    assert (last.hour, since.hour) == (20, 21)
    assert search["jql"] == (
        f'(project = HX) AND updated >= "{expected_since}" ORDER BY created ASC, key ASC'
    )
    assert CursorStore(warehouse).read("jira", f"{jira.url}|project = HX") == later + (
        dt.timedelta(minutes=4)
    )
    assert sorted(p.name for p in (landing / "jira").iterdir() if not p.name.startswith(".")) == [
        "20261205T100000Z",
        "20261206T100000Z",
    ]


def test_an_incremental_pull_with_nothing_changed_writes_no_folder(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(10))
    pull(jira, folders)
    result = pull(jira, folders, now=NOW + dt.timedelta(days=1))
    assert (result.folder, result.issues) == (None, 0)
    assert len([p for p in (folders[0] / "jira").iterdir() if not p.name.startswith(".")]) == 1


def test_a_rate_limit_is_waited_out_as_retry_after_says(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(10))
    jira.faults.append(("/search/jql", 429, {"Retry-After": "1"}))
    started = dt.datetime.now()
    result = pull(jira, folders)
    assert (dt.datetime.now() - started).total_seconds() >= 1
    assert result.issues == 10
    assert sum("/search/jql" in path for path, _ in jira.served) == 2


def test_a_server_error_is_retried(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(10))
    jira.faults.append(("/changelog/bulkfetch", 500, {}))
    jira.faults.append(("/field", 503, {}))
    assert pull(jira, folders).issues == 10


def test_wrong_credentials_stop_the_pull_with_one_line_and_write_nothing(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(10))
    wrong = JiraCredentials("cloud", email=EMAIL, api_token="not-the-token")
    with pytest.raises(ExtractError) as error:
        pull(jira, folders, credentials=wrong)
    message = str(error.value)
    assert message == (
        "Jira refused the credentials for bar@… (401 on GET /rest/api/3/myself): check "
        "OWH_JIRA_API_TOKEN (Client must be authenticated to access this resource.)"
    )
    assert "not-the-token" not in message
    landing, warehouse = folders
    assert not landing.exists()
    assert not warehouse.exists()


def test_an_invalid_query_stops_with_jiras_own_message(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(10))
    with pytest.raises(ExtractError) as error:
        pull(jira, folders, jql="project = NOPE")
    assert str(error.value) == (
        "Jira rejected GET /rest/api/3/search/jql (400): The value 'NOPE' does not exist for "
        "the field 'project'."
    )
    # the search failed inside the pull: the folders it made are gone again, and nothing else
    # was written
    landing, warehouse = folders
    assert not landing.parent.exists()
    assert not warehouse.exists()


def test_a_wrong_url_and_an_unreachable_site_are_told_apart(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(3))
    with pytest.raises(ExtractError, match=r"404 Not Found for GET /jira/rest/api/3/myself"):
        pull(jira, folders, url=f"{jira.url}/jira")
    with pytest.raises(ExtractError, match=r"could not reach Jira at http://127\.0\.0\.1:9 "):
        pull(jira, folders, url="http://127.0.0.1:9")


def test_a_pull_killed_half_way_leaves_landing_and_cursor_as_they_were(httpserver, folders):
    issues = generate_issues(60)
    jira = FakeJira(httpserver, issues)
    pull(jira, folders)
    landing, warehouse = folders
    before = landing_state(landing, warehouse)
    cursor_file = CursorStore(warehouse).path("jira", f"{jira.url}|project = HX")
    cursor_before = cursor_file.read_bytes()
    jira.issues = change_issues(issues, 5, NOW + dt.timedelta(days=1))

    def kill(pulled: int) -> None:
        if pulled >= 5:  # the first page is written, the second not yet
            raise KeyboardInterrupt  # what a SIGINT does to the process

    with pytest.raises(KeyboardInterrupt):
        pull(jira, folders, now=NOW + dt.timedelta(days=2), page_size=5, on_progress=kill)
    assert landing_state(landing, warehouse) == before
    assert cursor_file.read_bytes() == cursor_before


def test_no_credential_reaches_a_file(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(30))
    pull(jira, folders)
    landing, warehouse = folders
    for path in [*landing.rglob("*"), *warehouse.rglob("*")]:
        if path.is_file():
            text = path.read_bytes()
            assert API_TOKEN.encode() not in text, path
            assert b"Authorization" not in text, path


def test_a_data_center_pull_pages_by_start_at_and_completes_changelogs_per_issue(
    httpserver, folders
):
    issues = generate_issues(30)
    jira = FakeJira(httpserver, issues, api=2)
    result = pull(jira, folders)
    assert (result.issues, result.pages) == (30, 2)
    assert [query["startAt"] for query in jira.search_requests()] == ["0", "25"]
    completed = [path for path, _ in jira.served if "/issue/" in path]
    assert len(completed) == sum(issue.history_count > 40 for issue in issues) == 10
    tasks, changes = parsed(folders[0])
    for issue in issues:
        transitions = [c["to_status"] for c in changes if c["task_id"] == issue.key]
        assert transitions == [STATUS_NAMES["jira"][t.to_stage] for t in issue.transitions]
    assert {task["workstream_id"] for task in tasks} == {"WS-1", "WS-2", "WS-3", "WS-4"}


def test_a_field_named_in_the_config_must_exist_once(httpserver, folders):
    jira = FakeJira(httpserver, generate_issues(3))
    with pytest.raises(ExtractError) as error:
        pull(jira, folders, fields=JiraFields(team="Squad"))
    assert str(error.value).startswith(
        "Jira has no field named 'Squad' (jira.fields.team in owh.yml); its custom fields are: "
        "Epic Link, Flagged, Found in, Story point estimate, Workstream"
    )
    # a default name the site lacks leaves its role empty instead
    result = pull(jira, folders, fields=JiraFields.model_validate({}))
    assert read_manifest(result.folder).details["fields"]["team"] is None


def test_credentials_come_from_the_environment_only(monkeypatch):
    for name in ("OWH_JIRA_EMAIL", "OWH_JIRA_API_TOKEN", "OWH_JIRA_PAT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ExtractError, match="OWH_JIRA_EMAIL, OWH_JIRA_API_TOKEN not set"):
        credentials_from_env()
    monkeypatch.setenv("OWH_JIRA_PAT", "secret-pat")
    assert credentials_from_env().deployment == "data_center"
    assert "secret-pat" not in repr(credentials_from_env())
    monkeypatch.setenv("OWH_JIRA_EMAIL", "a@b.example")
    monkeypatch.setenv("OWH_JIRA_API_TOKEN", "secret-token")
    assert credentials_from_env().deployment == "cloud"


def test_the_incremental_bound_is_written_in_the_users_zone_to_the_minute():
    since = dt.datetime(2026, 7, 1, 9, 14, 59, tzinfo=dt.UTC)
    assert incremental_jql(
        "project = HX ORDER BY created DESC", since, ZoneInfo("Asia/Kolkata")
    ) == ('(project = HX) AND updated >= "2026-07-01 14:44" ORDER BY created ASC, key ASC')
    assert incremental_jql("project = HX", None, dt.UTC) == (
        "project = HX ORDER BY created ASC, key ASC"
    )


def test_owh_extract_jira_reports_the_pull_and_exits_non_zero_on_refused_credentials(
    httpserver, folders, monkeypatch
):
    jira = FakeJira(httpserver, generate_issues(30))
    landing, warehouse = folders
    monkeypatch.delenv("OWH_CONFIG", raising=False)
    monkeypatch.chdir(warehouse.parent)
    monkeypatch.setenv("OWH_JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("OWH_JIRA_API_TOKEN", API_TOKEN)
    arguments = ["extract", "jira", "--url", jira.url, "--jql", "project = HX"]
    arguments += ["--landing", str(landing), "--warehouse", str(warehouse)]

    done = CliRunner().invoke(app, arguments)
    assert done.exit_code == 0, done.output
    assert "jira: 30 issues in 1 page (full pull)" in " ".join(done.output.split())

    monkeypatch.setenv("OWH_JIRA_API_TOKEN", "wrong-token")
    refused = CliRunner().invoke(app, [*arguments, "--full"])
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        "error: Jira refused the credentials for bar@… (401 on GET /rest/api/3/myself): check "
        "OWH_JIRA_API_TOKEN (Client must be authenticated to access this resource.)"
    )
    assert len([p for p in (landing / "jira").iterdir() if not p.name.startswith(".")]) == 1
