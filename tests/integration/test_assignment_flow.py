"""The whole path: a registration at intake reaches assignment through the relay and NATS, and
the API takes the case through acceptance, handling, reply, review, re-review and termination."""

from __future__ import annotations

import asyncio
from datetime import date
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from petitions.messaging import list_dead_letters

from tests.conftest import Clock, Token
from tests.integration.test_intake_registration import visit
from tests.support.assignment import command, wait_taken_up

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_registration_to_termination_through_nats(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    # Intake's other events (reception days) travel the same stream: assignment must pass
    # them by, not choke on them. The tests' clock stands on Wednesday 2026-11-04, a working day
    # with a reception session (the chief's).
    today = clock.now.astimezone(SHANGHAI).date()
    assert today == date(2026, 11, 4)
    scheduled = await client.post(
        "/api/v1/reception/schedule",
        json={
            "bureau": "3301",
            "first": today.isoformat(),
            "last": today.isoformat(),
            "place": "大厅",
        },
        headers=auth("petition_office", "3301", "office-01"),
    )
    assert scheduled.status_code == 201, scheduled.text
    registered = await client.post("/api/v1/submissions", json=visit(), headers=auth())
    assert registered.status_code == 201, registered.text
    case_id = registered.json()["case_id"]

    case = await wait_taken_up(assignment, auth, case_id)
    assert case["state"] == "awaiting_acceptance"
    assert case["unit"] == "330102"  # 谁接待谁处理: the first receiver's unit and officer
    assert case["officer"] == "王警官"
    assert case["acceptance_due"] is not None

    done = await command(assignment, auth, case_id, "accept", {"expected_version": case["version"]})
    assert done["case"]["state"] == "handling"
    assert done["events"] == ["assignment.CaseAccepted"]

    await command(
        assignment,
        auth,
        case_id,
        "record_progress",
        {"note": "已约谈双方"},
        role="handler",
        bureau="330102",
        user="王警官",
    )
    await command(
        assignment,
        auth,
        case_id,
        "report_completion",
        {"summary": "已调解"},
        role="handler",
        bureau="330102",
        user="王警官",
    )
    await command(assignment, auth, case_id, "send_back", {"reason": "证据不全"})
    await command(
        assignment,
        auth,
        case_id,
        "report_completion",
        {"summary": "补充证据后调解"},
        role="handler",
        bureau="330102",
        user="王警官",
    )
    await command(assignment, auth, case_id, "accept_completion", {})
    done = await command(
        assignment,
        auth,
        case_id,
        "reply",
        {
            "outcome": "support",
            "legal_basis": "《治安管理处罚法》第五十八条",
            "summary": "支持诉求",
        },
        role="handler",
        bureau="330102",
        user="王警官",
    )
    assert done["case"]["state"] == "replied"
    await command(assignment, auth, case_id, "rate_satisfaction", {"rating": "satisfied"})
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    await command(assignment, auth, case_id, "request_review", {})
    await command(
        assignment,
        auth,
        case_id,
        "decide_review",
        {"decision": "upheld", "outcome": "support", "summary": "维持"},
        role="leader",
    )
    await command(assignment, auth, case_id, "record_delivery", {"method": "electronic"})
    await command(assignment, auth, case_id, "request_re_review", {})
    done = await command(
        assignment,
        auth,
        case_id,
        "decide_re_review",
        {"decision": "upheld", "outcome": "support", "summary": "维持"},
        role="leader",
    )
    assert done["case"]["state"] == "terminated"
    assert done["events"] == ["assignment.ReReviewDecided", "assignment.CaseTerminated"]

    # Intake now refuses the same matter (Art. 36).
    again = await client.post("/api/v1/submissions", json=visit(), headers=auth())
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "case_terminated"
    # The reception day went through assignment's consumer as a no-op (without ever failing).
    applied = None
    for _ in range(100):
        applied = await pool.fetchval(
            "SELECT max(version) FROM messaging.applied "
            "WHERE consumer = 'assignment' AND stream_id LIKE 'reception-%'"
        )
        if applied:
            break
        await asyncio.sleep(0.1)
    assert applied == 1
    assert await list_dead_letters(pool, "assignment") == []
