"""The forecast's table store (pipelines/forecast/tables.py) and one forecast run (run.py).

The store is the only engine-specific part of the forecast: these tests pin what the DuckDB store
writes (the DataFrame's types, whole tables replaced, all tables or none) and that a run needs
nothing else from an engine.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.forecast.delivery import SimulationSettings
from pipelines.forecast.run import ForecastRelations, run_forecasts
from pipelines.forecast.tables import DuckDBTableStore, Relation
from tests.duckdb_tables import table

SETTINGS = SimulationSettings(seed=7, trials=500, horizon_days=365)
RELATIONS = ForecastRelations(
    workstream_tasks=Relation("intermediate", "tasks"),
    daily_completions=Relation("intermediate", "completions"),
    workstream_forecasts=Relation("forecast", "workstreams"),
    outcome_forecasts=Relation("forecast", "outcomes"),
    how_many_forecasts=Relation("forecast", "how_many"),
)


def test_the_store_writes_the_frames_types_and_replaces_the_table(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    store = DuckDBTableStore(database)
    relation = Relation("forecast", "example")
    frame = pd.DataFrame(
        {
            "name": pd.Series(["a", None], dtype="string"),
            "days": pd.Series([3, None], dtype="Int64"),
            "share": pd.Series([0.25, None], dtype="Float64"),
        }
    )

    store.replace({relation: frame})
    store.replace({relation: frame.iloc[:1]})

    assert table(database, relation) == (
        [("name", "VARCHAR"), ("days", "BIGINT"), ("share", "DOUBLE")],
        [("a", 3, 0.25)],
    )
    read = store.read(relation)
    assert read.to_dict("records") == [{"name": "a", "days": 3, "share": 0.25}]


def test_a_failed_write_leaves_every_table_as_it_was(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    store = DuckDBTableStore(database)
    kept = Relation("forecast", "kept")
    store.replace({kept: pd.DataFrame({"n": pd.Series([1], dtype="Int64")})})

    # the second table's empty name fails after the first was replaced in the transaction
    with pytest.raises(Exception, match="zero-length"):
        store.replace(
            {
                kept: pd.DataFrame({"n": pd.Series([2], dtype="Int64")}),
                Relation("forecast", ""): pd.DataFrame({"n": pd.Series([3], dtype="Int64")}),
            }
        )

    assert table(database, kept)[1] == [(1,)]


def test_run_forecasts_reads_through_the_store_and_writes_once():
    """Engine-free: any TableStore serves, and the three tables reach it in a single write."""

    class MemoryStore:
        def __init__(self, tables):
            self.tables = tables
            self.writes = []

        def read(self, relation):
            return self.tables[relation]

        def replace(self, tables):
            self.writes.append(dict(tables))

    store = MemoryStore(
        {
            RELATIONS.workstream_tasks: pd.DataFrame(
                [
                    # 2 a day over the window, 6 left: done on day 3 in every trial
                    ("WS-A", "O-1", 20, 6, 10),
                    ("WS-B", "O-2", 0, 0, None),
                ],
                columns=[
                    "workstream_id",
                    "outcome_id",
                    "linked_tasks",
                    "remaining_tasks",
                    "days_to_target",
                ],
            ),
            RELATIONS.daily_completions: pd.DataFrame(
                [("WS-A", dt.date(2026, 10, day), 2) for day in range(1, 32)],
                columns=["workstream_id", "completed_on", "completed_tasks"],
            ),
        }
    )

    tables = run_forecasts(store, RELATIONS, SETTINGS)

    assert len(store.writes) == 1
    assert list(store.writes[0]) == [
        RELATIONS.workstream_forecasts,
        RELATIONS.outcome_forecasts,
        RELATIONS.how_many_forecasts,
    ]
    assert store.writes[0][RELATIONS.workstream_forecasts] is tables.workstreams
    assert store.writes[0][RELATIONS.outcome_forecasts] is tables.outcomes
    assert store.writes[0][RELATIONS.how_many_forecasts] is tables.how_many
    forecasts = {
        row.workstream_id: (row.forecast_p95_days, row.forecast_note)
        for row in tables.workstreams.astype(object).itertuples()
    }
    assert forecasts == {"WS-A": (3, pd.NA), "WS-B": (pd.NA, "no_tasks")}
    assert list(tables.outcomes["outcome_id"]) == ["O-1", "O-2"]
    # SETTINGS asks for no fixed day: WS-A's target day alone, by which all 6 are done
    assert tables.how_many[["workstream_id", "days_ahead", "completed_p85_tasks"]].astype(
        object
    ).to_records(index=False).tolist() == [("WS-A", 10, 6)]
