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

On Spark (``owh run --engine spark``, docs/spark.md) the same two builds run on the profile's
`spark` target in the run's own Spark folder: the first one starts by exporting the raw tables to
Parquet and registering them in Spark, and each one ends by copying the tables Spark built into
the run's DuckDB build file, so that failing rows, the forecast, the report and the publish step
read them there exactly as after a DuckDB build.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.dbt_manifest import validate_manifest
from packaging import version
from pydantic import PrivateAttr

from pipelines.defs.checks import attach_failing_rows
from pipelines.defs.resources import WRITER_POOL, WarehouseResource, build_id, run_as_of
from pipelines.lib import dbt_preload, gx_worker
from pipelines.lib.carry_over import PREVIOUS_BUILD_SCHEMA, ensure_build_state, project_code
from pipelines.lib.dbt_preload import PreloadedDbt, launcher_command
from pipelines.lib.dbt_project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    DBT_TARGET_PATH,
    FILE_LOG_ARGS,
    PARTIAL_PARSE_FILE,
    build_environment,
    dbt_environment,
    dbt_threads,
    ensure_manifest,
)
from pipelines.lib.spark_engine import (
    RAW_SCHEMA,
    SPARK_TARGET,
    dbt_spark_environment,
    import_spark_tables,
    share_schemas_with_spark,
    spark_profiles_dir,
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


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without the two things it does in the Dagster process
    before every ``dbt build``, which the project never uses. They cost about 3.5 s of each
    build step, while no dbt node runs:

    - it asked the dbt executable for its version (``dbt --version``, a process that imports dbt)
      to tell dbt Core from dbt Fusion; the project runs the dbt Core of its own lock, whose
      version the installed package metadata gives;
    - it loaded the profile and opened a dbt adapter in this process, used only to fetch row
      counts and column metadata after the build (``fetch_row_counts``,
      ``fetch_column_metadata``), which the project does not ask for.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(package_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None


class PreloadedDbtCliResource(ProjectDbtCliResource):
    """The nightly's dbt resource: its builds run in processes forked from a dbt imported once,
    when the run's resources are set up (``pipelines.lib.dbt_preload``). Its dbt executable is
    the launcher of ``pipelines.lib.dbt_launch``; a resource that was not set up, or whose
    preloaded process ended, runs ``dbt`` itself through that launcher."""

    _preloaded: PreloadedDbt | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        kept_parse = Path(self.project_dir) / DBT_TARGET_PATH / PARTIAL_PARSE_FILE
        if dbt_preload.sharing():  # many nightlies in one process: one preloaded dbt for all
            self._preloaded = dbt_preload.shared(kept_parse)
            return
        self._preloaded = PreloadedDbt(kept_parse=kept_parse)
        self._preloaded.start()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._preloaded is not None and not dbt_preload.sharing():
            self._preloaded.stop()
        self._preloaded = None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        with dbt_environment(**dbt_preload.launcher_environment(self._preloaded)):
            return super().cli(args, **kwargs)


# The dbt source the forecast asset writes, and the dbt selection of everything that reads it.
FORECAST_SOURCE = "forecast"
AFTER_FORECASTS = f"source:{FORECAST_SOURCE}+"


# The build's arguments: every resource type but unit tests. Unit tests check the SQL, not the
# data: they run with the test suite (`make test`, `make test-spark`), where the SQL changes, not
# in every nightly build. Its log file (dbt.log in the build's target folder) keeps what dbt
# prints, in text (FILE_LOG_ARGS).
BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test", *FILE_LOG_ARGS, "--no-write-json")


def report_carry_over(context: dg.AssetExecutionContext, build_file: Path) -> None:
    """Before the first ``dbt build``: say whether the build file started from the published
    build's incremental tables (``pipelines.lib.carry_over``, done by the first ingest step)."""
    manifest, fingerprint = project_code()
    carry = ensure_build_state(build_file, manifest, fingerprint=fingerprint)
    if carry.carried:
        names = ", ".join(str(relation) for relation in carry.carried)
        context.log.info(f"incremental build: started from the published {names}")
    else:
        context.log.info(f"full build of every model: {carry.reason}")


def build_project(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    *,
    first: bool = False,
) -> Iterator[Any]:
    """``dbt build`` of the definition's selection (or the run's subset of it) into the run's
    build file, on the run's as_of date. The ``first`` build of a run says what the build file
    started from (``report_carry_over``); on Spark it also makes the raw tables of the build file
    and the previous build's fingerprints readable by Spark."""
    build_file = warehouse.build_file(context)
    if not build_file.exists():
        raise dg.Failure(
            f"build file {build_file} does not exist: the ingest assets of this run did not run"
        )
    if first:
        # the suites have run (they gate this build): their GX worker's memory goes to dbt
        if gx_worker.release():
            context.log.info("Great Expectations worker ended: the suites are done")
        report_carry_over(context, build_file)
    if warehouse.on_spark:
        yield from build_project_on_spark(context, warehouse, build_file, shares_raw=first)
        return
    # dbt's process takes the environment when it starts; HOME names its build file (see
    # build_environment), so it is set only while the process starts, not while its events stream
    with dbt_environment(**build_environment(build_file, run_as_of(context))):
        invocation = dbt.cli(
            [*BUILD_ARGS, "--threads", str(dbt_threads())],
            context=context,
            target_path=dbt_target_path(context, warehouse),
        )
    yield from attach_failing_rows(invocation.stream(), build_file, invocation.manifest)


def dbt_target_path(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Path:
    """Where a build step's dbt writes its artifacts and dbt.log: the run's build folder, which
    is removed once the run is published and kept, for a while, when it fails. (dagster-dbt's
    default, a new folder under dbt_project/target for every build, grew by 25 MB a build.)"""
    return warehouse.layout.build_dir(build_id(context)) / "dbt" / context.op_def.name


def build_project_on_spark(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    build_file: Path,
    *,
    shares_raw: bool,
) -> Iterator[Any]:
    """The same build on the `spark` target, in the run's Spark folder; the tables Spark built are
    copied into the build file when dbt ends, whether or not it failed, before the failed checks
    read their stored rows from it."""
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    spark_dir = warehouse.spark_dir(context)
    spark_dir.mkdir(parents=True, exist_ok=True)
    if shares_raw:
        shared = share_schemas_with_spark(
            build_file, spark_dir, (RAW_SCHEMA, PREVIOUS_BUILD_SCHEMA)
        )
        for schema, tables in shared.items():
            context.log.info(f"registered {len(tables)} {schema} tables in Spark ({spark_dir})")
    spark_dbt = ProjectDbtCliResource(
        project_dir=dbt_project,
        dbt_executable=DBT_EXECUTABLE,
        profiles_dir=str(spark_profiles_dir()),
        target=SPARK_TARGET,
    )
    environment = {**dbt_spark_environment(spark_dir), "OWH_AS_OF": run_as_of(context).isoformat()}
    with dbt_environment(**environment):
        # one thread: a local session is one JVM whose statements queue on the driver anyway
        invocation = spark_dbt.cli(
            [*BUILD_ARGS, "--threads", "1"],
            context=context,
            target_path=dbt_target_path(context, warehouse),
        )

    def events_then_import() -> Iterator[Any]:
        reported: set[dg.AssetCheckKey] = set()
        try:
            for event in invocation.stream():
                if isinstance(event, dg.AssetCheckResult):
                    reported.add(dg.AssetCheckKey(event.asset_key, event.check_name))
                yield event
        except DagsterDbtCliRuntimeError:
            import_spark_tables(spark_dir, build_file)
            raise
        imported = import_spark_tables(spark_dir, build_file)
        context.log.info(f"copied {len(imported)} Spark tables into {build_file}")
        unreported = missing_check_results(context.selected_asset_check_keys, reported)
        if unreported:
            raise dg.Failure(unreported)

    yield from attach_failing_rows(events_then_import(), build_file, invocation.manifest)


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
    yield from build_project(context, dbt, warehouse, first=True)


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


def missing_check_results(
    selected: Iterable[dg.AssetCheckKey], reported: set[dg.AssetCheckKey]
) -> str | None:
    """What to fail with when a dbt build that succeeded reported no result for some of the
    selected checks (None when every check reported), so that no blocking check passes unseen:
    on Spark the JVM shares the dbt process's stdout, where dbt's JSON events are read."""
    missing = sorted(key.to_user_string() for key in set(selected) - reported)
    if not missing:
        return None
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    shown = ", ".join(missing[:10]) + more
    return f"dbt reported no result for {len(missing)} checks: {shown}"


dbt_resource = PreloadedDbtCliResource(
    project_dir=dbt_project,
    dbt_executable=launcher_command()[0],
    global_config_flags=launcher_command()[1:],
)


def read_manifest(manifest_path: Path) -> Mapping[str, Any]:
    """The parsed manifest at ``manifest_path``, read once per process: the same object
    ``@dbt_assets`` reads (dagster-dbt keeps it per path), so the definitions parse the 3 MB file
    once instead of four times. Read-only."""
    return validate_manifest(manifest_path)


def mart_asset_keys(manifest_path: Path | None = None) -> list[dg.AssetKey]:
    """Asset keys of every model in the marts layer: what the report reads and publish waits on."""
    manifest = read_manifest(manifest_path or ensure_manifest())
    return sorted(
        (
            translator.get_asset_key(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
        ),
        key=lambda key: key.to_user_string(),
    )
