"""The seed's practices measured (issue 15), through the HTTP API on hand-built read-model rows.

The city began the practices on 2026-01-01 (configured); report date 2026-05-15, so the last
month over is April 2026: the before window is July-December 2025, the after window January-April
2026 (4 months). Every expected figure below is worked out by hand (reporting.queries.practices
defines them)."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from petitions.identity import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    LocalIssuer,
    StaticJwks,
    TokenVerifier,
    authenticate,
    install_auth_errors,
)
from reporting.entrypoints.http import router

from tests.conftest import Clock, Token
from tests.support.reporting_fixtures import (
    CITY,
    B,
    C,
    D,
    add_case,
    add_session,
    add_submission,
    demo_config,
    local,
    reporting_pool,
)

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": CITY, "user": "office-01"}
HEAD_B = {"role": "sub_bureau_head", "bureau": B, "user": "head-b"}
PRACTICES = "/api/v1/reports/practices"
AS_OF = {"as_of": "2026-05-15"}


@pytest.fixture
async def api(
    database_url: str, issuer: LocalIssuer, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Pool]]:
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    async with reporting_pool(database_url) as pool:
        app = FastAPI()
        install_auth_errors(app)
        app.include_router(
            router(
                lambda: pool,
                config,
                calendar,
                authenticate(lambda: verifier),
                clock=clock,
                practices_since={CITY: date(2026, 1, 1)},
            )
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
            yield http, pool


async def seed(db: asyncpg.Pool) -> None:
    """To the city bureau: B 2025-11-10 (b0, not justified, replied 11-25, a repeat at B on
    2026-01-10 after the reply); B 2025-12-03 and 12-17 (b1, justified, replied 12-20: the
    repeat came before the reply); C 2026-02-11 (c1, justified, replied 02-25); B 2026-03-09 (b2,
    not justified, replied 03-20). Rosters from January: Jan counts December: B; Feb: none;
    Mar counts February: C; Apr counts March: none (b2 is not justified).

    Chief's sessions at the city (on cases of D, never on a roster): 2025-11-05 2 visits (1 and
    3 people), 2025-12-03 1 visit, 2026-01-07 2 visits (one of them case d3, replied 01-20 with a
    repeat at D on 04-02: not resolved), 2026-03-04 2 visits; a Monday session 2026-02-02 with 1
    visit (not the chief's) and a chief's Wednesday 2026-04-01 missed."""

    async def to_city(case: uuid.UUID, day: date, **columns: Any) -> None:
        await add_submission(db, case, received_at=local(day), receiving_bureau=CITY, **columns)

    b0 = await add_case(
        db, sub_bureau=B, received_at=local(date(2025, 11, 10)), replied_on=date(2025, 11, 25)
    )
    await to_city(b0, date(2025, 11, 10))
    await add_submission(
        db, b0, received_at=local(date(2026, 1, 10)), receiving_bureau=B, is_repeat=True
    )
    b1 = await add_case(
        db,
        sub_bureau=B,
        received_at=local(date(2025, 12, 3)),
        justified=True,
        replied_on=date(2025, 12, 20),
    )
    await to_city(b1, date(2025, 12, 3))
    await to_city(b1, date(2025, 12, 17), is_repeat=True)
    c1 = await add_case(
        db,
        sub_bureau=C,
        received_at=local(date(2026, 2, 11)),
        justified=True,
        replied_on=date(2026, 2, 25),
    )
    await to_city(c1, date(2026, 2, 11))
    b2 = await add_case(
        db, sub_bureau=B, received_at=local(date(2026, 3, 9)), replied_on=date(2026, 3, 20)
    )
    await to_city(b2, date(2026, 3, 9))

    async def session(day: date, visits: list[int], *, chief: bool = True) -> None:
        held = await add_session(
            db,
            bureau=CITY,
            day=day,
            leader_id="L01" if chief else "L02",
            leader_name="陈卫东" if chief else "朱宏伟",
            state="held",
            chief_day=chief,
        )
        for n, people in enumerate(visits):
            # Any: other columns of the row, not add_case's named parameters (bureau, category).
            columns: dict[str, Any] = (
                {"replied_on": date(2026, 1, 20)} if day == date(2026, 1, 7) and n == 0 else {}
            )
            case = await add_case(db, sub_bureau=D, received_at=local(day), **columns)
            await to_city(case, day, head_count=people, reception_session_id=held)
            if columns:
                await add_submission(
                    db,
                    case,
                    received_at=local(date(2026, 4, 2)),
                    receiving_bureau=D,
                    is_repeat=True,
                )

    await session(date(2025, 11, 5), [1, 3])
    await session(date(2025, 12, 3), [1])
    await session(date(2026, 1, 7), [1, 1])
    await session(date(2026, 3, 4), [2, 1])
    await session(date(2026, 2, 2), [1], chief=False)
    await add_session(
        db,
        bureau=CITY,
        day=date(2026, 4, 1),
        leader_id="L01",
        leader_name="陈卫东",
        state="missed",
        chief_day=True,
        missed_reason="参加会议",
    )


async def test_the_practices_measured_before_and_after(
    api: tuple[httpx.AsyncClient, asyncpg.Pool], auth: Token
) -> None:
    http, pool = api
    await seed(pool)
    answer = await http.get(PRACTICES, params=AS_OF, headers=auth(**OFFICE))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["since"], body["report_date"], body["window_months"]) == (
        "2026-01-01", "2026-05-15", 6,
    )  # fmt: skip

    acc = body["accompany"]
    rows = [
        (
            r["sub_bureau"]["code"],
            r["first_accompanied"],
            r["before_months"],
            r["before_submissions"],
            r["before_average"],
            r["after_months"],
            r["after_submissions"],
            r["after_average"],
            r["change"],
        )
        for r in acc["sub_bureaus"]
    ]
    assert rows == [
        # B first on January's roster: Jul-Dec 2025 had 1 (Nov) + 2 (Dec) = 3 in 6 months;
        # Feb-Apr 2026 had 1 (Mar) in 3: 0.5 -> 1/3, a third less.
        (B, "2026-01", 6, 3, 0.5, 3, 1, 0.3333, -0.3333),
        # C first on March's roster: Sep 2025-Feb 2026 had 1 in 6; April had none.
        (C, "2026-03", 6, 1, 0.1667, 1, 0, 0.0, -1.0),
    ]
    # Together: 0.5 + 1/6 = 2/3 a month before, 1/3 after: down by half.
    assert (acc["before_average"], acc["after_average"], acc["change"]) == (0.6667, 0.3333, -0.5)

    chief = body["chief_reception"]
    assert [(p["month"], p["visits"], p["person_visits"]) for p in chief["before"]] == [
        ("2025-07", 0, 0), ("2025-08", 0, 0), ("2025-09", 0, 0), ("2025-10", 0, 0),
        ("2025-11", 2, 4), ("2025-12", 1, 1),
    ]  # fmt: skip
    assert [(p["month"], p["visits"]) for p in chief["after"]] == [
        ("2026-01", 2), ("2026-02", 0), ("2026-03", 2), ("2026-04", 0),
    ]  # fmt: skip
    # 3 visits in 6 months before, 4 in 4 after: 0.5 -> 1.0 a month, doubled.
    assert (chief["before_average"], chief["after_average"], chief["change"]) == (0.5, 1.0, 1.0)

    res = body["resolution"]
    assert (res["before_from"], res["before_to"], res["after_from"], res["after_to"]) == (
        "2025-07-01", "2025-12-31", "2026-01-01", "2026-04-30",
    )  # fmt: skip
    # Before (judged 2026-01-15, 15 days after its end as the after window is): b0 not resolved
    # (the repeat of 01-10), b1 resolved: 1/2. After: c1, b2 resolved, d3 not: 2/3.
    assert (res["before"]["numerator"], res["before"]["denominator"]) == (1, 2)
    assert (res["after"]["numerator"], res["after"]["denominator"]) == (2, 3)
    assert res["change"] == 0.3333  # (2/3 - 1/2) / (1/2)

    # A sub-bureau measures itself, from the city's date (it has none of its own).
    own = (await http.get(PRACTICES, params=AS_OF, headers=auth(**HEAD_B))).json()
    assert [r["sub_bureau"]["code"] for r in own["accompany"]["sub_bureaus"]] == [B]
    assert own["chief_reception"]["after_average"] == 0.0  # the city's chief is not B's

    # A start after the report date is refused, naming both dates; nothing else changes.
    late = await http.get(
        PRACTICES, params={**AS_OF, "since": "2026-06-01"}, headers=auth(**OFFICE)
    )
    assert (late.status_code, late.json()["error"]) == (422, "invalid_period")
    assert "2026-06-01" in late.json()["message"]


async def test_the_practices_workbook_has_numbers_and_charts(
    api: tuple[httpx.AsyncClient, asyncpg.Pool], auth: Token
) -> None:
    http, pool = api
    await seed(pool)
    xlsx = await http.get(f"{PRACTICES}.xlsx", params=AS_OF, headers=auth(**OFFICE))
    assert xlsx.status_code == 200, xlsx.text
    workbook = load_workbook(io.BytesIO(xlsx.content))
    summary = [r for r in workbook["成效 Summary"].iter_rows() if isinstance(r[1].value, float)]
    chief_row = next(r for r in summary if str(r[0].value).startswith("局长月均"))
    assert (chief_row[1].value, chief_row[2].value, chief_row[3].value) == (0.5, 1.0, 1.0)
    assert chief_row[3].number_format == "0.0%"
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as parts:
        charts = [parts.read(n).decode() for n in parts.namelist() if n.startswith("xl/charts/")]
    assert len(charts) == 2  # accompanied before/after; chiefs' visits by month
    (visits,) = [c for c in charts if "局长接访件次" in c]
    assert '<c:max val="2"/>' in visits  # at most 2 visits a month: ticks 0 1 2
    assert '<c:majorUnit val="1"/>' in visits

    text = await http.get(f"{PRACTICES}.csv", params=AS_OF, headers=auth(**OFFICE))
    assert text.status_code == 200
    assert "实践成效" in text.content.decode("utf-8-sig").splitlines()[0]
