"""Where the forecasts read their inputs and write their tables: one small interface per engine.

The simulation is numpy and runs in the pipeline's own process whatever engine holds the
warehouse; only reading a relation and writing a table depend on the engine. ``TableStore`` is all
the forecast asks of an engine, and ``DuckDBTableStore`` answers it for the run's DuckDB build
file, ``SparkTableStore`` for a run whose dbt builds on Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.sql import quote_identifier


@dataclass(frozen=True, order=True)
class Relation:
    """A table or view of the warehouse, by schema and name."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


class TableStore(Protocol):
    """Reads relations as DataFrames and writes DataFrames as tables, for one warehouse."""

    def read(self, relation: Relation) -> pd.DataFrame:
        """Every row of ``relation``, in no particular order."""
        ...

    def replace(self, tables: Mapping[Relation, pd.DataFrame]) -> None:
        """Create or replace each table with the rows and column types of its DataFrame, all of
        them or none: a reader never sees one table of this write beside another's old rows."""
        ...


class DuckDBTableStore:
    """A ``TableStore`` on one DuckDB file, through the project's hardened connections.

    Column types follow the DataFrame's dtypes as DuckDB reads them (``string`` → VARCHAR,
    ``Int64`` → BIGINT, ``Float64`` → DOUBLE), as dbt-duckdb did when the forecasts were dbt
    models: the marts built on them keep their types. A table is replaced, never appended to, so
    running the forecast again leaves the same rows.
    """

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file

    def read(self, relation: Relation) -> pd.DataFrame:
        with connection(self.database_file, read_only=True) as con:
            return con.execute(f"select * from {_qualified(relation)}").df()

    def replace(self, tables: Mapping[Relation, pd.DataFrame]) -> None:
        with connection(self.database_file) as con:
            con.execute("begin transaction")
            try:
                for relation, frame in tables.items():
                    con.execute(f"create schema if not exists {quote_identifier(relation.schema)}")
                    con.register("frame_to_write", frame)
                    con.execute(
                        f"create or replace table {_qualified(relation)} "
                        "as select * from frame_to_write"
                    )
                    con.unregister("frame_to_write")
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise


class SparkTableStore:
    """A ``TableStore`` for a run built on Spark (``owh run --engine spark``).

    After each dbt build on Spark the run's DuckDB build file holds a copy of every table Spark
    built (``pipelines.lib.spark_engine.import_spark_tables``), so the inputs are read from there.
    A write replaces the tables in the build file first (the report and the publish step read
    them there, as after a DuckDB build), then exports their schema to Parquet in the run's Spark
    folder and registers it in Spark as external tables, where dbt's second build reads them.
    If the registration fails the forecast step fails, and the second build does not run.
    """

    def __init__(self, database_file: Path, spark_dir: Path) -> None:
        self.duckdb = DuckDBTableStore(database_file)
        self.spark_dir = spark_dir

    def read(self, relation: Relation) -> pd.DataFrame:
        return self.duckdb.read(relation)

    def replace(self, tables: Mapping[Relation, pd.DataFrame]) -> None:
        from pipelines.lib.spark_engine import share_schema_with_spark

        self.duckdb.replace(tables)
        for schema in sorted({relation.schema for relation in tables}):
            share_schema_with_spark(self.duckdb.database_file, self.spark_dir, schema)


def _qualified(relation: Relation) -> str:
    return f"{quote_identifier(relation.schema)}.{quote_identifier(relation.name)}"
