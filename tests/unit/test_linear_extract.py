"""``pull_linear`` against the fake Linear GraphQL API (tests/fakes/linear_api.py): pages, complete
histories, incremental pulls, rate limits, GraphQL errors, and the key kept out of every file.

The issues are ``generate_issues(12)`` of team HX, listed newest created first: 12, 11, ..., 1.
Issues 6 and 9 have the longest histories (69 and 70 entries); issue 9, updated 2026-06-23 05:12
UTC, is the last update.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from pathlib import Path

import dlt.common.logger
import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from pipelines.extract.linear import (
    LINEAR_API_KEY_ENV,
    TEAM_ISSUES_QUERY,
    TEAM_ISSUES_UPDATED_SINCE_QUERY,
    LinearApiKey,
    linear_api_key_from_env,
    pull_linear,
)
from pipelines.extract.policy import ExtractError, RetryPolicy
from pipelines.extract.pulls import CursorStore
from tests.fakes.linear_api import (
    API_KEY,
    FakeLinear,
    error_body,
    rate_limit_headers,
    rate_limited_body,
)
from tests.fakes.tracker_model import OtherChange, change_issues, generate_issues

POLICY = RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=2, timeout_seconds=5)
FIRST_PULL = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)
SECOND_PULL = dt.datetime(2026, 9, 2, 6, 0, tzinfo=dt.UTC)
NEXT_DAY = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)  # when change_issues moves issues 1 and 8


@pytest.fixture
def fake(httpserver) -> FakeLinear:
    return FakeLinear(httpserver, generate_issues(12))


def pull(fake: FakeLinear, tmp_path: Path, **options):
    arguments = {
        "team": "HX",
        "landing_dir": tmp_path / "landing",
        "warehouse_dir": tmp_path / "warehouse",
        "api_key": API_KEY,
        "api_url": fake.api_url,
        "page_size": 5,
        "policy": POLICY,
        "now": FIRST_PULL,
        **options,
    }
    return pull_linear(**arguments)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def landing_state(tmp_path: Path) -> dict[str, bytes]:
    """Every file of the landing and warehouse folders with its bytes (the lock file aside)."""
    return {
        str(path.relative_to(tmp_path)): path.read_bytes()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }


def cursor_path(fake: FakeLinear, tmp_path: Path) -> Path:
    return CursorStore(tmp_path / "warehouse").path("linear", f"{fake.api_url}|HX")


def identifiers(page: dict) -> list[str]:
    return [issue["identifier"] for issue in page["data"]["issues"]["nodes"]]


def with_history_length(issue, entries: int):
    """The issue with other changes (priority changes, a minute apart) making up ``entries``
    history entries."""
    others = tuple(
        OtherChange(
            issue.created + dt.timedelta(minutes=index + 1),
            "priority",
            f"p{index}",
            f"p{index + 1}",
            "ana@example.com",
        )
        for index in range(entries - len(issue.transitions))
    )
    return replace(issue, other_changes=others)


def test_a_full_pull_stores_each_page_as_linear_sent_it_with_every_history_complete(fake, tmp_path):
    result = pull(fake, tmp_path)

    assert (result.issues, result.pages, result.full, result.since) == (12, 3, True, None)
    assert result.cursor == "2026-06-23T05:12:00+00:00"  # issue 9, the last update
    assert result.folder == tmp_path / "landing" / "linear" / "20260701T060000Z"
    assert sorted(path.name for path in result.folder.iterdir()) == [
        "manifest.json",
        "page-0001.json",
        "page-0002.json",
        "page-0003.json",
    ]
    pages = [read_json(result.folder / f"page-000{n}.json") for n in (1, 2, 3)]
    assert [identifiers(page) for page in pages] == [
        ["HX-12", "HX-11", "HX-10", "HX-9", "HX-8"],
        ["HX-7", "HX-6", "HX-5", "HX-4", "HX-3"],
        ["HX-2", "HX-1"],
    ]
    by_key = {issue.key: issue for issue in fake.issues}
    whole = 10_000  # one history page holding every entry: what a completed history equals
    for page in pages:
        assert page["data"]["issues"]["nodes"] == [
            fake.render_issue(by_key[key], whole) for key in identifiers(page)
        ]
    assert [page["data"]["issues"]["pageInfo"] for page in pages] == [
        {"hasNextPage": True, "endCursor": fake.issue_id(by_key["HX-8"])},
        {"hasNextPage": True, "endCursor": fake.issue_id(by_key["HX-3"])},
        {"hasNextPage": False, "endCursor": fake.issue_id(by_key["HX-1"])},
    ]
    issue_9 = pages[0]["data"]["issues"]["nodes"][3]
    assert len(issue_9["history"]["nodes"]) == 70
    assert issue_9["history"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": f"{fake.issue_id(by_key['HX-9'])}:history:69",
    }
    manifest = read_json(result.folder / "manifest.json")
    assert manifest["source"] == "linear"
    assert manifest["scope"] == f"{fake.api_url}|HX"
    assert manifest["details"] == {"team": "HX", "api_url": fake.api_url}
    assert (manifest["issues"], manifest["pages"], manifest["full"]) == (12, 3, True)


def test_requests_carry_the_bare_key_and_page_along_the_end_cursor(fake, tmp_path):
    pull(fake, tmp_path)

    check, first = fake.served[:2]
    assert check.kind == "teams"  # the key and the team are checked before anything is written
    assert check.headers["Authorization"] == API_KEY  # a personal key, without "Bearer"
    assert first.headers["Authorization"] == API_KEY
    assert first.headers["Content-Type"] == "application/json"
    assert first.query == TEAM_ISSUES_QUERY
    assert "orderBy: createdAt" in first.query and "includeArchived: true" in first.query
    ids = {issue.key: fake.issue_id(issue) for issue in fake.issues}
    assert [request.variables for request in fake.requests_of("issues")] == [
        {"team": "HX", "first": 5, "after": None},
        {"team": "HX", "first": 5, "after": ids["HX-8"]},
        {"team": "HX", "first": 5, "after": ids["HX-3"]},
    ]
    # the rest of the two histories longer than 50 entries, right after their page
    assert [(r.variables, r.status) for r in fake.requests_of("issue")] == [
        ({"id": ids["HX-9"], "after": f"{ids['HX-9']}:history:49"}, 200),
        ({"id": ids["HX-6"], "after": f"{ids['HX-6']}:history:49"}, 200),
    ]
    assert [request.kind for request in fake.served] == ["teams"] + ["issues", "issue"] * 2 + [
        "issues"
    ]


def test_histories_of_60_and_130_entries_are_stored_whole_in_linears_order(httpserver, tmp_path):
    issues = generate_issues(12)
    issues[5] = with_history_length(issues[5], 60)  # HX-6: 27 transitions, 33 other changes
    issues[8] = with_history_length(issues[8], 130)  # HX-9: 28 transitions, 102 other changes
    fake = FakeLinear(httpserver, issues)

    result = pull(fake, tmp_path)

    nodes = {
        issue["identifier"]: issue
        for n in (1, 2, 3)
        for issue in read_json(result.folder / f"page-000{n}.json")["data"]["issues"]["nodes"]
    }
    hx6, hx9 = nodes["HX-6"]["history"], nodes["HX-9"]["history"]
    assert len(hx6["nodes"]) == 60
    assert hx6["nodes"] == fake.history(issues[5])  # newest first, as Linear lists them
    assert hx6["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": f"{fake.issue_id(issues[5])}:history:59",
    }
    assert len(hx9["nodes"]) == 130
    assert hx9["nodes"] == fake.history(issues[8])
    assert sum(1 for entry in hx9["nodes"] if entry["toState"] is not None) == 28
    # 50 with the issue, then 50 and 30 from the history query
    id9 = fake.issue_id(issues[8])
    assert [
        r.variables["after"] for r in fake.requests_of("issue") if r.variables["id"] == id9
    ] == [
        f"{id9}:history:49",
        f"{id9}:history:99",
    ]


def test_an_incremental_pull_fetches_what_changed_since_the_cursor_less_five_minutes(
    fake, tmp_path
):
    pull(fake, tmp_path)
    served_before = len(fake.served)
    fake.issues = change_issues(fake.issues, 2, NEXT_DAY)  # issues 1 and 8 move on

    result = pull(fake, tmp_path, now=SECOND_PULL)

    second = fake.served[served_before + 1 :]  # after the team check
    assert second[0].query == TEAM_ISSUES_UPDATED_SINCE_QUERY
    assert second[0].variables == {
        "team": "HX",
        "first": 5,
        "after": None,
        "since": "2026-06-23T05:07:00.000Z",  # issue 9's update less the five-minute overlap
    }
    # the two changed issues, and issue 9 again (inside the overlap), newest created first
    assert identifiers(read_json(result.folder / "page-0001.json")) == ["HX-9", "HX-8", "HX-1"]
    assert [request.kind for request in second] == ["issues", "issue"]  # issue 9's long history
    assert (result.issues, result.pages, result.full) == (3, 1, False)
    assert result.since == "2026-06-23T05:07:00+00:00"
    assert result.cursor == "2026-09-01T08:01:00+00:00"
    assert read_json(cursor_path(fake, tmp_path)) == {
        "source": "linear",
        "scope": f"{fake.api_url}|HX",
        "cursor": "2026-09-01T08:01:00+00:00",
        "pull_id": "20260902T060000Z",
    }
    assert sorted(p.name for p in (tmp_path / "landing" / "linear").iterdir()) == [
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
    # only issue 9, inside the overlap, was listed again (with the rest of its history)
    assert [request.kind for request in fake.served[served_before:]] == ["teams", "issues", "issue"]


def test_an_issue_updated_while_the_pull_pages_through_stays_in_the_pull(fake, tmp_path):
    """Creation order keeps an issue in its place when it is updated mid-pull; in update order
    (newest first) issue 1 would jump into the first page, already read, and miss the pull."""
    moved = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)

    def update_issue_1_once_the_first_issue_is_read(issues: int) -> None:
        if issues == 1:
            fake.issues = [
                replace(issue, extra_updated=moved) if issue.number == 1 else issue
                for issue in fake.issues
            ]

    result = pull(fake, tmp_path, on_progress=update_issue_1_once_the_first_issue_is_read)

    pages = [read_json(result.folder / f"page-000{n}.json") for n in (1, 2, 3)]
    assert sorted(key for page in pages for key in identifiers(page)) == sorted(
        f"HX-{n}" for n in range(1, 13)
    )
    assert result.issues == 12
    assert result.cursor == "2026-06-30T12:00:00+00:00"  # issue 1's new update, read on page 3


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, lambda: {"Retry-After": "1"}),
        # Linear's own way: 400 with the RATELIMITED code, lifted at X-RateLimit-Requests-Reset
        (400, lambda: rate_limit_headers(reset_in=1.0)),
    ],
    ids=["429-retry-after", "400-ratelimited-until-reset"],
)
def test_a_rate_limit_is_waited_out_then_the_pull_goes_on(fake, tmp_path, status, headers):
    fake.fail("issue", status, headers=headers(), body=rate_limited_body())

    result = pull(fake, tmp_path)

    answers = [(request.status, request.at) for request in fake.requests_of("issue")]
    assert [status_code for status_code, _ in answers] == [status, 200, 200]
    assert answers[1][1] - answers[0][1] >= 1.0
    assert result.issues == 12
    hx9 = read_json(result.folder / "page-0001.json")["data"]["issues"]["nodes"][3]
    assert len(hx9["history"]["nodes"]) == 70


def test_a_rate_limit_that_outlasts_the_retries_says_so(fake, tmp_path):
    fake.fail("issues", 429, headers={"Retry-After": "1"}, body=rate_limited_body(), times=10)
    quick = RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=0.05)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, policy=quick)

    assert str(raised.value) == (
        "Linear's rate limit still held after 3 attempts (429 on POST /graphql): pull again later"
    )
    assert [request.status for request in fake.served] == [200, 429, 429, 429]  # after the check


def test_a_server_error_once_is_retried(fake, tmp_path):
    fake.fail("issues", 500)

    result = pull(fake, tmp_path)

    assert [request.status for request in fake.requests_of("issues")] == [500, 200, 200, 200]
    assert fake.requests_of("issues")[0].variables == fake.requests_of("issues")[1].variables
    assert result.issues == 12


def test_a_server_failing_for_good_mid_pull_leaves_landing_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)
    served_before = len(fake.served)
    fake.fail("issue", 502, times=100)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, full=True, now=SECOND_PULL)

    assert str(raised.value) == (
        "Linear kept answering 502 for POST /graphql after 3 attempts: Internal server error"
    )
    assert landing_state(tmp_path) == before
    assert [r.status for r in fake.served[served_before:]] == [200, 200, 502, 502, 502]


@pytest.mark.parametrize("status", [400, 401])
def test_a_wrong_key_stops_the_pull_before_anything_is_written(httpserver, tmp_path, status):
    fake = FakeLinear(httpserver, generate_issues(12), auth_error_status=status)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, api_key="lin_api_wrong0secret")

    assert str(raised.value) == "Linear refused the credentials: check OWH_LINEAR_API_KEY"
    assert [request.status for request in fake.served] == [status]  # not retried
    assert not (tmp_path / "landing").exists()
    assert not cursor_path(fake, tmp_path).exists()


def test_a_wrong_key_after_a_pull_leaves_its_folder_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)

    with pytest.raises(ExtractError, match="check OWH_LINEAR_API_KEY"):
        pull(fake, tmp_path, api_key="lin_api_wrong", now=SECOND_PULL)

    assert landing_state(tmp_path) == before
    assert read_json(cursor_path(fake, tmp_path))["cursor"] == "2026-06-23T05:12:00+00:00"


@pytest.mark.parametrize(
    ("kind", "status", "body", "message"),
    [
        (
            "issues",
            400,
            error_body(
                'Cannot query field "estimatee" on type "Issue".', "GRAPHQL_VALIDATION_FAILED"
            ),
            'Linear rejected the query (400 on POST /graphql): Cannot query field "estimatee" on '
            'type "Issue".',
        ),
        # GraphQL answers errors with HTTP 200 too
        (
            "issue",
            200,
            {"data": None, **error_body("Entity not found: Issue", "INVALID_INPUT")},
            "Linear rejected the query (200 on POST /graphql): Entity not found: Issue",
        ),
        (
            "issues",
            400,
            error_body("Forbidden", "FORBIDDEN"),
            "Linear refused access (400 on POST /graphql): check that the user of "
            "OWH_LINEAR_API_KEY may read the team (Forbidden)",
        ),
    ],
    ids=["invalid-query-400", "error-in-a-200", "forbidden"],
)
def test_a_graphql_error_stops_the_pull_quoting_linear_and_writes_nothing(
    fake, tmp_path, kind, status, body, message
):
    fake.fail(kind, status, body=body)

    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path)

    assert str(raised.value) == message
    assert [r.status for r in fake.requests_of(kind)] == [status]  # not retried
    assert not (tmp_path / "landing").exists()
    assert not cursor_path(fake, tmp_path).exists()


def test_an_unknown_team_is_named_instead_of_pulling_nothing(fake, tmp_path):
    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, team="HXX")

    assert str(raised.value) == (
        "Linear has no team with key 'HXX' that this API key can read: check the key (--team, "
        "or linear.team in owh.yml; it is the prefix of the team's issue identifiers, e.g. DATA "
        "in DATA-12)"
    )
    assert [(r.kind, r.variables) for r in fake.served] == [("teams", {"team": "HXX"})]
    assert not (tmp_path / "landing").exists()


def test_a_team_without_issues_gives_an_empty_full_pull(httpserver, tmp_path):
    fake = FakeLinear(httpserver, [])

    result = pull(fake, tmp_path)

    assert (result.issues, result.pages, result.full, result.cursor) == (0, 1, True, None)
    assert read_json(result.folder / "page-0001.json") == {
        "data": {"issues": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    }
    assert [request.kind for request in fake.served] == ["teams", "issues"]


@pytest.mark.parametrize("team", ["", "   "])
def test_a_blank_team_key_is_refused_before_any_request(fake, tmp_path, team):
    with pytest.raises(ExtractError) as raised:
        pull(fake, tmp_path, team=team)

    assert str(raised.value) == (
        "a Linear team key is needed, e.g. DATA (--team, or linear.team in owh.yml)"
    )
    assert fake.served == []


def test_a_pull_stopped_half_way_leaves_landing_and_cursor_as_they_were(fake, tmp_path):
    pull(fake, tmp_path)
    before = landing_state(tmp_path)
    fake.issues = change_issues(fake.issues, 2, NEXT_DAY)

    class Stop(Exception):
        pass

    def stop_at_the_seventh_issue(issues: int) -> None:
        if issues == 7:  # page 1 is written, page 2 is being read
            raise Stop

    with pytest.raises(Stop):
        pull(fake, tmp_path, full=True, now=SECOND_PULL, on_progress=stop_at_the_seventh_issue)

    assert landing_state(tmp_path) == before
    assert not list((tmp_path / "landing" / "linear").glob(".*.partial"))


def test_the_key_reaches_no_file_no_log_line_and_no_message(fake, tmp_path, monkeypatch):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    dlt_logger = logging.getLogger("test_linear_extract.dlt")
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
            pull(fake, tmp_path, api_key="lin_api_wrong0secret", now=SECOND_PULL)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert any("Making POST request" in line for line in lines)  # the logs were captured
    assert not [line for line in lines if API_KEY in line or "lin_api_wrong0secret" in line]
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) > 5
    assert not [path for path in files if API_KEY.encode() in path.read_bytes()]
    assert "lin_api_wrong0secret" not in str(raised.value)
    assert API_KEY not in repr(LinearApiKey(API_KEY))


def test_the_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(LINEAR_API_KEY_ENV, f"  {API_KEY}\n")
    assert linear_api_key_from_env() == API_KEY

    monkeypatch.delenv(LINEAR_API_KEY_ENV)
    with pytest.raises(ExtractError) as raised:
        linear_api_key_from_env()
    assert str(raised.value) == (
        "Linear needs a personal API key in OWH_LINEAR_API_KEY (not set): create one among the "
        "personal API keys of Linear's settings, with read access"
    )
