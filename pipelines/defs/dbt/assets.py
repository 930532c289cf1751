"""dbt models, seeds and tests as Dagster assets and asset checks.

Two ``@dbt_assets`` definitions split the project around the delivery forecasts, which are
simulated in Python outside dbt (``pipelines.defs.forecast``) and reach dbt as the source
``forecast``: ``outcome_warehouse_dbt`` builds everything that does not read that source, among
it the forecast's inputs; ``outcome_warehouse_dbt_after_forecasts`` builds the models that read it,
and runs the source's tests, once the forecast asset has written it. The nightly job thus runs
``dbt build`` twice, in that order, with the forecast step between. Dagster would split one
definition around the cycle by itself, but at every change of asset definition upstream (seeds,
each ingest, the forecast): four ``dbt build`` invocations, each choosing its tests by dbt's eager
indirect selection, so the second already ran tests on ``fct_tasks`` and the forecast marts, which
only the third and fourth build, and failed the run. The two selections here split the project's
tests without overlap, each test in the build of its last parent.

dbt tests become asset checks (blocking when their severity is ``error``), and a failing
``dbt build`` fails its step, so nothing downstream (forecast, report, publish) runs. dbt writes
into the run's build file, never into the serving file. A failed check of a test that stores its
failing rows carries its first rows (``pipelines.defs.checks``).
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


# The dbt source the forecast asset writes, and the dbt selection of everything that reads it.
FORECAST_SOURCE = "forecast"
AFTER_FORECASTS = f"source:{FORECAST_SOURCE}+"


def build_project(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """``dbt build`` of the definition's selection (or the run's subset of it) into the run's
    build file, on the run's as_of date."""
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


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=AFTER_FORECASTS,
    pool=WRITER_POOL,
)
def outcome_warehouse_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Every seed, model and test that does not read the forecast source."""
    yield from build_project(context, dbt, warehouse)


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=AFTER_FORECASTS,
    pool=WRITER_POOL,
)
def outcome_warehouse_dbt_after_forecasts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """The models downstream of the forecast source, their tests and the source's own tests."""
    yield from build_project(context, dbt, warehouse)


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
