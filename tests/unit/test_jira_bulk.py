"""DuckDB's bulk reading of Jira pages gives exactly what the Python walk gives.

Each landing below is ingested twice: as ingest runs (SQL takes what it can, the Python walk the
rest) and with SQL switched off. Every raw table, the load log, the quarantine and the warnings must
be equal. The pages hold what SQL must hand to Python (values that are not strings, timestamps in
other spellings, unknown found-in values, flags cleared twice, rich-text fields) and what it must
notice about a file (syntax Python's json reads otherwise, keys given twice, two documents).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import duckdb
import pytest

import pipelines.sources.jira as jira
from pipelines.lib.duckdb_connection import connect
from pipelines.sources.ingest import ingest_task_tracker
from pipelines.sources.jira_bulk import STRICT_TIMESTAMP, WHITESPACE_CLASS
from pipelines.sources.pages import parse_timestamp

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "jira" / "page-1.json"
KEY = b"bulk-test-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 0)


def issue(key: object = "OWH-1", histories: list | None = None, **fields) -> dict:
    """A plain issue, with ``fields`` replacing or adding fields (None values are kept)."""
    base = {
        "summary": "Export invoices",
        "issuetype": {"name": "Story", "subtask": False},
        "status": {"name": "Done"},
        "created": "2026-09-01T09:00:00.000+0000",
        "updated": "2026-09-02T10:30:00.000+0200",
        "project": {"key": "PAY"},
        "labels": ["invoicing"],
        "assignee": {"emailAddress": "Ann@X.com", "accountId": "5b10"},
        "priority": {"name": "High"},
        "customfield_10016": 3,
    }
    record: dict = {"key": key, "self": f"https://acme/{key}", "fields": {**base, **fields}}
    if histories is not None:
        record["changelog"] = {"total": len(histories), "histories": histories}
    return record


def history(created: object, *items: dict, author: object = None) -> dict:
    return {
        "created": created,
        "author": author or {"emailAddress": "bo@x.com"},
        "items": list(items),
    }


def status(from_status: object, to_status: object, field: object = "status") -> dict:
    return {"field": field, "fromString": from_status, "toString": to_status}


def flag(from_string: object, to_string: object) -> dict:
    return {"field": "Flagged", "fromString": from_string, "toString": to_string}


PLAIN_PAGE = {
    "issues": [
        issue(
            "OWH-1",
            [
                history("2026-09-02T09:00:00.000+0000", status("Backlog", "In Progress")),
                history("2026-09-03T10:00:00Z", flag(None, "Impediment")),
                history("2026-09-04T10:00:00.5+05:30", flag("Impediment", "")),
                history(
                    "2026-09-05T17:00:00-0400",
                    status("In Progress", "Done"),
                    {"field": "resolution", "toString": 5},
                ),
            ],
            parent={"key": "OWH-100", "fields": {"issuetype": {"name": "EPIC"}}},
        ),
        issue(
            "OWH-2",
            [
                # listed out of time order: the clear still closes the flag set before it
                history("2026-09-06T09:00:00Z", flag("Blocked", None)),
                history("2026-09-05T09:00:00Z", flag(None, "Blocked"), flag(None, "Again")),
                history("2026-09-07T09:00:00+05", flag(None, "Open for good")),
                None,
                history("2026-09-08T09:00:00Z", None, status(None, "Review", field="STATUS")),
            ],
            parent={"key": "OWH-101", "fields": {"issuetype": {"name": "Story"}}},
            customfield_10014="EPIC-9",
            customfield_10200={"value": "", "name": "Pre-release"},
            customfield_10300={"value": "WS-1"},
            labels=["  ", None, "a\u3000", "\u3000", "x@y.com"],
            summary="Ünïcødé ✓ and ann@example.com",
        ),
        issue(
            "OWH-3",
            parent={"key": "OWH-102"},
            issuetype={"name": "Sub-task", "subtask": True},
            customfield_10014="EPIC-2",
            customfield_10016=1e2,
            assignee="  Carla@X.com ",
            labels=None,
            updated=None,
            priority=None,
        ),
        {
            **issue("OWH-4"),
            "changelog": {"total": 5, "histories": [history("2026-09-02T09:00:00Z")]},
        },
        {**issue("OWH-5"), "changelog": {"total": "5", "histories": []}},
        {**issue("OWH-6"), "changelog": {"total": 5.0}},
        issue("OWH-7", customfield_10016="8", customfield_10200="production"),
        issue("OWH-8", customfield_10016=True, customfield_10200={"value": "Pre Release"}),
    ]
}

PYTHON_ISSUES_PAGE = {
    "issues": [
        issue("OWH-10", summary=5),  # not a string
        issue("OWH-11", status={"name": True}),
        issue(7),
        issue("   "),
        issue(None),
        None,
        issue("OWH-12", labels=[1, "a"]),
        issue("OWH-13", created="2026-09-01 09:00:00Z"),  # another spelling Python reads
        issue("OWH-14", created="2026-09-01T09:00:00.1234567Z"),
        issue("OWH-15", created="2026-02-30T09:00:00Z"),
        issue("OWH-16", created="2026-09-01"),
        issue("OWH-17", updated="yesterday"),
        issue("OWH-18", customfield_10200={"value": "QA"}),  # an unknown found-in value
        issue(
            "OWH-19",
            customfield_10300={
                "type": "doc",
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "WS-9"}]}],
            },
        ),
        issue("OWH-20", [history("not a date", status("A", "B"), flag(None, "x"))]),
        issue("OWH-21", [history("2026-09-02T09:00:00Z", status("A", None))]),
        issue("OWH-22", [history("2026-09-02T09:00:00Z", status("A", 3))]),
        issue("OWH-23", [history("2026-09-02T09:00:00Z", flag("x", None))]),  # nothing to clear
        issue(
            "OWH-24",
            [
                history("2026-09-02T09:00:00Z", flag(None, "x")),
                history("2026-09-03T09:00:00Z", flag("x", None)),
                history("2026-09-04T09:00:00Z", flag("x", None)),  # cleared twice
            ],
        ),
        issue("OWH-25", parent={"key": "OWH-1", "fields": {"issuetype": {"name": "EPİC"}}}),
        issue("OWH-26", issuetype={"name": "Bug", "subtask": 1}),
        {**issue("OWH-27"), "changelog": {"total": 10**20, "histories": []}},
        issue("OWH-28", summary="\u2003\u00a0"),  # blank to Python's str.strip()
        issue("OWH-29", [history("2026-09-02T09:00:00Z", status({"a": 1}, "B"))]),
    ]
}


def dumps(page: object, **kwargs) -> str:
    return json.dumps(page, ensure_ascii=False, **kwargs)


MANIFEST = {
    "source": "jira",
    "scope": "acme",
    "pull_id": "20261001T000000Z",
    "pulled_at": "2026-10-01T00:00:00Z",
    "full": True,
    "since": None,
    "issues": 2,
    "pages": 1,
    "cursor": None,
    "details": {"fields": {"team": "customfield_20000", "story_points": "customfield_20001"}},
}

LANDINGS: dict[str, dict[str, bytes | str]] = {
    "fixture": {"jira/page-1.json": FIXTURE.read_bytes()},
    "plain issues": {"jira/page.json": dumps(PLAIN_PAGE)},
    "issues left to Python": {"jira/page.json": dumps(PYTHON_ISSUES_PAGE)},
    "pretty-printed and escaped": {"jira/page.json": json.dumps(PLAIN_PAGE, indent=2)},
    "several pages, one duplicate, one empty": {
        "jira/a.json": dumps(PLAIN_PAGE),
        "jira/b.json": dumps(PYTHON_ISSUES_PAGE),
        "jira/c.json": dumps(PLAIN_PAGE),
        "jira/d.json": dumps({"issues": []}),
        "jira/e.json": dumps({"issues": [issue("OWH-40")]}),
    },
    "a pull folder with its own field ids": {
        "jira/20261001T000000Z/manifest.json": json.dumps(MANIFEST),
        "jira/20261001T000000Z/page-0001.json": dumps(
            {
                "issues": [
                    issue("OWH-50", customfield_20000={"value": "Payments"}, customfield_20001=2),
                    issue("OWH-51", customfield_20000="Growth", customfield_10016=4),
                ]
            }
        ),
    },
    "a field id SQL cannot name": {
        "jira/20261001T000000Z/manifest.json": json.dumps(
            {**MANIFEST, "details": {"fields": {"team": "team field"}}}
        ),
        "jira/20261001T000000Z/page-0001.json": dumps(
            {"issues": [issue("OWH-52", **{"team field": "Growth"})]}
        ),
    },
    "syntax Python reads otherwise": {
        "jira/comma.json": '{"issues": [{"key": "A-1"},]}',
        "jira/lower-nan.json": dumps({"issues": [issue("A-2")]})[:-2] + ', "x": nan}]}',
        "jira/python-nan.json": dumps({"issues": [issue("A-3")]})[:-2] + ', "x": NaN}]}',
        "jira/nan-points.json": dumps({"issues": [issue("A-11", customfield_10016=float("nan"))]}),
        "jira/not-an-issue.json": dumps({"issues": [issue("A-12"), "not an issue"]}),
        "jira/infinity.json": dumps({"issues": [issue("A-4", customfield_10016=1)]}).replace(
            '"customfield_10016": 1', '"customfield_10016": -Infinity'
        ),
        "jira/two-documents.json": dumps({"issues": []}) + "\n" + dumps({"issues": []}),
        "jira/trailing-value.json": dumps({"issues": [issue("A-5")]}) + "\n5",
        "jira/keys-twice.json": '{"issues": [], "issues": [' + dumps(issue("A-6")) + "]}",
        "jira/key-twice.json": dumps({"issues": [issue("A-7")]}).replace(
            '"key": "A-7"', '"key": "A-7", "key": "A-8"'
        ),
        "jira/bom.json": "\ufeff" + dumps({"issues": [issue("A-9")]}),
        "jira/not-utf8.json": b'{"issues": [{"key": "\xff"}]}',
        "jira/array.json": "[1, 2]",
        "jira/issues-null.json": '{"issues": null}',
        "jira/empty.json": "",
    },
}


def make_landing(root: Path, files: dict[str, bytes | str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def ingested(landing: Path) -> dict[str, object]:
    """What one ingest leaves: every table's rows (run id and load time aside), the warnings."""
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )
    tables: dict[str, object] = {"warnings": result.warnings}
    for table in ("tasks", "task_status_changes", "task_flags", "quarantine", "load_log"):
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() "
                "where schema_name = 'raw' and table_name = $table",
                {"table": table},
            ).fetchall()
            if name not in ("run_id", "loaded_at", "_loaded_at", "quarantined_at")
        ]
        tables[table] = con.execute(
            f"select {', '.join(columns)} from raw.{table} order by all"
        ).fetchall()
    con.close()
    return tables


@pytest.mark.parametrize("name", list(LANDINGS))
def test_sql_reads_every_page_as_the_python_walk_does(tmp_path, monkeypatch, name):
    landing = make_landing(tmp_path / "landing", LANDINGS[name])
    with_sql = ingested(landing)
    monkeypatch.setattr(jira, "field_roles", lambda field_map: None)
    assert ingested(landing) == with_sql


def test_sql_takes_the_plain_issues_and_leaves_the_others(tmp_path, monkeypatch):
    """The comparison above is not vacuous: SQL really reads the plain page, and hands each
    issue of the other page to Python."""
    landing = make_landing(
        tmp_path / "landing",
        {"jira/a.json": dumps(PLAIN_PAGE), "jira/b.json": dumps(PYTHON_ISSUES_PAGE)},
    )
    pages = {}
    read = jira.JiraPageReader.read

    def spy(self, path, roles):
        pages[path.name] = page = read(self, path, roles)
        return page

    monkeypatch.setattr(jira.JiraPageReader, "read", spy)
    ingested(landing)
    assert pages["a.json"].python_positions == []
    assert pages["a.json"].loaded == {"tasks": 8, "task_status_changes": 3, "task_flags": 3}
    assert pages["b.json"].python_positions == [
        position
        for position, record in enumerate(PYTHON_ISSUES_PAGE["issues"], start=1)
        # a rich-text workstream is read by the Python rules once per distinct value
        if record is None or record["key"] not in ("OWH-19", "OWH-25")
    ]


def test_a_connection_that_may_not_read_the_landing_folder_fails_the_ingest(tmp_path):
    """Its pages are not walked in Python instead, which would be several times slower; a page
    that is not UTF-8 text still is (the LANDINGS above)."""
    landing = make_landing(tmp_path / "landing", {"jira/a.json": dumps(PLAIN_PAGE)})
    con = connect(allowed_directories=[tmp_path / "elsewhere"])
    try:
        with pytest.raises(duckdb.PermissionException, match=r"Cannot access file .*a\.json"):
            ingest_task_tracker(
                con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
            )
    finally:
        con.close()


def test_the_whitespace_class_is_what_python_strips():
    con = duckdb.connect()
    blank = {
        code
        for (code,) in con.execute(
            "select code from (select range::int as code from range(0, 55296) "
            "union all select range::int from range(57344, 1114112)) "
            f"where regexp_full_match(chr(code), '{WHITESPACE_CLASS}')"
        ).fetchall()
    }
    assert blank == {code for code in range(0x110000) if chr(code).isspace()}


def test_strict_timestamps_convert_as_python_converts_them():
    """Random strings of the strict form, many of them impossible dates, read alike."""
    rng = random.Random(7)

    def spelling() -> str:
        fraction = rng.choice(["", "." + "".join(rng.choices("0123456789", k=rng.randint(1, 6)))])
        offset = rng.choice(
            ["", "Z", f"{rng.choice('+-')}{rng.randint(0, 23):02}{rng.choice(['', ':'])}"
             f"{rng.randint(0, 59):02}", f"{rng.choice('+-')}{rng.randint(0, 23):02}"]
        )  # fmt: skip
        return (
            f"{rng.randint(1000, 9899)}-{rng.randint(1, 12):02}-{rng.randint(1, 31):02}"
            f"T{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}"
            f"{fraction}{offset}"
        )

    texts = [spelling() for _ in range(20_000)]
    con = connect()
    converted = con.execute(
        f"select case when regexp_full_match(t, '{STRICT_TIMESTAMP}') "
        "then timezone('UTC', try_cast(t as timestamptz)) end "
        "from unnest($texts) with ordinality as u(t, n) order by n",
        {"texts": texts},
    ).fetchall()
    assert [row[0] for row in converted] == [parse_timestamp(text) for text in texts]
