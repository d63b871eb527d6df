"""Deadlines at the turn of the year, in the pure core: a deadline computed into a provisional
(or missing) holiday year is marked in its event and in the case; a changed calendar re-dates
exactly the deadlines that rest on it, once, and the reminders follow the new dates.

Calendars are built here from HolidayYear objects: 2026 from the demo file, and two versions of
2027, the provisional guess (元旦 1/1, 春节 2/5-8) and a fictional "official" one (元旦 1/1-3,
春节 1/28-2/3) that moves some deadlines and only confirms others."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from assignment.domain import commands as c
from assignment.domain.case import (
    Case,
    Context,
    decide,
    due_notices,
    next_check,
    open_workflow,
    recompute,
)
from assignment.domain.deadlines import Deadlines
from petitions.bureaus import (
    HolidayPeriod,
    HolidayYear,
    WorkCalendar,
    load_config,
    load_holiday_year,
)
from petitions.identity import Principal, Role
from petitions.messages.assignment import (
    CaseAccepted,
    DatedDeadline,
    DeadlineKind,
    DeadlineReminderSent,
    DeadlinesRecomputed,
    WorkflowOpened,
)

from tests.unit.test_assignment_case import fold, registration

ROOT = Path(__file__).resolve().parents[2]
D = date
CONFIG = load_config(ROOT / "deploy/config/bureaus.demo.toml")
Y2026 = load_holiday_year(ROOT / "deploy/config/holidays/2026.toml")
GUESS_2027 = HolidayYear(
    year=2027,
    source="暂定 guess",
    provisional=True,
    provisional_reason="通知未发布 notice not out",
    holidays=(
        HolidayPeriod(name="元旦", start=D(2027, 1, 1), end=D(2027, 1, 1)),
        HolidayPeriod(name="春节", start=D(2027, 2, 5), end=D(2027, 2, 8)),
    ),
)
OFFICIAL_2027 = HolidayYear(
    year=2027,
    source="国务院办公厅关于2027年部分节假日安排的通知（测试用虚构 fictional）",
    holidays=(
        HolidayPeriod(name="元旦", start=D(2027, 1, 1), end=D(2027, 1, 3)),
        HolidayPeriod(name="春节", start=D(2027, 1, 28), end=D(2027, 2, 3)),
    ),
)
PROVISIONAL = Deadlines(WorkCalendar([Y2026, GUESS_2027]))
OFFICIAL = Deadlines(WorkCalendar([Y2026, OFFICIAL_2027]))
MISSING = Deadlines(WorkCalendar([Y2026]))
OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")


def opened(received: datetime, deadlines: Deadlines) -> Case:
    case = fold(registration(received=received))
    return fold(open_workflow(case, CONFIG, deadlines), case)


def accepted(received: datetime, on: date, deadlines: Deadlines) -> Case:
    case = opened(received, deadlines)
    return fold(decide(case, c.Accept(), Context(OFFICE, on, CONFIG, deadlines)), case)


def test_a_deadline_computed_into_a_provisional_year_is_marked() -> None:
    # Received Tue 12/1/2026: acceptance 12/16/2026, all of 2026: not marked.
    case = opened(datetime(2026, 12, 1, 2, tzinfo=UTC), PROVISIONAL)
    assert case.acceptance_due == D(2026, 12, 16)
    assert case.provisional == ()
    # Accepted the same day: 60 days = Sat 1/30/2027 -> Mon 2/1/2027, on the guessed 2027.
    events = decide(case, c.Accept(), Context(OFFICE, D(2026, 12, 1), CONFIG, PROVISIONAL))
    (event,) = events
    assert isinstance(event, CaseAccepted)
    assert event.handling_due == D(2027, 2, 1)
    assert event.provisional_deadlines == (DatedDeadline.HANDLING,)
    assert "2027 年节假日安排为暂定" in event.calendar_note
    assert "通知未发布 notice not out" in event.calendar_note
    assert "provisional" in event.calendar_note
    case = fold(events, case)
    assert list(case.provisional_marks()) == [DatedDeadline.HANDLING]
    assert case.provisional_now() == [DatedDeadline.HANDLING]


def test_the_same_deadline_on_an_official_year_is_not_marked() -> None:
    case = accepted(datetime(2026, 12, 1, 2, tzinfo=UTC), D(2026, 12, 1), OFFICIAL)
    # Sat 1/30/2027 is in 春节 1/28-2/3: the deadline is Thu 2/4.
    assert case.handling_due == D(2027, 2, 4)
    assert case.provisional == ()


def test_a_year_with_no_file_takes_the_case_up_on_weekends_and_marks_it() -> None:
    # Received Sun 12/20/2026 (local): 15 days = Mon 1/4/2027, a year with no file at all.
    case = fold(registration(received=datetime(2026, 12, 20, 2, tzinfo=UTC)))
    (opened_event, _) = open_workflow(case, CONFIG, MISSING)
    assert isinstance(opened_event, WorkflowOpened)
    assert opened_event.acceptance_due == D(2027, 1, 4)
    assert opened_event.provisional_deadlines == (DatedDeadline.ACCEPTANCE,)
    assert "2027 年节假日安排未配置" in opened_event.calendar_note
    assert "not configured" in opened_event.calendar_note


def test_the_official_file_re_dates_a_moved_deadline_once_and_moves_its_reminders() -> None:
    case = accepted(datetime(2026, 12, 1, 2, tzinfo=UTC), D(2026, 12, 1), PROVISIONAL)
    # On the guess: 5 working days before Mon 2/1 is Mon 1/25, 1 before is Fri 1/29.
    assert next_check(case, PROVISIONAL.calendar) == D(2027, 1, 25)
    events = recompute(case, OFFICIAL, D(2026, 12, 15))
    (event,) = events
    assert isinstance(event, DeadlinesRecomputed)
    (change,) = event.changes
    assert change.deadline is DatedDeadline.HANDLING
    assert (change.old_due, change.new_due) == (D(2027, 2, 1), D(2027, 2, 4))
    assert change.provisional_before
    assert not change.provisional_after
    assert change.calendar_files == ("2027.toml 未配置 not configured",)  # built from objects
    assert event.calendar_checksum == OFFICIAL.calendar.checksum
    assert event.calendar_note == ""
    case = fold(events, case)
    assert case.handling_due == D(2027, 2, 4)
    assert case.provisional == ()
    assert case.running_deadline() == (DeadlineKind.HANDLING, D(2027, 2, 4))
    # Officially 1/28-2/3 are off: 1 working day before Thu 2/4 is Wed 1/27, 5 before Thu 1/21.
    assert next_check(case, OFFICIAL.calendar) == D(2027, 1, 21)
    (reminder,) = due_notices(case, D(2027, 1, 21), OFFICIAL.calendar)
    assert isinstance(reminder, DeadlineReminderSent)
    assert (reminder.due, reminder.working_days_left) == (D(2027, 2, 4), 5)
    # Run again on the same calendar: nothing more.
    assert recompute(case, OFFICIAL, D(2026, 12, 15)) == []


def test_an_unchanged_date_that_is_no_longer_provisional_is_recorded_too() -> None:
    # Received Sun 12/20/2026: 15 days = Mon 1/4/2027 on the guess and officially (元旦 1/1-3).
    case = opened(datetime(2026, 12, 20, 2, tzinfo=UTC), PROVISIONAL)
    assert case.acceptance_due == D(2027, 1, 4)
    assert case.provisional_now() == [DatedDeadline.ACCEPTANCE]
    (event,) = recompute(case, OFFICIAL, D(2026, 12, 21))
    assert isinstance(event, DeadlinesRecomputed)
    (change,) = event.changes
    assert (change.old_due, change.new_due) == (D(2027, 1, 4), D(2027, 1, 4))
    assert (change.provisional_before, change.provisional_after) == (True, False)
    case = fold([event], case)
    assert case.provisional == ()
    assert recompute(case, OFFICIAL, D(2026, 12, 21)) == []


def test_a_case_whose_deadlines_rest_on_final_years_only_is_left_alone() -> None:
    # Accepted Tue 10/20/2026: 60 days = Sat 12/19/2026 -> Mon 12/21/2026.
    case = accepted(datetime(2026, 10, 20, 2, tzinfo=UTC), D(2026, 10, 20), PROVISIONAL)
    assert case.handling_due == D(2026, 12, 21)
    assert recompute(case, OFFICIAL, D(2026, 12, 1)) == []
    assert recompute(case, MISSING, D(2026, 12, 1)) == []
