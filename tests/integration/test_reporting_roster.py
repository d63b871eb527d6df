"""The accompany roster is published, not recomputed (issue 15): published once for a month at
its start, from the month before as it stood then, as ``reporting.AccompanyRosterPublished`` on
``roster-3301-<YYYY-MM>``; a later outcome changes what the roster would be now, which the
report shows beside the published one. Fixture: ``march_2026`` (hand-computed below)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from petitions.eventstore import EventStore
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
from tests.support.reporting_fixtures import CITY, A, B, D, demo_config, march_2026, reporting_pool

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": CITY, "user": "office-01"}
HEAD_A = {"role": "sub_bureau_head", "bureau": A, "user": "head-a"}
HANDLER = {"role": "handler", "bureau": CITY, "user": "handler-01"}
ROSTER = "/api/v1/reports/accompany-roster"
APRIL = {"for_month": "2026-04"}

# March 2026 at the city bureau (march_2026): B's c4 is justified, 2 submissions (3-20 and the
# repeat on 3-25), and its c3 is not (1): B 2 justified of 3. A's c1, justified: 1 of 1. D's
# accusation c7, not justified: 0 of 1. C's c5 arrived on April 1 local: not March.
PUBLISHED = [(B, 2, 3), (A, 1, 1)]


def counts(entries: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [
        (e["sub_bureau"]["code"], e["justified_to_city"], e["submissions_to_city"]) for e in entries
    ]


@pytest.fixture
async def api(
    database_url: str, issuer: LocalIssuer, clock: Clock, store: EventStore
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
                store=lambda: store,
            )
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
            yield http, pool


async def test_the_roster_is_published_once_and_kept_as_outcomes_arrive(
    api: tuple[httpx.AsyncClient, asyncpg.Pool], auth: Token, clock: Clock, store: EventStore
) -> None:
    http, pool = api
    march = await march_2026(pool)
    publish = f"{ROSTER}/publish"

    # On Tuesday 2026-03-31 March is not over: April's roster is not published yet.
    clock.now = datetime(2026, 3, 31, 2, tzinfo=UTC)
    early = await http.post(publish, params=APRIL, headers=auth(**OFFICE))
    assert (early.status_code, early.json()["error"]) == (409, "roster_not_due"), early.text
    before = await http.get(ROSTER, params=APRIL, headers=auth(**OFFICE))
    assert before.json()["published"] is None

    # Only the city bureau's petition office (or an admin) publishes.
    clock.now = datetime(2026, 4, 1, 1, tzinfo=UTC)  # Wednesday 2026-04-01, 09:00 Shanghai
    for who in (HANDLER, HEAD_A):
        refused = await http.post(publish, params=APRIL, headers=auth(**who))
        assert refused.status_code == 403, refused.text

    done = await http.post(publish, params=APRIL, headers=auth(**OFFICE))
    assert done.status_code == 200, done.text
    published = done.json()["published"]
    assert (published["published_on"], published["published_by"]) == ("2026-04-01", "office-01")
    assert counts(published["roster"]) == counts(published["candidates"]) == PUBLISHED

    # In May, D's accusation is judged justified: the roster April would have now gains D
    # (1 of 1, tied with A on both counts; A's lower code first). The published one stands.
    await pool.execute("UPDATE cases SET justified = true WHERE case_id = $1", march.cases["c7"])
    clock.now = datetime(2026, 5, 6, 2, tzinfo=UTC)
    shown = (await http.get(ROSTER, params=APRIL, headers=auth(**OFFICE))).json()
    assert counts(shown["roster"]) == [(B, 2, 3), (A, 1, 1), (D, 1, 1)]
    assert counts(shown["published"]["roster"]) == PUBLISHED
    assert shown["published"]["published_on"] == "2026-04-01"

    # Publishing again returns what was published: one event on the month's stream.
    again = await http.post(publish, params=APRIL, headers=auth(**OFFICE))
    assert again.status_code == 200, again.text
    assert again.json()["published"] == published
    (event,) = await store.read_stream(f"roster-{CITY}-2026-04", reveal=False)
    assert event.event_type == "reporting.AccompanyRosterPublished"
    assert (event.data.counted_month, event.data.published_on) == ("2026-03", date(2026, 4, 1))

    # A sub-bureau sees the published roster, not the ranking behind it.
    head = (await http.get(ROSTER, params=APRIL, headers=auth(**HEAD_A))).json()
    assert counts(head["published"]["candidates"]) == PUBLISHED
