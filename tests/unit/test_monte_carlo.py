"""The Monte Carlo completion simulation and its summaries (pipelines/forecast/monte_carlo.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.forecast.monte_carlo import (
    completion_day_percentiles,
    completion_days_of_all,
    probability_done_within,
    simulate_completion_days,
)

SEED = 20261122
# 45 days with one completion and 45 without, in 90 days: every simulated day completes one task
# with probability exactly 1/2.
ALTERNATING_ZERO_ONE = np.array([0, 1] * 45)


def test_constant_throughput_finishes_every_trial_on_the_same_day():
    # 2 tasks a day, 10 remaining: done at the end of day 5 whatever day is drawn
    days = simulate_completion_days(np.full(90, 2), 10, trials=10_000, seed=SEED)

    assert days.shape == (10_000,)
    assert np.all(days == 5)
    assert completion_day_percentiles(days) == (5, 5, 5)
    assert probability_done_within(days, 4, horizon_days=1095) == 0.0
    assert probability_done_within(days, 5, horizon_days=1095) == 1.0


def test_a_partial_last_day_still_counts_as_the_day_the_work_is_done():
    # 3 a day, 10 remaining: 9 after day 3, 12 after day 4
    days = simulate_completion_days(np.full(90, 3), 10, trials=100, seed=SEED)

    assert np.all(days == 4)


def test_the_same_seed_gives_identical_trials_and_another_seed_differs():
    history = np.array([0, 1, 2, 3] * 20)

    first = simulate_completion_days(history, 40, trials=10_000, seed=SEED)
    again = simulate_completion_days(history, 40, trials=10_000, seed=SEED)
    other = simulate_completion_days(history, 40, trials=10_000, seed=SEED + 1)

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_zero_throughput_gives_no_forecast():
    days = simulate_completion_days(np.zeros(90), 3, trials=1_000, seed=SEED)

    assert np.all(np.isinf(days))
    assert completion_day_percentiles(days) == (None, None, None)


def test_an_empty_history_gives_no_forecast():
    days = simulate_completion_days(np.array([], dtype=np.int64), 3, trials=10, seed=SEED)

    assert np.all(np.isinf(days))


def test_nothing_remaining_is_done_on_the_as_of_day():
    days = simulate_completion_days(np.zeros(90), 0, trials=1_000, seed=SEED)

    assert np.all(days == 0)
    assert completion_day_percentiles(days) == (0, 0, 0)
    assert probability_done_within(days, 0, horizon_days=1095) == 1.0


def test_probability_by_a_day_follows_the_binomial_law():
    # Each day completes one task with probability 1/2; 2 remaining. Done within 1 day: never.
    # Within 2 days: both days succeed, 1/4. Within 3 days: at least 2 of 3, (3 + 1) / 8 = 1/2.
    # Within 4 days: at least 2 of 4, (6 + 4 + 1) / 16 = 11/16. 10,000 trials give a standard
    # error of at most 0.005; 0.02 is four of them.
    days = simulate_completion_days(ALTERNATING_ZERO_ONE, 2, trials=10_000, seed=SEED)

    assert probability_done_within(days, 1, horizon_days=1095) == 0.0
    assert probability_done_within(days, 2, horizon_days=1095) == pytest.approx(0.25, abs=0.02)
    assert probability_done_within(days, 3, horizon_days=1095) == pytest.approx(0.5, abs=0.02)
    assert probability_done_within(days, 4, horizon_days=1095) == pytest.approx(11 / 16, abs=0.02)


def test_probability_is_the_share_of_trials_done_on_or_before_the_day():
    days = np.array([1, 2, 2, 3, 5, 8, 9, 10], dtype=float)

    assert probability_done_within(days, 0, horizon_days=10) == 0.0
    assert probability_done_within(days, 2, horizon_days=10) == 0.375
    assert probability_done_within(days, 5, horizon_days=10) == 0.625
    assert probability_done_within(days, 10, horizon_days=10) == 1.0
    # every trial finished inside the horizon: a later day is known too
    assert probability_done_within(days, 400, horizon_days=10) == 1.0


def test_probability_beyond_the_horizon_is_unknown_when_a_trial_was_unfinished():
    days = np.array([1, 2, 3, np.inf])

    assert probability_done_within(days, 10, horizon_days=10) == 0.75
    assert probability_done_within(days, 11, horizon_days=10) is None


def test_probability_of_a_day_before_as_of_is_refused():
    with pytest.raises(ValueError, match="before as_of"):
        probability_done_within(np.zeros(3), -1, horizon_days=10)


def test_the_horizon_caps_the_simulation():
    # one task a day: 10 remaining are done on day 10, one day past a 9-day horizon
    capped = simulate_completion_days(np.ones(90), 10, trials=100, seed=SEED, horizon_days=9)
    reached = simulate_completion_days(np.ones(90), 10, trials=100, seed=SEED, horizon_days=10)

    assert np.all(np.isinf(capped))
    assert completion_day_percentiles(capped) == (None, None, None)
    assert np.all(reached == 10)


def test_percentiles_beyond_the_horizon_are_null_one_by_one():
    days = np.array([4.0] * 90 + [np.inf] * 10)

    assert completion_day_percentiles(days) == (4, 4, None)


def test_percentiles_are_whole_simulated_days_never_interpolated():
    # share done by day 1: 1/4, day 2: 2/4, day 3: 3/4, day 4: 4/4. The first day with at least
    # 50% done is 2, with at least 85% or 95% done is 4 (a linear percentile says 2.5, 3.55, 3.85).
    days = np.array([3.0, 1.0, 4.0, 2.0])

    assert completion_day_percentiles(days) == (2, 4, 4)
    assert completion_day_percentiles(days, (25, 75, 76)) == (1, 3, 4)


def test_the_chunk_size_only_bounds_memory():
    history = np.array([0, 1, 2, 5] * 20)

    small_chunks = simulate_completion_days(history, 60, trials=2_000, seed=SEED, chunk_days=7)
    one_chunk = simulate_completion_days(history, 60, trials=2_000, seed=SEED, chunk_days=1095)

    assert small_chunks.max() > 7  # the trials did run across several chunks
    np.testing.assert_array_equal(small_chunks, one_chunk)


def test_one_seed_replays_the_same_days_for_every_body_of_work():
    # B completes twice what A does on every historical day and has twice as much left: with
    # the same seed each trial draws the same days for both, so both finish on the same day.
    history_a = ALTERNATING_ZERO_ONE
    history_b = 2 * ALTERNATING_ZERO_ONE

    days_a = simulate_completion_days(history_a, 3, trials=5_000, seed=SEED)
    days_b = simulate_completion_days(history_b, 6, trials=5_000, seed=SEED)

    assert len(np.unique(days_a)) > 1  # the trials do differ from one another
    np.testing.assert_array_equal(days_a, days_b)


def test_all_parts_are_done_on_the_latest_day_of_each_trial():
    first = np.array([1.0, 5.0, np.inf, 0.0])
    second = np.array([3.0, 2.0, 4.0, 0.0])

    np.testing.assert_array_equal(
        completion_days_of_all([first, second]), np.array([3.0, 5.0, np.inf, 0.0])
    )
    np.testing.assert_array_equal(completion_days_of_all([second]), second)
    with pytest.raises(ValueError, match="at least one part"):
        completion_days_of_all([])


@pytest.mark.parametrize(
    ("history", "remaining", "message"),
    [
        (np.array([1, -1]), 3, "cannot be negative"),
        (np.array([1.5, 2.0]), 3, "whole tasks"),
        (np.array([1.0, np.nan]), 3, "finite"),
        (np.ones((2, 2)), 3, "one-dimensional"),
        (np.ones(3), -1, "remaining tasks cannot be negative"),
    ],
)
def test_invalid_inputs_are_refused(history, remaining, message):
    with pytest.raises(ValueError, match=message):
        simulate_completion_days(history, remaining, trials=10, seed=SEED)
