"""The failing rows that dbt tests store, read back and shown as a markdown table.

Singular tests store their failing rows in schema ``audit`` of the build file (``store_failures``
in ``dbt_project.yml``). dbt itself only says a test "got N results"; these helpers find a test's
audit table in the manifest, read its first rows without personal data, and render them so that
they read as a table in a terminal as well as in the Dagster UI (``pipelines.defs.checks``
attaches them to the failed check).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.sql import quote_identifier

# How many failing rows a check shows; the whole set stays in the audit table of the build file.
FAILING_ROWS_SHOWN = 20
# Pseudonymised person columns: a test that returned one still never shows it.
PERSONAL_DATA_COLUMNS = frozenset({"assignee", "author", "respondent"})


def stored_failures_tables(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Schema and table of each dbt test that stores its failing rows, by the test's unique id.

    Schema and alias rather than dbt's ``relation_name``: that one names the catalog, and the
    catalog of a DuckDB file is named after the file, which the reader may have opened elsewhere.
    """
    return {
        unique_id: (node["schema"], node["alias"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node.get("relation_name")
    }


def read_failing_rows(
    database_file: Path, schema: str, table: str, *, limit: int = FAILING_ROWS_SHOWN
) -> tuple[list[str], list[tuple]]:
    """The first ``limit`` rows of an audit table (in the order of all their values, so the
    same failures always show the same rows), without personal data columns."""
    relation = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    with connection(database_file, read_only=True) as con:
        described = con.execute(f"select * from {relation} limit 0").description
        columns = [c[0] for c in described if c[0].lower() not in PERSONAL_DATA_COLUMNS]
        if not columns:
            return [], []
        select_list = ", ".join(quote_identifier(c) for c in columns)
        rows = con.execute(
            f"select {select_list} from {relation} order by all limit {int(limit)}"
        ).fetchall()
    return columns, rows


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    """A markdown table whose cells are padded to their column's width, so that it reads as an
    aligned table in a terminal as well as in the Dagster UI."""
    cells = [[_markdown_cell(v) for v in row] for row in rows]
    widths = [max(len(name), 3, *(len(row[i]) for row in cells)) for i, name in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return "\n".join(
        [line(list(columns)), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    )


def _markdown_cell(value: object) -> str:
    if value is None:
        return ""
    # one line per cell: a newline would end the table row, a bar would start a new cell
    return " ".join(str(value).split()).replace("|", "\\|")
