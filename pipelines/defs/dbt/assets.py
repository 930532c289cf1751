"""dbt models, seeds and tests as Dagster assets and asset checks.

One ``@dbt_assets`` definition for the whole project: dbt tests become asset checks (blocking when
their severity is ``error``), and a failing ``dbt build`` fails the step, so nothing downstream
(report, publish) runs. dbt writes into the run's build file, never into the serving file.
"""

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from pipelines.defs.ingest.assets import WRITER_POOL
from pipelines.defs.resources import WarehouseResource, run_as_of

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# The dbt of this environment, whether or not the virtual environment is activated.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file."""
    manifest = project.manifest_path
    sources = [
        p
        for folder in ("models", "macros", "data-tests")
        for p in (project.project_dir / folder).rglob("*")
        if p.is_file()
    ]
    sources += list((project.project_dir.parent / "seeds").glob("*"))
    sources += [project.project_dir / "dbt_project.yml", project.project_dir / "profiles.yml"]
    newest = max((p.stat().st_mtime for p in sources), default=0.0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        parsed = subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
                "--target-path",
                str(project.target_path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        if parsed.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{parsed.stdout}{parsed.stderr}")
    return manifest


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, intermediate, marts; seeds in config)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = LayeredTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for a dbt subprocess and restore them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WRITER_POOL,
)
def outcome_warehouse_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    build_file = warehouse.build_file(context)
    if not build_file.exists():
        raise dg.Failure(
            f"build file {build_file} does not exist: the ingest assets of this run did not run"
        )
    dbt_vars = json.dumps({"as_of": run_as_of(context).isoformat()})
    with _environment(OWH_DUCKDB_PATH=str(build_file)):
        yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def mart_asset_keys(manifest_path: Path | None = None) -> list[dg.AssetKey]:
    """Asset keys of every model in the marts layer: what the report reads and publish waits on."""
    manifest = json.loads((manifest_path or ensure_manifest()).read_text())
    return sorted(
        (
            translator.get_asset_key(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
        ),
        key=lambda key: key.to_user_string(),
    )
