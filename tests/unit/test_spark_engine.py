"""The raw tables of a DuckDB warehouse as Parquet tables of a Spark session (docs/spark.md)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.forecast.tables import Relation, SparkTableStore
from pipelines.lib import spark_engine
from pipelines.lib.dbt_project import DBT_PROJECT_DIR
from pipelines.lib.spark_engine import (
    SPARK_PROFILES_DIR_ENV,
    RawTable,
    SparkTable,
    export_raw_tables,
    import_spark_tables,
    registration_statements,
    session_parameters,
    spark_profiles_dir,
    spark_tables,
)

PROFILES = Path(__file__).resolve().parents[2] / "dbt_project" / "profiles.yml"


def make_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create schema staging")
        con.execute(
            "create table raw.tasks (task_id varchar, labels varchar[], created_at timestamp, "
            "_extra json)"
        )
        con.execute(
            "insert into raw.tasks values "
            "('T-1', ['ui', 'it''s'], timestamp '2026-03-29 01:30:00.000001', '{\"a\": 1}'), "
            "('T-2', [], null, null)"
        )
        con.execute("create table raw.kpis as select 'K-1' as kpi_id, 7 as cadence_days")
        con.execute("create view raw.tasks_view as select * from raw.tasks")
        con.execute("create table staging.other as select 1 as x")
    return path


def test_export_writes_one_parquet_folder_per_raw_table_with_json_as_text(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")

    tables = export_raw_tables(warehouse, tmp_path / "parquet")

    assert tables == [
        RawTable("kpis", tmp_path / "parquet" / "kpis"),
        RawTable("tasks", tmp_path / "parquet" / "tasks"),
    ]
    assert sorted(p.name for p in (tmp_path / "parquet").iterdir()) == ["kpis", "tasks"]
    with duckdb.connect() as con:
        files = str(tmp_path / "parquet" / "tasks" / "*.parquet")
        rows = con.execute(f"select * from read_parquet('{files}') order by task_id").fetchall()
        types = con.execute(f"describe select * from read_parquet('{files}')").fetchall()
    assert rows == [
        ("T-1", ["ui", "it's"], dt.datetime(2026, 3, 29, 1, 30, 0, 1), '{"a": 1}'),
        ("T-2", [], None, None),
    ]
    assert [(name, kind) for name, kind, *_ in types] == [
        ("task_id", "VARCHAR"),
        ("labels", "VARCHAR[]"),
        ("created_at", "TIMESTAMP"),
        ("_extra", "VARCHAR"),
    ]


def test_registration_recreates_each_table_over_its_folder(tmp_path):
    tables = [RawTable("tasks", tmp_path / "tasks"), RawTable("odd`name", tmp_path / "o'dd")]

    assert registration_statements(tables) == [
        "create schema if not exists `raw`",
        "drop table if exists `raw`.`tasks`",
        f"create table `raw`.`tasks` using parquet location '{tmp_path}/tasks'",
        "drop table if exists `raw`.`odd``name`",
        f"create table `raw`.`odd``name` using parquet location '{tmp_path}/o''dd'",
    ]


def test_session_parameters_are_the_spark_profiles(tmp_path):
    """The tables registered here must land in the metastore the dbt profile opens."""
    text = PROFILES.read_text()
    rendered = re.sub(r"\{\{ env_var\('OWH_SPARK_DIR', '[^']*'\) \}\}", str(tmp_path), text)
    spark = yaml.safe_load(rendered)["outcome_warehouse"]["outputs"]["spark"]

    assert spark["type"] == "spark"
    assert spark["method"] == "session"
    assert {k: str(v) for k, v in spark["server_side_parameters"].items()} == session_parameters(
        tmp_path
    )
    assert yaml.safe_load(text)["outcome_warehouse"]["target"] == "duckdb"


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None


def run_script(folder: Path, name: str, source: str, *args: str) -> list[str]:
    """Run Python from a file in a process of its own: a JVM per step, as dbt's is, and a
    __main__ with a file (pyspark exits a `python -c` process that imports Spark Connect)."""
    script = folder / name
    script.write_text(source)
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return result.stdout.strip().splitlines()


@pytest.mark.integration
@pytest.mark.skipif(not spark_available(), reason="needs `make env-spark` (pyspark, Java 17)")
def test_registered_tables_read_back_in_a_new_spark_session(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    spark_dir = tmp_path / "spark"

    prepared = run_script(
        tmp_path,
        "prepare.py",
        "import sys\nfrom pipelines.lib.spark_engine import main\nsys.exit(main(sys.argv[1:]))\n",
        str(warehouse),
        str(spark_dir),
    )
    # a second JVM: the tables must come from the metastore on disk
    read_back = run_script(
        tmp_path,
        "read_back.py",
        "import sys\n"
        "from pathlib import Path\n"
        "from pipelines.lib.spark_engine import spark_session\n"
        "spark = spark_session(Path(sys.argv[1]), driver_memory='1g')\n"
        "rows = spark.sql('select task_id, labels, cast(created_at as string), _extra "
        "from raw.tasks order by task_id').collect()\n"
        "print([tuple(r) for r in rows])\n"
        "print(spark.sql('show tables in raw').count())\n",
        str(spark_dir),
    )

    assert prepared[-1] == "registered 2 raw tables: kpis, tasks"
    assert read_back[-2:] == [
        "[('T-1', ['ui', \"it's\"], '2026-03-29 01:30:00.000001', '{\"a\": 1}'), "
        "('T-2', [], None, None)]",
        "2",
    ]


def write_spark_table(folder: Path, sql: str) -> None:
    """A table folder as a Spark session leaves it: Parquet part files and a _SUCCESS marker."""
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"copy ({sql}) to '{folder / 'part-00000-x.snappy.parquet'}' (format parquet)")
    (folder / "_SUCCESS").write_text("")


def test_spark_tables_lists_the_managed_tables_of_each_schema(tmp_path):
    warehouse = tmp_path / "spark-warehouse"
    write_spark_table(warehouse / "marts.db" / "fct_tasks", "select 1 as x")
    write_spark_table(warehouse / "audit.db" / "assert_x", "select 1 as x")
    (warehouse / "marts.db" / "stray.txt").write_text("")

    assert spark_tables(tmp_path) == [
        SparkTable("audit", "assert_x", warehouse / "audit.db" / "assert_x"),
        SparkTable("marts", "fct_tasks", warehouse / "marts.db" / "fct_tasks"),
    ]


def test_import_copies_spark_tables_into_the_build_file_replacing_older_ones(tmp_path):
    build_file = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(build_file)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_tasks as select 'stale' as task_key")
    spark_dir = tmp_path / "spark"
    warehouse = spark_dir / "spark-warehouse"
    write_spark_table(
        warehouse / "marts.db" / "fct_tasks",
        "select 'jira:A-1' as task_key, timestamp '2026-03-29 01:00:00' as completed_at, "
        "cast(2.5 as double) as cycle_time_days",
    )
    write_spark_table(warehouse / "audit.db" / "assert_x", "select 1 as x where false")

    imported = import_spark_tables(spark_dir, build_file)

    assert [(t.schema, t.name) for t in imported] == [("audit", "assert_x"), ("marts", "fct_tasks")]
    with duckdb.connect(str(build_file), read_only=True) as con:
        assert con.execute("select * from marts.fct_tasks").fetchall() == [
            ("jira:A-1", dt.datetime(2026, 3, 29, 1), 2.5)
        ]
        assert con.execute("select count(*) from audit.assert_x").fetchall() == [(0,)]


def test_import_names_a_table_folder_without_parquet(tmp_path):
    build_file = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(build_file)).close()
    write_spark_table(tmp_path / "spark" / "spark-warehouse" / "marts.db" / "a", "select 1 as x")
    empty = tmp_path / "spark" / "spark-warehouse" / "marts.db" / "b"
    empty.mkdir()

    with pytest.raises(ValueError, match=f"Spark table marts.b: no Parquet file in {empty}"):
        import_spark_tables(tmp_path / "spark", build_file)
    with duckdb.connect(str(build_file), read_only=True) as con:  # all or nothing
        assert con.execute("select count(*) from duckdb_tables()").fetchall() == [(0,)]


def test_export_with_views_includes_the_views_of_the_schema(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")

    tables = export_raw_tables(warehouse, tmp_path / "parquet", include_views=True)

    assert [t.name for t in tables] == ["kpis", "tasks", "tasks_view"]


def test_a_user_profiles_folder_must_hold_a_profiles_file(tmp_path, monkeypatch):
    monkeypatch.delenv(SPARK_PROFILES_DIR_ENV, raising=False)
    assert spark_profiles_dir() == DBT_PROJECT_DIR
    monkeypatch.setenv(SPARK_PROFILES_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"no profiles.yml in {tmp_path}"):
        spark_profiles_dir()
    (tmp_path / "profiles.yml").write_text("outcome_warehouse: {}\n")
    assert spark_profiles_dir() == tmp_path


def test_the_spark_store_writes_duckdb_then_registers_the_schema_in_spark(tmp_path, monkeypatch):
    build_file = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(build_file)).close()
    registered: list[tuple[Path, list[str]]] = []
    monkeypatch.setattr(
        spark_engine,
        "register_through_dbt",
        lambda spark_dir, statements: registered.append((spark_dir, statements)),
    )
    frame = pd.DataFrame(
        {"workstream_id": pd.Series(["W-1"], dtype="string"), "days": pd.array([3], "Int64")}
    )
    store = SparkTableStore(build_file, tmp_path / "spark")

    store.replace({Relation("forecast", "workstream_forecasts_simulated"): frame})

    location = (
        tmp_path / "spark" / "forecast_parquet" / "workstream_forecasts_simulated"
    ).resolve()
    assert registered == [
        (
            (tmp_path / "spark").resolve(),
            [
                "create schema if not exists `forecast`",
                "drop table if exists `forecast`.`workstream_forecasts_simulated`",
                "create table `forecast`.`workstream_forecasts_simulated` using parquet "
                f"location '{location}'",
            ],
        )
    ]
    with duckdb.connect() as con:
        assert con.execute(f"select * from read_parquet('{location}/*.parquet')").fetchall() == [
            ("W-1", 3)
        ]
    assert store.read(Relation("forecast", "workstream_forecasts_simulated")).to_dict(
        "records"
    ) == [{"workstream_id": "W-1", "days": 3}]
