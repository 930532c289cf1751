"""When a tracker ingest makes dbt build every model in full (pipelines/defs/ingest/assets.py)."""

from __future__ import annotations

from pipelines.defs.ingest.assets import why_build_in_full
from pipelines.sources.ingest import FileLoad, IngestResult


def load(table: str, source_file: str, rows: int, *, reused: bool) -> FileLoad:
    return FileLoad(
        table_name=table,
        source="tasks",
        source_file=source_file,
        file_hash="h",
        rows_read=rows,
        rows_loaded=rows,
        rows_quarantined=0,
        status="loaded",
        message=None,
        run_id="published-run" if reused else None,
    )


def result(*files: FileLoad) -> IngestResult:
    tables = {f.table_name for f in files}
    return IngestResult(
        files=list(files),
        rows_loaded={t: sum(f.rows_loaded for f in files if f.table_name == t) for t in tables},
        rows_quarantined={t: 0 for t in tables},
        warnings=[],
    )


def test_a_build_goes_in_full_when_the_files_parsed_hold_more_than_three_quarters_of_the_rows():
    reused = [
        load("tasks", "tasks/old.csv", 10, reused=True),
        load("task_status_changes", "task_status_changes/old.csv", 30, reused=True),
    ]
    # 120 of 160 rows parsed: exactly three quarters stays incremental
    at_the_line = result(
        *reused,
        load("tasks", "tasks/new.csv", 40, reused=False),
        load("task_status_changes", "task_status_changes/new.csv", 80, reused=False),
    )
    assert at_the_line.rows_parsed == 120
    assert why_build_in_full(at_the_line) is None
    # 130 of 170 rows (76.5 %)
    over = result(
        *reused,
        load("tasks", "tasks/new.csv", 50, reused=False),
        load("task_status_changes", "task_status_changes/new.csv", 80, reused=False),
    )
    assert why_build_in_full(over) == (
        "the tracker files parsed again hold 76% of the raw task rows, and each of their tasks "
        "counts as changed"
    )


def test_every_row_parsed_again_builds_in_full_and_no_row_at_all_does_not():
    everything = result(
        load("tasks", "tasks/tasks.csv", 3, reused=False),
        load("task_flags", "task_flags/flags.csv", 1, reused=False),
    )
    assert why_build_in_full(everything) == (
        "the tracker files parsed again hold 100% of the raw task rows, and each of their tasks "
        "counts as changed"
    )
    assert why_build_in_full(result()) is None
    # a nightly that parsed one small pull folder stays incremental
    nightly = result(
        load("tasks", "tasks/tasks.csv", 995, reused=True),
        load("tasks", "jira/pull-2/page-1.json", 5, reused=False),
    )
    assert why_build_in_full(nightly) is None
