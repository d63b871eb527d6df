"""A changed work calendar or changed deadline rules: re-dating a running case's deadlines."""

from __future__ import annotations

from datetime import date

from petitions.bureaus import Dated, WorkCalendar
from petitions.messages import Event
from petitions.messages.assignment import (
    DatedDeadline,
    DeadlineRedated,
    DeadlinesRecomputed,
)

from assignment.domain.deadlines import Deadlines
from assignment.domain.state import (
    AWAITING_ACCEPTANCE,
    CLOSED,
    COMPLETION_ACCEPTED,
    COMPLETION_REPORTED,
    HANDLING,
    HEARING,
    REPLIED,
    REVIEWED,
    UNDER_RE_REVIEW,
    UNDER_REVIEW,
    Case,
)

DEADLINE_RULES_VERSION = 2
"""The rules deadlines are computed by, beside the calendar: a running case is recomputed once
per (calendar, rules) pair. 1: a hearing paused the handling period too; 2 (issue 15): hearing
time is excluded only from the re-review period (Arts. 34, 36)."""
HEARING_RULE_NOTE = (
    "听证时间仅不计入复核期限，办理期限不因听证中止（《信访工作条例》第三十四条、第三十六条），"
    "原按听证顺延的办理期限予以更正 / hearing time is excluded only from the re-review period; "
    "the handling period has no pause (Arts. 34, 36): the handling deadline a hearing had "
    "lengthened is corrected"
)

# -- a changed work calendar -----------------------------------------------------------------


def current_deadlines(case: Case, deadlines: Deadlines) -> dict[DatedDeadline, tuple[date, Dated]]:
    """The deadlines that still matter in the case's state, each with its recorded date and
    what the calendar makes of it now (from the period's own start or last day, as when it was
    first computed). A re-review hearing's paused clock counts: it runs again from the same last
    day. The handling period's last day never holds a hearing's days (Art. 34)."""
    state = case.before_hearing if case.state == HEARING else case.state
    found: dict[DatedDeadline, tuple[date, Dated]] = {}
    if state == AWAITING_ACCEPTANCE and case.received_on is not None:
        if case.acceptance_due is not None:
            found[DatedDeadline.ACCEPTANCE] = (
                case.acceptance_due,
                deadlines.acceptance(case.received_on),
            )
        if case.objection_due is not None:
            found[DatedDeadline.OBJECTION] = (
                case.objection_due,
                deadlines.objection(case.received_on),
            )
    periods: dict[str, tuple[DatedDeadline, date | None, date | None]] = {
        HANDLING: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        COMPLETION_REPORTED: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        COMPLETION_ACCEPTED: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        REPLIED: (
            DatedDeadline.REVIEW_REQUEST,
            case.review_request_until,
            case.review_request_end,
        ),
        UNDER_REVIEW: (DatedDeadline.REVIEW, case.review_due, case.review_end),
        REVIEWED: (
            DatedDeadline.RE_REVIEW_REQUEST,
            case.re_review_request_until,
            case.re_review_request_end,
        ),
        UNDER_RE_REVIEW: (DatedDeadline.RE_REVIEW, case.re_review_due, case.re_review_end),
    }
    if state in periods:
        kind, due, end = periods[state]
        if due is not None and end is not None:
            found[kind] = (due, deadlines.rolled(end))
    return found


def _file_refs(calendar: WorkCalendar, first: date, last: date) -> tuple[str, ...]:
    """The year files behind the dates from ``first`` to ``last``, as recorded."""
    refs: list[str] = []
    for year in range(first.year, last.year + 1):
        f = calendar.file_for(year)
        refs.append(
            f"{year}.toml 未配置 not configured" if f is None else f"{f.name} sha256:{f.sha256}"
        )
    return tuple(refs)


def recompute(case: Case, deadlines: Deadlines, today: date) -> list[Event]:
    """The ``DeadlinesRecomputed`` a changed calendar or changed rules make of this case: every
    deadline whose date or provisional mark differs from what the case recorded; nothing when
    none does (so a second run appends nothing). Pure: the caller gives the calendar and the
    day. A handling deadline a hearing lengthened under the former rule is re-dated here, with
    ``rule_note`` saying why."""
    if case.state in CLOSED or not case.opened:
        return []
    marks = case.provisional_marks()
    changes: list[DeadlineRedated] = []
    years: set[int] = set()
    calendar = deadlines.calendar
    for kind, (old, new) in current_deadlines(case, deadlines).items():
        if new.due == old and new.provisional == (kind in marks):
            continue
        years.update(new.provisional_years)
        changes.append(
            DeadlineRedated(
                deadline=kind,
                old_due=old,
                new_due=new.due,
                provisional_before=kind in marks,
                provisional_after=new.provisional,
                calendar_files=_file_refs(calendar, min(old, new.due), max(old, new.due)),
            )
        )
    if not changes:
        return []
    rule = case.handling_hearing_days and any(
        ch.deadline == DatedDeadline.HANDLING for ch in changes
    )
    return [
        DeadlinesRecomputed(
            case_id=case.case_id,
            changes=tuple(changes),
            calendar_checksum=calendar.checksum,
            recomputed_on=today,
            calendar_note=calendar.note(years) if years else "",
            rules_version=DEADLINE_RULES_VERSION,
            rule_note=HEARING_RULE_NOTE if rule else "",
        )
    ]
