"""The seed's practices measured (实践成效): what changed after a bureau began the seed's rules,
from the start date it configures (S) to the report date (D).

The windows are whole calendar months (Asia/Shanghai). The *last month* is the last one over by
D: the month before D's. A window holds at most ``WINDOW_MONTHS`` months; an "after" window is
cut at the last month, and is empty (its figures null) when no month of it is over yet.

1. **Accompanied sub-bureaus' petitions to the city bureau** (陪同接访分县局到市局信访量). A
   sub-bureau *first accompanied* in month F: the first month from S's month on whose accompany
   roster names it: the roster as published (``reporting.AccompanyRosterPublished``) where one
   was, else as the read models compute it now (domain.md's definition). Its volume in a month:
   the submissions the city bureau received that month on cases attributed to it (justified or
   not). *Before*: the monthly average over the ``WINDOW_MONTHS`` months before F; *after*: over
   the months after F (F itself, the month of accompanying, is in neither). The total adds the
   sub-bureaus' averages; its change is (after − before) / before. The seed: down by more than
   half.
2. **Chiefs' monthly reception volume** (局长接访量). Submissions registered at chief's reception
   sessions (the chief's Wednesday: ``chief_day``) held by the bureau (the city: every bureau's
   chief), per month. *Before*: the ``WINDOW_MONTHS`` months before S's month; *after*: S's month
   and the months after it, up to ``WINDOW_MONTHS``. Change: (after − before) / before. The seed:
   +56%.
3. **Resolution rate** (化解率): the first-petition resolution rate of domain.md (of the matters
   replied to by the report date, the share with no repeat submission and no review request after
   the reply), over the matters of the before window and of the after window as periods. The
   after window is judged on D; the before window as long after its end as the after window is
   (D − its end), so neither has longer to be resolved. Change: the ratio's relative change. The
   seed: +34%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from petitions.bureaus import BureauConfig

from reporting.queries.common import Db, bureau_ref, is_city
from reporting.queries.figures import accompany_roster, figures, to_city_by_sub_bureau
from reporting.queries.models import (
    AccompaniedSubBureau,
    AccompanyEffect,
    MonthVolume,
    PracticesEffect,
    Rate,
    ReceptionEffect,
    ResolutionEffect,
)
from reporting.queries.periods import Period, date_range, month_of, shift_months

WINDOW_MONTHS = 6

_CHIEF_VISITS = """
    SELECT to_char(s.received_on, 'YYYY-MM') AS month, count(*) AS visits,
           sum(s.head_count) AS person_visits
    FROM submissions s JOIN reception_sessions r ON r.session_id = s.reception_session_id
    WHERE r.chief_day AND r.state = 'held' AND r.bureau = ANY($3::text[])
      AND s.received_on BETWEEN $1 AND $2
    GROUP BY 1
"""


def _months(first: Period, count: int) -> list[Period]:
    return [shift_months(first, n) for n in range(count)]


def _average(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _shown(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _relative(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or not before:
        return None
    return round((after - before) / before, 4)


def _exact(rate: Rate | None) -> float | None:
    """The ratio unrounded (a Rate's own is rounded for display)."""
    if rate is None or not rate.denominator:
        return None
    return rate.numerator / rate.denominator


def _span(months: Sequence[Period]) -> Period | None:
    return date_range(months[0].start, months[-1].end) if months else None


async def practices_effect(
    db: Db,
    config: BureauConfig,
    bureau: str,
    since: date,
    report_date: date,
    published: Mapping[str, Sequence[str]] | None = None,
) -> PracticesEffect:
    """The three figures for ``bureau`` (a sub-bureau, or the city with all below it) from
    ``since`` to ``report_date``; ``published``: month (YYYY-MM) → the sub-bureau codes of the
    roster published for it, where one was (definitions: this module's)."""
    covered = list(config.covered_by(bureau))
    start = month_of(since.year, since.month)
    current = month_of(report_date.year, report_date.month)
    last = shift_months(current, -1)
    after_count = max(0, min(WINDOW_MONTHS, _index(last) - _index(start) + 1))
    before = _months(shift_months(start, -WINDOW_MONTHS), WINDOW_MONTHS)
    after = _months(start, after_count)

    # 1. Accompanied sub-bureaus: the first roster from S's month naming each.
    first_accompanied: dict[str, Period] = {}
    for month in _months(start, max(0, _index(last) - _index(start) + 1)):
        codes = (published or {}).get(month.label)
        if codes is None:
            roster = await accompany_roster(db, config, shift_months(month, -1))
            codes = [e.sub_bureau.code for e in roster.roster]
        for code in codes:
            if code in covered and not is_city(config, code):
                first_accompanied.setdefault(code, month)
    to_city: dict[str, dict[str, int]] = {}

    async def volume(code: str, month: Period) -> int:
        if month.label not in to_city:
            counts = await to_city_by_sub_bureau(db, config, month)
            to_city[month.label] = {c: total for c, (_, total) in counts.items()}
        return to_city[month.label].get(code, 0)

    rows: list[AccompaniedSubBureau] = []
    exact: list[tuple[float | None, float | None]] = []  # unrounded averages, for the totals
    for code, first in sorted(first_accompanied.items(), key=lambda item: (item[1].start, item[0])):
        months_before = _months(shift_months(first, -WINDOW_MONTHS), WINDOW_MONTHS)
        months_after = _months(
            shift_months(first, 1), max(0, min(WINDOW_MONTHS, _index(last) - _index(first)))
        )
        values_before = [await volume(code, m) for m in months_before]
        values_after = [await volume(code, m) for m in months_after]
        b, a = _average(values_before), _average(values_after)
        exact.append((b, a))
        rows.append(
            AccompaniedSubBureau(
                sub_bureau=bureau_ref(config, code),
                first_accompanied=first.label,
                before_months=len(values_before),
                before_submissions=sum(values_before),
                before_average=_shown(b),
                after_months=len(values_after),
                after_submissions=sum(values_after),
                after_average=_shown(a),
                change=_relative(b, a),
            )
        )
    with_after = [pair for pair in exact if pair[1] is not None]
    total_before = sum(b or 0 for b, _ in with_after) if with_after else None
    total_after = sum(a or 0 for _, a in with_after) if with_after else None

    # 2. Chiefs' reception volume per month, before and after.
    span = date_range(before[0].start, (after[-1] if after else before[-1]).end)
    by_month = {
        row["month"]: row for row in await db.fetch(_CHIEF_VISITS, span.start, span.end, covered)
    }

    def point(month: Period) -> MonthVolume:
        row = by_month.get(month.label)
        return MonthVolume(
            month=month.label,
            visits=int(row["visits"]) if row else 0,
            person_visits=int(row["person_visits"]) if row else 0,
        )

    chief_before = [point(m) for m in before]
    chief_after = [point(m) for m in after]
    b_avg = _average([p.visits for p in chief_before])
    a_avg = _average([p.visits for p in chief_after])

    # 3. Resolution rate of the two windows' matters, each judged as long after its end.
    before_period, after_period = _span(before), _span(after)
    assert before_period is not None
    rate_after = None
    rate_before = None
    if after_period is not None:
        lag = report_date - after_period.end
        rate_after = (
            await figures(db, config, bureau, after_period, report_date)
        ).first_petition_resolution_rate
        rate_before = (
            await figures(db, config, bureau, before_period, before_period.end + lag)
        ).first_petition_resolution_rate
    return PracticesEffect(
        bureau=bureau_ref(config, bureau),
        since=since,
        report_date=report_date,
        window_months=WINDOW_MONTHS,
        accompany=AccompanyEffect(
            sub_bureaus=rows,
            before_average=_shown(total_before),
            after_average=_shown(total_after),
            change=_relative(total_before, total_after),
        ),
        chief_reception=ReceptionEffect(
            before=chief_before,
            after=chief_after,
            before_average=_shown(b_avg),
            after_average=_shown(a_avg),
            change=_relative(b_avg, a_avg),
        ),
        resolution=ResolutionEffect(
            before_from=before_period.start,
            before_to=before_period.end,
            after_from=after_period.start if after_period else None,
            after_to=after_period.end if after_period else None,
            before=rate_before,
            after=rate_after,
            change=_relative(_exact(rate_before), _exact(rate_after)),
        ),
    )


def _index(month: Period) -> int:
    return month.start.year * 12 + month.start.month - 1
