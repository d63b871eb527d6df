"""Lists taken away are recorded (issue 11, item 10): every page of the ledger read and every
report downloaded as a file appends who, role, bureau, what (report, format, query, rows) and
when to the reader's bureau's ``exports-<bureau>-<YYYY-MM>`` stream before the answer; auditors
list them, within the one scope rule."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from reporting.adapters.postgres import PostgresCaseFinder
from reporting.audit import Audit
from reporting.entrypoints import audit
from reporting.entrypoints.http import router

from tests.conftest import Clock, Token
from tests.support.reporting_fixtures import CITY, D, demo_config, march_2026, reporting_pool

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": CITY, "user": "office-01"}
HEAD_D = {"role": "sub_bureau_head", "bureau": D, "user": "head-d"}
AUDITOR = {"role": "auditor", "bureau": CITY, "user": "auditor-1"}
AUDITOR_D = {"role": "auditor", "bureau": D, "user": "auditor-d"}


@pytest.fixture
async def http(
    database_url: str, issuer: LocalIssuer, clock: Clock, store: EventStore
) -> AsyncIterator[httpx.AsyncClient]:
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    async with reporting_pool(database_url) as pool:
        await march_2026(pool)
        app = FastAPI()
        install_auth_errors(app)
        auth = authenticate(lambda: verifier)
        app.include_router(
            router(lambda: pool, config, calendar, auth, clock=clock, store=lambda: store)
        )
        finder = PostgresCaseFinder(store, pool)
        app.include_router(
            audit.router(lambda: store, lambda: Audit(store, finder), auth, config=config)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as client:
            yield client


async def test_ledger_pages_and_exports_are_recorded_and_listed_for_auditors(
    http: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    # The test clock: Wednesday 2026-11-04 in Asia/Shanghai.
    page = await http.get(
        "/api/v1/reports/ledger",
        params={"sub_bureau": D, "limit": 5, "as_of": "2026-04-30"},
        headers=auth(**OFFICE),
    )
    assert page.status_code == 200, page.text
    xlsx = await http.get("/api/v1/reports/ledger.xlsx", headers=auth(**OFFICE))
    assert xlsx.status_code == 200
    monthly = await http.get(
        "/api/v1/reports/monthly/2026-03.csv",
        params={"as_of": "2026-04-30"},
        headers=auth(**OFFICE),
    )
    assert monthly.status_code == 200, monthly.text
    mine = await http.get("/api/v1/reports/ledger.csv", headers=auth(**HEAD_D))
    assert mine.status_code == 200

    city = await store.read_stream(f"exports-{CITY}-2026-11", reveal=False)
    assert [(e.data.report, e.data.format, e.actor) for e in city] == [
        ("ledger", "json", "office-01"),
        ("ledger", "xlsx", "office-01"),
        ("monthly", "csv", "office-01"),
    ]
    first = city[0].data
    assert (first.reader, first.role, first.reader_bureau) == ("office-01", "petition_office", CITY)
    assert first.parameters == {
        "filters.sub_bureau": D,
        "as_of": "2026-04-30",
        "offset": "0",
    }
    assert first.rows == len(page.json()["rows"])
    assert city[1].data.rows == 8  # the March fixture's eight cases, as the workbook holds
    (head,) = await store.read_stream(f"exports-{D}-2026-11", reveal=False)
    assert (head.data.reader, head.data.reader_bureau, head.data.rows) == ("head-d", D, 0)

    listed = await http.get(
        "/api/v1/audit/exports", params={"month": "2026-11"}, headers=auth(**AUDITOR)
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["verified"] is True
    assert [(x["report"], x["format"]) for x in body["exports"]] == [
        ("ledger", "json"),
        ("ledger", "xlsx"),
        ("monthly", "csv"),
    ]
    # The city's auditors see a sub-bureau's record; a sub-bureau's auditor not the city's.
    of_d = await http.get(
        "/api/v1/audit/exports", params={"month": "2026-11", "bureau": D}, headers=auth(**AUDITOR)
    )
    assert [x["reader"] for x in of_d.json()["exports"]] == ["head-d"]
    refused = await http.get(
        "/api/v1/audit/exports",
        params={"month": "2026-11", "bureau": CITY},
        headers=auth(**AUDITOR_D),
    )
    assert refused.status_code == 403
    nothing = await http.get(
        "/api/v1/audit/exports", params={"month": "2026-10"}, headers=auth(**AUDITOR)
    )
    assert nothing.json() == {"bureau": CITY, "month": "2026-10", "verified": None, "exports": []}
