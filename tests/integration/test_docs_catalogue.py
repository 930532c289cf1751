"""The data catalogue (`make docs`): dbt's docs site generated from the shared demo build's
published warehouse documents every mart and every column, and names the report and the
semantic layer as the marts' readers."""

from __future__ import annotations

import json

import pytest

from pipelines.lib.layout import WarehouseLayout
from pipelines.metrics.docs import DocsError, generate_docs
from pipelines.report.queries import REPORT_MARTS

from .conftest import preloaded_dbt
from .test_pipeline import MARTS

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]


@pytest.fixture(scope="module")
def docs_site(demo_run, tmp_path_factory):
    _, warehouse, _ = demo_run
    serving = WarehouseLayout(warehouse).serving_file
    before = serving.stat()
    launcher, environment = preloaded_dbt()
    target = generate_docs(
        warehouse, tmp_path_factory.mktemp("docs"), dbt=launcher, environment=environment
    )
    after = serving.stat()
    # read from a copy: the published file is neither replaced nor written
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return target, manifest, catalog


def test_every_mart_and_every_column_has_a_description(docs_site):
    _, manifest, catalog = docs_site
    marts = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }
    # every mart the pipeline test knows of is among them
    assert {node["name"] for node in marts.values()} >= MARTS
    catalogued = {
        unique_id: entry
        for unique_id, entry in catalog["nodes"].items()
        if entry["metadata"]["schema"] == "marts"
    }
    assert set(catalogued) == set(marts)
    undocumented = [
        unique_id for unique_id, node in marts.items() if not node["description"].strip()
    ]
    undocumented_columns = [
        f"{unique_id}.{column}"
        for unique_id, entry in catalogued.items()
        for column in entry["columns"]
        if not marts[unique_id]["columns"].get(column, {}).get("description", "").strip()
    ]
    assert undocumented == []
    assert undocumented_columns == []
    # the warehouse holds exactly the documented columns (the contracts), none unlisted
    for unique_id, entry in catalogued.items():
        assert set(entry["columns"]) == set(marts[unique_id]["columns"]), unique_id


def test_the_exposures_name_the_report_marts_and_the_metrics(docs_site):
    _, manifest, _ = docs_site
    report = manifest["exposures"]["exposure.outcome_warehouse.leadership_report"]
    read = {node.rsplit(".", 1)[1] for node in report["depends_on"]["nodes"]}
    # the report's own list of what it reads: an exposure that drifts from it fails here
    assert read == set(REPORT_MARTS)
    semantic = manifest["exposures"]["exposure.outcome_warehouse.semantic_layer"]
    metrics = {node.rsplit(".", 1)[1] for node in semantic["depends_on"]["nodes"]}
    assert {"throughput", "wip", "flow_efficiency", "outcome_progress"} <= metrics
    assert "sem_tasks" in metrics


def test_the_site_is_one_file_that_opens_offline(docs_site):
    target, _, _ = docs_site
    page = (target / "static_index.html").read_text()
    assert "leadership_report" in page
    assert not (target / "warehouse" / "warehouse.duckdb").exists()


def test_no_published_warehouse_is_named(tmp_path):
    with pytest.raises(DocsError, match=f"no published warehouse at {tmp_path}/warehouse.duckdb"):
        generate_docs(tmp_path, tmp_path / "docs")


def test_the_warehouse_carries_every_models_descriptions_for_bi_tools(docs_site):
    """What a BI tool browsing the published file sees: each model's description on its table or
    view and each documented column's on its column (dbt's persist_docs, written by
    macros/persist_docs.sql), read back from DuckDB's catalogue, in every layer."""
    _, manifest, catalog = docs_site
    models = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    # every layer, not the marts alone
    assert {node["config"]["schema"] for node in models.values()} >= {
        "staging",
        "intermediate",
        "marts",
        "semantic",
    }
    expected, found = {}, {}
    for unique_id, node in models.items():
        entry = catalog["nodes"][unique_id]
        expected[unique_id] = node["description"]
        found[unique_id] = entry["metadata"]["comment"]
        for name, column in node["columns"].items():
            expected[f"{unique_id}.{name}"] = column["description"]
            found[f"{unique_id}.{name}"] = entry["columns"][name]["comment"]
    assert found == expected
