"""The delivery forecasts as one Dagster asset between two parts of the dbt build.

The Monte Carlo simulation is Python (``pipelines.forecast``), and a dbt Python model runs only
where the adapter runs Python; so the simulation runs here, in the pipeline's process, for every
engine. The asset reads the two counts dbt built (``int_workstream_tasks_counted_at_as_of``,
``int_workstream_completions_counted_to_days``) from the run's build file and writes the two
tables that dbt declares as the source ``forecast``; the models that select from that source
(``mart_delivery_forecast``, ``int_outcome_forecasts_dated`` and what reads them) build after it.

Everything that names the forecast comes from the parsed dbt manifest, so dbt and Dagster cannot
disagree: the asset keys are those dagster-dbt gives the two source tables (their
``meta.dagster.asset_key``), the dependencies are the asset keys of the two input models, the
relations are where dbt reads and builds them, and the seed, trials and horizon are the dbt vars
``forecast_seed``, ``forecast_trials`` and ``forecast_horizon_days`` as rendered into the source's
``meta``. The source tests become blocking asset checks of these keys, run by dbt after this asset.
"""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.dbt.assets import FORECAST_SOURCE, read_manifest, translator
from pipelines.defs.resources import WRITER_POOL, WarehouseResource, run_as_of
from pipelines.forecast.delivery import SimulationSettings
from pipelines.forecast.run import ForecastRelations, run_forecasts
from pipelines.forecast.tables import DuckDBTableStore, Relation, SparkTableStore, TableStore
from pipelines.lib.dbt_project import ensure_manifest

WORKSTREAM_FORECASTS_TABLE = "workstream_forecasts_simulated"
OUTCOME_FORECASTS_TABLE = "outcome_forecasts_simulated"
HOW_MANY_FORECASTS_TABLE = "workstream_how_many_simulated"
WORKSTREAM_TASKS_MODEL = "int_workstream_tasks_counted_at_as_of"
DAILY_COMPLETIONS_MODEL = "int_workstream_completions_counted_to_days"
# the source's meta keys, rendered from the dbt vars of the same names
SETTINGS_META_KEYS = (
    "forecast_seed",
    "forecast_trials",
    "forecast_horizon_days",
    "forecast_how_many_days",
)


@dataclass(frozen=True)
class ForecastPlan:
    """What the forecast asset reads, writes and simulates with, as the dbt project declares it."""

    relations: ForecastRelations
    settings: SimulationSettings
    workstream_forecasts: Mapping[str, Any]
    outcome_forecasts: Mapping[str, Any]
    how_many_forecasts: Mapping[str, Any]
    input_keys: tuple[dg.AssetKey, dg.AssetKey]

    @property
    def workstream_forecasts_key(self) -> dg.AssetKey:
        return translator.get_asset_key(self.workstream_forecasts)

    @property
    def outcome_forecasts_key(self) -> dg.AssetKey:
        return translator.get_asset_key(self.outcome_forecasts)

    @property
    def how_many_forecasts_key(self) -> dg.AssetKey:
        return translator.get_asset_key(self.how_many_forecasts)


def forecast_plan(manifest: Mapping[str, Any]) -> ForecastPlan:
    """The forecast's relations, settings and asset keys, read from a parsed dbt manifest."""
    workstream_tasks = _model(manifest, WORKSTREAM_TASKS_MODEL)
    daily_completions = _model(manifest, DAILY_COMPLETIONS_MODEL)
    workstream_forecasts = _source_table(manifest, FORECAST_SOURCE, WORKSTREAM_FORECASTS_TABLE)
    outcome_forecasts = _source_table(manifest, FORECAST_SOURCE, OUTCOME_FORECASTS_TABLE)
    how_many_forecasts = _source_table(manifest, FORECAST_SOURCE, HOW_MANY_FORECASTS_TABLE)
    return ForecastPlan(
        relations=ForecastRelations(
            workstream_tasks=Relation(workstream_tasks["schema"], workstream_tasks["alias"]),
            daily_completions=Relation(daily_completions["schema"], daily_completions["alias"]),
            workstream_forecasts=Relation(
                workstream_forecasts["schema"], workstream_forecasts["identifier"]
            ),
            outcome_forecasts=Relation(
                outcome_forecasts["schema"], outcome_forecasts["identifier"]
            ),
            how_many_forecasts=Relation(
                how_many_forecasts["schema"], how_many_forecasts["identifier"]
            ),
        ),
        settings=simulation_settings(workstream_forecasts),
        workstream_forecasts=workstream_forecasts,
        outcome_forecasts=outcome_forecasts,
        how_many_forecasts=how_many_forecasts,
        input_keys=(
            translator.get_asset_key(workstream_tasks),
            translator.get_asset_key(daily_completions),
        ),
    )


def simulation_settings(source_table: Mapping[str, Any]) -> SimulationSettings:
    """Seed, trials, horizon and the "how many" days from a forecast source table's ``meta``
    (the dbt vars; the days are a list, rendered as its JSON text).

    No default here: a setting missing from the project is an error, not a silent other value.
    """
    meta = source_table["config"].get("meta", {})
    missing = [key for key in SETTINGS_META_KEYS if meta.get(key) is None]
    if missing:
        raise ValueError(
            f"source {source_table['unique_id']} lacks meta {', '.join(missing)}: "
            "the forecast settings are the dbt vars rendered into its meta"
        )
    return SimulationSettings(
        seed=int(meta["forecast_seed"]),
        trials=int(meta["forecast_trials"]),
        horizon_days=int(meta["forecast_horizon_days"]),
        how_many_days=_days(source_table, meta["forecast_how_many_days"]),
    )


def _days(source_table: Mapping[str, Any], rendered: object) -> tuple[int, ...]:
    """The days of ``forecast_how_many_days``: whole days after as_of, at least 1 each."""
    try:
        days = json.loads(rendered) if isinstance(rendered, str) else rendered
        parsed = tuple(sorted({int(day) for day in days}))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"source {source_table['unique_id']} meta forecast_how_many_days is {rendered!r}: "
            "expected a list of whole days, such as [30, 60, 90]"
        ) from error
    if any(day < 1 for day in parsed):
        raise ValueError(
            f"source {source_table['unique_id']} meta forecast_how_many_days is {rendered!r}: "
            "every day must be at least 1 (a day after as_of)"
        )
    return parsed


def _model(manifest: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    found = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] == name
    ]
    if len(found) != 1:
        raise ValueError(f"the dbt project has {len(found)} models named {name}, expected 1")
    return found[0]


def _source_table(manifest: Mapping[str, Any], source: str, table: str) -> Mapping[str, Any]:
    found = [
        props
        for props in manifest["sources"].values()
        if props["source_name"] == source and props["name"] == table
    ]
    if len(found) != 1:
        raise ValueError(f"the dbt project has {len(found)} sources {source}.{table}, expected 1")
    return found[0]


def _spec(source_table: Mapping[str, Any], deps: tuple[dg.AssetKey, ...]) -> dg.AssetSpec:
    """The asset of one forecast table, documented as its dbt source is."""
    columns = [
        dg.TableColumn(
            name=column["name"],
            type=column.get("data_type") or "unknown",
            description=column.get("description") or None,
        )
        for column in source_table["columns"].values()
    ]
    return dg.AssetSpec(
        key=translator.get_asset_key(source_table),
        deps=deps,
        description=source_table["description"],
        group_name="forecast",
        kinds={"python", "duckdb"},
        metadata={"dagster/column_schema": dg.TableSchema(columns=columns)},
    )


def build_forecast_assets(manifest_path: Path) -> dg.AssetsDefinition:
    """The forecast asset of the dbt project parsed into ``manifest_path``."""
    plan = forecast_plan(read_manifest(manifest_path))

    @dg.multi_asset(
        name="delivery_forecasts",
        specs=[
            _spec(plan.workstream_forecasts, plan.input_keys),
            _spec(plan.outcome_forecasts, plan.input_keys),
            _spec(plan.how_many_forecasts, plan.input_keys),
        ],
        pool=WRITER_POOL,
        description=(
            "Monte Carlo delivery forecasts per workstream and per outcome, and how many tasks "
            "each workstream completes by given days (pipelines.forecast), "
            "from the counts dbt built, written back into the run's build file as dbt source "
            "'forecast' (and registered in Spark when dbt builds there)."
        ),
    )
    def delivery_forecasts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        build_file = warehouse.build_file(context)
        if not build_file.exists():
            raise dg.Failure(
                f"build file {build_file} does not exist: the dbt models of this run did not run"
            )
        store: TableStore = (
            SparkTableStore(build_file, warehouse.spark_dir(context))
            if warehouse.on_spark
            else DuckDBTableStore(build_file)
        )
        tables = run_forecasts(store, plan.relations, plan.settings)
        common = {
            "as_of": dg.MetadataValue.text(run_as_of(context).isoformat()),
            "simulation_seed": plan.settings.seed,
            "simulation_trials": plan.settings.trials,
            "horizon_days": plan.settings.horizon_days,
        }
        for key, relation, frame in (
            (
                plan.workstream_forecasts_key,
                plan.relations.workstream_forecasts,
                tables.workstreams,
            ),
            (plan.outcome_forecasts_key, plan.relations.outcome_forecasts, tables.outcomes),
            (plan.how_many_forecasts_key, plan.relations.how_many_forecasts, tables.how_many),
        ):
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    **common,
                    "table": dg.MetadataValue.text(str(relation)),
                    "dagster/row_count": len(frame),
                },
            )

    return delivery_forecasts


delivery_forecasts = build_forecast_assets(ensure_manifest())
