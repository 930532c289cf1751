"""Ingest orchestration: both adapters into one build, idempotent re-runs, duplicate files,
unsafe paths and the all-or-nothing transaction. Counts are worked out by hand from the fixtures
(see test_jira_parser.py and test_canonical_loader.py for the rows themselves)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import pipelines.sources.ingest as ingest_module
from pipelines.lib.duckdb_connection import connect
from pipelines.lib.landing import UnsafeLandingPathError, list_landing_files
from pipelines.lib.pseudonymize import pseudonym
from pipelines.sources.ingest import (
    FileLoad,
    ingest_definitions,
    ingest_impact,
    ingest_task_tracker,
)

# on the demo run's worker: the Jira-only worker has the longer share of `make test`
# (tests/conftest.py)
pytestmark = pytest.mark.xdist_group("demo_run")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
CANONICAL = FIXTURES / "canonical"
KEY = b"ingest-test-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 0)

LANDING_FILES = {
    "jira/page-1.json": FIXTURES / "jira" / "page-1.json",
    "tasks/tasks.csv": CANONICAL / "tasks.csv",
    "tasks/notes.txt": "not a data file",
    "task_status_changes/changes.csv": CANONICAL / "task_status_changes.csv",
    "task_status_changes/old.csv": CANONICAL / "task_status_changes_without_changed_at.csv",
    "kpis/kpis.csv": CANONICAL / "kpis.csv",
    "outcomes/outcomes.csv": CANONICAL / "outcomes.csv",
    "workstreams/workstreams.csv": CANONICAL / "workstreams.csv",
    "workstream_rules/rules.csv": CANONICAL / "workstream_rules.csv",
    "kpi_observations/obs.csv": CANONICAL / "kpi_observations.csv",
    "confidence_surveys/survey.csv": CANONICAL / "confidence_surveys.csv",
    "asana/tasks.json": "{}",
    "github/issues.json": "{}",
    "demo_manifest.json": "{}",
}
RAW_TABLES = (
    "tasks",
    "task_status_changes",
    "task_flags",
    "kpis",
    "outcomes",
    "workstreams",
    "workstream_rules",
    "kpi_observations",
    "confidence_surveys",
    "load_log",
    "quarantine",
)


def make_landing(root: Path, files: dict[str, str | Path]) -> Path:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            target.write_bytes(content.read_bytes())
        else:
            target.write_text(content)
    return root


def ingest_all(
    con,
    landing: Path,
    run_id: str = "run-1",
    *,
    loaded_at: dt.datetime = LOADED_AT,
    key: bytes = KEY,
    previous: ingest_module.PreviousBuild = ingest_module.NO_PREVIOUS_BUILD,
):
    common = {"run_id": run_id, "loaded_at": loaded_at, "previous": previous}
    return (
        ingest_task_tracker(con, landing, pseudonym_key=key, **common),
        ingest_definitions(con, landing, **common),
        ingest_impact(con, landing, pseudonym_key=key, **common),
    )


def snapshot(con) -> dict[str, list[tuple]]:
    return {
        table: con.execute(f"select * from raw.{table} order by all").fetchall()
        for table in RAW_TABLES
    }


def counts(con, table: str) -> dict[str, int]:
    return dict(con.execute(f"select _source, count(*) from raw.{table} group by 1").fetchall())


@pytest.fixture
def landing(tmp_path) -> Path:
    return make_landing(tmp_path / "landing", LANDING_FILES)


def test_both_adapters_load_exact_counts_per_table(landing):
    con = connect(allowed_directories=[landing])
    tracker, definitions, impact = ingest_all(con, landing)

    assert tracker.rows_loaded == {"tasks": 7, "task_status_changes": 13, "task_flags": 3}
    assert tracker.rows_quarantined == {"tasks": 4, "task_status_changes": 2, "task_flags": 1}
    assert counts(con, "tasks") == {"jira": 4, "canonical": 3}
    assert counts(con, "task_status_changes") == {"jira": 10, "canonical": 3}
    assert counts(con, "task_flags") == {"jira": 3}
    assert definitions.rows_loaded == {
        "kpis": 2,
        "outcomes": 1,
        "workstreams": 1,
        "workstream_rules": 2,
    }
    assert definitions.rows_quarantined == {
        "kpis": 1,
        "outcomes": 0,
        "workstreams": 0,
        "workstream_rules": 0,
    }
    assert impact.rows_loaded == {"kpi_observations": 2, "confidence_surveys": 1}
    assert impact.rows_quarantined == {"kpi_observations": 2, "confidence_surveys": 2}
    assert con.execute(
        "select table_name, count(*) from raw.quarantine group by 1 order by 1"
    ).fetchall() == [
        ("confidence_surveys", 2),
        ("kpi_observations", 2),
        ("kpis", 1),
        ("task_flags", 1),
        ("task_status_changes", 2),
        ("tasks", 4),
    ]


def test_load_log_has_one_row_per_file_and_table_and_every_row_is_accounted_for(landing):
    con = connect(allowed_directories=[landing])
    tracker, _, _ = ingest_all(con, landing)
    logged = con.execute(
        "select table_name, source_file, rows_read, rows_loaded, rows_quarantined, status "
        "from raw.load_log order by table_name, source_file"
    ).fetchall()
    assert logged == [
        ("confidence_surveys", "confidence_surveys/survey.csv", 3, 1, 2, "loaded"),
        ("kpi_observations", "kpi_observations/obs.csv", 4, 2, 2, "loaded"),
        ("kpis", "kpis/kpis.csv", 3, 2, 1, "loaded"),
        ("outcomes", "outcomes/outcomes.csv", 1, 1, 0, "loaded"),
        ("task_flags", "jira/page-1.json", 4, 3, 1, "loaded"),
        ("task_status_changes", "jira/page-1.json", 11, 10, 1, "loaded"),
        ("task_status_changes", "task_status_changes/changes.csv", 3, 3, 0, "loaded"),
        ("task_status_changes", "task_status_changes/old.csv", 1, 0, 1, "rejected"),
        ("tasks", "jira/page-1.json", 5, 4, 1, "loaded"),
        ("tasks", "tasks/tasks.csv", 6, 3, 3, "loaded"),
        ("workstream_rules", "workstream_rules/rules.csv", 2, 2, 0, "loaded"),
        ("workstreams", "workstreams/workstreams.csv", 1, 1, 0, "loaded"),
    ]
    assert all(read == loaded + quarantined for _, _, read, loaded, quarantined, _ in logged)
    # the log agrees with the tables it describes
    assert con.execute(
        "select count(*) from raw.quarantine q where not exists (select 1 from raw.load_log l "
        "where l.table_name = q.table_name and l.source_file = q.source_file)"
    ).fetchall() == [(0,)]
    assert tracker.files[0] == FileLoad(
        table_name="tasks",
        source="jira",
        source_file="jira/page-1.json",
        file_hash=hashlib.sha256((FIXTURES / "jira" / "page-1.json").read_bytes()).hexdigest(),
        rows_read=5,
        rows_loaded=4,
        rows_quarantined=1,
        status="loaded",
        message="1 record quarantined",
    )


def test_warnings_name_unknown_folders_ignored_files_drift_and_rejections(landing):
    tracker = ingest_task_tracker(
        connect(allowed_directories=[landing]),
        landing,
        run_id="run-1",
        loaded_at=LOADED_AT,
        pseudonym_key=KEY,
    )
    assert tracker.warnings == [
        "landing folder asana/ is not read by any adapter; its files are ignored (known "
        "folders: jira, github, linear, tasks, task_status_changes, task_flags, kpis, outcomes, "
        "workstreams, workstream_rules, kpi_observations, confidence_surveys)",
        "github/issues.json is ignored: only pull folders of `owh extract github` are read in "
        "github/",
        "tasks/notes.txt is ignored: only *.csv and *.parquet files are read in tasks/",
        "jira/page-1.json: issue OWH-4 has a truncated changelog (3 of 5 histories exported); "
        "its 2 missing histories are not loaded (pull it with `owh extract jira` for the whole "
        "history). If its status differs from its last transition, the warehouse infers the "
        'missing one (DECISIONS "Truncated histories")',
        "jira/page-1.json: 1 record for tasks quarantined (see raw.quarantine)",
        "jira/page-1.json: 1 record for task_status_changes quarantined (see raw.quarantine)",
        "jira/page-1.json: 1 record for task_flags quarantined (see raw.quarantine)",
        "tasks/tasks.csv: extra columns kept in _extra: estimate_note",
        "tasks/tasks.csv: 3 records for tasks quarantined (see raw.quarantine)",
        "task_status_changes/old.csv: missing required columns: changed_at (the file has: "
        "source, task_id, from_status, to_status, author); the file is rejected, nothing of it "
        "is loaded",
    ]


def test_running_the_same_ingest_twice_gives_the_same_content(landing):
    con = connect(allowed_directories=[landing])
    ingest_all(con, landing)
    first = snapshot(con)
    ingest_all(con, landing)
    assert snapshot(con) == first
    assert len(first["tasks"]) == 7


def test_a_retry_under_another_run_id_replaces_the_log_instead_of_doubling_it(landing):
    con = connect(allowed_directories=[landing])
    ingest_all(con, landing, run_id="root-run")
    ingest_all(con, landing, run_id="re-execution")
    assert con.execute("select distinct run_id from raw.load_log").fetchall() == [("re-execution",)]
    assert con.execute("select distinct run_id from raw.quarantine").fetchall() == [
        ("re-execution",)
    ]
    assert con.execute("select count(*) from raw.load_log").fetchall() == [(12,)]


def test_a_file_with_the_same_bytes_is_logged_as_duplicate_and_loaded_once(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "tasks/2026-09-01.csv": CANONICAL / "tasks.csv",
            "tasks/2026-09-01-resent.csv": CANONICAL / "tasks.csv",
        },
    )
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )
    # "-resent" sorts before ".csv", so the resent copy is read first and the other is the copy
    assert [(f.source_file, f.status, f.rows_read, f.message) for f in result.files] == [
        ("tasks/2026-09-01-resent.csv", "loaded", 6, "3 rows quarantined; extra columns kept in "
         "_extra: estimate_note"),
        ("tasks/2026-09-01.csv", "duplicate_file", 0, "same bytes as tasks/2026-09-01-resent.csv; "
         "this copy is not read again"),
    ]  # fmt: skip
    assert con.execute("select count(*), count(distinct task_id) from raw.tasks").fetchall() == [
        (3, 3)
    ]
    assert result.rows_quarantined["tasks"] == 3


def test_a_duplicated_jira_page_is_logged_for_each_of_its_tables(tmp_path):
    page = FIXTURES / "jira" / "page-1.json"
    landing = make_landing(tmp_path / "landing", {"jira/a.json": page, "jira/b.json": page})
    result = ingest_task_tracker(
        connect(allowed_directories=[landing]),
        landing,
        run_id="run-1",
        loaded_at=LOADED_AT,
        pseudonym_key=KEY,
    )
    assert [(f.source_file, f.table_name, f.status) for f in result.files] == [
        ("jira/a.json", "tasks", "loaded"),
        ("jira/a.json", "task_status_changes", "loaded"),
        ("jira/a.json", "task_flags", "loaded"),
        ("jira/b.json", "tasks", "duplicate_file"),
        ("jira/b.json", "task_status_changes", "duplicate_file"),
        ("jira/b.json", "task_flags", "duplicate_file"),
    ]
    assert result.rows_loaded == {"tasks": 4, "task_status_changes": 10, "task_flags": 3}


def test_a_page_that_is_not_json_is_rejected_with_one_quarantine_row(tmp_path):
    landing = make_landing(tmp_path / "landing", {"jira/broken.json": '{"issues": [\n  {]}'})
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )
    message = (
        "jira/broken.json: not valid JSON (Expecting property name enclosed in double quotes: "
        "line 2 column 4 (char 16))"
    )
    logged = [(f.table_name, f.status, f.rows_read, f.rows_quarantined) for f in result.files]
    assert logged == [
        ("tasks", "rejected", 1, 1),
        ("task_status_changes", "rejected", 0, 0),
        ("task_flags", "rejected", 0, 0),
    ]
    assert {f.message for f in result.files} == {message}
    assert con.execute(
        "select table_name, source, source_row, line, reason, raw_text from raw.quarantine"
    ).fetchall() == [
        (
            "tasks",
            "jira",
            None,
            2,
            "file rejected: not valid JSON (Expecting property name enclosed in double quotes: "
            "line 2 column 4 (char 16))",
            '{"issues": [\n  {]}',
        )
    ]


def test_a_symlink_pointing_outside_the_landing_folder_is_refused(landing, tmp_path):
    con = connect(allowed_directories=[landing])
    ingest_task_tracker(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)
    before = snapshot(con)
    secret = tmp_path / "secret.csv"
    secret.write_text("source,task_id,title,task_type,created_at,status\n")
    os.symlink(secret, landing / "tasks" / "zz-link.csv")
    with pytest.raises(
        UnsafeLandingPathError, match=r"landing path tasks/zz-link\.csv resolves to"
    ):
        ingest_task_tracker(con, landing, run_id="run-2", loaded_at=LOADED_AT, pseudonym_key=KEY)
    assert snapshot(con) == before


def test_a_folder_linked_outside_the_landing_folder_is_refused(tmp_path):
    outside = make_landing(tmp_path / "elsewhere", {"kpis.csv": CANONICAL / "kpis.csv"})
    landing = tmp_path / "landing"
    landing.mkdir()
    os.symlink(outside, landing / "kpis")
    with pytest.raises(UnsafeLandingPathError, match="landing path kpis resolves to"):
        ingest_definitions(
            connect(allowed_directories=[landing]), landing, run_id="run-1", loaded_at=LOADED_AT
        )


def test_a_failure_inside_the_transaction_leaves_the_tables_as_they_were(landing, monkeypatch):
    con = connect(allowed_directories=[landing])
    ingest_all(con, landing)
    before = snapshot(con)
    (landing / "tasks" / "tasks.csv").unlink()

    def broken_load_log(*args, **kwargs):
        raise RuntimeError("disk full while writing the load log")

    monkeypatch.setattr(ingest_module, "_write_load_log", broken_load_log)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_task_tracker(con, landing, run_id="run-2", loaded_at=LOADED_AT, pseudonym_key=KEY)
    assert snapshot(con) == before
    # the staging tables are gone and the connection is usable again
    assert con.execute(
        "select count(*) from duckdb_tables() where table_name like 'owh_%'"
    ).fetchall() == [(0,)]


def test_a_landing_folder_with_only_task_data_gives_empty_definitions(tmp_path):
    landing = make_landing(tmp_path / "landing", {"jira/p.json": FIXTURES / "jira" / "page-1.json"})
    con = connect(allowed_directories=[landing])
    result = ingest_definitions(con, landing, run_id="run-1", loaded_at=LOADED_AT)
    assert result.files == []
    assert result.rows_loaded == {"kpis": 0, "outcomes": 0, "workstreams": 0, "workstream_rules": 0}
    assert con.execute("select count(*) from raw.kpis").fetchall() == [(0,)]


def test_a_missing_landing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="landing folder not found"):
        ingest_definitions(connect(), tmp_path / "nope", run_id="r", loaded_at=LOADED_AT)


def test_landing_files_are_sorted_hashed_and_hidden_files_skipped(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {"tasks/b.CSV": "b", "tasks/a.csv": "a", "tasks/.~lock.a.csv#": "x", "tasks/c.json": "c"},
    )
    files = list_landing_files(landing, "tasks", ("*.csv", "*.parquet"))
    assert [(f.relative_path, f.sha256) for f in files] == [
        ("tasks/a.csv", hashlib.sha256(b"a").hexdigest()),
        ("tasks/b.CSV", hashlib.sha256(b"b").hexdigest()),
    ]
    assert files[0].path == (landing / "tasks" / "a.csv").resolve()
    assert list_landing_files(landing, "kpis", ("*.csv",)) == []
    with pytest.raises(UnsafeLandingPathError, match="not a plain folder name"):
        list_landing_files(landing, "../tasks", ("*.csv",))


KPI_HEADER = "kpi_id,observed_on,value,segment,unit\n"


def test_rows_of_one_file_with_one_key_and_other_content_are_all_quarantined(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "kpi_observations/obs.csv": KPI_HEADER
            + "KPI-INV,2026-09-01,4.5,EU,days\n"  # line 2: conflicts with lines 5 and 9
            + "KPI-INV,2026-09-01,4.5,,days\n"  # line 3: no segment is another key
            + "KPI-INV,2026-09-08,4.0,,days\n"  # line 4: exact duplicate of line 6
            + "KPI-INV,2026-09-01,4.7,EU,days\n"  # line 5
            + "KPI-INV,2026-09-08,4.0,,days\n"  # line 6
            + "KPI-ADO,2026-09-08,10,,%\n"  # line 7: a unit against none on line 8
            + "KPI-ADO,2026-09-08,10,,\n"  # line 8
            + "KPI-INV,2026-09-01,4.7,EU,days\n"  # line 9: same content as line 5
            + "KPI-INV,2026-09-08,abc,,days\n",  # line 10: invalid, not a duplicate
        },
    )
    con = connect(allowed_directories=[landing])
    result = ingest_impact(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)

    conflict = "conflicting duplicate: key (kpi_id, observed_on, segment) also on "
    assert con.execute(
        "select source_row, line, reason, raw_text from raw.quarantine order by source_row"
    ).fetchall() == [
        (1, 2, conflict + "lines 5, 9 with other content",
         '{"kpi_id":"KPI-INV","observed_on":"2026-09-01","value":4.5,"segment":"EU",'
         '"unit":"days","_extra":null}'),
        (4, 5, conflict + "line 2 with other content",
         '{"kpi_id":"KPI-INV","observed_on":"2026-09-01","value":4.7,"segment":"EU",'
         '"unit":"days","_extra":null}'),
        (6, 7, conflict + "line 8 with other content",
         '{"kpi_id":"KPI-ADO","observed_on":"2026-09-08","value":10.0,"segment":null,'
         '"unit":"%","_extra":null}'),
        (7, 8, conflict + "line 7 with other content",
         '{"kpi_id":"KPI-ADO","observed_on":"2026-09-08","value":10.0,"segment":null,'
         '"unit":null,"_extra":null}'),
        (8, 9, conflict + "line 2 with other content",
         '{"kpi_id":"KPI-INV","observed_on":"2026-09-01","value":4.7,"segment":"EU",'
         '"unit":"days","_extra":null}'),
        (9, 10, "unparseable value: 'abc'", "KPI-INV,2026-09-08,abc,,days"),
    ]  # fmt: skip
    assert con.execute(
        "select distinct run_id, table_name, source, source_file, quarantined_at "
        "from raw.quarantine"
    ).fetchall() == [
        ("run-1", "kpi_observations", "canonical", "kpi_observations/obs.csv", LOADED_AT)
    ]
    assert con.execute(
        "select _source_row, kpi_id, observed_on, value, segment from raw.kpi_observations "
        "order by _source_row"
    ).fetchall() == [
        (2, "KPI-INV", dt.date(2026, 9, 1), 4.5, None),
        (3, "KPI-INV", dt.date(2026, 9, 8), 4.0, None),
        (5, "KPI-INV", dt.date(2026, 9, 8), 4.0, None),
    ]
    assert con.execute(
        "select rows_read, rows_loaded, rows_quarantined, status, message from raw.load_log"
    ).fetchall() == [(9, 3, 6, "loaded", "1 row quarantined; 5 conflicting duplicates quarantined")]
    assert result.rows_loaded == {"kpi_observations": 3, "confidence_surveys": 0}
    assert result.rows_quarantined == {"kpi_observations": 6, "confidence_surveys": 0}
    assert result.warnings == [
        "kpi_observations/obs.csv: 6 records for kpi_observations quarantined "
        "(5 as conflicting duplicates; see raw.quarantine)"
    ]


def test_the_same_key_with_other_content_in_two_files_is_a_correction_and_loads_both(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {
            "kpi_observations/2026-09-01.csv": KPI_HEADER + "KPI-INV,2026-09-01,4.5,,days\n",
            "kpi_observations/2026-09-02.csv": KPI_HEADER + "KPI-INV,2026-09-01,4.7,,days\n",
        },
    )
    con = connect(allowed_directories=[landing])
    result = ingest_impact(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)

    assert con.execute(
        "select _source_file, value from raw.kpi_observations order by _source_file"
    ).fetchall() == [
        ("kpi_observations/2026-09-01.csv", 4.5),
        ("kpi_observations/2026-09-02.csv", 4.7),
    ]
    assert con.execute("select count(*) from raw.quarantine").fetchall() == [(0,)]
    logged = [(f.source_file, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files]
    assert logged == [
        ("kpi_observations/2026-09-01.csv", 1, 1, 0),
        ("kpi_observations/2026-09-02.csv", 1, 1, 0),
    ]
    assert result.warnings == []


def jira_issue(key: str, status: str, summary: str = "Export invoices") -> dict:
    return {
        "key": key,
        "fields": {
            "summary": summary,
            "issuetype": {"name": "Story"},
            "status": {"name": status},
            "created": "2026-09-01T11:00:00.000+0200",
            "project": {"key": "PAY"},
            "assignee": {"emailAddress": "Ann@X.com"},
        },
    }


def test_an_issue_twice_in_one_jira_page_with_other_fields_is_quarantined(tmp_path):
    page = {
        "issues": [
            jira_issue("OWH-7", "In Progress"),
            jira_issue("OWH-8", "Done", "Close the books"),
            jira_issue("OWH-7", "Done"),  # the same issue, another status: a conflict
            jira_issue("OWH-8", "Done", "Close the books"),  # an exact duplicate: loaded
        ]
    }
    landing = make_landing(tmp_path / "landing", {"jira/page.json": json.dumps(page)})
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )

    def staged_row(status: str) -> str:
        row = {
            "source": "jira",
            "task_id": "OWH-7",
            "title": "Export invoices",
            "task_type": "Story",
            "created_at": "2026-09-01 09:00:00",
            "status": status,
            "team": None,
            "project": "PAY",
            "epic_id": None,
            "parent_id": None,
            "labels": [],
            "assignee": pseudonym("ann@x.com", KEY),
            "story_points": None,
            "priority": None,
            "resolution": None,
            "found_in": None,
            "workstream_id": None,
            "url": None,
            "updated_at": None,
            "is_history_truncated": False,
            "_extra": None,
        }
        return json.dumps(row, separators=(",", ":"))

    assert con.execute(
        "select table_name, source, source_file, source_row, line, reason, raw_text "
        "from raw.quarantine order by source_row"
    ).fetchall() == [
        ("tasks", "jira", "jira/page.json", 1, None, "conflicting duplicate: key (source, "
         "task_id) also in record 3 with other content", staged_row("In Progress")),
        ("tasks", "jira", "jira/page.json", 3, None, "conflicting duplicate: key (source, "
         "task_id) also in record 1 with other content", staged_row("Done")),
    ]  # fmt: skip
    assert con.execute("select task_id, _source_row from raw.tasks order by all").fetchall() == [
        ("OWH-8", 2),
        ("OWH-8", 4),
    ]
    assert [
        (f.table_name, f.rows_read, f.rows_loaded, f.rows_quarantined, f.message)
        for f in result.files
    ] == [
        ("tasks", 4, 2, 2, "2 conflicting duplicates quarantined"),
        ("task_status_changes", 0, 0, 0, None),
        ("task_flags", 0, 0, 0, None),
    ]
    assert result.warnings == [
        "jira/page.json: 2 records for tasks quarantined "
        "(2 as conflicting duplicates; see raw.quarantine)"
    ]


# Incremental ingestion: the files unchanged since the published build are copied from it.

LATER = dt.datetime(2026, 10, 2, 6, 0)
# The lineage of a row or a log entry: the run that parsed its file, and when. A reused file keeps
# the published build's; everything else equals what a full reload gives.
LINEAGE = {
    "load_log": ("run_id", "loaded_at"),
    "quarantine": ("run_id", "quarantined_at"),
    "ingest_state": (),
    "ingest_warnings": (),
}
PULL = "jira/20261001T050000Z"


def content(con) -> dict[str, list[tuple]]:
    """Every raw table without its lineage columns, rows sorted."""
    tables = {**{table: ("_loaded_at",) for table in RAW_TABLES[:-2]}, **LINEAGE}
    return {
        table: con.execute(f"select * {_exclude(lineage)} from raw.{table} order by all").fetchall()
        for table, lineage in tables.items()
    }


def _exclude(columns: tuple[str, ...]) -> str:
    return f"exclude ({', '.join(columns)})" if columns else ""


def publish(landing: Path, path: Path, key: bytes = KEY) -> Path:
    """A published build of ``landing``: a file loaded in full by run ``run-1``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path, allowed_directories=[landing]) as con:
        ingest_all(con, landing, key=key)
    return path


def ingest_again(landing: Path, path: Path, published: Path | None, **kwargs):
    """The next run's ingest into a fresh build file, reusing what ``published`` holds."""
    con = connect(path, allowed_directories=[landing], allowed_files=[published or path])
    with ingest_module.previous_build(con, published, **kwargs) as previous:
        results = ingest_all(con, landing, "run-2", loaded_at=LATER, previous=previous)
    return con, results


def files_of(results) -> tuple[set[str], set[str]]:
    """(files parsed, files reused) by the three ingests."""
    files = [f for result in results for f in result.files if f.status != "duplicate_file"]
    return (
        {f.source_file for f in files if not f.reused},
        {f.source_file for f in files if f.reused},
    )


def add_pull(landing: Path, fields: dict[str, str] | None = None) -> None:
    """A pull folder of `owh extract jira` holding the fixture page (one byte longer: not a
    duplicate of the page exported by hand)."""
    folder = landing / PULL
    folder.mkdir(parents=True)
    page = (FIXTURES / "jira" / "page-1.json").read_bytes() + b"\n"
    (folder / "page-0001.json").write_bytes(page)
    manifest = {
        "source": "jira",
        "scope": "https://jira.example.com project = OWH",
        "pull_id": PULL.rpartition("/")[2],
        "pulled_at": "2026-10-01T05:00:00+00:00",
        "full": False,
        "since": None,
        "issues": 5,
        "pages": 1,
        "cursor": None,
        "details": {"fields": fields or {}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def published(landing, tmp_path) -> Path:
    return publish(landing, tmp_path / "published" / "warehouse.duckdb")


def full_reload(landing: Path, path: Path):
    """What the incremental ingest must equal: the same landing loaded in full, as run-2."""
    return ingest_again(landing, path, None)[0]


def test_an_unchanged_landing_folder_is_reused_whole_with_its_lineage(landing, published, tmp_path):
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    parsed, reused = files_of(results)
    assert parsed == set()
    assert "tasks/tasks.csv" in reused and "task_status_changes/old.csv" in reused
    assert [r.full_reload_reason for r in results] == [None, None, None]
    assert sum(r.files_reused for r in results) == 10
    full = full_reload(landing, tmp_path / "full.duckdb")
    assert content(con) == content(full)
    # the warnings are those a parse gives, in the same order
    assert [r.warnings for r in results] == [
        r.warnings for r in ingest_all(full, landing, "run-3", loaded_at=LATER)
    ]
    # a reused row was loaded by the run that parsed its file
    assert con.execute("select distinct _loaded_at from raw.tasks").fetchall() == [(LOADED_AT,)]
    assert con.execute("select distinct run_id, loaded_at from raw.load_log").fetchall() == [
        ("run-1", LOADED_AT)
    ]


def test_a_changed_file_is_parsed_and_the_others_reused(landing, published, tmp_path):
    tasks = landing / "tasks" / "tasks.csv"
    tasks.write_text(tasks.read_text().replace("Ship invoice export", "Ship the invoice export"))
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    parsed, reused = files_of(results)
    assert parsed == {"tasks/tasks.csv"}
    assert len(reused) == 9
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))
    assert con.execute(
        "select distinct _loaded_at from raw.tasks where _source_file = 'tasks/tasks.csv'"
    ).fetchall() == [(LATER,)]
    assert con.execute(
        "select count(*) from raw.quarantine where source_file = 'tasks/tasks.csv' "
        "and run_id = 'run-2'"
    ).fetchall() == [(3,)]


def test_a_removed_file_loses_its_rows(landing, published, tmp_path):
    (landing / "jira" / "page-1.json").unlink()
    (landing / "kpis" / "kpis.csv").unlink()
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    assert files_of(results)[0] == set()
    assert counts(con, "tasks") == {"canonical": 3}
    assert counts(con, "task_flags") == {}
    assert con.execute("select count(*) from raw.kpis").fetchall() == [(0,)]
    assert con.execute(
        "select count(*) from raw.quarantine where source_file in "
        "('jira/page-1.json', 'kpis/kpis.csv')"
    ).fetchall() == [(0,)]
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))


def test_a_rejected_file_stays_rejected_with_the_same_quarantine_row(landing, published, tmp_path):
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    rejected = [f for r in results for f in r.files if f.status == "rejected"]
    assert [(f.source_file, f.reused) for f in rejected] == [("task_status_changes/old.csv", True)]
    quarantined = "select * from raw.quarantine where source_file = 'task_status_changes/old.csv'"
    with connect(published, read_only=True) as before:
        assert con.execute(quarantined).fetchall() == before.execute(quarantined).fetchall()
    assert any(
        w.startswith("task_status_changes/old.csv: missing required columns")
        for w in results[0].warnings
    )


@pytest.mark.parametrize("change", ["key", "code", "configuration"])
def test_a_changed_key_code_or_configuration_parses_every_file(
    change, landing, tmp_path, monkeypatch
):
    key = b"another key" if change == "key" else KEY
    published = publish(landing, tmp_path / "published" / "warehouse.duckdb", key=key)
    if change == "code":
        monkeypatch.setattr(ingest_module, "_code_fingerprint", lambda: "another version")
    if change == "configuration":
        seed = tmp_path / "status_categories.csv"
        seed.write_text("source,status,category\ngithub,Doing,in_progress\n")
        monkeypatch.setattr(ingest_module, "ADAPTER_CONFIGURATION", (seed,))
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    parsed, reused = files_of(results)
    definitions = {"kpis/kpis.csv", "outcomes/outcomes.csv", "workstreams/workstreams.csv"}
    definitions.add("workstream_rules/rules.csv")
    # the definitions hold no person: a new key leaves them reusable
    assert reused == (definitions if change == "key" else set())
    assert len(parsed | reused) == 10
    reason = {
        "key": "the pseudonym key changed since the published build",
        "code": "the ingestion code changed since the published build",
        "configuration": "the adapters' configuration (seeds/status_categories.csv) changed "
        "since the published build",
    }[change]
    expected = [reason, None, reason] if change == "key" else [reason] * 3
    assert [r.full_reload_reason for r in results] == expected
    assert con.execute("select distinct _loaded_at from raw.tasks").fetchall() == [(LATER,)]


def test_the_key_is_stored_only_as_a_keyed_fingerprint(published):
    with connect(published, read_only=True) as con:
        stored = con.execute(
            "select fingerprint from raw.ingest_state where name = 'pseudonym_key' "
            "and ingest = 'task_tracker'"
        ).fetchall()
    assert stored == [(ingest_module.ingest_fingerprints(KEY)["pseudonym_key"],)]
    assert KEY.decode() not in stored[0][0]
    assert stored[0][0] != hashlib.sha256(KEY).hexdigest()


def test_a_full_refresh_or_a_missing_build_parses_every_file(landing, published, tmp_path):
    _, refreshed = ingest_again(landing, tmp_path / "refresh.duckdb", published, full_refresh=True)
    assert files_of(refreshed)[1] == set()
    assert {r.full_reload_reason for r in refreshed} == {"a full refresh was asked for"}
    _, first = ingest_again(landing, tmp_path / "first.duckdb", tmp_path / "none.duckdb")
    assert {r.full_reload_reason for r in first} == {"nothing is published yet"}


def test_a_build_without_ingest_state_is_not_reused(landing, published, tmp_path):
    with connect(published) as con:
        con.execute("drop table raw.ingest_state")
    _, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    assert files_of(results)[1] == set()
    assert {r.full_reload_reason for r in results} == {
        "the published warehouse records no ingest state"
    }


def test_a_changed_manifest_parses_the_pages_of_its_pull_again(landing, tmp_path):
    add_pull(landing)
    published = publish(landing, tmp_path / "published" / "warehouse.duckdb")
    manifest = landing / PULL / "manifest.json"
    changed = json.loads(manifest.read_text())
    changed["details"]["fields"] = {"story_points": "customfield_99999"}
    manifest.write_text(json.dumps(changed))
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    parsed, reused = files_of(results)
    assert parsed == {f"{PULL}/page-0001.json"}
    assert "jira/page-1.json" in reused
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))


def test_a_copy_left_alone_when_its_original_goes_is_parsed(tmp_path):
    landing = make_landing(
        tmp_path / "landing",
        {"tasks/a.csv": CANONICAL / "tasks.csv", "tasks/b.csv": CANONICAL / "tasks.csv"},
    )
    published = publish(landing, tmp_path / "published" / "warehouse.duckdb")
    (landing / "tasks" / "a.csv").unlink()
    con, results = ingest_again(landing, tmp_path / "incremental.duckdb", published)
    assert files_of(results) == ({"tasks/b.csv"}, set())
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))


# A build file started from the published one (pipelines.lib.carry_over) holds its raw tables:
# the rows of the files reused stay where they are, when they are the published build's.


def started_from(published: Path, path: Path) -> Path:
    """A build file that starts as a byte copy of the published one, raw tables included."""
    shutil.copyfile(published, path)
    return path


def rows_with_rowids(con, table: str, source_file: str) -> list[tuple]:
    return con.execute(
        f"select rowid, * from raw.{table} where _source_file = ? order by rowid", [source_file]
    ).fetchall()


def test_a_started_build_keeps_the_rows_of_the_unchanged_files_where_they_are(
    landing, published, tmp_path
):
    # a changed file, and a new pull folder, whose manifest the published build does not know
    tasks = landing / "tasks" / "tasks.csv"
    tasks.write_text(tasks.read_text().replace("Ship invoice export", "Ship the invoice export"))
    add_pull(landing)
    build = started_from(published, tmp_path / "incremental.duckdb")
    con, results = ingest_again(landing, build, published)
    assert files_of(results)[0] == {"tasks/tasks.csv", f"{PULL}/page-0001.json"}
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))
    # the unchanged files' rows were neither deleted nor inserted again: same rows, same rowids
    with connect(published, read_only=True) as before:
        for table, source_file in (
            ("task_status_changes", "jira/page-1.json"),
            ("tasks", "jira/page-1.json"),
            ("kpis", "kpis/kpis.csv"),
        ):
            kept = rows_with_rowids(before, table, source_file)
            assert kept, (table, source_file)
            assert rows_with_rowids(con, table, source_file) == kept, (table, source_file)
    assert con.execute(
        "select distinct _loaded_at from raw.tasks where _source_file = 'tasks/tasks.csv'"
    ).fetchall() == [(LATER,)]


def test_rows_a_started_build_holds_from_another_parse_are_replaced(landing, published, tmp_path):
    build = started_from(published, tmp_path / "incremental.duckdb")
    with connect(build) as con:
        # the build's rows of the file came from a parse the published build does not record
        con.execute(
            "update raw.load_log set run_id = 'run-0' where source_file = 'jira/page-1.json'"
        )
        con.execute("update raw.tasks set title = 'stale' where _source_file = 'jira/page-1.json'")
    con, results = ingest_again(landing, build, published)
    assert files_of(results)[0] == set()
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))
    assert con.execute("select count(*) from raw.tasks where title = 'stale'").fetchall() == [(0,)]
    assert con.execute(
        "select distinct run_id from raw.load_log where source_file = 'jira/page-1.json'"
    ).fetchall() == [("run-1",)]


def test_a_raw_schema_of_other_code_in_a_started_build_is_made_again(
    landing, published, tmp_path, monkeypatch
):
    build = started_from(published, tmp_path / "incremental.duckdb")
    with connect(build) as con:
        con.execute("alter table raw.tasks add column obsolete varchar")
    monkeypatch.setattr(ingest_module, "_raw_schema_fingerprint", lambda: "another raw schema")
    con, results = ingest_again(landing, build, published)
    assert {r.full_reload_reason for r in results} == {
        "the raw schema changed since the published build"
    }
    columns = [row[0] for row in con.execute("describe raw.tasks").fetchall()]
    assert "obsolete" not in columns
    assert content(con) == content(full_reload(landing, tmp_path / "full.duckdb"))
