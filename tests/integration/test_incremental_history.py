"""The incremental task history models give, row for row, what a full build gives.

From the Jira-only run's published build, a copy of the file gets new landed rows: one task
gone, one task changed, one task new. The build is then started from the published one
(``pipelines.lib.carry_over``) and dbt updates the incremental models in place; a second copy
builds them from nothing. Every incremental model must hold the same rows in both, and only the
three tasks may have been rebuilt. A change of a shared input (a workstream rule) rebuilds every
task, and the code fingerprint keeps a build from starting from tables that other code built. The
task facts (milestones and time sums) also depend on the as_of day for open tasks, and on the day
the business-day calendar starts: a later as_of day and an earlier first task each give, built
incrementally, the rows of a full build.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.lib.carry_over import (
    CarryOver,
    code_fingerprint,
    incremental_models,
    start_build_file,
)
from pipelines.lib.dbt_project import DBT_PROJECT_DIR, ensure_manifest
from pipelines.lib.duckdb_connection import connection
from tests.duckdb_tables import relations

from .conftest import DEMO_END, published, run_dbt

# reads the one Jira-only run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]

# the models of the task history and what they read, without tests: what the comparison needs
SELECTION = (
    "+int_status_intervals_localised_to_days",
    "+int_tasks_joined_to_workstreams",
    "+int_status_intervals_summed_to_task_times",
    "+fct_task_status_intervals",
    "+fct_tasks",
    "+int_task_milestones_localised_to_calendar",
)
MILESTONES = "intermediate.int_status_intervals_aggregated_to_tasks"
TASK_TIMES = "intermediate.int_status_intervals_summed_to_task_times"
RAW_TASK_TABLES = ("tasks", "task_status_changes", "task_flags")
COMPARED = "compared with an incremental build"


def manifest_and_fingerprint() -> tuple[dict, str]:
    manifest = json.loads(ensure_manifest().read_text())
    return manifest, code_fingerprint(manifest, DBT_PROJECT_DIR / "dbt_project.yml")


def start(published_file: Path, folder: Path, *, refused: str | None) -> tuple[Path, CarryOver]:
    """A run's build file as the first ingest starts it (``<folder>/build/warehouse.duckdb``),
    then the published build's raw tables in it, as ingestion leaves them before dbt runs (a
    carried build file holds them already; one started empty gets a copy)."""
    build_file = folder / "build" / published_file.name
    manifest, fingerprint = manifest_and_fingerprint()
    carry = start_build_file(
        build_file, published_file, manifest, fingerprint=fingerprint, refused=refused
    )
    with connection(build_file, allowed_files=[published_file]) as con:
        con.execute(f"attach '{published_file}' as published (read_only)")
        con.execute("create schema if not exists raw")
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'published' and table_schema = 'raw'"
        ).fetchall()
        for (table,) in tables:
            con.execute(
                f"create or replace table raw.{table} as select * from published.raw.{table}"
            )
        con.execute("detach published")
    return build_file, carry


def task_ids(con) -> list[str]:
    return [
        row[0] for row in con.execute("select task_id from raw.tasks order by task_id").fetchall()
    ]


def land_changes(build_file: Path) -> dict[str, str]:
    """Change the raw rows of the build as a night's landing would: the first task is gone, the
    second gets one more transition, a copy of the third arrives as a new task. The task keys."""
    with connection(build_file) as con:
        gone, changed, copied = task_ids(con)[:3]
        for table in RAW_TASK_TABLES:
            con.execute(f"delete from raw.{table} where task_id = ?", [gone])
        con.execute(
            """
            insert into raw.task_status_changes
            select * replace (
                changed_at + interval 1 hour as changed_at,
                to_status as from_status,
                'In Progress' as to_status,
                sequence + 1 as sequence,
                _source_row + 100000 as _source_row
            )
            from raw.task_status_changes
            where task_id = ?
            order by changed_at desc, sequence desc nulls last
            limit 1
            """,
            [changed],
        )
        new = copied + "-COPY"
        for table in RAW_TASK_TABLES:
            con.execute(
                f"insert into raw.{table} select * replace (? as task_id) "
                f"from raw.{table} where task_id = ?",
                [new, copied],
            )
        source = con.execute("select distinct trim(source) from raw.tasks").fetchone()[0]
    return {"gone": f"{source}:{gone}", "changed": f"{source}:{changed}", "new": f"{source}:{new}"}


def table_rows(build_file: Path, relation: str) -> list[tuple]:
    with connection(build_file, read_only=True) as con:
        return con.execute(f"select * from {relation} order by all").fetchall()


def intervals_per_task(database_file: Path) -> dict[str, int]:
    with connection(database_file, read_only=True) as con:
        rows = con.execute(
            "select task_key, count(*) "
            "from intermediate.int_status_changes_windowed_to_intervals group by task_key"
        )
        return dict(rows.fetchall())


def rebuilt(build_file: Path) -> dict[str, str]:
    with connection(build_file, read_only=True) as con:
        rows = con.execute("select task_key, reason from intermediate.int_tasks_to_rebuild")
        return dict(rows.fetchall())


def build(build_file: Path, as_of: dt.date = DEMO_END) -> None:
    """The history models and what they read, without tests, on ``as_of``."""
    result = run_dbt(
        build_file,
        "build",
        "--select",
        *SELECTION,
        "--exclude-resource-type",
        "test",
        "unit_test",
        as_of=as_of,
    )
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.fixture(scope="module")
def published_file(jira_only_run) -> Path:
    """The Jira-only run's published file: built by the code under test, it carries this code's
    fingerprint, so a build may start from it."""
    _, warehouse, summary = jira_only_run
    assert summary.success, summary.errors
    return published(warehouse)


def test_an_incremental_build_rebuilds_the_changed_tasks_into_the_rows_of_a_full_build(
    published_file, tmp_path
):
    incremental_file, carried = start(published_file, tmp_path / "incremental", refused=None)
    full_file, not_carried = start(published_file, tmp_path / "full", refused=COMPARED)
    keys = land_changes(incremental_file)
    assert land_changes(full_file) == keys

    manifest, _ = manifest_and_fingerprint()
    models = [str(relation) for relation in incremental_models(manifest)]
    assert models == [
        "intermediate.int_status_changes_mapped",
        "intermediate.int_status_changes_windowed_to_intervals",
        "intermediate.int_status_intervals_aggregated_to_tasks",
        "intermediate.int_status_intervals_localised_to_days",
        "intermediate.int_status_intervals_measured_to_as_of",
        "intermediate.int_status_intervals_summed_to_task_times",
        "intermediate.int_task_milestones_localised_to_calendar",
        "intermediate.int_tasks_classified_by_work_type",
        "intermediate.int_tasks_joined_to_flow_measures",
        "intermediate.int_tasks_joined_to_teams",
        "intermediate.int_tasks_joined_to_workstreams",
        "marts.fct_task_status_intervals",
        "marts.fct_tasks",
        "staging.stg_tracker__task_status_changes",
        "staging.stg_tracker__tasks",
    ]
    assert [str(relation) for relation in carried.carried] == models
    assert carried.reason is None
    assert not_carried == CarryOver((), COMPARED)
    build(incremental_file)
    build(full_file)

    assert rebuilt(incremental_file) == {
        keys["gone"]: "gone",
        keys["changed"]: "changed",
        keys["new"]: "new",
    }
    with connection(full_file, read_only=True) as con:
        task_count = con.execute("select count(*) from staging.stg_tracker__tasks").fetchone()[0]
    # a build that started from nothing lists every task as new, and nothing reads the list
    assert rebuilt(full_file) == {key: "new" for key in rebuilt(full_file)}
    assert len(rebuilt(full_file)) == task_count

    for model in models:
        assert table_rows(incremental_file, model) == table_rows(full_file, model), model
    # the changes reached the history: the gone task has no interval, the new one has its copy's
    intervals = intervals_per_task(incremental_file)
    before = intervals_per_task(published_file)
    copied_key = keys["new"].removesuffix("-COPY")
    assert keys["gone"] in before
    assert keys["gone"] not in intervals
    assert intervals[keys["changed"]] == before[keys["changed"]] + 1
    assert intervals[keys["new"]] == before[copied_key]


def test_a_changed_workstream_rule_rebuilds_every_task(published_file, tmp_path):
    incremental_file, _ = start(published_file, tmp_path / "incremental", refused=None)
    full_file, _ = start(published_file, tmp_path / "full", refused=COMPARED)
    for build_file in (incremental_file, full_file):
        with connection(build_file) as con:
            con.execute(
                """
                insert into raw.workstream_rules by name
                select
                    'WS-ADDED' as workstream_id,
                    10 as priority,
                    'jira' as source,
                    'canonical' as _source,
                    'workstream_rules/added.csv' as _source_file,
                    1 as _source_row,
                    timestamp '2026-11-01 02:00:00' as _loaded_at
                """
            )
    build(incremental_file)
    build(full_file)

    with connection(incremental_file, read_only=True) as con:
        task_count = con.execute("select count(*) from staging.stg_tracker__tasks").fetchone()[0]
        without_own = con.execute(
            "select count(*) from staging.stg_tracker__tasks where workstream_id is null"
        ).fetchone()[0]
        added = con.execute(
            "select count(*) from intermediate.int_tasks_joined_to_workstreams "
            "where workstream_id = 'WS-ADDED' and workstream_assigned_by = 'rule'"
        ).fetchone()[0]
    # the rule reached the carried tasks: every task without a workstream of its own now has it
    assert added == without_own == 3
    assert rebuilt(incremental_file) == {
        key: "shared input changed" for key in rebuilt(incremental_file)
    }
    assert len(rebuilt(incremental_file)) == task_count
    manifest, _ = manifest_and_fingerprint()
    for relation in incremental_models(manifest):
        model = str(relation)
        assert table_rows(incremental_file, model) == table_rows(full_file, model), model


def incremental_model_names() -> list[str]:
    manifest, _ = manifest_and_fingerprint()
    return [str(relation) for relation in incremental_models(manifest)]


def facts_by_task(build_file: Path, relation: str, columns: str) -> dict[str, tuple]:
    with connection(build_file, read_only=True) as con:
        rows = con.execute(f"select task_key, {columns} from {relation}").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_a_later_as_of_day_rebuilds_the_open_tasks_facts_into_the_rows_of_a_full_build(
    published_file, tmp_path
):
    # a build with a started, open task: the third one, in the backlog so far, starts work on
    # 2026-10-20 09:00 with the first task's first transition (Backlog -> In Progress)
    first_file, _ = start(published_file, tmp_path / "first", refused=None)
    with connection(first_file) as con:
        first_task, _, open_task = task_ids(con)
        con.execute(
            """
            insert into raw.task_status_changes
            select * replace (
                ? as task_id,
                timestamp '2026-10-20 09:00:00' as changed_at,
                _source_row + 100000 as _source_row
            )
            from raw.task_status_changes
            where task_id = ? and sequence = 1
            """,
            [open_task, first_task],
        )
    build(first_file)
    # the next build, a week later, with no landed change: started from that one and in full
    later = DEMO_END + dt.timedelta(days=7)
    incremental_file, carried = start(first_file, tmp_path / "incremental", refused=None)
    full_file, _ = start(first_file, tmp_path / "full", refused=COMPARED)
    build(incremental_file, later)
    build(full_file, later)

    models = incremental_model_names()
    assert [str(relation) for relation in carried.carried] == models
    assert rebuilt(incremental_file) == {}
    for model in models:
        assert table_rows(incremental_file, model) == table_rows(full_file, model), model
    # the open task is measured to the end of the later as_of day (London is on UTC in
    # November): its window, started_at to then, grew by the week; the done tasks kept theirs
    open_key = f"jira:{open_task}"
    until = facts_by_task(incremental_file, MILESTONES, "measured_until")
    until_before = facts_by_task(first_file, MILESTONES, "measured_until")
    assert until_before[open_key] == (dt.datetime(2026, 11, 1),)
    assert until[open_key] == (dt.datetime(2026, 11, 8),)
    assert {k: v for k, v in until.items() if k != open_key} == {
        k: v for k, v in until_before.items() if k != open_key
    }
    window = "active_time_days + wait_time_days + other_time_days"
    assert facts_by_task(first_file, TASK_TIMES, window)[open_key] == (11.625,)
    assert facts_by_task(incremental_file, TASK_TIMES, window)[open_key] == (18.625,)


def test_an_earlier_first_task_moves_the_calendar_and_rebuilds_every_tasks_milestones(
    published_file, tmp_path
):
    incremental_file, _ = start(published_file, tmp_path / "incremental", refused=None)
    full_file, _ = start(published_file, tmp_path / "full", refused=COMPARED)
    # a new task, the first one's copy thirty days earlier (created 2026-08-02 09:00): the
    # business-day calendar now starts the day before, 2026-08-01, not 2026-08-31
    for build_file in (incremental_file, full_file):
        with connection(build_file) as con:
            first_task = task_ids(con)[0]
            early = f"{first_task}-EARLY"
            con.execute(
                "insert into raw.tasks select * replace "
                "(? as task_id, created_at - interval 30 day as created_at) "
                "from raw.tasks where task_id = ?",
                [early, first_task],
            )
            con.execute(
                "insert into raw.task_status_changes select * replace "
                "(? as task_id, changed_at - interval 30 day as changed_at) "
                "from raw.task_status_changes where task_id = ?",
                [early, first_task],
            )
    build(incremental_file)
    build(full_file)

    assert rebuilt(incremental_file) == {f"jira:{early}": "new"}
    for model in incremental_model_names():
        assert table_rows(incremental_file, model) == table_rows(full_file, model), model
    starts = "business_calendar_starts_on"
    assert set(facts_by_task(published_file, MILESTONES, starts).values()) == {
        (dt.date(2026, 8, 31),)
    }
    assert set(facts_by_task(incremental_file, MILESTONES, starts).values()) == {
        (dt.date(2026, 8, 1),)
    }
    # every carried task's positions moved with the calendar's first day, by the 20 business
    # days from Saturday 2026-08-01 to Sunday 2026-08-30
    position = "created_business_microseconds"
    moved = facts_by_task(incremental_file, MILESTONES, position)
    before = facts_by_task(published_file, MILESTONES, position)
    assert len(before) == 3
    for key, (was,) in before.items():
        assert moved[key] == (was + 20 * 86_400_000_000,), key


def test_a_build_of_other_code_is_not_carried(published_file, tmp_path):
    manifest, _ = manifest_and_fingerprint()
    build_file = tmp_path / "other_code" / "build" / published_file.name
    carry = start_build_file(build_file, published_file, manifest, fingerprint="0" * 64)
    assert carry == CarryOver((), "the dbt code changed since the published build")
    with connection(build_file, read_only=True) as con:
        stored = con.execute("select fingerprint from build_state.code_fingerprint").fetchall()
        previous = con.execute(
            "select count(*) from previous_build.task_input_fingerprints"
        ).fetchone()
    assert stored == [("0" * 64,)]
    assert previous == (0,)
    assert relations(build_file) == [
        "build_state.carry_over",
        "build_state.code_fingerprint",
        "previous_build.task_input_fingerprints",
        "previous_build.task_shared_inputs_fingerprinted",
    ]


def test_a_carried_build_file_holds_the_incremental_and_raw_tables_and_nothing_else(
    published_file, tmp_path
):
    manifest, fingerprint = manifest_and_fingerprint()
    build_file = tmp_path / "carried" / "build" / published_file.name
    carry = start_build_file(build_file, published_file, manifest, fingerprint=fingerprint)
    with connection(build_file, read_only=True) as con:
        fingerprints = con.execute(
            "select * from previous_build.task_input_fingerprints order by all"
        ).fetchall()
    with connection(published_file, read_only=True) as con:
        published_fingerprints = con.execute(
            "select * from staging.stg_tracker__task_input_fingerprints order by all"
        ).fetchall()
    carried = [str(relation) for relation in carry.carried]
    raw = [relation for relation in relations(published_file) if relation.startswith("raw.")]
    assert relations(build_file) == sorted(
        [
            "build_state.carry_over",
            "build_state.code_fingerprint",
            "previous_build.task_input_fingerprints",
            "previous_build.task_shared_inputs_fingerprinted",
            *carried,
            *raw,
        ]
    )
    assert len(carried) == 15
    # the raw tables, load log and ingest state with them, which ingestion keeps what it reuses of
    assert "raw.tasks" in raw and "raw.load_log" in raw and "raw.ingest_state" in raw
    assert fingerprints == published_fingerprints
    assert len(fingerprints) == 3
    # a second start of the same build (a later ingest step, a re-execution) changes nothing
    assert start_build_file(build_file, None, manifest, fingerprint=fingerprint) == carry
