"""One forecast run: read the two counts, simulate, write both forecast tables.

Engine-free: the warehouse is a ``TableStore`` and the relations are named by the caller (the
Dagster asset takes them from the dbt manifest, where the inputs are dbt models and the outputs
dbt sources), so the same run serves every engine the warehouse is built on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.forecast.delivery import (
    SimulationSettings,
    forecast_how_many,
    forecast_outcomes,
    forecast_workstreams,
)
from pipelines.forecast.tables import Relation, TableStore


@dataclass(frozen=True)
class ForecastRelations:
    """What the forecasts read and where they write.

    ``workstream_tasks`` and ``daily_completions`` are the inputs ``pipelines.forecast.delivery``
    describes; ``workstream_forecasts``, ``outcome_forecasts`` and ``how_many_forecasts``
    receive its three results.
    """

    workstream_tasks: Relation
    daily_completions: Relation
    workstream_forecasts: Relation
    outcome_forecasts: Relation
    how_many_forecasts: Relation


@dataclass(frozen=True)
class ForecastTables:
    """The three tables a run wrote."""

    workstreams: pd.DataFrame
    outcomes: pd.DataFrame
    how_many: pd.DataFrame


def run_forecasts(
    store: TableStore, relations: ForecastRelations, settings: SimulationSettings
) -> ForecastTables:
    """Simulate from the inputs in ``store`` and replace the forecast tables in one write.

    The tables come from the same inputs and settings, so they are written together: a reader
    never finds workstream forecasts of one run beside outcome forecasts of another.
    """
    workstream_tasks = store.read(relations.workstream_tasks)
    daily_completions = store.read(relations.daily_completions)
    tables = ForecastTables(
        workstreams=forecast_workstreams(workstream_tasks, daily_completions, settings),
        outcomes=forecast_outcomes(workstream_tasks, daily_completions, settings),
        how_many=forecast_how_many(workstream_tasks, daily_completions, settings),
    )
    store.replace(
        {
            relations.workstream_forecasts: tables.workstreams,
            relations.outcome_forecasts: tables.outcomes,
            relations.how_many_forecasts: tables.how_many,
        }
    )
    return tables
