"""When a tracker ingest makes dbt build every model in full (pipelines/defs/ingest/assets.py)."""

from __future__ import annotations

import pytest

from pipelines.defs.ingest.assets import why_build_in_full
from pipelines.sources.ingest import FileLoad, IngestResult


def load(table: str, rows: int, *, reused: bool) -> FileLoad:
    return FileLoad(
        table_name=table,
        source="tasks",
        source_file=f"{table}/{'old' if reused else 'new'}.csv",
        file_hash="h",
        rows_read=rows,
        rows_loaded=rows,
        rows_quarantined=0,
        status="loaded",
        message=None,
        run_id="published-run" if reused else None,
    )


def result(reused: dict[str, int], parsed: dict[str, int]) -> IngestResult:
    """A tracker ingest that reused and parsed these rows per raw table."""
    files = [load(t, n, reused=True) for t, n in reused.items()]
    files += [load(t, n, reused=False) for t, n in parsed.items()]
    tables = {f.table_name for f in files}
    return IngestResult(
        files=files,
        rows_loaded={t: sum(f.rows_loaded for f in files if f.table_name == t) for t in tables},
        rows_quarantined={t: 0 for t in tables},
        warnings=[],
    )


def reason(share: str) -> str:
    return (
        f"the tracker files parsed again hold {share} of the raw task rows, and each of their "
        "tasks counts as changed"
    )


OLD = {"tasks": 10, "task_status_changes": 30}


@pytest.mark.parametrize(
    ("reused", "parsed", "rows_parsed", "expected"),
    [
        # 120 of 160 rows: exactly three quarters stays incremental
        (OLD, {"tasks": 40, "task_status_changes": 80}, 120, None),
        # 130 of 170 rows, 76.5 %
        (OLD, {"tasks": 50, "task_status_changes": 80}, 130, reason("76%")),
        # a first load, an upgrade of the ingestion code, one export replaced whole
        ({}, {"tasks": 3, "task_flags": 1}, 4, reason("100%")),
        # a nightly pull of 5 tasks among 1,000
        ({"tasks": 995}, {"tasks": 5}, 5, None),
        # nothing loaded at all
        ({}, {}, 0, None),
    ],
)
def test_a_build_goes_in_full_when_the_files_parsed_hold_more_than_three_quarters_of_the_rows(
    reused, parsed, rows_parsed, expected
):
    ingested = result(reused, parsed)
    assert ingested.rows_parsed == rows_parsed
    assert why_build_in_full(ingested) == expected
