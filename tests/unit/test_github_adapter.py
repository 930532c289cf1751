"""The GitHub adapter on a hand-written page, staged into DuckDB, and end to end over the fake API.

The page (``PAGE`` below) holds, in this order:

1. an issue moved across the board: ``in progress`` (any case), then ``In Review`` swapped for it
   in the same second;
2. an issue closed, reopened into In Progress, closed again (its events listed out of time order);
3. a bug labelled Blocked at creation, closed as not planned;
4. a pull request;
5. an issue without a title or a creation time;
6. a closed issue whose timeline stops at In Progress;
7. an issue with a type, a status event of unreadable time, a status label added and removed in
   the same second, another label and a commit;
8. an issue without ``repository_url`` and without a timeline in the page;
9. an open issue with two status labels, Blocked applied before In Progress.

Every expected value below was worked out by hand from it.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from pipelines.extract.github import pull_github
from pipelines.extract.policy import RetryPolicy
from pipelines.lib.duckdb_connection import connect
from pipelines.lib.landing import LandingFile, list_tracker_files
from pipelines.lib.pseudonymize import pseudonym
from pipelines.lib.raw_schema import create_raw_schema
from pipelines.sources import FileRejectedError, TableLoad, create_staging_tables
from pipelines.sources.github import (
    GitHubStager,
    parse_issues_page,
    read_issues_page,
    status_labels,
)
from pipelines.sources.pages import PAGE_TABLES
from tests.fakes.github_api import TOKEN, FakeGitHub
from tests.fakes.tracker_model import STATUS_NAMES, generate_issues

REPOSITORY_URL = "https://api.github.com/repos/acme/hx"
PULL = "github/20261001T060000Z"
SOURCE_FILE = f"{PULL}/page-0001.json"
KEY = b"github-adapter-test-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 30)


def user(login: str, email: str | None = None) -> dict:
    return {"login": login, "id": len(login), "type": "User", "email": email}


def event(kind: str, at: str, actor: str = "ana", **fields) -> dict:
    return {"event": kind, "actor": user(actor), "created_at": at, **fields}


def label(name: str) -> dict:
    return {"name": name, "color": "ededed"}


def issue(number: int, title: str | None, created: str | None, state: str, **fields) -> dict:
    record = {
        "number": number,
        "title": title,
        "created_at": created,
        "updated_at": created,
        "state": state,
        "state_reason": None,
        "labels": [],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "repository_url": REPOSITORY_URL,
        "html_url": f"https://github.com/acme/hx/issues/{number}",
    }
    record.update(fields)
    # a field given as ... is left out of the issue
    return {key: value for key, value in record.items() if value is not ...}


PAGE = {
    "issues": [
        issue(
            1,
            "Board moves in two steps",
            "2026-09-01T09:00:00Z",
            "open",
            updated_at="2026-09-03T10:00:00Z",
            labels=[label("backend"), label("In Review")],
            assignee=user("Ana"),
            milestone={"number": 3, "title": "Q3 invoicing"},
        ),
        issue(
            2,
            "Closed, reopened, closed again",
            "2026-09-01T10:00:00Z",
            "closed",
            state_reason="completed",
            updated_at="2026-09-05T10:00:00Z",
            labels=[label("In Progress")],  # kept when it was closed
        ),
        issue(
            3,
            "Blocked from the start, then not planned",
            "2026-09-02T08:00:00Z",
            "closed",
            state_reason="not_planned",
            labels=[label("Bug"), label("blocked")],
            assignee=user("cy", email=" Cy@Example.com "),
        ),
        {
            "number": 4,
            "title": "Fix #1",
            "created_at": "2026-09-02T09:00:00Z",
            "state": "open",
            "repository_url": REPOSITORY_URL,
            "pull_request": {"url": f"{REPOSITORY_URL}/pulls/4", "merged_at": None},
        },
        issue(5, " ", None, "open"),
        issue(
            6,
            "Closed, but the timeline stops at In Progress",
            "2026-09-03T08:00:00Z",
            "closed",
            state_reason="completed",
        ),
        issue(
            7,
            "Typed, with an unreadable event",
            "2026-09-04T08:00:00Z",
            "open",
            labels=[label("needs-info")],
            assignees=[user("dee")],
            type={"id": 9, "name": "Feature"},
        ),
        issue(
            8,
            "No repository URL, no timeline",
            "2026-09-05T08:00:00Z",
            "open",
            labels=[label("In Progress")],
            repository_url=...,
        ),
        issue(
            9,
            "Two status labels",
            "2026-09-06T08:00:00Z",
            "open",
            labels=[label("Blocked"), label("In Progress")],
        ),
    ],
    "timelines": {
        "1": [
            event("labeled", "2026-09-01T09:00:00Z", label=label("backend")),
            event("labeled", "2026-09-02T09:00:00Z", "bo", label=label("in progress")),
            event("commented", "2026-09-02T12:00:00Z", "bo", body="on it"),
            event("unlabeled", "2026-09-03T10:00:00Z", label=label("In Progress")),
            event("labeled", "2026-09-03T10:00:00Z", label=label("In Review")),
        ],
        "2": [
            event("closed", "2026-09-02T10:00:00Z", state_reason="completed"),
            event("closed", "2026-09-05T10:00:00Z", "bo", state_reason="completed"),
            event("reopened", "2026-09-03T10:00:00Z", "bo"),
            event("labeled", "2026-09-03T10:00:00Z", "bo", label=label("In Progress")),
        ],
        "3": [
            event("labeled", "2026-09-02T08:00:00Z", "cy", label=label("Bug")),
            event("labeled", "2026-09-02T08:00:00Z", "cy", label=label("blocked")),
            event("closed", "2026-09-06T08:00:00+00:00", "cy", state_reason="not_planned"),
        ],
        "5": [],
        "6": [event("labeled", "2026-09-07T09:00:00Z", label=label("In Progress"))],
        "7": [
            event("labeled", "yesterday", label=label("In Progress")),
            event("labeled", "2026-09-08T09:00:00Z", label=label("needs-info")),
            event("labeled", "2026-09-08T10:00:00Z", label=label("In Review")),
            event("unlabeled", "2026-09-08T10:00:00Z", label=label("In Review")),
            {"event": "committed", "sha": "ab12", "author": {"date": "2026-09-08T11:00:00Z"}},
        ],
        "9": [
            event("labeled", "2026-09-06T09:00:00Z", label=label("Blocked")),
            event("labeled", "2026-09-06T11:00:00Z", "bo", label=label("In Progress")),
        ],
    },
}


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None, so they compare with plain literals."""
    rows = frame.astype(object).to_dict("records")
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in rows]


def _missing(value) -> bool:
    return not isinstance(value, list) and pd.isna(value)


@pytest.fixture(scope="module")
def page():
    return parse_issues_page(PAGE, source_file=SOURCE_FILE, repo="acme/hx")


def test_the_board_statuses_are_the_seeds_github_statuses_other_than_open_and_closed():
    assert status_labels() == {
        "in progress": "In Progress",
        "in review": "In Review",
        "blocked": "Blocked",
    }


def test_one_task_per_issue_with_its_status_from_state_and_labels(page):
    common = {
        "source": "github",
        "team": None,
        "project": "hx",
        "parent_id": None,
        "story_points": None,
        "priority": None,
        "found_in": None,
        "workstream_id": None,
    }
    assert records(page.tasks) == [
        {
            **common,
            "task_id": "acme/hx#1",
            "title": "Board moves in two steps",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 1, 9),
            "status": "In Review",
            "epic_id": "Q3 invoicing",  # the milestone
            "labels": ["backend", "In Review"],
            "assignee": "ana",  # the login, lower-cased: GitHub shows no e-mail
            "resolution": None,
            "url": "https://github.com/acme/hx/issues/1",
            "updated_at": datetime(2026, 9, 3, 10),
            "is_history_truncated": False,
            "_source_row": 1,
        },
        {
            **common,
            "task_id": "acme/hx#2",
            "title": "Closed, reopened, closed again",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 1, 10),
            "status": "Closed",  # closed wins over the In Progress label it kept
            "epic_id": None,
            "labels": ["In Progress"],
            "assignee": None,
            "resolution": "completed",
            "url": "https://github.com/acme/hx/issues/2",
            "updated_at": datetime(2026, 9, 5, 10),
            "is_history_truncated": False,
            "_source_row": 2,
        },
        {
            **common,
            "task_id": "acme/hx#3",
            "title": "Blocked from the start, then not planned",
            "task_type": "bug",  # a label named Bug
            "created_at": datetime(2026, 9, 2, 8),
            "status": "Not Planned",
            "epic_id": None,
            "labels": ["Bug", "blocked"],
            "assignee": "cy@example.com",  # the e-mail address when GitHub shows one
            "resolution": "not_planned",
            "url": "https://github.com/acme/hx/issues/3",
            "updated_at": datetime(2026, 9, 2, 8),
            "is_history_truncated": False,
            "_source_row": 3,
        },
        # 4 is a pull request, 5 is quarantined
        {
            **common,
            "task_id": "acme/hx#6",
            "title": "Closed, but the timeline stops at In Progress",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 3, 8),
            "status": "Closed",  # the issue's state, not the timeline's end
            "epic_id": None,
            "labels": [],
            "assignee": None,
            "resolution": "completed",
            "url": "https://github.com/acme/hx/issues/6",
            "updated_at": datetime(2026, 9, 3, 8),
            "is_history_truncated": True,
            "_source_row": 6,
        },
        {
            **common,
            "task_id": "acme/hx#7",
            "title": "Typed, with an unreadable event",
            "task_type": "Feature",  # GitHub's issue type
            "created_at": datetime(2026, 9, 4, 8),
            "status": "Open",
            "epic_id": None,
            "labels": ["needs-info"],
            "assignee": "dee",  # no assignee: the first of the assignees
            "resolution": None,
            "url": "https://github.com/acme/hx/issues/7",
            "updated_at": datetime(2026, 9, 4, 8),
            "is_history_truncated": False,
            "_source_row": 7,
        },
        {
            **common,
            "task_id": "acme/hx#8",  # the repository the pull names
            "title": "No repository URL, no timeline",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 5, 8),
            "status": "In Progress",
            "epic_id": None,
            "labels": ["In Progress"],
            "assignee": None,
            "resolution": None,
            "url": "https://github.com/acme/hx/issues/8",
            "updated_at": datetime(2026, 9, 5, 8),
            "is_history_truncated": True,
            "_source_row": 8,
        },
        {
            **common,
            "task_id": "acme/hx#9",
            "title": "Two status labels",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 6, 8),
            "status": "In Progress",  # applied last, though listed second
            "epic_id": None,
            "labels": ["Blocked", "In Progress"],
            "assignee": None,
            "resolution": None,
            "url": "https://github.com/acme/hx/issues/9",
            "updated_at": datetime(2026, 9, 6, 8),
            "is_history_truncated": False,
            "_source_row": 9,
        },
    ]


def test_transitions_are_replayed_from_labels_closes_and_reopens(page):
    columns = ["task_id", "changed_at", "from_status", "to_status", "author", "sequence"]
    columns.append("_source_row")
    rows = [tuple(row[c] for c in columns) for row in records(page.status_changes)]
    assert rows == [
        ("acme/hx#1", datetime(2026, 9, 2, 9), "Open", "In Progress", "bo", 1, 1),
        # In Progress off and In Review on in the same second: one move
        ("acme/hx#1", datetime(2026, 9, 3, 10), "In Progress", "In Review", "ana", 2, 1),
        ("acme/hx#2", datetime(2026, 9, 2, 10), "Open", "Closed", "ana", 1, 2),
        # listed after the last close, replayed in time order
        ("acme/hx#2", datetime(2026, 9, 3, 10), "Closed", "In Progress", "bo", 2, 2),
        ("acme/hx#2", datetime(2026, 9, 5, 10), "In Progress", "Closed", "bo", 3, 2),
        # Blocked since creation: the first from-status
        ("acme/hx#3", datetime(2026, 9, 6, 8), "Blocked", "Not Planned", "cy", 1, 3),
        ("acme/hx#6", datetime(2026, 9, 7, 9), "Open", "In Progress", "ana", 1, 6),
        # 7: In Review on and off in one second is no move; 8 has no timeline
        ("acme/hx#9", datetime(2026, 9, 6, 9), "Open", "Blocked", "ana", 1, 9),
        ("acme/hx#9", datetime(2026, 9, 6, 11), "Blocked", "In Progress", "bo", 2, 9),
    ]
    assert set(page.status_changes["source"]) == {"github"}


def test_a_malformed_issue_and_an_unreadable_event_are_quarantined_with_their_reason(page):
    assert [(r.table_name, r.source_row, r.reason) for r in page.rejects] == [
        ("tasks", 5, "missing title; missing created_at"),
        (
            "task_status_changes",
            7,
            "issue acme/hx#7 timeline event 1 (labeled): unparseable created_at 'yesterday'",
        ),
    ]
    assert json.loads(page.rejects[0].raw_text) == PAGE["issues"][4]


def test_incomplete_histories_are_named_in_warnings(page):
    assert page.warnings == [
        f"{SOURCE_FILE}: issue acme/hx#6 is 'Closed' but its timeline leads to 'In Progress'; "
        "the timeline is incomplete, so the task keeps 'Closed' and is marked as having a "
        "truncated history",
        f"{SOURCE_FILE}: issue acme/hx#8 has no timeline in the page; its status changes are "
        "unknown (pull it with `owh extract github` for its whole history)",
    ]


def test_without_a_repository_an_issue_cannot_be_named_and_is_quarantined():
    page = parse_issues_page(PAGE, source_file="github/page.json")

    assert [(r.source_row, r.reason) for r in page.rejects if r.source_row == 8] == [
        (8, "no repository_url, and the page is not from a pull naming its repo")
    ]
    assert "acme/hx#8" not in set(page.tasks["task_id"])


def write_pull(landing: Path, pages: list[object], repo: str = "acme/hx") -> None:
    folder = landing / PULL
    folder.mkdir(parents=True)
    for number, payload in enumerate(pages, start=1):
        (folder / f"page-{number:04d}.json").write_text(json.dumps(payload))
    manifest = {
        "source": "github",
        "scope": f"https://api.github.com|{repo}",
        "pull_id": PULL.split("/")[1],
        "pulled_at": "2026-10-01T06:00:00+00:00",
        "full": True,
        "since": None,
        "issues": 8,
        "pages": len(pages),
        "cursor": "2026-09-05T10:00:00+00:00",
        "details": {"repo": repo, "api_url": "https://api.github.com"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def pulled_files(landing: Path) -> list[LandingFile]:
    return list_tracker_files(landing, "github", ("page-*.json",))


def staging_connection(landing: Path):
    con = connect(allowed_directories=[landing])
    create_raw_schema(con)
    create_staging_tables(con, PAGE_TABLES)
    return con


def stager(con) -> GitHubStager:
    return GitHubStager(con, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)


def test_a_pulled_page_is_staged_with_people_pseudonymised_and_every_record_counted(tmp_path):
    landing = tmp_path / "landing"
    write_pull(landing, [PAGE])
    con = staging_connection(landing)
    github = stager(con)

    (file,) = pulled_files(landing)
    loads = github.stage(file)
    github.flush()

    assert [
        (load.table_name, load.rows_read, load.rows_loaded, load.rows_quarantined, load.notes)
        for load in loads
    ] == [
        ("tasks", 8, 7, 1, ("1 record quarantined",)),
        ("task_status_changes", 10, 9, 1, ("1 record quarantined",)),
        ("task_flags", 0, 0, 0, ()),
    ]
    assert isinstance(loads[0], TableLoad) and len(loads[0].warnings) == 2
    assert con.execute(
        "select task_id, status, assignee, _source, _source_file, _source_row "
        "from owh_staged_tasks order by _source_row"
    ).fetchall() == [
        ("acme/hx#1", "In Review", pseudonym("ana", KEY), "github", SOURCE_FILE, 1),
        ("acme/hx#2", "Closed", None, "github", SOURCE_FILE, 2),
        ("acme/hx#3", "Not Planned", pseudonym("cy@example.com", KEY), "github", SOURCE_FILE, 3),
        ("acme/hx#6", "Closed", None, "github", SOURCE_FILE, 6),
        ("acme/hx#7", "Open", pseudonym("dee", KEY), "github", SOURCE_FILE, 7),
        ("acme/hx#8", "In Progress", None, "github", SOURCE_FILE, 8),
        ("acme/hx#9", "In Progress", None, "github", SOURCE_FILE, 9),
    ]
    assert con.execute(
        "select author, count(*) from owh_staged_task_status_changes group by 1 order by 2, 1"
    ).fetchall() == sorted(
        [
            (pseudonym("cy", KEY), 1),
            (pseudonym("bo", KEY), 4),
            (pseudonym("ana", KEY), 4),
        ],
        key=lambda row: (row[1], row[0]),
    )
    assert con.execute(
        "select table_name, source, source_file, source_row, reason "
        "from owh_staged_quarantine order by table_name desc"
    ).fetchall() == [
        ("tasks", "github", SOURCE_FILE, 5, "missing title; missing created_at"),
        (
            "task_status_changes",
            "github",
            SOURCE_FILE,
            7,
            "issue acme/hx#7 timeline event 1 (labeled): unparseable created_at 'yesterday'",
        ),
    ]


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ([], "an array"),
        ({"issues": []}, "an object without a 'timelines' object"),
        ({"timelines": {}}, "an object without an 'issues' array"),
        ({"issues": {}, "timelines": {}}, "an object without an 'issues' array"),
        ({"issues": [], "timelines": []}, "an object without a 'timelines' object"),
    ],
)
def test_a_page_of_another_shape_is_rejected_whole_and_nothing_of_it_staged(
    tmp_path, payload, found
):
    landing = tmp_path / "landing"
    write_pull(landing, [PAGE, payload])
    con = staging_connection(landing)
    github = stager(con)
    good, bad = pulled_files(landing)

    github.stage(good)
    with pytest.raises(FileRejectedError) as rejected:
        github.stage(bad)
    github.flush()

    assert rejected.value.problem == (
        "not a GitHub issues page: expected an object with an 'issues' array and a 'timelines' "
        f"object (as `owh extract github` writes), found {found}"
    )
    assert rejected.value.raw_text == json.dumps(payload)
    assert con.execute("select count(*) from owh_staged_tasks").fetchone() == (7,)
    assert con.execute("select count(*) from owh_staged_task_status_changes").fetchone() == (9,)


def test_a_page_that_is_not_json_is_rejected(tmp_path):
    path = tmp_path / "page-0001.json"
    path.write_text('{"issues": [')

    with pytest.raises(FileRejectedError, match="not valid JSON"):
        read_issues_page(path)


def test_pulled_issues_give_the_ground_truths_statuses_and_transitions(httpserver, tmp_path):
    """60 generated issues pulled from the fake API and staged: every status and every
    transition is the model's, pull requests leave no row and nothing is quarantined."""
    issues = generate_issues(60)
    fake = FakeGitHub(httpserver, issues, timeline_page_size=30)
    landing = tmp_path / "landing"
    result = pull_github(
        repo="acme/hx",
        landing_dir=landing,
        warehouse_dir=tmp_path / "warehouse",
        token=TOKEN,
        api_url=fake.api_url,
        page_size=25,
        policy=RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=2),
        now=dt.datetime(2026, 7, 10, 6, tzinfo=dt.UTC),
    )
    assert (result.issues, result.pages) == (60, 3)
    con = staging_connection(landing)
    github = stager(con)
    loads = [load for file in pulled_files(landing) for load in github.stage(file)]
    github.flush()

    assert sum(load.rows_quarantined for load in loads) == 0
    assert [warning for load in loads for warning in load.warnings] == []
    statuses = dict(
        con.execute(
            "select task_id, status from owh_staged_tasks where not is_history_truncated"
        ).fetchall()
    )
    assert statuses == {f"acme/hx#{i.number}": i.status("github") for i in issues}
    changes: dict[str, list[tuple]] = {}
    for task_id, changed_at, from_status, to_status, sequence in con.execute(
        "select task_id, changed_at, from_status, to_status, sequence "
        "from owh_staged_task_status_changes order by task_id, sequence"
    ).fetchall():
        changes.setdefault(task_id, []).append((changed_at, from_status, to_status, sequence))
    names = STATUS_NAMES["github"]
    for fake_issue in issues:
        expected = [
            (
                t.at.replace(tzinfo=None),
                names[t.from_stage],
                names[t.to_stage],
                sequence,
            )
            for sequence, t in enumerate(fake_issue.transitions, start=1)
        ]
        assert changes.get(f"acme/hx#{fake_issue.number}", []) == expected, fake_issue.number
    assert sum(len(i.transitions) for i in issues) == sum(map(len, changes.values())) > 100
