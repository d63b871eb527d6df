"""一月一分析 the monthly analysis: the month's figures against the month before and the same
month a year earlier, sub-bureau rankings, the accompany roster it yields, People's Congress
cases, repeat and skip-level petitions, a twelve-month trend, and the breakdowns by category,
sub-category, channel and skip-level with the hot issues (``reporting.queries.breakdowns``).

The comparison months are judged as long after their end as the month itself is (report date
minus month end), so a closure rate is never compared with one that had a month longer to grow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from petitions.bureaus import BureauConfig

from reporting.queries.breakdowns import breakdowns
from reporting.queries.common import (
    JUSTIFIED_CASE,
    Db,
    Viewer,
    attributed_to,
    bureau_ref,
    run_on,
)
from reporting.queries.figures import accompany_roster, figures, published_roster, series_parts
from reporting.queries.lists import FIRST_PAGE, Page, briefs, scoped
from reporting.queries.models import (
    AccompanyRoster,
    CaseList,
    Change,
    FigureChange,
    Figures,
    MonthlyAnalysis,
    RankRow,
    Rate,
)
from reporting.queries.periods import Period, shift_months

_BY_SUB_BUREAU = f"""
    SELECT code, sum(matters) AS matters, sum(submissions) AS submissions,
           sum(person_visits) AS person_visits, sum(justified) AS justified
    FROM (
        SELECT c.sub_bureau AS code, count(*) AS matters, 0 AS submissions,
               0 AS person_visits, 0 AS justified
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($5::text IS NULL OR c.sub_bureau = $5)
        GROUP BY 1
        UNION ALL
        SELECT s.sub_bureau, 0, count(*), sum(s.head_count),
               count(*) FILTER (WHERE s.receiving_bureau = $6 AND {JUSTIFIED_CASE})
        FROM submissions s
        WHERE s.received_on BETWEEN $3 AND $4 AND ($5::text IS NULL OR s.sub_bureau = $5)
        GROUP BY 1
    ) parts
    GROUP BY code
"""

_MONTH_SUBMISSIONS = """
    SELECT count(*) FILTER (WHERE s.is_repeat) AS repeats,
           count(*) FILTER (WHERE s.escalation = 'province') AS province,
           count(*) FILTER (WHERE s.escalation = 'beijing') AS beijing,
           count(*) FILTER (WHERE s.escalation IS NOT NULL) AS skip_level
    FROM submissions s
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
"""

_CHANGE_KEYS: tuple[tuple[str, str], ...] = (
    ("matters", "件 matters"),
    ("submissions", "件次 submissions"),
    ("person_visits", "人次 person-visits"),
    ("justified_to_city", "到市局有理访 justified to the city bureau"),
    ("closure_rate", "办结率 closure rate"),
    ("cessation_rate", "息诉率 cessation rate"),
    ("on_time_rate", "按期答复率 on-time rate"),
    ("timely_acceptance_rate", "及时受理率 timely acceptance rate"),
    ("satisfaction_rate", "满意率 satisfaction rate"),
    ("first_petition_resolution_rate", "初信初访化解率 first-petition resolution rate"),
    ("repeat_petition_rate", "重复信访率 repeat-petition rate"),
    ("average_handling_cycle_days", "平均办理周期（天） average handling cycle (days)"),
    ("zero_petition_sub_bureaus", "零信访分县局数 zero-petition sub-bureaus"),
)


async def monthly_analysis(
    db: Db,
    config: BureauConfig,
    viewer: Viewer,
    bureau: str,
    month: Period,
    report_date: date,
    page: Page | None = FIRST_PAGE,
    *,
    also: Sequence[Db] = (),
) -> MonthlyAnalysis:
    """The analysis of ``bureau`` for ``month`` as of ``report_date``; each case list holds
    ``page`` of its rows (None: every row, for the exports). ``also``: more connections in
    ``db``'s snapshot, to run the analysis's independent parts on at once."""
    config.covered_by(bureau)
    lag = report_date - month.end
    previous = shift_months(month, -1)
    last_year = shift_months(month, -12)
    judged_before, judged_year_ago = previous.end + lag, last_year.end + lag
    scope = attributed_to(config, bureau)

    def listed(name: str) -> Callable[[Db], Awaitable[CaseList]]:
        return lambda on: analysis_list(on, config, viewer, bureau, month, name, page)

    trend, points = series_parts(config, bureau, month)
    # Longest first: each connection takes the next part when its last is done.
    jobs: dict[str, Callable[[Db], Awaitable[Any]]] = {
        **{f"trend_{k}": job for k, job in enumerate(trend)},
        "current": lambda on: figures(on, config, bureau, month, report_date),
        "before": lambda on: figures(on, config, bureau, previous, judged_before),
        "year_ago": lambda on: figures(on, config, bureau, last_year, judged_year_ago),
        **{name: listed(name) for name in ANALYSIS_LISTS},
        "rankings": lambda on: sub_bureau_rankings(on, config, bureau, month),
        "breakdowns": lambda on: breakdowns(on, config, bureau, month),
        "roster": lambda on: _roster_for(on, config, bureau, month),
        "counts": lambda on: on.fetchrow(_MONTH_SUBMISSIONS, month.start, month.end, scope),
    }
    done = dict(zip(jobs, await run_on([db, *also], list(jobs.values())), strict=True))
    current: Figures = done["current"]
    before: Figures = done["before"]
    year_ago: Figures = done["year_ago"]
    by_submissions, by_justified = done["rankings"]
    counts = done["counts"]

    return MonthlyAnalysis(
        bureau=bureau_ref(config, bureau),
        month=month.label,
        report_date=report_date,
        figures=current,
        previous_month=before,
        same_month_last_year=year_ago,
        changes=[
            FigureChange(
                key=key,
                label=text,
                current=_value(current, key),
                month_on_month=_change(_value(current, key), _value(before, key)),
                year_on_year=_change(_value(current, key), _value(year_ago, key)),
            )
            for key, text in _CHANGE_KEYS
        ],
        rank_by_submissions=by_submissions,
        rank_by_justified_to_city=by_justified,
        roster=done["roster"],
        congress_cases=done["congress_cases"],
        repeat_cases=done["repeat_cases"],
        repeat_submissions=counts["repeats"],
        skip_level_cases=done["skip_level_cases"],
        skip_level_submissions=counts["skip_level"],
        skip_level_by_kind={"province": counts["province"], "beijing": counts["beijing"]},
        trend=points([done[f"trend_{k}"] for k in range(len(trend))]),
        breakdowns=done["breakdowns"],
    )


ANALYSIS_LISTS = ("congress_cases", "repeat_cases", "skip_level_cases")


async def analysis_list(
    db: Db,
    config: BureauConfig,
    viewer: Viewer,
    bureau: str,
    month: Period,
    name: str,
    page: Page | None,
) -> CaseList:
    """One page of one of the analysis's case lists (``ANALYSIS_LISTS``)."""
    config.covered_by(bureau)
    where = scoped(config, viewer, bureau)
    total: int | None = None
    if name == "congress_cases":
        lower, upper = month.utc_bounds()
        start, end = where.param(lower), where.param(upper)
        first_day = where.param(month.start)
        # New in the month, or received before it with the report to the Congress not sent
        # before it: each side read from its partial index (cases_congress_*).
        where.add("c.congress")
        new = f"c.first_received_at >= {start} AND c.first_received_at < {end}"
        due = (
            f"c.first_received_at < {start} "
            f"AND coalesce(c.congress_report_on, 'infinity'::date) >= {first_day}::date"
        )
        if page is not None:
            # Counted side by side (the two are disjoint): the older side, every Congress case
            # never reported on (a decade's log holds tens of thousands), is then counted
            # from its index alone (cases_congress_report carries what the scope rule reads)
            # instead of a heap page per case (issue 17).
            base = where.sql()
            total = await db.fetchval(
                f"SELECT (SELECT count(*) FROM cases c WHERE {base} AND ({new})) "
                f"+ (SELECT count(*) FROM cases c WHERE {base} AND ({due}))",
                *where.args,
            )
        where.add(f"({new}) OR ({due})")
        order = "c.first_received_at, c.case_number, c.case_id"
    elif name == "repeat_cases":
        where.add(
            "EXISTS (SELECT 1 FROM submissions s WHERE s.case_id = c.case_id AND s.is_repeat "
            f"AND s.received_on BETWEEN {where.param(month.start)}::date "
            f"AND {where.param(month.end)}::date)"
        )
        order = "c.repeat_count DESC, c.case_number, c.case_id"
    elif name == "skip_level_cases":
        where.add(
            "EXISTS (SELECT 1 FROM submissions s WHERE s.case_id = c.case_id "
            "AND s.escalation IS NOT NULL "
            f"AND s.received_on BETWEEN {where.param(month.start)}::date "
            f"AND {where.param(month.end)}::date)"
        )
        order = "c.escalation, c.case_number, c.case_id"
    else:
        raise ValueError(f"no analysis list {name!r}")
    return await briefs(db, config, where, order, page, total=total)


async def sub_bureau_rankings(
    db: Db, config: BureauConfig, bureau: str, month: Period
) -> tuple[list[RankRow], list[RankRow]]:
    """Sub-bureaus in ``bureau``'s scope ranked by submissions and by justified petitions to the
    city bureau in the period (every sub-bureau, zeros included, so the last places show)."""
    lower, upper = month.utc_bounds()
    parts = await db.fetch(
        _BY_SUB_BUREAU,
        lower,
        upper,
        month.start,
        month.end,
        attributed_to(config, bureau),
        config.city.code,
    )
    by_code = {row["code"]: row for row in parts}
    codes = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
    return _rank(config, codes, by_code, "submissions"), _rank(config, codes, by_code, "justified")


def _value(figures_: Figures, key: str) -> float | None:
    if key == "zero_petition_sub_bureaus":
        return float(len(figures_.zero_petition_sub_bureaus))
    value = getattr(figures_, key)
    if isinstance(value, Rate):
        return value.ratio
    return None if value is None else float(value)


def _change(current: float | None, previous: float | None) -> Change:
    if current is None or previous is None:
        return Change(previous=previous, delta=None, relative=None)
    delta = round(current - previous, 4)
    relative = round(delta / previous, 4) if previous else None
    return Change(previous=previous, delta=delta, relative=relative)


def _rank(
    config: BureauConfig, codes: list[str], by_code: dict[str, Any], key: str
) -> list[RankRow]:
    """Competition ranking (1, 2, 2, 4): equal values share a place; code order within it."""

    def get(code: str, field: str) -> int:
        row = by_code.get(code)
        return int(row[field]) if row is not None else 0

    ordered = sorted(codes, key=lambda code: (-get(code, key), code))
    rows: list[RankRow] = []
    for index, code in enumerate(ordered, start=1):
        value = get(code, key)
        rank = rows[-1].rank if rows and rows[-1].value == value else index
        rows.append(
            RankRow(
                rank=rank,
                sub_bureau=bureau_ref(config, code),
                value=value,
                submissions=get(code, "submissions"),
                matters=get(code, "matters"),
                person_visits=get(code, "person_visits"),
                justified_to_city=get(code, "justified"),
            )
        )
    return rows


async def _roster_for(db: Db, config: BureauConfig, bureau: str, month: Period) -> AccompanyRoster:
    """The roster is published to all; the full ranking behind it (every sub-bureau's counts)
    only to the city bureau."""
    return published_roster(config, bureau, await accompany_roster(db, config, month))
