"""Reading back what a test wrote into a DuckDB file, independently of the code under test."""

from __future__ import annotations

from pathlib import Path

from pipelines.forecast.tables import Relation
from pipelines.lib.duckdb_connection import connection


def table(database: Path, relation: Relation) -> tuple[list[tuple], list[tuple]]:
    """A table's (column, type) pairs and its rows in order."""
    with connection(database, read_only=True) as con:
        name = f"{relation.schema}.{relation.name}"
        types = [(row[0], row[1]) for row in con.execute(f"describe {name}").fetchall()]
        return types, con.execute(f"select * from {name} order by all").fetchall()


def relations(database: Path) -> list[str]:
    """Every table and view of the file, as schema.name, in order."""
    with connection(database, read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1"
        ).fetchall()
    return [row[0] for row in rows]
