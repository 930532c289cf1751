"""Workstream and outcome forecasts from the warehouse's counts (pipelines/forecast/delivery.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.forecast.delivery import (
    OUTCOME_FORECAST_COLUMNS,
    WORKSTREAM_FORECAST_COLUMNS,
    SimulationSettings,
    forecast_outcomes,
    forecast_workstreams,
    throughput_histories,
)

SETTINGS = SimulationSettings(seed=20261122, trials=2_000, horizon_days=365)
WINDOW = [dt.date(2026, 8, 3) + dt.timedelta(days=offset) for offset in range(90)]


def completions(**per_day: list[int]) -> pd.DataFrame:
    """Daily completions over the 90-day window, one list of 90 counts per workstream."""
    return pd.DataFrame(
        [
            {"workstream_id": workstream_id, "completed_on": day, "completed_tasks": count}
            for workstream_id, counts in per_day.items()
            for day, count in zip(WINDOW, counts, strict=True)
        ]
    )


def workstream_tasks(rows: list[tuple[str, str | None, int, int, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "workstream_id",
            "outcome_id",
            "linked_tasks",
            "remaining_tasks",
            "days_to_target",
        ],
    )


def by_id(frame: pd.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in frame.astype(object).to_dict("records")}


def forecast_of(row: dict) -> tuple:
    return (
        row["forecast_p50_days"],
        row["forecast_p85_days"],
        row["forecast_p95_days"],
        row["probability_done_by_target"],
        row["forecast_note"],
    )


def test_throughput_histories_share_one_calendar():
    daily = pd.DataFrame(
        {
            "workstream_id": ["A", "A", "B"],
            "completed_on": [dt.date(2026, 8, 5), dt.date(2026, 8, 3), dt.date(2026, 8, 4)],
            "completed_tasks": [2, 1, 3],
        }
    )

    histories = throughput_histories(daily)

    np.testing.assert_array_equal(histories["A"], [1, 0, 2])
    np.testing.assert_array_equal(histories["B"], [0, 3, 0])


def test_workstream_forecasts_cover_every_case():
    tasks = workstream_tasks(
        [
            # 2 a day, 10 left: day 5 in every trial; the target is 5 days away
            ("WS-STEADY", "O-1", 30, 10, 5),
            # the same work judged against a target 4 days away: never in time
            ("WS-LATE", "O-2", 30, 10, 4),
            # nothing left: done on the as_of day
            ("WS-DONE", "O-3", 12, 0, 30),
            # nothing left, but the target date has passed: no probability
            ("WS-PAST", "O-4", 12, 0, -3),
            # work left and no completion in 90 days
            ("WS-IDLE", "O-5", 4, 2, 30),
            # no linked task at all
            ("WS-EMPTY", "O-6", 0, 0, 30),
            # one completion in 90 days, 400 left: at most 365 in the 365-day horizon
            ("WS-FAR", "O-7", 401, 400, 100),
        ]
    )
    daily = completions(
        **{
            "WS-STEADY": [2] * 90,
            "WS-LATE": [2] * 90,
            "WS-DONE": [0] * 90,
            "WS-PAST": [1] * 90,
            "WS-IDLE": [0] * 90,
            "WS-EMPTY": [0] * 90,
            "WS-FAR": [0] * 89 + [1],
        }
    )

    forecasts = forecast_workstreams(tasks, daily, SETTINGS)
    rows = by_id(forecasts, "workstream_id")

    assert list(forecasts["workstream_id"]) == sorted(rows)
    assert forecast_of(rows["WS-STEADY"]) == (5, 5, 5, 1.0, None)
    assert forecast_of(rows["WS-LATE"]) == (5, 5, 5, 0.0, None)
    assert forecast_of(rows["WS-DONE"]) == (0, 0, 0, 1.0, "no_remaining_tasks")
    assert forecast_of(rows["WS-PAST"]) == (0, 0, 0, None, "no_remaining_tasks")
    assert forecast_of(rows["WS-IDLE"]) == (None, None, None, None, "no_throughput")
    assert forecast_of(rows["WS-EMPTY"]) == (None, None, None, None, "no_tasks")
    assert forecast_of(rows["WS-FAR"]) == (None, None, None, 0.0, "beyond_horizon")
    assert rows["WS-STEADY"]["window_completed_tasks"] == 180
    assert rows["WS-FAR"]["window_completed_tasks"] == 1
    assert rows["WS-STEADY"]["window_days"] == 90
    assert rows["WS-STEADY"]["outcome_id"] == "O-1"
    assert (rows["WS-STEADY"]["simulation_trials"], rows["WS-STEADY"]["simulation_seed"]) == (
        2_000,
        20261122,
    )
    assert rows["WS-STEADY"]["horizon_days"] == 365


def test_an_outcome_is_done_when_its_slowest_workstream_is():
    tasks = workstream_tasks(
        [
            ("WS-FAST", "O-1", 20, 10, 6),  # 2 a day: day 5
            ("WS-SLOW", "O-1", 20, 7, 6),  # 1 a day: day 7
            ("WS-FINISHED", "O-1", 5, 0, 6),
            ("WS-UNSTARTED", "O-1", 0, 0, 6),
        ]
    )
    daily = completions(
        **{
            "WS-FAST": [2] * 90,
            "WS-SLOW": [1] * 90,
            "WS-FINISHED": [0] * 90,
            "WS-UNSTARTED": [0] * 90,
        }
    )

    outcome = by_id(forecast_outcomes(tasks, daily, SETTINGS), "outcome_id")["O-1"]

    assert forecast_of(outcome) == (7, 7, 7, 0.0, None)
    assert outcome["remaining_tasks"] == 17
    assert outcome["workstreams_with_tasks"] == 3
    assert outcome["window_completed_tasks"] == 270


def test_workstreams_of_an_outcome_live_the_same_days_in_each_trial():
    # B does twice what A does on every historical day and has twice as much left: trial by
    # trial they finish together, so the outcome's days are A's days. With independent draws
    # the latest of two would sit later than either.
    alternating = [0, 1] * 45
    tasks = workstream_tasks([("WS-A", "O-1", 9, 3, 5), ("WS-B", "O-1", 9, 6, 5)])
    daily = completions(**{"WS-A": alternating, "WS-B": [2 * count for count in alternating]})

    workstreams = by_id(forecast_workstreams(tasks, daily, SETTINGS), "workstream_id")
    outcome = by_id(forecast_outcomes(tasks, daily, SETTINGS), "outcome_id")["O-1"]

    assert forecast_of(workstreams["WS-A"])[:4] == forecast_of(workstreams["WS-B"])[:4]
    assert forecast_of(outcome)[:4] == forecast_of(workstreams["WS-A"])[:4]
    assert 0.0 < outcome["probability_done_by_target"] < 1.0


def test_outcomes_without_a_forecast_say_why():
    tasks = workstream_tasks(
        [
            ("WS-MOVING", "O-STALLED", 10, 4, 30),
            ("WS-IDLE", "O-STALLED", 10, 2, 30),
            ("WS-EMPTY", "O-EMPTY", 0, 0, 30),
            ("WS-DONE", "O-DONE", 6, 0, 30),
            ("WS-ORPHAN", None, 3, 3, None),
        ]
    )
    daily = completions(
        **{
            "WS-MOVING": [1] * 90,
            "WS-IDLE": [0] * 90,
            "WS-EMPTY": [0] * 90,
            "WS-DONE": [0] * 90,
            "WS-ORPHAN": [1] * 90,
        }
    )

    outcomes = by_id(forecast_outcomes(tasks, daily, SETTINGS), "outcome_id")

    assert sorted(outcomes) == ["O-DONE", "O-EMPTY", "O-STALLED"]
    assert forecast_of(outcomes["O-STALLED"]) == (None, None, None, None, "no_throughput")
    assert outcomes["O-STALLED"]["remaining_tasks"] == 6
    assert forecast_of(outcomes["O-EMPTY"]) == (None, None, None, None, "no_tasks")
    assert forecast_of(outcomes["O-DONE"]) == (0, 0, 0, 1.0, "no_remaining_tasks")


def test_empty_inputs_give_empty_typed_frames():
    tasks = workstream_tasks([])
    daily = pd.DataFrame(columns=["workstream_id", "completed_on", "completed_tasks"])

    workstreams = forecast_workstreams(tasks, daily, SETTINGS)
    outcomes = forecast_outcomes(tasks, daily, SETTINGS)

    assert workstreams.empty
    assert outcomes.empty
    assert {name: str(dtype) for name, dtype in workstreams.dtypes.items()} == {
        name: dtype for name, dtype in WORKSTREAM_FORECAST_COLUMNS.items()
    }
    assert {name: str(dtype) for name, dtype in outcomes.dtypes.items()} == {
        name: dtype for name, dtype in OUTCOME_FORECAST_COLUMNS.items()
    }
