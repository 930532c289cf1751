"""The history-consistency checks fail on a broken copy of the demo warehouse and say what broke.

Each test copies the published demo warehouse, breaks it the way a bad export or a lost row
would, runs the one dbt test against the copy and reads the failing rows the test stored in
schema ``audit``. The hand-checked Jira page (``jira/zz-hand-checked.json``: HAND-1 with three
transitions, HAND-2 with four, HAND-3 with none, all in project PAY) gives known counts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from pipelines.lib.dbt_project import ensure_manifest
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.failing_rows import read_failing_rows

from .conftest import published, run_dbt

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

HAND_FILE = "jira/zz-hand-checked.json"
CANONICAL_FILE = "task_status_changes/linear-status-changes.csv"

INSERT_TRANSITION = """
insert into raw.task_status_changes by name
select
    ? as source, ? as task_id, cast(? as timestamp) as changed_at, ? as to_status,
    ? as from_status, ? as sequence, ? as _source, ? as _source_file, ? as _source_row
"""


@pytest.fixture(scope="module")
def dbt_workdir(tmp_path_factory) -> Path:
    """One folder for every test of the module: the warehouse copy keeps the same path, so dbt's
    profile does not change between tests and its second parse is a partial one."""
    return tmp_path_factory.mktemp("history_checks")


@pytest.fixture
def warehouse_copy(demo_run, dbt_workdir) -> Path:
    """A fresh writable copy of the published demo warehouse (the file name views are bound to)."""
    _, warehouse, summary = demo_run
    assert summary.success, summary.errors
    copy = dbt_workdir / "db" / "warehouse.duckdb"
    copy.parent.mkdir(exist_ok=True)
    # a log left by an earlier test that stopped half-way must not be replayed onto the copy
    copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    shutil.copy(published(warehouse), copy)
    return copy


def test_the_demo_run_passed_both_checks_with_nothing_stored(demo_run):
    _, warehouse, _ = demo_run
    with connection(published(warehouse), read_only=True) as con:
        for table in (
            "assert_every_status_is_mapped",
            "assert_transitions_loaded_match_source_files",
        ):
            assert con.execute(f"select count(*) from audit.{table}").fetchone() == (0,)


def test_every_status_is_mapped_lists_each_unmapped_status_where_it_was_seen(warehouse_copy):
    with connection(warehouse_copy) as con:
        gro_task, data_task = (
            con.execute(
                "select min(task_id) from raw.tasks where source = 'linear' and project = ?",
                [project],
            ).fetchone()[0]
            for project in ("GRO", "DATA")
        )
        for row in [
            # unmapped to-status from a mapped one, twice in PAY (in the page that holds the
            # tasks: a Jira page carries each task with its whole history)
            ("jira", "HAND-1", "2026-10-01", "Parked", "Done", 4, "jira", HAND_FILE, 11),
            ("jira", "HAND-2", "2026-10-01", "Parked", None, 5, "jira", HAND_FILE, 12),
            # unmapped from-status (with a trailing space: the staging model trims it)
            ("jira", "HAND-2", "2026-10-02", "Done", "Parked ", 6, "jira", HAND_FILE, 13),
            # mapped for linear GRO only, by a project-specific seed row added below
            ("linear", gro_task, "2026-10-01", "Parked", None, None, "canonical", "x.csv", 1),
            # mapped ignoring case and surrounding spaces; no from-status is nothing to map
            ("linear", data_task, "2026-10-01", " DOING ", None, None, "canonical", "x.csv", 2),
        ]:
            con.execute(INSERT_TRANSITION, list(row))
        con.execute("update raw.tasks set status = 'On Hold' where task_id = 'HAND-3'")
        con.execute(
            "insert into config.status_categories by name select 'linear' as source, "
            "'GRO' as project, 'Parked' as status, 'waiting' as category"
        )

    # the tracker's staging tables take the new rows, the mapping model the new seed row;
    # nothing else runs
    result = run_dbt(
        warehouse_copy,
        "build",
        "--select",
        "stg_tracker__tasks stg_tracker__task_status_changes int_task_statuses_mapped "
        "assert_every_status_is_mapped",
        "--indirect-selection",
        "empty",
    )

    assert result.returncode == 1, result.stdout
    assert "FAIL 3 assert_every_status_is_mapped" in result.stdout
    columns, rows = read_failing_rows(warehouse_copy, "audit", "assert_every_status_is_mapped")
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
        ("jira", "PAY", "On Hold", "current_status", 1, "HAND-3", HAND_FILE),
        ("jira", "PAY", "Parked", "from_status", 1, "HAND-2", HAND_FILE),
        ("jira", "PAY", "Parked", "to_status", 2, "HAND-1", HAND_FILE),
    ]


def test_transitions_loaded_match_source_files_names_each_file_that_lost_one(warehouse_copy):
    with connection(warehouse_copy) as con:
        # the hand-checked page read 7 transitions; now the log says 10 were read: 8 loaded
        # (one of a task missing from the extract) and 2 quarantined
        con.execute(
            INSERT_TRANSITION,
            ["jira", "GHOST-1", "2026-10-01", "Done", None, 1, "jira", HAND_FILE, 9],
        )
        for table_name in ("task_status_changes", "task_status_changes", "tasks"):
            con.execute(
                "insert into raw.quarantine by name select 'run' as run_id, ? as table_name, "
                "'jira' as source, ? as source_file, 3 as source_row, 'bad' as reason, "
                "timestamp '2026-10-31' as quarantined_at",
                [table_name, HAND_FILE],
            )
        con.execute(
            "update raw.load_log set rows_read = 10, rows_loaded = 8, rows_quarantined = 2 "
            "where table_name = 'task_status_changes' and source_file = ?",
            [HAND_FILE],
        )
        # then one loaded transition goes missing from raw (HAND-2's reopen, Done -> In Progress):
        # 7 in raw + 2 quarantined = 9 of 10; the mapped model, built before, still has all 7
        # of the page's transitions of known tasks while the staging table, rebuilt, keeps 6
        con.execute("delete from raw.task_status_changes where task_id = 'HAND-2' and sequence = 3")
        # and one canonical transition goes missing between staging and the mapped model
        canonical_count = con.execute(
            "select count(*) from intermediate.int_status_changes_mapped where source_file = ?",
            [CANONICAL_FILE],
        ).fetchone()[0]
        con.execute(
            "delete from intermediate.int_status_changes_mapped "
            "where source_file = ? and transition_index = 1 and task_id = ("
            "select min(task_id) from intermediate.int_status_changes_mapped "
            "where source_file = ?)",
            [CANONICAL_FILE, CANONICAL_FILE],
        )

    result = run_dbt(
        warehouse_copy,
        "build",
        "--indirect-selection",
        "empty",
        "--select",
        "stg_tracker__task_status_changes",
        "assert_transitions_loaded_match_source_files",
    )

    assert result.returncode == 1, result.stdout
    assert "FAIL 3 assert_transitions_loaded_match_source_files" in result.stdout
    columns, rows = read_failing_rows(
        warehouse_copy, "audit", "assert_transitions_loaded_match_source_files"
    )
    assert columns == [
        "source_file",
        "checked_table",
        "expected_transitions",
        "found_transitions",
        "found_quarantined",
    ]
    assert rows == [
        (HAND_FILE, "int_status_changes_mapped", 6, 7, None),
        (HAND_FILE, "raw.task_status_changes", 10, 9, 2),
        (CANONICAL_FILE, "int_status_changes_mapped", canonical_count, canonical_count - 1, None),
    ]


def test_every_outcome_has_an_observation_at_its_baseline_names_each_unmeasured_baseline(
    warehouse_copy,
):
    with connection(warehouse_copy) as con:
        # four outcomes, each with a KPI of its own and daily observations from its baseline on
        outcomes = con.execute(
            "select outcome_id, kpi_id, cast(baseline_on as date), cadence_days "
            "from marts.dim_outcomes join marts.dim_kpis using (kpi_id) "
            "where kpi_id in "
            "(select kpi_id from marts.dim_outcomes group by 1 having count(*) = 1) "
            "order by outcome_id limit 4"
        ).fetchall()
        (gone, _, _, _), (edge, _, _, _), (early, _, _, _), (future, _, _, _) = outcomes
        cadence = {outcome: days for outcome, _, _, days in outcomes}
        kpi = {outcome: kpi_id for outcome, kpi_id, _, _ in outcomes}
        baseline = {outcome: on for outcome, _, on, _ in outcomes}

        def delete_observations(outcome, first, last):
            con.execute(
                "delete from raw.kpi_observations where kpi_id = ? and observed_on between ? and ?",
                [kpi[outcome], first, last],
            )

        def add_observation(outcome, on):
            con.execute(
                "insert into raw.kpi_observations by name select ? as kpi_id, "
                "cast(? as date) as observed_on, 1.0 as value, 'days' as unit, "
                "'canonical' as _source, 'x.csv' as _source_file, 1 as _source_row",
                [kpi[outcome], on],
            )

        first_after = {
            outcome: con.execute(
                "select min(observed_on) from raw.kpi_observations "
                "where kpi_id = ? and observed_on > ?",
                [kpi[outcome], baseline[outcome]],
            ).fetchone()[0]
            for outcome in (gone, early)
        }
        # no observation in the cadence up to the baseline: fails
        delete_observations(gone, baseline[gone] - dt.timedelta(days=cadence[gone]), baseline[gone])
        # the only observation exactly one cadence before the baseline: the edge still counts
        delete_observations(edge, baseline[edge], baseline[edge])
        add_observation(edge, baseline[edge] - dt.timedelta(days=cadence[edge]))
        # the only earlier observation one day beyond the cadence: fails, and is named
        too_early = baseline[early] - dt.timedelta(days=cadence[early] + 1)
        delete_observations(early, baseline[early], baseline[early])
        add_observation(early, too_early)
        # a baseline after the reporting date is not judged yet
        con.execute(
            "update raw.outcomes set baseline_on = '2026-11-15' where outcome_id = ?", [future]
        )
        con.execute(
            "delete from raw.kpi_observations where kpi_id = ? and observed_on >= '2026-10-01'",
            [kpi[future]],
        )

    result = run_dbt(
        warehouse_copy,
        "build",
        "--select",
        "dim_kpis dim_outcomes fct_kpi_observations "
        "assert_every_outcome_has_an_observation_at_its_baseline",
        "--indirect-selection",
        "empty",
    )

    assert result.returncode == 1, result.stdout
    assert "FAIL 2 assert_every_outcome_has_an_observation_at_its_baseline" in result.stdout
    columns, rows = read_failing_rows(
        warehouse_copy, "audit", "assert_every_outcome_has_an_observation_at_its_baseline"
    )
    assert columns == [
        "outcome_id",
        "kpi_id",
        "baseline_on",
        "cadence_days",
        "last_observed_before",
        "first_observed_after",
    ]
    assert rows == [
        (gone, kpi[gone], baseline[gone], cadence[gone], None, first_after[gone]),
        (early, kpi[early], baseline[early], cadence[early], too_early, first_after[early]),
    ]


def test_the_other_history_and_join_guards_fail_on_a_broken_copy_naming_what_broke(
    warehouse_copy,
):
    """Four guards in one dbt run, each broken once where it looks: a transition an hour before
    its task was created (HAND-1's first), a current status that is not the last transition's
    (HAND-1 says Code Review, its history ends in Done), a gap between two status intervals
    (HAND-2's second ends an hour early), and a KPI definition gone while its observations and
    its outcome remain."""
    with connection(warehouse_copy) as con:
        con.execute(
            "update intermediate.int_status_changes_mapped "
            "set changed_at = timestamp '2026-09-01 08:00' "
            "where task_id = 'HAND-1' and transition_index = 1"
        )
        con.execute("update raw.tasks set status = 'Code Review' where task_id = 'HAND-1'")
        con.execute(
            "update marts.fct_task_status_intervals "
            "set exited_at = timestamp '2026-09-04 09:00' "
            "where task_key = 'jira:HAND-2' and interval_index = 2"
        )
        outcome_id, kpi_id, observations = con.execute(
            "select outcome_id, kpi_id, (select count(*) from marts.fct_kpi_observations o "
            "where o.kpi_id = d.kpi_id) from marts.dim_outcomes d order by outcome_id limit 1"
        ).fetchone()
        con.execute("delete from marts.dim_kpis where kpi_id = ?", [kpi_id])

    # the staging table of tasks takes HAND-1's new status; the guards then run on the copy
    rebuilt = run_dbt(warehouse_copy, "run", "--select", "stg_tracker__tasks")
    assert rebuilt.returncode == 0, rebuilt.stdout
    result = run_dbt(
        warehouse_copy,
        "test",
        "--select",
        "assert_no_transition_precedes_task_creation",
        "assert_task_status_matches_last_transition",
        "assert_status_intervals_are_contiguous",
        "fct_kpi_observations,test_name:relationships",
        "dim_outcomes,test_name:relationships",
    )

    assert result.returncode == 1, result.stdout
    failures = sorted(
        " ".join(line.split(" FAIL ", 1)[1].split()[:2])
        for line in result.stdout.splitlines()
        if " FAIL " in line
    )
    assert failures == sorted(
        [
            "1 assert_no_transition_precedes_task_creation",
            "1 assert_task_status_matches_last_transition",
            "1 assert_status_intervals_are_contiguous",
            f"{observations} relationships_fct_kpi_observations_kpi_id__kpi_id__ref_dim_kpis_",
            "1 relationships_dim_outcomes_kpi_id__kpi_id__ref_dim_kpis_",
        ]
    )
    assert read_failing_rows(
        warehouse_copy, "audit", "assert_no_transition_precedes_task_creation"
    )[1] == [("jira", "HAND-1", 1, dt.datetime(2026, 9, 1, 9), dt.datetime(2026, 9, 1, 8))]
    assert read_failing_rows(warehouse_copy, "audit", "assert_task_status_matches_last_transition")[
        1
    ] == [("jira", "HAND-1", "Code Review", "Done", dt.datetime(2026, 9, 5, 21))]
    assert read_failing_rows(warehouse_copy, "audit", "assert_status_intervals_are_contiguous")[
        1
    ] == [("jira:HAND-2", 2, "gap or overlap before the next interval")]
    assert outcome_id and observations > 0


def test_a_cut_short_history_whose_status_differs_gets_one_inferred_transition(warehouse_copy):
    """HAND-1's history ends in Done (2026-09-05 21:00). Its export now says the changelog was cut
    short and that it is back in Code Review, updated 2026-10-20 08:00: the build infers the
    missing move instead of stopping, keeps HAND-1 out of cycle-time figures, and warns by name.
    The same status without the cut-short flag still fails the blocking check."""
    with connection(warehouse_copy) as con:
        con.execute(
            "update raw.tasks set status = 'Code Review', is_history_truncated = true, "
            "updated_at = timestamp '2026-10-20 08:00' where task_id = 'HAND-1'"
        )
    models = [
        "stg_tracker__tasks",
        "int_status_changes_mapped",
        "int_tasks_joined_to_flow_measures",
        "fct_tasks",
    ]
    checks = ["assert_task_status_matches_last_transition", "assert_no_task_history_is_inferred"]

    result = run_dbt(
        warehouse_copy,
        "build",
        "--select",
        *models,
        *checks,
        "--exclude",
        "test_type:unit",
        "--indirect-selection",
        "empty",
    )

    assert result.returncode == 0, result.stdout[-3000:]
    assert "WARN 1 assert_no_task_history_is_inferred" in " ".join(result.stdout.split())
    assert read_failing_rows(warehouse_copy, "audit", "assert_no_task_history_is_inferred")[1] == [
        (
            "jira",
            "HAND-1",
            "Done",
            "Code Review",
            dt.datetime(2026, 10, 20, 8),
            HAND_FILE,
        )
    ]
    with connection(warehouse_copy, read_only=True) as con:
        assert con.execute(
            "select current_status, has_inferred_transition, cycle_time_days, "
            "(select count(*) from marts.fct_tasks where has_inferred_transition) "
            "from marts.fct_tasks where task_id = 'HAND-1'"
        ).fetchall() == [("Code Review", True, None, 1)]

    with connection(warehouse_copy) as con:
        con.execute("update raw.tasks set is_history_truncated = false where task_id = 'HAND-1'")
    result = run_dbt(
        warehouse_copy,
        "build",
        "--select",
        *models,
        *checks,
        "--exclude",
        "test_type:unit",
        "--indirect-selection",
        "empty",
    )
    assert result.returncode == 1
    assert "FAIL 1 assert_task_status_matches_last_transition" in " ".join(result.stdout.split())


def test_a_null_fails_the_models_not_null_test_naming_each_null_column(warehouse_copy):
    """One ``columns_are_not_null`` test per model stands for a ``not_null`` test per column:
    it fails on a null in any of its columns, and each failing row names its null columns."""
    with connection(warehouse_copy) as con:
        for row in [
            ("jira", "HAND-1", "2026-10-03", None, "Done", 7, "jira", HAND_FILE, 14),
            ("jira", "HAND-2", None, None, "Done", 8, "jira", HAND_FILE, 15),
        ]:
            con.execute(INSERT_TRANSITION, list(row))

    manifest = json.loads(ensure_manifest().read_text())
    ((name, table),) = [
        (node["name"], node["alias"])
        for node in manifest["nodes"].values()
        if node.get("test_metadata", {}).get("name") == "columns_are_not_null"
        and node["attached_node"] == "model.outcome_warehouse.stg_tracker__task_status_changes"
    ]
    result = run_dbt(
        warehouse_copy,
        "build",
        "--select",
        f"stg_tracker__task_status_changes {name}",
        "--indirect-selection",
        "empty",
        "--store-failures",
    )

    assert result.returncode == 1, result.stdout
    assert f"FAIL 2 {name}" in result.stdout
    with connection(warehouse_copy, read_only=True) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables where table_name = ?", [table]
        ).fetchone()
        rows = con.execute(
            f'select task_id, null_columns from "{schema}"."{table}" order by task_id'
        ).fetchall()
    assert rows == [("HAND-1", "to_status"), ("HAND-2", "to_status, changed_at")]
