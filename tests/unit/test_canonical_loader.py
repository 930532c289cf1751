"""Canonical CSV / Parquet files through the public ingest functions: exact raw rows, quarantine
rows (reason, row, line, raw text) and load-log rows, worked out by hand from the fixtures."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib.duckdb_connection import connect
from pipelines.lib.pseudonymize import pseudonym
from pipelines.sources.ingest import ingest_definitions, ingest_impact, ingest_task_tracker

CANONICAL = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "canonical"
KEY = b"canonical-loader-test-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 0)


def make_landing(root: Path, files: dict[str, str | bytes | Path]) -> Path:
    """A landing folder holding ``files`` (relative path -> text, bytes or a fixture to copy)."""
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            target.write_bytes(content.read_bytes())
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return root


def ingest_tasks(landing: Path):
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )
    return con, result


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def quarantine(con) -> list[tuple]:
    return rows(
        con,
        "select table_name, source_file, source_row, line, reason, raw_text from raw.quarantine "
        "order by table_name, source_file, line",
    )


def load_log(con) -> list[tuple]:
    return rows(
        con,
        "select table_name, source, source_file, rows_read, rows_loaded, rows_quarantined, "
        "status, message from raw.load_log order by table_name, source_file",
    )


@pytest.fixture
def tasks_csv(tmp_path):
    landing = make_landing(tmp_path / "landing", {"tasks/tasks.csv": CANONICAL / "tasks.csv"})
    return ingest_tasks(landing)


def test_good_rows_land_typed_by_name_with_lineage(tasks_csv):
    con, _ = tasks_csv
    loaded = rows(
        con,
        "select source, task_id, title, task_type, created_at, status, project, labels, "
        "assignee, _source, _source_file, _source_row, _loaded_at, _extra "
        "from raw.tasks order by _source_row",
    )
    assert loaded == [
        (
            "linear",
            "LIN-1",
            "Ship invoice export",
            "story",
            dt.datetime(2026, 9, 1, 9, 0),
            "Done",
            "PAY",
            ["invoicing", "q3"],
            pseudonym("ann@x.com", KEY),  # "Ann@X.com " normalised first
            "canonical",
            "tasks/tasks.csv",
            1,
            LOADED_AT,
            '{"estimate_note":"small"}',
        ),
        (
            "linear",
            "LIN-2",
            "Fix rounding, again",  # quoted comma
            "bug",
            dt.datetime(2026, 9, 2, 8, 30),  # 10:30 +0200
            "In Progress",
            "PAY",
            [],
            pseudonym("bob@example.com", KEY),
            "canonical",
            "tasks/tasks.csv",
            2,
            LOADED_AT,
            '{"estimate_note":null}',
        ),
        (
            "linear",
            "LIN-3",
            "Write runbook",
            "task",
            dt.datetime(2026, 9, 3, 8, 0),  # no offset: UTC
            "Backlog",
            "OPS",
            ["ops", "runbook"],  # "ops; ;runbook": blanks dropped
            None,
            "canonical",
            "tasks/tasks.csv",
            3,
            LOADED_AT,
            '{"estimate_note":"ask <email>"}',  # an address in an extra column is masked
        ),
    ]
    # columns the file does not have stay empty
    assert rows(
        con, "select count(*) from raw.tasks where team is not null or url is not null"
    ) == [(0,)]


def test_bad_rows_are_quarantined_with_reason_row_line_and_raw_text(tasks_csv):
    con, _ = tasks_csv
    assert quarantine(con) == [
        (
            "tasks",
            "tasks/tasks.csv",
            4,
            5,
            "unparseable created_at: '2025-13-01'",
            "Done,LIN-4,linear,Bad date,story,2025-13-01,,,,PAY",
        ),
        (
            "tasks",
            "tasks/tasks.csv",
            5,
            6,
            "malformed CSV row: too many fields: expected 10, found 11",
            "Done,LIN-5,linear,Too many fields,story,2026-09-01T00:00:00Z,,,,PAY,surplus",
        ),
        (
            "tasks",
            "tasks/tasks.csv",
            6,
            7,
            "missing task_id",
            "Done,,linear,No id,story,2026-09-01T00:00:00Z,,,,PAY",
        ),
    ]


def test_load_log_accounts_for_every_row_and_warns_about_extra_columns(tasks_csv):
    con, result = tasks_csv
    sha256 = hashlib.sha256((CANONICAL / "tasks.csv").read_bytes()).hexdigest()
    assert load_log(con) == [
        (
            "tasks",
            "canonical",
            "tasks/tasks.csv",
            6,
            3,
            3,
            "loaded",
            "3 rows quarantined; extra columns kept in _extra: estimate_note",
        )
    ]
    assert rows(con, "select file_hash, run_id, loaded_at from raw.load_log") == [
        (sha256, "run-1", LOADED_AT)
    ]
    assert result.rows_loaded == {"tasks": 3, "task_status_changes": 0, "task_flags": 0}
    assert result.rows_quarantined == {"tasks": 3, "task_status_changes": 0, "task_flags": 0}
    assert result.warnings == [
        "tasks/tasks.csv: extra columns kept in _extra: estimate_note",
        "tasks/tasks.csv: 3 records for tasks quarantined (see raw.quarantine)",
    ]


def test_missing_required_column_rejects_the_file_and_writes_nothing(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "task_status_changes/a.csv": CANONICAL / "task_status_changes_without_changed_at.csv",
            "task_status_changes/b.csv": CANONICAL / "task_status_changes.csv",
        },
    )
    con, result = ingest_tasks(landing)
    problem = (
        "missing required columns: changed_at "
        "(the file has: source, task_id, from_status, to_status, author)"
    )
    assert load_log(con) == [
        (
            "task_status_changes",
            "canonical",
            "task_status_changes/a.csv",
            1,
            0,
            1,
            "rejected",
            f"task_status_changes/a.csv: {problem}",
        ),
        ("task_status_changes", "canonical", "task_status_changes/b.csv", 3, 3, 0, "loaded", None),
    ]
    assert quarantine(con) == [
        (
            "task_status_changes",
            "task_status_changes/a.csv",
            None,
            1,
            f"file rejected: {problem}",
            "source,task_id,from_status,to_status,author",
        )
    ]
    assert rows(con, "select distinct _source_file from raw.task_status_changes") == [
        ("task_status_changes/b.csv",)
    ]
    assert f"task_status_changes/a.csv: {problem}; the file is rejected" in result.warnings[0]


def test_flag_intervals_keep_their_reason_and_open_flags(tmp_path):
    # the contract's own `reason` column must not be confused with a quarantine reason
    landing = make_landing(tmp_path / "landing", {"task_flags/f.csv": CANONICAL / "task_flags.csv"})
    con, result = ingest_tasks(landing)
    assert rows(
        con, "select task_id, flagged_at, unflagged_at, reason, _source_row from raw.task_flags"
    ) == [
        (
            "LIN-1",
            dt.datetime(2026, 9, 2, 10, 0),
            dt.datetime(2026, 9, 3, 14, 30),  # 16:30 +0200
            "Waiting on another team",
            1,
        ),
        ("LIN-2", dt.datetime(2026, 9, 3, 9, 0), None, "Blocked by vendor", 2),
    ]
    assert [(r[2], r[3], r[4]) for r in quarantine(con)] == [
        (3, 4, "unparseable flagged_at: '2026-09-31T09:00:00Z'")
    ]
    assert result.rows_loaded["task_flags"] == 2


def test_reordered_columns_are_read_by_name(tmp_path):
    # status and assignee swapped relative to the contract: values must not swap with them
    content = (
        "assignee,status,created_at,task_type,title,task_id,source\n"
        "ann@x.com,Done,2026-09-01T00:00:00Z,story,Reordered,R-1,linear\n"
    )
    con, _ = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/r.csv": content}))
    assert rows(con, "select task_id, status, assignee, title from raw.tasks") == [
        ("R-1", "Done", pseudonym("ann@x.com", KEY), "Reordered")
    ]


def test_blank_lines_keep_line_numbers_exact(tmp_path):
    content = (
        "source,task_id,title,task_type,created_at,status\n"
        "linear,B-1,one,story,2026-09-01T00:00:00Z,Done\n"
        "\n"
        "linear,B-2,two,story,not-a-date,Done\n"
        "linear,B-3,three,story\n"
        "linear,B-4,four,story,2026-09-04T00:00:00Z,Done\n"
    )
    con, result = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/b.csv": content}))
    assert rows(con, "select task_id, _source_row from raw.tasks order by 1") == [
        ("B-1", 1),
        ("B-4", 5),
    ]
    assert [(r[2], r[3], r[4]) for r in quarantine(con)] == [
        (3, 4, "unparseable created_at: 'not-a-date'"),
        (4, 5, "malformed CSV row: too few fields: expected 6, found 4"),
    ]
    assert result.warnings == ["tasks/b.csv: 2 records for tasks quarantined (see raw.quarantine)"]


HEADER = "source,task_id,title,task_type,created_at,status"
SPANNING = '"x\ny"'  # a quoted title spanning two lines


def good_row(task_id: str, title: str = "t") -> str:
    return f"linear,{task_id},{title},story,2026-09-01T00:00:00Z,Done"


@pytest.mark.parametrize(
    ("rows_text", "numbered", "exact"),
    [
        (f"\n{good_row('G-1')}\n{good_row('G-2')}\n", [1, 2], True),
        (f"\n{good_row('G-1')}\n{good_row('G-2')}", [1, 2], True),  # no newline at the end
        (f"\r\n{good_row('G-1')}\r\n{good_row('G-2')}\r\n", [1, 2], True),
        (f"\n{good_row('G-1')}\n\n{good_row('G-2')}\n", [1, 3], True),  # a blank line
        (f"\n{good_row('G-1')}\n{good_row('G-2')}\n\n\n", [1, 2], True),  # blank lines at the end
        (f"\n{good_row('G-1')}\n{good_row('G-2', SPANNING)}\n{good_row('G-3')}", [1, 2, 3], False),
    ],
)
def test_rows_of_a_file_without_problems_are_numbered_by_line(tmp_path, rows_text, numbered, exact):
    """Each data row's ``_source_row`` is its line minus the header, whatever the line ending,
    however many blank lines; a quoted field spanning lines makes them count records."""
    content = HEADER + rows_text
    con, result = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/g.csv": content}))
    assert [r[0] for r in rows(con, "select _source_row from raw.tasks order by 1")] == numbered
    spans = any("spans lines" in warning for warning in result.warnings)
    assert spans is not exact


def test_a_field_spanning_lines_is_loaded_and_numbering_falls_back_to_records(tmp_path):
    content = (
        "source,task_id,title,task_type,created_at,status\n"
        'linear,M-1,"two\nlines",story,2026-09-01T00:00:00Z,Done\n'
        "linear,M-2,bad,story,2026-09-01T00:00:00Z,Done,extra\n"
        "linear,M-3,three,story,2026-09-03T00:00:00Z,Done\n"
    )
    con, result = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/m.csv": content}))
    assert rows(con, "select task_id, title, _source_row from raw.tasks order by 1") == [
        ("M-1", "two\nlines", 1),
        ("M-3", "three", 3),
    ]
    assert [(r[2], r[3], r[5]) for r in quarantine(con)] == [
        (2, 3, "linear,M-2,bad,story,2026-09-01T00:00:00Z,Done,extra")
    ]
    assert (
        "tasks/m.csv: a quoted field spans lines or the file is not valid UTF-8, so row and line "
        "numbers count records rather than physical lines"
    ) in result.warnings


def test_invalid_utf8_row_is_quarantined_and_the_rest_loads(tmp_path):
    content = (
        b"source,task_id,title,task_type,created_at,status\n"
        b"linear,U-1,caf\xe9,story,2026-09-01T00:00:00Z,Done\n"
        b"linear,U-2,ok,story,2026-09-02T00:00:00Z,Done\n"
    )
    con, _ = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/u.csv": content}))
    assert rows(con, "select task_id, _source_row from raw.tasks") == [("U-2", 2)]
    assert [(r[2], r[3], r[4].split(": ")[:2]) for r in quarantine(con)] == [
        (1, 2, ["malformed CSV row", "invalid encoding"])
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file: no header row"),
        (
            b"source,task_id,title,task_type,created_at,status\nlinear,W-1,a,story,2026,Done\n"
            b"   \r\nlinear,W-2,b,story,2026,Done\n",
            "not a well-formed CSV file: Invalid Input Error: The CSV Parser state machine "
            "reached an invalid state.",
        ),
    ],
)
def test_unreadable_csv_is_rejected_naming_the_problem(tmp_path, content, problem):
    con, _ = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/x.csv": content}))
    assert [r[6:] for r in load_log(con)] == [("rejected", f"tasks/x.csv: {problem}")]
    assert rows(con, "select count(*) from raw.tasks") == [(0,)]


def test_unreadable_parquet_is_rejected_naming_the_problem(tmp_path):
    landing = make_landing(tmp_path / "landing", {"tasks/x.parquet": b"PAR1 not really"})
    con, _ = ingest_tasks(landing)
    [(status, message)] = [r[6:] for r in load_log(con)]
    assert status == "rejected"
    assert message.startswith("tasks/x.parquet: not a readable Parquet file: ")
    assert rows(con, "select table_name, source_row, line from raw.quarantine") == [
        ("tasks", None, None)
    ]


def test_quotes_and_sql_in_values_round_trip_unchanged(tmp_path):
    content = (
        "source,task_id,title,task_type,created_at,status\n"
        "linear,Q-1,O'Brien's fix,story,2026-09-01T00:00:00Z,Done\n"
        'linear,Q-2,"x\'); drop table raw.tasks; --",story,2026-09-01T00:00:00Z,Done\n'
    )
    con, _ = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/q.csv": content}))
    assert rows(con, "select title from raw.tasks order by task_id") == [
        ("O'Brien's fix",),
        ("x'); drop table raw.tasks; --",),
    ]


def test_parquet_with_typed_columns_and_label_lists(tmp_path):
    landing = tmp_path / "landing"
    (landing / "tasks").mkdir(parents=True)
    pd.DataFrame(
        {
            "task_id": ["P-1", "P-2", "P-3"],
            "source": ["github", "github", "github"],
            "title": ["typed", "no labels", "bad points"],
            "task_type": ["bug", "task", "task"],
            "created_at": pd.to_datetime(
                ["2026-09-01T10:00:00+02:00", "2026-09-02T00:00:00Z", "2026-09-03T00:00:00Z"],
                utc=True,
            ),
            "status": ["Open", "Open", "Open"],
            "labels": [["ui", " api "], [], None],
            "story_points": ["3", None, "many"],
            "found_in": ["Production", None, None],
        }
    ).to_parquet(landing / "tasks" / "issues.parquet")
    con, _ = ingest_tasks(landing)
    assert rows(
        con,
        "select task_id, created_at, labels, story_points, found_in, _source_row "
        "from raw.tasks order by task_id",
    ) == [
        ("P-1", dt.datetime(2026, 9, 1, 8, 0), ["ui", "api"], 3.0, "production", 1),
        ("P-2", dt.datetime(2026, 9, 2, 0, 0), [], None, None, 2),
    ]
    assert [(r[2], r[3], r[4]) for r in quarantine(con)] == [
        (3, None, "unparseable story_points: 'many'")
    ]
    raw_text = json.loads(quarantine(con)[0][5])
    assert (raw_text["task_id"], raw_text["story_points"]) == ("P-3", "many")


def test_definitions_check_enums_ranges_numbers_and_dates(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "kpis/kpis.csv": CANONICAL / "kpis.csv",
            "outcomes/outcomes.csv": CANONICAL / "outcomes.csv",
            "workstreams/workstreams.csv": CANONICAL / "workstreams.csv",
            "workstream_rules/rules.csv": CANONICAL / "workstream_rules.csv",
        },
    )
    con = connect(allowed_directories=[landing])
    result = ingest_definitions(con, landing, run_id="run-1", loaded_at=LOADED_AT)
    assert rows(
        con, "select kpi_id, area, aggregation, direction, cadence_days from raw.kpis order by 1"
    ) == [
        ("KPI-ADO", "adoption", "last", "increase", 30),
        ("KPI-INV", "business", "avg", "decrease", 7),  # "Business" stored lower-case
    ]
    assert rows(
        con,
        "select outcome_id, baseline_value, baseline_on, target_value, target_on, owner "
        "from raw.outcomes",
    ) == [("OUT-1", 5.0, dt.date(2026, 7, 1), 2.0, dt.date(2026, 12, 31), "<email>")]
    assert rows(
        con,
        "select workstream_id, priority, source, project, epic_id, label "
        "from raw.workstream_rules order by priority desc",
    ) == [
        ("WS-INVOICE", 10, None, "PAY", None, None),
        ("WS-INVOICE", 5, None, None, None, "invoicing"),
    ]
    assert [(r[2], r[3], r[4]) for r in quarantine(con)] == [
        (
            3,
            4,
            "invalid area: 'finance' (expected one of flow, quality, adoption, business, "
            "confidence); invalid aggregation: 'median' (expected one of last, avg, sum); "
            "invalid direction: 'up' (expected one of increase, decrease); "
            "cadence_days below 1: '0'",
        )
    ]
    assert result.rows_loaded == {"kpis": 2, "outcomes": 1, "workstreams": 1, "workstream_rules": 2}


def test_impact_data_checks_dates_numbers_dimension_and_score(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "kpi_observations/obs.csv": CANONICAL / "kpi_observations.csv",
            "confidence_surveys/survey.csv": CANONICAL / "confidence_surveys.csv",
        },
    )
    con = connect(allowed_directories=[landing])
    ingest_impact(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)
    assert rows(
        con, "select kpi_id, observed_on, value, segment from raw.kpi_observations order by 2"
    ) == [
        ("KPI-INV", dt.date(2026, 9, 1), 4.5, None),
        ("KPI-INV", dt.date(2026, 9, 8), 4.0, "EU"),
    ]
    assert rows(
        con,
        "select outcome_id, answered_on, dimension, score, respondent from raw.confidence_surveys",
    ) == [("OUT-1", dt.date(2026, 9, 15), "readiness", 4, pseudonym("ann@x.com", KEY))]
    assert [(r[0], r[3], r[4], r[5]) for r in quarantine(con)] == [
        (
            "confidence_surveys",
            3,
            "score out of range 1..5: '6'",
            "OUT-1,2026-09-15,ownership,6,<email>",
        ),
        (
            "confidence_surveys",
            4,
            "invalid dimension: 'budget' (expected one of readiness, ownership)",
            "OUT-1,2026-09-15,budget,3,<email>",
        ),
        ("kpi_observations", 4, "unparseable observed_on: '2026-09-31'", "KPI-INV,2026-09-31,3.9,"),
        ("kpi_observations", 5, "unparseable value: 'abc'", "KPI-ADO,2026-09-08,abc,"),
    ]


def test_update_time_and_truncated_history_are_optional_typed_columns(tmp_path):
    content = (
        "source,task_id,title,task_type,created_at,status,updated_at,is_history_truncated\n"
        "linear,U-1,one,story,2026-09-01T00:00:00Z,Done,2026-09-03T10:00:00+02:00,Yes\n"
        "linear,U-2,two,story,2026-09-01T00:00:00Z,Done,,false\n"
        "linear,U-3,three,story,2026-09-01T00:00:00Z,Done,2026-09-03T10:00:00Z,\n"
        "linear,U-4,four,story,2026-09-01T00:00:00Z,Done,2026-09-03T10:00:00Z,perhaps\n"
    )
    con, _ = ingest_tasks(make_landing(tmp_path / "landing", {"tasks/u.csv": content}))
    assert rows(
        con, "select task_id, updated_at, is_history_truncated from raw.tasks order by 1"
    ) == [
        ("U-1", dt.datetime(2026, 9, 3, 8, 0), True),
        ("U-2", None, False),
        ("U-3", dt.datetime(2026, 9, 3, 10, 0), None),
    ]
    assert [(r[2], r[3], r[4]) for r in quarantine(con)] == [
        (4, 5, "unparseable is_history_truncated: 'perhaps'")
    ]
