"""Statutory periods on the work calendar (信访工作条例 Arts. 23, 34-36; Civil Code Arts. 201-203).

The day of receipt (acceptance, reply) is not counted; a period whose last day is not a working
day ends on the next working day. Working days include the weekend days the State Council makes
working days (调休上班). The calendar is configuration, one file per year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from petitions.bureaus import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Deadlines:
    calendar: WorkCalendar

    def acceptance_due(self, received_on: date) -> date:
        """Art. 23: decide on acceptance within 15 days of receipt."""
        return self.calendar.add_days_deadline(received_on, 15)

    def objection_due(self, received_on: date) -> date:
        """Art. 23: a case assigned from above may be objected to within 5 working days."""
        return self.calendar.add_working_days(received_on, 5)

    def handling_due(self, accepted_on: date) -> date:
        """Art. 34: handle within 60 days of acceptance."""
        return self.calendar.add_days_deadline(accepted_on, 60)

    def extend(self, due: date, days: int) -> date:
        """A deadline moved by ``days`` calendar days (an extension, or a hearing's pause)."""
        return self.calendar.add_days_deadline(due, days)

    def window_end(self, start: date) -> date:
        """Arts. 35-36: 30 days to ask for review / re-review, 30 days to decide it."""
        return self.calendar.add_days_deadline(start, 30)

    @staticmethod
    def local_date(moment: datetime) -> date:
        return moment.astimezone(SHANGHAI).date()

    @staticmethod
    def iso_week(day: date) -> str:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
