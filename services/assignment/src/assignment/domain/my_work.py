""" "My work" (我的待办): why an open case needs its officer, unit head or petition office now.
Pure: the lists' rows carry the facts, the work calendar counts the days."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from petitions.bureaus import WorkCalendar, YearNotConfiguredError

from assignment.domain.periods import REMINDER_WORKING_DAYS

DUE_SOON_WORKING_DAYS = max(REMINDER_WORKING_DAYS)
"""A deadline this many working days away or nearer is "due soon": the first reminder's reach."""


class Urgency(StrEnum):
    """Why a case is urgent, most urgent first (the order the flags are listed in)."""

    OVERDUE = "overdue"
    SUPERVISED = "supervised"
    SENT_BACK = "sent_back"
    DUE_SOON = "due_soon"
    REMINDED = "reminded"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Urgency.OVERDUE: "已超期 overdue",
    Urgency.SUPERVISED: "已督办 supervision raised",
    Urgency.SENT_BACK: "办结报告被退回 completion report sent back",
    Urgency.DUE_SOON: f"{DUE_SOON_WORKING_DAYS}个工作日内到期 due within "
    f"{DUE_SOON_WORKING_DAYS} working days",
    Urgency.REMINDED: "已催办 reminder raised",
}


def working_days_left(calendar: WorkCalendar, today: date, due: date) -> int | None:
    """Working days from ``today`` (not counted) up to ``due`` (counted); negative: how many
    working days the deadline has passed by (the day after it is -1 if a working day). None
    when a year between them has no holiday file: no guess (the deadline says provisional)."""
    try:
        if due >= today:
            return calendar.working_days_between(today, due)
        return -calendar.working_days_between(due, today)
    except YearNotConfiguredError:
        return None


def urgencies(
    *,
    today: date,
    due: date | None,
    left: int | None,
    sent_back: bool,
    reminded: bool,
    supervised: bool,
) -> list[Urgency]:
    """Every reason that applies, most urgent first."""
    found: list[Urgency] = []
    if due is not None and due < today:
        found.append(Urgency.OVERDUE)
    if supervised:
        found.append(Urgency.SUPERVISED)
    if sent_back:
        found.append(Urgency.SENT_BACK)
    if due is not None and today <= due and left is not None and left <= DUE_SOON_WORKING_DAYS:
        found.append(Urgency.DUE_SOON)
    if reminded:
        found.append(Urgency.REMINDED)
    return found
