"""一周一通报 the weekly bulletin: the week's flow, and the cases that need pushing: overdue,
due within five working days, and open handling cases with no progress entry for the week.

Flow numbers (new, submissions, replied) are figures and count every case; the case lists, and
the per-sub-bureau counts taken from them, leave out what Art. 30 hides from the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError

from reporting.queries.common import (
    Db,
    SqlFilter,
    Viewer,
    attributed_to,
    bureau_ref,
    is_open,
    running_due,
)
from reporting.queries.figures import assessed_rates
from reporting.queries.instructions import overdue_instructions
from reporting.queries.lists import FIRST_PAGE, Page, briefs, scoped
from reporting.queries.models import CaseBrief, CaseList, SubBureauWeek, WeeklyBulletin
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


BULLETIN_LISTS = ("overdue", "due_soon", "missing_progress")


@dataclass(frozen=True, slots=True)
class _Judged:
    """What a bulletin's lists are judged on: the week, the day, and the due-soon horizon."""

    bureau: str
    week: Period
    as_of: date
    horizon: date


def _judged(calendar: WorkCalendar, bureau: str, week: Period, as_of: date) -> _Judged:
    return _Judged(bureau, week, as_of, calendar.add_working_days(as_of, DUE_SOON_WORKING_DAYS))


def _missing_clauses(where: SqlFilter, week_end: str) -> None:
    """An accepted case still being handled at the week's end (its progress is checked apart):
    accepted by then and not replied by then, read from the index cases_in_handling (whose
    predicate is the first clause, word for word)."""
    where.add("c.not_accepted IS NULL AND c.terminated_on IS NULL AND c.accepted_on IS NOT NULL")
    where.add(f"c.handling_days @> {week_end}::date")


def _no_progress(where: SqlFilter, week: Period) -> None:
    where.add(
        "NOT EXISTS (SELECT 1 FROM progress p WHERE p.case_id = c.case_id "
        f"AND p.week = {where.param(week.label)})"
    )


def _list_filter(
    config: BureauConfig, viewer: Viewer, name: str, judged: _Judged
) -> tuple[SqlFilter, str]:
    """The WHERE clause and order of one of the bulletin's case lists."""
    due = running_due()
    where = scoped(config, viewer, judged.bureau)
    if name == "overdue":
        where.add(f"({due}) < {where.param(judged.as_of)}::date")
        return where, "running_due, c.case_number, c.case_id"
    if name == "due_soon":
        where.add(
            f"({due}) BETWEEN {where.param(judged.as_of)}::date "
            f"AND {where.param(judged.horizon)}::date"
        )
        return where, "running_due, c.case_number, c.case_id"
    if name == "missing_progress":
        _missing_clauses(where, where.param(judged.week.end))
        _no_progress(where, judged.week)
        return where, "c.sub_bureau, c.case_number, c.case_id"
    raise ValueError(f"no bulletin list {name!r}")


async def _counts(
    db: Db, config: BureauConfig, viewer: Viewer, judged: _Judged
) -> dict[str, dict[str, int]]:
    """Per sub-bureau: open cases and the length of each list (the lists' own queries then
    fetch a page each instead of every row). Overdue and due-soon cases are open ones: one pass
    over the open cases (index cases_open), one over those in handling at the week's end
    (cases_in_handling); neither reads the closed cases a long log is mostly made of."""
    due = running_due()
    where = scoped(config, viewer, judged.bureau)
    as_of, horizon = where.param(judged.as_of), where.param(judged.horizon)
    where.add(is_open())
    counts: dict[str, dict[str, int]] = {}
    for row in await db.fetch(
        f"""
        SELECT c.sub_bureau, count(*) AS open_cases,
               count(*) FILTER (WHERE {due} < {as_of}::date) AS overdue,
               count(*) FILTER (WHERE {due} BETWEEN {as_of}::date AND {horizon}::date)
                   AS due_soon
        FROM cases c
        WHERE {where.sql()}
        GROUP BY 1
        """,
        *where.args,
    ):
        counts[row["sub_bureau"]] = {
            "open_cases": row["open_cases"],
            "overdue": row["overdue"],
            "due_soon": row["due_soon"],
            "missing_progress": 0,
        }
    missing = scoped(config, viewer, judged.bureau)
    _missing_clauses(missing, missing.param(judged.week.end))
    _no_progress(missing, judged.week)
    for row in await db.fetch(
        f"SELECT c.sub_bureau, count(*) AS n FROM cases c WHERE {missing.sql()} GROUP BY 1",
        *missing.args,
    ):
        # A case in handling at a past week's end may be closed now: not among the open.
        count = counts.setdefault(row["sub_bureau"], {"open_cases": 0, "overdue": 0, "due_soon": 0})
        count["missing_progress"] = row["n"]
    return counts


async def weekly_bulletin(
    db: Db,
    config: BureauConfig,
    calendar: WorkCalendar,
    viewer: Viewer,
    bureau: str,
    week: Period,
    as_of: date,
    page: Page | None = FIRST_PAGE,
) -> WeeklyBulletin:
    """The bulletin of ``bureau`` for ``week``; overdue and due-soon are judged on ``as_of``.
    Each case list holds ``page`` of its rows (None: every row, for the exports)."""
    config.covered_by(bureau)
    lower, upper = week.utc_bounds()
    scope = attributed_to(config, bureau)
    flows = {
        row["code"]: row for row in await db.fetch(_FLOW, lower, upper, week.start, week.end, scope)
    }
    judged = _judged(calendar, bureau, week, as_of)
    counts = await _counts(db, config, viewer, judged)
    lists = {
        name: await _list(
            db,
            config,
            calendar,
            viewer,
            name,
            judged,
            page,
            total=sum(c[name] for c in counts.values()),
        )
        for name in BULLETIN_LISTS
    }
    open_counts = {code: c["open_cases"] for code, c in counts.items() if c["open_cases"]}

    codes = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
    seen = set(flows) | set(open_counts)
    # Cases attributed to the city bureau itself (or to a code since removed) still get a row.
    codes += sorted(code for code in seen if code not in codes)
    rows = []
    for code in codes:
        flow = flows.get(code)
        count = counts.get(code, {})
        rows.append(
            SubBureauWeek(
                sub_bureau=bureau_ref(config, code),
                new_cases=int(flow["new_cases"]) if flow else 0,
                submissions=int(flow["submissions"]) if flow else 0,
                replied=int(flow["replied"]) if flow else 0,
                open_cases=open_counts.get(code, 0),
                overdue=count.get("overdue", 0),
                due_soon=count.get("due_soon", 0),
                missing_progress=count.get("missing_progress", 0),
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
        overdue=lists["overdue"],
        due_soon=lists["due_soon"],
        missing_progress=lists["missing_progress"],
        by_sub_bureau=rows,
        rates=await assessed_rates(db, config, bureau, week, as_of),
        overdue_instructions=await overdue_instructions(
            db, config, calendar, viewer, bureau, as_of, None if page is None else page.size
        ),
    )


async def bulletin_list(
    db: Db,
    config: BureauConfig,
    calendar: WorkCalendar,
    viewer: Viewer,
    bureau: str,
    week: Period,
    as_of: date,
    name: str,
    page: Page,
) -> CaseList:
    """One page of one of the bulletin's lists (``BULLETIN_LISTS``), as the bulletin has it."""
    config.covered_by(bureau)
    return await _list(
        db, config, calendar, viewer, name, _judged(calendar, bureau, week, as_of), page
    )


async def _list(
    db: Db,
    config: BureauConfig,
    calendar: WorkCalendar,
    viewer: Viewer,
    name: str,
    judged: _Judged,
    page: Page | None,
    *,
    total: int | None = None,
) -> CaseList:
    where, order = _list_filter(config, viewer, name, judged)
    cases = await briefs(db, config, where, order, page, total=total)
    if name == "overdue":
        rows = [_with_days(b, calendar, b.due, judged.as_of) for b in cases.rows]
    elif name == "due_soon":
        rows = [_with_days(b, calendar, judged.as_of, b.due) for b in cases.rows]
    else:
        return cases
    return cases.model_copy(update={"rows": rows})


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
