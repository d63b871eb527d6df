"""The binding report figures (domain.md, "Metric definitions"), the zero-petition sub-bureaus
and the accompany roster.

Scope: the city bureau's figures take every case; a sub-bureau's take the cases attributed to it
(``sub_bureau``), wherever they were received. Figures count every case, accusations included:
Art. 30 hides a case from the accused, not a number from anyone.
"""

from __future__ import annotations

from datetime import date

from petitions.bureaus import BureauConfig

from reporting.queries.common import Db, attributed_to, bureau_ref, rate
from reporting.queries.models import (
    AccompanyRoster,
    AccompanySession,
    AssessedRates,
    Figures,
    MonthPoint,
    RosterEntry,
    ZeroPetition,
)
from reporting.queries.periods import Period, local_midnight, shift_months

# "Ceased": replied by D with no submission after the reply up to D. Judged per case from the
# latest submission by D (later than the reply or not) in one grouped pass over the period's
# cases' submissions: a NOT EXISTS inside the count's FILTER ran as a subplan per case instead
# (issue 17: most of the 422 ms of a city's year at 100k cases).
_MATTERS = """
    WITH m AS (
        SELECT c.case_id, c.replied_on, c.terminated_on,
               (c.not_accepted IS NULL AND c.accepted_on IS NOT NULL AND c.accepted_on <= $4)
                   AS accepted
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($3::text IS NULL OR c.sub_bureau = $3)
    ), latest AS (
        SELECT s.case_id, max(s.received_on) AS received_on
        FROM submissions s JOIN m ON m.case_id = s.case_id
        WHERE m.replied_on <= $4 AND s.received_on <= $4
        GROUP BY s.case_id
    )
    SELECT count(*) AS matters,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE accepted AND (replied_on <= $4 OR terminated_on <= $4))
               AS closed,
           count(*) FILTER (WHERE replied_on <= $4) AS replied,
           count(*) FILTER (
               WHERE replied_on <= $4
                 AND (latest.received_on IS NULL OR latest.received_on <= m.replied_on)
           ) AS ceased
    FROM m LEFT JOIN latest ON latest.case_id = m.case_id
"""

_SUBMISSIONS = """
    SELECT count(*) AS submissions,
           coalesce(sum(s.head_count), 0) AS person_visits,
           count(*) FILTER (WHERE s.receiving_bureau = $4 AND coalesce(c.justified, false))
               AS justified_to_city
    FROM submissions s LEFT JOIN cases c ON c.case_id = s.case_id
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
"""

_REPLIED = """
    SELECT count(*) AS replied,
           count(*) FILTER (WHERE c.on_time) AS on_time,
           avg(c.replied_on - c.accepted_on) FILTER (WHERE c.accepted_on IS NOT NULL) AS cycle,
           count(*) FILTER (WHERE c.accepted_on IS NOT NULL) AS cycle_cases
    FROM cases c
    WHERE c.replied_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR c.sub_bureau = $3)
"""

# The acceptance decision's date: accepted, declined, forwarded or diverted. An assignment
# objection (交办异议) sends the case back to whoever assigned it: no decision on acceptance.
DECIDED_ON = """
    coalesce(c.accepted_on, CASE WHEN c.not_accepted IN ('declined', 'forwarded', 'diverted')
                                 THEN c.not_accepted_on END)
"""

# Timely acceptance and first-petition resolution, over matters(P) judged by D ($4). A case
# decided with no acceptance deadline on its row is counted as decided but not in time: it
# cannot be shown to have met one. "After the reply date" is a later local date (a repeat on
# the reply day itself came before the reply was known), as in the cessation rate.
_ASSESSED_MATTERS = f"""
    WITH m AS (
        SELECT c.case_id, c.replied_on, c.review_requested_on, c.acceptance_due,
               {DECIDED_ON} AS decided_on
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($3::text IS NULL OR c.sub_bureau = $3)
    ), repeats AS (
        SELECT s.case_id, max(s.received_on) AS received_on
        FROM submissions s JOIN m ON m.case_id = s.case_id
        WHERE m.replied_on <= $4 AND s.is_repeat AND s.received_on <= $4
        GROUP BY s.case_id
    )
    SELECT count(*) FILTER (WHERE decided_on <= $4) AS decided,
           count(*) FILTER (WHERE decided_on <= $4 AND decided_on <= acceptance_due)
               AS decided_in_time,
           count(*) FILTER (WHERE replied_on <= $4) AS replied,
           count(*) FILTER (
               WHERE replied_on <= $4
                 AND (repeats.received_on IS NULL OR repeats.received_on <= m.replied_on)
                 AND NOT coalesce(
                     review_requested_on > m.replied_on AND review_requested_on <= $4, false)
           ) AS resolved
    FROM m LEFT JOIN repeats ON repeats.case_id = m.case_id
"""

# The latest rating by D ($3) of each case replied to in P: the latest date, and of ratings on
# the same date the one recorded last.
_SATISFACTION = """
    WITH latest AS (
        SELECT (
            SELECT r.rating
            FROM unnest(c.rated_on, c.ratings) WITH ORDINALITY AS r(rated_on, rating, n)
            WHERE r.rated_on <= $3
            ORDER BY r.rated_on DESC, r.n DESC
            LIMIT 1
        ) AS rating
        FROM cases c
        WHERE c.replied_on BETWEEN $1 AND $2 AND ($4::text IS NULL OR c.sub_bureau = $4)
    )
    SELECT count(rating) AS rated,
           count(*) FILTER (WHERE rating IN ('satisfied', 'basically_satisfied')) AS satisfied
    FROM latest
"""

_REPEATS = """
    SELECT count(*) AS submissions, count(*) FILTER (WHERE s.is_repeat) AS repeats
    FROM submissions s
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
"""

_TO_CITY_BY_SUB_BUREAU = """
    SELECT s.sub_bureau,
           count(*) FILTER (WHERE coalesce(c.justified, false)) AS justified,
           count(*) AS total
    FROM submissions s LEFT JOIN cases c ON c.case_id = s.case_id
    WHERE s.receiving_bureau = $3 AND s.received_on BETWEEN $1 AND $2
    GROUP BY s.sub_bureau
"""


async def figures(
    db: Db, config: BureauConfig, bureau: str, period: Period, report_date: date
) -> Figures:
    """The figures of ``bureau`` (a sub-bureau alone, or the city with all) for ``period``,
    judged on ``report_date`` (D) where a definition says "by D"."""
    config.covered_by(bureau)  # raises on an unknown code
    scope = attributed_to(config, bureau)
    lower, upper = period.utc_bounds()
    matters = await db.fetchrow(_MATTERS, lower, upper, scope, report_date)
    subs = await db.fetchrow(_SUBMISSIONS, period.start, period.end, scope, config.city.code)
    replied = await db.fetchrow(_REPLIED, period.start, period.end, scope)
    zero = await zero_petition_sub_bureaus(db, config, bureau, period)
    assessed = await assessed_rates(db, config, bureau, period, report_date)
    cycle = replied["cycle"]
    return Figures(
        bureau=bureau_ref(config, bureau),
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        report_date=report_date,
        matters=matters["matters"],
        submissions=subs["submissions"],
        person_visits=int(subs["person_visits"]),
        closure_rate=rate(matters["closed"], matters["accepted"]),
        cessation_rate=rate(matters["ceased"], matters["replied"]),
        justified_to_city=subs["justified_to_city"],
        on_time_rate=rate(replied["on_time"], replied["replied"]),
        average_handling_cycle_days=round(float(cycle), 2) if cycle is not None else None,
        handling_cycle_cases=replied["cycle_cases"],
        zero_petition_sub_bureaus=zero.sub_bureaus,
        sub_bureaus_in_scope=zero.of,
        timely_acceptance_rate=assessed.timely_acceptance_rate,
        satisfaction_rate=assessed.satisfaction_rate,
        first_petition_resolution_rate=assessed.first_petition_resolution_rate,
        repeat_petition_rate=assessed.repeat_petition_rate,
    )


async def assessed_rates(
    db: Db, config: BureauConfig, bureau: str, period: Period, report_date: date
) -> AssessedRates:
    """The four rates offices are assessed on, for ``bureau`` in ``period`` judged on
    ``report_date`` (D), exactly as domain.md defines them."""
    config.covered_by(bureau)
    scope = attributed_to(config, bureau)
    lower, upper = period.utc_bounds()
    matters = await db.fetchrow(_ASSESSED_MATTERS, lower, upper, scope, report_date)
    rated = await db.fetchrow(_SATISFACTION, period.start, period.end, report_date, scope)
    subs = await db.fetchrow(_REPEATS, period.start, period.end, scope)
    return AssessedRates(
        timely_acceptance_rate=rate(matters["decided_in_time"], matters["decided"]),
        satisfaction_rate=rate(rated["satisfied"], rated["rated"]),
        first_petition_resolution_rate=rate(matters["resolved"], matters["replied"]),
        repeat_petition_rate=rate(subs["repeats"], subs["submissions"]),
    )


async def zero_petition_sub_bureaus(
    db: Db, config: BureauConfig, bureau: str, period: Period
) -> ZeroPetition:
    """Sub-bureaus in ``bureau``'s scope with no submission received by the city bureau in the
    period on cases attributed to them (the seed's "8 of 24")."""
    considered = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
    rows = await db.fetch(
        "SELECT DISTINCT s.sub_bureau FROM submissions s "
        "WHERE s.receiving_bureau = $3 AND s.received_on BETWEEN $1 AND $2",
        period.start,
        period.end,
        config.city.code,
    )
    petitioned = {row["sub_bureau"] for row in rows}
    return ZeroPetition(
        bureau=bureau_ref(config, bureau),
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        sub_bureaus=[bureau_ref(config, code) for code in considered if code not in petitioned],
        of=len(considered),
    )


async def to_city_by_sub_bureau(
    db: Db, config: BureauConfig, period: Period
) -> dict[str, tuple[int, int]]:
    """Per sub-bureau: (justified, all) submissions received by the city bureau in the period."""
    rows = await db.fetch(_TO_CITY_BY_SUB_BUREAU, period.start, period.end, config.city.code)
    return {row["sub_bureau"]: (row["justified"], row["total"]) for row in rows}


async def accompany_roster(db: Db, config: BureauConfig, counted_month: Period) -> AccompanyRoster:
    """The heads who accompany the chief at the city bureau's Wednesday receptions in the month
    after ``counted_month``: the up-to-three sub-bureaus with the most justified petitions to the
    city bureau in it (above zero); ties go to more submissions to the city bureau, then to the
    lower sub-bureau code."""
    counts = await to_city_by_sub_bureau(db, config, counted_month)
    ranked = sorted(
        (
            (code, justified, total)
            for code, (justified, total) in counts.items()
            if justified > 0 and code != config.city.code and config.is_bureau(code)
        ),
        key=lambda item: (-item[1], -item[2], item[0]),
    )
    candidates = [
        RosterEntry(
            rank=index,
            sub_bureau=bureau_ref(config, code),
            head=config.sub_bureau(code).head,
            justified_to_city=justified,
            submissions_to_city=total,
        )
        for index, (code, justified, total) in enumerate(ranked, start=1)
    ]
    applies_to = shift_months(counted_month, 1)
    return AccompanyRoster(
        counted_month=counted_month.label,
        applies_to=applies_to.label,
        roster=candidates[:3],
        candidates=candidates,
        sessions=await _accompanied_sessions(db, config, applies_to),
    )


async def _accompanied_sessions(
    db: Db, config: BureauConfig, month: Period
) -> list[AccompanySession]:
    rows = await db.fetch(
        "SELECT day, leader_name, state, accompanied_by FROM reception_sessions "
        "WHERE bureau = $1 AND chief_day AND day BETWEEN $2 AND $3 ORDER BY day, leader_name",
        config.city.code,
        month.start,
        month.end,
    )
    return [
        AccompanySession(
            day=r["day"],
            leader_name=r["leader_name"],
            state=r["state"],
            accompanied_by=[bureau_ref(config, code) for code in r["accompanied_by"]],
        )
        for r in rows
    ]


def published_roster(config: BureauConfig, bureau: str, roster: AccompanyRoster) -> AccompanyRoster:
    """The roster as ``bureau`` may read it, wherever it is shown: the three heads and their
    counts to every bureau (the roster is circulated), the full ranking behind it (every
    sub-bureau's counts) only to the city bureau."""
    if bureau == config.city.code:
        return roster
    return roster.model_copy(update={"candidates": list(roster.roster)})


async def monthly_series(
    db: Db, config: BureauConfig, bureau: str, last_month: Period, months: int = 12
) -> list[MonthPoint]:
    """Matters, submissions, person-visits and justified-to-city for ``months`` months ending
    with ``last_month``, in one pass per table (for the trend chart)."""
    first = shift_months(last_month, 1 - months)
    scope = attributed_to(config, bureau)
    matters = await db.fetch(
        """
        SELECT to_char((c.first_received_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM') AS month,
               count(*) AS n
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($3::text IS NULL OR c.sub_bureau = $3)
        GROUP BY 1
        """,
        local_midnight(first.start),
        local_midnight(shift_months(last_month, 1).start),
        scope,
    )
    subs = await db.fetch(
        """
        SELECT to_char(s.received_on, 'YYYY-MM') AS month, count(*) AS n,
               coalesce(sum(s.head_count), 0) AS visits,
               count(*) FILTER (WHERE s.receiving_bureau = $4 AND coalesce(c.justified, false))
                   AS justified
        FROM submissions s LEFT JOIN cases c ON c.case_id = s.case_id
        WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
        GROUP BY 1
        """,
        first.start,
        last_month.end,
        scope,
        config.city.code,
    )
    by_matters = {row["month"]: row["n"] for row in matters}
    by_subs = {row["month"]: row for row in subs}
    points = []
    for offset in range(months):
        label = shift_months(first, offset).label
        sub = by_subs.get(label)
        points.append(
            MonthPoint(
                month=label,
                matters=by_matters.get(label, 0),
                submissions=sub["n"] if sub else 0,
                person_visits=int(sub["visits"]) if sub else 0,
                justified_to_city=sub["justified"] if sub else 0,
            )
        )
    return points
