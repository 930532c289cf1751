"""Check results: failed dbt checks carry their stored failing rows, a failed Great Expectations
suite its failed expectations, and ``owh run`` prints them."""

from __future__ import annotations

import types
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from pipelines.defs.checks import (
    attach_failing_rows,
    failing_rows_of,
    suite_check_result,
    with_failing_rows,
)
from pipelines.lib.dbt_project import ensure_manifest
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.failing_rows import markdown_table, read_failing_rows, stored_failures_tables
from pipelines.lib.quality import ExpectationOutcome, SuiteResult
from pipelines.runner import RunSummary, _report, check_report

UNMAPPED_ID = "test.outcome_warehouse.assert_every_status_is_mapped"
GENERIC_ID = "test.outcome_warehouse.not_null_int_task_statuses_mapped_status_category.2fe0159d0b"
STORED = {UNMAPPED_ID: ("audit", "assert_every_status_is_mapped")}

UNMAPPED_TABLE = """
create schema audit;
create table audit.assert_every_status_is_mapped (
    source varchar, project varchar, status varchar, seen_as varchar, row_count bigint,
    example_task_id varchar, example_source_file varchar, author varchar
);
insert into audit.assert_every_status_is_mapped values
    ('jira', 'PAY', 'Parked', 'to_status', 2, 'PAY-1', 'jira/page-2.json', 'person_1'),
    ('jira', 'ONB', 'On Hold', 'current_status', 1, 'ONB-1', 'jira/page-1.json', 'person_2'),
    ('linear', null, 'QA | hold', 'from_status', 3, 'GRO-7', 'task_status_changes/a.csv',
     'person_3');
"""

# Rows in the order of all their values; the author column is never shown.
UNMAPPED_MARKDOWN = "\n".join(
    [
        "| source | project | status     | seen_as        | row_count | example_task_id "
        "| example_source_file       |",
        "| ------ | ------- | ---------- | -------------- | --------- | --------------- "
        "| ------------------------- |",
        "| jira   | ONB     | On Hold    | current_status | 1         | ONB-1           "
        "| jira/page-1.json          |",
        "| jira   | PAY     | Parked     | to_status      | 2         | PAY-1           "
        "| jira/page-2.json          |",
        "| linear |         | QA \\| hold | from_status    | 3         | GRO-7           "
        "| task_status_changes/a.csv |",
    ]
)


@pytest.fixture
def audit_file(tmp_path) -> Path:
    path = tmp_path / "build.duckdb"
    with connection(path) as con:
        con.execute(UNMAPPED_TABLE)
    return path


def failed_check(unique_id: str, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        asset_key=dg.AssetKey(["intermediate", "int_task_statuses_mapped"]),
        check_name=unique_id.split(".")[2],
        metadata={"unique_id": unique_id, **metadata},
    )


def test_markdown_table_pads_cells_and_escapes_bars():
    table = markdown_table(["a", "status"], [(1, "In\nProgress"), (None, "x|y")])
    assert table == "\n".join(
        [
            "| a   | status      |",
            "| --- | ----------- |",
            "| 1   | In Progress |",
            "|     | x\\|y        |",
        ]
    )


def test_read_failing_rows_orders_rows_limits_them_and_leaves_out_person_columns(audit_file):
    columns, rows = read_failing_rows(audit_file, "audit", "assert_every_status_is_mapped", limit=2)
    assert columns == [
        "source",
        "project",
        "status",
        "seen_as",
        "row_count",
        "example_task_id",
        "example_source_file",
    ]
    assert rows == [
        ("jira", "ONB", "On Hold", "current_status", 1, "ONB-1", "jira/page-1.json"),
        ("jira", "PAY", "Parked", "to_status", 2, "PAY-1", "jira/page-2.json"),
    ]


def test_failed_check_gets_its_stored_rows_as_markdown(audit_file):
    check = failed_check(UNMAPPED_ID, **{"dagster_dbt/failed_row_count": 3})
    enriched = with_failing_rows(check, audit_file, STORED)
    assert enriched.passed is False
    assert enriched.check_name == "assert_every_status_is_mapped"
    assert enriched.metadata["failing_rows"] == dg.MetadataValue.md(UNMAPPED_MARKDOWN)
    assert enriched.metadata["failing_rows_shown"] == dg.MetadataValue.int(3)
    assert enriched.metadata["failing_rows_table"] == dg.MetadataValue.text(
        "audit.assert_every_status_is_mapped"
    )
    assert enriched.metadata["dagster_dbt/failed_row_count"] == dg.MetadataValue.int(3)
    assert "person_" not in enriched.metadata["failing_rows"].value


def test_check_without_stored_rows_is_unchanged(audit_file):
    check = failed_check(GENERIC_ID)
    assert with_failing_rows(check, audit_file, STORED) is check


def test_unreadable_audit_table_adds_a_note_instead_of_failing(tmp_path):
    path = tmp_path / "empty.duckdb"
    with connection(path):
        pass
    enriched = with_failing_rows(failed_check(UNMAPPED_ID), path, STORED)
    assert "failing_rows" not in enriched.metadata
    note = enriched.metadata["failing_rows_error"].value
    assert note.startswith(
        "failing rows could not be read from audit.assert_every_status_is_mapped"
    )


def test_failed_checks_are_held_back_until_dbt_has_released_the_file(audit_file):
    """While dbt's stream runs, the file is open for writing (here, in this process): reading it
    then would fail. The failed check comes after the stream, with its rows, then dbt's error."""
    passed = dg.AssetCheckResult(
        passed=True,
        asset_key=dg.AssetKey(["intermediate", "int_task_statuses_mapped"]),
        check_name="unique_int_task_statuses_mapped",
        metadata={"unique_id": "test.outcome_warehouse.unique_int_task_statuses_mapped"},
    )
    generic = failed_check(GENERIC_ID)
    stored = failed_check(UNMAPPED_ID)
    output = dg.Output(None, output_name="int_task_statuses_mapped")

    def dbt_stream():
        writer = connection(audit_file)
        writer.__enter__()
        try:
            yield output
            yield stored
            yield generic
            yield passed
        finally:
            writer.__exit__(None, None, None)
        raise DagsterDbtCliRuntimeError("dbt build failed")

    events = attach_failing_rows(dbt_stream(), audit_file, {"nodes": manifest_nodes()})
    received = []
    with pytest.raises(DagsterDbtCliRuntimeError, match="dbt build failed"):
        for event in events:
            received.append(event)
    assert received[:3] == [output, generic, passed]
    assert len(received) == 4
    assert received[3].check_name == "assert_every_status_is_mapped"
    assert received[3].metadata["failing_rows"] == dg.MetadataValue.md(UNMAPPED_MARKDOWN)


def manifest_nodes() -> dict[str, dict]:
    """The part of a dbt manifest that says which tests store failing rows, and where."""
    return {
        UNMAPPED_ID: {
            "resource_type": "test",
            "schema": "audit",
            "alias": "assert_every_status_is_mapped",
            "relation_name": '"warehouse"."audit"."assert_every_status_is_mapped"',
        },
        GENERIC_ID: {
            "resource_type": "test",
            "schema": "dbt_test__audit",
            "alias": "not_null_int_task_statuses_mapped_status_category",
            "relation_name": None,
        },
        "model.outcome_warehouse.int_task_statuses_mapped": {
            "resource_type": "model",
            "schema": "intermediate",
            "alias": "int_task_statuses_mapped",
            "relation_name": '"warehouse"."intermediate"."int_task_statuses_mapped"',
        },
    }


def test_only_tests_that_store_failures_are_listed():
    assert stored_failures_tables({"nodes": manifest_nodes()}) == STORED


def test_the_project_stores_singular_test_failures_in_audit():
    import json

    manifest = json.loads(ensure_manifest().read_text())
    stored = stored_failures_tables(manifest)
    for name in ("assert_every_status_is_mapped", "assert_transitions_loaded_match_source_files"):
        assert stored[f"test.outcome_warehouse.{name}"] == ("audit", name)
    assert GENERIC_ID not in stored


def test_check_report_puts_rows_under_the_check_name():
    assert check_report("a:b", None) == "a:b"
    assert check_report("a:b", "| x |\n| - |\n| 1 |") == (
        "a:b\n      | x |\n      | - |\n      | 1 |"
    )


def test_runner_reports_a_failed_check_with_its_rows():
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["intermediate", "int_task_statuses_mapped"]),
        check_name="assert_every_status_is_mapped",
        passed=False,
        metadata={"failing_rows": dg.MetadataValue.md("| status |\n| ------ |\n| Parked |")},
        severity=dg.AssetCheckSeverity.ERROR,
    )
    entry = types.SimpleNamespace(
        dagster_event=types.SimpleNamespace(
            event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, event_specific_data=evaluation
        )
    )
    summary = RunSummary(run_id="r", success=False)
    printed: list[tuple[str, str]] = []
    _report(entry, summary, lambda kind, text: printed.append((kind, text)))
    name = "intermediate/int_task_statuses_mapped:assert_every_status_is_mapped"
    assert summary.failed_checks == [name]
    assert summary.failing_rows == {name: "| status |\n| ------ |\n| Parked |"}
    assert printed == [
        ("check_error", f"{name}\n      | status |\n      | ------ |\n      | Parked |")
    ]


def test_a_failed_suite_is_a_blocking_check_with_counts_and_its_failed_expectations():
    result = SuiteResult(
        table="kpis",
        outcomes=(
            ExpectationOutcome("kpis", "expect_column_values_to_not_be_null(kpi_id)", True, 9, 0),
            ExpectationOutcome("kpis", "expect_column_values_to_be_in_set(area)", False, 9, 1),
        ),
    )
    check = suite_check_result(result, previous_rows=None)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description == "raw.kpis: 1 of 2 failed"
    assert check.metadata["expectations"] == dg.MetadataValue.int(2)
    assert check.metadata["failed"] == dg.MetadataValue.int(1)
    assert check.metadata["could_not_run"] == dg.MetadataValue.int(0)
    assert check.metadata["previous_rows"] == dg.MetadataValue.text("no published load")
    shown = failing_rows_of(check.metadata)
    assert shown == result.markdown()
    assert "| kpis | expect_column_values_to_be_in_set(area) | 1 | 9 |  |" in shown


def test_a_passed_suite_shows_no_failing_rows():
    outcome = ExpectationOutcome("kpis", "expect_column_values_to_not_be_null(kpi_id)", True, 9, 0)
    check = suite_check_result(SuiteResult("kpis", (outcome,)), previous_rows=120)
    assert check.passed
    assert check.metadata["previous_rows"] == dg.MetadataValue.int(120)
    assert failing_rows_of(check.metadata) is None
