"""Issue 15's additions to the reports, through the HTTP API, on hand-built read-model rows with
every expected figure worked out by hand: missed reception sessions per leader; the monthly
analysis's breakdowns (category, sub-category, channel, skip-level, hot issues)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
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
from tests.support.reporting_fixtures import CITY, A, add_session, demo_config, reporting_pool

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": CITY, "user": "office-01"}
HEAD_A = {"role": "sub_bureau_head", "bureau": A, "user": "head-a"}
NO_REASON = "未说明原因 no reason given"


class Api:
    def __init__(self, http: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
        self.http = http
        self.pool = pool


@pytest.fixture
async def api(database_url: str, issuer: LocalIssuer, clock: Clock) -> AsyncIterator[Api]:
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    async with reporting_pool(database_url) as pool:
        app = FastAPI()
        install_auth_errors(app)
        app.include_router(
            router(lambda: pool, config, calendar, authenticate(lambda: verifier), clock=clock)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
            yield Api(http, pool)


async def test_missed_sessions_are_reported_per_leader(api: Api, auth: Token) -> None:
    # March 2026. The chief (L01) misses three Wednesdays (meeting, sick leave, meeting) and
    # holds one; deputy L02 holds Monday 2 March and misses Monday 9 March without a reason;
    # A's head misses Wednesday 4 March (away on business). A session in April is outside.
    city = [
        ("L01", "陈卫东", date(2026, 3, 4), "held", True, None),
        ("L01", "陈卫东", date(2026, 3, 11), "missed", True, "参加会议"),
        ("L01", "陈卫东", date(2026, 3, 18), "missed", True, "病假"),
        ("L01", "陈卫东", date(2026, 3, 25), "missed", True, "参加会议"),
        ("L02", "朱宏伟", date(2026, 3, 2), "held", False, None),
        ("L02", "朱宏伟", date(2026, 3, 9), "missed", False, None),
        ("L02", "朱宏伟", date(2026, 4, 6), "missed", False, "出差"),
    ]
    for leader_id, name, day, state, chief_day, reason in city:
        await add_session(
            api.pool,
            bureau=CITY,
            day=day,
            leader_id=leader_id,
            leader_name=name,
            state=state,
            chief_day=chief_day,
            missed_reason=reason,
        )
    await add_session(
        api.pool,
        bureau=A,
        day=date(2026, 3, 4),
        leader_id="330102-head",
        leader_name="王建军",
        state="missed",
        chief_day=True,
        missed_reason="出差",
    )

    answer = await api.http.get(
        "/api/v1/reports/reception", params={"month": "2026-03"}, headers=auth(**OFFICE)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # The bureau-wide view as before: 5 missed, 参加会议 2, then 1 each in code-point order
    # (出 U+51FA, 未 U+672A, 病 U+75C5).
    assert body["missed"] == 5
    assert [(r["reason"], r["sessions"]) for r in body["missed_reasons"]] == [
        ("参加会议", 2), ("出差", 1), (NO_REASON, 1), ("病假", 1),
    ]  # fmt: skip
    leaders = {row["leader_id"]: row for row in body["by_leader"]}
    assert list(leaders) == ["L01", "L02", "330102-head"]  # city bureau (3301) first
    chief = leaders["L01"]
    assert (chief["sessions"], chief["held"], chief["missed"]) == (4, 1, 3)
    assert [(r["reason"], r["sessions"]) for r in chief["missed_reasons"]] == [
        ("参加会议", 2), ("病假", 1),
    ]  # fmt: skip
    assert [(s["day"], s["chief_day"], s["reason"]) for s in chief["missed_sessions"]] == [
        ("2026-03-11", True, "参加会议"),
        ("2026-03-18", True, "病假"),
        ("2026-03-25", True, "参加会议"),
    ]
    deputy = leaders["L02"]
    assert [(s["day"], s["chief_day"], s["reason"]) for s in deputy["missed_sessions"]] == [
        ("2026-03-09", False, NO_REASON)
    ]
    assert [(r["reason"], r["sessions"]) for r in deputy["missed_reasons"]] == [(NO_REASON, 1)]
    head = leaders["330102-head"]
    assert head["bureau"]["code"] == A
    assert [(s["day"], s["reason"]) for s in head["missed_sessions"]] == [("2026-03-04", "出差")]

    # A's head sees A's sessions only.
    own = await api.http.get(
        "/api/v1/reports/reception", params={"month": "2026-03"}, headers=auth(**HEAD_A)
    )
    assert [row["leader_id"] for row in own.json()["by_leader"]] == ["330102-head"]
