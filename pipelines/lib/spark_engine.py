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
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.sql import quote_identifier, quote_literal

RAW_SCHEMA = "raw"
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
    }


def export_raw_tables(warehouse: Path, folder: Path, schema: str = RAW_SCHEMA) -> list[RawTable]:
    """Copy every table of `schema` in the DuckDB file `warehouse` to `folder/<table>/`
    as one Parquet file, JSON columns as text; returns the tables in name order."""
    folder = Path(folder)
    tables = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [schema],
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
