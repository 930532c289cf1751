"""Write-audit-publish at the file level (docs/data-quality.md, "Publishing only what passed")."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.duckdb_connection import connect, connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.publish import PublishError, probe_readable, seal_build, swap_in


def make_build(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with connection(path) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_things as select range as thing_id from range(?)", [rows]
        )
        con.execute("create view marts.v_things as select * from marts.fct_things")
    return path


def test_seal_exports_every_mart_and_leaves_no_wal(tmp_path):
    layout = WarehouseLayout(tmp_path)
    build = make_build(layout.build_file("r1"), rows=3)
    sealed = seal_build(build, layout.build_marts_dir("r1"))

    assert [p.name for p in sealed.parquet_files] == ["fct_things.parquet"]
    assert sealed.relation_count == 2
    assert not build.with_name("warehouse.duckdb.wal").exists()
    values = duckdb.sql(f"select thing_id from '{sealed.parquet_files[0]}' order by 1").fetchall()
    assert values == [(0,), (1,), (2,)]


def test_seal_refuses_a_build_without_marts(tmp_path):
    build = tmp_path / "warehouse.duckdb"
    with connection(build) as con:
        con.execute("create table t as select 1 as x")
    with pytest.raises(PublishError, match="no tables in schema 'marts'"):
        seal_build(build, tmp_path / "marts")


def test_probe_catches_views_bound_to_a_renamed_catalog(tmp_path):
    # Building under another basename and renaming breaks catalog-qualified views: the probe
    # must catch it before the file is published.
    wrong = tmp_path / "warehouse_tmp.duckdb"
    with connection(wrong) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select 1 as x")
        con.execute("create view marts.v as select * from warehouse_tmp.marts.t")
    renamed = tmp_path / "warehouse.duckdb"
    wrong.rename(renamed)
    with pytest.raises(PublishError, match=r"marts\.v cannot be read"):
        probe_readable(renamed)


def test_swap_replaces_serving_files_while_a_reader_keeps_the_old_version(tmp_path):
    warehouse = WarehouseLayout(tmp_path / "warehouse")
    first = seal_build(
        make_build(warehouse.build_file("r1"), 2),
        warehouse.build_marts_dir("r1"),
    )
    swap_in(first, warehouse)
    serving = warehouse.serving_file

    reader = connect(serving, read_only=True)
    assert reader.execute("select count(*) from marts.fct_things").fetchone() == (2,)

    second = seal_build(
        make_build(warehouse.build_file("r2"), 5),
        warehouse.build_marts_dir("r2"),
    )
    result = swap_in(second, warehouse)

    # The open reader still sees the version it opened; a new connection sees the new one.
    assert reader.execute("select count(*) from marts.fct_things").fetchone() == (2,)
    reader.close()
    with connection(serving, read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.fct_things").fetchone() == (5,)
    assert result.parquet_files == (warehouse.marts_dir / "fct_things.parquet",)
    assert duckdb.sql(f"select count(*) from '{result.parquet_files[0]}'").fetchone() == (5,)


def test_swap_serves_only_the_marts_of_the_build(tmp_path):
    """A warehouse published before releases existed has a plain ``marts`` folder: it becomes
    the previous release, and a mart that no longer exists is no longer served."""
    warehouse = WarehouseLayout(tmp_path / "warehouse")
    warehouse.marts_dir.mkdir(parents=True)
    (warehouse.marts_dir / "mart_dropped.parquet").write_bytes(b"old")
    sealed = seal_build(
        make_build(warehouse.build_file("r1"), 1),
        warehouse.build_marts_dir("r1"),
    )
    swap_in(sealed, warehouse)
    assert warehouse.marts_dir.is_symlink()
    assert sorted(p.name for p in warehouse.marts_dir.iterdir()) == ["fct_things.parquet"]
    assert (warehouse.release_marts_dir("before-releases") / "mart_dropped.parquet").exists()


def test_swap_refuses_a_build_file_named_otherwise(tmp_path):
    warehouse = WarehouseLayout(tmp_path / "warehouse")
    build = make_build(warehouse.build_dir("r1") / "other.duckdb", 1)
    sealed = seal_build(build, warehouse.build_marts_dir("r1"))
    with pytest.raises(PublishError, match=r"is not named warehouse\.duckdb"):
        swap_in(sealed, warehouse)
    assert not warehouse.serving_file.exists()
    assert not warehouse.marts_dir.exists()


def test_reader_in_another_process_sees_the_published_file(tmp_path):
    warehouse = WarehouseLayout(tmp_path / "warehouse")
    sealed = seal_build(
        make_build(warehouse.build_file("r1"), 4),
        warehouse.build_marts_dir("r1"),
    )
    swap_in(sealed, warehouse)
    script = textwrap.dedent(
        f"""
        import duckdb
        con = duckdb.connect({str(warehouse.serving_file)!r}, read_only=True)
        print(con.execute('select count(*) from marts.fct_things').fetchone()[0])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "4"


SWAP_WITH_PAUSES = """
import os, sys
from pathlib import Path
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.publish import SealedBuild, swap_in

real_replace = os.replace
def replace(src, dst):
    real_replace(src, dst)
    print("renamed", Path(dst).name, flush=True)
    sys.stdin.readline()  # the test says when to go on
os.replace = replace
layout, build = WarehouseLayout(Path(sys.argv[1])), Path(sys.argv[2])
parquet = tuple(sorted(layout.build_marts_dir(build.parent.name).glob("*.parquet")))
swap_in(SealedBuild(build, parquet, 0), layout)
"""


def served_version(warehouse: WarehouseLayout) -> tuple[int, set[int]]:
    """Rows in the serving DuckDB file, and the row counts of every served Parquet mart."""
    with connection(warehouse.serving_file, read_only=True) as con:
        rows = con.execute("select count(*) from marts.fct_things").fetchone()[0]
    parquet = {
        duckdb.sql(f"select count(*) from '{p}'").fetchone()[0]
        for p in warehouse.marts_dir.glob("*.parquet")
    }
    return rows, parquet


def make_two_mart_build(path: Path, rows: int) -> Path:
    make_build(path, rows)
    with connection(path) as con:
        con.execute("create table marts.fct_other as select * from marts.fct_things")
    return path


@pytest.mark.parametrize("renames_before_kill", [1, 2, 3])
def test_a_swap_killed_between_its_renames_leaves_each_served_artifact_whole(
    tmp_path, renames_before_kill
):
    """SIGKILL after the new marts folder moved into its release (1), after the marts link
    switched to it (2), after the DuckDB file was replaced too (3): the Parquet marts are all of
    one version, the DuckDB file is whole, and the next publish succeeds and tidies up."""
    warehouse = WarehouseLayout(tmp_path / "warehouse")
    swap_in(
        seal_build(
            make_two_mart_build(warehouse.build_file("r1"), 2),
            warehouse.build_marts_dir("r1"),
        ),
        warehouse,
    )
    assert served_version(warehouse) == (2, {2})
    second = make_two_mart_build(warehouse.build_file("r2"), 5)
    seal_build(second, warehouse.build_marts_dir("r2"))

    swap = subprocess.Popen(
        [sys.executable, "-c", SWAP_WITH_PAUSES, str(warehouse.root), str(second)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    renamed = []
    for _ in range(renames_before_kill):
        renamed.append(swap.stdout.readline().split()[1])
        if len(renamed) < renames_before_kill:
            swap.stdin.write("\n")
            swap.stdin.flush()
    swap.send_signal(signal.SIGKILL)
    swap.wait()

    assert renamed == ["marts", "marts", "warehouse.duckdb"][:renames_before_kill]
    assert served_version(warehouse) == [(2, {2}), (2, {5}), (5, {5})][renames_before_kill - 1]

    third = seal_build(
        make_two_mart_build(warehouse.build_file("r3"), 7),
        warehouse.build_marts_dir("r3"),
    )
    swap_in(third, warehouse)
    assert served_version(warehouse) == (7, {7})
    assert sorted(p.name for p in warehouse.marts_dir.iterdir()) == [
        "fct_other.parquet",
        "fct_things.parquet",
    ]
    # the served release and the one served before it; the rest is gone
    assert len(list(warehouse.releases_dir.iterdir())) == 2
    assert [p.name for p in warehouse.root.iterdir() if p.name.startswith(".")] == []
