"""Working-hours time for generated work, and conversion to each team's local and UTC time.

Durations of work are drawn in *working time*: a clock that only runs Monday to Friday, 09:00 to
18:00 local, and stops on the year-end holidays. Adding a duration on that clock and converting
back gives transitions that land in office hours, across weekends, the way a tracker's history
looks. All instants are integer milliseconds (local wall-clock or UTC, say which), so sums are
exact and the output is byte-identical for the same seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.demo.organisation import TEAMS

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR
WORKDAY_START_MS = 9 * MS_PER_HOUR
WORKDAY_MS = 9 * MS_PER_HOUR  # 09:00-18:00


def year_end_holidays(first_year: int, last_year: int) -> np.ndarray:
    """Days every team is off: Christmas, Boxing Day, New Year's Day."""
    days = []
    for year in range(first_year, last_year + 1):
        days += [dt.date(year, 12, 25), dt.date(year, 12, 26), dt.date(year, 1, 1)]
    return np.array(sorted(days), dtype="datetime64[D]")


class WorkingClock:
    """Maps local wall-clock instants to working-time milliseconds and back."""

    def __init__(self, first_day: dt.date, last_day: dt.date) -> None:
        holidays = year_end_holidays(first_day.year - 1, last_day.year + 2)
        self.calendar = np.busdaycalendar(weekmask="1111100", holidays=holidays)
        self.origin = np.busday_offset(
            np.datetime64(first_day, "D"), 0, roll="forward", busdaycal=self.calendar
        )

    def to_working(self, local_ms: np.ndarray) -> np.ndarray:
        """Working time of a local instant; an instant outside office hours rolls forward."""
        day = (local_ms // MS_PER_DAY).astype("datetime64[D]")
        time_of_day = local_ms - day.astype(np.int64) * MS_PER_DAY
        is_workday = np.is_busday(day, busdaycal=self.calendar)
        after_hours = is_workday & (time_of_day >= WORKDAY_START_MS + WORKDAY_MS)
        workday = np.busday_offset(
            day, after_hours.astype(np.int64), roll="forward", busdaycal=self.calendar
        )
        in_hours = is_workday & ~after_hours & (time_of_day >= WORKDAY_START_MS)
        within = np.where(in_hours, time_of_day - WORKDAY_START_MS, 0)
        day_index = np.busday_count(self.origin, workday, busdaycal=self.calendar)
        return day_index.astype(np.int64) * WORKDAY_MS + within

    def to_local(self, working_ms: np.ndarray) -> np.ndarray:
        """Local wall-clock instant of a working time."""
        day_index, within = np.divmod(working_ms, WORKDAY_MS)
        day = np.busday_offset(self.origin, day_index, roll="forward", busdaycal=self.calendar)
        return day.astype(np.int64) * MS_PER_DAY + WORKDAY_START_MS + within


def local_to_utc(local_ms: np.ndarray, time_zone: str) -> np.ndarray:
    """UTC milliseconds of local wall-clock milliseconds in a zone.

    Generated instants avoid the small hours where clocks change; should one fall in a gap it is
    moved forward, and an ambiguous one is read as standard time, so the result is always defined.
    """
    if len(local_ms) == 0:
        return np.zeros(0, dtype=np.int64)
    naive = pd.DatetimeIndex(local_ms.astype("datetime64[ms]"))
    aware = naive.tz_localize(
        time_zone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return aware.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8


def utc_to_local(utc_ms: np.ndarray, time_zone: str) -> np.ndarray:
    """Local wall-clock milliseconds of UTC milliseconds in a zone."""
    if len(utc_ms) == 0:
        return np.zeros(0, dtype=np.int64)
    aware = pd.DatetimeIndex(utc_ms.astype("datetime64[ms]")).tz_localize("UTC")
    return aware.tz_convert(time_zone).tz_localize(None).as_unit("ms").asi8


def _offset_labels(offset_minutes: np.ndarray, *, colon: bool) -> np.ndarray:
    """``+0530`` / ``+05:30`` for each offset in minutes (formatted once per distinct offset)."""
    distinct, inverse = np.unique(offset_minutes, return_inverse=True)
    labels = []
    for minutes in distinct.tolist():
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        labels.append(f"{sign}{hours:02d}:{mins:02d}" if colon else f"{sign}{hours:02d}{mins:02d}")
    return np.array(labels, dtype=object)[inverse]


def format_jira(local_ms: np.ndarray, utc_ms: np.ndarray) -> np.ndarray:
    """Jira REST timestamps: ``2025-01-03T09:12:44.123+0000`` in the team's offset."""
    wall = np.datetime_as_string(local_ms.astype("datetime64[ms]"), unit="ms").astype(object)
    offsets = _offset_labels((local_ms - utc_ms) // 60_000, colon=False)
    return wall + offsets


def format_iso(local_ms: np.ndarray, utc_ms: np.ndarray) -> np.ndarray:
    """ISO 8601 to the second with the team's offset: ``2025-01-02T10:00:00+01:00``."""
    wall = np.datetime_as_string(local_ms.astype("datetime64[ms]"), unit="s").astype(object)
    offsets = _offset_labels((local_ms - utc_ms) // 60_000, colon=True)
    return wall + offsets


def format_utc_z(utc_ms: np.ndarray) -> np.ndarray:
    """ISO 8601 in UTC to the second: ``2025-01-02T09:00:00Z``."""
    wall = np.datetime_as_string(utc_ms.astype("datetime64[ms]"), unit="s").astype(object)
    return wall + "Z"


def utc_to_local_by_team(utc_ms: np.ndarray, team: np.ndarray) -> np.ndarray:
    """Local wall-clock milliseconds of each instant in the time zone of its team (TEAMS index)."""
    local = np.empty(len(utc_ms), dtype=np.int64)
    for team_index, spec in enumerate(TEAMS):
        rows = team == team_index
        local[rows] = utc_to_local(utc_ms[rows], spec.time_zone)
    return local


def local_to_utc_by_team(local_ms: np.ndarray, team: np.ndarray) -> np.ndarray:
    """UTC milliseconds of local wall-clock instants, each in the time zone of its team."""
    utc = np.empty(len(local_ms), dtype=np.int64)
    for team_index, spec in enumerate(TEAMS):
        rows = team == team_index
        utc[rows] = local_to_utc(local_ms[rows], spec.time_zone)
    return utc
