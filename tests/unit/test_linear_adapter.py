"""The Linear adapter on a hand-written page, staged into DuckDB, and end to end over the fake API.

The page (``PAGE`` below) holds, in this order:

1. an issue moved Todo → In Progress → In Review → Done, its history newest first as Linear lists
   it, with a priority change between the moves and one time written with an offset;
2. an issue created into Triage, then moved twice within one instant (listed newest first);
3. an issue without a title or a creation time;
4. an issue with an unreadable creation time and no state;
5. an issue whose history Linear still says has more entries, without a team, assigned to a
   user without an e-mail address, with a status entry of unreadable time;
6. something that is not an issue at all.

Every expected value below was worked out by hand from it.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from pipelines.extract.linear import pull_linear
from pipelines.extract.policy import RetryPolicy
from pipelines.lib.duckdb_connection import connect
from pipelines.lib.landing import LandingFile, list_tracker_files
from pipelines.lib.pseudonymize import pseudonym
from pipelines.lib.raw_schema import create_raw_schema
from pipelines.sources import FileRejectedError, TableLoad, create_staging_tables
from pipelines.sources.linear import (
    LinearStager,
    StateChange,
    in_time_order,
    parse_linear_page,
    read_linear_page,
)
from pipelines.sources.pages import PAGE_TABLES
from tests.fakes.linear_api import API_KEY, FakeLinear
from tests.fakes.tracker_model import STATUS_NAMES, generate_issues

PULL = "linear/20261001T060000Z"
SOURCE_FILE = f"{PULL}/page-0001.json"
KEY = b"linear-adapter-test-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 30)


def user(email: str | None, name: str) -> dict:
    return {"email": email, "name": name}


def entry(at: str, from_state: str | None, to_state: str | None, actor: dict | None) -> dict:
    return {
        "createdAt": at,
        "fromState": {"name": from_state} if from_state else None,
        "toState": {"name": to_state} if to_state else None,
        "actor": actor,
    }


def history(*entries: dict, more: bool = False) -> dict:
    return {
        "nodes": list(entries),
        "pageInfo": {"hasNextPage": more, "endCursor": f"cursor-{len(entries)}"},
    }


ANA = user(" Ana@Example.com ", "Ana")
BO = user("bo@example.com", "Bo")

PAGE = {
    "data": {
        "issues": {
            "nodes": [
                {
                    "id": "9b1e0000-0000-4000-8000-000000000001",
                    "identifier": "DATA-1",
                    "title": "Invoice export",
                    "url": "https://linear.app/acme/issue/DATA-1/invoice-export",
                    "createdAt": "2026-09-01T08:00:00.000Z",
                    "updatedAt": "2026-09-03T10:00:00.000Z",
                    "completedAt": "2026-09-03T10:00:00.000Z",
                    "canceledAt": None,
                    "estimate": 3,
                    "priority": 2,
                    "priorityLabel": "High",
                    "state": {"name": "Done", "type": "completed"},
                    "team": {"key": "DATA"},
                    "project": {"name": "Q3 invoicing"},
                    "parent": {"identifier": "DATA-100"},
                    "assignee": ANA,
                    "labels": {"nodes": [{"name": "Bug"}, {"name": "backend"}]},
                    "history": history(
                        entry("2026-09-03T12:00:00.000+02:00", "In Review", "Done", BO),
                        entry("2026-09-02T12:00:00.000Z", None, None, ANA),  # priority
                        entry("2026-09-02T10:00:00.000Z", "In Progress", "In Review", BO),
                        entry("2026-09-01T10:00:00.000Z", "Todo", "In Progress", ANA),
                    ),
                },
                {
                    "id": "9b1e0000-0000-4000-8000-000000000002",
                    "identifier": "DATA-2",
                    "title": "Two moves in one instant",
                    "url": "https://linear.app/acme/issue/DATA-2/two-moves",
                    "createdAt": "2026-09-04T08:00:00.000Z",
                    "updatedAt": "2026-09-05T09:00:00.000Z",
                    "estimate": None,
                    "priorityLabel": "No priority",
                    "state": {"name": "In Review", "type": "started"},
                    "team": {"key": "DATA"},
                    "project": None,
                    "parent": None,
                    "assignee": None,
                    "labels": {"nodes": []},
                    "history": history(
                        entry("2026-09-05T09:00:00.000Z", "In Progress", "In Review", BO),
                        entry("2026-09-05T09:00:00.000Z", "Todo", "In Progress", BO),
                        entry("2026-09-04T08:00:00.000Z", None, "Triage", None),
                    ),
                },
                {
                    "identifier": "DATA-3",
                    "title": " ",
                    "state": {"name": "Todo"},
                    "assignee": user("cy@example.com", "Cy"),
                },
                {
                    "identifier": "DATA-4",
                    "title": "No state",
                    "createdAt": "yesterday",
                    "state": None,
                },
                {
                    "id": "9b1e0000-0000-4000-8000-000000000005",
                    "identifier": "DATA-5",
                    "title": "History cut short",
                    "url": "https://linear.app/acme/issue/DATA-5/history-cut-short",
                    "createdAt": "2026-09-07T08:00:00.000Z",
                    "updatedAt": "2026-09-09T08:00:00.000Z",
                    "estimate": 0.5,
                    "priorityLabel": "Low",
                    "state": {"name": "Todo", "type": "unstarted"},
                    "assignee": user(None, " Deploy Bot "),
                    "labels": {"nodes": [{"name": "BUGS"}]},
                    "history": history(
                        entry("not a time", "Todo", "In Progress", ANA),
                        entry("garbage", None, None, ANA),
                        entry("2026-09-08T09:00:00.000Z", "Backlog", "Todo", None),
                        more=True,
                    ),
                },
                "oops",
            ],
            "pageInfo": {"hasNextPage": False, "endCursor": "9b1e0000-0000-4000-8000-000000000005"},
        }
    }
}


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None, so they compare with plain literals."""
    rows = frame.astype(object).to_dict("records")
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in rows]


def _missing(value) -> bool:
    return not isinstance(value, list) and pd.isna(value)


@pytest.fixture(scope="module")
def page():
    return parse_linear_page(PAGE, source_file=SOURCE_FILE, team="DATA")


def test_one_task_per_issue_named_by_its_identifier(page):
    common = {
        "source": "linear",
        "team": None,
        "project": "DATA",
        "resolution": None,
        "found_in": None,
        "workstream_id": None,
    }
    assert records(page.tasks) == [
        {
            **common,
            "task_id": "DATA-1",
            "title": "Invoice export",
            "task_type": "bug",  # a label named Bug
            "created_at": datetime(2026, 9, 1, 8),
            "status": "Done",
            "epic_id": "DATA-100",  # the parent issue, as the demo's Linear export
            "parent_id": "DATA-100",
            "labels": ["Bug", "backend"],
            "assignee": "ana@example.com",  # the e-mail address, trimmed and lower-cased
            "story_points": 3.0,
            "priority": "High",
            "url": "https://linear.app/acme/issue/DATA-1/invoice-export",
            "updated_at": datetime(2026, 9, 3, 10),
            "is_history_truncated": False,
            "_source_row": 1,
        },
        {
            **common,
            "task_id": "DATA-2",
            "title": "Two moves in one instant",
            "task_type": "issue",
            "created_at": datetime(2026, 9, 4, 8),
            "status": "In Review",
            "epic_id": None,
            "parent_id": None,
            "labels": [],
            "assignee": None,
            "story_points": None,
            "priority": "No priority",
            "url": "https://linear.app/acme/issue/DATA-2/two-moves",
            "updated_at": datetime(2026, 9, 5, 9),
            "is_history_truncated": False,
            "_source_row": 2,
        },
        {
            **common,
            "task_id": "DATA-5",
            "title": "History cut short",
            "task_type": "issue",  # BUGS is not bug
            "created_at": datetime(2026, 9, 7, 8),
            "status": "Todo",
            "project": "DATA",  # the pull's team: the issue names none
            "epic_id": None,
            "parent_id": None,
            "labels": ["BUGS"],
            "assignee": "deploy bot",  # no e-mail address: the name
            "story_points": 0.5,
            "priority": "Low",
            "url": "https://linear.app/acme/issue/DATA-5/history-cut-short",
            "updated_at": datetime(2026, 9, 9, 8),
            "is_history_truncated": True,
            "_source_row": 5,
        },
    ]


def test_status_changes_in_time_order_with_one_instants_moves_chained(page):
    columns = ["task_id", "changed_at", "from_status", "to_status", "author", "sequence"]
    columns.append("_source_row")
    rows = [tuple(row[c] for c in columns) for row in records(page.status_changes)]
    assert rows == [
        # listed newest first, loaded oldest first; the priority change is no status change
        ("DATA-1", datetime(2026, 9, 1, 10), "Todo", "In Progress", "ana@example.com", 1, 1),
        ("DATA-1", datetime(2026, 9, 2, 10), "In Progress", "In Review", "bo@example.com", 2, 1),
        # 12:00+02:00 is 10:00 UTC
        ("DATA-1", datetime(2026, 9, 3, 10), "In Review", "Done", "bo@example.com", 3, 1),
        ("DATA-2", datetime(2026, 9, 4, 8), None, "Triage", None, 1, 2),
        # one instant, listed In Review first: chained, Todo → In Progress comes first
        ("DATA-2", datetime(2026, 9, 5, 9), "Todo", "In Progress", "bo@example.com", 2, 2),
        ("DATA-2", datetime(2026, 9, 5, 9), "In Progress", "In Review", "bo@example.com", 3, 2),
        ("DATA-5", datetime(2026, 9, 8, 9), "Backlog", "Todo", None, 1, 5),
    ]
    assert set(page.status_changes["source"]) == {"linear"}


def test_moves_of_one_instant_are_chained_else_kept_in_the_pages_order():
    at = datetime(2026, 9, 5, 9)

    def order(*moves: tuple[str | None, str], before: str | None = None) -> list[int]:
        changes = [
            StateChange(at, index, from_status, to_status, None)
            for index, (from_status, to_status) in enumerate(moves, start=1)
        ]
        if before is not None:  # a move a second earlier, listed last
            changes.append(StateChange(at - dt.timedelta(seconds=1), 9, None, before, None))
        return [change.index for change in in_time_order(changes)]

    # the move no other one leads to starts the chain
    assert order(("Todo", "In Progress"), ("Backlog", "Todo")) == [2, 1]
    # moves that do not chain keep the page's order
    assert order(("Backlog", "Canceled"), ("Todo", "Done")) == [1, 2]
    assert order(("Todo", "Done"), ("Backlog", "Canceled")) == [1, 2]
    # the move out of the status reached just before comes first
    assert order(("Backlog", "Canceled"), ("Todo", "Done"), before="Todo") == [9, 2, 1]


def test_malformed_issues_and_an_unreadable_entry_are_quarantined_with_their_reason(page):
    assert [(r.table_name, r.source_row, r.reason) for r in page.rejects] == [
        ("tasks", 3, "missing title; missing createdAt"),
        ("tasks", 4, "unparseable createdAt: 'yesterday'; missing state.name"),
        (
            "task_status_changes",
            5,
            "issue DATA-5 history entry 1: unparseable createdAt 'not a time'",
        ),
        ("tasks", 6, "issue record is not a JSON object"),
    ]
    assert json.loads(page.rejects[0].raw_text) == {
        "identifier": "DATA-3",
        "title": " ",
        "state": {"name": "Todo"},
        "assignee": {"email": "<email>", "name": "Cy"},  # e-mail addresses masked
    }


def test_a_history_linear_says_has_more_entries_is_named_in_a_warning(page):
    assert page.warnings == [
        f"{SOURCE_FILE}: issue DATA-5 has a truncated history (more entries than the page "
        "holds); its missing transitions are not loaded (pull it with `owh extract linear` for "
        "the whole history). If its status differs from its last transition, the warehouse "
        'infers the missing one (DECISIONS "Truncated histories")'
    ]


def write_pull(landing: Path, pages: list[object], team: str = "DATA") -> None:
    folder = landing / PULL
    folder.mkdir(parents=True)
    for number, payload in enumerate(pages, start=1):
        (folder / f"page-{number:04d}.json").write_text(json.dumps(payload))
    manifest = {
        "source": "linear",
        "scope": f"https://api.linear.app/graphql|{team}",
        "pull_id": PULL.split("/")[1],
        "pulled_at": "2026-10-01T06:00:00+00:00",
        "full": True,
        "since": None,
        "issues": 6,
        "pages": len(pages),
        "cursor": "2026-09-09T08:00:00+00:00",
        "details": {"team": team, "api_url": "https://api.linear.app/graphql"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def pulled_files(landing: Path) -> list[LandingFile]:
    return list_tracker_files(landing, "linear", ())


def staging_connection(landing: Path):
    con = connect(allowed_directories=[landing])
    create_raw_schema(con)
    create_staging_tables(con, PAGE_TABLES)
    return con


def stager(con) -> LinearStager:
    return LinearStager(con, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)


def test_a_pulled_page_is_staged_with_people_pseudonymised_and_every_record_counted(tmp_path):
    landing = tmp_path / "landing"
    write_pull(landing, [PAGE])
    con = staging_connection(landing)
    linear = stager(con)

    (file,) = pulled_files(landing)
    loads = linear.stage(file)
    linear.flush()

    assert [
        (load.table_name, load.rows_read, load.rows_loaded, load.rows_quarantined, load.notes)
        for load in loads
    ] == [
        ("tasks", 6, 3, 3, ("3 records quarantined",)),
        ("task_status_changes", 8, 7, 1, ("1 record quarantined",)),
        ("task_flags", 0, 0, 0, ()),
    ]
    assert isinstance(loads[0], TableLoad) and len(loads[0].warnings) == 1
    assert con.execute(
        "select task_id, status, project, assignee, is_history_truncated, _source, "
        "_source_file, _source_row from owh_staged_tasks order by _source_row"
    ).fetchall() == [
        (
            "DATA-1",
            "Done",
            "DATA",
            pseudonym("ana@example.com", KEY),
            False,
            "linear",
            SOURCE_FILE,
            1,
        ),
        ("DATA-2", "In Review", "DATA", None, False, "linear", SOURCE_FILE, 2),
        ("DATA-5", "Todo", "DATA", pseudonym("deploy bot", KEY), True, "linear", SOURCE_FILE, 5),
    ]
    assert con.execute(
        "select task_id, sequence, to_status, author from owh_staged_task_status_changes "
        "order by task_id, sequence"
    ).fetchall() == [
        ("DATA-1", 1, "In Progress", pseudonym("ana@example.com", KEY)),
        ("DATA-1", 2, "In Review", pseudonym("bo@example.com", KEY)),
        ("DATA-1", 3, "Done", pseudonym("bo@example.com", KEY)),
        ("DATA-2", 1, "Triage", None),
        ("DATA-2", 2, "In Progress", pseudonym("bo@example.com", KEY)),
        ("DATA-2", 3, "In Review", pseudonym("bo@example.com", KEY)),
        ("DATA-5", 1, "Todo", None),
    ]
    assert con.execute(
        "select table_name, source, source_file, source_row, reason "
        "from owh_staged_quarantine order by source_row"
    ).fetchall() == [
        ("tasks", "linear", SOURCE_FILE, 3, "missing title; missing createdAt"),
        (
            "tasks",
            "linear",
            SOURCE_FILE,
            4,
            "unparseable createdAt: 'yesterday'; missing state.name",
        ),
        (
            "task_status_changes",
            "linear",
            SOURCE_FILE,
            5,
            "issue DATA-5 history entry 1: unparseable createdAt 'not a time'",
        ),
        ("tasks", "linear", SOURCE_FILE, 6, "issue record is not a JSON object"),
    ]


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ([], "an array"),
        ("data", "a string"),
        ({"data": {"issues": {}}}, "an object without a 'data.issues.nodes' array"),
        ({"data": {"issues": {"nodes": {}}}}, "an object without a 'data.issues.nodes' array"),
        ({"issues": []}, "an object without a 'data.issues.nodes' array"),
        (
            {"errors": [{"message": "Authentication required, not authenticated"}]},
            "a GraphQL error answer",
        ),
    ],
)
def test_a_page_of_another_shape_is_rejected_whole_and_nothing_of_it_staged(
    tmp_path, payload, found
):
    landing = tmp_path / "landing"
    write_pull(landing, [PAGE, payload])
    con = staging_connection(landing)
    linear = stager(con)
    good, bad = pulled_files(landing)

    linear.stage(good)
    with pytest.raises(FileRejectedError) as rejected:
        linear.stage(bad)
    linear.flush()

    assert rejected.value.problem == (
        "not a Linear issues page: expected an object with a 'data.issues.nodes' array (Linear's "
        f"answer to the issues query, as `owh extract linear` writes it), found {found}"
    )
    assert rejected.value.raw_text == json.dumps(payload)
    assert con.execute("select count(*) from owh_staged_tasks").fetchone() == (3,)
    assert con.execute("select count(*) from owh_staged_task_status_changes").fetchone() == (7,)
    assert con.execute("select count(*) from owh_staged_quarantine").fetchone() == (4,)


def test_a_page_that_is_not_json_is_rejected(tmp_path):
    path = tmp_path / "page-0001.json"
    path.write_text('{"data": {"issues": ')

    with pytest.raises(FileRejectedError, match="not valid JSON"):
        read_linear_page(path)


def test_pulled_issues_give_the_ground_truths_statuses_and_transitions(httpserver, tmp_path):
    """60 generated issues pulled from the fake API and staged: every status and every
    transition is the model's, in order, and nothing is quarantined."""
    issues = generate_issues(60)
    fake = FakeLinear(httpserver, issues)
    landing = tmp_path / "landing"
    result = pull_linear(
        team="HX",
        landing_dir=landing,
        warehouse_dir=tmp_path / "warehouse",
        api_key=API_KEY,
        api_url=fake.api_url,
        page_size=25,
        policy=RetryPolicy(attempts=3, backoff_seconds=0.01, max_delay_seconds=2),
        now=dt.datetime(2026, 7, 10, 6, tzinfo=dt.UTC),
    )
    assert (result.issues, result.pages) == (60, 3)
    # the 16 issues with more than 50 history entries (67 to 71) needed the history query
    assert len(fake.requests_of("issue")) == 16 == sum(i.history_count > 50 for i in issues)
    con = staging_connection(landing)
    linear = stager(con)
    loads = [load for file in pulled_files(landing) for load in linear.stage(file)]
    linear.flush()

    assert sum(load.rows_quarantined for load in loads) == 0
    assert [warning for load in loads for warning in load.warnings] == []
    tasks = {
        task_id: (status, task_type, project, truncated)
        for task_id, status, task_type, project, truncated in con.execute(
            "select task_id, status, task_type, project, is_history_truncated from owh_staged_tasks"
        ).fetchall()
    }
    assert tasks == {
        i.key: (i.status("linear"), "bug" if i.issue_type == "Bug" else "issue", "HX", False)
        for i in issues
    }
    changes: dict[str, list[tuple]] = {}
    for task_id, changed_at, from_status, to_status, sequence in con.execute(
        "select task_id, changed_at, from_status, to_status, sequence "
        "from owh_staged_task_status_changes order by task_id, sequence"
    ).fetchall():
        changes.setdefault(task_id, []).append((changed_at, from_status, to_status, sequence))
    names = STATUS_NAMES["linear"]
    for fake_issue in issues:
        expected = [
            (t.at.replace(tzinfo=None), names[t.from_stage], names[t.to_stage], sequence)
            for sequence, t in enumerate(fake_issue.transitions, start=1)
        ]
        assert changes.get(fake_issue.key, []) == expected, fake_issue.key
        if fake_issue.transitions:
            assert changes[fake_issue.key][-1][2] == fake_issue.status("linear")
    assert sum(len(i.transitions) for i in issues) == sum(map(len, changes.values())) > 100
