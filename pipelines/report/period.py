"""Which dates a report covers, derived once from the as-of date and the report month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

TREND_WEEKS = 26

# Fixed English names: strftime("%B") follows the machine's locale, and the report must be
# byte-identical wherever it is built.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_label(day: dt.date) -> str:
    """``October 2026`` for any day of that month, whatever the locale."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def week_monday(day: dt.date) -> dt.date:
    """The Monday that starts ``day``'s week (the weeks of ``mart_flow_weekly`` start on Monday)."""
    return day - dt.timedelta(days=day.weekday())


def last_complete_month(as_of: dt.date) -> dt.date:
    """First day of the last month whose every day is at or before ``as_of``.

    A run's data reaches the end of its as-of day, so on a month's last day that month is
    complete; on any other day it is the month before. A month still in progress would be
    judged on a few days of completions, and its rates swing to 0 % or 100 %.
    """
    first_of_next_month = (as_of + dt.timedelta(days=1)).replace(day=1)
    return (first_of_next_month - dt.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class ReportPeriod:
    """The report month and the windows every section reads, all as inclusive dates."""

    as_of: dt.date
    month: dt.date  # first day of the report month

    @classmethod
    def resolve(cls, as_of: dt.date, month: dt.date | None = None) -> ReportPeriod:
        """The last complete month by default; the month in progress only when asked for,
        and then partial; a later month has no data yet and is refused."""
        first_day = month.replace(day=1) if month else last_complete_month(as_of)
        if first_day > as_of:
            raise ValueError(
                f"report month {first_day:%Y-%m} is after the as-of date {as_of.isoformat()}: "
                "the warehouse has no data for it yet"
            )
        return cls(as_of=as_of, month=first_day)

    @property
    def next_month(self) -> dt.date:
        return (self.month + dt.timedelta(days=32)).replace(day=1)

    @property
    def month_end(self) -> dt.date:
        """The month's last day, whether or not the data reaches it."""
        return self.next_month - dt.timedelta(days=1)

    @property
    def data_end(self) -> dt.date:
        """Last day the report reads: the month's last day, or the as-of date inside its month."""
        return min(self.month_end, self.as_of)

    @property
    def is_partial(self) -> bool:
        """The month is still in progress at ``as_of``: its figures cover only some of its days."""
        return self.data_end < self.month_end

    @property
    def replaces_latest(self) -> bool:
        """``latest.html`` is always the last complete month: neither an older month nor the
        partial one in progress may replace it."""
        return self.month == last_complete_month(self.as_of)

    @property
    def trend_first_week(self) -> dt.date:
        """Monday of the first of the 26 weeks that end with the week holding ``data_end``."""
        return week_monday(self.data_end) - dt.timedelta(weeks=TREND_WEEKS - 1)

    @property
    def trend_first_day(self) -> dt.date:
        """First day of the daily window: 26 weeks of days ending on ``data_end``."""
        return self.data_end - dt.timedelta(days=TREND_WEEKS * 7 - 1)

    @property
    def slug(self) -> str:
        """``2026-10``: the report's file name without extension."""
        return f"{self.month:%Y-%m}"

    @property
    def days_covered(self) -> str:
        """``1\N{EN DASH}5 December``: the days of the month the report reads."""
        month_name = MONTH_NAMES[self.month.month - 1]
        if self.data_end == self.month:
            return f"1 {month_name}"
        return f"1\N{EN DASH}{self.data_end.day} {month_name}"

    @property
    def label(self) -> str:
        """How the page names the month wherever it does, so a partial month is never shown
        as if it were whole: ``December 2026 (partial: 1\N{EN DASH}5 December)``."""
        if self.is_partial:
            return f"{month_label(self.month)} (partial: {self.days_covered})"
        return month_label(self.month)
