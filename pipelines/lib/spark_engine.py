"""The raw tables of a DuckDB warehouse, readable by the dbt project on Apache Spark.

The ingest writes the `raw` schema of a DuckDB file. To build the same dbt project on Spark
(profile target `spark`, docs/spark.md), each raw table is exported to Parquet and registered in
the Spark session's metastore as an external table `raw.<table>` over that file, which the dbt
sources then read. The session settings here are those of the `spark` target in
dbt_project/profiles.yml: the tables registered by `register_raw_tables` are in the metastore
that dbt opens next (the embedded Derby metastore admits one JVM at a time, so the two run one
after the other, each run in a folder of its own).

    python -m pipelines.lib.spark_engine WAREHOUSE.duckdb SPARK_DIR

exports into SPARK_DIR/raw_parquet and registers the tables in SPARK_DIR's metastore.

The nightly job on Spark (`owh run --engine spark`) does the same through dbt itself
(`register_through_dbt`: the statements run in the session or on the cluster of the profile's
`spark` target), and after each dbt build copies the tables Spark built back into the run's DuckDB
build file (`import_spark_tables`), from which the report and the publish step read as they do
after a DuckDB build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.dbt_project import DBT_PROJECT_DIR, dbt_command
from pipelines.lib.duckdb_connection import connection
from pipelines.lib.sql import quote_identifier, quote_literal

RAW_SCHEMA = "raw"
# The profile target the Spark runs build with (dbt_project/profiles.yml), and the variables that
# point a run at its folder and, optionally, at a profiles.yml of the user's own (a cluster).
SPARK_TARGET = "spark"
SPARK_DIR_ENV = "OWH_SPARK_DIR"
SPARK_PROFILES_DIR_ENV = "OWH_SPARK_PROFILES_DIR"
# Where a session's managed tables are stored: <schema>.db/<table>/ under the run folder.
SPARK_WAREHOUSE_FOLDER = "spark-warehouse"
# Spark reads DuckDB's JSON logical type as nothing it knows: such columns are exported as text.
_TEXT_TYPES = {"JSON"}


@dataclass(frozen=True)
class RawTable:
    """One exported raw table: its name and the folder that holds its Parquet file."""

    name: str
    location: Path


def session_parameters(spark_dir: Path, driver_memory: str = "2g") -> dict[str, str]:
    """The Spark settings of the `spark` profile target for a run folder (OWH_SPARK_DIR)."""
    spark_dir = Path(spark_dir)
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        "spark.sql.warehouse.dir": f"{spark_dir}/spark-warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.driver.memory": driver_memory,
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def export_raw_tables(
    warehouse: Path, folder: Path, schema: str = RAW_SCHEMA, *, include_views: bool = False
) -> list[RawTable]:
    """Copy every table of `schema` in the DuckDB file `warehouse` (and every view, with
    ``include_views``) to `folder/<table>/` as one Parquet file, JSON columns as text; returns
    the tables in name order."""
    folder = Path(folder)
    tables = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type in ('BASE TABLE', ?) order by table_name",
                [schema, "VIEW" if include_views else "BASE TABLE"],
            ).fetchall()
        ]
        for name in names:
            columns = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            select_list = ", ".join(
                f"cast({quote_identifier(column)} as varchar) as {quote_identifier(column)}"
                if data_type in _TEXT_TYPES
                else quote_identifier(column)
                for column, data_type in columns
            )
            location = folder / name
            location.mkdir(parents=True, exist_ok=True)
            target = location / "part-0.parquet"
            connection.execute(
                f"copy (select {select_list} from {quote_identifier(schema)}."
                f"{quote_identifier(name)}) to {quote_literal(str(target))} (format parquet)"
            )
            tables.append(RawTable(name=name, location=location))
    return tables


def _spark_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def registration_statements(tables: list[RawTable], schema: str = RAW_SCHEMA) -> list[str]:
    """The Spark SQL that (re)creates `schema` and one external Parquet table per raw table."""
    statements = [f"create schema if not exists {_spark_identifier(schema)}"]
    for table in tables:
        qualified = f"{_spark_identifier(schema)}.{_spark_identifier(table.name)}"
        statements.append(f"drop table if exists {qualified}")
        statements.append(
            f"create table {qualified} using parquet "
            f"location {quote_literal(str(Path(table.location).resolve()))}"
        )
    return statements


def register_raw_tables(spark: Any, tables: list[RawTable], schema: str = RAW_SCHEMA) -> None:
    """Run the registration statements in a Spark session (a pyspark SparkSession)."""
    for statement in registration_statements(tables, schema):
        spark.sql(statement)


def spark_session(spark_dir: Path, driver_memory: str = "2g") -> Any:
    """A local Spark session with the `spark` profile's settings and metastore for `spark_dir`."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[*]").enableHiveSupport()
    for key, value in session_parameters(spark_dir, driver_memory).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def prepare_spark_run(warehouse: Path, spark_dir: Path) -> list[RawTable]:
    """Export the raw tables of `warehouse` into `spark_dir/raw_parquet` and register them in
    the metastore of `spark_dir`; the session is stopped again, so that dbt can open it."""
    spark_dir = Path(spark_dir).resolve()
    spark_dir.mkdir(parents=True, exist_ok=True)
    tables = export_raw_tables(warehouse, spark_dir / "raw_parquet")
    spark = spark_session(spark_dir)
    try:
        register_raw_tables(spark, tables)
    finally:
        spark.stop()
    return tables


def spark_profiles_dir() -> Path:
    """The folder of the profiles.yml whose `spark` target the runs use: ``OWH_SPARK_PROFILES_DIR``
    (a cluster of the user's), else the project's own (a local session)."""
    configured = os.environ.get(SPARK_PROFILES_DIR_ENV, "").strip()
    if not configured:
        return DBT_PROJECT_DIR
    folder = Path(configured).expanduser().resolve()
    if not (folder / "profiles.yml").is_file():
        raise FileNotFoundError(
            f"{SPARK_PROFILES_DIR_ENV}={configured}: no profiles.yml in {folder}; it must define "
            f"profile outcome_warehouse with a target {SPARK_TARGET!r}"
        )
    return folder


def spark_available() -> str | None:
    """None when this environment can run Spark, else what is missing (for an error message)."""
    import importlib.util
    import shutil

    missing = [
        what
        for what, present in (
            ("pyspark", importlib.util.find_spec("pyspark") is not None),
            ("dbt-spark", importlib.util.find_spec("dbt.adapters.spark") is not None),
            ("java", shutil.which("java") is not None),
        )
        if not present
    ]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: run `make env-spark`"


def dbt_spark_environment(spark_dir: Path) -> dict[str, str]:
    """The environment a dbt process on the `spark` target runs with for the run folder."""
    return {
        SPARK_DIR_ENV: str(Path(spark_dir).resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def register_through_dbt(spark_dir: Path, statements: list[str]) -> None:
    """Run `statements` on the profile's `spark` target in one dbt process (``dbt run-operation
    execute_statements``): the same session settings, metastore or cluster that the build uses."""
    spark_dir = Path(spark_dir).resolve()
    completed = subprocess.run(
        dbt_command(
            "run-operation",
            "execute_statements",
            "--args",
            json.dumps({"statements": statements}),
            "--target",
            SPARK_TARGET,
            target_path=spark_dir / "target",
            log_path=spark_dir / "logs",
            profiles_dir=spark_profiles_dir(),
        ),
        capture_output=True,
        text=True,
        env={**os.environ, **dbt_spark_environment(spark_dir)},
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"registering tables in Spark failed (dbt run-operation):\n{tail}")


def share_schema_with_spark(warehouse: Path, spark_dir: Path, schema: str) -> list[RawTable]:
    """Export the tables of `schema` in the DuckDB file `warehouse` to Parquet under
    ``spark_dir/<schema>_parquet`` and register them in Spark as external tables
    `schema.<table>`."""
    return share_schemas_with_spark(warehouse, spark_dir, (schema,))[schema]


def share_schemas_with_spark(
    warehouse: Path, spark_dir: Path, schemas: tuple[str, ...]
) -> dict[str, list[RawTable]]:
    """``share_schema_with_spark`` for several schemas, registered in one Spark session (each
    session starts a JVM)."""
    spark_dir = Path(spark_dir).resolve()
    shared = {
        schema: export_raw_tables(warehouse, spark_dir / f"{schema}_parquet", schema)
        for schema in schemas
    }
    statements = [
        statement
        for schema, tables in shared.items()
        for statement in registration_statements(tables, schema)
    ]
    register_through_dbt(spark_dir, statements)
    return shared


@dataclass(frozen=True)
class SparkTable:
    """A table a Spark session stored: its schema, name and folder of Parquet files."""

    schema: str
    name: str
    location: Path


def spark_tables(spark_dir: Path) -> list[SparkTable]:
    """Every managed table under ``spark_dir/spark-warehouse`` (``<schema>.db/<table>/``), in
    schema and name order. External tables (raw, forecast) live elsewhere and are not listed."""
    root = Path(spark_dir) / SPARK_WAREHOUSE_FOLDER
    return [
        SparkTable(
            schema=schema_dir.name.removesuffix(".db"), name=table_dir.name, location=table_dir
        )
        for schema_dir in sorted(root.glob("*.db"))
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir())
    ]


def import_spark_tables(spark_dir: Path, database_file: Path) -> list[SparkTable]:
    """Copy every table Spark built under ``spark_dir`` into the DuckDB file `database_file`,
    replacing a table of the same schema and name, in one transaction.

    Spark writes an empty table as a Parquet file with the schema and no rows, so every table
    folder holds at least one Parquet file; a folder without one is an error naming it.
    """
    tables = spark_tables(spark_dir)
    with connection(database_file, allowed_directories=[Path(spark_dir).resolve()]) as con:
        con.execute("begin transaction")
        try:
            for table in tables:
                files = sorted(table.location.glob("*.parquet"))
                if not files:
                    raise ValueError(
                        f"Spark table {table.schema}.{table.name}: no Parquet file in "
                        f"{table.location}"
                    )
                con.execute(f"create schema if not exists {quote_identifier(table.schema)}")
                listed = ", ".join(quote_literal(str(f)) for f in files)
                con.execute(
                    f"create or replace table {quote_identifier(table.schema)}."
                    f"{quote_identifier(table.name)} as select * from read_parquet([{listed}])"
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return tables


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m pipelines.lib.spark_engine WAREHOUSE.duckdb SPARK_DIR")
        return 2
    tables = prepare_spark_run(Path(args[0]), Path(args[1]))
    print(f"registered {len(tables)} raw tables: {', '.join(t.name for t in tables)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
