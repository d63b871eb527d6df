"""The binding report figures (domain.md, "Metric definitions"), the zero-petition sub-bureaus
and the accompany roster.

Scope: the city bureau's figures take every case; a sub-bureau's take the cases attributed to it
(``sub_bureau``), wherever they were received. Figures count every case, accusations included:
Art. 30 hides a case from the accused, not a number from anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from petitions.bureaus import BureauConfig

from reporting.queries.common import JUSTIFIED_CASE, Db, attributed_to, bureau_ref, rate, run_on
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

# The acceptance decision's date: accepted, declined, forwarded or diverted. An assignment
# objection (交办异议) sends the case back to whoever assigned it: no decision on acceptance.
DECIDED_ON = """
    coalesce(c.accepted_on, CASE WHEN c.not_accepted IN ('declined', 'forwarded', 'diverted')
                                 THEN c.not_accepted_on END)
"""

# Every figure of the matters (件) first received in P ($1..$2), judged by D ($4), in one pass
# over the period's cases (issue 17: six passes and two joins with the submissions before).
# "Ceased": replied by D with no submission after the reply up to D. "Resolved" (first-petition
# resolution): replied by D, no repeat after the reply up to D and no review requested after it
# by D. "After the reply" is a later local date (a repeat on the reply day itself came before
# the reply was known): the fold keeps the first such day of each kind on the case's row
# (resubmitted_on, repeated_after_reply_on), so "none by D" is "none, or first after D". A
# case decided with no acceptance deadline on its row is counted as decided but not in time:
# it cannot be shown to have met one.
_PERIOD_CASES = f"""
    SELECT count(*) AS matters,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE accepted AND (replied_on <= $4 OR terminated_on <= $4))
               AS closed,
           count(*) FILTER (WHERE replied_on <= $4) AS replied,
           count(*) FILTER (WHERE replied_on <= $4 AND NOT coalesce(resubmitted_on <= $4, false))
               AS ceased,
           count(*) FILTER (WHERE decided_on <= $4) AS decided,
           count(*) FILTER (WHERE decided_on <= $4 AND decided_on <= acceptance_due)
               AS decided_in_time,
           count(*) FILTER (
               WHERE replied_on <= $4
                 AND NOT coalesce(repeated_after_reply_on <= $4, false)
                 AND NOT coalesce(review_requested_on > replied_on AND review_requested_on <= $4,
                                  false)
           ) AS resolved
    FROM (
        SELECT c.replied_on, c.terminated_on, c.acceptance_due, c.resubmitted_on,
               c.repeated_after_reply_on, c.review_requested_on,
               (c.not_accepted IS NULL AND c.accepted_on IS NOT NULL AND c.accepted_on <= $4)
                   AS accepted,
               {DECIDED_ON} AS decided_on
        FROM cases c
        WHERE c.first_received_at >= $1 AND c.first_received_at < $2
          AND ($3::text IS NULL OR c.sub_bureau = $3)
    ) m
"""

# The submissions (件次) received in P ($1..$2 local days), in one pass: their count and
# person-visits, the repeats among them, those received by the city bureau ($4) on justified
# cases, and the sub-bureaus those to the city bureau were attributed to (zero-petition).
_PERIOD_SUBMISSIONS = f"""
    SELECT count(*) AS submissions,
           coalesce(sum(s.head_count), 0) AS person_visits,
           count(*) FILTER (WHERE s.is_repeat) AS repeats,
           count(*) FILTER (WHERE s.receiving_bureau = $4 AND {JUSTIFIED_CASE})
               AS justified_to_city,
           coalesce(array_agg(DISTINCT s.sub_bureau) FILTER (WHERE s.receiving_bureau = $4),
                    '{{}}') AS to_city_from
    FROM submissions s
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
"""

# The cases replied to in P ($1..$2), in one pass: on time, handling cycle, and the latest
# rating by D ($4) of each (the latest date; of ratings on the same date the one recorded
# last). Most cases have at most one rating: read directly, the others searched.
_PERIOD_REPLIES = """
    SELECT count(*) AS replied,
           count(*) FILTER (WHERE on_time) AS on_time,
           avg(replied_on - accepted_on) FILTER (WHERE accepted_on IS NOT NULL) AS cycle,
           count(*) FILTER (WHERE accepted_on IS NOT NULL) AS cycle_cases,
           count(rating) AS rated,
           count(*) FILTER (WHERE rating IN ('satisfied', 'basically_satisfied')) AS satisfied
    FROM (
        SELECT c.on_time, c.replied_on, c.accepted_on,
               CASE
                   WHEN cardinality(c.rated_on) = 0 THEN NULL
                   WHEN cardinality(c.rated_on) = 1 THEN
                       CASE WHEN c.rated_on[1] <= $4 THEN c.ratings[1] END
                   ELSE (
                       SELECT r.rating
                       FROM unnest(c.rated_on, c.ratings) WITH ORDINALITY AS r(rated_on, rating, n)
                       WHERE r.rated_on <= $4
                       ORDER BY r.rated_on DESC, r.n DESC
                       LIMIT 1
                   )
               END AS rating
        FROM cases c
        WHERE c.replied_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR c.sub_bureau = $3)
    ) r
"""


@dataclass(frozen=True, slots=True)
class _Passes:
    """The three passes every figure of a period comes from."""

    cases: Any
    submissions: Any
    replies: Any


# A period longer than this, read on more than one connection, has its submissions' pass split
# in two halves by date: the pass probes every submission to the city bureau for "justified"
# (a city year's: ~54,000 probes, ~120 ms of one core at 200,000 cases, four times either other
# pass), and halves run on both cores at once.
SPLIT_SUBMISSIONS_DAYS = 62


async def _passes(
    db: Db,
    config: BureauConfig,
    bureau: str,
    period: Period,
    report_date: date,
    also: Sequence[Db] = (),
) -> _Passes:
    """The three passes, at once on ``also`` (more connections in ``db``'s snapshot) if given:
    a city year's are each tens of milliseconds at a decade's scale (issue 17)."""
    scope = attributed_to(config, bureau)
    lower, upper = period.utc_bounds()
    days = [(period.start, period.end)]
    if also and period.days > SPLIT_SUBMISSIONS_DAYS:
        middle = period.start + timedelta(days=period.days // 2)
        days = [(period.start, middle - timedelta(days=1)), (middle, period.end)]

    def submissions_in(first: date, last: date) -> Callable[[Db], Awaitable[Any]]:
        return lambda on: on.fetchrow(_PERIOD_SUBMISSIONS, first, last, scope, config.city.code)

    # The longest first (the order ``run_on`` wants): the submissions' probes for "justified".
    *parts, replies, cases = await run_on(
        [db, *also],
        [
            *(submissions_in(first, last) for first, last in days),
            lambda on: on.fetchrow(_PERIOD_REPLIES, period.start, period.end, scope, report_date),
            lambda on: on.fetchrow(_PERIOD_CASES, lower, upper, scope, report_date),
        ],
    )
    submissions = {
        key: sum(part[key] for part in parts)
        for key in ("submissions", "person_visits", "repeats", "justified_to_city")
    }
    submissions["to_city_from"] = sorted({code for part in parts for code in part["to_city_from"]})
    return _Passes(cases=cases, submissions=submissions, replies=replies)


_TO_CITY_BY_SUB_BUREAU = f"""
    SELECT s.sub_bureau,
           count(*) FILTER (WHERE {JUSTIFIED_CASE}) AS justified,
           count(*) AS total
    FROM submissions s
    WHERE s.receiving_bureau = $3 AND s.received_on BETWEEN $1 AND $2
    GROUP BY s.sub_bureau
"""


async def figures(
    db: Db,
    config: BureauConfig,
    bureau: str,
    period: Period,
    report_date: date,
    *,
    also: Sequence[Db] = (),
) -> Figures:
    """The figures of ``bureau`` (a sub-bureau alone, or the city with all) for ``period``,
    judged on ``report_date`` (D) where a definition says "by D". ``also``: more connections
    in ``db``'s snapshot, to run the passes on at once."""
    config.covered_by(bureau)  # raises on an unknown code
    passes = await _passes(db, config, bureau, period, report_date, also)
    matters, subs, replied = passes.cases, passes.submissions, passes.replies
    zero = _zero_petition(config, bureau, period, set(subs["to_city_from"]))
    assessed = _assessed(passes)
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
    return _assessed(await _passes(db, config, bureau, period, report_date))


def _assessed(passes: _Passes) -> AssessedRates:
    matters, subs, replied = passes.cases, passes.submissions, passes.replies
    return AssessedRates(
        timely_acceptance_rate=rate(matters["decided_in_time"], matters["decided"]),
        satisfaction_rate=rate(replied["satisfied"], replied["rated"]),
        first_petition_resolution_rate=rate(matters["resolved"], matters["replied"]),
        repeat_petition_rate=rate(subs["repeats"], subs["submissions"]),
    )


async def zero_petition_sub_bureaus(
    db: Db, config: BureauConfig, bureau: str, period: Period
) -> ZeroPetition:
    """Sub-bureaus in ``bureau``'s scope with no submission received by the city bureau in the
    period on cases attributed to them (the seed's "8 of 24")."""
    rows = await db.fetch(
        "SELECT DISTINCT s.sub_bureau FROM submissions s "
        "WHERE s.receiving_bureau = $3 AND s.received_on BETWEEN $1 AND $2",
        period.start,
        period.end,
        config.city.code,
    )
    return _zero_petition(config, bureau, period, {row["sub_bureau"] for row in rows})


def _zero_petition(
    config: BureauConfig, bureau: str, period: Period, petitioned: set[str]
) -> ZeroPetition:
    """``petitioned``: the sub-bureaus the city bureau received submissions on in the period
    (at least those in ``bureau``'s scope)."""
    considered = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
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


# The trend's submissions, person-visits and justified petitions to the city bureau, by day,
# in one pass over the window's submissions. A year's submissions to the city bureau (tens of
# thousands in a decade's log) cost more probed one by one (JUSTIFIED_CASE) than hashed, and a
# hash of every justified case (a third of a million at a decade) more again (issue 17). Only
# justified cases whose latest submission came on or after the window's first local midnight
# ($5) can have one in it (last_received_at is the latest of them all, whatever their order in
# the log): those are hashed, read from cases_justified_latest, a recent window's a year of
# justified cases, not the decade's. A case id is unique, so IN counts what JUSTIFIED_CASE counts.
_SERIES_SUBMISSIONS = """
    SELECT s.received_on AS day, count(*) AS n, coalesce(sum(s.head_count), 0) AS visits,
           count(*) FILTER (
               WHERE s.receiving_bureau = $4
                 AND s.case_id IN (SELECT j.case_id FROM cases j
                                   WHERE j.justified AND j.last_received_at >= $5)
           ) AS justified
    FROM submissions s
    WHERE s.received_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.sub_bureau = $3)
    GROUP BY 1
"""


def _month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def series_parts(
    config: BureauConfig, bureau: str, last_month: Period, months: int = 12
) -> tuple[list[Callable[[Db], Awaitable[list[Any]]]], Callable[[list[Any]], list[MonthPoint]]]:
    """The trend's two queries (submissions with person-visits and justified to the city;
    matters), each a job for ``common.run_on``, and what makes the points from their rows (in
    that order). The submissions count by day, summed into months here: formatting every row's
    month in SQL (to_char) took more than half of a year's pass over them (issue 17)."""
    first = shift_months(last_month, 1 - months)
    scope = attributed_to(config, bureau)
    labels = [shift_months(first, offset).label for offset in range(months)]
    # Each month's first local midnight: a case's month is the last of them not after it.
    month_starts = [local_midnight(shift_months(first, offset).start) for offset in range(months)]

    async def matters(db: Db) -> list[Any]:
        # Counted by month in SQL, bucketed on the months' UTC bounds: a local date per case
        # (AT TIME ZONE) cost about half of a year's pass over the cases (issue 17).
        return await db.fetch(
            """
            SELECT width_bucket(c.first_received_at, $4::timestamptz[]) AS bucket, count(*) AS n
            FROM cases c
            WHERE c.first_received_at >= $1 AND c.first_received_at < $2
              AND ($3::text IS NULL OR c.sub_bureau = $3)
            GROUP BY 1
            """,
            month_starts[0],
            local_midnight(shift_months(last_month, 1).start),
            scope,
            month_starts,
        )

    async def submissions(db: Db) -> list[Any]:
        return await db.fetch(
            _SERIES_SUBMISSIONS,
            first.start,
            last_month.end,
            scope,
            config.city.code,
            month_starts[0],
        )

    def points(rows: list[Any]) -> list[MonthPoint]:
        submission_rows, matter_rows = rows
        matters, submissions, visits, justified = (
            Counter[str](),
            Counter[str](),
            Counter[str](),
            Counter[str](),
        )
        for row in matter_rows:
            matters[labels[row["bucket"] - 1]] += row["n"]
        for row in submission_rows:
            month = _month_of(row["day"])
            submissions[month] += row["n"]
            visits[month] += int(row["visits"])
            justified[month] += row["justified"]
        return [
            MonthPoint(
                month=label,
                matters=matters[label],
                submissions=submissions[label],
                person_visits=visits[label],
                justified_to_city=justified[label],
            )
            for label in labels
        ]

    # The longest first (the order ``run_on`` wants).
    return [submissions, matters], points


async def monthly_series(
    db: Db, config: BureauConfig, bureau: str, last_month: Period, months: int = 12
) -> list[MonthPoint]:
    """Matters, submissions, person-visits and justified-to-city for ``months`` months ending
    with ``last_month``, in one pass per table (for the trend chart)."""
    jobs, points = series_parts(config, bureau, last_month, months)
    return points(await run_on([db], jobs))
