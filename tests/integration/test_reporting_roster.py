"""The accompany roster is published, not recomputed (issue 15): published once for a month at
its start, from the month before as it stood then, as ``reporting.AccompanyRosterPublished`` on
``roster-3301-<YYYY-MM>``; a later outcome changes what the roster would be now, which the
report shows beside the published one. Fixture: ``march_2026`` (hand-computed below)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
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
from reporting.roster import SCHEDULER, publish_current, publish_monthly

from tests.conftest import Clock, Token
from tests.support.reporting_fixtures import (
    CITY,
    ROOT,
    A,
    B,
    D,
    add_case,
    add_submission,
    demo_config,
    local,
    march_2026,
    reporting_pool,
)

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


async def test_the_monthly_analysis_shows_the_published_roster(
    api: tuple[httpx.AsyncClient, asyncpg.Pool], auth: Token, clock: Clock
) -> None:
    http, pool = api
    march = await march_2026(pool)
    clock.now = datetime(2026, 4, 1, 1, tzinfo=UTC)  # 2026-04-01 09:00 Shanghai
    done = await http.post(f"{ROSTER}/publish", params=APRIL, headers=auth(**OFFICE))
    assert done.status_code == 200, done.text
    # In May D's accusation is judged justified: now D would join (see above); March's analysis
    # shows both, the published roster binding.
    await pool.execute("UPDATE cases SET justified = true WHERE case_id = $1", march.cases["c7"])
    clock.now = datetime(2026, 5, 6, 2, tzinfo=UTC)
    answer = await http.get(
        "/api/v1/reports/monthly/2026-03", params={"as_of": "2026-05-06"}, headers=auth(**OFFICE)
    )
    assert answer.status_code == 200, answer.text
    roster = answer.json()["roster"]
    assert roster["applies_to"] == "2026-04"
    assert counts(roster["roster"]) == [(B, 2, 3), (A, 1, 1), (D, 1, 1)]
    assert counts(roster["published"]["roster"]) == PUBLISHED
    assert roster["published"]["published_on"] == "2026-04-01"

    xlsx = await http.get(
        "/api/v1/reports/monthly/2026-03.xlsx",
        params={"as_of": "2026-05-06"},
        headers=auth(**OFFICE),
    )
    rows = [
        r
        for r in load_workbook(io.BytesIO(xlsx.content))["陪同接访 Roster"].iter_rows(
            values_only=True
        )
        if isinstance(r[1], int)
    ]
    published_label = "已发布 published 2026-04-01 (office-01)"
    now_label = "现在计算 as it would be now"
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in rows] == [
        (published_label, 1, "鼓楼分局", 2, 3),
        (published_label, 2, "江城分局", 1, 1),
        (now_label, 1, "鼓楼分局", 2, 3),
        (now_label, 2, "江城分局", 1, 1),
        (now_label, 3, "望江分局", 1, 1),
    ]

    # Before anything is published for a month, the analysis says so (null).
    february = await http.get(
        "/api/v1/reports/monthly/2026-02", params={"as_of": "2026-05-06"}, headers=auth(**OFFICE)
    )
    assert february.json()["roster"]["published"] is None


async def test_the_service_publishes_the_month_s_roster_itself(
    database_url: str, store: EventStore
) -> None:
    config, _ = demo_config()
    async with reporting_pool(database_url) as pool:
        # Read models without a single submission in February (not loaded yet): March's roster
        # is not published automatically, empty and for good.
        clock = Clock(datetime(2026, 3, 2, 1, tzinfo=UTC))
        assert await publish_current(store, pool, config, clock) == (None, False)
        assert await store.read_stream(f"roster-{CITY}-2026-03", reveal=False) == []
        await march_2026(pool)
        # 23:59 on Tuesday 31 March in Shanghai (15:59 UTC): April's roster is not due; the
        # task publishes March's (missing too), never April's early.
        clock.now = datetime(2026, 3, 31, 15, 59, tzinfo=UTC)
        _, created = await publish_current(store, pool, config, clock)
        assert created
        assert await store.read_stream(f"roster-{CITY}-2026-04", reveal=False) == []

        # 00:30 on 1 April in Shanghai is still 31 March in UTC: April's roster is due. While
        # the projection has events pending, the task waits: nothing is published.
        clock.now = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
        looks = 0
        waiting = asyncio.Event()

        def catching_up() -> bool:
            nonlocal looks
            looks += 1
            if looks == 3:
                waiting.set()  # three rounds not ready: enough
            return False

        await publish_monthly(
            store, pool, config, clock, interval=0.01, stop=waiting, ready=catching_up
        )
        assert looks == 3
        assert await store.read_stream(f"roster-{CITY}-2026-04", reveal=False) == []

        stop = asyncio.Event()
        checks = 0

        def counted() -> bool:
            nonlocal checks
            checks += 1
            return True

        task = asyncio.create_task(
            publish_monthly(store, pool, config, clock, interval=0.01, stop=stop, ready=counted)
        )
        try:
            deadline = asyncio.get_running_loop().time() + 30
            while not await store.read_stream(f"roster-{CITY}-2026-04", reveal=False):
                assert asyncio.get_running_loop().time() < deadline, "never published"
                await asyncio.sleep(0.05)
            # Three further checks after the publication: they must append nothing.
            published_at = checks
            while checks < published_at + 3:
                assert asyncio.get_running_loop().time() < deadline, "no further checks"
                await asyncio.sleep(0.01)
        finally:
            stop.set()
            await task
        (event,) = await store.read_stream(f"roster-{CITY}-2026-04", reveal=False)
        assert event.actor == SCHEDULER
        assert (event.data.applies_to, event.data.counted_month) == ("2026-04", "2026-03")
        assert event.data.published_on == date(2026, 4, 1)
        assert [(c.sub_bureau, c.justified_to_city) for c in event.data.roster] == [(B, 2), (A, 1)]

        _, again = await publish_current(store, pool, config, clock)
        assert not again


async def test_the_operator_command_publishes_a_roster_once(
    database_url: str, store: EventStore
) -> None:
    # April 2020 (a month long past whatever day the test runs): one justified petition from
    # A to the city bureau, so May 2020's roster is A's head alone.
    async with reporting_pool(database_url) as pool:
        case = await add_case(
            pool, sub_bureau=A, received_at=local(date(2020, 4, 8)), justified=True
        )
        await add_submission(pool, case, received_at=local(date(2020, 4, 8)), receiving_bureau=CITY)
        # The command reads as the services' role, as the service's own migration arranges.
        await pool.execute(
            "GRANT USAGE ON SCHEMA reporting TO petitions_app; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO petitions_app"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")}
    env["PETITIONS_DATABASE_URL"] = database_url
    env["PETITIONS_BUREAU_CONFIG"] = str(ROOT / "deploy/config/bureaus.demo.toml")

    def publish(month: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reporting", "publish-roster", "--for-month", month],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = await asyncio.to_thread(publish, "2020-05")
    assert first.returncode == 0, first.stderr
    assert "已发布 published now" in first.stdout
    assert "江城分局 (330102)" in first.stdout
    second = await asyncio.to_thread(publish, "2020-05")
    assert second.returncode == 0, second.stderr
    assert "此前已发布 published before" in second.stdout
    (event,) = await store.read_stream(f"roster-{CITY}-2020-05", reveal=False)
    assert [
        (c.sub_bureau, c.justified_to_city, c.submissions_to_city) for c in event.data.roster
    ] == [(A, 1, 1)]

    bad = await asyncio.to_thread(publish, "2020-13")
    assert bad.returncode == 2
    assert "2020-13" in bad.stderr
