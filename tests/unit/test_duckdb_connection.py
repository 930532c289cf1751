"""Every connection the project opens is hardened the same way: UTC, no extension loading, and no
file outside the folders it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.duckdb_connection import (
    WarehouseLockedError,
    connect,
    connection,
    memory_limit,
)


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    made = {name: tmp_path / name for name in ("landing", "landing-old", "warehouse", "secrets")}
    for folder in made.values():
        folder.mkdir()
    (made["landing"] / "tasks.csv").write_text("task_id\nA-1\n")
    (made["landing-old"] / "tasks.csv").write_text("task_id\nOLD-1\n")
    (made["secrets"] / "token.csv").write_text("token\nsentinel-7f3a\n")
    return made


def read_csv(con, path: Path | str) -> list[tuple]:
    return con.execute("select * from read_csv(?)", [str(path)]).fetchall()


def test_settings_of_every_connection(folders):
    with connection(folders["warehouse"] / "warehouse.duckdb") as con:
        settings = dict(
            con.execute(
                "select name, value from duckdb_settings() where name in ("
                "'TimeZone', 'autoload_known_extensions', 'autoinstall_known_extensions', "
                "'enable_external_access', 'lock_configuration')"
            ).fetchall()
        )
    assert settings == {
        "TimeZone": "UTC",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "enable_external_access": "false",
        "lock_configuration": "true",
    }


def test_files_are_read_only_inside_the_allowed_folders(folders):
    database = folders["warehouse"] / "warehouse.duckdb"
    with connection(database, allowed_directories=[folders["landing"]]) as con:
        assert read_csv(con, folders["landing"] / "tasks.csv") == [("A-1",)]
        for outside in (
            folders["secrets"] / "token.csv",
            folders["landing"] / ".." / "secrets" / "token.csv",
            # a sibling whose name starts like the allowed folder is not inside it
            folders["landing-old"] / "tasks.csv",
            "/etc/passwd",
        ):
            with pytest.raises(duckdb.PermissionException, match="Cannot access file"):
                read_csv(con, outside)
        # the database file's own folder stays writable: publishing exports Parquet beside it
        con.execute("create table t as select 1 as a")
        con.execute("copy t to ? (format parquet)", [str(folders["warehouse"] / "t.parquet")])
    assert (folders["warehouse"] / "t.parquet").exists()


def test_the_restriction_cannot_be_lifted_from_sql(folders):
    with connection(folders["warehouse"] / "warehouse.duckdb") as con:
        for statement in (
            "set enable_external_access = true",
            "set allowed_directories = ['/']",
            "set autoload_known_extensions = true",
        ):
            with pytest.raises(duckdb.InvalidInputException, match="Cannot change configuration"):
                con.execute(statement)
        with pytest.raises(duckdb.PermissionException):
            read_csv(con, folders["secrets"] / "token.csv")


def test_a_reader_is_restricted_too(folders):
    database = folders["warehouse"] / "warehouse.duckdb"
    with connection(database) as con:
        con.execute("create table t as select 1 as a")
    with connection(database, read_only=True) as con:
        assert con.execute("select a from t").fetchall() == [(1,)]
        with pytest.raises(duckdb.PermissionException):
            read_csv(con, folders["secrets"] / "token.csv")


def test_a_locked_warehouse_names_the_process_holding_it(folders):
    database = folders["warehouse"] / "warehouse.duckdb"
    with connection(database) as con:
        con.execute("create table t as select 1 as a")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        for read_only in (False, True):
            with pytest.raises(
                WarehouseLockedError,
                match=rf"warehouse .*warehouse\.duckdb is locked by PID {holder.pid} \(.*\); "
                "close that program or wait for its run to finish",
            ):
                connect(database, read_only=read_only)
    finally:
        holder.kill()
        holder.wait()
    # once the holder is gone the file opens again, unchanged
    with connection(database, read_only=True) as con:
        assert con.execute("select a from t").fetchall() == [(1,)]


def test_dbt_connections_get_the_same_hardening(folders):
    """dbt-duckdb opens its own connections; the plugin named in profiles.yml hardens them."""
    from types import SimpleNamespace

    from pipelines.lib.dbt_plugin import SEEDS_DIR, Plugin

    database = folders["warehouse"] / "warehouse.duckdb"
    plugin = Plugin(name="dbt_plugin", plugin_config={}, credentials=SimpleNamespace(path=database))
    con = duckdb.connect(str(database))
    try:
        plugin.configure_connection(con)
        # seeds are loaded with COPY ... FROM their CSV file
        teams = con.execute("select count(*) from read_csv(?)", [str(SEEDS_DIR / "teams.csv")])
        assert teams.fetchone()[0] > 0
        for outside in (folders["landing"] / "tasks.csv", "/etc/passwd"):
            with pytest.raises(duckdb.PermissionException, match="Cannot access file"):
                read_csv(con, outside)
        # a cursor is a new session: it inherits UTC, and cannot change anything
        cursor = con.cursor()
        assert cursor.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
        with pytest.raises(duckdb.InvalidInputException, match="Cannot change configuration"):
            cursor.execute("set enable_external_access = true")
    finally:
        con.close()


def test_memory_is_bounded_by_the_environment_or_a_twelfth_of_the_machine(folders, monkeypatch):
    database = folders["warehouse"] / "warehouse.duckdb"
    monkeypatch.setenv("OWH_DUCKDB_MEMORY_LIMIT", "512MiB")
    with connection(database) as con:
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("512.0 MiB",)
        # the limit is locked with the rest: SQL cannot lift it
        with pytest.raises(duckdb.InvalidInputException, match="Cannot change configuration"):
            con.execute("set memory_limit = '20GB'")
    with connection() as con:
        # an in-memory connection spills to the system's temporary folder
        assert (
            con.execute("select current_setting('temp_directory')")
            .fetchone()[0]
            .endswith("outcome-warehouse-duckdb")
        )

    monkeypatch.delenv("OWH_DUCKDB_MEMORY_LIMIT")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_limit() == f"{int(physical / 12 / 2**20)}MiB"

    monkeypatch.setenv("OWH_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="OWH_DUCKDB_MEMORY_LIMIT='lots' is not a size"):
        connection(database).__enter__()


def test_dbt_connections_are_bounded_too(folders, monkeypatch):
    from types import SimpleNamespace

    from pipelines.lib.dbt_plugin import Plugin

    monkeypatch.setenv("OWH_DUCKDB_MEMORY_LIMIT", "1GB")
    database = folders["warehouse"] / "warehouse.duckdb"
    plugin = Plugin(name="dbt_plugin", plugin_config={}, credentials=SimpleNamespace(path=database))
    con = duckdb.connect(str(database))
    try:
        plugin.configure_connection(con)
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("953.6 MiB",)
    finally:
        con.close()


def test_a_file_allowed_by_name_can_be_attached_but_not_its_neighbours(folders):
    published = folders["warehouse"] / "warehouse.duckdb"
    with connection(published) as con:
        con.execute("create table t as select 42 as answer")
    build = folders["landing"] / "build.duckdb"
    with connection(build, allowed_files=[published]) as con:
        con.execute(f"attach '{published}' as previous (read_only)")
        assert con.execute("select answer from previous.t").fetchall() == [(42,)]
        with pytest.raises(duckdb.PermissionException):
            read_csv(con, folders["secrets"] / "token.csv")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"attach '{folders['warehouse'] / 'other.duckdb'}' as other")
