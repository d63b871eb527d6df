"""Report periods: local (Asia/Shanghai) date ranges, inclusive at both ends.

A period is a week (``2026-W12``, ISO), a month (``2026-03``), a year (``2026``) or any range.
Instants in the read models are UTC; a period's UTC bounds are its local midnights, so an
index on ``first_received_at`` still serves the range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period written in a form this module does not read; the message shows the right one."""


# Wide enough for any petition, narrow enough that a month before or after (comparisons) and the
# local midnight after the last day always exist.
MIN_YEAR = 1900
MAX_YEAR = 2999


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    def __post_init__(self) -> None:
        if not (self.start.year >= MIN_YEAR and self.end.year <= MAX_YEAR):
            raise PeriodError(
                f"只能查询 {MIN_YEAR}-{MAX_YEAR} 年间的期间 / periods must lie within the years "
                f"{MIN_YEAR}-{MAX_YEAR} (got {self.start} to {self.end})"
            )
        if self.end < self.start:
            raise PeriodError(
                f"结束日 {self.end} 早于开始日 {self.start} / the period ends ({self.end}) before "
                f"it starts ({self.start}): swap 'from' and 'to'"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[first local midnight, the local midnight after the last day) in UTC."""
        return local_midnight(self.start), local_midnight(self.end + timedelta(days=1))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL).date()


def local(instant: datetime) -> datetime:
    """An instant as the bureau's wall-clock time (with its +08:00 offset)."""
    return instant.astimezone(LOCAL)


def to_local(instant: datetime | None) -> datetime | None:
    return instant.astimezone(LOCAL) if instant is not None else None


def date_range(start: date, end: date) -> Period:
    return Period(start, end, f"{start.isoformat()}~{end.isoformat()}")


def week(text: str) -> Period:
    """``2026-W12``: Monday to Sunday of that ISO week."""
    match = _WEEK.match(text.strip())
    if not match:
        raise PeriodError(f"周的写法应为 2026-W12 / write the week as ISO 2026-W12 (got {text!r})")
    year, number = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise PeriodError(
            f"{year} 年没有第 {number} 周 / {year} has no ISO week {number}"
        ) from None
    return Period(monday, monday + timedelta(days=6), f"{year}-W{number:02d}")


def month(text: str) -> Period:
    """``2026-03``: the first to the last day of that month."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise PeriodError(f"月份的写法应为 2026-03 / write the month as 2026-03 (got {text!r})")
    return month_of(int(match[1]), int(match[2]))


def year(text: str) -> Period:
    match = _YEAR.match(text.strip())
    if not match:
        raise PeriodError(f"年份的写法应为 2026 / write the year as 2026 (got {text!r})")
    number = int(match[1])
    if not MIN_YEAR <= number <= MAX_YEAR:
        raise PeriodError(
            f"只能查询 {MIN_YEAR}-{MAX_YEAR} 年间的期间 / periods must lie within the years "
            f"{MIN_YEAR}-{MAX_YEAR} (got {number})"
        )
    return Period(date(number, 1, 1), date(number, 12, 31), str(number))


def month_of(year_number: int, month_number: int) -> Period:
    if not MIN_YEAR <= year_number <= MAX_YEAR:
        raise PeriodError(
            f"只能查询 {MIN_YEAR}-{MAX_YEAR} 年间的期间 / periods must lie within the years "
            f"{MIN_YEAR}-{MAX_YEAR} (got {year_number})"
        )
    first = date(year_number, month_number, 1)
    following = date(year_number + month_number // 12, month_number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), f"{year_number}-{month_number:02d}")


def shift_months(period: Period, months: int) -> Period:
    """The calendar month ``months`` away from the month ``period`` starts in."""
    index = period.start.year * 12 + period.start.month - 1 + months
    return month_of(index // 12, index % 12 + 1)


def week_of(day: date) -> Period:
    iso = day.isocalendar()
    return week(f"{iso.year}-W{iso.week:02d}")


def iso_week_label(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
