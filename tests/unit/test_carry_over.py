"""Starting a build file from the published one (pipelines/lib/carry_over.py), on a small
manifest of its own: one incremental model, one fingerprint model copied into previous_build."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipelines.lib.carry_over import (
    CarryOver,
    Relation,
    code_fingerprint,
    ensure_build_state,
    incremental_models,
    recorded_carry_over,
    start_build_file,
    start_over,
    state_tables,
)
from pipelines.lib.duckdb_connection import connection
from tests.duckdb_tables import relations

MANIFEST = {
    "nodes": {
        "model.p.history": {
            "resource_type": "model",
            "name": "history",
            "alias": "history",
            "schema": "intermediate",
            "checksum": {"name": "sha256", "checksum": "aaa"},
            "config": {"materialized": "incremental"},
            "columns": {},
        },
        "model.p.fingerprints": {
            "resource_type": "model",
            "name": "fingerprints",
            "alias": "fingerprints",
            "schema": "staging",
            "checksum": {"name": "sha256", "checksum": "bbb"},
            "config": {"materialized": "table"},
            "columns": {
                "task_key": {"name": "task_key", "data_type": "string"},
                "input_fingerprint": {"name": "input_fingerprint", "data_type": "decimal(38, 0)"},
            },
        },
        "test.p.unique_history": {
            "resource_type": "test",
            "name": "unique_history",
            "checksum": {"name": "none", "checksum": ""},
            "config": {},
            "columns": {},
        },
    },
    "sources": {
        "source.p.previous_build.previous_fingerprints": {
            "source_name": "previous_build",
            "name": "previous_fingerprints",
            "meta": {"copy_of": "fingerprints"},
        },
        "source.p.tracker.tasks": {"source_name": "tracker", "name": "tasks"},
    },
    "macros": {"macro.p.m": {"macro_sql": "{% macro m() %}1{% endmacro %}"}},
}


def published_build(folder: Path, fingerprint: str, *, with_history: bool = True) -> Path:
    """A published file as a build of the manifest leaves it."""
    folder.mkdir(parents=True)
    published = folder / "warehouse.duckdb"
    with connection(published) as con:
        for schema in ("raw", "staging", "intermediate", "marts", "build_state"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw.tasks as select 'T-1' as task_id")
        con.execute(
            "create table staging.fingerprints as "
            "select 'jira:T-1' as task_key, 42::decimal(38, 0) as input_fingerprint"
        )
        if with_history:
            con.execute(
                "create table intermediate.history as select 'jira:T-1' as task_key, 1 as n"
            )
        con.execute("create table marts.fct as select 1 as n")
        con.execute("create view marts.v as select * from marts.fct")
        con.execute(
            "create table build_state.code_fingerprint as select ? as fingerprint", [fingerprint]
        )
    return published


def test_the_manifest_names_the_incremental_models_and_the_state_tables():
    assert incremental_models(MANIFEST) == [Relation("intermediate", "history")]
    (table,) = state_tables(MANIFEST)
    assert table.name == "previous_fingerprints"
    assert table.model == Relation("staging", "fingerprints")
    assert table.columns == (("task_key", "string"), ("input_fingerprint", "decimal(38, 0)"))


def test_a_state_table_needs_a_model_with_typed_columns():
    manifest = copy.deepcopy(MANIFEST)
    manifest["nodes"]["model.p.fingerprints"]["columns"]["task_key"]["data_type"] = None
    with pytest.raises(ValueError, match="needs a contract with a data_type for every column"):
        state_tables(manifest)
    manifest = copy.deepcopy(MANIFEST)
    manifest["sources"]["source.p.previous_build.other"] = {
        "source_name": "previous_build",
        "name": "other",
        "meta": {"copy_of": "missing"},
    }
    with pytest.raises(ValueError, match="names no model in its meta copy_of"):
        state_tables(manifest)


def test_the_code_fingerprint_changes_with_a_model_a_macro_or_the_project_file(tmp_path):
    project = tmp_path / "dbt_project.yml"
    project.write_text("vars: {a: 1}\n")
    base = code_fingerprint(MANIFEST, project)
    assert code_fingerprint(copy.deepcopy(MANIFEST), project) == base

    changed_model = copy.deepcopy(MANIFEST)
    changed_model["nodes"]["model.p.history"]["checksum"]["checksum"] = "ccc"
    changed_macro = copy.deepcopy(MANIFEST)
    changed_macro["macros"]["macro.p.m"]["macro_sql"] = "{% macro m() %}2{% endmacro %}"
    changed_config = copy.deepcopy(MANIFEST)
    changed_config["nodes"]["model.p.history"]["config"]["materialized"] = "table"
    changed_test = copy.deepcopy(MANIFEST)  # a test decides nothing a model computes
    changed_test["nodes"]["test.p.unique_history"]["checksum"]["checksum"] = "ddd"
    fingerprints = [
        code_fingerprint(m, project) for m in (changed_model, changed_macro, changed_config)
    ]
    assert len({base, *fingerprints}) == 4
    assert code_fingerprint(changed_test, project) == base
    project.write_text("vars: {a: 2}\n")
    assert code_fingerprint(MANIFEST, project) != base


def test_a_carried_build_file_keeps_the_incremental_and_raw_tables_and_the_fingerprints(tmp_path):
    published = published_build(tmp_path / "serving", "code-1")
    build_file = tmp_path / "build" / "warehouse.duckdb"
    carry = start_build_file(build_file, published, MANIFEST, fingerprint="code-1")
    assert carry == CarryOver((Relation("intermediate", "history"),), None)
    assert relations(build_file) == [
        "build_state.carry_over",
        "build_state.code_fingerprint",
        "intermediate.history",
        "previous_build.previous_fingerprints",
        "raw.tasks",
    ]
    with connection(build_file, read_only=True) as con:
        assert con.execute("select * from intermediate.history").fetchall() == [("jira:T-1", 1)]
        assert con.execute("select * from raw.tasks").fetchall() == [("T-1",)]
        assert con.execute("select * from previous_build.previous_fingerprints").fetchall() == [
            ("jira:T-1", 42)
        ]
        assert con.execute("select * from build_state.carry_over").fetchall() == [
            (["intermediate.history"], None)
        ]
    assert recorded_carry_over(build_file) == carry
    assert not list(build_file.parent.glob("starting-*"))
    # the published file is untouched
    assert "marts.fct" in relations(published)


@pytest.mark.parametrize(
    ("code", "with_history", "refused", "reason"),
    [
        ("code-2", True, None, "the dbt code changed since the published build"),
        ("code-1", False, None, "the published build lacks intermediate.history"),
        ("code-1", True, "a full refresh was asked for", "a full refresh was asked for"),
    ],
)
def test_a_build_file_starts_empty_when_it_may_not_carry(
    tmp_path, code, with_history, refused, reason
):
    published = published_build(tmp_path / "serving", "code-1", with_history=with_history)
    build_file = tmp_path / "build" / "warehouse.duckdb"
    carry = start_build_file(build_file, published, MANIFEST, fingerprint=code, refused=refused)
    assert carry == CarryOver((), reason)
    assert relations(build_file) == [
        "build_state.carry_over",
        "build_state.code_fingerprint",
        "previous_build.previous_fingerprints",
    ]
    with connection(build_file, read_only=True) as con:
        assert con.execute(
            "select count(*) from previous_build.previous_fingerprints"
        ).fetchone() == (0,)
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'previous_build' order by ordinal_position"
        ).fetchall()
        assert con.execute("select * from build_state.code_fingerprint").fetchall() == [(code,)]
    assert columns == [("task_key", "VARCHAR"), ("input_fingerprint", "DECIMAL(38,0)")]


def test_nothing_published_and_an_unreadable_file_start_empty(tmp_path):
    first = tmp_path / "first" / "warehouse.duckdb"
    assert start_build_file(
        first, tmp_path / "none.duckdb", MANIFEST, fingerprint="c"
    ) == CarryOver((), "nothing is published yet")
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database" * 100)
    second = tmp_path / "second" / "warehouse.duckdb"
    carry = start_build_file(second, garbage, MANIFEST, fingerprint="c")
    assert carry.carried == ()
    assert carry.reason.startswith("the published warehouse cannot be read (")


def test_an_existing_build_file_is_left_as_it_is(tmp_path):
    published = published_build(tmp_path / "serving", "code-1")
    build_file = tmp_path / "build" / "warehouse.duckdb"
    first = start_build_file(build_file, published, MANIFEST, fingerprint="code-1")
    with connection(build_file) as con:
        con.execute("create or replace table raw.tasks as select 'T-2' as task_id")
    again = start_build_file(build_file, None, MANIFEST, fingerprint="other", refused="no")
    assert again == first
    with connection(build_file, read_only=True) as con:
        assert con.execute("select * from raw.tasks").fetchall() == [("T-2",)]


def test_a_build_file_no_ingest_started_records_that_it_carries_nothing(tmp_path):
    build_file = tmp_path / "build" / "warehouse.duckdb"
    build_file.parent.mkdir()
    with connection(build_file) as con:
        con.execute("create schema raw")
        con.execute("create table raw.tasks as select 'T-1' as task_id")
    assert recorded_carry_over(build_file) is None
    not_started = CarryOver((), "the build file was not started from the published build")
    assert ensure_build_state(build_file, MANIFEST, fingerprint="code-1") == not_started
    assert relations(build_file) == [
        "build_state.carry_over",
        "build_state.code_fingerprint",
        "previous_build.previous_fingerprints",
        "raw.tasks",
    ]
    assert recorded_carry_over(build_file) == not_started
    # a start of it afterwards finds what was recorded
    assert start_build_file(build_file, None, MANIFEST, fingerprint="code-1") == not_started


def test_a_build_started_over_drops_what_it_carried_and_keeps_the_raw_tables(tmp_path):
    published = published_build(tmp_path / "serving", "code-1")
    build_file = tmp_path / "build" / "warehouse.duckdb"
    start_build_file(build_file, published, MANIFEST, fingerprint="code-1")
    reason = "most task rows are new"
    assert start_over(build_file, MANIFEST, reason) == CarryOver((), reason)
    assert relations(build_file) == [
        "build_state.carry_over",
        "build_state.code_fingerprint",
        "previous_build.previous_fingerprints",
        "raw.tasks",
    ]
    with connection(build_file, read_only=True) as con:
        # every task counts as new: the published fingerprints are gone, the contract stays
        assert (
            con.execute("select count(*) from previous_build.previous_fingerprints").fetchone()[0]
            == 0
        )
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'previous_build' order by ordinal_position"
        ).fetchall()
        assert con.execute("select * from raw.tasks").fetchall() == [("T-1",)]
        assert con.execute("select * from build_state.code_fingerprint").fetchall() == [("code-1",)]
    assert columns == [("task_key", "VARCHAR"), ("input_fingerprint", "DECIMAL(38,0)")]
    assert recorded_carry_over(build_file) == CarryOver((), reason)
    # a second call, as a re-executed ingest makes it, finds nothing more to drop
    assert start_over(build_file, MANIFEST, "again") == CarryOver((), reason)


def test_a_build_that_carried_nothing_is_not_started_over(tmp_path):
    build_file = tmp_path / "build" / "warehouse.duckdb"
    refused = CarryOver((), "a full refresh was asked for")
    assert (
        start_build_file(build_file, None, MANIFEST, fingerprint="c", refused=refused.reason)
        == refused
    )
    assert start_over(build_file, MANIFEST, "most task rows are new") == refused
    assert recorded_carry_over(build_file) == refused
