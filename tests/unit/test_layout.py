"""The warehouse folder layout: every path the package writes, named in one place."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipelines.defs.resources import WarehouseResource
from pipelines.lib.layout import DATABASE_FILE_NAME, WarehouseLayout

ROOT = Path("/srv/owh/warehouse")


def test_paths_of_the_warehouse_folder():
    layout = WarehouseLayout(ROOT)
    assert layout.serving_file == ROOT / "warehouse.duckdb"
    assert layout.marts_dir == ROOT / "marts"
    assert layout.releases_dir == ROOT / "releases"
    assert layout.release_marts_dir("20261101T043000Z-r1") == (
        ROOT / "releases" / "20261101T043000Z-r1" / "marts"
    )
    assert layout.reports_dir == ROOT / "reports"
    assert layout.logs_dir == ROOT / "logs"
    assert layout.log_file("run-1") == ROOT / "logs" / "run-1.log"
    assert layout.cursors_dir == ROOT / "extract"
    assert layout.ingest_scratch_file == ROOT / "ingest" / "warehouse.duckdb"


def test_build_folder_of_a_run():
    layout = WarehouseLayout(ROOT)
    assert layout.builds_dir == ROOT / "build"
    assert layout.build_dir("r1") == ROOT / "build" / "r1"
    assert layout.build_file("r1") == ROOT / "build" / "r1" / "warehouse.duckdb"
    assert layout.build_marts_dir("r1") == ROOT / "build" / "r1" / "marts"
    assert layout.build_reports_dir("r1") == ROOT / "build" / "r1" / "reports"


def test_build_and_serving_files_share_their_basename():
    """dbt-duckdb names the catalog after the file: the swap must not change it."""
    layout = WarehouseLayout(ROOT)
    assert layout.build_file("r1").name == layout.serving_file.name == DATABASE_FILE_NAME
    assert layout.ingest_scratch_file.name == DATABASE_FILE_NAME


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../r1", "a\\b"])
def test_a_run_id_or_release_is_one_folder_name(name):
    layout = WarehouseLayout(ROOT)
    for path_of in (layout.build_dir, layout.build_file, layout.release_dir, layout.log_file):
        with pytest.raises(ValueError, match="not a plain folder name"):
            path_of(name)


def test_layout_is_pure_and_frozen(tmp_path):
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.build_file("r1")
    layout.log_file("r1")
    assert list(tmp_path.iterdir()) == []  # naming a path creates nothing
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.root = tmp_path  # type: ignore[misc]
    assert layout == WarehouseLayout(tmp_path / "warehouse")


def test_the_resource_exposes_the_layout_of_its_folder(tmp_path):
    resource = WarehouseResource(warehouse_dir=str(tmp_path / "warehouse"))
    assert resource.layout == WarehouseLayout((tmp_path / "warehouse").resolve())
