"""Issue 15's additions to the reports, through the HTTP API, on hand-built read-model rows with
every expected figure worked out by hand: missed reception sessions per leader; the monthly
analysis's breakdowns (category, sub-category, channel, skip-level, hot issues) in JSON and in
its workbook, with the workbook's native charts."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import date

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
    A,
    B,
    C,
    add_case,
    add_session,
    add_submission,
    demo_config,
    local,
    reporting_pool,
    utc,
)

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


async def breakdown_data(db: asyncpg.Pool) -> None:
    """February and March 2026 (local dates), worked out by hand in the tests below.

    February: p1 A SQ0101 visit; p2 B SQ0301 letter; p3 B JY01 online (one person each).
    March:    m1 A SQ0101 visit, 3 people; m2 A SQ0102 phone; m3 a repeat of m1's case on
              3-20, visit, skip-level to the province; m4 B SQ0202 letter, 2 people, to
              Beijing; m5 C JK01 online; m6 C filed under the class SQ alone, visit; m7 B
              SQ0301 visit. And one at 2026-03-31T16:30Z = 1 April local: not March's.
    """

    async def one(
        sub_bureau: str,
        category: str,
        day: date,
        channel: str,
        head_count: int = 1,
        escalation: str | None = None,
        case: uuid.UUID | None = None,
    ) -> uuid.UUID:
        case = case or await add_case(
            db, sub_bureau=sub_bureau, category=category, received_at=local(day)
        )
        await add_submission(
            db,
            case,
            received_at=local(day),
            receiving_bureau=CITY,
            channel=channel,
            head_count=head_count,
            escalation=escalation,
        )
        return case

    await one(A, "SQ0101", date(2026, 2, 10), "visit")
    await one(B, "SQ0301", date(2026, 2, 12), "letter")
    await one(B, "JY01", date(2026, 2, 20), "online")
    m1 = await one(A, "SQ0101", date(2026, 3, 2), "visit", head_count=3)
    await one(A, "SQ0102", date(2026, 3, 3), "phone")
    await one(A, "SQ0101", date(2026, 3, 20), "visit", escalation="province", case=m1)
    await one(B, "SQ0202", date(2026, 3, 5), "letter", head_count=2, escalation="beijing")
    await one(C, "JK01", date(2026, 3, 9), "online")
    await one(C, "SQ", date(2026, 3, 10), "visit")
    await one(B, "SQ0301", date(2026, 3, 11), "visit")
    april = await add_case(
        db, sub_bureau=A, category="SQ0101", received_at=utc("2026-03-31T16:30Z")
    )
    await add_submission(
        db, april, received_at=utc("2026-03-31T16:30Z"), receiving_bureau=CITY, channel="visit"
    )


def _table(rows: list[dict[str, object]], *keys: str) -> list[tuple[object, ...]]:
    return [tuple(row[k] for k in keys) for row in rows]


async def test_the_monthly_analysis_breaks_down_submissions(api: Api, auth: Token) -> None:
    await breakdown_data(api.pool)
    answer = await api.http.get(
        "/api/v1/reports/monthly/2026-03", params={"as_of": "2026-04-30"}, headers=auth(**OFFICE)
    )
    assert answer.status_code == 200, answer.text
    d = answer.json()["breakdowns"]
    assert (d["submissions"], d["previous_submissions"]) == (7, 3)
    # Classes in the configuration's order, zeros included: (code, now, people, share, Feb, +/-).
    cols = ("code", "submissions", "person_visits", "share", "previous_submissions", "change")
    assert _table(d["by_category"], *cols) == [
        ("JY", 0, 0, 0.0, 1, -1),
        ("JK", 1, 1, 0.1429, 0, 1),  # 1/7
        ("SQ", 6, 9, 0.8571, 2, 4),  # m1-m4, m6, m7; 3+1+1+2+1+1 people; 6/7
    ]
    # Second-level categories: most this month, then February's, then the code.
    assert _table(d["by_sub_category"], "code", "submissions", "previous_submissions") == [
        ("SQ01", 3, 1),  # m1, m2 (SQ0102 counts under SQ01), m3
        ("SQ03", 1, 1),
        ("JK01", 1, 0),
        ("SQ", 1, 0),  # filed under the class alone
        ("SQ02", 1, 0),
        ("JY01", 0, 1),
    ]
    by_code = {row["code"]: row for row in d["by_sub_category"]}
    assert "未细分" in str(by_code["SQ"]["label"])
    assert by_code["SQ01"]["parent"].startswith("申诉求决")
    assert _table(
        d["by_channel"], "code", "submissions", "person_visits", "previous_submissions"
    ) == [
        ("visit", 4, 6, 1),  # m1 (3 people), m3, m6, m7
        ("letter", 1, 2, 1),
        ("phone", 1, 1, 0),
        ("online", 1, 1, 1),
        ("congress_referral", 0, 0, 0),
        ("higher_referral", 0, 0, 0),
    ]
    assert _table(d["by_skip_level"], "code", "submissions", "person_visits") == [
        ("province", 1, 1),
        ("beijing", 1, 2),
    ]
    # Hot issues: growth on February, largest first; ties by this month's count, then code.
    assert _table(
        d["hot_issues"], "code", "submissions", "previous_submissions", "increase", "relative"
    ) == [
        ("SQ01", 3, 1, 2, 2.0),
        ("JK01", 1, 0, 1, None),
        ("SQ", 1, 0, 1, None),
        ("SQ02", 1, 0, 1, None),
    ]

    # A sub-bureau's analysis counts its own submissions only: m1, m2, m3 against p1.
    own = await api.http.get(
        "/api/v1/reports/monthly/2026-03", params={"as_of": "2026-04-30"}, headers=auth(**HEAD_A)
    )
    mine = own.json()["breakdowns"]
    assert (mine["submissions"], mine["previous_submissions"]) == (3, 1)
    assert [r["code"] for r in mine["hot_issues"]] == ["SQ01"]


async def test_the_analysis_workbook_holds_breakdowns_and_native_charts(
    api: Api, auth: Token
) -> None:
    await breakdown_data(api.pool)
    xlsx = await api.http.get(
        "/api/v1/reports/monthly/2026-03.xlsx",
        params={"as_of": "2026-04-30"},
        headers=auth(**OFFICE),
    )
    assert xlsx.status_code == 200, xlsx.text
    workbook = load_workbook(io.BytesIO(xlsx.content))
    for name in ("分类 By category", "子类 By sub-category", "渠道 By channel",
                 "越级访统计 Skip-level", "热点 Hot issues"):  # fmt: skip
        assert name in workbook.sheetnames
    sheet = workbook["子类 By sub-category"]
    header = next(
        i for i, row in enumerate(sheet.iter_rows(values_only=True), 1) if row[0] == "代码 Code"
    )
    first = list(sheet[header + 1])
    assert first[0].value == "SQ01"
    assert (first[3].value, first[6].value, first[7].value) == (3, 1, 2)
    assert all(isinstance(c.value, int) for c in (first[3], first[4], first[6], first[7]))
    assert first[5].number_format == "0.0%"
    assert first[5].value == pytest.approx(3 / 7, abs=1e-4)
    assert sheet.auto_filter.ref is not None
    hot = workbook["热点 Hot issues"]
    hot_rows = [
        r for r in hot.iter_rows(values_only=True) if r and r[0] in {"SQ01", "JK01", "SQ", "SQ02"}
    ]
    assert [(r[0], r[5]) for r in hot_rows] == [("SQ01", 2), ("JK01", 1), ("SQ", 1), ("SQ02", 1)]

    # The charts are the workbook's own (openpyxl does not load charts: read the parts).
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as parts:
        charts = sorted(n for n in parts.namelist() if n.startswith("xl/charts/chart"))
        xml = {n: parts.read(n).decode("utf-8") for n in charts}
    # Two rankings, the trend, four breakdowns, the hot issues.
    assert len(charts) == 8
    titles = {n: " ".join(re.findall(r"<a:t>([^<]*)</a:t>", x)) for n, x in xml.items()}
    (sub_chart,) = [n for n, t in titles.items() if t.startswith("按问题子类")]
    # Counts: whole-number ticks from 0, the axis ending at the first tick at or above the data
    # (SQ01's 3 submissions: 0 1 2 3).
    assert '<c:max val="3"/>' in xml[sub_chart]
    assert '<c:majorUnit val="1"/>' in xml[sub_chart]
    assert '<c:min val="0"/>' in xml[sub_chart]
    assert 'formatCode="0"' in xml[sub_chart]
    (trend_chart,) = [n for n, t in titles.items() if t.startswith("近十二个月")]
    assert "<c:lineChart>" in xml[trend_chart]
    assert xml[trend_chart].count("<c:ser>") == 3
