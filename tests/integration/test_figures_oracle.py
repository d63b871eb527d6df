"""An oracle for the figures' SQL: random but valid case histories (real event classes) are
folded by the real reporting projector into real PostgreSQL read models, and every binding
figure, the accompany counts, the monthly series and the weekly bulletin's per-sub-bureau
numbers and lists must equal what tests/support/figures_reference.py computes from the same
events in plain Python, over many periods, report dates and scopes.

It exists so the figures' queries can be rewritten for speed: a rewrite that changes what a
figure means (a bound off by a day, D ignored, a repeat on the reply day taken as after it)
fails here. Some changes no valid history can tell apart, so no oracle can catch them: intake
marks every submission but a case's first as a repeat, so "any submission after the reply" and
"any repeat after the reply" are the same set; every reply follows an acceptance, so "closed"
need not re-check "accepted" and every replied case has a handling cycle.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import asyncpg
import pytest
from petitions.bureaus import BureauConfig, WorkCalendar
from petitions.identity import Role
from reporting.projections.projector import Projector
from reporting.projections.tables import copy_rows
from reporting.queries import periods
from reporting.queries.bulletin import weekly_bulletin
from reporting.queries.common import Viewer
from reporting.queries.figures import (
    accompany_roster,
    figures,
    monthly_series,
    to_city_by_sub_bureau,
)
from reporting.queries.models import Rate
from reporting.queries.periods import Period

from tests.support.figures_reference import (
    CITY,
    SUB_BUREAUS,
    History,
    Ratio,
    Reference,
    RefFigures,
    facts_of,
    histories,
)
from tests.support.reporting_fixtures import demo_config, reporting_pool

pytestmark = pytest.mark.integration

SEEDS = (17, 2026, 90210)
CASES = 240
# Report dates and periods are drawn from this span: before the first case, through the year
# the cases start in, and well after the last of them.
SPAN_START = date(2025, 12, 1)
SPAN_END = date(2027, 6, 30)
VIEWER = Viewer(bureau=CITY, user="office-01", role=Role.PETITION_OFFICE)


@dataclass(frozen=True)
class Env:
    stream_id: str
    version: int
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    recorded_at: datetime


@pytest.fixture(scope="module")
def bureaus() -> tuple[BureauConfig, WorkCalendar]:
    return demo_config()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with reporting_pool(database_url) as pool:
        yield pool


async def fold_into(db: asyncpg.Pool, stories: list[History]) -> None:
    """The rebuild's way: one projector folds every stream, its rows copied into the tables."""
    projector = Projector()
    for story in stories:
        for version, (moment, event) in enumerate(story.events, start=1):
            env = Env(
                f"case-{story.case_id}",
                version,
                uuid.UUID(int=random.Random(f"{story.case_id}{version}").getrandbits(128)),
                event.event_type,
                moment,
                moment,
            )
            projector.apply(env, event)
    async with db.acquire() as conn:
        await copy_rows(conn, "reporting", projector.rows(), [])


def ratio(r: Rate) -> Ratio:
    return (r.numerator, r.denominator)


def random_period(rng: random.Random) -> Period:
    kind = rng.choice(("day", "week", "month", "quarter", "year", "range"))
    day = SPAN_START + timedelta(days=rng.randrange((SPAN_END - SPAN_START).days))
    if kind == "day":
        return periods.date_range(day, day)
    if kind == "week":
        return periods.week_of(day)
    if kind == "month":
        return periods.month_of(day.year, day.month)
    if kind == "quarter":
        first = periods.month_of(day.year, (day.month - 1) // 3 * 3 + 1)
        return periods.date_range(first.start, periods.shift_months(first, 2).end)
    if kind == "year":
        return periods.year(str(rng.choice((2026, 2026, 2027))))
    return periods.date_range(day, day + timedelta(days=rng.randrange(1, 120)))


def report_dates(rng: random.Random, period: Period) -> list[date]:
    """D before the period (nothing is "by D" yet), inside it, on its last day and after."""
    inside = period.start + timedelta(days=rng.randrange(period.days))
    return [
        period.start - timedelta(days=rng.randrange(1, 30)),
        inside,
        period.end,
        period.end + timedelta(days=rng.randrange(1, 40)),
        period.end + timedelta(days=rng.randrange(40, 400)),
    ]


def scopes(rng: random.Random) -> list[str]:
    return [CITY, rng.choice(SUB_BUREAUS)]


async def check_figures(
    db: asyncpg.Pool, config: BureauConfig, ref: Reference, rng: random.Random
) -> int:
    checked = 0
    for n in range(28):
        period, dates = random_period(rng), None
        if n % 2:
            # On an act's date: the period starting or ending there (or the day before), and D
            # the day before, on and after it, where "<" for "<=" and the like show.
            day = rng.choice(rng.choice(ref.cases).key_dates())
            start, end = rng.choice(
                (
                    (day - timedelta(days=rng.randrange(40)), day),
                    (day - timedelta(days=rng.randrange(1, 40)), day - timedelta(days=1)),
                    (day, day + timedelta(days=rng.randrange(40))),
                    (day + timedelta(days=1), day + timedelta(days=rng.randrange(1, 40))),
                )
            )
            period = periods.date_range(start, end)
            dates = [day - timedelta(days=1), day, day + timedelta(days=1), period.end]
        for d in dates or report_dates(rng, period):
            for bureau in scopes(rng):
                # Half the calls as the endpoint runs them, on more connections (the pool
                # stands in for them): a period over SPLIT_SUBMISSIONS_DAYS then has its
                # submissions read in two halves.
                got = await figures(db, config, bureau, period, d, also=(db,) * (n % 4 // 2))
                want = ref.figures(bureau, period.start, period.end, d)
                where = f"{bureau} {period.label} D={d}"
                actual = RefFigures(
                    matters=got.matters,
                    submissions=got.submissions,
                    person_visits=got.person_visits,
                    closure=ratio(got.closure_rate),
                    cessation=ratio(got.cessation_rate),
                    justified_to_city=got.justified_to_city,
                    on_time=ratio(got.on_time_rate),
                    average_cycle=got.average_handling_cycle_days,
                    cycle_cases=got.handling_cycle_cases,
                    zero_petition=tuple(b.code for b in got.zero_petition_sub_bureaus),
                    timely_acceptance=ratio(got.timely_acceptance_rate),
                    satisfaction=ratio(got.satisfaction_rate),
                    first_petition_resolution=ratio(got.first_petition_resolution_rate),
                    repeat_rate=ratio(got.repeat_petition_rate),
                )
                sql, python = asdict(actual), asdict(want)
                wrong = {
                    name: (sql[name], python[name]) for name in sql if sql[name] != python[name]
                }
                assert not wrong, f"{where}: SQL vs reference {wrong}"
                checked += 1
    return checked


async def check_months(
    db: asyncpg.Pool, config: BureauConfig, ref: Reference, rng: random.Random
) -> None:
    for _ in range(4):
        last = periods.month_of(rng.choice((2026, 2027)), rng.randrange(1, 13))
        months = [periods.shift_months(last, k) for k in range(-11, 1)]
        for bureau in scopes(rng):
            got = await monthly_series(db, config, bureau, last)
            actual = [
                (p.month, p.matters, p.submissions, p.person_visits, p.justified_to_city)
                for p in got
            ]
            assert actual == ref.monthly(bureau, [(m.start, m.end, m.label) for m in months]), (
                f"{bureau} months to {last.label}"
            )
        month = months[rng.randrange(12)]
        got_city = await to_city_by_sub_bureau(db, config, month)
        assert got_city == ref.to_city(month.start, month.end), f"to city in {month.label}"
        # The roster: the most justified petitions to the city above zero, then the most
        # petitions to the city, then the lower code; three of them.
        ranked = sorted(
            (
                (code, justified, total)
                for code, (justified, total) in ref.to_city(month.start, month.end).items()
                if justified > 0 and code in ref.sub_bureaus
            ),
            key=lambda item: (-item[1], -item[2], item[0]),
        )
        roster = await accompany_roster(db, config, month)
        assert [
            (e.sub_bureau.code, e.justified_to_city, e.submissions_to_city) for e in roster.roster
        ] == ranked[:3], f"roster counted in {month.label}"


async def check_bulletins(
    db: asyncpg.Pool,
    config: BureauConfig,
    calendar: WorkCalendar,
    ref: Reference,
    rng: random.Random,
) -> None:
    for _ in range(8):
        week = periods.week_of(date(2026, 1, 5) + timedelta(days=rng.randrange(540)))
        as_of = week.start + timedelta(days=rng.choice((0, 3, 6, 9, -4)))
        horizon = calendar.add_working_days(as_of, 5)
        for bureau in scopes(rng):
            got = await weekly_bulletin(db, config, calendar, VIEWER, bureau, week, as_of, None)
            want = ref.bulletin(bureau, week.start, week.end, as_of, horizon)
            where = f"{bureau} {week.label} as of {as_of}"
            rows = {
                r.sub_bureau.code: {
                    "new_cases": r.new_cases,
                    "submissions": r.submissions,
                    "replied": r.replied,
                    "open_cases": r.open_cases,
                    "overdue": r.overdue,
                    "due_soon": r.due_soon,
                    "missing_progress": r.missing_progress,
                }
                for r in got.by_sub_bureau
            }
            considered = [s.code for s in config.sub_bureaus if config.covers(bureau, s.code)]
            zero = dict.fromkeys(next(iter(rows.values())), 0) if rows else {}
            expected = {code: dict(zero) for code in considered}
            for code, counts in want.items():
                expected[code] = {k: v for k, v in counts.items() if k != "person_visits"}
            assert rows == expected, where
            totals = (got.new_cases, got.submissions, got.person_visits, got.replied)
            assert totals == tuple(
                sum(c[k] for c in want.values())
                for k in ("new_cases", "submissions", "person_visits", "replied")
            ), where
            ids = ref.list_ids(bureau, week.start, week.end, as_of, horizon)
            for name, listed in (
                ("overdue", got.overdue),
                ("due_soon", got.due_soon),
                ("missing_progress", got.missing_progress),
            ):
                assert listed.total == len(ids[name]), f"{where} {name} total"
                assert {b.case_id for b in listed.rows} == ids[name], f"{where} {name}"
            want_rates = ref.figures(bureau, week.start, week.end, as_of)
            assert ratio(got.rates.first_petition_resolution_rate) == (
                want_rates.first_petition_resolution
            ), where
            assert ratio(got.rates.timely_acceptance_rate) == want_rates.timely_acceptance, where
            assert ratio(got.rates.satisfaction_rate) == want_rates.satisfaction, where
            assert ratio(got.rates.repeat_petition_rate) == want_rates.repeat_rate, where


@pytest.mark.parametrize("seed", SEEDS)
async def test_the_figures_sql_agrees_with_the_domain_reference(
    seed: int, db: asyncpg.Pool, bureaus: tuple[BureauConfig, WorkCalendar]
) -> None:
    config, calendar = bureaus
    stories = histories(seed, CASES)
    await fold_into(db, stories)
    ref = Reference((facts_of(s) for s in stories), [s.code for s in config.sub_bureaus])
    rng = random.Random(seed * 7 + 1)
    assert await check_figures(db, config, ref, rng) > 100
    await check_months(db, config, ref, rng)
    await check_bulletins(db, config, calendar, ref, rng)
