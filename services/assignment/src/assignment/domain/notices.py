"""The passing of time: reminders and supervision as deadlines near and pass, their fixed ids,
and the next day the sweep has anything to raise."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from petitions.bureaus import WorkCalendar
from petitions.ids import keyed_event_id
from petitions.messages import Event
from petitions.messages.assignment import (
    DeadlineKind,
    DeadlineReminderSent,
    SupervisionRaised,
)

from assignment.domain.periods import (
    REMINDER_WORKING_DAYS,
)
from assignment.domain.state import Case

# -- the passing of time --------------------------------------------------------------------


def notice_event_id(key: bytes, case_id: UUID, deadline: str, due: date, left: int) -> UUID:
    """The same notice always gets the same id under the deployment's ``key``: a sweep run
    twice appends it once. Keyed, so that no one can publish under it first."""
    return keyed_event_id(key, f"notice|{case_id}|{deadline}|{due.isoformat()}|{left}")


def notice_id(key: bytes, event: Event) -> UUID:
    """The fixed id of a reminder or supervision event."""
    if isinstance(event, DeadlineReminderSent):
        left = event.working_days_left
    elif isinstance(event, SupervisionRaised):
        left = 0
    else:
        raise TypeError(f"not a deadline notice: {event.event_type}")
    return notice_event_id(key, event.case_id, str(event.deadline), event.due, left)


def due_notices(case: Case, today: date, calendar: WorkCalendar) -> list[Event]:
    """Reminders at 5 and 1 working days before each running deadline, and supervision once it
    has passed. Each is raised once (the case remembers them). A sweep that first looks late
    raises only the most urgent one: a 5-day reminder on the last day would only confuse."""
    notices: list[Event] = []
    for kind, due in case.running_deadlines():
        notice = _due_notice(case, kind, due, today, calendar)
        if notice is not None:
            notices.append(notice)
    return notices


def _due_notice(
    case: Case, kind: DeadlineKind, due: date, today: date, calendar: WorkCalendar
) -> Event | None:
    if kind in (DeadlineKind.REVIEW, DeadlineKind.RE_REVIEW):
        # The reviewing organ answers for a review's deadline, not the unit that handled it.
        unit, officer = case.review_organ or case.bureau, None
    elif kind is DeadlineKind.CONGRESS_REPORT:
        # The receiving bureau reports to the People's Congress.
        unit, officer = case.bureau, None
    else:
        unit, officer = case.unit or case.bureau, case.officer
    if today > due:
        if (str(kind), due.isoformat(), 0) in case.notices:
            return None
        return SupervisionRaised(
            case_id=case.case_id, deadline=kind, due=due, unit=unit, officer=officer
        )
    for left in sorted(REMINDER_WORKING_DAYS):  # the most urgent first
        if today >= calendar.working_days_before(due, left):
            if any(
                (str(kind), due.isoformat(), n) in case.notices
                for n in REMINDER_WORKING_DAYS
                if n <= left
            ):
                return None
            return DeadlineReminderSent(
                case_id=case.case_id,
                deadline=kind,
                due=due,
                working_days_left=left,
                unit=unit,
                officer=officer,
            )
    return None


def next_check(case: Case, calendar: WorkCalendar) -> date | None:
    """The first day the sweep has anything to raise for this case (None: nothing running)."""
    days = [
        day
        for kind, due in case.running_deadlines()
        if (day := _next_stage(case, kind, due, calendar)) is not None
    ]
    return min(days) if days else None


def _next_stage(case: Case, kind: DeadlineKind, due: date, calendar: WorkCalendar) -> date | None:
    # Stages from least to most urgent: 5 working days before, 1 before, missed (0).
    stages = [
        (calendar.working_days_before(due, n), n)
        for n in sorted(REMINDER_WORKING_DAYS, reverse=True)
    ]
    stages.append((date.fromordinal(due.toordinal() + 1), 0))
    raised = [
        i for i, (_, n) in enumerate(stages) if (str(kind), due.isoformat(), n) in case.notices
    ]
    later = stages[max(raised) + 1 :] if raised else stages
    return later[0][0] if later else None
