"""Statutory deadlines of the assignment workflow on the configured work calendar, table-driven.

Every expected date is worked out by hand in its row, from the 2025 and 2026 State Council
notices (deploy/config/holidays): 2026 元旦 1/1-3 (work Sun 1/4); 春节 2/15-23 (work Sat 2/14,
Sat 2/28); 清明 4/4-6; 劳动节 5/1-5 (work Sat 5/9); 端午 6/19-21; 中秋 9/25-27; 国庆 10/1-7
(work Sun 9/20, Sat 10/10). The day of receipt (acceptance, reply) is not counted; a last day
that is not a working day moves to the next working day; make-up working days count.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from assignment.domain.case import REMINDER_WORKING_DAYS
from assignment.domain.deadlines import Deadlines
from petitions.bureaus import WorkCalendar, load_config, load_work_calendar

ROOT = Path(__file__).resolve().parents[2]
D = date


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return load_work_calendar(load_config(ROOT / "deploy/config/bureaus.demo.toml"))


@pytest.fixture(scope="module")
def deadlines(calendar: WorkCalendar) -> Deadlines:
    return Deadlines(calendar)


# Art. 23: 15 calendar days from receipt.
ACCEPTANCE = [
    (D(2026, 3, 2), D(2026, 3, 17), "Mon + 15 = Tue, a working day"),
    (D(2026, 3, 6), D(2026, 3, 23), "Fri + 15 = Sat 3/21: moves to Mon 3/23"),
    (D(2026, 3, 7), D(2026, 3, 23), "received on a Saturday: + 15 = Sun 3/22 -> Mon 3/23"),
    (D(2026, 1, 30), D(2026, 2, 14), "+ 15 = Sat 2/14, a make-up working day: stays"),
    (D(2026, 2, 13), D(2026, 2, 28), "+ 15 = Sat 2/28, a make-up working day: stays"),
    (D(2026, 2, 5), D(2026, 2, 24), "+ 15 = 2/20 in Spring Festival (to 2/23) -> Tue 2/24"),
    (D(2026, 2, 1), D(2026, 2, 24), "+ 15 = Mon 2/16, Spring Festival -> Tue 2/24"),
    (D(2026, 9, 16), D(2026, 10, 8), "+ 15 = 10/1, National Day (to 10/7) -> Thu 10/8"),
    (D(2026, 9, 20), D(2026, 10, 8), "received on make-up Sun 9/20: + 15 = 10/5 -> 10/8"),
    (D(2026, 9, 25), D(2026, 10, 10), "+ 15 = Sat 10/10, a make-up working day: stays"),
    (D(2026, 9, 12), D(2026, 9, 28), "+ 15 = Sun 9/27, Mid-Autumn (and a Sunday) -> Mon 9/28"),
    (D(2026, 4, 20), D(2026, 5, 6), "+ 15 = 5/5, Labour Day (5/1-5) -> Wed 5/6"),
    (D(2025, 12, 20), D(2026, 1, 4), "across the year: + 15 = Sun 1/4 2026, make-up: stays"),
    (D(2025, 12, 17), D(2026, 1, 4), "+ 15 = 1/1 2026 (元旦 1/1-3) -> make-up Sun 1/4"),
]


@pytest.mark.parametrize(("received", "due", "why"), ACCEPTANCE, ids=[r[2] for r in ACCEPTANCE])
def test_acceptance_due(deadlines: Deadlines, received: date, due: date, why: str) -> None:
    assert deadlines.acceptance_due(received) == due, why


# Art. 23: a case assigned from above may be objected to within 5 working days.
OBJECTION = [
    (D(2026, 3, 6), D(2026, 3, 13), "Fri: Mon 3/9 .. Fri 3/13"),
    (D(2026, 3, 4), D(2026, 3, 11), "Wed: Thu, Fri, Mon, Tue, Wed; the weekend skipped"),
    (D(2026, 2, 12), D(2026, 2, 26), "Thu: 2/13, make-up Sat 2/14, (2/15-23 off), 2/24-26"),
    (D(2026, 9, 17), D(2026, 9, 23), "Thu: 9/18, make-up Sun 9/20, 9/21-23"),
    (D(2026, 9, 29), D(2026, 10, 12), "Tue: 9/30, (10/1-7 off), 10/8, 10/9, Sat 10/10, Mon"),
    (D(2026, 2, 26), D(2026, 3, 4), "Thu: 2/27, make-up Sat 2/28, 3/2, 3/3, 3/4"),
    (D(2025, 12, 30), D(2026, 1, 7), "across the year: 12/31, (1/1-3 off), make-up Sun 1/4, 1/5-7"),
]


@pytest.mark.parametrize(("received", "due", "why"), OBJECTION, ids=[r[2] for r in OBJECTION])
def test_objection_due(deadlines: Deadlines, received: date, due: date, why: str) -> None:
    assert deadlines.objection_due(received) == due, why


# Art. 34: 60 calendar days from acceptance.
HANDLING = [
    (D(2026, 1, 5), D(2026, 3, 6), "26 days of January + 28 of February + 6 = Fri 3/6"),
    (D(2026, 3, 2), D(2026, 5, 6), "+ 60 = 5/1, Labour Day (5/1-5) -> Wed 5/6"),
    (D(2026, 3, 10), D(2026, 5, 9), "+ 60 = Sat 5/9, a make-up working day: stays"),
    (D(2026, 8, 2), D(2026, 10, 8), "+ 60 = 10/1, National Day -> Thu 10/8"),
    (D(2026, 2, 5), D(2026, 4, 7), "+ 60 = Sun 4/5, Qingming (4/4-6) -> Tue 4/7"),
    # 15 days left of December + 31 of January + 14 of February:
    (D(2025, 12, 16), D(2026, 2, 14), "across the year: + 60 = make-up Sat 2/14 2026: stays"),
]


@pytest.mark.parametrize(("accepted", "due", "why"), HANDLING, ids=[r[2] for r in HANDLING])
def test_handling_due(deadlines: Deadlines, accepted: date, due: date, why: str) -> None:
    assert deadlines.handling_due(accepted) == due, why


# An extension (at most 30 days) or the days a hearing stopped the clock, added to a deadline.
EXTEND = [
    (D(2026, 5, 6), 30, D(2026, 6, 5), "Wed 5/6 + 30 = Fri 6/5"),
    (D(2026, 5, 20), 30, D(2026, 6, 22), "+ 30 = 6/19, Dragon Boat (6/19-21) -> Mon 6/22"),
    (D(2026, 9, 1), 30, D(2026, 10, 8), "+ 30 = 10/1 National Day -> 10/8"),
    (D(2026, 9, 10), 30, D(2026, 10, 10), "+ 30 = Sat 10/10, make-up: stays"),
    (D(2026, 3, 6), 1, D(2026, 3, 9), "one paused day from a Friday: Sat -> Mon"),
    (D(2026, 2, 13), 1, D(2026, 2, 14), "one paused day from Fri 2/13: make-up Sat 2/14"),
    (D(2026, 2, 14), 1, D(2026, 2, 24), "one paused day from Sat 2/14: Sun 2/15 is a holiday"),
]


@pytest.mark.parametrize(("due", "days", "moved", "why"), EXTEND, ids=[r[3] for r in EXTEND])
def test_extend(deadlines: Deadlines, due: date, days: int, moved: date, why: str) -> None:
    assert deadlines.extend(due, days) == moved, why


# Arts. 35-36: 30 days to ask for review / re-review, and 30 days to decide it.
WINDOW = [
    (D(2026, 3, 2), D(2026, 4, 1), "Mon 3/2 + 30 = Wed 4/1"),
    (D(2026, 1, 15), D(2026, 2, 14), "+ 30 = make-up Sat 2/14: stays"),
    (D(2026, 1, 20), D(2026, 2, 24), "+ 30 = 2/19 Spring Festival -> Tue 2/24"),
    (D(2026, 9, 10), D(2026, 10, 10), "+ 30 = make-up Sat 10/10: stays"),
    (D(2026, 9, 5), D(2026, 10, 8), "+ 30 = 10/5 National Day -> 10/8"),
    (D(2026, 3, 5), D(2026, 4, 7), "+ 30 = Sat 4/4, Qingming (4/4-6) -> Tue 4/7"),
]


@pytest.mark.parametrize(("start", "end", "why"), WINDOW, ids=[r[2] for r in WINDOW])
def test_review_windows(deadlines: Deadlines, start: date, end: date, why: str) -> None:
    assert deadlines.window_end(start) == end, why


# Reminders at 5 and 1 working days before a deadline, counted back over working days.
REMINDERS = [
    (D(2026, 3, 17), D(2026, 3, 10), D(2026, 3, 16), "Tue: 5 back = Tue 3/10 over the weekend"),
    (D(2026, 3, 23), D(2026, 3, 16), D(2026, 3, 20), "Mon: 1 back is the Friday"),
    (D(2026, 2, 24), D(2026, 2, 10), D(2026, 2, 14), "after Spring Festival: 1 back = Sat 2/14"),
    (D(2026, 3, 2), D(2026, 2, 24), D(2026, 2, 28), "Mon 3/2: 1 back = make-up Sat 2/28"),
    (D(2026, 10, 8), D(2026, 9, 23), D(2026, 9, 30), "after National Day and Mid-Autumn"),
    (D(2026, 10, 12), D(2026, 9, 29), D(2026, 10, 10), "Mon 10/12: 1 back = make-up Sat 10/10"),
    (D(2026, 9, 22), D(2026, 9, 16), D(2026, 9, 21), "Tue 9/22: make-up Sun 9/20 counts"),
    (D(2026, 5, 6), D(2026, 4, 24), D(2026, 4, 30), "Wed 5/6: 5/1-5 off: 4/30-27, Fri 4/24"),
    (D(2026, 1, 5), D(2025, 12, 26), D(2026, 1, 4), "across the year: make-up Sun 1/4 counts"),
]


@pytest.mark.parametrize(("due", "five", "one", "why"), REMINDERS, ids=[r[3] for r in REMINDERS])
def test_reminder_days(calendar: WorkCalendar, due: date, five: date, one: date, why: str) -> None:
    assert REMINDER_WORKING_DAYS == (5, 1)
    assert calendar.working_days_before(due, 5) == five, why
    assert calendar.working_days_before(due, 1) == one, why


def test_every_deadline_lands_on_a_working_day(
    calendar: WorkCalendar, deadlines: Deadlines
) -> None:
    day = D(2026, 1, 1)
    while day <= D(2026, 10, 31):
        for due in (
            deadlines.acceptance_due(day),
            deadlines.objection_due(day),
            deadlines.handling_due(day),
            deadlines.window_end(day),
        ):
            assert calendar.is_working_day(due), (day, due)
        assert deadlines.acceptance_due(day) >= D.fromordinal(day.toordinal() + 15)
        day = D.fromordinal(day.toordinal() + 1)


def test_a_year_without_its_holiday_file_is_computed_on_weekends(deadlines: Deadlines) -> None:
    # Thu 6/1/2023 + 15 = Fri 6/16/2023 (端午 2023 was 6/22-24: a guess, not refused).
    assert deadlines.acceptance_due(D(2023, 6, 1)) == D(2023, 6, 16)


def test_local_date_is_shanghai_time(deadlines: Deadlines) -> None:
    from datetime import UTC, datetime

    # 16:30 UTC on 3/6 is 00:30 on 3/7 in Shanghai: received on the Saturday.
    moment = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    assert Deadlines.local_date(moment) == D(2026, 3, 7)
    assert Deadlines.iso_week(D(2026, 3, 7)) == "2026-W10"
    assert deadlines.acceptance_due(Deadlines.local_date(moment)) == D(2026, 3, 23)
