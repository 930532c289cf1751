"""dbt models, seeds and tests as Dagster assets and asset checks.

One ``@dbt_assets`` definition for the whole project: dbt tests become asset checks (blocking when
their severity is ``error``), and a failing ``dbt build`` fails the step, so nothing downstream
(report, publish) runs. dbt writes into the run's build file, never into the serving file. A
failed check of a test that stores its failing rows carries its first rows
(``pipelines.defs.checks``).
"""

import json
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

from pipelines.defs.checks import attach_failing_rows
from pipelines.defs.resources import WRITER_POOL, WarehouseResource, run_as_of
from pipelines.lib.dbt_project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    DBT_TARGET_PATH,
    build_environment,
    dbt_environment,
    dbt_threads,
    ensure_manifest,
)

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=DBT_TARGET_PATH
)


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
    # dbt's process takes the environment when it starts; HOME names its build file (see
    # build_environment), so it is set only while the process starts, not while its events stream
    with dbt_environment(**build_environment(build_file, run_as_of(context))):
        # Unit tests check the SQL, not the data: they run with the test suite (`make test`),
        # where the SQL changes, not in every nightly build.
        invocation = dbt.cli(
            [
                "build",
                "--exclude-resource-type",
                "unit_test",
                "--threads",
                str(dbt_threads()),
            ],
            context=context,
        )
    yield from attach_failing_rows(invocation.stream(), build_file, invocation.manifest)


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
