"""Row-by-row comparison of the Parquet marts two runs published (DuckDB's and Spark's).

Every mart of one folder must be in the other with the same columns, column types and number of
rows. Rows are put in the same order on both sides (sorted by every column that is not a double,
then by the doubles), then compared value by value: exactly for everything but doubles (counts,
keys, texts, dates, timestamps), within ``RELATIVE_TOLERANCE`` for doubles, where Spark's
``percentile`` and DuckDB's ``quantile_cont`` interpolate with differently ordered floating-point
operations (docs/spark.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

RELATIVE_TOLERANCE = 1e-9
# differences listed per mart before the rest are only counted
SHOWN_PER_MART = 5


@dataclass
class MartComparison:
    """What comparing one mart of two folders found."""

    name: str
    rows: int = 0
    doubles_compared: int = 0
    doubles_not_identical: int = 0
    largest_relative_difference: float = 0.0
    differences: list[str] = field(default_factory=list)

    def line(self) -> str:
        state = "equal" if not self.differences else f"{len(self.differences)} differences"
        return (
            f"{self.name}: {self.rows} rows, {state}; doubles {self.doubles_compared}, "
            f"not bit-identical {self.doubles_not_identical}, "
            f"largest relative difference {self.largest_relative_difference:.1e}"
        )


def relative_difference(left: float, right: float) -> float:
    """|left - right| relative to the larger magnitude; 0 for equal values (NaN equals NaN)."""
    if left == right or (math.isnan(left) and math.isnan(right)):
        return 0.0
    if math.isnan(left) or math.isnan(right) or math.isinf(left) or math.isinf(right):
        return math.inf
    return abs(left - right) / max(abs(left), abs(right))


def _ordered_rows(path: Path) -> tuple[list[tuple[str, str]], list[tuple]]:
    with duckdb.connect() as con:
        relation = con.sql(f"select * from read_parquet('{path}')")
        columns = [
            (name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)
        ]
        plain = [f'"{n}"' for n, kind in columns if kind != "DOUBLE"]
        doubles = [f'"{n}"' for n, kind in columns if kind == "DOUBLE"]
        order = ", ".join(f"{c} nulls first" for c in plain + doubles)
        rows = con.sql(f"select * from read_parquet('{path}') order by {order}").fetchall()
    return columns, rows


def compare_mart(name: str, expected: Path, actual: Path) -> MartComparison:
    """Compare the mart ``name`` of the expected (DuckDB) and actual (Spark) Parquet files."""
    result = MartComparison(name)
    expected_columns, expected_rows = _ordered_rows(expected)
    actual_columns, actual_rows = _ordered_rows(actual)
    result.rows = len(expected_rows)
    if expected_columns != actual_columns:
        result.differences.append(f"columns {expected_columns} != {actual_columns}")
        return result
    if len(expected_rows) != len(actual_rows):
        result.differences.append(f"{len(expected_rows)} rows != {len(actual_rows)} rows")
        return result
    doubles = {i for i, (_, kind) in enumerate(expected_columns) if kind == "DOUBLE"}
    for number, (left_row, right_row) in enumerate(
        zip(expected_rows, actual_rows, strict=True), start=1
    ):
        for index, (left, right) in enumerate(zip(left_row, right_row, strict=True)):
            column = expected_columns[index][0]
            if index in doubles and left is not None and right is not None:
                result.doubles_compared += 1
                difference = relative_difference(left, right)
                if difference > 0:
                    result.doubles_not_identical += 1
                result.largest_relative_difference = max(
                    result.largest_relative_difference, difference
                )
                if difference <= RELATIVE_TOLERANCE:
                    continue
            elif left == right:
                continue
            result.differences.append(f"row {number} {column}: {left!r} != {right!r}")
    return result


def compare_mart_folders(expected_dir: Path, actual_dir: Path) -> list[MartComparison]:
    """Every mart of both folders, in name order; a mart missing on one side is a difference."""
    expected = {p.stem: p for p in expected_dir.glob("*.parquet")}
    actual = {p.stem: p for p in actual_dir.glob("*.parquet")}
    results = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual or name not in expected:
            side = "Spark" if name not in actual else "DuckDB"
            results.append(MartComparison(name, differences=[f"not published by {side}"]))
            continue
        results.append(compare_mart(name, expected[name], actual[name]))
    return results


def differences(results: list[MartComparison]) -> dict[str, list[str]]:
    """The first differences of every mart that has any, by mart."""
    return {r.name: r.differences[:SHOWN_PER_MART] for r in results if r.differences}
