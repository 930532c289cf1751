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


@dataclass(frozen=True)
class ReportPeriod:
    """The report month and the windows every section reads, all as inclusive dates."""

    as_of: dt.date
    month: dt.date  # first day of the report month

    @classmethod
    def resolve(cls, as_of: dt.date, month: dt.date | None = None) -> ReportPeriod:
        """The month of ``as_of`` by default; a later month has no data yet and is refused."""
        first_day = (month or as_of).replace(day=1)
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
    def data_end(self) -> dt.date:
        """Last day the report reads: the month's last day, or the as-of date inside its month."""
        return min(self.next_month - dt.timedelta(days=1), self.as_of)

    @property
    def is_as_of_month(self) -> bool:
        """Only this report may become ``latest.html``; an older month must not replace it."""
        return self.month == self.as_of.replace(day=1)

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
    def label(self) -> str:
        return month_label(self.month)
