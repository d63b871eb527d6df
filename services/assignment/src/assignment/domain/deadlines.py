"""Statutory periods on the work calendar (信访工作条例 Arts. 23, 34-36; Civil Code Arts. 201-203).

The day of receipt (acceptance, reply) is not counted; a period whose last day is not a working
day ends on the next working day. Working days include the weekend days the State Council makes
working days (调休上班). The calendar is configuration, one file per year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from petitions.bureaus import Dated, WorkCalendar
from petitions.messages.assignment import DatedDeadline

from assignment.domain.periods import (
    ACCEPTANCE_DAYS,
    HANDLING_DAYS,
    OBJECTION_WORKING_DAYS,
    REVIEW_DAYS,
    REVIEW_REQUEST_DAYS,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Deadlines:
    calendar: WorkCalendar

    # Each period twice: as the date, and as a Dated that also says whether the date rests on
    # a provisional or missing year (what the events record).

    def acceptance(self, received_on: date) -> Dated:
        """Art. 23: decide on acceptance within 15 days of receipt."""
        return self.calendar.days_deadline(received_on, ACCEPTANCE_DAYS)

    def objection(self, received_on: date) -> Dated:
        """Art. 23: a case assigned from above may be objected to within 5 working days."""
        return self.calendar.working_days_deadline(received_on, OBJECTION_WORKING_DAYS)

    def handling(self, accepted_on: date) -> Dated:
        """Art. 34: handle within 60 days of acceptance."""
        return self.calendar.days_deadline(accepted_on, HANDLING_DAYS)

    def extended(self, end: date, days: int) -> Dated:
        """A period lengthened by ``days`` calendar days (an extension, or a hearing's pause)."""
        return self.calendar.days_deadline(end, days)

    def window(self, start: date) -> Dated:
        """Arts. 35-36: 30 days to decide a review / re-review."""
        return self.calendar.days_deadline(start, REVIEW_DAYS)

    def request_window(self, delivered_on: date) -> Dated:
        """Arts. 35-36: 30 days from receiving the decision to ask for review / re-review."""
        return self.calendar.days_deadline(delivered_on, REVIEW_REQUEST_DAYS)

    def rolled(self, last_day: date) -> Dated:
        """A period whose own last day is known, moved off a non-working day."""
        return self.calendar.rolled(last_day)

    def acceptance_due(self, received_on: date) -> date:
        return self.acceptance(received_on).due

    def objection_due(self, received_on: date) -> date:
        return self.objection(received_on).due

    def handling_due(self, accepted_on: date) -> date:
        return self.handling(accepted_on).due

    def extend(self, due: date, days: int) -> date:
        return self.extended(due, days).due

    def window_end(self, start: date) -> date:
        return self.window(start).due

    def marks(self, dated: Mapping[DatedDeadline, Dated | None]) -> dict[str, Any]:
        """The provisional fields of an event dating these deadlines."""
        provisional = {kind: d for kind, d in dated.items() if d is not None and d.provisional}
        years = {y for d in provisional.values() for y in d.provisional_years}
        return {
            "provisional_deadlines": tuple(provisional),
            "calendar_note": self.calendar.note(years) if years else "",
        }

    @staticmethod
    def local_date(moment: datetime) -> date:
        return moment.astimezone(SHANGHAI).date()

    @staticmethod
    def iso_week(day: date) -> str:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
