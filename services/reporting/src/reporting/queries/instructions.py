"""Leaders' instructions (批示) not answered in time (issue 15), for the weekly bulletin and the
reception report.

**Overdue on day D**: a followed-up instruction (one that names a unit and a due day) whose due
day is before D and that was not answered by D (no answer, or one dated after D). Instructions
recorded before follow-up have neither and are never overdue. Like the bulletin's case lists,
the list holds only the cases the reader may see (the one scope rule, Art. 30 included).
"""

from __future__ import annotations

from datetime import date

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError

from reporting.queries.common import Db, Viewer, bureau_ref
from reporting.queries.lists import scoped
from reporting.queries.models import InstructionBrief, InstructionList

DEFAULT_PAGE_SIZE = 50


async def overdue_instructions(
    db: Db,
    config: BureauConfig,
    calendar: WorkCalendar,
    viewer: Viewer,
    bureau: str,
    as_of: date,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> InstructionList:
    """Instructions on cases attributed to ``bureau`` (the city: all) overdue on ``as_of``,
    longest overdue first; ``page_size`` None: every row (the exports)."""
    where = scoped(config, viewer, bureau)
    day = where.param(as_of)
    where.add(f"i.due_on < {day}::date")
    where.add(f"i.answered_on IS NULL OR i.answered_on > {day}::date")
    base = f"FROM instructions i JOIN cases c ON c.case_id = i.case_id WHERE {where.sql()}"
    total = await db.fetchval(f"SELECT count(*) {base}", *where.args)
    limit = "" if page_size is None else f" LIMIT {int(page_size)}"
    rows = await db.fetch(
        "SELECT i.instruction_id, i.case_id, i.case_number, i.sub_bureau, i.unit, "
        "i.instructed_on, i.due_on, i.due_set_by, i.needs_party_committee, i.instruction, "
        f"i.answered_on {base} ORDER BY i.due_on, i.case_number, i.instruction_id{limit}",
        *where.args,
    )
    return InstructionList(
        total=int(total),
        page_size=len(rows) if page_size is None else page_size,
        rows=[
            InstructionBrief(
                instruction_id=r["instruction_id"],
                case_id=r["case_id"],
                case_number=r["case_number"],
                sub_bureau=bureau_ref(config, r["sub_bureau"]),
                unit=bureau_ref(config, r["unit"]),
                instructed_on=r["instructed_on"],
                due_on=r["due_on"],
                due_set_by=r["due_set_by"],
                working_days=_overdue_days(calendar, r["due_on"], as_of),
                needs_party_committee=r["needs_party_committee"],
                instruction=r["instruction"],
                answered_on=None,  # not answered by as_of: that is what overdue means
            )
            for r in rows
        ],
    )


def _overdue_days(calendar: WorkCalendar, due: date, as_of: date) -> int | None:
    try:
        return calendar.working_days_between(due, as_of)
    except YearNotConfiguredError:
        return None
