"""The Jira /search page parser on a hand-written page (tests/fixtures/ingest/jira/page-1.json).

Every expected value below was worked out by hand from the fixture: offsets converted to UTC,
sequences counted in file order, flag events paired in time order.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from pipelines.sources import FileRejectedError
from pipelines.sources.jira import (
    JiraFieldMap,
    JiraReject,
    adf_text,
    parse_jira_timestamp,
    parse_search_page,
    read_search_page,
)

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "jira" / "page-1.json"
SOURCE_FILE = "jira/page-1.json"


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None, so they compare with plain literals."""
    rows = frame.astype(object).to_dict("records")
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in rows]


def _missing(value) -> bool:
    return not isinstance(value, list) and pd.isna(value)


@pytest.fixture(scope="module")
def page():
    return parse_search_page(json.loads(PAGE.read_text()), source_file=SOURCE_FILE)


def test_tasks_are_the_four_issues_with_a_key(page):
    assert records(page.tasks) == [
        {
            "source": "jira",
            "task_id": "OWH-1",
            "title": "Forward only, flagged once and cleared",
            "task_type": "Story",
            "created_at": datetime(2026, 9, 1, 9, 0),
            "status": "Done",
            "team": None,
            "project": "PAY",
            "epic_id": "OWH-100",  # the epic parent
            "parent_id": "OWH-100",
            "labels": ["invoicing", "q3"],
            "assignee": "ann@x.com",  # e-mail preferred over accountId, trimmed and lower-cased
            "story_points": 5.0,
            "priority": "High",
            "resolution": "Done",
            "found_in": None,
            "workstream_id": "WS-INVOICE",
            "url": "https://acme.atlassian.net/rest/api/2/issue/91001",
            "updated_at": None,  # the fixture has no updated field
            "is_history_truncated": False,
            "_source_row": 1,
        },
        {
            "source": "jira",
            "task_id": "OWH-2",
            "title": "Reopened once, created with a +0530 offset",
            "task_type": "Bug",
            "created_at": datetime(2026, 9, 1, 10, 0),  # 15:30 +0530
            "status": "Done",
            "team": None,
            "project": "PAY",
            "epic_id": "OWH-100",  # no parent: the legacy Epic Link field
            "parent_id": None,
            "labels": [],
            "assignee": None,
            "story_points": None,
            "priority": "Medium",
            "resolution": "Done",
            "found_in": "production",  # {"value": "Production"} normalised
            "workstream_id": None,
            "url": "https://acme.atlassian.net/rest/api/2/issue/91002",
            "updated_at": None,
            "is_history_truncated": False,
            "_source_row": 2,
        },
        {
            "source": "jira",
            "task_id": "OWH-3",
            "title": "Two transitions in one history, histories out of time order",
            "task_type": "Task",
            "created_at": datetime(2026, 9, 8, 12, 0),  # 08:00 -0400
            "status": "Blocked",
            "team": None,
            "project": "OPS",
            "epic_id": None,
            "parent_id": None,
            "labels": ["tech-debt"],
            "assignee": "70121:5e0f",  # no e-mail: the account id
            "story_points": None,
            "priority": "Low",
            "resolution": None,
            "found_in": None,
            "workstream_id": None,
            "url": "https://acme.atlassian.net/rest/api/2/issue/91003",
            "updated_at": None,
            "is_history_truncated": False,
            "_source_row": 3,
        },
        {
            "source": "jira",
            "task_id": "OWH-4",
            "title": "Flag never cleared, truncated changelog",
            "task_type": "Story",
            "created_at": datetime(2026, 9, 14, 8, 0),  # Z, no millis
            "status": "Review",
            "team": None,
            "project": "OPS",
            "epic_id": None,
            "parent_id": None,
            "labels": [],  # "labels": null
            "assignee": None,
            "story_points": None,
            "priority": None,
            "resolution": None,
            "found_in": None,
            "workstream_id": None,
            "url": "https://acme.atlassian.net/rest/api/2/issue/91004",
            "updated_at": None,
            "is_history_truncated": True,  # changelog total 5, 3 histories exported
            "_source_row": 4,
        },
    ]


def test_status_changes_in_utc_with_file_order_sequences(page):
    columns = ["task_id", "changed_at", "from_status", "to_status", "author", "sequence"]
    columns.append("_source_row")
    rows = [tuple(row[c] for c in columns) for row in records(page.status_changes)]
    assert rows == [
        ("OWH-1", datetime(2026, 9, 2, 9), "Backlog", "In Progress", "ann@x.com", 1, 1),
        # history 4 also changes the resolution: only the status item is a transition
        ("OWH-1", datetime(2026, 9, 5, 17), "In Progress", "Done", "ann@x.com", 2, 4),
        ("OWH-2", datetime(2026, 9, 2, 10), "Backlog", "In Progress", None, 1, 1),
        ("OWH-2", datetime(2026, 9, 3, 10), "In Progress", "Done", None, 2, 2),
        # the reopen, at 12:00 +0200
        ("OWH-2", datetime(2026, 9, 4, 10), "Done", "In Progress", None, 3, 3),
        ("OWH-2", datetime(2026, 9, 5, 10), "In Progress", "Done", None, 4, 4),
        # two items of one history share the timestamp; the sequence keeps their order
        (
            "OWH-3",
            datetime(2026, 9, 10, 9),
            "Selected for Development",
            "In Progress",
            "bo builder",
            1,
            1,
        ),
        ("OWH-3", datetime(2026, 9, 10, 9), "In Progress", "Blocked", "bo builder", 2, 1),
        # listed second but earlier in time: not reordered, the sequence records file order
        (
            "OWH-3",
            datetime(2026, 9, 9, 9),
            "Backlog",
            "Selected for Development",
            "bo builder",
            3,
            2,
        ),
        ("OWH-4", datetime(2026, 9, 15, 9), "Backlog", "In Progress", None, 1, 2),
    ]
    assert set(page.status_changes["source"]) == {"jira"}


def test_flag_intervals_paired_in_time_order(page):
    assert records(page.flags) == [
        {
            "source": "jira",
            "task_id": "OWH-1",
            "flagged_at": datetime(2026, 9, 3, 10),
            "unflagged_at": datetime(2026, 9, 4, 10),
            "reason": "Impediment",
            "_source_row": 2,
        },
        # the clear (history 3) is listed before the set (history 4) but happens after it
        {
            "source": "jira",
            "task_id": "OWH-3",
            "flagged_at": datetime(2026, 9, 10, 12),
            "unflagged_at": datetime(2026, 9, 12, 9),
            "reason": "Impediment",
            "_source_row": 4,
        },
        # never cleared
        {
            "source": "jira",
            "task_id": "OWH-4",
            "flagged_at": datetime(2026, 9, 15, 9),
            "unflagged_at": None,
            "reason": "Impediment",
            "_source_row": 2,
        },
    ]


def test_rejects_keep_reason_position_and_masked_raw_json(page):
    assert [(r.table_name, r.source_row, r.reason) for r in page.rejects] == [
        ("task_status_changes", 4, "issue OWH-4 history 3: unparseable created 'not a date'"),
        (
            "task_flags",
            4,
            "issue OWH-4 history 1: flag cleared at 2026-09-14T09:00:00 "
            "without a flag set before it",
        ),
        ("tasks", 5, "missing key"),
    ]
    missing_key = page.rejects[2]
    assert json.loads(missing_key.raw_text)["id"] == "91005"
    assert json.loads(missing_key.raw_text)["fields"]["assignee"] == {"emailAddress": "<email>"}
    assert "bob@example.com" not in missing_key.raw_text
    assert json.loads(page.rejects[0].raw_text)["id"] == "403"


def test_truncated_changelog_is_a_warning_naming_issue_and_counts(page):
    assert page.warnings == [
        "jira/page-1.json: issue OWH-4 has a truncated changelog (3 of 5 histories exported); "
        "its 2 missing histories are not loaded (pull it with `owh extract jira` for the whole "
        "history). If its status differs from its last transition, the warehouse infers the "
        'missing one (DECISIONS "Truncated histories")'
    ]


def test_unparseable_or_missing_created_rejects_the_issue_with_every_problem():
    bad_month = {
        "summary": "s",
        "issuetype": {"name": "Task"},
        "status": {"name": "Open"},
        "created": "2026-13-01T00:00:00Z",
    }
    payload = {
        "issues": [
            {"key": "X-1", "fields": bad_month},
            {"key": "X-2", "fields": {"issuetype": {"name": "Task"}}},
        ]
    }
    page = parse_search_page(payload, source_file="jira/p.json")
    assert page.tasks.empty
    assert [(r.source_row, r.reason, r.table_name) for r in page.rejects] == [
        (1, "unparseable created: '2026-13-01T00:00:00Z'", "tasks"),
        (2, "missing fields.created; missing fields.summary; missing fields.status.name", "tasks"),
    ]


def test_field_map_moves_custom_fields():
    issue = {
        "key": "X-1",
        "fields": {
            "summary": "s",
            "issuetype": {"name": "Bug", "subtask": True},
            "status": {"name": "Open"},
            "created": "2026-09-01T00:00:00.000+0000",
            "parent": {"key": "X-0", "fields": {"issuetype": {"name": "Story"}}},
            "customfield_1": "8",
            "customfield_2": {"value": "Pre-release"},
            "customfield_3": "X-EPIC",
            "customfield_4": {"value": "Payments"},
        },
    }
    field_map = JiraFieldMap(
        story_points="customfield_1",
        found_in="customfield_2",
        epic_link="customfield_3",
        workstream=None,
        team="customfield_4",
    )
    page = parse_search_page({"issues": [issue]}, source_file="f", field_map=field_map)
    row = records(page.tasks)
    # a sub-task's parent is a story, so its epic comes from the Epic Link field
    assert {k: row[0][k] for k in ("epic_id", "parent_id", "story_points", "found_in", "team")} == {
        "epic_id": "X-EPIC",
        "parent_id": "X-0",
        "story_points": 8.0,
        "found_in": "pre_release",
        "team": "Payments",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01T15:30:00.000+0530", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01T15:30:00+0530", datetime(2026, 9, 1, 10, 0)),
        ("2026-09-01T08:00:00.250-0400", datetime(2026, 9, 1, 12, 0, 0, 250000)),
        ("2026-09-01T08:00:00Z", datetime(2026, 9, 1, 8, 0)),
        ("2026-09-01T08:00:00", datetime(2026, 9, 1, 8, 0)),  # no offset: UTC
        ("2026-02-30T08:00:00Z", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_become_naive_utc(text, expected):
    assert parse_jira_timestamp(text) == expected


def test_a_file_that_is_not_json_is_rejected_with_the_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"issues": [\n  {"key": "X-1",}\n]}')
    with pytest.raises(FileRejectedError, match=r"not valid JSON \(Expecting property name") as err:
        read_search_page(path)
    assert err.value.line == 2
    assert err.value.raw_text == '{"issues": [\n  {"key": "X-1",}\n]}'


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ('[{"key": "X-1"}]', "found an array"),
        ('{"values": []}', "found an object without an 'issues' array"),
    ],
)
def test_a_json_file_without_issues_is_rejected(tmp_path, content, found):
    path = tmp_path / "page.json"
    path.write_text(content)
    with pytest.raises(FileRejectedError, match=f"not a Jira /search page: .*{found}"):
        read_search_page(path)


def test_reject_fields_follow_source_row_reason_raw_text_order():
    reject = JiraReject(3, "missing key", "{}", "tasks")
    assert reject[:3] == (3, "missing key", "{}")


def test_a_v3_page_with_rich_text_fields_reads_like_a_v2_page():
    """API v3 sends rich-text fields as ADF documents: their text is what counts."""
    workstream = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "WS-"},
                    {"type": "text", "text": "INVOICE", "marks": [{"type": "strong"}]},
                ],
            }
        ],
    }
    issue = {
        "id": "91001",
        "key": "OWH-9",
        "fields": {
            "summary": "ADF fields",
            "issuetype": {"name": "Story"},
            "status": {"name": "To Do"},
            "created": "2026-09-01T09:00:00.000+0000",
            "updated": "2026-09-02T10:30:00.000+0200",
            "customfield_10300": workstream,
        },
    }
    page = parse_search_page(
        {"issues": [issue], "isLast": True}, source_file="jira/20261205T100000Z/page-0001.json"
    )
    (task,) = records(page.tasks)
    assert (task["workstream_id"], task["updated_at"], task["is_history_truncated"]) == (
        "WS-INVOICE",
        datetime(2026, 9, 2, 8, 30),
        False,
    )


def test_adf_text_keeps_blocks_on_lines_of_their_own():
    document = {
        "type": "doc",
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "First"}]},
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {
                                "type": "paragraph",
                                "content": [
                                    {"type": "text", "text": "item"},
                                    {"type": "hardBreak"},
                                    {"type": "mention", "attrs": {"text": "@ann"}},
                                ],
                            }
                        ],
                    }
                ],
            },
        ],
    }
    assert adf_text(document) == "First\nitem\n@ann"
