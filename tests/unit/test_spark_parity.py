"""The mart comparison of the Spark tests: what it accepts and what it reports."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from tests.spark_parity import (
    compare_mart_folders,
    differences,
    relative_difference,
)


def write_mart(folder: Path, name: str, sql: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"copy ({sql}) to '{folder / name}.parquet' (format parquet)")


def test_relative_difference():
    assert relative_difference(2.0, 2.0) == 0.0
    assert relative_difference(math.nan, math.nan) == 0.0
    assert relative_difference(1.0, 1.0 + 2**-52) == 2**-52 / (1.0 + 2**-52)
    assert relative_difference(0.0, 1e-300) == 1.0
    assert relative_difference(1.0, math.nan) == math.inf


def test_equal_marts_in_another_row_order_with_doubles_within_the_tolerance(tmp_path):
    write_mart(
        tmp_path / "duckdb",
        "mart_a",
        "select key, n, cast(x as double) as x "
        "from (values ('t-1', 3, 0.1::double + 0.2::double), ('t-2', null, 1.5)) v(key, n, x)",
    )
    write_mart(
        tmp_path / "spark",
        "mart_a",
        "select key, n, cast(x as double) as x "
        "from (values ('t-2', null, 1.5), ('t-1', 3, 0.3)) v(key, n, x)",
    )

    [result] = compare_mart_folders(tmp_path / "duckdb", tmp_path / "spark")

    assert differences([result]) == {}
    assert (result.rows, result.doubles_compared, result.doubles_not_identical) == (2, 2, 1)
    assert result.largest_relative_difference == relative_difference(0.1 + 0.2, 0.3)


def test_differences_name_the_mart_row_and_column(tmp_path):
    write_mart(
        tmp_path / "duckdb",
        "mart_a",
        "select 'k' as key, 1.0::decimal(7, 6) as x, date '2026-03-29' as d",
    )
    write_mart(
        tmp_path / "spark",
        "mart_a",
        "select 'k' as key, 1.000001::decimal(7, 6) as x, date '2026-03-30' as d",
    )
    write_mart(tmp_path / "duckdb", "mart_b", "select 1 as n")
    write_mart(tmp_path / "spark", "mart_b", "select cast(1 as bigint) as n")
    write_mart(tmp_path / "duckdb", "mart_c", "select 1 as n")
    write_mart(tmp_path / "spark", "mart_d", "select 1 as n union all select 2")

    found = differences(compare_mart_folders(tmp_path / "duckdb", tmp_path / "spark"))

    assert found == {
        "mart_a": [
            "row 1 x: Decimal('1.000000') != Decimal('1.000001')",
            "row 1 d: datetime.date(2026, 3, 29) != datetime.date(2026, 3, 30)",
        ],
        "mart_b": ["columns [('n', 'INTEGER')] != [('n', 'BIGINT')]"],
        "mart_c": ["not published by Spark"],
        "mart_d": ["not published by DuckDB"],
    }


def test_doubles_beyond_the_tolerance_differ(tmp_path):
    write_mart(tmp_path / "duckdb", "m", "select cast(1.0 as double) as x")
    write_mart(tmp_path / "spark", "m", "select cast(1.0 + 2e-9 as double) as x")

    assert differences(compare_mart_folders(tmp_path / "duckdb", tmp_path / "spark")) == {
        "m": ["row 1 x: 1.0 != 1.000000002"]
    }
