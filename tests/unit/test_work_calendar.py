"""The statutory-deadline calendar over the demo holiday files (2024-2026).

Every expected date is worked out by hand in its comment from the State Council notices:
2024: 元旦 1/1; 春节 2/10-17 (work Sun 2/4, Sun 2/18); 清明 4/4-6 (work Sun 4/7); 劳动节 5/1-5
      (work Sun 4/28, Sat 5/11); 端午 6/10; 中秋 9/15-17 (work Sat 9/14); 国庆 10/1-7
      (work Sun 9/29, Sat 10/12).
2025: 元旦 1/1; 春节 1/28-2/4 (work Sun 1/26, Sat 2/8); 清明 4/4-6; 劳动节 5/1-5 (work Sun 4/27);
      端午 5/31-6/2; 国庆中秋 10/1-8 (work Sun 9/28, Sat 10/11).
2026: 元旦 1/1-3 (work Sun 1/4); 春节 2/15-23 (work Sat 2/14, Sat 2/28); 清明 4/4-6;
      劳动节 5/1-5 (work Sat 5/9); 端午 6/19-21; 中秋 9/25-27;
      国庆 10/1-7 (work Sun 9/20, Sat 10/10).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from petitions.bureaus import (
    ConfigError,
    Dated,
    HolidayPeriod,
    HolidayYear,
    WorkCalendar,
    YearNotConfiguredError,
    load_config,
    load_holiday_year,
    load_work_calendar,
)

ROOT = Path(__file__).resolve().parents[2]
HOLIDAYS = ROOT / "deploy" / "config" / "holidays"
D = date
CalendarCall = Callable[[WorkCalendar], object]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_directory(HOLIDAYS)


def test_the_demo_years_load(cal: WorkCalendar) -> None:
    assert cal.years == (2024, 2025, 2026, 2027)
    # The bureau configuration points at the same folder.
    config = load_config(ROOT / "deploy" / "config" / "bureaus.demo.toml")
    assert load_work_calendar(config).years == (2024, 2025, 2026, 2027)


# -- is a working day --------------------------------------------------------------------------

WORKING_DAY_CASES = [
    (D(2025, 3, 5), True),  # an ordinary Wednesday
    (D(2025, 3, 8), False),  # an ordinary Saturday
    (D(2025, 3, 9), False),  # an ordinary Sunday
    (D(2025, 1, 1), False),  # 元旦, a Wednesday
    (D(2025, 1, 26), True),  # Sunday made a working day for 春节
    (D(2025, 1, 28), False),  # 除夕 2025 is a holiday (new from 2025), a Tuesday
    (D(2025, 2, 4), False),  # last day of 春节, a Tuesday
    (D(2025, 2, 5), True),  # first working day after 春节
    (D(2025, 2, 8), True),  # Saturday made a working day for 春节
    (D(2025, 10, 8), False),  # last day of 国庆中秋, a Wednesday
    (D(2025, 10, 11), True),  # Saturday made a working day
    (D(2024, 2, 9), True),  # 除夕 2024 was only "encouraged" off: a working Friday
    (D(2024, 6, 10), False),  # 端午 2024, a Monday
    (D(2024, 9, 14), True),  # Saturday made a working day for 中秋
    (D(2026, 1, 4), True),  # Sunday made a working day for 元旦
    (D(2026, 2, 23), False),  # last day of 春节 2026, a Monday
    (D(2026, 2, 28), True),  # Saturday made a working day for 春节
    (D(2026, 9, 20), True),  # Sunday made a working day for 国庆
]


@pytest.mark.parametrize(("day", "working"), WORKING_DAY_CASES)
def test_is_working_day(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_holiday_names(cal: WorkCalendar) -> None:
    assert cal.holiday_name(D(2026, 2, 17)) == "春节"
    assert cal.holiday_name(D(2025, 10, 6)) == "国庆节、中秋节"
    assert cal.holiday_name(D(2025, 3, 8)) is None  # a weekend is not a public holiday


def test_next_working_day_is_strictly_after_and_roll_forward_is_not(cal: WorkCalendar) -> None:
    assert cal.next_working_day(D(2025, 3, 5)) == D(2025, 3, 6)  # Wed -> Thu
    assert cal.roll_forward(D(2025, 3, 5)) == D(2025, 3, 5)  # a working day stays
    assert cal.next_working_day(D(2025, 3, 7)) == D(2025, 3, 10)  # Fri -> Mon
    assert cal.roll_forward(D(2026, 2, 15)) == D(2026, 2, 24)  # 春节 2/15-23 -> Tue 2/24
    assert cal.next_working_day(D(2026, 2, 13)) == D(2026, 2, 14)  # Fri -> make-up Sat


# -- calendar-day deadlines ------------------------------------------------------------------
# (start, days, expected): start is not counted; a last day that is not a working day moves on.

DEADLINE_CASES = [
    # 15-day acceptance deadline (Art. 23).
    pytest.param(D(2025, 3, 5), 15, D(2025, 3, 20), id="15d-plain-weekday"),
    # Wed 3/5 + 15 = Thu 3/20, a working day: stays.
    pytest.param(D(2025, 3, 7), 15, D(2025, 3, 24), id="15d-ends-saturday"),
    # Fri 3/7 + 15 = Sat 3/22 -> Sun 3/23 -> Mon 3/24.
    pytest.param(D(2025, 3, 8), 15, D(2025, 3, 24), id="15d-ends-sunday"),
    # Sat 3/8 + 15 = Sun 3/23 -> Mon 3/24.
    pytest.param(D(2026, 2, 1), 15, D(2026, 2, 24), id="15d-ends-in-spring-festival-2026"),
    # Sun 2/1 + 15 = Mon 2/16, inside 春节 2/15-23 -> Tue 2/24, the first working day after.
    pytest.param(D(2026, 2, 8), 15, D(2026, 2, 24), id="15d-ends-on-last-day-of-spring-festival"),
    # Sun 2/8 + 15 = Mon 2/23, last day of 春节 -> Tue 2/24.
    pytest.param(D(2026, 1, 30), 15, D(2026, 2, 14), id="15d-ends-on-make-up-saturday-2026"),
    # Fri 1/30 + 15 = Sat 2/14 (1/31 is day 1, 2/14 day 15), a make-up working day: stays.
    pytest.param(D(2025, 1, 24), 15, D(2025, 2, 8), id="15d-ends-on-make-up-saturday-2025"),
    # Fri 1/24 + 15 = Sat 2/8 (1/31 is day 7, 2/8 day 15), a make-up working day: stays.
    pytest.param(D(2024, 2, 3), 15, D(2024, 2, 18), id="15d-ends-on-make-up-sunday-2024"),
    # Sat 2/3 + 15 = Sun 2/18, a make-up working day: stays.
    pytest.param(D(2025, 12, 17), 15, D(2026, 1, 4), id="15d-new-year-rolls-onto-make-up-sunday"),
    # Wed 12/17 + 15 = Thu 1/1/2026 (12/31 is day 14), 元旦 1/1-3 -> Sun 1/4, a make-up working day.
    pytest.param(D(2024, 12, 20), 15, D(2025, 1, 6), id="15d-across-the-year-end"),
    # Fri 12/20 + 15 = Sat 1/4/2025 (12/31 is day 11) -> Sun 1/5 -> Mon 1/6.
    pytest.param(D(2025, 9, 20), 15, D(2025, 10, 9), id="15d-ends-in-national-day-2025"),
    # Sat 9/20 + 15 = Sun 10/5 (9/30 is day 10), inside 国庆中秋 10/1-8 -> Thu 10/9.
    pytest.param(D(2024, 5, 26), 15, D(2024, 6, 11), id="15d-ends-on-dragon-boat-2024"),
    # Sun 5/26 + 15 = Mon 6/10 (5/31 is day 5), 端午 -> Tue 6/11.
    pytest.param(D(2026, 2, 17), 15, D(2026, 3, 4), id="15d-received-during-a-holiday"),
    # Tue 2/17 (a holiday) + 15 = Wed 3/4 (2/28 is day 11): the start day need not be working.
    # 60-day handling deadline (Art. 34).
    pytest.param(D(2025, 1, 10), 60, D(2025, 3, 11), id="60d-plain"),
    # Fri 1/10 + 60: 1/31 is day 21, 2/28 day 49, Tue 3/11 day 60: a working day, stays.
    pytest.param(D(2025, 8, 5), 60, D(2025, 10, 9), id="60d-ends-in-national-day"),
    # Tue 8/5 + 60: 8/31 is day 26, 9/30 day 56, Sat 10/4 day 60, inside 10/1-8 -> Thu 10/9.
    pytest.param(D(2026, 3, 2), 60, D(2026, 5, 6), id="60d-ends-on-labour-day-2026"),
    # Mon 3/2 + 60: 3/31 is day 29, 4/30 day 59, Fri 5/1 day 60, 劳动节 5/1-5 -> Wed 5/6.
    pytest.param(D(2024, 11, 15), 60, D(2025, 1, 14), id="60d-across-the-year-end"),
    # Fri 11/15 + 60: 11/30 is day 15, 12/31 day 46, Tue 1/14/2025 day 60: stays.
    # 30-day extension, review request and review decision (Arts. 34-36).
    pytest.param(D(2024, 9, 1), 30, D(2024, 10, 8), id="30d-ends-on-national-day-2024"),
    # Sun 9/1 + 30: 9/30 is day 29, Tue 10/1 day 30, 国庆 10/1-7 -> Tue 10/8.
    pytest.param(D(2026, 1, 9), 30, D(2026, 2, 9), id="30d-ends-sunday-before-spring-festival"),
    # Fri 1/9 + 30: 1/31 is day 22, Sun 2/8 day 30 -> Mon 2/9 (an ordinary working day).
]


@pytest.mark.parametrize(("start", "days", "expected"), DEADLINE_CASES)
def test_add_days_deadline(cal: WorkCalendar, start: date, days: int, expected: date) -> None:
    assert cal.add_days_deadline(start, days) == expected


def test_a_deadline_is_always_a_working_day_and_never_early(cal: WorkCalendar) -> None:
    start = D(2024, 1, 1)
    while start < D(2026, 9, 1):
        for days in (15, 30, 60):
            deadline = cal.add_days_deadline(start, days)
            assert cal.is_working_day(deadline)
            assert deadline >= start + timedelta(days=days)
            # No working day was skipped between the raw last day and the deadline.
            raw = start + timedelta(days=days)
            assert all(
                not cal.is_working_day(raw + timedelta(days=k))
                for k in range((deadline - raw).days)
            )
        start += timedelta(days=1)


# -- working-day periods ---------------------------------------------------------------------

WORKING_DAYS_CASES = [
    pytest.param(D(2025, 3, 3), 5, D(2025, 3, 10), id="5wd-plain"),
    # Mon 3/3: Tue 4 (1), Wed 5 (2), Thu 6 (3), Fri 7 (4), Mon 10 (5).
    pytest.param(D(2026, 2, 11), 5, D(2026, 2, 25), id="5wd-across-spring-festival-and-make-up"),
    # Wed 2/11: Thu 12 (1), Fri 13 (2), Sat 14 make-up (3), 2/15-23 off, Tue 24 (4), Wed 25 (5).
    pytest.param(D(2025, 9, 26), 5, D(2025, 10, 10), id="5wd-across-national-day"),
    # Fri 9/26: Sat 27 off, Sun 28 make-up (1), Mon 29 (2), Tue 30 (3), 10/1-8 off,
    # Thu 10/9 (4), Fri 10/10 (5).
    pytest.param(D(2025, 4, 25), 5, D(2025, 5, 6), id="5wd-across-labour-day"),
    # Fri 4/25: Sat 26 off, Sun 27 make-up (1), Mon 28 (2), Tue 29 (3), Wed 30 (4),
    # 5/1-5 off, Tue 5/6 (5).
    pytest.param(D(2025, 10, 3), 5, D(2025, 10, 14), id="5wd-assigned-during-a-holiday"),
    # Fri 10/3 (off): Thu 10/9 (1), Fri 10 (2), Sat 11 make-up (3), Mon 13 (4), Tue 14 (5).
    pytest.param(D(2024, 12, 27), 5, D(2025, 1, 6), id="5wd-across-the-year-end"),
    # Fri 12/27: Mon 30 (1), Tue 31 (2), Wed 1/1 off, Thu 1/2 (3), Fri 1/3 (4), Mon 1/6 (5).
    pytest.param(D(2026, 2, 13), 1, D(2026, 2, 14), id="1wd-onto-make-up-saturday"),
    # Fri 2/13: the next working day is the make-up Saturday 2/14.
]


@pytest.mark.parametrize(("start", "n", "expected"), WORKING_DAYS_CASES)
def test_add_working_days(cal: WorkCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


REMINDER_CASES = [
    pytest.param(D(2025, 3, 24), 1, D(2025, 3, 21), id="1wd-before-a-monday"),
    # Mon 3/24: back over Sun 23, Sat 22 -> Fri 3/21.
    pytest.param(D(2025, 3, 24), 5, D(2025, 3, 17), id="5wd-before-a-monday"),
    # Mon 3/24: Fri 21 (1), Thu 20 (2), Wed 19 (3), Tue 18 (4), Mon 17 (5).
    pytest.param(D(2026, 2, 24), 1, D(2026, 2, 14), id="1wd-before-spring-festival-end"),
    # Tue 2/24: back over 春节 2/23-15 -> the make-up Saturday 2/14.
    pytest.param(D(2026, 2, 24), 5, D(2026, 2, 10), id="5wd-before-spring-festival-end"),
    # Tue 2/24: Sat 14 make-up (1), Fri 13 (2), Thu 12 (3), Wed 11 (4), Tue 10 (5).
    pytest.param(D(2025, 10, 9), 1, D(2025, 9, 30), id="1wd-before-national-day-end"),
    # Thu 10/9: back over 10/8-1 -> Tue 9/30.
    pytest.param(D(2025, 10, 9), 5, D(2025, 9, 25), id="5wd-before-national-day-end"),
    # Thu 10/9: Tue 9/30 (1), Mon 29 (2), Sun 28 make-up (3), Sat 27 off, Fri 26 (4), Thu 25 (5).
    pytest.param(D(2026, 5, 6), 5, D(2026, 4, 24), id="5wd-before-labour-day-end"),
    # Wed 5/6: back over 5/5-1 -> Thu 4/30 (1), Wed 29 (2), Tue 28 (3), Mon 27 (4), Fri 24 (5).
    pytest.param(D(2026, 1, 5), 1, D(2026, 1, 4), id="1wd-before-is-a-make-up-sunday"),
    # Mon 1/5: the day before, Sun 1/4, is a make-up working day.
    pytest.param(D(2025, 1, 6), 5, D(2024, 12, 27), id="5wd-back-across-the-year-end"),
    # Mon 1/6/2025: Sun 5, Sat 4 off, Fri 1/3 (1), Thu 1/2 (2), Wed 1/1 off, Tue 12/31 (3),
    # Mon 12/30 (4), Sun 29, Sat 28 off, Fri 12/27 (5).
]


@pytest.mark.parametrize(("deadline", "n", "expected"), REMINDER_CASES)
def test_working_days_before(cal: WorkCalendar, deadline: date, n: int, expected: date) -> None:
    assert cal.working_days_before(deadline, n) == expected


def test_working_days_between(cal: WorkCalendar) -> None:
    # (Sat 2/14 make-up] ... [Tue 2/24]: only 2/24 itself is a working day after 2/14.
    assert cal.working_days_between(D(2026, 2, 14), D(2026, 2, 24)) == 1
    # Mon 3/3 to Mon 3/10/2025: Tue, Wed, Thu, Fri, Mon.
    assert cal.working_days_between(D(2025, 3, 3), D(2025, 3, 10)) == 5
    assert cal.working_days_between(D(2025, 3, 10), D(2025, 3, 3)) == 0
    # Round trip with add_working_days.
    assert cal.working_days_between(D(2026, 2, 11), cal.add_working_days(D(2026, 2, 11), 5)) == 5


def test_working_days_between_counts_as_day_by_day(cal: WorkCalendar) -> None:
    # Counted with a prefix sum: the same as counting each day, across holidays, make-up
    # Saturdays and the turn of the years.
    first, last = date(min(cal.years), 1, 1), date(max(cal.years), 12, 31)
    starts = [first + timedelta(days=d) for d in range(0, (last - first).days + 1, 37)]
    for start in starts:
        for span in (0, 1, 6, 30, 200, 400):
            end = min(last, start + timedelta(days=span))
            by_day = sum(
                cal.is_working_day(start + timedelta(days=k))
                for k in range(1, (end - start).days + 1)
            )
            assert cal.working_days_between(start, end) == by_day


# -- outside the configured years --------------------------------------------------------------


def test_asking_about_a_day_of_a_year_without_file_raises(cal: WorkCalendar) -> None:
    # Laying out reception days acts on the answer at once: no guess there.
    with pytest.raises(YearNotConfiguredError, match=r"2023\.toml") as caught:
        cal.is_working_day(D(2023, 6, 1))
    assert caught.value.year == 2023
    assert caught.value.expected_file == str(HOLIDAYS / "2023.toml")
    assert "国务院办公厅关于2023年部分节假日安排的通知" in str(caught.value)
    assert "configured years: 2024, 2025, 2026, 2027" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "expected", "years"),
    [
        # Wed 12/20/2023 + 15 = Thu 1/4/2024: a working day of 2024; only 2024 was looked at.
        pytest.param(
            lambda c: c.days_deadline(D(2023, 12, 20), 15), D(2024, 1, 4), (), id="from-2023"
        ),
        # Mon 12/20/2027 + 15 = Tue 1/4/2028, a weekday of a year with no file.
        pytest.param(
            lambda c: c.days_deadline(D(2027, 12, 20), 15), D(2028, 1, 4), (2028,), id="into-2028"
        ),
        # Wed 12/29 (1), Thu 30 (2), Fri 31 (3), Mon 1/3/2028 (4), Tue 1/4 (5): days of both.
        pytest.param(
            lambda c: c.working_days_deadline(D(2027, 12, 28), 5),
            D(2028, 1, 4),
            (2027, 2028),
            id="window-into-2028",
        ),
        # Sat 12/31/2022 + 30 = Mon 1/30/2023: no 2023 file, weekends only.
        pytest.param(
            lambda c: c.days_deadline(D(2022, 12, 31), 30), D(2023, 1, 30), (2023,), id="in-2023"
        ),
    ],
)
def test_a_deadline_in_a_year_without_file_falls_back_to_weekends_and_is_provisional(
    cal: WorkCalendar, call: CalendarCall, expected: date, years: tuple[int, ...]
) -> None:
    dated = call(cal)
    assert isinstance(dated, Dated)
    assert dated.due == expected
    assert dated.provisional_years == years
    assert dated.provisional is bool(years)


def test_the_date_methods_no_longer_raise_for_a_year_without_file(cal: WorkCalendar) -> None:
    assert cal.add_days_deadline(D(2027, 12, 20), 15) == D(2028, 1, 4)
    assert cal.add_working_days(D(2027, 12, 28), 5) == D(2028, 1, 4)
    # Fri 12/31/2027 -> Sat, Sun -> Mon 1/3/2028.
    assert cal.next_working_day(D(2027, 12, 31)) == D(2028, 1, 3)
    # Tue 1/2/2024 (1), Mon 1/1 is 元旦, then Fri 12/29/2023 (2) .. Tue 12/26 (5).
    assert cal.working_days_before(D(2024, 1, 3), 5) == D(2023, 12, 26)


def test_covers_says_which_years_are_known(cal: WorkCalendar) -> None:
    assert cal.covers(D(2025, 6, 1))
    assert not cal.covers(D(2028, 1, 1))


def test_bad_arguments(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="not a datetime"):
        cal.is_working_day(datetime(2025, 3, 5, 9, 0))
    with pytest.raises(ValueError, match="positive"):
        cal.add_days_deadline(D(2025, 3, 5), 0)
    with pytest.raises(ValueError, match="positive"):
        cal.add_working_days(D(2025, 3, 5), -1)
    with pytest.raises(ValueError, match="positive"):
        cal.working_days_before(D(2025, 3, 5), 0)


# -- faulty holiday files --------------------------------------------------------------------

GOOD_2030 = """\
year = 2030
source = "国务院办公厅关于2030年部分节假日安排的通知"

[[holidays]]
name = "元旦"
start = 2030-01-01
end = 2030-01-01

[[working_days]]
day = 2030-01-05  # a Saturday
name = "调休上班"
"""


def write_year(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_year_file_loads(tmp_path: Path) -> None:
    entry = load_holiday_year(write_year(tmp_path, "2030.toml", GOOD_2030))
    assert entry.year == 2030
    cal = WorkCalendar([entry])
    assert cal.is_working_day(D(2030, 1, 5))
    assert not cal.is_working_day(D(2030, 1, 1))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "2031.toml", GOOD_2030, "file name says 2031 but the file says year = 2030", id="year"
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace("day = 2030-01-05", "day = 2030-01-07"),
            "must be a Saturday or Sunday",
            id="make-up-on-a-weekday",
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace("end = 2030-01-01", "end = 2029-12-30"),
            "end 2029-12-30 is before start 2030-01-01",
            id="end-before-start",
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace("end = 2030-01-01", "end = 2030-01-06"),
            "2030-01-05: 同一天被重复列出 listed twice",
            id="holiday-and-working-day-at-once",
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace("start = 2030-01-01", "start = 2028-12-31"),
            "date is outside the 2030 arrangement",
            id="date-in-a-far-year",
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace('name = "元旦"\n', ""),
            "holidays[0].name: 缺少必填项 required field missing",
            id="missing-name",
        ),
        pytest.param(
            "2030.toml",
            GOOD_2030.replace("start = 2030-01-01", 'start = "soon"'),
            "holidays[0] (元旦).start",
            id="not-a-date",
        ),
    ],
)
def test_a_faulty_year_file_is_refused_and_named(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_holiday_year(write_year(tmp_path, name, text))
    assert any(expected in p for p in caught.value.problems), caught.value.problems
    assert name in str(caught.value)


def test_a_folder_reports_every_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "holidays"
    write_year(folder, "2030.toml", GOOD_2030.replace("day = 2030-01-05", "day = 2030-01-07"))
    write_year(folder, "2031.toml", GOOD_2030)  # says 2030 inside
    write_year(folder, "holidays-2032.toml", GOOD_2030)  # misnamed, never silently skipped
    with pytest.raises(ConfigError) as caught:
        WorkCalendar.from_directory(folder)
    joined = "\n".join(caught.value.problems)
    assert "2030.toml: working_days[0]" in joined
    assert "2031.toml: year" in joined
    assert "holidays-2032.toml: 文件名应为四位年份" in joined


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no year of holiday arrangements"):
        WorkCalendar.from_directory(tmp_path)
    with pytest.raises(ConfigError, match="holiday folder not found"):
        WorkCalendar.from_directory(tmp_path / "absent")


def test_adjacent_years_must_agree_about_the_turn_of_the_year(tmp_path: Path) -> None:
    # The 2031 notice reaches back to 2030-12-31 as a holiday; 2030's file calls it a working day.
    y2030 = load_holiday_year(
        write_year(
            tmp_path, "2030.toml", GOOD_2030 + '\n[[working_days]]\nday = 2030-12-29\nname = "x"\n'
        )
    )
    y2031 = load_holiday_year(
        write_year(
            tmp_path,
            "2031.toml",
            GOOD_2030.replace("2030", "2031")
            .replace("start = 2031-01-01", "start = 2030-12-29")
            .replace("day = 2031-01-05", "day = 2031-01-04"),
        )
    )
    with pytest.raises(ConfigError, match="disagree"):
        WorkCalendar([y2030, y2031])
    with pytest.raises(ConfigError, match="configured twice"):
        WorkCalendar([y2030, y2030])


# -- provisional years --------------------------------------------------------------------------


def _year(year: int, *, provisional: bool = False, reason: str = "") -> HolidayYear:
    return HolidayYear(
        year=year,
        source=f"{year} 测试 test",
        holidays=(HolidayPeriod(name="元旦", start=D(year, 1, 1), end=D(year, 1, 1)),),
        provisional=provisional,
        provisional_reason=reason,
    )


def test_the_demo_2027_file_declares_itself_provisional(cal: WorkCalendar) -> None:
    assert cal.is_provisional(2027)
    assert not cal.is_provisional(2026)
    assert cal.is_provisional(2028)  # no file at all
    zh, en = cal.reason(2027)
    assert "2027 年节假日安排为暂定" in zh
    assert "provisional" in en


def test_a_deadline_is_provisional_exactly_when_a_day_it_looked_at_is() -> None:
    cal = WorkCalendar([_year(2026), _year(2027, provisional=True, reason="未发布 not out")])
    # Tue 12/1/2026 + 15 = Wed 12/16/2026: never looks at 2027.
    assert cal.days_deadline(D(2026, 12, 1), 15) == Dated(D(2026, 12, 16))
    # Fri 12/17/2026 + 15 = 1/1/2027 (元旦), rolls to Mon 1/4/2027: rests on 2027.
    assert cal.days_deadline(D(2026, 12, 17), 15) == Dated(D(2027, 1, 4), (2027,))
    # Thu 12/24/2026 + 5 working days = 12/25, 28, 29, 30, 31: all of 2026.
    assert cal.working_days_deadline(D(2026, 12, 24), 5) == Dated(D(2026, 12, 31))
    # Fri 12/25/2026 + 5 working days: 28, 29, 30, 31, then 1/1/2027 is off: Mon 1/4.
    assert cal.working_days_deadline(D(2026, 12, 25), 5) == Dated(D(2027, 1, 4), (2027,))
    note = cal.note([2027, 2028])
    assert "2027 年节假日安排为暂定" in note
    assert "未发布 not out" in note
    assert "2028 年节假日安排未配置" in note
    assert "not configured" in note


def test_a_final_year_file_with_a_provisional_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(
        'year = 2027\nsource = "x"\nprovisional_reason = "forgot"\n'
        '[[holidays]]\nname = "元旦"\nstart = 2027-01-01\nend = 2027-01-01\n'
    )
    with pytest.raises(ConfigError, match="provisional_reason"):
        load_holiday_year(path)


def test_the_calendar_knows_each_files_path_and_sha256(tmp_path: Path) -> None:
    text = (
        'year = 2027\nsource = "暂定"\nprovisional = true\nprovisional_reason = "未发布"\n'
        '[[holidays]]\nname = "元旦"\nstart = 2027-01-01\nend = 2027-01-01\n'
    )
    (tmp_path / "2027.toml").write_text(text, encoding="utf-8")
    cal = WorkCalendar.from_directory(tmp_path)
    (only,) = cal.files
    assert only.year == 2027
    assert only.name == "2027.toml"
    assert only.path == str(tmp_path / "2027.toml")
    assert only.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert cal.file_for(2027) == only
    assert cal.file_for(2026) is None
    before = cal.checksum
    # The same content again: the same checksum; one byte more: another.
    assert WorkCalendar.from_directory(tmp_path).checksum == before
    (tmp_path / "2027.toml").write_text(text + "# official\n", encoding="utf-8")
    assert WorkCalendar.from_directory(tmp_path).checksum != before
