"""The binding report figures (domain.md) on hand-built read-model rows, with the expected
numbers worked out by hand in tests/support/reporting_fixtures.py's data set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import asyncpg
import pytest
from petitions.bureaus import BureauConfig, WorkCalendar
from reporting import queries
from reporting.queries import periods

from tests.support.reporting_fixtures import (
    CITY,
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    K,
    add_case,
    add_progress,
    add_session,
    add_submission,
    demo_config,
    local,
    march_2026,
    reporting_pool,
    utc,
)

pytestmark = pytest.mark.integration

MARCH = periods.month("2026-03")
APRIL = periods.month("2026-04")
D_DAY = date(2026, 4, 30)


@pytest.fixture(scope="module")
def bureaus() -> tuple[BureauConfig, WorkCalendar]:
    return demo_config()


@pytest.fixture
def config(bureaus: tuple[BureauConfig, WorkCalendar]) -> BureauConfig:
    return bureaus[0]


@pytest.fixture
def calendar(bureaus: tuple[BureauConfig, WorkCalendar]) -> WorkCalendar:
    return bureaus[1]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with reporting_pool(database_url) as pool:
        yield pool


async def test_city_figures_for_march(db: asyncpg.Pool, config: BureauConfig) -> None:
    await march_2026(db)

    f = await queries.figures(db, config, CITY, MARCH, D_DAY)

    # c1 c2 c3 c4 c6 c7; c5 is April 1 in Shanghai, c8 is February.
    assert f.matters == 6
    # s1, s2, s2b, s3, s4, s4b, s6 (Mar 1 local), s7; heads 1+3+1+1+2+1+1+1.
    assert (f.submissions, f.person_visits) == (8, 11)
    # Accepted: c1 c2 c4 c6 c7 (c3 declined); closed by D: c1 c2 c6 (replied in April).
    assert (f.closure_rate.numerator, f.closure_rate.denominator) == (3, 5)
    assert f.closure_rate.ratio == 0.6
    # Replied by D: c1 c2 c6; c1 petitioned again after its reply; c2 only on the reply day.
    assert (f.cessation_rate.numerator, f.cessation_rate.denominator) == (2, 3)
    assert f.cessation_rate.ratio == 0.6667
    # At the city bureau on justified cases: s1 (c1), s4 and s4b (c4); not c3, c7, nor c5's
    # (April).
    assert f.justified_to_city == 3
    # Replied in March: c1 (on time), c2 (late), c8 (on time; received in February).
    assert (f.on_time_rate.numerator, f.on_time_rate.denominator) == (2, 3)
    # (20 + 10 + 21) / 3
    assert f.average_handling_cycle_days == 17.0
    assert f.handling_cycle_cases == 3
    zero = {z.code for z in f.zero_petition_sub_bureaus}
    assert f.sub_bureaus_in_scope == 24
    assert len(zero) == 21
    assert {A, B, D}.isdisjoint(zero)
    assert C in zero  # c5 reached the city bureau on April 1 local; c6 went to C itself


async def test_a_sub_bureau_sees_the_cases_attributed_to_it(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    await march_2026(db)

    a = await queries.figures(db, config, A, MARCH, D_DAY)
    assert (a.matters, a.submissions, a.person_visits) == (2, 3, 5)
    assert (a.closure_rate.numerator, a.closure_rate.denominator) == (2, 2)
    assert (a.cessation_rate.numerator, a.cessation_rate.denominator) == (1, 2)
    assert a.justified_to_city == 1
    assert (a.on_time_rate.numerator, a.on_time_rate.denominator) == (2, 3)
    assert a.average_handling_cycle_days == 17.0
    assert a.zero_petition_sub_bureaus == []
    assert a.sub_bureaus_in_scope == 1

    c = await queries.figures(db, config, C, MARCH, D_DAY)
    assert c.matters == 1  # c6 only
    assert [z.code for z in c.zero_petition_sub_bureaus] == [C]

    # The accusation against D still counts in D's figures (Art. 30 hides cases, not numbers).
    d = await queries.figures(db, config, D, MARCH, D_DAY)
    assert (d.matters, d.submissions) == (1, 1)


async def test_the_local_month_boundary(db: asyncpg.Pool, config: BureauConfig) -> None:
    await march_2026(db)

    april = await queries.figures(db, config, C, APRIL, D_DAY)
    assert april.matters == 1  # c5, received 2026-03-31T16:30Z
    assert april.zero_petition_sub_bureaus == []  # c5's submission reached the city on Apr 1
    february = await queries.figures(db, config, C, periods.month("2026-02"), D_DAY)
    assert february.matters == 0  # c6, received 2026-02-28T16:30Z, is March 1 in Shanghai
    assert february.submissions == 0


async def test_the_report_date_limits_closure_and_cessation(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    await march_2026(db)

    early = await queries.figures(db, config, CITY, MARCH, date(2026, 3, 31))
    # By March 31: c6 not yet replied; c1 had not yet petitioned again.
    assert (early.closure_rate.numerator, early.closure_rate.denominator) == (2, 5)
    assert (early.cessation_rate.numerator, early.cessation_rate.denominator) == (2, 2)
    before_acceptance = await queries.figures(db, config, CITY, MARCH, date(2026, 3, 4))
    # By March 4 only c6 had been accepted (3-03); nothing closed yet.
    assert (before_acceptance.closure_rate.numerator,) == (0,)
    assert before_acceptance.closure_rate.denominator == 1


async def test_a_period_with_nothing_in_it_has_no_ratios(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    f = await queries.figures(db, config, CITY, periods.week("2026-W12"), D_DAY)
    assert f.matters == 0
    assert f.closure_rate.ratio is None
    assert f.on_time_rate.ratio is None
    assert f.average_handling_cycle_days is None
    assert len(f.zero_petition_sub_bureaus) == 24


async def test_accompany_roster_breaks_ties_by_submissions_then_by_code(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    may = periods.month("2026-05")

    async def petitions(sub: str, justified: int, other: int, bureau: str = CITY) -> None:
        for n in range(justified):
            case = await add_case(
                db, sub_bureau=sub, received_at=local(date(2026, 5, 6 + n)), justified=True
            )
            await add_submission(
                db, case, received_at=local(date(2026, 5, 6 + n)), receiving_bureau=bureau
            )
        for n in range(other):
            case = await add_case(db, sub_bureau=sub, received_at=local(date(2026, 5, 12 + n)))
            await add_submission(
                db, case, received_at=local(date(2026, 5, 12 + n)), receiving_bureau=bureau
            )

    await petitions(G, justified=3, other=0)
    await petitions(F, justified=2, other=2)  # ties with E and H on justified, more in total
    await petitions(H, justified=2, other=0)  # ties with E on both: the lower code, E, first
    await petitions(E, justified=2, other=0)
    await petitions(K, justified=0, other=5)  # no justified petition: never on the roster
    await petitions(A, justified=4, other=0, bureau=A)  # to its own sub-bureau, not the city
    # Justified, at the city bureau, but at 00:30 on June 1 in Shanghai: not May.
    late = await add_case(db, sub_bureau=B, received_at=utc("2026-05-31T16:30:00Z"), justified=True)
    await add_submission(db, late, received_at=utc("2026-05-31T16:30:00Z"), receiving_bureau=CITY)

    roster = await queries.accompany_roster(db, config, may)

    assert (roster.counted_month, roster.applies_to) == ("2026-05", "2026-06")
    assert [
        (e.sub_bureau.code, e.justified_to_city, e.submissions_to_city) for e in roster.roster
    ] == [
        (G, 3, 3),
        (F, 2, 4),
        (E, 2, 2),
    ]
    assert [e.sub_bureau.code for e in roster.candidates] == [G, F, E, H]
    assert roster.roster[0].head == config.sub_bureau(G).head
    assert roster.roster[0].sub_bureau.name == "南屏分局"


async def test_the_trend_counts_justified_petitions_of_cases_older_than_its_window(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    """The trend joins a window's submissions with the justified cases whose latest submission
    came in or after it: a case first received long before the window, or one whose
    submissions were logged out of date order, still counts in the month it came to the city."""
    old = await add_case(db, sub_bureau=A, received_at=local(date(2024, 11, 5)), justified=True)
    await add_submission(db, old, received_at=local(date(2024, 11, 5)), receiving_bureau=A)
    await add_submission(db, old, received_at=local(date(2026, 3, 9)), receiving_bureau=CITY)
    # Its first logged submission in March, a later-logged one dated back to January.
    shuffled = await add_case(db, sub_bureau=B, received_at=local(date(2026, 3, 2)), justified=True)
    await add_submission(db, shuffled, received_at=local(date(2026, 3, 2)), receiving_bureau=CITY)
    await add_submission(db, shuffled, received_at=local(date(2026, 1, 20)), receiving_bureau=CITY)
    # At the city bureau in the window, but last received before it: not in the window.
    before = await add_case(db, sub_bureau=C, received_at=local(date(2025, 3, 31)), justified=True)
    await add_submission(db, before, received_at=local(date(2025, 3, 31)), receiving_bureau=CITY)
    unjustified = await add_case(db, sub_bureau=D, received_at=local(date(2026, 3, 3)))
    await add_submission(
        db, unjustified, received_at=local(date(2026, 3, 3)), receiving_bureau=CITY
    )

    trend = await queries.monthly_series(db, config, CITY, MARCH)

    assert (trend[0].month, len(trend)) == ("2025-04", 12)
    assert {p.month: p.justified_to_city for p in trend if p.justified_to_city} == {
        "2026-01": 1,
        "2026-03": 2,
    }
    assert {p.month: p.matters for p in trend if p.matters} == {"2026-03": 2}
    assert sum(p.submissions for p in trend) == 4


async def test_the_roster_needs_a_justified_petition(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    case = await add_case(db, sub_bureau=A, received_at=local(date(2026, 5, 6)))
    await add_submission(db, case, received_at=local(date(2026, 5, 6)), receiving_bureau=CITY)
    roster = await queries.accompany_roster(db, config, periods.month("2026-05"))
    assert roster.roster == []


async def test_ledger_names_codes_and_hides_an_accusation_from_the_accused(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    m = await march_2026(db)
    c7 = m.cases["c7"]

    def ids(page: queries.LedgerPage) -> set[object]:
        return {row.case_id for row in page.rows}

    office = queries.Viewer(bureau=CITY, user="office-01")
    everything = await queries.ledger(db, config, office, CITY, as_of=D_DAY)
    assert (everything.total, everything.total_capped) == (8, False)
    # Beyond its cap the count says "more than" (a decade's ledger is not counted row by row).
    capped = await queries.ledger(db, config, office, CITY, as_of=D_DAY, count_cap=5)
    assert (capped.total, capped.total_capped, len(capped.rows)) == (5, True, 8)
    exact = await queries.ledger(db, config, office, CITY, as_of=D_DAY, count_cap=8)
    assert (exact.total, exact.total_capped) == (8, False)
    assert c7 in ids(everything)
    row = next(r for r in everything.rows if r.case_id == c7)
    assert row.sub_bureau_name == "望江分局"
    assert row.category_name == "检举控告 / 民警违纪违法"
    assert row.category_kind_name == "检举控告"
    assert row.responsible_unit_name == config.unit_name("jijian")
    assert row.first_received_at.utcoffset() == timedelta(hours=8)
    assert row.petitioner_ids == "110105********002X"  # as stored: masked

    # The accused sub-bureau does not see it, not even in its own ledger ...
    accused_unit = queries.Viewer(bureau=D, user="head-d")
    own = await queries.ledger(db, config, accused_unit, D, as_of=D_DAY)
    assert c7 not in ids(own)
    assert own.total == 0
    # ... nor the accused officer at the city bureau, in the city's whole ledger.
    accused_officer = queries.Viewer(bureau=CITY, user="city-officer-9")
    city = await queries.ledger(db, config, accused_officer, CITY, as_of=D_DAY)
    assert c7 not in ids(city)
    assert city.total == 7

    # A sub-bureau's ledger: attributed to it, received by it or assigned to it.
    b = await queries.ledger(db, config, queries.Viewer(bureau=B, user="head-b"), B, as_of=D_DAY)
    assert ids(b) == {m.cases["c3"], m.cases["c4"]}


async def test_ledger_filters_and_pages(db: asyncpg.Pool, config: BureauConfig) -> None:
    m = await march_2026(db)
    office = queries.Viewer(bureau=CITY, user="office-01")

    march = queries.LedgerFilter(received=MARCH)
    first = await queries.ledger(db, config, office, CITY, march, as_of=D_DAY, limit=4)
    second = await queries.ledger(db, config, office, CITY, march, as_of=D_DAY, limit=4, offset=4)
    assert first.total == second.total == 6
    assert len(first.rows) == 4
    assert len(second.rows) == 2
    assert {r.case_id for r in first.rows}.isdisjoint({r.case_id for r in second.rows})
    # Newest matter first.
    assert [r.first_received_at for r in first.rows] == sorted(
        (r.first_received_at for r in first.rows), reverse=True
    )

    congress = await queries.ledger(
        db, config, office, CITY, queries.LedgerFilter(congress=True), as_of=D_DAY
    )
    assert [r.case_id for r in congress.rows] == [m.cases["c4"]]
    accusations = await queries.ledger(
        db, config, office, CITY, queries.LedgerFilter(category="JK"), as_of=D_DAY
    )
    assert [r.case_id for r in accusations.rows] == [m.cases["c7"]]
    open_cases = await queries.ledger(
        db, config, office, CITY, queries.LedgerFilter(open=True), as_of=D_DAY
    )
    assert {r.case_id for r in open_cases.rows} == {m.cases["c4"], m.cases["c7"]}
    overdue = await queries.ledger(
        db, config, office, CITY, queries.LedgerFilter(overdue=True), as_of=date(2026, 5, 6)
    )
    # c7's handling deadline is 5-05, c4's 5-20.
    assert [r.case_id for r in overdue.rows] == [m.cases["c7"]]
    assert overdue.rows[0].overdue
    assert overdue.rows[0].running_deadline == "handling"
    numbered = await queries.ledger(
        db,
        config,
        office,
        CITY,
        queries.LedgerFilter(case_number=first.rows[0].case_number),
        as_of=D_DAY,
    )
    assert [r.case_id for r in numbered.rows] == [first.rows[0].case_id]


async def test_weekly_bulletin(
    db: asyncpg.Pool, config: BureauConfig, calendar: WorkCalendar
) -> None:
    m = await march_2026(db)
    week = periods.week("2026-W13")  # Mon 3-23 to Sun 3-29
    as_of = date(2026, 3, 27)  # Friday
    # Overdue for acceptance since Friday 3-20: five working days by Friday 3-27.
    late = await add_case(
        db,
        sub_bureau=A,
        received_at=local(date(2026, 3, 5)),
        acceptance_due=date(2026, 3, 20),
    )
    # Handling due Thursday 4-02: four working days left, within five.
    soon = await add_case(
        db,
        sub_bureau=A,
        received_at=local(date(2026, 3, 24)),
        state="handling",
        accepted_on=date(2026, 3, 24),
        handling_due=date(2026, 4, 2),
    )
    await add_submission(db, soon, received_at=local(date(2026, 3, 24)), receiving_bureau=A)
    # Under review past its review deadline: overdue on the review clock.
    review = await add_case(
        db,
        sub_bureau=B,
        received_at=local(date(2026, 1, 5)),
        state="under_review",
        accepted_on=date(2026, 1, 6),
        replied_on=date(2026, 2, 10),
        review_due=date(2026, 3, 26),
    )
    # Handling due after the Qingming holiday (4-04 to 4-06): 4-08 is beyond five working days.
    later = await add_case(
        db,
        sub_bureau=B,
        received_at=local(date(2026, 3, 1)),
        state="handling",
        accepted_on=date(2026, 3, 2),
        handling_due=date(2026, 4, 8),
    )
    await add_progress(db, later, "2026-W13", date(2026, 3, 26))
    await add_progress(db, m.cases["c7"], "2026-W13", date(2026, 3, 26))

    office = queries.Viewer(bureau=CITY, user="office-01")
    bulletin = await queries.weekly_bulletin(db, config, calendar, office, CITY, week, as_of)

    assert bulletin.new_cases == 1  # soon
    assert bulletin.submissions == 2  # c4's repeat on 3-25 and soon's on 3-24
    assert bulletin.replied == 1  # c1 on 3-25
    assert [(c.case_id, c.deadline, c.working_days) for c in bulletin.overdue.rows] == [
        (late, "acceptance", 5),
        (review, "review", 1),
    ]
    assert [(c.case_id, c.working_days) for c in bulletin.due_soon.rows] == [(soon, 4)]
    assert (bulletin.overdue.total, bulletin.due_soon.total, bulletin.missing_progress.total) == (
        2,
        1,
        2,
    )
    # Open handling cases without a W13 entry: c4 and soon (c7 and later reported).
    assert {c.case_id for c in bulletin.missing_progress.rows} == {m.cases["c4"], soon}
    # Paged: one row a page, the same order and working days as the whole list.
    first = await queries.weekly_bulletin(
        db, config, calendar, office, CITY, week, as_of, queries.Page(1, 1)
    )
    assert ([c.case_id for c in first.overdue.rows], first.overdue.total) == ([late], 2)
    second = await queries.bulletin_list(
        db, config, calendar, office, CITY, week, as_of, "overdue", queries.Page(2, 1)
    )
    assert [(c.case_id, c.working_days) for c in second.rows] == [(review, 1)]
    assert (second.total, second.page, second.page_size) == (2, 2, 1)
    everything = await queries.weekly_bulletin(
        db, config, calendar, office, CITY, week, as_of, None
    )
    assert everything.missing_progress.rows == bulletin.missing_progress.rows
    by = {row.sub_bureau.code: row for row in bulletin.by_sub_bureau}
    assert len(by) == 24
    assert (by[A].new_cases, by[A].overdue, by[A].due_soon, by[A].missing_progress) == (1, 1, 1, 1)
    assert (by[B].overdue, by[B].missing_progress, by[B].open_cases) == (1, 1, 3)

    # D's own bulletin leaves out the accusation against it; its flow figures still count it.
    d = await queries.weekly_bulletin(
        db, config, calendar, queries.Viewer(bureau=D, user="head-d"), D, week, date(2026, 5, 6)
    )
    assert (d.overdue.total, d.overdue.rows) == (0, [])
    assert {r.sub_bureau.code for r in d.by_sub_bureau} == {D}


async def test_reception_statistics(db: asyncpg.Pool, config: BureauConfig) -> None:
    m = await march_2026(db)
    monday = await add_session(
        db,
        bureau=CITY,
        day=date(2026, 3, 2),
        leader_id="L02",
        leader_name="朱宏伟",
        state="held",
        instructions=1,
    )
    chief = await add_session(
        db,
        bureau=CITY,
        day=date(2026, 3, 4),
        leader_id="L01",
        leader_name="陈卫东",
        state="held",
        chief_day=True,
        instructions=2,
    )
    await add_session(
        db,
        bureau=CITY,
        day=date(2026, 3, 11),
        leader_id="L01",
        leader_name="陈卫东",
        state="missed",
        chief_day=True,
        missed_reason="参加会议",
    )
    await add_session(
        db,
        bureau=CITY,
        day=date(2026, 3, 18),
        leader_id="L01",
        leader_name="陈卫东",
        state="missed",
        chief_day=True,
        missed_reason="病假",
    )
    await add_session(
        db,
        bureau=CITY,
        day=date(2026, 3, 25),
        leader_id="L01",
        leader_name="陈卫东",
        state="missed",
        chief_day=True,
        missed_reason="参加会议",
    )
    await add_session(
        db,
        bureau=A,
        day=date(2026, 3, 4),
        leader_id="330102-head",
        leader_name="王建军",
        state="held",
        chief_day=True,
    )
    await add_session(
        db,
        bureau=CITY,
        day=date(2026, 4, 1),
        leader_id="L01",
        leader_name="陈卫东",
        state="scheduled",
        chief_day=True,
    )
    await add_submission(
        db,
        m.cases["c4"],
        received_at=local(date(2026, 3, 4)),
        receiving_bureau=CITY,
        reception_session_id=chief,
        head_count=4,
        is_repeat=True,
    )
    await add_submission(
        db,
        m.cases["c3"],
        received_at=local(date(2026, 3, 2)),
        receiving_bureau=CITY,
        reception_session_id=monday,
        is_repeat=True,
    )

    city = await queries.reception_statistics(db, config, CITY, MARCH)
    assert (city.sessions, city.held, city.missed, city.scheduled) == (6, 3, 3, 0)
    assert (city.chief_days_held, city.chief_days_missed) == (2, 3)
    assert [(r.reason, r.sessions) for r in city.missed_reasons] == [("参加会议", 2), ("病假", 1)]
    assert (city.visits, city.person_visits, city.instructions) == (2, 5, 3)
    chief_row = next(r for r in city.by_leader if r.leader_id == "L01")
    assert (chief_row.sessions, chief_row.held, chief_row.missed, chief_row.visits) == (4, 1, 3, 1)
    assert chief_row.bureau.name == "临江市公安局"

    a = await queries.reception_statistics(db, config, A, MARCH)
    assert (a.sessions, a.held, a.visits) == (1, 1, 0)


async def test_monthly_analysis(db: asyncpg.Pool, config: BureauConfig) -> None:
    m = await march_2026(db)
    # The same month a year earlier: two matters.
    for day in (3, 4):
        old = await add_case(db, sub_bureau=A, received_at=local(date(2025, 3, day)))
        await add_submission(db, old, received_at=local(date(2025, 3, day)), receiving_bureau=A)

    office = queries.Viewer(bureau=CITY, user="office-01")
    analysis = await queries.monthly_analysis(db, config, office, CITY, MARCH, D_DAY)

    assert analysis.figures.matters == 6
    assert analysis.previous_month.matters == 1  # c8
    assert analysis.same_month_last_year.matters == 2
    # Each comparison month is judged 30 days after its end, as March is (Apr 30).
    assert analysis.previous_month.report_date == date(2026, 3, 30)
    matters = next(c for c in analysis.changes if c.key == "matters")
    assert (matters.month_on_month.delta, matters.month_on_month.relative) == (5.0, 5.0)
    assert (matters.year_on_year.delta, matters.year_on_year.relative) == (4.0, 2.0)

    by_submissions = analysis.rank_by_submissions
    assert [(r.rank, r.sub_bureau.code, r.value) for r in by_submissions[:4]] == [
        (1, A, 3),
        (1, B, 3),
        (3, C, 1),
        (3, D, 1),
    ]
    assert len(by_submissions) == 24
    assert [(r.sub_bureau.code, r.value) for r in analysis.rank_by_justified_to_city[:2]] == [
        (B, 2),
        (A, 1),
    ]
    assert [e.sub_bureau.code for e in analysis.roster.roster] == [B, A]
    assert analysis.roster.applies_to == "2026-04"
    assert [c.case_id for c in analysis.congress_cases.rows] == [m.cases["c4"]]
    assert {c.case_id for c in analysis.repeat_cases.rows} == {m.cases["c2"], m.cases["c4"]}
    assert analysis.repeat_submissions == 2
    assert [c.case_id for c in analysis.skip_level_cases.rows] == [m.cases["c7"]]
    assert analysis.skip_level_submissions == 1
    assert analysis.skip_level_by_kind == {"province": 1, "beijing": 0}
    assert [p.month for p in analysis.trend][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert len(analysis.trend) == 12
    assert analysis.trend[-1].submissions == 8
    assert analysis.trend[-1].justified_to_city == 3
    assert analysis.trend[-2].matters == 1

    # The accused sub-bureau's own analysis: its skip-level accusation is not listed.
    d = await queries.monthly_analysis(
        db, config, queries.Viewer(bureau=D, user="head-d"), D, MARCH, D_DAY
    )
    assert (d.skip_level_cases.total, d.skip_level_cases.rows) == (0, [])
    assert d.skip_level_submissions == 1


async def test_a_hearing_stops_only_the_re_review_clock(
    db: asyncpg.Pool, config: BureauConfig, calendar: WorkCalendar
) -> None:
    # In a hearing since March, accepted 2026-02-03 and due Friday 3-20: a hearing in handling
    # does not stop the handling clock (Art. 34), so on Friday 3-27 the case is overdue.
    handling = await add_case(
        db,
        sub_bureau="330104",
        received_at=local(date(2026, 2, 2)),
        state="hearing",
        state_before_hearing="handling",
        accepted_on=date(2026, 2, 3),
        handling_due=date(2026, 3, 20),
    )
    # A re-review hearing stops its clock (Art. 36): re-review due 3-20, not overdue on 3-27.
    re_review = await add_case(
        db,
        sub_bureau="330104",
        received_at=local(date(2025, 10, 8)),
        state="hearing",
        state_before_hearing="under_re_review",
        accepted_on=date(2025, 10, 9),
        handling_due=date(2025, 12, 8),
        replied_on=date(2025, 12, 1),
        review_due=date(2026, 1, 15),
        re_review_due=date(2026, 3, 20),
    )
    bulletin = await queries.weekly_bulletin(
        db, config, calendar, queries.Viewer(bureau=CITY, user="office"), CITY,
        periods.week("2026-W13"),
        date(2026, 3, 27),
    )  # fmt: skip
    overdue = {row.case_id for row in bulletin.overdue.rows}
    assert handling in overdue
    assert re_review not in overdue
    assert re_review not in {row.case_id for row in bulletin.due_soon.rows}
    counts = {row.sub_bureau.code: row.open_cases for row in bulletin.by_sub_bureau}
    assert counts.get("330104") == 2
    ledger = await queries.ledger(
        db, config, queries.Viewer(bureau=CITY, user="office"), CITY,
        queries.LedgerFilter(open=True), as_of=date(2026, 3, 27), limit=50,
    )  # fmt: skip
    assert {handling, re_review} <= {row.case_id for row in ledger.rows}


async def test_a_session_held_by_a_stand_in_names_who_held_it(
    db: asyncpg.Pool, config: BureauConfig
) -> None:
    session = await add_session(
        db, bureau=CITY, day=date(2026, 3, 4), leader_id="L01", leader_name="陈卫东",
        state="held", chief_day=True,
    )  # fmt: skip
    await db.execute(
        "UPDATE reception_sessions SET held_by = '林振华' WHERE session_id = $1", session
    )
    stats = await queries.reception_statistics(db, config, CITY, periods.month("2026-03"))
    (chief,) = [row for row in stats.by_leader if row.leader_id == "L01"]
    assert chief.held == 1
    assert chief.held_by_stand_in == 1
    (stand_in,) = stats.stand_ins
    assert (stand_in.day, stand_in.scheduled_leader, stand_in.held_by) == (
        date(2026, 3, 4), "陈卫东", "林振华",
    )  # fmt: skip


@pytest.mark.parametrize("bad", ["0000", "9999"])
def test_years_outside_the_supported_range_are_period_errors(bad: str) -> None:
    with pytest.raises(periods.PeriodError):
        periods.year(bad)
    with pytest.raises(periods.PeriodError):
        periods.month(f"{bad}-12")
