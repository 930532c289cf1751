"""``pull_github`` against the fake GitHub API (tests/fakes/github_api.py): pages, timelines,
incremental pulls, pull requests, rate limits, failures, and the token kept out of every file.

The issues are ``generate_issues(12)``; with a pull request after issues 5 and 10 the list holds
14 items, in update order: 3, 10, PR 1010, 12, 5, PR 1005, 1, 2, 7, 4, 8, 11, 6, 9 (issue 9,
updated 2026-06-23 05:12 UTC, last).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import dlt.common.logger
import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from pipelines.extract.github import (
    GITHUB_TOKEN_ENV,
    github_token_from_env,
    pull_github,
)
from pipelines.extract.http import BearerToken
from pipelines.extract.policy import ExtractError, RetryPolicy
from pipelines.extract.pulls import CursorStore
from tests.fakes.github_api import (
    REPO,
    TOKEN,
    FakeGitHub,
    rate_limit_body,
    rate_limit_headers,
)
from tests.fakes.tracker_model import change_issues, generate_issues

POLICY = RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=2, timeout_seconds=5)
FIRST_PULL = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)
SECOND_PULL = dt.datetime(2026, 9, 2, 6, 0, tzinfo=dt.UTC)
NEXT_DAY = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)  # when change_issues moves issues 1 and 8


@pytest.fixture
def fake(httpserver) -> FakeGitHub:
    return FakeGitHub(httpserver, generate_issues(12), timeline_page_size=10)


def pull(fake: FakeGitHub, tmp_path: Path, **options):
    arguments = {
        "repo": REPO,
        "landing_dir": tmp_path / "landing",
        "warehouse_dir": tmp_path / "warehouse",
        "token": TOKEN,
        "api_url": fake.api_url,
        "page_size": 5,
        "policy": POLICY,
        "now": FIRST_PULL,
        **options,
    }
    return pull_github(**arguments)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def landing_state(tmp_path: Path) -> dict[str, bytes]:
    """Every file of the landing and warehouse folders with its bytes (the lock file aside)."""
    return {
        str(path.relative_to(tmp_path)): path.read_bytes()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }


def cursor_path(fake: FakeGitHub, tmp_path: Path) -> Path:
    return CursorStore(tmp_path / "warehouse").path("github", f"{fake.api_url}|{REPO}")


def test_a_full_pull_stores_each_issues_page_with_the_timelines_of_its_issues(fake, tmp_path):
    result = pull(fake, tmp_path)

    assert (result.issues, result.pages, result.full, result.since) == (12, 3, True, None)
    assert result.cursor == "2026-06-23T05:12:00+00:00"  # issue 9, the last update
    assert result.folder == tmp_path / "landing" / "github" / "20260701T060000Z"
    assert sorted(path.name for path in result.folder.iterdir()) == [
        "manifest.json",
        "page-0001.json",
        "page-0002.json",
        "page-0003.json",
    ]
    items = sorted(fake.list_items(), key=lambda item: (item["created_at"], item["number"]))
    pages = [read_json(result.folder / f"page-000{n}.json") for n in (1, 2, 3)]
    # the issues pages exactly as served, pull requests included
    assert [page["issues"] for page in pages] == [items[0:5], items[5:10], items[10:14]]
    assert [[issue["number"] for issue in page["issues"]] for page in pages] == [
        [1, 2, 3, 4, 5],
        [1005, 6, 7, 8, 9],
        [10, 1010, 11, 12],
    ]
    assert [list(page["timelines"]) for page in pages] == [
        ["1", "2", "3", "4", "5"],
        ["6", "7", "8", "9"],
        ["10", "11", "12"],
    ]
    by_number = {issue.number: issue for issue in fake.issues}
    for page in pages:
        for number, events in page["timelines"].items():
            assert events == fake.timeline(by_number[int(number)])
    # issue 6's 97 events came in ten pages of ten
    assert len(pages[1]["timelines"]["6"]) == 97
    assert [r.args.get("page") for r in fake.served if r.path.endswith("/6/timeline")] == [
        None,
        *map(str, range(2, 11)),
    ]
    manifest = read_json(result.folder / "manifest.json")
    assert manifest["source"] == "github"
    assert manifest["scope"] == f"{fake.api_url}|acme/hx"
    assert manifest["details"] == {"repo": "acme/hx", "api_url": fake.api_url}
    assert (manifest["issues"], manifest["pages"], manifest["full"]) == (12, 3, True)


def test_requests_carry_the_token_and_the_api_version_and_list_in_creation_order(fake, tmp_path):
    pull(fake, tmp_path)

    check, first = fake.served[:2]
    assert check.path == "/repos/acme/hx"  # before anything is written
    assert check.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.path == "/repos/acme/hx/issues"
    assert first.args == {"state": "all", "sort": "created", "direction": "asc", "per_page": "5"}
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Accept"] == "application/vnd.github+json"
    assert first.headers["X-Github-Api-Version"] == "2022-11-28"
    # the next pages follow the Link header: same query, next page
    assert [request.args for request in fake.list_requests()[1:]] == [
        {"state": "all", "sort": "created", "direction": "asc", "per_page": "5", "page": "2"},
        {"state": "all", "sort": "created", "direction": "asc", "per_page": "5", "page": "3"},
    ]
    timeline = next(r for r in fake.served if r.path.endswith("/timeline"))
    assert timeline.args == {"per_page": "100"}


def test_pull_requests_are_stored_but_get_no_timeline_and_do_not_count(httpserver, tmp_path):
    fake = FakeGitHub(httpserver, generate_issues(12), pull_request_every=3)
    progress: list[int] = []

    result = pull(fake, tmp_path, page_size=100, on_progress=progress.append)

    page = read_json(result.folder / "page-0001.json")
    assert [item["number"] for item in page["issues"] if "pull_request" in item] == [
        1003,
        1006,
        1009,
        1012,
    ]
    assert fake.timelines_served() == list(range(1, 13))
    assert sorted(map(int, page["timelines"])) == list(range(1, 13))
    assert result.issues == 12
    assert progress == list(range(1, 13))
    # pull request 1009, a minute after issue 9, is the last item updated: the cursor counts it
    assert result.cursor == "2026-06-23T05:13:00+00:00"


def test_an_incremental_pull_fetches_what_changed_since_the_cursor_less_five_minutes(
    fake, tmp_path
):
    pull(fake, tmp_path)
    served_before, timelines_before = len(fake.served), len(fake.timelines_served())
    fake.issues = change_issues(fake.issues, 2, NEXT_DAY)  # issues 1 and 8 move on

    result = pull(fake, tmp_path, now=SECOND_PULL)

    second = fake.served[served_before:]
    assert second[0].path == "/repos/acme/hx"  # the repository answers to the token first
    assert second[1].args == {
        "state": "all",
        "sort": "created",
        "direction": "asc",
        "per_page": "5",
        "since": "2026-06-23T05:07:00Z",  # issue 9's update less the five-minute overlap
    }
    # the two changed issues, and issue 9 again (inside the overlap), in creation order
    assert fake.timelines_served()[timelines_before:] == [1, 8, 9]
    assert (result.issues, result.pages, result.full) == (3, 1, False)
    assert result.since == "2026-06-23T05:07:00+00:00"
    assert result.cursor == "2026-09-01T08:01:00+00:00"
    assert read_json(cursor_path(fake, tmp_path)) == {
        "source": "github",
        "scope": f"{fake.api_url}|acme/hx",
        "cursor": "2026-09-01T08:01:00+00:00",
        "pull_id": "20260902T060000Z",
    }
    assert sorted(p.name for p in (tmp_path / "landing" / "github").iterdir()) == [
        "20260701T060000Z",
        "20260902T060000Z",
    ]


def test_an_incremental_pull_with_nothing_new_writes_nothing(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)
    served_before = len(fake.served)

    result = pull(fake, tmp_path, now=SECOND_PULL)

    assert (result.issues, result.folder, result.cursor) == (0, None, None)
    assert result.since == "2026-06-23T05:07:00+00:00"
    assert landing_state(tmp_path) == before
    # only issue 9, inside the overlap, was listed again
    second = fake.served[served_before:]
    assert {r.path for r in second} == {
        "/repos/acme/hx",
        "/repos/acme/hx/issues",
        "/repos/acme/hx/issues/9/timeline",
    }


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (429, lambda: {"Retry-After": "1"}, {"message": "Too Many Requests"}),
        (
            403,
            lambda: {"Retry-After": "1"},
            {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
        ),
        # no Retry-After: the wait comes from x-ratelimit-reset, two seconds ahead
        (403, lambda: rate_limit_headers(reset_in=2), rate_limit_body()),
    ],
    ids=["429-retry-after", "403-secondary-limit", "403-hourly-limit-spent"],
)
def test_a_rate_limit_is_waited_out_then_the_pull_goes_on(fake, tmp_path, status, headers, body):
    fake.fail(r"/issues/7/timeline$", status, headers=headers(), body=body)

    result = pull(fake, tmp_path)

    answers = [
        (r.status, r.at)
        for r in fake.served
        if r.path.endswith("/7/timeline") and "page" not in r.args
    ]
    assert [status_code for status_code, _ in answers] == [status, 200]
    assert answers[1][1] - answers[0][1] >= 1.0
    assert result.issues == 12


def test_a_rate_limit_that_outlasts_the_retries_says_so(fake, tmp_path):
    headers = rate_limit_headers(reset_in=1)
    fake.fail(r"/issues$", 403, headers=headers, body=rate_limit_body(), times=10)
    reset = dt.datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), dt.UTC)
    quick = RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=0.05)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, policy=quick)

    assert str(raised.value) == (
        "GitHub's rate limit still held after 3 attempts (403 on GET /repos/acme/hx/issues); "
        f"the limit lifts at {reset:%H:%M} UTC: pull again later"
    )
    assert [r.status for r in fake.served] == [200, 403, 403, 403]  # the repository, the list


def test_a_403_that_is_not_a_rate_limit_is_a_permission_error_not_retried(fake, tmp_path):
    body = {"message": "Resource not accessible by personal access token", "status": "403"}
    fake.fail(r"/issues$", 403, body=body)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path)

    assert str(raised.value) == (
        "GitHub refused access (403 on GET /repos/acme/hx/issues): check OWH_GITHUB_TOKEN "
        "(Resource not accessible by personal access token)"
    )
    assert [r.status for r in fake.served] == [200, 403]  # the repository, the list


def test_a_server_error_once_is_retried(fake, tmp_path):
    fake.fail(r"/issues/3/timeline$", 500)

    result = pull(fake, tmp_path)

    assert [r.status for r in fake.served if r.path.endswith("/3/timeline")][:2] == [500, 200]
    page = read_json(result.folder / "page-0001.json")
    assert page["timelines"]["3"] == fake.timeline(fake.issues[2])


def test_wrong_credentials_stop_the_pull_before_anything_is_written(fake, tmp_path):
    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, token="ghp_wrong")

    assert str(raised.value) == (
        "GitHub refused the credentials (401 on GET /repos/acme/hx): check "
        "OWH_GITHUB_TOKEN (Bad credentials)"
    )
    assert not (tmp_path / "landing").exists()
    assert not cursor_path(fake, tmp_path).exists()


def test_wrong_credentials_after_a_pull_leave_its_folder_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)

    with pytest.raises(ExtractError, match="check OWH_GITHUB_TOKEN"):
        pull(fake, tmp_path, token="ghp_wrong", now=SECOND_PULL)

    assert landing_state(tmp_path) == before


def test_an_unknown_repository_is_a_404_naming_the_url(fake, tmp_path):
    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, repo="acme/nope")

    assert str(raised.value) == (
        "GitHub answered 404 Not Found for GET /repos/acme/nope: check the URL "
        f"({fake.api_url}) and that the project or repository exists (Not Found)"
    )
    assert not (tmp_path / "landing").exists()


@pytest.mark.parametrize("repo", ["acme", "acme/hx/issues", "../hx", "acme/..", "", "acme/h x"])
def test_a_repository_that_is_not_owner_slash_name_is_refused_before_any_request(
    fake, tmp_path, repo
):
    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, repo=repo)

    assert str(raised.value) == (
        f"{repo!r} is not a GitHub repository: expected OWNER/NAME, e.g. octo-org/octo-repo "
        "(--repo, or github.repo in owh.yml)"
    )
    assert fake.served == []


def test_github_enterprise_is_the_same_api_under_its_own_root(httpserver, tmp_path):
    fake = FakeGitHub(httpserver, generate_issues(4), prefix="/api/v3")
    assert fake.api_url.endswith("/api/v3")

    result = pull(fake, tmp_path, api_url=fake.api_url + "/")

    assert result.issues == 4
    assert read_json(result.folder / "manifest.json")["details"]["api_url"] == fake.api_url
    assert {request.path for request in fake.list_requests()} == {"/repos/acme/hx/issues"}


def test_a_pull_stopped_half_way_leaves_landing_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)
    fake.issues = change_issues(fake.issues, 2, NEXT_DAY)

    class Stop(Exception):
        pass

    def stop_at_the_second_issue(issues: int) -> None:
        if issues == 2:
            raise Stop

    with pytest.raises(Stop):
        pull(fake, tmp_path, full=True, now=SECOND_PULL, on_progress=stop_at_the_second_issue)

    assert landing_state(tmp_path) == before
    assert not list((tmp_path / "landing" / "github").glob(".*.partial"))


def test_a_server_failing_for_good_mid_pull_leaves_landing_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)
    fake.fail(r"/issues/7/timeline$", 502, times=100)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, full=True, now=SECOND_PULL)

    assert str(raised.value) == (
        "GitHub kept answering 502 for GET /repos/acme/hx/issues/7/timeline after 3 attempts: "
        "Server Error"
    )
    assert landing_state(tmp_path) == before
    # pages 1 and 2 had been fetched when issue 7's timeline failed
    assert len(fake.list_requests()) == 3 + 2


def test_the_token_reaches_no_file_and_no_log_line(fake, tmp_path, monkeypatch):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    dlt_logger = logging.getLogger("test_github_extract.dlt")
    dlt_logger.setLevel(logging.DEBUG)
    dlt_logger.addHandler(Collect())
    # dlt creates its logger when its runtime first starts in a process, replacing any set
    # before: start it now, whichever test ran first in this worker, then set ours
    Container()[PluggableRunContext]
    monkeypatch.setattr(dlt.common.logger, "LOGGER", dlt_logger)  # dlt logs request headers
    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        pull(fake, tmp_path)
        fake.issues = change_issues(fake.issues, 2, NEXT_DAY)
        pull(fake, tmp_path, now=SECOND_PULL)
        with pytest.raises(ExtractError) as raised:
            pull(fake, tmp_path, token="ghp_wrong0secret", now=SECOND_PULL)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert any("Making GET request" in line for line in lines)  # the logs were captured
    assert not [line for line in lines if TOKEN in line or "ghp_wrong0secret" in line]
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) > 5
    assert not [path for path in files if TOKEN.encode() in path.read_bytes()]
    assert "ghp_wrong0secret" not in str(raised.value)
    assert TOKEN not in repr(BearerToken(TOKEN))


def test_the_token_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(GITHUB_TOKEN_ENV, f"  {TOKEN}\n")
    assert github_token_from_env() == TOKEN

    monkeypatch.delenv(GITHUB_TOKEN_ENV)
    with pytest.raises(ExtractError) as raised:
        github_token_from_env()
    assert str(raised.value) == (
        "GitHub needs a token in OWH_GITHUB_TOKEN (not set): a fine-grained token with read "
        "access to the repository's issues, or a classic token"
    )
