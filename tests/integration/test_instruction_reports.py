"""Issue 15: leaders' instructions (批示) followed up, from intake's HTTP API to reporting's
weekly bulletin, reception report and audit timeline; the reception free text masked there.

The dates, counted by hand on the 2026 calendar (National Day 1-7 Oct off, Sat 10 Oct a make-up
working day): instructed at the chief's session of Wed 30 Sep 2026, the default due day is the
10th working day after it, Tue 20 Oct (Oct 8, 9, 10, 12-16, 19, 20). The second instruction's
leader named Fri 9 Oct, and it was answered that day.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

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
from reporting.adapters.postgres import PostgresCaseFinder
from reporting.audit import Audit
from reporting.entrypoints.audit import router as audit_router
from reporting.entrypoints.http import router as reports_router
from reporting.projections import create_read_pool, migrate, rebuild

from tests.conftest import Clock, Token
from tests.integration.test_intake_reception import OFFICE, schedule
from tests.support.events import resident_id
from tests.support.reporting_fixtures import demo_config

pytestmark = pytest.mark.integration

INSTRUCTION = "请上城分局核查周八反映的问题"
ANSWER = "已约谈周八，问题已解决"
NOTE = "接待周八，情绪激动"
ILLNESS = "王局长住院"


@pytest.fixture
async def read_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_url, role="petitions_app")
    pool = await create_read_pool(database_url, role="petitions_app", max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def reports(
    read_pool: asyncpg.Pool, store: EventStore, issuer: LocalIssuer, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    config, calendar = demo_config()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    app = FastAPI()
    install_auth_errors(app)
    auth = authenticate(lambda: verifier)
    app.include_router(reports_router(lambda: read_pool, config, calendar, auth, clock=clock))
    app.include_router(
        audit_router(
            lambda: store,
            lambda: Audit(store, PostgresCaseFinder(store, read_pool)),
            auth,
            config=config,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
        yield http


def _visit(session: str, name: str, id_base: str) -> dict[str, object]:
    return {
        "channel": "visit",
        "received_at": "2026-09-30T02:00:00Z",
        "receiving_bureau": "3301",
        "receiving_officer": "接访领导",
        "reception_session_id": session,
        "petitioners": [{"name": name, "resident_id": resident_id(id_base)}],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映问题",
    }


async def test_overdue_instructions_reach_the_bulletin_the_reception_report_and_the_timeline(
    client: httpx.AsyncClient,
    reports: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    read_pool: asyncpg.Pool,
    clock: Clock,
) -> None:
    office = auth(**OFFICE)
    clock.now = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    sessions = (await schedule(client, auth, first="2026-09-28", last="2026-09-30")).json()
    monday = next(s for s in sessions if s["day"] == "2026-09-28")["session_id"]
    chief = next(s for s in sessions if s["chief_day"])["session_id"]
    missed = await client.post(
        f"/api/v1/reception/sessions/{monday}/missed",
        json={"reason_code": "illness", "reason": ILLNESS},
        headers=office,
    )
    assert missed.status_code == 204, missed.text
    held = await client.post(
        f"/api/v1/reception/sessions/{chief}/held",
        json={"held_by": "L01", "note": NOTE},
        headers=office,
    )
    assert held.status_code == 204, held.text
    cases = []
    for name, id_base in (("周八", "33010219800101111"), ("吴九", "33010219810101222")):
        got = await client.post(
            "/api/v1/submissions", json=_visit(chief, name, id_base), headers=office
        )
        assert got.status_code == 201, got.text
        cases.append(got.json())
    url = f"/api/v1/reception/sessions/{chief}/instructions"
    late = await client.post(
        url, json={"case_id": cases[0]["case_id"], "instruction": INSTRUCTION}, headers=office
    )
    assert late.status_code == 201, late.text
    assert late.json()["due_on"] == "2026-10-20"
    kept = await client.post(
        url,
        json={
            "case_id": cases[1]["case_id"],
            "instruction": "请一周内回复",
            "due_on": "2026-10-09",
            "answering_unit": "330102",
        },
        headers=office,
    )
    assert kept.status_code == 201, kept.text
    clock.now = datetime(2026, 10, 9, 8, 0, tzinfo=UTC)
    answered = await client.post(
        f"/api/v1/cases/{cases[1]['case_id']}/instructions/{kept.json()['instruction_id']}/answer",
        json={"answer": ANSWER},
        headers=auth(role="sub_bureau_head", bureau="330102", user="head-330102"),
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["on_time"] is True

    await rebuild(store, read_pool, progress=False)
    clock.now = datetime(2026, 10, 21, 2, 0, tzinfo=UTC)

    # On its due day an instruction is not yet overdue; the day after, it is.
    on_due_day = await reports.get(
        "/api/v1/reports/weekly/2026-W43", params={"as_of": "2026-10-20"}, headers=office
    )
    assert on_due_day.status_code == 200, on_due_day.text
    assert on_due_day.json()["overdue_instructions"]["total"] == 0
    weekly = await reports.get(
        "/api/v1/reports/weekly/2026-W43", params={"as_of": "2026-10-21"}, headers=office
    )
    overdue = weekly.json()["overdue_instructions"]
    assert overdue["total"] == 1
    (row,) = overdue["rows"]
    assert (row["case_number"], row["unit"]["code"], row["due_on"], row["working_days"]) == (
        cases[0]["case_number"],
        "330102",
        "2026-10-20",
        1,
    )
    assert INSTRUCTION not in weekly.text  # masked
    xlsx = await reports.get(
        "/api/v1/reports/weekly/2026-W43.xlsx", params={"as_of": "2026-10-21"}, headers=office
    )
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content))["逾期批示 Instructions"]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    (listed,) = [r for r in values if r and r[0] == cases[0]["case_number"]]
    assert listed[4] == datetime(2026, 10, 20)  # a date cell, not text
    assert listed[5] == 1  # a number
    assert INSTRUCTION not in str(values)
    # Another sub-bureau's head does not see the case, so not its instruction either.
    other = await reports.get(
        "/api/v1/reports/weekly/2026-W43",
        params={"as_of": "2026-10-21"},
        headers=auth(role="sub_bureau_head", bureau="330103", user="head-330103"),
    )
    assert other.status_code == 200, other.text
    assert other.json()["overdue_instructions"]["total"] == 0

    reception = await reports.get(
        "/api/v1/reports/reception", params={"month": "2026-10"}, headers=office
    )
    assert reception.status_code == 200, reception.text
    assert reception.json()["overdue_instructions"]["total"] == 1
    september = await reports.get(
        "/api/v1/reports/reception", params={"month": "2026-09"}, headers=office
    )
    body = september.json()
    assert body["instructions"] == 2
    assert body["missed_reasons"] == [{"reason": "病假 illness", "sessions": 1}]
    assert body["overdue_instructions"]["total"] == 0  # judged on 30 Sep
    for clear in (ILLNESS, NOTE):
        assert clear not in september.text

    auditor = auth(role="auditor", bureau="3301", user="inspector-9")
    timeline = await reports.get(
        f"/api/v1/audit/cases/{cases[1]['case_number']}/timeline", headers=auditor
    )
    assert timeline.status_code == 200, timeline.text
    entries = {e["event_type"]: e for e in timeline.json()["entries"]}
    assert entries["intake.LeaderInstructionRecorded"]["label"].startswith("领导批示")
    assert "2026-10-09" in entries["intake.LeaderInstructionRecorded"]["summary"]
    assert entries["intake.InstructionAnswered"]["label"].startswith("批示答复")
    assert "on time" in entries["intake.InstructionAnswered"]["summary"]
    assert ANSWER not in timeline.text


# February 2026 by hand: Mon 2-Fri 6, Mon 9-Fri 13, Sat 14 (make-up), Tue 24-Fri 27, Sat 28
# (make-up): 16 working days, 2 of them make-up Saturdays; 15-23 Feb the Spring Festival.
FEBRUARY = [f"2026-02-{d:02d}" for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 24, 25, 26, 27, 28)]


async def test_the_duty_check_counts_make_up_saturdays_and_one_leader_a_day(
    client: httpx.AsyncClient,
    reports: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    read_pool: asyncpg.Pool,
    clock: Clock,
) -> None:
    office = auth(**OFFICE)
    scheduled = await schedule(client, auth, first="2026-02-01", last="2026-02-28")
    assert scheduled.status_code == 201, scheduled.text
    sessions = scheduled.json()
    assert [s["day"] for s in sessions] == FEBRUARY  # one leader each working day
    saturday = next(s for s in sessions if s["day"] == "2026-02-14")
    assert (saturday["leader_id"], saturday["chief_day"]) == ("L02", False)  # Monday's roster
    missed = await client.post(
        f"/api/v1/reception/sessions/{saturday['session_id']}/missed",
        json={"reason_code": "meeting"},
        headers=office,
    )
    assert missed.status_code == 204, missed.text
    # A client that knows no codes may still write a reason that is exactly a code's name.
    last = next(s for s in sessions if s["day"] == "2026-02-28")
    named = await client.post(
        f"/api/v1/reception/sessions/{last['session_id']}/missed",
        json={"reason": "病假 illness"},
        headers=office,
    )
    assert named.status_code == 204, named.text

    await rebuild(store, read_pool, progress=False)
    clock.now = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    got = await reports.get(
        "/api/v1/reports/reception", params={"month": "2026-02"}, headers=office
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["sessions"], body["missed"], body["scheduled"]) == (16, 2, 14)
    duty = {d["bureau"]["code"]: d for d in body["duty"]}
    assert len(duty) == 25  # the city and its 24 sub-bureaus
    city = duty["3301"]
    assert (
        city["working_days"],
        city["makeup_days"],
        city["covered_days"],
        city["uncovered_days"],
        city["crowded_days"],
        city["missed_days"],
    ) == (16, 2, 16, [], [], 2)
    assert duty["330102"]["covered_days"] == 0  # scheduled nothing: every working day shows
    assert duty["330102"]["uncovered_days"] == FEBRUARY
    (l02,) = [x for x in body["by_leader"] if x["leader_id"] == "L02"]
    assert (l02["sessions"], l02["missed"]) == (4, 2)  # Mon 2, Mon 9, Sat 14, Sat 28
    assert l02["missed_reasons"] == [
        {"reason": "参加会议 meeting", "sessions": 1},
        {"reason": "病假 illness", "sessions": 1},
    ]

    # Judged only up to the report's day: on 10 Feb, 7 working days have passed.
    clock.now = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
    early = await reports.get(
        "/api/v1/reports/reception", params={"month": "2026-02"}, headers=office
    )
    assert {d["bureau"]["code"]: d for d in early.json()["duty"]}["3301"]["working_days"] == 7
