"""How a dbt process is told which file to build and for which day."""

import datetime as dt
from pathlib import Path

from pipelines.lib.dbt_project import PROFILE_DATABASE_PATH, build_environment


def test_a_build_file_is_named_through_the_home_folder(tmp_path):
    build_file = tmp_path / "build" / "run-1" / "warehouse.duckdb"

    values = build_environment(build_file, dt.date(2026, 10, 31))

    # the profile renders the same path for every build file, so dbt keeps its parse
    assert values == {
        "OWH_DUCKDB_PATH": "~/warehouse.duckdb",
        "HOME": str(build_file.parent),
        "OWH_AS_OF": "2026-10-31",
    }
    assert Path(values["OWH_DUCKDB_PATH"].replace("~", values["HOME"])) == build_file
    assert PROFILE_DATABASE_PATH == "~/warehouse.duckdb"


def test_another_file_is_named_as_it_is_and_as_of_is_optional(tmp_path):
    other = tmp_path / "scratch.duckdb"

    assert build_environment(other) == {"OWH_DUCKDB_PATH": str(other)}
