"""The four rates offices are assessed on (domain.md, "Metric definitions (binding)"): timely
acceptance, satisfaction, first-petition resolution and repeat petitions, in figures, the weekly
bulletin and the monthly analysis, on a hand-built June 2026 data set whose every number is
worked out below."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook
from petitions.bureaus import BureauConfig, WorkCalendar
from reporting import exports, queries
from reporting.queries import periods
from reporting.queries.models import Rate

from tests.support.reporting_fixtures import (
    CITY,
    A,
    B,
    add_case,
    add_submission,
    demo_config,
    local,
    reporting_pool,
    utc,
)

pytestmark = pytest.mark.integration

JUNE = periods.month("2026-06")
W24 = periods.week("2026-W24")  # Mon 6-08 to Sun 6-14
D_DAY = date(2026, 7, 31)


@pytest.fixture(scope="module")
def bureaus() -> tuple[BureauConfig, WorkCalendar]:
    return demo_config()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with reporting_pool(database_url) as pool:
        yield pool


def d(month: int, day: int) -> date:
    return date(2026, month, day)


async def june_2026(db: Any) -> dict[str, uuid.UUID]:
    """Cases around June 2026 (local dates; acceptance due, decision, reply, ratings):

    r1  A Jun 1   due 6-15, accepted 6-10 (in time); replied 6-20; satisfied on 6-22
    r2  A Jun 2   due 6-16, accepted 6-18 (late); replied 6-25; dissatisfied on 6-26, basically
                  satisfied on 7-05; review requested 7-03
    r3  B Jun 3   due 6-17, declined 6-17 (on the due day: in time)
    r4  B Jun 4   due 6-18, forwarded 6-12 (in time)
    r5  B Jun 5   due 6-19, assignment objected 6-08: no acceptance decision
    r6  A Jun 8   due 6-22, accepted 6-22 (in time); replied 6-29; a repeat on 6-29, the reply
                  day itself: not after it; never rated
    r7  A Jun 9   due 6-23, accepted 6-15; replied 6-26; satisfied on 6-27; a repeat on 7-10
    r8  B Jun 10  due 6-24, accepted 8-03: after D, so not decided by D
    r9  A May 20  a May matter; replied 6-05; rated twice on 6-06, satisfied then dissatisfied
                  (the later record wins); a repeat on 6-12
    r10 B 2026-05-31T16:30Z = Jun 1 local: a June matter; due 6-15, accepted 6-02; replied
                  6-30; satisfied on 8-02, after D
    r11 A 2026-06-30T16:30Z = Jul 1 local: a July matter; accepted late; outside June
    r12 B Jun 11  due 6-25, diverted to a legal procedure 6-30 (late)
    """
    c: dict[str, uuid.UUID] = {}

    async def case(name: str, sub: str, received: Any, **columns: Any) -> None:
        c[name] = await add_case(db, sub_bureau=sub, received_at=received, **columns)
        await add_submission(db, c[name], received_at=received, receiving_bureau=sub)

    async def repeat(name: str, on: date) -> None:
        await add_submission(db, c[name], received_at=local(on), receiving_bureau=A, is_repeat=True)

    await case(
        "r1",
        A,
        local(d(6, 1)),
        acceptance_due=d(6, 15),
        accepted_on=d(6, 10),
        replied_on=d(6, 20),
        rated_on=[d(6, 22)],
        ratings=["satisfied"],
    )
    await case(
        "r2",
        A,
        local(d(6, 2)),
        acceptance_due=d(6, 16),
        accepted_on=d(6, 18),
        replied_on=d(6, 25),
        rated_on=[d(6, 26), d(7, 5)],
        ratings=["dissatisfied", "basically_satisfied"],
        review_requested_on=d(7, 3),
    )
    await case(
        "r3",
        B,
        local(d(6, 3)),
        acceptance_due=d(6, 17),
        not_accepted="declined",
        not_accepted_on=d(6, 17),
    )
    await case(
        "r4",
        B,
        local(d(6, 4)),
        acceptance_due=d(6, 18),
        not_accepted="forwarded",
        not_accepted_on=d(6, 12),
    )
    await case(
        "r5",
        B,
        local(d(6, 5)),
        acceptance_due=d(6, 19),
        not_accepted="objected",
        not_accepted_on=d(6, 8),
    )
    await case(
        "r6",
        A,
        local(d(6, 8)),
        acceptance_due=d(6, 22),
        accepted_on=d(6, 22),
        replied_on=d(6, 29),
    )
    await repeat("r6", d(6, 29))
    await case(
        "r7",
        A,
        local(d(6, 9)),
        acceptance_due=d(6, 23),
        accepted_on=d(6, 15),
        replied_on=d(6, 26),
        rated_on=[d(6, 27)],
        ratings=["satisfied"],
    )
    await repeat("r7", d(7, 10))
    await case("r8", B, local(d(6, 10)), acceptance_due=d(6, 24), accepted_on=d(8, 3))
    await case(
        "r9",
        A,
        local(d(5, 20)),
        acceptance_due=d(6, 3),
        accepted_on=d(5, 22),
        replied_on=d(6, 5),
        rated_on=[d(6, 6), d(6, 6)],
        ratings=["satisfied", "dissatisfied"],
    )
    await repeat("r9", d(6, 12))
    await case(
        "r10",
        B,
        utc("2026-05-31T16:30:00Z"),
        acceptance_due=d(6, 15),
        accepted_on=d(6, 2),
        replied_on=d(6, 30),
        rated_on=[d(8, 2)],
        ratings=["satisfied"],
    )
    await case(
        "r11",
        A,
        utc("2026-06-30T16:30:00Z"),
        acceptance_due=d(7, 15),
        accepted_on=d(7, 20),
    )
    await case(
        "r12",
        B,
        local(d(6, 11)),
        acceptance_due=d(6, 25),
        not_accepted="diverted",
        not_accepted_on=d(6, 30),
    )
    return c


def parts(rate: Rate) -> tuple[int, int, float | None]:
    return rate.numerator, rate.denominator, rate.ratio


async def test_the_city_rates_for_june(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, _ = bureaus
    await june_2026(db)

    f = await queries.figures(db, config, CITY, JUNE, D_DAY)

    # June matters: r1-r8, r10, r12 (r9 is May, r11 July). Decided by D: r1 r2 r3 r4 r6 r7 r10
    # r12 (r5 objected, r8 accepted after D); in time: all but r2 (6-18 > 6-16) and r12
    # (6-30 > 6-25); r3 and r6 decided on their due day.
    assert parts(f.timely_acceptance_rate) == (6, 8, 0.75)
    # Replied in June: r1 r2 r6 r7 r9 r10. Rated by D: r1 r2 r7 r9 (r6 never, r10 on 8-02).
    # Latest by D: r1 satisfied, r2 basically satisfied (7-05), r7 satisfied, r9 dissatisfied
    # (the second rating of 6-06).
    assert parts(f.satisfaction_rate) == (3, 4, 0.75)
    # June matters replied by D: r1 r2 r6 r7 r10; r2 asked for review on 7-03, r7 petitioned
    # again on 7-10; r6's repeat fell on the reply day, not after it.
    assert parts(f.first_petition_resolution_rate) == (3, 5, 0.6)
    # June submissions: the first ones of r1-r8, r10, r12 (10) and the repeats of r6 (6-29)
    # and r9 (6-12); r7's repeat is July's, as is r11's first.
    assert parts(f.repeat_petition_rate) == (2, 12, 0.1667)


async def test_the_report_date_limits_every_rate(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, _ = bureaus
    await june_2026(db)

    mid_june = await queries.assessed_rates(db, config, CITY, JUNE, d(6, 14))
    # By 6-14: r1 (6-10), r4 (6-12) and r10 (6-02) decided, all in time.
    assert parts(mid_june.timely_acceptance_rate) == (3, 3, 1.0)
    # Nothing of June's matters replied yet; r9 (replied 6-05) rated dissatisfied on 6-06.
    assert parts(mid_june.first_petition_resolution_rate) == (0, 0, None)
    assert parts(mid_june.satisfaction_rate) == (0, 1, 0.0)

    early_july = await queries.assessed_rates(db, config, CITY, JUNE, d(7, 2))
    # r2 is still dissatisfied on 7-02 (re-rated 7-05): r1 and r7 of r1 r2 r7 r9.
    assert parts(early_july.satisfaction_rate) == (2, 4, 0.5)
    # r2's review request (7-03) and r7's repeat (7-10) are after 7-02: all five resolved.
    assert parts(early_july.first_petition_resolution_rate) == (5, 5, 1.0)
    # Submissions do not depend on D: the same 2 of 12.
    assert parts(early_july.repeat_petition_rate) == (2, 12, 0.1667)


async def test_a_sub_bureau_rates_take_its_cases_only(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, _ = bureaus
    await june_2026(db)

    a = await queries.assessed_rates(db, config, A, JUNE, D_DAY)
    # A's June matters r1 r2 r6 r7, all decided by D; r2 late.
    assert parts(a.timely_acceptance_rate) == (3, 4, 0.75)
    # A's cases replied in June and rated by D: r1 r2 r7 r9.
    assert parts(a.satisfaction_rate) == (3, 4, 0.75)
    # r1 and r6 resolved; r2 (review) and r7 (repeat) not.
    assert parts(a.first_petition_resolution_rate) == (2, 4, 0.5)
    # r1 r2 r6 r7 first submissions, r6 and r9 repeats.
    assert parts(a.repeat_petition_rate) == (2, 6, 0.3333)


async def test_the_weekly_bulletin_and_the_monthly_analysis_carry_the_rates(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, calendar = bureaus
    await june_2026(db)
    office = queries.Viewer(bureau=CITY, user="office-01")

    bulletin = await queries.weekly_bulletin(db, config, calendar, office, CITY, W24, D_DAY)
    r = bulletin.rates
    # W24 matters r6 r7 r8 r12: decided by D r6 r7 (in time) and r12 (late).
    assert parts(r.timely_acceptance_rate) == (2, 3, 0.6667)
    # Nothing replied in W24.
    assert parts(r.satisfaction_rate) == (0, 0, None)
    # Replied by D: r6 (resolved) and r7 (repeat on 7-10).
    assert parts(r.first_petition_resolution_rate) == (1, 2, 0.5)
    # W24 submissions: r6 r7 r8 r12 first, r9's repeat on 6-12.
    assert parts(r.repeat_petition_rate) == (1, 5, 0.2)

    analysis = await queries.monthly_analysis(db, config, office, CITY, JUNE, D_DAY)
    assert parts(analysis.figures.satisfaction_rate) == (3, 4, 0.75)
    changes = {c.key: c for c in analysis.changes}
    assert changes["timely_acceptance_rate"].current == 0.75
    assert changes["first_petition_resolution_rate"].current == 0.6
    assert changes["repeat_petition_rate"].current == 0.1667
    # May is judged 31 days after its end, as June is (7-31): on 7-01. r9 is May's only
    # matter: decided 5-22, within 6-03; replied 6-05 and petitioned again 6-12, both by 7-01,
    # so it is not resolved.
    may = analysis.previous_month
    assert may.report_date == d(7, 1)
    assert parts(may.timely_acceptance_rate) == (1, 1, 1.0)
    assert parts(may.first_petition_resolution_rate) == (0, 1, 0.0)
    assert changes["first_petition_resolution_rate"].month_on_month.delta == 0.6
    # May's only submission is r9's first: no repeat.
    assert parts(may.repeat_petition_rate) == (0, 1, 0.0)


async def test_the_workbooks_hold_the_rates_as_numbers_an_office_can_use(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, calendar = bureaus
    await june_2026(db)
    office = queries.Viewer(bureau=CITY, user="office-01")
    analysis = await queries.monthly_analysis(db, config, office, CITY, JUNE, D_DAY, None)
    bulletin = await queries.weekly_bulletin(db, config, calendar, office, CITY, W24, D_DAY, None)

    book = load_workbook(
        io.BytesIO(exports.to_xlsx(exports.analysis_report(analysis, today=D_DAY)))
    )
    figures = book["主要指标 Figures"]
    rows = {row[0].value: row for row in figures.iter_rows(min_row=2) if row[0].value}
    header = next(r for r in figures.iter_rows() if r[0].value == "指标 Figure")[0].row
    assert header is not None  # a merged cell's row may be None in openpyxl's types
    satisfaction = rows["满意率 satisfaction rate"]
    # This month 3/4, May nothing rated (empty, not "—"), so no change either.
    assert [c.value for c in satisfaction[1:5]] == [0.75, 3, 4, None]
    assert satisfaction[1].number_format == "0.0%"
    assert (satisfaction[2].data_type, satisfaction[3].data_type) == ("n", "n")
    resolution = rows["初信初访化解率 first-petition resolution rate"]
    # June 3/5 against May's 0/1: +60.0 percentage points, no relative change from zero.
    assert [c.value for c in resolution[1:7]] == [0.6, 3, 5, 0.0, 60.0, None]
    assert "pp" in resolution[5].number_format
    matters = rows["件 matters"]
    # June's ten matters against May's one: +9, +900%.
    assert [c.value for c in matters[1:7]] == [10, None, None, 1, 9, 9.0]
    assert (matters[1].number_format, matters[6].number_format) == ("0", "0.0%")
    assert figures.auto_filter.ref == f"A{header}:J{header + len(analysis.changes)}"
    assert figures.print_title_rows == f"${header}:${header}"

    summary = load_workbook(
        io.BytesIO(exports.to_xlsx(exports.bulletin_report(bulletin, today=D_DAY)))
    )["概况 Summary"]
    values = {row[0]: row[1:] for row in summary.iter_rows(values_only=True) if row[0]}
    assert values["及时受理率 Timely acceptance rate"] == (0.6667, 2, 3)
    assert values["重复信访率 Repeat-petition rate"] == (0.2, 1, 5)
    assert values["满意率 Satisfaction rate"] == (None, 0, 0)
    assert values["新增件 New matters"] == (4, None, None)
    for sheet in (figures, summary):
        assert sheet.page_setup.orientation == "landscape"
        page_setup = sheet.sheet_properties.pageSetUpPr
        assert page_setup is not None
        assert page_setup.fitToPage
    # No cell anywhere holds a rate as text ("72.5% (29/40)").
    texts = [
        c.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    assert not [t for t in texts if "%" in t and "/" in t]


async def test_the_ledger_filters_the_cases_behind_each_rate(
    db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    """True gives the cases a rate counts in its numerator, False the rest of its denominator,
    judged by D (7-31); cases outside the denominator match neither."""
    config, _ = bureaus
    c = await june_2026(db)
    names = {case_id: name for name, case_id in c.items()}
    office = queries.Viewer(bureau=CITY, user="office-01")

    async def cases(**wanted: Any) -> set[str]:
        page = await queries.ledger(
            db,
            config,
            office,
            CITY,
            queries.LedgerFilter(**wanted),
            as_of=D_DAY,
            limit=100,
            offset=0,
        )
        return {names[row.case_id] for row in page.rows}

    june = {"received": JUNE}
    # Decided by D: r1 r2 r3 r4 r6 r7 r10 r12 (r5's objection is no decision, r8's acceptance
    # comes after D); late: r2 (6-18 > 6-16) and r12 (diverted 6-30 > 6-25). 6/8 as figured.
    assert await cases(timely_accepted=True, **june) == {"r1", "r3", "r4", "r6", "r7", "r10"}
    assert await cases(timely_accepted=False, **june) == {"r2", "r12"}
    # Replied by D: r1 r2 r6 r7 r10; r2's review request (7-03) and r7's repeat (7-10) came
    # after the reply; r6's repeat on the reply day does not count. 3/5 as figured.
    assert await cases(first_petition_resolved=True, **june) == {"r1", "r6", "r10"}
    assert await cases(first_petition_resolved=False, **june) == {"r2", "r7"}
    # Latest rating by D: r1 satisfied, r2 basically satisfied (7-05), r7 satisfied, r9
    # dissatisfied (the later record of 6-06); r10's rating (8-02) is after D: neither.
    assert await cases(satisfied=True) == {"r1", "r2", "r7"}
    assert await cases(satisfied=False) == {"r9"}
    # Judged by another report date: on 6-30 r2's latest rating is still dissatisfied.
    page = await queries.ledger(
        db,
        config,
        office,
        CITY,
        queries.LedgerFilter(satisfied=False),
        as_of=d(6, 30),
        limit=100,
        offset=0,
    )
    assert {names[row.case_id] for row in page.rows} == {"r2", "r9"}
