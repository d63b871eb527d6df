"""Leader ownership (包案) at every level, end to end: a sub-bureau's head puts one of its leaders
on a case through assignment's API (another bureau's leader is refused, nothing written), records
the party committee's decision, and reporting's ledger, live through NATS and rebuilt from the
store, shows the owning leader, the team and the decision (content masked) in JSON and XLSX."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
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
from petitions.messaging import NatsAccess
from reporting.entrypoints.http import router
from reporting.projections import create_read_pool, migrate, projection_consumer, rebuild

from tests.conftest import Clock, Token
from tests.integration.test_assignment_api import event_types, register, today
from tests.integration.test_reporting_projections import running
from tests.support.assignment import Who, command
from tests.support.reporting_fixtures import demo_config

pytestmark = pytest.mark.integration

ROLE = "petitions_app"
OFFICE: Who = {"role": "petition_office", "bureau": "3301", "user": "office-01"}
HEAD: Who = {"role": "sub_bureau_head", "bureau": "330102", "user": "head330102"}
DEPUTY: Who = {"role": "leader", "bureau": "330102", "user": "330102-L3"}
CONTENT = "同意专班化解方案，由分局政委牵头约谈信访人"


@pytest.fixture
async def read_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_url, role=ROLE)
    pool = await create_read_pool(database_url, role=ROLE, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def reporting(
    read_pool: asyncpg.Pool, issuer: LocalIssuer, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    app = FastAPI()
    install_auth_errors(app)
    app.include_router(
        router(lambda: read_pool, config, calendar, authenticate(lambda: verifier), clock=clock)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
        yield http


async def ledger_row(reporting: httpx.AsyncClient, auth: Token, number: str) -> dict[str, Any]:
    response = await reporting.get(
        "/api/v1/reports/ledger", params={"case_number": number}, headers=auth(**OFFICE)
    )
    assert response.status_code == 200, response.text
    (row,) = response.json()["rows"]
    return dict(row)


async def until_decided(
    reporting: httpx.AsyncClient, auth: Token, number: str, seconds: float = 30
) -> dict[str, Any]:
    """Poll the ledger until the decision has come through NATS into the read models."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        response = await reporting.get(
            "/api/v1/reports/ledger", params={"case_number": number}, headers=auth(**OFFICE)
        )
        rows = response.json().get("rows", []) if response.status_code == 200 else []
        if rows and rows[0]["committee_decisions"]:
            return dict(rows[0])
        if loop.time() > deadline:
            raise AssertionError(f"the decision never reached the ledger: {response.text}")
        await asyncio.sleep(0.1)


async def test_a_sub_bureau_leader_owns_the_case_and_the_ledger_shows_team_and_decision(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
    read_pool: asyncpg.Pool,
    reporting_nats: NatsAccess,
) -> None:
    keyless = EventStore(store.pool)
    consumer = projection_consumer(read_pool, keyless, reporting_nats)
    async with running(consumer):
        case = await register(client, assignment, auth, 41)
        case_id, number = case["case_id"], case["case_number"]
        await command(assignment, auth, case_id, "accept", {"notice": "予以受理"})
        before = await event_types(store, case_id)

        # Another sub-bureau's head may not own it: 422 naming the field, nothing written.
        refused = await command(
            assignment,
            auth,
            case_id,
            "take_ownership",
            {"leader_id": "330103-head", "team": ["李所长"], "plan": "包案"},
            **HEAD,
            status=422,
        )
        assert (refused["error"], refused["field"]) == ("leader_not_of_case", "leader_id")
        assert "鼓楼分局" in refused["message"]
        assert "330103" in refused["message"]
        # Nor can the sub-bureau put a city leader on it (that is the city's to do).
        await command(
            assignment,
            auth,
            case_id,
            "take_ownership",
            {"leader_id": "L01", "team": ["李所长"], "plan": "包案"},
            **HEAD,
            status=403,
        )
        # No decision before a leader owns it.
        decision = {"decided_on": today(clock), "body": "sub_bureau_committee", "content": CONTENT}
        not_owned = await command(
            assignment, auth, case_id, "record_committee_decision", decision, **HEAD, status=409
        )
        assert not_owned["error"] == "not_owned"
        assert await event_types(store, case_id) == before

        done = await command(
            assignment,
            auth,
            case_id,
            "take_ownership",
            {"leader_id": "330102-L3", "team": ["李所长", "王警官", "330102"], "plan": "一案一策"},
            **HEAD,
        )
        assert done["case"]["leader_id"] == "330102-L3"
        assert "record_committee_decision" in done["case"]["allowed_commands"]
        # The owning deputy sees the case among the cases he owns.
        mine = await assignment.get("/api/v1/cases/leader-owned", headers=auth(**DEPUTY))
        assert mine.status_code == 200, mine.text
        assert [row["case_id"] for row in mine.json()] == [case_id]

        await command(assignment, auth, case_id, "record_committee_decision", decision, **HEAD)
        assert (await event_types(store, case_id))[-2:] == [
            "assignment.LeaderOwnershipTaken",
            "assignment.PartyCommitteeDecisionRecorded",
        ]
        live = await until_decided(reporting, auth, number)

    assert live["owning_leader"] == "赵卫国"
    assert (live["owning_leader_id"], live["owning_leader_bureau"]) == ("330102-L3", "330102")
    assert live["owning_leader_bureau_name"] == "江城分局"
    # A member given as a configured unit's code reads as the unit's name.
    assert live["leader_team"] == ["李所长", "王警官", "江城分局"]
    (decided,) = live["committee_decisions"]
    assert decided["decided_on"] == today(clock)
    assert (decided["body"], decided["body_name"]) == ("sub_bureau_committee", "分局党委")
    # Free text is sealed under the petitioner's key: reporting only ever holds it masked.
    assert decided["content"]
    assert CONTENT not in decided["content"]
    assert CONTENT[:4] not in decided["content"]

    xlsx = await reporting.get(
        "/api/v1/reports/ledger.xlsx", params={"case_number": number}, headers=auth(**OFFICE)
    )
    assert xlsx.status_code == 200, xlsx.text
    values = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
    at = next(i for i, row in enumerate(values) if row[0] == "案件编号 Case number")
    header, (row,) = values[at], values[at + 1 :]
    assert row[header.index("包案领导 Owning leader")] == "赵卫国"
    assert row[header.index("专班成员 Team")] == "李所长、王警官、江城分局"
    assert row[header.index("党委研究决定次数 Committee decisions")] == 1  # a number, not text
    cell = row[
        header.index("党委研究决定（日期 机关：内容） Committee decisions (date body: content)")
    ]
    assert str(cell).startswith(f"{today(clock)} 分局党委：")
    assert CONTENT not in str(cell)

    # A rebuild from the store gives the same ledger row.
    await rebuild(keyless, read_pool, progress=False)
    assert await ledger_row(reporting, auth, number) == live
