"""Every macro the project dispatches per adapter is listed in docs/spark.md ("Portable SQL"),
with its DuckDB and Spark implementations: the table a reader porting the project starts from."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MACROS = REPO / "dbt_project" / "macros"
# dbt-spark's own macros the project overrides (seeds, constraints, statements), not portability
SPARK_OVERRIDES = MACROS / "spark"
TABLE_HEADER = "| macro | file | duckdb | spark |"


def dispatched_macros() -> set[str]:
    """The macros with a ``spark__`` implementation, outside the overrides of dbt-spark's own."""
    names = set()
    for path in MACROS.rglob("*.sql"):
        if SPARK_OVERRIDES in path.parents:
            continue
        names |= set(re.findall(r"macro spark__(\w+)\(", path.read_text(encoding="utf-8")))
    return names


def documented_macros() -> set[str]:
    """The macros named in the first column of the portable SQL table of docs/spark.md."""
    lines = (REPO / "docs" / "spark.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER) + 2
    names = set()
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        names |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    return names


def test_every_dispatched_macro_is_in_the_portable_sql_table() -> None:
    dispatched = dispatched_macros()
    assert {"array_any", "exploded", "row_fingerprint", "utc_to_local_timestamp"} <= dispatched
    assert sorted(dispatched - documented_macros()) == []
