"""一周一通报 the weekly bulletin: the week's flow, and the cases that need pushing: overdue,
due within five working days, and open handling cases with no progress entry for the week.

Flow numbers (new, submissions, replied) are figures and count every case; the case lists, and
the per-sub-bureau counts taken from them, leave out what Art. 30 hides from the viewer.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError

from reporting.queries.common import (
    Db,
    Viewer,
    attributed_to,
    bureau_ref,
    is_open,
    running_due,
)
from reporting.queries.lists import briefs, scoped
from reporting.queries.models import CaseBrief, SubBureauWeek, WeeklyBulletin
from reporting.queries.periods import Period

DUE_SOON_WORKING_DAYS = 5

_FLOW = """
    SELECT code, sum(new_cases) AS new_cases, sum(submissions) AS submissions,
           sum(person_visits) AS person_visits, sum(replied) AS replied
    FROM (
        SELECT c.sub_bureau AS code, count(*) AS new_cases, 0 AS submissions,
               0 AS person_visits, 0 AS replied
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($5::text IS NULL OR c.sub_bureau = $5)
        GROUP BY 1
        UNION ALL
        SELECT s.sub_bureau, 0, count(*), sum(s.head_count), 0
        FROM submissions s
        WHERE s.received_on BETWEEN $3 AND $4 AND ($5::text IS NULL OR s.sub_bureau = $5)
        GROUP BY 1
        UNION ALL
        SELECT c.sub_bureau, 0, 0, 0, count(*)
        FROM cases c
        WHERE c.replied_on BETWEEN $3 AND $4 AND ($5::text IS NULL OR c.sub_bureau = $5)
        GROUP BY 1
    ) flows
    GROUP BY code
"""


async def weekly_bulletin(
    db: Db,
    config: BureauConfig,
    calendar: WorkCalendar,
    viewer: Viewer,
    bureau: str,
    week: Period,
    as_of: date,
) -> WeeklyBulletin:
    """The bulletin of ``bureau`` for ``week``; overdue and due-soon are judged on ``as_of``."""
    config.covered_by(bureau)
    lower, upper = week.utc_bounds()
    scope = attributed_to(config, bureau)
    flows = {
        row["code"]: row for row in await db.fetch(_FLOW, lower, upper, week.start, week.end, scope)
    }

    due = running_due()
    overdue_where = scoped(config, viewer, bureau)
    overdue_where.add(f"({due}) < {overdue_where.param(as_of)}::date")
    overdue = await briefs(db, config, overdue_where, "running_due, c.case_number")
    overdue = [_with_days(b, calendar, b.due, as_of) for b in overdue]

    horizon = calendar.add_working_days(as_of, DUE_SOON_WORKING_DAYS)
    soon_where = scoped(config, viewer, bureau)
    soon_where.add(
        f"({due}) BETWEEN {soon_where.param(as_of)}::date AND {soon_where.param(horizon)}::date"
    )
    due_soon = await briefs(db, config, soon_where, "running_due, c.case_number")
    due_soon = [_with_days(b, calendar, as_of, b.due) for b in due_soon]

    missing_where = scoped(config, viewer, bureau)
    end = missing_where.param(week.end)
    missing_where.add(
        "c.not_accepted IS NULL AND c.terminated_on IS NULL AND c.accepted_on IS NOT NULL"
    )
    missing_where.add(f"c.accepted_on <= {end}::date")
    missing_where.add(f"c.replied_on IS NULL OR c.replied_on > {end}::date")
    missing_where.add(
        "NOT EXISTS (SELECT 1 FROM progress p WHERE p.case_id = c.case_id "
        f"AND p.week = {missing_where.param(week.label)})"
    )
    missing = await briefs(db, config, missing_where, "c.sub_bureau, c.case_number")

    open_where = scoped(config, viewer, bureau)
    open_where.add(is_open())
    open_rows = await db.fetch(
        f"SELECT c.sub_bureau, count(*) AS n FROM cases c WHERE {open_where.sql()} GROUP BY 1",
        *open_where.args,
    )
    open_counts = {row["sub_bureau"]: row["n"] for row in open_rows}

    codes = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
    seen = set(flows) | set(open_counts)
    # Cases attributed to the city bureau itself (or to a code since removed) still get a row.
    codes += sorted(code for code in seen if code not in codes)
    overdue_by = Counter(b.sub_bureau.code for b in overdue)
    soon_by = Counter(b.sub_bureau.code for b in due_soon)
    missing_by = Counter(b.sub_bureau.code for b in missing)
    rows = []
    for code in codes:
        flow = flows.get(code)
        rows.append(
            SubBureauWeek(
                sub_bureau=bureau_ref(config, code),
                new_cases=int(flow["new_cases"]) if flow else 0,
                submissions=int(flow["submissions"]) if flow else 0,
                replied=int(flow["replied"]) if flow else 0,
                open_cases=open_counts.get(code, 0),
                overdue=overdue_by[code],
                due_soon=soon_by[code],
                missing_progress=missing_by[code],
            )
        )
    return WeeklyBulletin(
        bureau=bureau_ref(config, bureau),
        week=week.label,
        period_start=week.start,
        period_end=week.end,
        as_of=as_of,
        new_cases=sum(int(f["new_cases"]) for f in flows.values()),
        submissions=sum(int(f["submissions"]) for f in flows.values()),
        person_visits=sum(int(f["person_visits"]) for f in flows.values()),
        replied=sum(int(f["replied"]) for f in flows.values()),
        overdue=overdue,
        due_soon=due_soon,
        missing_progress=missing,
        by_sub_bureau=rows,
    )


def _with_days(
    case: CaseBrief, calendar: WorkCalendar, start: date | None, end: date | None
) -> CaseBrief:
    if start is None or end is None:
        return case
    try:
        days = calendar.working_days_between(start, end)
    except YearNotConfiguredError:
        # A case overdue since a year without a holiday file: the list still shows it.
        return case
    return case.model_copy(update={"working_days": days})
