"""Business definitions and impact data: KPIs, outcomes, workstreams, rules, observations, surveys.

The KPI series are driven by the generated work, so the warehouse has a real story to find:
most outcomes move toward their target as their linked work completes (three weeks later), one
moves with time alone and was achieved before its target date, one stays flat although all of its
work is done (the productivity illusion), and one KPI stops reporting before the end.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.demo.clock import MS_PER_DAY
from pipelines.demo.organisation import (
    FLAT_OUTCOME_ID,
    KPI_LAG_DAYS,
    OUTCOMES,
    PEOPLE,
    SECONDARY_KPIS,
    STAKEHOLDERS,
    STALE_DAYS,
    STALE_OUTCOME_ID,
    WORKSTREAMS,
    Outcome,
    team_members,
)
from pipelines.lib import raw_schema
from pipelines.lib.raw_schema import RawTable

SURVEY_DAY = 5  # monthly pulse, sent on the 5th
SECONDARY_HISTORY_DAYS = 365


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later (or earlier), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class OutcomeDates:
    baseline_on: dt.date
    target_on: dt.date
    last_observed_on: dt.date


def outcome_dates(outcome: Outcome, end_date: dt.date) -> OutcomeDates:
    """Baseline and target dates relative to the end of the history, and the last observation."""
    stale = outcome.outcome_id == STALE_OUTCOME_ID
    return OutcomeDates(
        baseline_on=shift_months(end_date, -outcome.baseline_months_before_end),
        target_on=shift_months(end_date, outcome.target_months_after_end),
        last_observed_on=end_date - dt.timedelta(days=STALE_DAYS) if stale else end_date,
    )


def _frame(table: RawTable, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows in the contract's column order (the header the ingest adapters check)."""
    return pd.DataFrame(rows, columns=table.column_names)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def write_definitions(
    landing: Path, end_date: dt.date, rules: list[dict[str, object]]
) -> list[Path]:
    """The PMO's files: KPIs, outcomes, workstreams and workstream rules."""
    kpis = [o.kpi for o in OUTCOMES] + list(SECONDARY_KPIS)
    kpi_rows = [
        {
            "kpi_id": k.kpi_id,
            "name": k.name,
            "unit": k.unit,
            "area": k.area,
            "aggregation": k.aggregation,
            "direction": k.direction,
            "cadence_days": k.cadence_days,
        }
        for k in kpis
    ]
    outcome_rows = []
    for o in OUTCOMES:
        dates = outcome_dates(o, end_date)
        outcome_rows.append(
            {
                "outcome_id": o.outcome_id,
                "statement": o.statement,
                "kpi_id": o.kpi.kpi_id,
                "baseline_value": o.baseline_value,
                "baseline_on": dates.baseline_on.isoformat(),
                "target_value": o.target_value,
                "target_on": dates.target_on.isoformat(),
                "owner": o.owner,
            }
        )
    workstream_rows = [
        {
            "workstream_id": ws.workstream_id,
            "name": ws.name,
            "outcome_id": ws.outcome_id,
            "hypothesis": ws.hypothesis,
        }
        for ws in WORKSTREAMS
    ]
    return [
        _write(_frame(raw_schema.KPIS, kpi_rows), landing / "kpis" / "kpis.csv"),
        _write(_frame(raw_schema.OUTCOMES, outcome_rows), landing / "outcomes" / "outcomes.csv"),
        _write(
            _frame(raw_schema.WORKSTREAMS, workstream_rows),
            landing / "workstreams" / "workstreams.csv",
        ),
        # Rules always exist (every workstream has at least one), so priority stays an integer.
        _write(
            _frame(raw_schema.WORKSTREAM_RULES, rules),
            landing / "workstream_rules" / "workstream_rules.csv",
        ),
    ]


@dataclass(frozen=True)
class LinkedWork:
    """Per task: the outcome reached (OUTCOMES index, -1 none), completion and cancellation."""

    outcome: np.ndarray
    completed_utc_ms: np.ndarray  # -1 when not completed
    cancelled: np.ndarray


def _days(first: dt.date, last: dt.date) -> np.ndarray:
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def _work_driver(
    work: LinkedWork, outcome_index: int, days: np.ndarray, baseline_on: dt.date
) -> np.ndarray | None:
    """Share of the outcome's open work at baseline completed by each day, three weeks earlier.

    None when no work is linked or all of it was finished before the baseline.
    """
    linked = (work.outcome == outcome_index) & ~work.cancelled
    completed_day = work.completed_utc_ms[linked] // MS_PER_DAY
    baseline_day = np.datetime64(baseline_on, "D").astype(np.int64)
    open_at_baseline = (completed_day < 0) | (completed_day >= baseline_day)
    if not open_at_baseline.any():
        return None
    finished = np.sort(completed_day[open_at_baseline & (completed_day >= 0)])
    lagged = days.astype(np.int64) - KPI_LAG_DAYS
    return np.searchsorted(finished, lagged, side="right") / open_at_baseline.sum()


def _progress(
    outcome: Outcome,
    outcome_index: int,
    dates: OutcomeDates,
    work: LinkedWork,
    end_date: dt.date,
) -> np.ndarray:
    """Progress toward the target on each observed day, before noise (0 baseline, 1 target).

    Computed over the whole baseline-to-end window, then cut at the last observed day, so a KPI
    that stops reporting keeps the trajectory it was on.
    """
    window = _days(dates.baseline_on, end_date)
    observed = len(_days(dates.baseline_on, dates.last_observed_on))
    elapsed = (window - np.datetime64(dates.baseline_on, "D")).astype(np.int64)
    if outcome.trajectory == "flat":
        progress = np.zeros(len(window))
    elif outcome.trajectory == "time":
        to_target = (dates.target_on - dates.baseline_on).days
        progress = outcome.final_progress * np.minimum(elapsed / to_target, 1.0)
    else:
        driver = _work_driver(work, outcome_index, window, dates.baseline_on)
        if driver is None or driver[-1] == 0:
            driver = elapsed / max(elapsed[-1], 1)
        # Scaled so that the work done by the end of the history gives the final progress.
        progress = outcome.final_progress * driver / driver[-1]
    return progress[:observed]


def kpi_observations(rng: np.random.Generator, end_date: dt.date, work: LinkedWork) -> pd.DataFrame:
    """Daily observations of every outcome KPI from its baseline, plus the secondary KPIs."""
    frames = []
    for index, outcome in enumerate(OUTCOMES):
        dates = outcome_dates(outcome, end_date)
        days = _days(dates.baseline_on, dates.last_observed_on)
        progress = _progress(outcome, index, dates, work, end_date)
        span = outcome.target_value - outcome.baseline_value
        noise = rng.normal(0.0, outcome.noise * abs(span), size=len(days))
        value = outcome.baseline_value + span * progress + noise
        if outcome.kpi.unit == "users":  # weekly active users dip at weekends
            weekday = (days.astype(np.int64) + 3) % 7
            value *= np.where(weekday >= 5, 0.97, 1.0)
        frames.append(
            pd.DataFrame(
                {
                    "kpi_id": outcome.kpi.kpi_id,
                    "observed_on": days.astype(str),
                    "value": np.round(value, outcome.decimals),
                    "unit": outcome.kpi.unit,
                }
            )
        )
    history = _days(end_date - dt.timedelta(days=SECONDARY_HISTORY_DAYS), end_date)
    deploys, incidents = SECONDARY_KPIS
    weekday = (history.astype(np.int64) + 3) % 7
    trend = np.linspace(6.0, 9.0, len(history))
    frames.append(
        pd.DataFrame(
            {
                "kpi_id": deploys.kpi_id,
                "observed_on": history.astype(str),
                "value": rng.poisson(np.where(weekday < 5, trend, 0.3)).astype(float),
                "unit": deploys.unit,
            }
        )
    )
    mondays = history[weekday == 0]
    frames.append(
        pd.DataFrame(
            {
                "kpi_id": incidents.kpi_id,
                "observed_on": mondays.astype(str),
                "value": rng.poisson(np.linspace(4.0, 2.5, len(mondays))).astype(float),
                "unit": incidents.unit,
            }
        )
    )
    frame = pd.concat(frames, ignore_index=True)
    frame["segment"] = ""
    return frame[raw_schema.KPI_OBSERVATIONS.column_names]


def confidence_surveys(
    rng: np.random.Generator, end_date: dt.date, work: LinkedWork
) -> pd.DataFrame:
    """Monthly pulses per outcome: readiness follows the work done, ownership the KPI's progress.

    The flat outcome therefore reads "ready" with weak ownership: the work shipped, nobody owns
    the result. Respondents are team members and stakeholders, written as people type them.
    """
    rows = []
    for index, outcome in enumerate(OUTCOMES):
        dates = outcome_dates(outcome, end_date)
        teams = {ws.team for ws in WORKSTREAMS if ws.outcome_id == outcome.outcome_id}
        pool = sorted({m for team in teams for m in team_members(team)} | set(STAKEHOLDERS))
        month = dates.baseline_on.replace(day=SURVEY_DAY)
        if month < dates.baseline_on:
            month = shift_months(month, 1)
        linked = (work.outcome == index) & ~work.cancelled
        while month <= end_date:
            day = np.datetime64(month, "D").astype(np.int64)
            done_by = work.completed_utc_ms[linked]
            completeness = (
                float(((done_by >= 0) & (done_by // MS_PER_DAY <= day)).mean())
                if linked.any()
                else 0.0
            )
            elapsed = (month - dates.baseline_on).days / max(
                (dates.target_on - dates.baseline_on).days, 1
            )
            on_course = 0.0 if outcome.trajectory == "flat" else min(elapsed, 1.0)
            respondents = rng.choice(
                pool, size=min(len(pool), int(rng.integers(3, 6))), replace=False
            )
            for person in sorted(respondents.tolist()):
                for dimension, level in (("readiness", completeness), ("ownership", on_course)):
                    score = int(np.clip(np.rint(2.2 + 2.6 * level + rng.normal(0, 0.6)), 1, 5))
                    rows.append(
                        {
                            "outcome_id": outcome.outcome_id,
                            "answered_on": month.isoformat(),
                            "dimension": dimension,
                            "score": score,
                            "respondent": _survey_spelling(PEOPLE[person].email, person),
                        }
                    )
            month = shift_months(month, 1)
    return pd.DataFrame(rows, columns=raw_schema.CONFIDENCE_SURVEYS.column_names)


def _survey_spelling(email: str, person: int) -> str:
    """Survey tools keep what people typed: some capitalise their address."""
    return email.upper() if person % 5 == 0 else email


def write_impact(
    landing: Path, rng: np.random.Generator, end_date: dt.date, work: LinkedWork
) -> list[Path]:
    observations = kpi_observations(rng, end_date, work)
    surveys = confidence_surveys(rng, end_date, work)
    return [
        _write(observations, landing / "kpi_observations" / "kpi_observations.csv"),
        _write(surveys, landing / "confidence_surveys" / "confidence_surveys.csv"),
    ]


def flat_outcome_index() -> int:
    return next(i for i, o in enumerate(OUTCOMES) if o.outcome_id == FLAT_OUTCOME_ID)
