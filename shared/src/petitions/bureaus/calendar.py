"""The statutory-deadline calendar: working days under the State Council's holiday arrangement.

Periods in the petition rules run in calendar days, except where they say working days. The day
of receipt, acceptance or reply is not counted, and a period whose last day is not a working day
ends on the next working day instead (Civil Code Arts. 201-203). Whether a day is a working day is
not a matter of weekday alone: every year the State Council (国务院办公厅关于YYYY年部分节假日安排的
通知) declares public holidays and turns some weekend days into working days (调休上班). One TOML
file per year holds that notice, e.g. ``deploy/config/holidays/2026.toml``::

    year = 2026
    source = "国务院办公厅关于2026年部分节假日安排的通知"

    [[holidays]]
    name = "春节"
    name_en = "Spring Festival"
    start = 2026-02-15
    end = 2026-02-23

    [[working_days]]   # 调休上班
    day = 2026-02-14
    name = "春节调休上班"

A year whose notice has not been published yet may have a file that says so (``provisional =
true`` with ``provisional_reason``): deadlines are computed from it, and marked as resting on a
guess. A deadline reaching into a year with no file at all is computed on weekends alone and
marked likewise ("未配置 not configured"): a case must never stop, or be refused, for want of a
calendar, but nobody may mistake such a date for a final one (:class:`Dated`). Only asking
directly whether a day of such a year is a working day (:meth:`WorkCalendar.is_working_day`,
e.g. to lay out reception days) still raises :class:`YearNotConfiguredError`: there a guess
would be acted on at once, with nothing to mark it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from petitions.bureaus.config import BureauConfig, ConfigError
from petitions.bureaus.validation import describe_validation_error

_ONE_DAY = timedelta(days=1)
_YEAR_FILE = re.compile(r"^(\d{4})\.toml$")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class YearNotConfiguredError(LookupError):
    """A date falls in a year whose holiday arrangement has not been configured."""

    def __init__(self, year: int, expected_file: Path | str, configured: Iterable[int]) -> None:
        have = ", ".join(str(y) for y in sorted(configured)) or "none"
        super().__init__(
            f"{year} 年节假日安排未配置，无法计算工作日与期限 "
            f"no holiday arrangement is configured for {year}, so its working days and "
            f"deadlines cannot be computed: add {expected_file} "
            f"from 国务院办公厅关于{year}年部分节假日安排的通知 (configured years: {have})"
        )
        self.year = year
        self.expected_file = str(expected_file)


# ---------------------------------------------------------------------------------------------
# The year file


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HolidayPeriod(_Frozen):
    """A public holiday, with the days the notice adds to it (放假调休), first to last day."""

    name: Text
    name_en: str = ""
    start: date
    end: date


class MakeupWorkday(_Frozen):
    """A weekend day the notice declares a working day (调休上班)."""

    day: date
    name: Text


class HolidayYear(_Frozen):
    """One year's State Council notice."""

    year: int = Field(ge=1999, le=2200)
    source: Text = Field(description="The notice: title, and document number when known.")
    holidays: tuple[HolidayPeriod, ...] = Field(min_length=1)
    working_days: tuple[MakeupWorkday, ...] = ()
    provisional: bool = Field(
        default=False,
        description="The official notice is not out yet: this file is a guess, and every "
        "deadline computed on it is marked provisional until it is replaced.",
    )
    provisional_reason: str = Field(
        default="",
        description="Why the year is provisional, in Chinese and English (shown with deadlines).",
    )

    def days(self) -> Iterable[tuple[date, Literal["holiday", "working"], str]]:
        for period in self.holidays:
            day = period.start
            while day <= period.end:
                yield day, "holiday", period.name
                day += _ONE_DAY
        for makeup in self.working_days:
            yield makeup.day, "working", makeup.name


def year_problems(entry: HolidayYear) -> list[str]:
    """What is wrong with a parsed year, every fault at once."""
    problems: list[str] = []
    if entry.provisional_reason.strip() and not entry.provisional:
        # A reason on a year that claims to be final means someone forgot to flip the flag or
        # to delete the reason; either way the file contradicts itself.
        problems.append(
            "provisional_reason: 非暂定年份不应有暂定原因 a reason is given but provisional is "
            "not true"
        )
    # A notice may reach back into the previous December (元旦 2023 began on 2022-12-31), never
    # further, and never forward into the next year.
    allowed = (entry.year - 1, entry.year)
    for index, period in enumerate(entry.holidays):
        label = f"holidays[{index}] ({period.name})"
        if period.end < period.start:
            problems.append(
                f"{label}: 结束日早于开始日 end {period.end} is before start {period.start}"
            )
        for day in (period.start, period.end):
            if day.year not in allowed:
                problems.append(
                    f"{label}: 日期 {day} 不属于 {entry.year} 年的安排 date is outside the "
                    f"{entry.year} arrangement"
                )
    for index, makeup in enumerate(entry.working_days):
        label = f"working_days[{index}] ({makeup.day} {makeup.name})"
        if makeup.day.year not in allowed:
            problems.append(
                f"{label}: 日期不属于 {entry.year} 年的安排 date is outside the {entry.year} "
                "arrangement"
            )
        if makeup.day.isoweekday() < 6:
            problems.append(
                f"{label}: 调休上班日应为周六或周日 a make-up working day must be a Saturday or "
                f"Sunday; {makeup.day} is already a working day (typo?)"
            )
    seen: dict[date, tuple[str, str]] = {}
    for day, kind, name in entry.days():
        if day in seen:
            other_kind, other_name = seen[day]
            problems.append(
                f"{day}: 同一天被重复列出 listed twice: as {other_kind} ({other_name}) "
                f"and as {kind} ({name})"
            )
        else:
            seen[day] = (kind, name)
    return problems


def load_holiday_year(path: Path | str) -> HolidayYear:
    """Read one ``YYYY.toml``; raise :class:`ConfigError` listing every problem."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            [f"节假日安排文件不存在 holiday file not found: {path}"], source=path
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML 语法错误 TOML syntax error: {exc}"], source=path) from None
    try:
        entry = HolidayYear.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, raw, ""), source=path) from None
    problems = year_problems(entry)
    match = _YEAR_FILE.match(path.name)
    if match and int(match[1]) != entry.year:
        problems.insert(
            0,
            f"year: 文件名 {path.name} 与 year = {entry.year} 不符 the file name says "
            f"{match[1]} but the file says year = {entry.year}",
        )
    if problems:
        raise ConfigError(problems, source=path)
    return entry


# ---------------------------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True)
class YearFile:
    """Where a year's arrangement came from: recorded with every deadline re-dated on it."""

    year: int
    name: str
    path: str
    sha256: str


@dataclass(frozen=True)
class Dated:
    """A computed deadline and the years whose arrangement it rests on but which are not final
    (provisional, or with no file at all)."""

    due: date
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


class WorkCalendar:
    """Working days and statutory deadlines over the configured years. Immutable."""

    def __init__(
        self,
        years: Iterable[HolidayYear],
        *,
        directory: Path | None = None,
        files: Iterable[YearFile] = (),
    ) -> None:
        self._directory = directory
        self._files = {f.year: f for f in files}
        self._provisional: dict[int, str] = {}
        self._years: frozenset[int] = frozenset()
        self._holidays: dict[date, str] = {}
        self._working: dict[date, str] = {}
        self._prefix: list[int] | None = None  # working days counted so far, per day
        problems: list[str] = []
        seen_years: set[int] = set()
        origin: dict[date, int] = {}
        for entry in years:
            if entry.year in seen_years:
                problems.append(f"{entry.year}: 同一年份配置了两次 year configured twice")
                continue
            seen_years.add(entry.year)
            if entry.provisional:
                self._provisional[entry.year] = entry.provisional_reason.strip() or entry.source
            problems.extend(f"{entry.year}: {p}" for p in year_problems(entry))
            for day, kind, name in entry.days():
                target, other = (
                    (self._holidays, self._working)
                    if kind == "holiday"
                    else (self._working, self._holidays)
                )
                if day in other:
                    # Adjacent years' notices both speak of the turn of the year; they must agree.
                    problems.append(
                        f"{day}: {entry.year} 年与 {origin[day]} 年的安排矛盾 the {entry.year} and "
                        f"{origin[day]} arrangements disagree about this day"
                    )
                    continue
                target[day] = name
                origin.setdefault(day, entry.year)
        if not seen_years:
            problems.append(
                "没有任何年份的节假日安排 no year of holiday arrangements is configured"
            )
        if problems:
            raise ConfigError(problems, source=directory)
        self._years = frozenset(seen_years)

    @classmethod
    def from_directory(cls, directory: Path | str) -> WorkCalendar:
        """Load every ``YYYY.toml`` in the folder. Any other ``.toml`` there is an error: a
        misnamed year file must not be skipped quietly."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError(
                [f"节假日安排目录不存在 holiday folder not found: {directory}"], source=directory
            )
        problems: list[str] = []
        years: list[HolidayYear] = []
        files: list[YearFile] = []
        for path in sorted(directory.glob("*.toml")):
            if not _YEAR_FILE.match(path.name):
                problems.append(
                    f"{path.name}: 文件名应为四位年份 file name must be the year, e.g. 2026.toml"
                )
                continue
            try:
                entry = load_holiday_year(path)
            except ConfigError as exc:
                problems.extend(f"{path.name}: {p}" for p in exc.problems)
                continue
            years.append(entry)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files.append(YearFile(entry.year, path.name, str(path), digest))
        if problems:
            raise ConfigError(problems, source=directory)
        return cls(years, directory=directory, files=files)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    @property
    def files(self) -> tuple[YearFile, ...]:
        """The year files read (none for a calendar built from objects), by year."""
        return tuple(self._files[y] for y in sorted(self._files))

    def file_for(self, year: int) -> YearFile | None:
        return self._files.get(year)

    @property
    def checksum(self) -> str:
        """One sha256 over every year file's name and sha256: changes whenever a file is
        added, removed or edited (work is done at most once per checksum)."""
        lines = "".join(f"{f.name} {f.sha256}\n" for f in self.files)
        if not self._files:
            # Built from objects: what the years say is all there is to identify it by.
            lines = "".join(f"{y} {sorted(self._provisional.items())}\n" for y in self.years)
            lines += repr(sorted(self._holidays.items())) + repr(sorted(self._working.items()))
        return hashlib.sha256(lines.encode()).hexdigest()

    def covers(self, day: date) -> bool:
        """Whether the day's year is configured (is_working_day raises when it is not)."""
        return _plain(day).year in self._years

    def is_provisional(self, year: int) -> bool:
        """Whether deadlines resting on this year are not final: its file says it is a guess,
        or there is no file at all."""
        return year not in self._years or year in self._provisional

    def provisional_years(self, first: date, last: date) -> tuple[int, ...]:
        """The years from ``first`` to ``last`` (both included) that are not final."""
        first, last = _plain(first), _plain(last)
        return tuple(y for y in range(first.year, last.year + 1) if self.is_provisional(y))

    def reason(self, year: int) -> tuple[str, str]:
        """Why deadlines resting on ``year`` are provisional: (Chinese, English)."""
        if year not in self._years:
            return (
                f"{year} 年节假日安排未配置，暂按周六、周日休息计算",
                f"no holiday arrangement is configured for {year} (未配置 not configured): "
                "computed on weekends alone",
            )
        # The file's own reason is written in both languages already: it goes on the Chinese
        # side once rather than twice.
        why = self._provisional.get(year, "")
        return (
            f"{year} 年节假日安排为暂定，待国务院通知发布后重新计算（{why}）",
            f"the {year} holiday arrangement is provisional: deadlines resting on it are "
            "recomputed when the State Council's notice is installed",
        )

    def note(self, years: Iterable[int]) -> str:
        """The reasons for these years as one line: every Chinese one, " / ", every English
        one (:func:`split_note` parts it again)."""
        reasons = [self.reason(y) for y in sorted(set(years))]
        return "；".join(zh for zh, _ in reasons) + " / " + "; ".join(en for _, en in reasons)

    def is_working_day(self, day: date) -> bool:
        """Raises :class:`YearNotConfiguredError` for a year with no file: a caller that acts
        on the answer at once (reception days) must not act on a guess."""
        return self._is_working(self._require(day))

    def _is_working(self, day: date) -> bool:
        # Lenient: a year with no file is weekends only. Deadline methods use this and say, in
        # their Dated result, that they did.
        if day in self._working:
            return True
        if day in self._holidays:
            return False
        return day.isoweekday() < 6

    def rolled(self, last_day: date) -> Dated:
        """A period whose own last day is ``last_day``, moved off a non-working day, with the
        years it looked at (from ``last_day`` to the working day it rolled to)."""
        due = self.roll_forward(last_day)
        return Dated(due, self.provisional_years(last_day, due))

    def days_deadline(self, start: date, days: int) -> Dated:
        """:meth:`add_days_deadline`, with the years it rests on."""
        _positive(days, "days")
        return self.rolled(_plain(start) + timedelta(days=days))

    def working_days_deadline(self, start: date, n: int) -> Dated:
        """:meth:`add_working_days`, with the years it rests on (every day counted)."""
        due = self.add_working_days(start, n)
        return Dated(due, self.provisional_years(start + _ONE_DAY, due))

    def holiday_name(self, day: date) -> str | None:
        """The public holiday the day belongs to, if any (weekends are not holidays here)."""
        return self._holidays.get(self._require(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day = _plain(day) + _ONE_DAY
        while not self._is_working(day):
            day += _ONE_DAY
        return day

    def roll_forward(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next working day."""
        day = _plain(day)
        return day if self._is_working(day) else self.next_working_day(day)

    def add_days_deadline(self, start: date, days: int) -> date:
        """Last day of a period of ``days`` calendar days from ``start`` (receipt, acceptance,
        reply). ``start`` is not counted; a last day that is not a working day moves to the next
        working day (Civil Code Arts. 201, 203): 15 days from a Friday receipt whose 15th day is a
        Saturday end on the Monday; a last day on a make-up Saturday (调休上班) stays."""
        return self.days_deadline(start, days).due

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (not counted), e.g. the end of the 5-working-day
        window to object to an assignment (信访工作条例 Art. 23)."""
        _positive(n, "n")
        day = _plain(start)
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_before(self, deadline: date, n: int) -> date:
        """The ``n``-th working day before ``deadline`` (not counted): when to send the reminders
        at 5 and 1 working days before a deadline. Make-up working days count; holidays do not."""
        _positive(n, "n")
        day = _plain(deadline)
        for _ in range(n):
            day -= _ONE_DAY
            while not self._is_working(day):
                day -= _ONE_DAY
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 if ``end``
        is not after ``start``): e.g. how many working days a case is overdue."""
        start, end = self._require(start), self._require(end)
        if end <= start:
            return 0
        for year in range(start.year + 1, end.year):
            self._require(date(year, 1, 1))  # every year crossed must be configured too
        # Counted with the calendar once rather than a day at a time: a bulletin judges
        # thousands of overdue cases, some overdue for years.
        return self._working_through(end) - self._working_through(start)

    def _working_through(self, day: date) -> int:
        """Working days from 1 January of the first configured year up to ``day`` included
        (``day`` within the configured years' span): a prefix sum built on first use."""
        first = date(min(self._years), 1, 1)
        if self._prefix is None:
            prefix, count, current = [], 0, first
            while current.year <= max(self._years):
                count += self._is_working(current)
                prefix.append(count)
                current += _ONE_DAY
            self._prefix = prefix
        return self._prefix[(day - first).days]

    def _require(self, day: date) -> date:
        day = _plain(day)
        if day.year not in self._years:
            expected = f"{day.year}.toml"
            raise YearNotConfiguredError(
                day.year,
                self._directory / expected if self._directory else expected,
                self._years,
            )
        return day


def split_note(note: str) -> tuple[str, str]:
    """A :meth:`WorkCalendar.note` as (Chinese, English)."""
    zh, _, en = note.partition(" / ")
    return zh, en


def _plain(day: date) -> date:
    # A datetime is a date subclass but never equal to one, so it would miss every holiday.
    # Deadlines are dates in the bureau's local time: the caller converts first.
    if isinstance(day, datetime):
        raise TypeError(
            "请传入日期而非日期时间 pass a date, not a datetime "
            f"(convert to the bureau's local date first): {day!r}"
        )
    if not isinstance(day, date):
        raise TypeError(f"请传入日期 expected a date, got {type(day).__name__}: {day!r}")
    return day


def _positive(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{name} 须为正整数 {name} must be a positive whole number (got {value!r})"
        )


def load_work_calendar(config: BureauConfig) -> WorkCalendar:
    """The calendar from the folder the bureau configuration names."""
    return WorkCalendar.from_directory(config.calendar.holidays_dir)
