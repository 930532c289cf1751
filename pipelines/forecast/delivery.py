"""Delivery forecasts per workstream and per outcome, from the warehouse's counts.

``pipelines.forecast.run`` calls these functions with two inputs, the dbt models:

- ``workstream_tasks`` (``int_workstream_tasks_counted_at_as_of``): one row per workstream with
  ``workstream_id``, ``outcome_id``, ``linked_tasks``, ``remaining_tasks`` and ``days_to_target``
  (days from the as_of day to the outcome's target date, null without a target);
- ``daily_completions`` (``int_workstream_completions_counted_to_days``): one row per workstream
  and day of the trailing window with ``workstream_id``, ``completed_on`` and ``completed_tasks``.

A workstream is forecast from its own completions: the pace at which its work has actually been
done, which already reflects the share of its teams' capacity it gets. Every workstream is
simulated with the same seed over the same calendar days, so trial k is one scenario for all of
them, and an outcome's work is done in that trial when its slowest workstream is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.forecast.monte_carlo import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_TRIALS,
    completed_in_at_least,
    completion_day_percentiles,
    completion_days_of_all,
    probability_done_within,
    simulate_completed_by_days,
    simulate_completion_days,
)

# Why a forecast has no dates, or not all three (null when all three dates are given).
NOTE_NO_TASKS = "no_tasks"
NOTE_NO_REMAINING_TASKS = "no_remaining_tasks"
NOTE_NO_THROUGHPUT = "no_throughput"
NOTE_BEYOND_HORIZON = "beyond_horizon"

WORKSTREAM_FORECAST_COLUMNS = {
    "workstream_id": "string",
    "outcome_id": "string",
    "remaining_tasks": "Int64",
    "window_days": "Int64",
    "window_completed_tasks": "Int64",
    "forecast_p50_days": "Int64",
    "forecast_p85_days": "Int64",
    "forecast_p95_days": "Int64",
    "probability_done_by_target": "Float64",
    "forecast_note": "string",
    "simulation_trials": "Int64",
    "simulation_seed": "Int64",
    "horizon_days": "Int64",
}

OUTCOME_FORECAST_COLUMNS = {
    "outcome_id": "string",
    "workstreams_with_tasks": "Int64",
    "remaining_tasks": "Int64",
    "window_days": "Int64",
    "window_completed_tasks": "Int64",
    "forecast_p50_days": "Int64",
    "forecast_p85_days": "Int64",
    "forecast_p95_days": "Int64",
    "probability_done_by_target": "Float64",
    "forecast_note": "string",
    "simulation_trials": "Int64",
    "simulation_seed": "Int64",
    "horizon_days": "Int64",
}


HOW_MANY_FORECAST_COLUMNS = {
    "workstream_id": "string",
    "outcome_id": "string",
    "days_ahead": "Int64",
    "is_target_day": "boolean",
    "remaining_tasks": "Int64",
    "window_days": "Int64",
    "window_completed_tasks": "Int64",
    "completed_p50_tasks": "Int64",
    "completed_p85_tasks": "Int64",
    "completed_p95_tasks": "Int64",
    "probability_all_done": "Float64",
    "simulation_trials": "Int64",
    "simulation_seed": "Int64",
    "horizon_days": "Int64",
}


@dataclass(frozen=True)
class SimulationSettings:
    """What makes a forecast reproducible: the same settings and inputs give the same rows.

    ``how_many_days``: the days after as_of at which "how many tasks by then" is forecast (the
    outcome's target day is added per workstream).
    """

    seed: int
    trials: int = DEFAULT_TRIALS
    horizon_days: int = DEFAULT_HORIZON_DAYS
    how_many_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class Forecast:
    """The summary of one body of work's simulated completion days."""

    percentile_days: tuple[int | None, ...]
    probability_done_by_target: float | None
    note: str | None


def _no_forecast(note: str) -> Forecast:
    return Forecast((None, None, None), None, note)


def _summarise(
    completion_days: np.ndarray,
    days_to_target: int | None,
    settings: SimulationSettings,
    note_when_complete: str | None = None,
) -> Forecast:
    """Percentile days and the probability of being done by the target.

    The probability is null for a target date before the as_of day: a forecast says nothing
    about a date that has passed.
    """
    percentile_days = completion_day_percentiles(completion_days)
    probability = (
        probability_done_within(completion_days, days_to_target, settings.horizon_days)
        if days_to_target is not None and days_to_target >= 0
        else None
    )
    note = NOTE_BEYOND_HORIZON if None in percentile_days else note_when_complete
    return Forecast(percentile_days, probability, note)


def _optional_int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)


def throughput_histories(daily_completions: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per workstream, its completions per day in calendar order, on one shared calendar.

    Days are aligned across workstreams (a day missing for a workstream counts 0), so that index
    i is the same calendar day in every history: the seed then draws the same days for all.
    """
    if daily_completions.empty:
        return {}
    matrix = (
        daily_completions.pivot_table(
            index="workstream_id",
            columns="completed_on",
            values="completed_tasks",
            aggfunc="sum",
            fill_value=0,
        )
        .sort_index(axis=1)
        .astype(np.int64)
    )
    return {str(workstream_id): row.to_numpy() for workstream_id, row in matrix.iterrows()}


def _window_days(histories: Mapping[str, np.ndarray]) -> int:
    return max((history.size for history in histories.values()), default=0)


def simulate_workstreams(
    workstream_tasks: pd.DataFrame,
    histories: Mapping[str, np.ndarray],
    settings: SimulationSettings,
) -> dict[str, np.ndarray | None]:
    """Per workstream, its simulated completion days; None when it has no forecast.

    None for a workstream without linked tasks, or with remaining tasks and no completion in the
    window. Zeros (done on the as_of day) when nothing remains.
    """
    empty_history = np.zeros(_window_days(histories), dtype=np.int64)
    simulated: dict[str, np.ndarray | None] = {}
    for row in workstream_tasks.itertuples(index=False):
        history = histories.get(str(row.workstream_id), empty_history)
        remaining = int(row.remaining_tasks)
        if int(row.linked_tasks) == 0 or (remaining > 0 and history.sum() == 0):
            simulated[str(row.workstream_id)] = None
            continue
        simulated[str(row.workstream_id)] = simulate_completion_days(
            history,
            remaining,
            trials=settings.trials,
            seed=settings.seed,
            horizon_days=settings.horizon_days,
        )
    return simulated


def _forecast_from(
    completion_days: np.ndarray | None,
    linked_tasks: int,
    remaining_tasks: int,
    days_to_target: int | None,
    settings: SimulationSettings,
) -> Forecast:
    if linked_tasks == 0:
        return _no_forecast(NOTE_NO_TASKS)
    if completion_days is None:
        return _no_forecast(NOTE_NO_THROUGHPUT)
    note = NOTE_NO_REMAINING_TASKS if remaining_tasks == 0 else None
    return _summarise(completion_days, days_to_target, settings, note)


def _row(keys: dict[str, object], forecast: Forecast, settings: SimulationSettings) -> dict:
    p50_days, p85_days, p95_days = forecast.percentile_days
    return {
        **keys,
        "forecast_p50_days": p50_days,
        "forecast_p85_days": p85_days,
        "forecast_p95_days": p95_days,
        "probability_done_by_target": forecast.probability_done_by_target,
        "forecast_note": forecast.note,
        "simulation_trials": settings.trials,
        "simulation_seed": settings.seed,
        "horizon_days": settings.horizon_days,
    }


def _frame(rows: list[dict], columns: Mapping[str, str]) -> pd.DataFrame:
    """Typed columns even without rows, so the warehouse table always has the same schema."""
    return pd.DataFrame(
        {
            name: pd.Series([row[name] for row in rows], dtype=dtype)
            for name, dtype in columns.items()
        }
    )


def forecast_workstreams(
    workstream_tasks: pd.DataFrame,
    daily_completions: pd.DataFrame,
    settings: SimulationSettings,
) -> pd.DataFrame:
    """One row per workstream: its completion-day percentiles and its chance to meet the target.

    The target is its outcome's ``target_on``; the probability says whether this workstream's
    remaining work alone is done by then.
    """
    histories = throughput_histories(daily_completions)
    window_days = _window_days(histories)
    simulated = simulate_workstreams(workstream_tasks, histories, settings)
    rows = []
    for row in workstream_tasks.sort_values("workstream_id").itertuples(index=False):
        workstream_id = str(row.workstream_id)
        history = histories.get(workstream_id)
        forecast = _forecast_from(
            simulated[workstream_id],
            int(row.linked_tasks),
            int(row.remaining_tasks),
            _optional_int(row.days_to_target),
            settings,
        )
        keys = {
            "workstream_id": workstream_id,
            "outcome_id": None if pd.isna(row.outcome_id) else str(row.outcome_id),
            "remaining_tasks": int(row.remaining_tasks),
            "window_days": window_days,
            "window_completed_tasks": 0 if history is None else int(history.sum()),
        }
        rows.append(_row(keys, forecast, settings))
    return _frame(rows, WORKSTREAM_FORECAST_COLUMNS)


def forecast_outcomes(
    workstream_tasks: pd.DataFrame,
    daily_completions: pd.DataFrame,
    settings: SimulationSettings,
) -> pd.DataFrame:
    """One row per outcome served by at least one workstream: when all its linked work is done.

    In each trial the outcome's work is done when the last of its workstreams with remaining
    tasks is. Workstreams without linked tasks do not count; an outcome whose workstreams have
    none has no forecast (``no_tasks``); one where a workstream with remaining tasks completed
    nothing in the window has none either (``no_throughput``): its work would never be done.
    """
    histories = throughput_histories(daily_completions)
    window_days = _window_days(histories)
    simulated = simulate_workstreams(workstream_tasks, histories, settings)
    rows = []
    linked = workstream_tasks.dropna(subset=["outcome_id"])
    for outcome_id, workstreams in linked.groupby("outcome_id"):
        with_tasks = workstreams[workstreams["linked_tasks"] > 0]
        with_remaining = with_tasks[with_tasks["remaining_tasks"] > 0]
        remaining_tasks = int(with_tasks["remaining_tasks"].sum())
        parts = [simulated[str(workstream_id)] for workstream_id in with_remaining["workstream_id"]]
        if with_tasks.empty:
            forecast = _no_forecast(NOTE_NO_TASKS)
        elif any(part is None for part in parts):
            forecast = _no_forecast(NOTE_NO_THROUGHPUT)
        else:
            completion_days = completion_days_of_all(parts) if parts else np.zeros(settings.trials)
            forecast = _summarise(
                completion_days,
                _optional_int(workstreams["days_to_target"].iloc[0]),
                settings,
                NOTE_NO_REMAINING_TASKS if remaining_tasks == 0 else None,
            )
        keys = {
            "outcome_id": str(outcome_id),
            "workstreams_with_tasks": len(with_tasks),
            "remaining_tasks": remaining_tasks,
            "window_days": window_days,
            "window_completed_tasks": sum(
                int(histories[str(workstream_id)].sum())
                for workstream_id in workstreams["workstream_id"]
                if str(workstream_id) in histories
            ),
        }
        rows.append(_row(keys, forecast, settings))
    return _frame(rows, OUTCOME_FORECAST_COLUMNS)


def forecast_how_many(
    workstream_tasks: pd.DataFrame,
    daily_completions: pd.DataFrame,
    settings: SimulationSettings,
) -> pd.DataFrame:
    """One row per workstream with remaining tasks and per forecast day: how many of its
    remaining tasks are done by then, "how many by a date" beside the "when" of
    ``forecast_workstreams``.

    The days are ``settings.how_many_days`` and the day of the outcome's target date when it
    lies after the as_of day and within the horizon (``is_target_day``). Each trial's
    completions are those of the same trial in ``forecast_workstreams`` (same seed, trials and
    history), counted up to the day and capped at the remaining tasks: more cannot be done of
    this work. ``completed_pXX_tasks`` is the most tasks done in at least XX% of the trials, and
    ``probability_all_done`` the share of trials done with all of it, which on the target day is
    ``probability_done_by_target``. A workstream that completed nothing in the window completes
    nothing in any trial.
    """
    histories = throughput_histories(daily_completions)
    window_days = _window_days(histories)
    empty_history = np.zeros(window_days, dtype=np.int64)
    rows = []
    for row in workstream_tasks.sort_values("workstream_id").itertuples(index=False):
        remaining = int(row.remaining_tasks)
        if int(row.linked_tasks) == 0 or remaining == 0:
            continue
        workstream_id = str(row.workstream_id)
        history = histories.get(workstream_id, empty_history)
        target_day = _optional_int(row.days_to_target)
        days = sorted(
            set(settings.how_many_days)
            | (
                {target_day}
                if target_day is not None and 0 < target_day <= settings.horizon_days
                else set()
            )
        )
        completed = np.minimum(
            simulate_completed_by_days(history, days, trials=settings.trials, seed=settings.seed),
            remaining,
        )
        for day, counts in zip(days, completed, strict=True):
            p50, p85, p95 = completed_in_at_least(counts)
            rows.append(
                {
                    "workstream_id": workstream_id,
                    "outcome_id": None if pd.isna(row.outcome_id) else str(row.outcome_id),
                    "days_ahead": day,
                    "is_target_day": day == target_day,
                    "remaining_tasks": remaining,
                    "window_days": window_days,
                    "window_completed_tasks": int(history.sum()),
                    "completed_p50_tasks": p50,
                    "completed_p85_tasks": p85,
                    "completed_p95_tasks": p95,
                    "probability_all_done": np.count_nonzero(counts >= remaining) / counts.size,
                    "simulation_trials": settings.trials,
                    "simulation_seed": settings.seed,
                    "horizon_days": settings.horizon_days,
                }
            )
    return _frame(rows, HOW_MANY_FORECAST_COLUMNS)
