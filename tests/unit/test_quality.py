"""Great Expectations suites on the raw tables: what passes, what fails, what could not run.

Each test builds a small raw table in DuckDB with the contract's columns (``create_raw_schema``),
so the suites see exactly the dtypes a real load gives them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest

from pipelines.lib import quality
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.quality import (
    DUCKDB_UNEXPECTED,
    Batch,
    expect,
    raw_table_batches,
    validate,
    validate_raw_table,
)
from pipelines.lib.raw_schema import TABLES, create_raw_schema

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture
def con(tmp_path: Path):
    with connection(tmp_path / "warehouse.duckdb") as con:
        create_raw_schema(con)
        yield con


@pytest.fixture
def gx_frame_rows(monkeypatch) -> list[int]:
    """The number of rows of every frame GX validates (GX fingerprints each one it is given)."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    rows: list[int] = []
    fingerprint = engine.hash_pandas_dataframe

    def recording(frame):
        rows.append(len(frame))
        return fingerprint(frame)

    monkeypatch.setattr(engine, "hash_pandas_dataframe", recording)
    return rows


def insert_tasks(con, rows: list[tuple]) -> None:
    con.executemany(
        """
        insert into raw.tasks (source, task_id, title, task_type, created_at, status, found_in,
            assignee, _source_file, _source_row)
        values (?, ?, ?, 'story', ?::timestamp, ?, ?, ?, ?, ?)
        """,
        rows,
    )


def log_load(
    con, table: str, rows_read: int, rows_quarantined: int, source_file: str = "jira/1.json"
) -> None:
    """A load-log row for ``source_file``, with the quarantine rows it counts."""
    con.execute(
        """
        insert into raw.load_log values ('run', ?, 'jira', ?, 'h', ?, ?, ?, 'loaded',
            null, timestamp '2026-10-31 04:30:00')
        """,
        [table, source_file, rows_read, rows_read - rows_quarantined, rows_quarantined],
    )
    quarantine(con, table, source_file, rows_quarantined)


def quarantine(con, table: str, source_file: str, rows: int) -> None:
    con.execute(
        "insert into raw.quarantine select 'run', ?, 'jira', ?, range + 1, null, 'bad', null, "
        "timestamp '2026-10-31 04:30:00' from range(?)",
        [table, source_file, rows],
    )


def insert_generated_tasks(con, source_file: str, count: int) -> None:
    con.execute(
        "insert into raw.tasks (source, task_id, title, task_type, created_at, status, "
        "_source_file, _source_row) select 'jira', ? || '-' || range, 'T', 'story', "
        "timestamp '2026-10-01 09:00', 'Done', ?, range + 1 from range(?)",
        [source_file, source_file, count],
    )


def validate_loaded(con, table: str, **options):
    """``validate_raw_table`` after logging, as fully loaded, every file of ``table`` that the
    load log does not know yet: for the tests of the other expectations, every row is accounted
    for (``test_every_row_of_every_file_is_accounted_for`` tests the accounting)."""
    con.execute(
        f"""
        insert into raw.load_log
        select 'run', ?, 'jira', _source_file, 'h', count(*), count(*), 0, 'loaded', null,
            timestamp '2026-10-31 04:30:00'
        from {TABLES[table].qualified_name}
        where _source_file not in (select source_file from raw.load_log where table_name = ?)
        group by _source_file
        """,
        [table, table],
    )
    return validate_raw_table(con, table, as_of=AS_OF, **options)


def failed(result) -> dict[str, tuple[int | None, int | None]]:
    return {o.expectation: (o.unexpected_count, o.element_count) for o in result.failures}


def test_a_clean_table_passes_every_expectation_of_its_contract(con):
    insert_tasks(
        con,
        [
            ("jira", "A-1", "One", "2026-10-01 09:00", "Done", None, "p1", "jira/1.json", 1),
            (
                "jira",
                "A-2",
                "Two",
                "2026-10-02 09:00",
                "To Do",
                "production",
                None,
                "jira/1.json",
                2,
            ),
        ],
    )
    log_load(con, "tasks", 2, 0)
    result = validate_raw_table(con, "tasks", as_of=AS_OF, previous_rows=2)
    assert result.passed
    assert [(o.batch, o.expectation) for o in result.outcomes] == [
        ("tasks", "expect_column_values_to_not_be_null(source)"),
        ("tasks", "expect_column_values_to_not_be_null(task_id)"),
        ("tasks", "expect_column_values_to_not_be_null(title)"),
        ("tasks", "expect_column_values_to_not_be_null(task_type)"),
        ("tasks", "expect_column_values_to_not_be_null(created_at)"),
        ("tasks", "expect_column_values_to_be_between(created_at)"),
        ("tasks", "expect_column_values_to_not_be_null(status)"),
        ("tasks", "expect_column_values_to_be_in_set(found_in)"),
        ("tasks", "expect_column_values_to_be_between(updated_at)"),
        ("tasks: row count", "expect_column_values_to_be_between(rows)"),
        (
            "tasks: distinct rows per file",
            "expect_compound_columns_to_be_unique(source, task_id, _source_file)",
        ),
        ("tasks: load log", "expect_column_values_to_be_between(quarantined_share)"),
        *(
            ("tasks: rows of each file accounted for", f"expect_column_values_to_be_between({c})")
            for c in (
                "read_minus_loaded_and_quarantined",
                "table_rows_minus_loaded",
                "quarantine_rows_minus_quarantined",
            )
        ),
    ]
    assert result.summary() == "raw.tasks: 15 expectations passed"


def test_bad_rows_fail_the_expectations_they_break_with_counts(con):
    insert_tasks(
        con,
        [
            ("jira", "A-1", "One", "2026-10-01 09:00", "Done", None, None, "jira/1.json", 1),
            # the same key in the same file with other content: a conflict
            ("jira", "A-1", "One again", "2026-10-01 09:00", "Done", None, None, "jira/1.json", 2),
            # the same row re-sent by a later file: a correction, not a conflict
            ("jira", "A-2", "Two", "2026-10-02 09:00", "Done", None, None, "jira/1.json", 3),
            ("jira", "A-2", "Two", "2026-10-02 09:00", "Done", None, None, "jira/2.json", 1),
            # no status, created in the future, an unknown bug origin
            ("jira", "A-3", "Three", "2027-01-01 09:00", None, "staging", None, "jira/2.json", 2),
            ("jira", None, "No id", "1999-12-31 09:00", "Done", None, None, "jira/2.json", 3),
        ],
    )
    result = validate_loaded(con, "tasks")
    assert not result.passed
    assert result.errors == []
    assert failed(result) == {
        "expect_column_values_to_not_be_null(task_id)": (1, 6),
        "expect_column_values_to_be_between(created_at)": (2, 6),
        "expect_column_values_to_not_be_null(status)": (1, 6),
        "expect_column_values_to_be_in_set(found_in)": (1, 6),
        # A-1 twice in jira/1.json; A-2 once in each of two files is fine
        "expect_compound_columns_to_be_unique(source, task_id, _source_file)": (2, 6),
    }
    assert result.summary() == "raw.tasks: 5 of 14 failed"  # no volume bound on a first load


def test_volume_must_stay_within_the_bounds_of_the_last_published_load(con):
    insert_tasks(
        con,
        [
            ("jira", f"A-{n}", "T", "2026-10-01 09:00", "Done", None, None, "jira/1.json", n)
            for n in range(1, 11)
        ],
    )
    volume = "expect_column_values_to_be_between(rows)"
    # 10 rows against 100 last time: under 40%
    short = validate_loaded(con, "tasks", previous_rows=100)
    assert [(o.expectation, o.observed) for o in short.failures] == [(volume, 10)]
    # 10 rows against 2 last time: over 4 times
    assert [o.expectation for o in validate_loaded(con, "tasks", previous_rows=2).failures] == [
        volume
    ]
    # exactly on both bounds: 10 >= ceil(0.4 * 25) and 10 <= floor(4 * 2.5)
    assert validate_loaded(con, "tasks", previous_rows=25).passed
    # a first load has no bound
    first = validate_loaded(con, "tasks", previous_rows=None)
    assert first.passed
    assert volume not in {o.expectation for o in first.outcomes}


def test_too_many_quarantined_rows_fail_the_table(con):
    insert_generated_tasks(con, "jira/1.json", 99)
    log_load(con, "tasks", rows_read=100, rows_quarantined=1)
    assert validate_raw_table(con, "tasks", as_of=AS_OF).passed  # 1% is the limit
    insert_generated_tasks(con, "jira/2.json", 98)
    log_load(con, "tasks", rows_read=100, rows_quarantined=2, source_file="jira/2.json")
    # now 3 of 200
    assert failed(validate_raw_table(con, "tasks", as_of=AS_OF)) == {
        "expect_column_values_to_be_between(quarantined_share)": (1, 1)
    }


def test_every_row_of_every_file_is_accounted_for(con):
    """Per file: rows read = loaded + quarantined in the log, and the log matches the tables."""
    # (enough rows that the quarantined share stays under its limit throughout)
    insert_generated_tasks(con, "jira/1.json", 300)
    log_load(con, "tasks", rows_read=301, rows_quarantined=1)
    assert validate_raw_table(con, "tasks", as_of=AS_OF).passed

    # a row lost between the log and the raw table (2.json), rows of a file the log does not
    # know (3.json), a log whose own counts do not add up (4.json), a quarantined row that is
    # not in the quarantine (5.json)
    insert_generated_tasks(con, "jira/2.json", 4)
    log_load(con, "tasks", rows_read=5, rows_quarantined=0, source_file="jira/2.json")
    insert_generated_tasks(con, "jira/3.json", 2)
    insert_generated_tasks(con, "jira/4.json", 3)
    con.execute(
        "insert into raw.load_log values ('run', 'tasks', 'jira', 'jira/4.json', 'h', 5, 3, 0, "
        "'loaded', null, timestamp '2026-10-31 04:30:00')"
    )
    insert_generated_tasks(con, "jira/5.json", 3)
    con.execute(
        "insert into raw.load_log values ('run', 'tasks', 'jira', 'jira/5.json', 'h', 4, 3, 1, "
        "'loaded', null, timestamp '2026-10-31 04:30:00')"
    )

    assert failed(validate_raw_table(con, "tasks", as_of=AS_OF)) == {
        # files whose differences are not 0, of the 5 files seen
        "expect_column_values_to_be_between(read_minus_loaded_and_quarantined)": (1, 5),
        "expect_column_values_to_be_between(table_rows_minus_loaded)": (2, 5),
        "expect_column_values_to_be_between(quarantine_rows_minus_quarantined)": (1, 5),
    }


def test_kpi_observations_carry_one_unit_per_kpi_and_numeric_values(con):
    con.executemany(
        """
        insert into raw.kpi_observations (kpi_id, observed_on, value, unit, segment,
            _source_file, _source_row)
        values (?, ?::date, ?, ?, null, 'kpi_observations/k.csv', ?)
        """,
        [
            ("K1", "2026-10-01", 1.0, "days", 1),
            ("K1", "2026-10-02", 2.0, "hours", 2),
            ("K2", "2026-10-01", 3.0, "%", 3),
            ("K2", "2026-10-02", 4.0, None, 4),
        ],
    )
    result = validate_loaded(con, "kpi_observations")
    assert failed(result) == {"expect_column_values_to_be_unique(kpi_id)": (2, 3)}
    assert [o.batch for o in result.failures] == ["kpi_observations: units per KPI"]
    # no type expectation: raw.kpi_observations.value is a DOUBLE column, and the loader rejects a
    # value that is not a finite number, so an expectation on its type could never fail
    assert not [o for o in result.outcomes if "to_be_of_type" in o.expectation]


def test_allowed_values_and_ranges_of_the_business_definitions(con):
    con.execute(
        """
        insert into raw.kpis (kpi_id, name, unit, area, aggregation, direction, cadence_days,
            _source_file, _source_row)
        values ('K1', 'One', 'days', 'business', 'avg', 'decrease', 1, 'kpis/k.csv', 1),
               ('K2', 'Two', '%', 'marketing', 'median', 'up', 0, 'kpis/k.csv', 2)
        """
    )
    con.execute(
        """
        insert into raw.confidence_surveys (outcome_id, answered_on, dimension, score,
            _source_file, _source_row)
        values ('O-1', date '2026-10-05', 'readiness', 5, 's.csv', 1),
               ('O-1', date '2026-10-05', 'mood', 6, 's.csv', 2)
        """
    )
    assert failed(validate_loaded(con, "kpis")) == {
        "expect_column_values_to_be_in_set(area)": (1, 2),
        "expect_column_values_to_be_in_set(aggregation)": (1, 2),
        "expect_column_values_to_be_in_set(direction)": (1, 2),
        "expect_column_values_to_be_between(cadence_days)": (1, 2),
    }
    assert failed(validate_loaded(con, "confidence_surveys")) == {
        "expect_column_values_to_be_in_set(dimension)": (1, 2),
        "expect_column_values_to_be_between(score)": (1, 2),
    }


def test_an_expectation_that_raised_is_an_error_never_a_pass():
    frame = pd.DataFrame({"task_id": ["A-1"]})
    result = validate(
        "tasks",
        [
            Batch(
                "tasks",
                frame,
                [
                    expect("ExpectColumnValuesToNotBeNull", column="task_id"),
                    expect("ExpectColumnValuesToNotBeNull", column="status"),
                ],
            )
        ],
    )
    assert not result.passed
    assert result.failures == []
    assert [(o.expectation, o.error) for o in result.errors] == [
        (
            "expect_column_values_to_not_be_null(status)",
            'Error: The column "status" in BatchData does not exist.',
        )
    ]
    assert result.summary() == "raw.tasks: 1 expectation(s) could not run; 0 failed"


def test_a_table_missing_a_contract_column_cannot_pass(con):
    con.execute("drop table raw.tasks")
    con.execute("create table raw.tasks as select 'jira' as source, 'jira/1.json' as _source_file")
    result = validate("tasks", raw_table_batches(con, TABLES["tasks"], as_of=AS_OF))
    assert not result.passed
    assert {o.expectation for o in result.errors} >= {
        "expect_column_values_to_not_be_null(task_id)",
        "expect_compound_columns_to_be_unique(source, task_id, _source_file)",
    }


def test_results_carry_counts_never_values(con):
    secret = "ann.example@corp.example.com"
    insert_tasks(
        con,
        [
            ("jira", "A-1", secret, "2026-10-01 09:00", None, secret, secret, "jira/1.json", 1),
            ("jira", "A-1", "x", "2026-10-01 09:00", None, secret, secret, "jira/1.json", 2),
        ],
    )
    result = validate_loaded(con, "tasks")
    assert not result.passed
    text = json.dumps([asdict(o) for o in result.outcomes]) + result.markdown()
    assert secret not in text
    assert "A-1" not in text


def test_planned_dates_may_lie_ahead_but_events_may_not(con):
    con.execute(
        """
        insert into raw.outcomes (outcome_id, statement, kpi_id, baseline_value, baseline_on,
            target_value, target_on, _source_file, _source_row)
        values ('O-1', 'Faster', 'K1', 5, date '2026-11-15', 2, date '2027-06-30', 'o.csv', 1),
               ('O-2', 'Far', 'K1', 5, date '2026-01-01', 2, date '2047-01-01', 'o.csv', 2)
        """
    )
    # a baseline two weeks after as_of and a target eight months after it are plans; a target
    # more than 20 years ahead is not
    assert failed(validate_loaded(con, "outcomes")) == {
        "expect_column_values_to_be_between(target_on)": (1, 2)
    }


def test_gx_sees_frames_that_do_not_grow_with_a_clean_table(con, gx_frame_rows):
    insert_generated_tasks(con, "jira/1.json", 5_000)
    result = validate_loaded(con, "tasks", previous_rows=5_000)
    assert result.passed
    # every expectation on the table still counts all of its rows
    assert {o.element_count for o in result.outcomes if o.batch == "tasks"} == {5_000}
    # one row per kind of value, the least and greatest date, one file, one load log
    assert gx_frame_rows and max(gx_frame_rows) == 2


def test_a_large_reduced_frame_is_validated_in_chunks_with_exact_counts(
    con, gx_frame_rows, monkeypatch
):
    monkeypatch.setattr(quality, "CHUNK_ROWS", 2_048)
    # 6,000 rows: 5,000 distinct unknown bug origins, 3,000 distinct creation times in the
    # future, 2,500 keys twice with other titles, and every seventh status missing
    con.execute(
        """
        insert into raw.tasks (source, task_id, title, task_type, created_at, status, found_in,
            _source_file, _source_row)
        select 'jira',
            'A-' || case when range < 5000 then range // 2 else range end,
            'T' || range,
            'story',
            case when range < 3000 then timestamp '2030-01-01' + to_seconds(range)
                else timestamp '2026-10-01' end,
            case when range % 7 = 0 then null else 'Done' end,
            case when range < 5000 then 'origin-' || range else 'production' end,
            'jira/1.json',
            range + 1
        from range(6000)
        """
    )
    assert failed(validate_loaded(con, "tasks")) == {
        "expect_column_values_to_be_between(created_at)": (3_000, 6_000),
        "expect_column_values_to_not_be_null(status)": (858, 6_000),
        "expect_column_values_to_be_in_set(found_in)": (5_000, 6_000),
        "expect_compound_columns_to_be_unique(source, task_id, _source_file)": (5_000, 6_000),
    }
    assert max(gx_frame_rows) <= 2_048


def test_a_reduced_frame_counts_the_rows_its_values_stand_for():
    def not_null(unexpected: list[bool]):
        frame = pd.DataFrame(
            {"status": ["Done", None], "_rows": [5, 2], DUCKDB_UNEXPECTED: unexpected}
        )
        expectation = expect("ExpectColumnValuesToNotBeNull", column="status")
        return validate("tasks", [Batch("tasks", frame, [expectation], weights="_rows")])

    assert failed(not_null([False, True])) == {
        "expect_column_values_to_not_be_null(status)": (2, 7)
    }
    # DuckDB and GX disagree about a row: the reduction lost the expectation's meaning
    disagreeing = not_null([False, False])
    assert disagreeing.failures == []
    assert [(o.expectation, o.error) for o in disagreeing.errors] == [
        (
            "expect_column_values_to_not_be_null(status)",
            "Great Expectations flagged 1 and DuckDB 0 of 2 reduced rows",
        )
    ]
