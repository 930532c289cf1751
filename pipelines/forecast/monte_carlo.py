"""Monte Carlo forecasts of when a body of work is done, from its recent daily throughput.

A trial replays the future as a sequence of days after the as_of day. Each simulated day is one
day of the recent history drawn at random, with replacement, and completes as many tasks as that
day did; the trial is done on the first day its running total reaches the remaining tasks. Many
trials give a distribution of completion days, read as "done by day d in x% of trials".

Everything is vectorised: the trials are the columns of a (days x trials) array of draws whose
cumulative sums are taken at once. Days are drawn in chunks until every trial is done or the
horizon is reached, so memory stays at one chunk whatever the horizon.

Draws are made day by day (a day's draws for every trial are consecutive in the random stream), so
neither the chunk size nor the horizon changes what any trial draws on any day. Two bodies of work
simulated with the same seed, trial count and history length therefore replay, in trial k, the
same sequence of historical days: their completion days can be combined trial by trial into one
coherent scenario (``completion_days_of_all``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_TRIALS = 10_000
# Three years: a forecast further out says more about the history than about the work.
DEFAULT_HORIZON_DAYS = 3 * 365
# 128 simulated days x 10,000 trials of int64 is about 10 MB per array.
DEFAULT_CHUNK_DAYS = 128
FORECAST_PERCENTS = (50, 85, 95)
# The smallest simulated day by which at least the given share of trials is done: a day that some
# trial produced, never an interpolation between two days.
PERCENTILE_METHOD = "inverted_cdf"


def _validated_history(daily_throughput: np.ndarray) -> np.ndarray:
    history = np.asarray(daily_throughput)
    if history.ndim != 1:
        raise ValueError(f"daily throughput must be one-dimensional, got shape {history.shape}")
    if history.size and not np.all(np.isfinite(history)):
        raise ValueError("daily throughput must be finite")
    if np.any(history < 0):
        raise ValueError("daily throughput cannot be negative")
    if np.any(history != np.round(history)):
        raise ValueError("daily throughput must count whole tasks")
    return history.astype(np.int64)


def simulate_completion_days(
    daily_throughput: np.ndarray,
    remaining: int,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
) -> np.ndarray:
    """Days after the as_of day by which ``remaining`` tasks are done, one value per trial.

    ``daily_throughput`` is the history to sample: tasks completed on each recent day, zero days
    included (they are part of the team's pace). Day 1 is the day after as_of; 0 remaining is done
    on day 0 (the as_of day itself). A trial not done within ``horizon_days`` gets ``inf``, and so
    does every trial when the history holds no completion at all: no draw could ever finish the
    work. The seed is required: a forecast must be reproducible.
    """
    history = _validated_history(daily_throughput)
    if remaining < 0:
        raise ValueError(f"remaining tasks cannot be negative, got {remaining}")
    if trials < 1:
        raise ValueError(f"at least one trial is needed, got {trials}")
    if horizon_days < 0:
        raise ValueError(f"the horizon cannot be negative, got {horizon_days}")
    if chunk_days < 1:
        raise ValueError(f"chunks hold at least one day, got {chunk_days}")

    if remaining == 0:
        return np.zeros(trials)
    completion_days = np.full(trials, np.inf)
    if history.sum() == 0:
        return completion_days

    rng = np.random.default_rng(seed)
    completed_so_far = np.zeros(trials, dtype=np.int64)
    unfinished = np.ones(trials, dtype=bool)
    days_simulated = 0
    while days_simulated < horizon_days and unfinished.any():
        days_in_chunk = min(chunk_days, horizon_days - days_simulated)
        drawn_days = rng.integers(0, history.size, size=(days_in_chunk, trials))
        running_totals = completed_so_far + np.cumsum(history[drawn_days], axis=0)
        reached = running_totals >= remaining
        # running totals never fall, so a trial that reached the remaining work in this chunk
        # shows it on the chunk's last day; argmax finds the first day it did
        finishing = unfinished & reached[-1]
        completion_days[finishing] = days_simulated + 1 + reached[:, finishing].argmax(axis=0)
        unfinished &= ~finishing
        completed_so_far = running_totals[-1]
        days_simulated += days_in_chunk
    return completion_days


def simulate_completed_by_days(
    daily_throughput: np.ndarray,
    days: Sequence[int],
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
) -> np.ndarray:
    """Tasks completed from day 1 up to each of ``days`` (days after the as_of day), per trial:
    an array of shape (len(days), trials), "how many by a date" where the completion days answer
    "when".

    The draws are those of ``simulate_completion_days`` with the same history, seed and trial
    count: trial k lives the same sequence of historical days in both, so for any remaining work
    R and day d, trial k has completed at least R tasks by day d exactly when its completion day
    for R is at most d. Day 0 (the as_of day itself) completes nothing; a history without
    completions completes nothing on any day.
    """
    history = _validated_history(daily_throughput)
    if trials < 1:
        raise ValueError(f"at least one trial is needed, got {trials}")
    if chunk_days < 1:
        raise ValueError(f"chunks hold at least one day, got {chunk_days}")
    wanted = [int(day) for day in days]
    if any(day < 0 for day in wanted):
        raise ValueError(f"a forecast cannot count tasks before as_of, got days {wanted}")
    completed = np.zeros((len(wanted), trials), dtype=np.int64)
    last_day = max(wanted, default=0)
    if last_day == 0 or history.sum() == 0:
        return completed

    rng = np.random.default_rng(seed)
    completed_so_far = np.zeros(trials, dtype=np.int64)
    days_simulated = 0
    while days_simulated < last_day:
        days_in_chunk = min(chunk_days, last_day - days_simulated)
        drawn_days = rng.integers(0, history.size, size=(days_in_chunk, trials))
        running_totals = completed_so_far + np.cumsum(history[drawn_days], axis=0)
        for index, day in enumerate(wanted):
            if days_simulated < day <= days_simulated + days_in_chunk:
                completed[index] = running_totals[day - days_simulated - 1]
        completed_so_far = running_totals[-1]
        days_simulated += days_in_chunk
    return completed


def completed_in_at_least(
    completed: np.ndarray, percents: Sequence[int] = FORECAST_PERCENTS
) -> tuple[int, ...]:
    """For each percent, the most tasks that at least that share of trials completed: the
    k-th largest count, k = ceil(percent x trials / 100).

    "85%: at least 12 tasks" reads that 85 of 100 trials completed 12 or more; 13 would not hold.
    A higher percent never gives more tasks.
    """
    counts = np.sort(np.asarray(completed))[::-1]
    if counts.size == 0:
        raise ValueError("at least one trial is needed")
    return tuple(int(counts[(int(percent) * counts.size + 99) // 100 - 1]) for percent in percents)


def completion_day_percentiles(
    completion_days: np.ndarray, percents: Sequence[float] = FORECAST_PERCENTS
) -> tuple[int | None, ...]:
    """For each percent, the first day by which at least that share of trials is done.

    ``inverted_cdf`` returns the smallest simulated day d with share(trials done by d) >= percent,
    which is the forecast's meaning read literally and always a whole day; a linear percentile
    would interpolate half days between two trials. None where that day lies beyond the horizon.
    """
    days = np.percentile(completion_days, list(percents), method=PERCENTILE_METHOD)
    return tuple(None if np.isinf(day) else int(day) for day in days)


def probability_done_within(
    completion_days: np.ndarray, days: int, horizon_days: int
) -> float | None:
    """Share of trials done on or before day ``days`` after the as_of day.

    None when the simulation cannot tell: ``days`` lies beyond the horizon and some trial was
    still unfinished when the simulation stopped there. A negative ``days`` (a date before the
    as_of day) is refused: a forecast says nothing about the past.
    """
    if days < 0:
        raise ValueError(f"a forecast cannot judge a day before as_of, got {days}")
    if days > horizon_days and np.isinf(completion_days).any():
        return None
    return np.count_nonzero(completion_days <= days) / completion_days.size


def completion_days_of_all(per_part: Sequence[np.ndarray]) -> np.ndarray:
    """Per trial, the day by which every part is done: the latest of the parts' days.

    The parts must come from ``simulate_completion_days`` with the same seed, trial count and
    history length, their histories aligned on the same calendar days: trial k of every part then
    lives the same sequence of historical days, and a slow day is slow for all of them at once.
    """
    if not per_part:
        raise ValueError("at least one part is needed")
    return np.maximum.reduce([np.asarray(days) for days in per_part])
