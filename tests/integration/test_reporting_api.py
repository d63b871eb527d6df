"""The reporting HTTP API: scope and roles, Art. 30 in the ledger, and the exports (XLSX opened
back with openpyxl, CSV with its BOM, SVG charts parsed as XML)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from urllib.parse import unquote

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
from reporting import queries
from reporting.entrypoints.http import router
from reporting.entrypoints.http.common import Context
from reporting.projections import create_read_pool
from reporting.queries import periods

from tests.conftest import Clock, Token
from tests.support.reporting_fixtures import CITY, A, B, D, demo_config, march_2026, reporting_pool

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": CITY, "user": "office-01"}
HEAD_A = {"role": "sub_bureau_head", "bureau": A, "user": "head-a"}
HEAD_D = {"role": "sub_bureau_head", "bureau": D, "user": "head-d"}
MARCH = {"month": "2026-03", "as_of": "2026-04-30"}


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


async def test_figures_for_the_city_and_for_a_sub_bureau(api: Api, auth: Token) -> None:
    await march_2026(api.pool)

    city = await api.http.get("/api/v1/reports/figures", params=MARCH, headers=auth(**OFFICE))
    assert city.status_code == 200, city.text
    body = city.json()
    assert (body["matters"], body["submissions"], body["person_visits"]) == (6, 8, 11)
    assert body["closure_rate"] == {"numerator": 3, "denominator": 5, "ratio": 0.6}
    assert body["bureau"] == {"code": CITY, "name": "临江市公安局"}

    # A sub-bureau head gets their own bureau by default.
    own = await api.http.get("/api/v1/reports/figures", params=MARCH, headers=auth(**HEAD_A))
    assert own.status_code == 200, own.text
    assert (own.json()["bureau"]["code"], own.json()["matters"]) == (A, 2)

    ranged = await api.http.get(
        "/api/v1/reports/figures",
        params={"from": "2026-03-01", "to": "2026-03-31", "as_of": "2026-04-30"},
        headers=auth(**OFFICE),
    )
    assert ranged.json()["matters"] == 6


async def test_another_bureaus_figures_are_forbidden(api: Api, auth: Token) -> None:
    other = await api.http.get(
        "/api/v1/reports/figures", params={**MARCH, "bureau": B}, headers=auth(**HEAD_A)
    )
    assert other.status_code == 403
    assert other.json()["error"] == "bureau_out_of_scope"
    assert "管辖范围" in other.json()["message"]
    assert "outside the scope" in other.json()["message"]

    city = await api.http.get(
        "/api/v1/reports/figures", params={**MARCH, "bureau": CITY}, headers=auth(**HEAD_A)
    )
    assert city.status_code == 403

    handler = await api.http.get(
        "/api/v1/reports/figures",
        params={**MARCH, "bureau": A},
        headers=auth(role="handler", bureau=CITY, user="handler-c"),
    )
    assert handler.status_code == 403  # handlers: their own bureau only, even at the city

    registrar = await api.http.get(
        "/api/v1/reports/figures", params=MARCH, headers=auth(role="registrar", bureau=CITY)
    )
    assert registrar.status_code == 403
    assert registrar.json()["error"] == "role_forbidden"

    anonymous = await api.http.get("/api/v1/reports/figures", params=MARCH)
    assert anonymous.status_code == 401


async def test_bad_parameters_say_what_to_write(api: Api, auth: Token) -> None:
    both = await api.http.get(
        "/api/v1/reports/figures",
        params={"month": "2026-03", "week": "2026-W12"},
        headers=auth(**OFFICE),
    )
    assert both.status_code == 422
    assert both.json()["error"] == "invalid_period"
    assert "2026-W12" in both.json()["message"]

    unknown = await api.http.get(
        "/api/v1/reports/figures",
        params={"month": "2026-03", "bureau": "9999"},
        headers=auth(**OFFICE),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_bureau"

    backwards = await api.http.get(
        "/api/v1/reports/figures",
        params={"from": "2026-03-31", "to": "2026-03-01"},
        headers=auth(**OFFICE),
    )
    assert backwards.status_code == 422
    assert "swap" in backwards.json()["message"]

    no_week = await api.http.get("/api/v1/reports/weekly/2026-W60", headers=auth(**OFFICE))
    assert no_week.status_code == 422


async def test_the_ledger_hides_an_accusation_from_the_accused(api: Api, auth: Token) -> None:
    m = await march_2026(api.pool)
    c7 = str(m.cases["c7"])

    async def case_ids(who: dict[str, str], **params: str) -> set[str]:
        response = await api.http.get("/api/v1/reports/ledger", params=params, headers=auth(**who))
        assert response.status_code == 200, response.text
        return {row["case_id"] for row in response.json()["rows"]}

    assert c7 in await case_ids(OFFICE)
    assert c7 not in await case_ids(HEAD_D)
    assert c7 not in await case_ids({"role": "leader", "bureau": CITY, "user": "city-officer-9"})
    assert await case_ids(HEAD_A) == {str(m.cases[k]) for k in ("c1", "c2", "c8")}
    assert await case_ids(OFFICE, congress="true") == {str(m.cases["c4"])}
    # A handler of the city bureau sees the city bureau's own cases (received there), not all.
    city_handler = {"role": "handler", "bureau": CITY, "user": "handler-c"}
    assert await case_ids(city_handler) == {str(m.cases[k]) for k in ("c1", "c3", "c4", "c5", "c7")}

    page = await api.http.get(
        "/api/v1/reports/ledger", params={"limit": 3, "offset": 3}, headers=auth(**OFFICE)
    )
    assert (page.json()["total"], len(page.json()["rows"]), page.json()["offset"]) == (8, 3, 3)
    first_received = page.json()["rows"][0]["first_received_at"]
    assert first_received.endswith("+08:00")


async def test_ledger_exports_open_in_excel_with_chinese_intact(
    api: Api, auth: Token, clock: Clock
) -> None:
    await march_2026(api.pool)
    # 2026-04-30 16:30 UTC is already 1 May in Shanghai: the file is named and dated by the
    # service's clock in Shanghai, not by the machine's day.
    clock.now = datetime(2026, 4, 30, 16, 30, tzinfo=UTC)

    xlsx = await api.http.get("/api/v1/reports/ledger.xlsx", headers=auth(**OFFICE))
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = xlsx.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="ledger_3301_2026-05-01.xlsx"')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "信访台帐_临江市公安局_2026-05-01.xlsx"

    workbook = load_workbook(io.BytesIO(xlsx.content))
    sheet = workbook.worksheets[0]
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header_index = next(i for i, row in enumerate(values) if row[0] == "案件编号 Case number")
    header = values[header_index]
    rows = values[header_index + 1 :]
    assert len(rows) == 8
    assert "所属分县局 Sub-bureau" in header
    sub_bureaus = {row[header.index("所属分县局 Sub-bureau")] for row in rows}
    assert {"江城分局", "鼓楼分局", "清河分局", "望江分局"} == sub_bureaus
    assert "检举控告 / 民警违纪违法" in {row[header.index("问题分类 Category")] for row in rows}
    assert "临江市公安局" in str(values[1][0])
    notes = [str(row[0]) for row in values[:header_index] if row[0]]
    assert "生成日期 Generated on: 2026-05-01 (北京时间 Asia/Shanghai)" in notes
    assert "统计截止日 Report date: 2026-05-01" in notes

    # A sub-bureau head's export holds only their cases and never the accusation against them.
    mine = await api.http.get("/api/v1/reports/ledger.xlsx", headers=auth(**HEAD_D))
    d_rows = list(load_workbook(io.BytesIO(mine.content)).worksheets[0].iter_rows(values_only=True))
    d_header = next(i for i, row in enumerate(d_rows) if row[0] == "案件编号 Case number")
    assert d_rows[d_header + 1 :] == []

    text = await api.http.get("/api/v1/reports/ledger.csv", headers=auth(**OFFICE))
    assert text.status_code == 200
    assert text.content.startswith(b"\xef\xbb\xbf")
    assert text.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    header_row = next(row for row in lines if row and row[0] == "案件编号 Case number")
    assert "身份证号 Resident ID (masked)" in header_row
    assert sum(1 for row in lines if "110105********002X" in row) == 8


async def test_weekly_bulletin_json_and_exports(api: Api, auth: Token) -> None:
    await march_2026(api.pool)

    body = await api.http.get(
        "/api/v1/reports/weekly/2026-W13", params={"as_of": "2026-03-27"}, headers=auth(**OFFICE)
    )
    assert body.status_code == 200, body.text
    assert (body.json()["week"], body.json()["replied"]) == ("2026-W13", 1)

    # One row a page: each list's first page, its total, and a link to follow to the end.
    paged = await api.http.get(
        "/api/v1/reports/weekly/2026-W13",
        params={"as_of": "2026-03-27", "page_size": 1},
        headers=auth(**OFFICE),
    )
    for name in ("overdue", "due_soon", "missing_progress"):
        cases = paged.json()[name]
        seen = [row["case_id"] for row in cases["rows"]]
        while cases["next"] is not None:
            assert cases["next"].startswith(f"/api/v1/reports/weekly/2026-W13/{name}?")
            cases = (await api.http.get(cases["next"], headers=auth(**OFFICE))).json()
            seen += [row["case_id"] for row in cases["rows"]]
        whole = body.json()[name]
        assert seen == [row["case_id"] for row in whole["rows"]]
        assert len(seen) == whole["total"] == cases["total"]
    beyond = await api.http.get(
        "/api/v1/reports/weekly/2026-W13/overdue",
        params={"page": 10**6, "page_size": 500},
        headers=auth(**OFFICE),
    )
    assert beyond.status_code == 422

    xlsx = await api.http.get("/api/v1/reports/weekly/2026-W13.xlsx", headers=auth(**OFFICE))
    assert xlsx.status_code == 200, xlsx.text
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames[0] == "概况 Summary"
    assert "一周一通报" in str(workbook.worksheets[0]["A1"].value)
    assert "一周一通报" in unquote(xlsx.headers["content-disposition"])

    text = await api.http.get("/api/v1/reports/weekly/2026-W13.csv", headers=auth(**HEAD_A))
    assert text.status_code == 200
    assert "江城分局" in text.content.decode("utf-8-sig")


async def test_monthly_analysis_json_exports_and_charts(api: Api, auth: Token) -> None:
    await march_2026(api.pool)

    body = await api.http.get(
        "/api/v1/reports/monthly/2026-03", params={"as_of": "2026-04-30"}, headers=auth(**OFFICE)
    )
    assert body.status_code == 200, body.text
    analysis = body.json()
    assert analysis["figures"]["matters"] == 6
    assert [e["sub_bureau"]["code"] for e in analysis["roster"]["roster"]] == [B, A]

    assert analysis["repeat_cases"]["total"] == 2
    first = await api.http.get(
        "/api/v1/reports/monthly/2026-03",
        params={"as_of": "2026-04-30", "page_size": 1},
        headers=auth(**OFFICE),
    )
    repeats = first.json()["repeat_cases"]
    assert (repeats["total"], len(repeats["rows"])) == (2, 1)
    assert repeats["next"].startswith("/api/v1/reports/monthly/2026-03/repeat_cases?")
    rest = (await api.http.get(repeats["next"], headers=auth(**OFFICE))).json()
    assert (rest["page"], rest["next"]) == (2, None)
    assert [r["case_id"] for r in repeats["rows"] + rest["rows"]] == [
        r["case_id"] for r in analysis["repeat_cases"]["rows"]
    ]

    xlsx = await api.http.get("/api/v1/reports/monthly/2026-03.xlsx", headers=auth(**OFFICE))
    assert xlsx.status_code == 200, xlsx.text
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert "陪同接访 Roster" in workbook.sheetnames
    roster_values = [
        v for row in workbook["陪同接访 Roster"].iter_rows(values_only=True) for v in row
    ]
    assert "鼓楼分局" in roster_values

    text = await api.http.get("/api/v1/reports/monthly/2026-03.csv", headers=auth(**OFFICE))
    assert text.content.startswith(b"\xef\xbb\xbf")
    assert "件次 submissions" in text.content.decode("utf-8-sig")

    for chart in ("submissions", "justified", "trend"):
        svg = await api.http.get(
            f"/api/v1/reports/monthly/2026-03/charts/{chart}.svg", headers=auth(**OFFICE)
        )
        assert svg.status_code == 200, svg.text
        assert svg.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(svg.content)
        texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert any("临江市公安局" in t for t in texts)
        if chart == "submissions":
            assert "江城分局" in texts

    wrong = await api.http.get(
        "/api/v1/reports/monthly/2026-03/charts/pie.svg", headers=auth(**OFFICE)
    )
    assert wrong.status_code == 422


async def test_roster_and_reception_and_zero_petition_endpoints(api: Api, auth: Token) -> None:
    await march_2026(api.pool)

    roster = await api.http.get(
        "/api/v1/reports/accompany-roster", params={"for_month": "2026-04"}, headers=auth(**HEAD_A)
    )
    assert roster.status_code == 200, roster.text
    assert roster.json()["counted_month"] == "2026-03"
    assert [e["sub_bureau"]["name"] for e in roster.json()["roster"]] == ["鼓楼分局", "江城分局"]

    zero = await api.http.get(
        "/api/v1/reports/zero-petition", params={"month": "2026-03"}, headers=auth(**OFFICE)
    )
    assert (len(zero.json()["sub_bureaus"]), zero.json()["of"]) == (21, 24)

    reception = await api.http.get(
        "/api/v1/reports/reception", params={"week": "2026-W10"}, headers=auth(**OFFICE)
    )
    assert reception.status_code == 200, reception.text
    assert reception.json()["sessions"] == 0


async def test_the_openapi_document_lists_the_reports(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    paths = set(document["paths"])
    assert {
        "/api/v1/reports/figures",
        "/api/v1/reports/ledger",
        "/api/v1/reports/ledger.xlsx",
        "/api/v1/reports/weekly/{week}",
        "/api/v1/reports/monthly/{month}/charts/{chart}.svg",
    } <= paths
    figures = document["paths"]["/api/v1/reports/figures"]["get"]
    assert {p["name"] for p in figures["parameters"]} >= {"bureau", "from", "to", "month", "week"}


async def test_the_reports_run_on_a_read_only_pool_as_on_a_streaming_replica(
    database_url: str, issuer: LocalIssuer, clock: Clock, auth: Token
) -> None:
    """PETITIONS_REPORTING_QUERY_DATABASE_URL may name a hot standby, which refuses writes: every
    report must be a pure read. The pool refuses writes as a standby would."""
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    async with reporting_pool(database_url) as writable:
        await march_2026(writable)
    replica = await create_read_pool(database_url, role=None, max_size=2, read_only=True)
    try:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await replica.execute("DELETE FROM cases")
        app = FastAPI()
        install_auth_errors(app)
        app.include_router(
            router(lambda: replica, config, calendar, authenticate(lambda: verifier), clock=clock)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
            headers = auth(**OFFICE)
            for path, params in (
                ("figures", MARCH),
                ("ledger", {"as_of": "2026-04-30"}),
                ("ledger.xlsx", {"as_of": "2026-04-30"}),
                ("weekly/2026-W13", {"as_of": "2026-04-01"}),
                ("monthly/2026-03", {"as_of": "2026-04-30"}),
                ("accompany-roster", {"month": "2026-03"}),
            ):
                response = await http.get(f"/api/v1/reports/{path}", params=params, headers=headers)
                assert response.status_code == 200, (path, response.text[:300])
            ledger = await http.get(
                "/api/v1/reports/ledger", params={"as_of": "2026-04-30"}, headers=headers
            )
            assert ledger.json()["total"] == 8
    finally:
        await replica.close()


async def test_the_analysis_on_several_connections_reads_one_snapshot(
    database_url: str, issuer: LocalIssuer, clock: Clock
) -> None:
    """The monthly analysis runs its independent parts on the pool's spare connections
    (Context.snapshots): they import the first one's snapshot, so what is committed meanwhile is
    in none of them, and together they make the analysis one connection makes."""
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    office = queries.Viewer(bureau=CITY, user="office-01")
    march = periods.month("2026-03")
    async with reporting_pool(database_url) as pool:  # four connections at most
        await march_2026(pool)
        ctx = Context(lambda: pool, config, calendar, authenticate(lambda: verifier), clock)
        async with ctx.snapshots(3) as connections:
            assert len(connections) == 3
            await pool.execute("DELETE FROM submissions")
            await pool.execute("DELETE FROM cases")
            assert [await c.fetchval("SELECT count(*) FROM cases") for c in connections] == [8] * 3
            together = await queries.monthly_analysis(
                connections[0], config, office, CITY, march, date(2026, 4, 30), also=connections[1:]
            )
            alone = await queries.monthly_analysis(
                connections[0], config, office, CITY, march, date(2026, 4, 30)
            )
        assert together == alone
        assert together.figures.matters == 6
        async with ctx.snapshots(3) as connections:
            assert await connections[0].fetchval("SELECT count(*) FROM cases") == 0


async def test_a_report_with_no_spare_connection_runs_on_its_one(
    database_url: str, issuer: LocalIssuer, clock: Clock
) -> None:
    """A pool with none to spare (every other connection held by other reports) gives the
    analysis its one connection at once, rather than a wait on the others."""
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    async with reporting_pool(database_url) as pool:
        await march_2026(pool)
    single = await create_read_pool(database_url, role=None, max_size=1)
    try:
        ctx = Context(lambda: single, config, calendar, authenticate(lambda: verifier), clock)
        async with ctx.snapshots(3) as connections:
            assert len(connections) == 1
            analysis = await queries.monthly_analysis(
                connections[0],
                config,
                queries.Viewer(bureau=CITY, user="office-01"),
                CITY,
                periods.month("2026-03"),
                date(2026, 4, 30),
            )
        assert analysis.figures.matters == 6
    finally:
        await single.close()
