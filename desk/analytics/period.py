"""Date ranges in the centre's calendar: days are China days (UTC+8), stored times are UTC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: China has one time zone and no daylight saving: a fixed offset is exact.
CHINA = dt.timezone(dt.timedelta(hours=8), "北京时间")
#: The longest range one request aggregates (a year and a leap day, with room for a yearly report).
MAX_DAYS = 400


def local_day(moment: dt.datetime) -> dt.date:
    """The China calendar day of a stored time (naive times from SQLite are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA).date()


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


@dataclass(frozen=True)
class Period:
    """Inclusive range of China days."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("开始日期不能晚于结束日期")
        if self.days > MAX_DAYS:
            raise ValueError(f"日期范围最长 {MAX_DAYS} 天")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def utc_start(self) -> dt.datetime:
        """The first instant of the range, in UTC (for columns stored as times)."""
        return dt.datetime.combine(self.start, dt.time(), CHINA).astimezone(dt.UTC)

    @property
    def utc_end(self) -> dt.datetime:
        """The first instant after the range, in UTC."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), CHINA).astimezone(dt.UTC)

    @classmethod
    def last_days(cls, days: int, end: dt.date | None = None) -> Period:
        end = end or today()
        return cls(end - dt.timedelta(days=days - 1), end)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, following - dt.timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))
