"""How many tasks by a date: the Monte Carlo counts beside the completion dates
(``simulate_completed_by_days``, ``completed_in_at_least``, ``forecast_how_many``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipelines.forecast.delivery import (
    HOW_MANY_FORECAST_COLUMNS,
    SimulationSettings,
    forecast_how_many,
    forecast_workstreams,
)
from pipelines.forecast.monte_carlo import (
    completed_in_at_least,
    simulate_completed_by_days,
    simulate_completion_days,
)

SEED = 20261122


def test_constant_throughput_completes_the_same_count_in_every_trial():
    # 2 tasks a day: 0 on the as_of day, 2 by day 1, 10 by day 5, 60 by day 30
    completed = simulate_completed_by_days(np.full(90, 2), [0, 1, 5, 30], trials=1_000, seed=SEED)

    assert completed.shape == (4, 1_000)
    assert [set(row.tolist()) for row in completed] == [{0}, {2}, {10}, {60}]


def test_a_history_without_completions_completes_nothing():
    completed = simulate_completed_by_days(np.zeros(90), [30], trials=10, seed=SEED)
    empty = simulate_completed_by_days(np.array([], dtype=np.int64), [30], trials=10, seed=SEED)

    assert completed.tolist() == [[0] * 10]
    assert empty.tolist() == [[0] * 10]


def test_a_day_before_as_of_is_refused():
    with pytest.raises(ValueError, match=r"cannot count tasks before as_of, got days \[-1, 5\]"):
        simulate_completed_by_days(np.ones(90), [-1, 5], trials=10, seed=SEED)


def test_the_counts_are_the_trials_of_the_completion_days():
    """Trial k draws the same days for "when" and "how many": k has done R tasks by day d exactly
    when its completion day for R is at most d, for any chunking of the days. An odd trial
    count, so that no chunk holds an even number of draws by luck."""
    history = np.array([0, 1, 2, 3] * 20)
    days = [5, 13, 20, 37, 60, 200]
    completion = simulate_completion_days(history, 40, trials=2_001, seed=SEED)

    for chunk_days in (1, 7, 128):
        completed = simulate_completed_by_days(
            history, days, trials=2_001, seed=SEED, chunk_days=chunk_days
        )
        for day, counts in zip(days, completed, strict=True):
            np.testing.assert_array_equal(counts >= 40, completion <= day)


def test_completed_in_at_least_is_the_kth_largest_count():
    # ten trials completing 1 to 10 tasks: 5 of them (50%) did 6 or more, 9 (90% >= 85%) did 2
    # or more while only 8 did 3, and all 10 (>= 95%) did 1 or more
    assert completed_in_at_least(np.arange(1, 11)) == (6, 2, 1)
    # 100 trials completing 0 to 99: 85 of them (15 to 99) did at least 15, only 84 did 16
    assert completed_in_at_least(np.arange(100), [85]) == (15,)
    assert completed_in_at_least(np.array([4]), [50, 85, 95]) == (4, 4, 4)


WINDOW = [dt.date(2026, 8, 3) + dt.timedelta(days=offset) for offset in range(90)]
SETTINGS = SimulationSettings(seed=SEED, trials=2_000, horizon_days=365, how_many_days=(30, 60))


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


def completions(**per_day: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"workstream_id": workstream_id, "completed_on": day, "completed_tasks": count}
            for workstream_id, counts in per_day.items()
            for day, count in zip(WINDOW, counts, strict=True)
        ]
    )


def test_how_many_per_workstream_and_day_capped_at_what_remains():
    tasks = workstream_tasks(
        [
            # 1 a day, 45 remaining, target in 45 days: 30 by day 30, all 45 by days 45 and 60
            ("WS-STEADY", "O-1", 60, 45, 45),
            # nothing completed in the window: nothing by any day; its target (day 400) lies
            # beyond the 365-day horizon and is not a forecast day
            ("WS-IDLE", "O-2", 5, 5, 400),
            # nothing remaining, or nothing linked: nothing to count
            ("WS-DONE", "O-1", 4, 0, 45),
            ("WS-EMPTY", None, 0, 0, None),
        ]
    )
    frame = forecast_how_many(tasks, completions(**{"WS-STEADY": [1] * 90}), SETTINGS)

    assert dict(frame.dtypes.astype(str)) == HOW_MANY_FORECAST_COLUMNS
    assert frame.astype(object).where(frame.notna(), None).to_records(index=False).tolist() == [
        ("WS-IDLE", "O-2", 30, False, 5, 90, 0, 0, 0, 0, 0.0, 2_000, SEED, 365),
        ("WS-IDLE", "O-2", 60, False, 5, 90, 0, 0, 0, 0, 0.0, 2_000, SEED, 365),
        ("WS-STEADY", "O-1", 30, False, 45, 90, 90, 30, 30, 30, 0.0, 2_000, SEED, 365),
        ("WS-STEADY", "O-1", 45, True, 45, 90, 90, 45, 45, 45, 1.0, 2_000, SEED, 365),
        ("WS-STEADY", "O-1", 60, False, 45, 90, 90, 45, 45, 45, 1.0, 2_000, SEED, 365),
    ]


def test_on_the_target_day_all_done_is_the_probability_of_the_when_forecast():
    # one task every other day (probability 1/2 per simulated day), 20 remaining, target day 40
    tasks = workstream_tasks([("WS-HALF", "O-1", 30, 20, 40)])
    daily = completions(**{"WS-HALF": [0, 1] * 45})

    how_many = forecast_how_many(tasks, daily, SETTINGS)
    when = forecast_workstreams(tasks, daily, SETTINGS)

    on_target = how_many[how_many["is_target_day"]]
    assert on_target["days_ahead"].tolist() == [40]
    probability = float(on_target["probability_all_done"].iloc[0])
    assert probability == float(when["probability_done_by_target"].iloc[0])
    # 20 successes in 40 days at 1/2 each is the median: about half of the trials
    assert 0.5 < probability < 0.62
    p50, p85, p95 = on_target[
        ["completed_p50_tasks", "completed_p85_tasks", "completed_p95_tasks"]
    ].iloc[0]
    assert p95 <= p85 <= p50 <= 20


def test_no_workstream_gives_an_empty_typed_frame():
    frame = forecast_how_many(workstream_tasks([]), completions(), SETTINGS)

    assert frame.empty
    assert dict(frame.dtypes.astype(str)) == HOW_MANY_FORECAST_COLUMNS
