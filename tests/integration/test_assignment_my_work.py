""" "My work" (GET /api/v1/my/cases) on real PostgreSQL and NATS, on named dates: an officer sees
their own open cases, overdue first, with working days left counted on the work calendar (New
Year's Day 2027 is a holiday); a sent-back case, a reminder and supervision are flagged; the
accused never see an accusation there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from assignment.domain.case import STATE_LABELS
from petitions.messages.assignment import DeadlineKind

from tests.conftest import Clock, Token
from tests.integration.test_assignment_accusations import accusation
from tests.integration.test_assignment_api import HANDLER, register
from tests.integration.test_assignment_sweep import CONFIG
from tests.support.assignment import command

pytestmark = pytest.mark.integration

OFFICER = ("handler", "330102", "王警官")  # the demo visit's receiving officer
COLLEAGUE = ("handler", "330102", "钱警官")
OFFICE = ("petition_office", "3301", "office-01")
HEAD = ("sub_bureau_head", "330102", "head-330102")
# Monday 28 December 2026, 10:00 in Shanghai.
MONDAY_BEFORE_NEW_YEAR = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)


async def my_cases(http: httpx.AsyncClient, auth: Token, who: tuple[str, str, str]) -> list[Any]:
    response = await http.get("/api/v1/my/cases", headers=auth(*who))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_an_officer_sees_their_cases_overdue_first_counted_on_the_calendar(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, clock: Clock
) -> None:
    # Wednesday 4 November 2026 (the pinned clock): four cases registered by 王警官's bureau.
    waiting, handling, sent_back, other = [
        await register(client, assignment, auth, n) for n in range(1, 5)
    ]
    assert waiting["acceptance_due"] == "2026-11-19"  # 15 days from receipt
    for case in (handling, sent_back):
        done = await command(assignment, auth, case["case_id"], "accept", {})
        # 60 days: Sunday 3 January 2027, moved to the next working day.
        assert done["case"]["handling_due"] == "2027-01-04"
    await command(
        assignment,
        auth,
        sent_back["case_id"],
        "report_completion",
        {"summary": "已办结"},
        **HANDLER,
    )
    await command(assignment, auth, sent_back["case_id"], "send_back", {"reason": "证据不全"})
    await command(
        assignment,
        auth,
        other["case_id"],
        "assign",
        {"unit": "330102", "officer": "钱警官", "reason": "分工调整"},
    )

    clock.now = MONDAY_BEFORE_NEW_YEAR
    sweep = await assignment.post(
        "/api/v1/sweep", json={}, headers=auth("admin", "3301", "admin-01")
    )
    assert sweep.status_code == 200, sweep.text

    rows = await my_cases(assignment, auth, OFFICER)
    # Overdue first; the two due on 4 January by case number; not the colleague's case.
    same_day = sorted((handling, sent_back), key=lambda c: c["case_number"])
    assert [r["case_id"] for r in rows] == [c["case_id"] for c in (waiting, *same_day)]
    by_id = {r["case_id"]: r for r in rows}

    late = by_id[waiting["case_id"]]
    assert (late["deadline"], late["due"]) == ("acceptance", "2026-11-19")
    # Friday 20 November to Monday 28 December: 27 working days past the deadline.
    assert late["working_days_left"] == -27
    assert late["urgency"] == ["overdue", "supervised"]
    # Names beside the codes, as in the case list.
    assert late["deadline_name"] == DeadlineKind.ACCEPTANCE.zh
    assert late["unit_name"] == CONFIG.unit_name("330102")
    assert late["state_label"] == STATE_LABELS["awaiting_acceptance"]
    assert late["provisional"] is False

    running = by_id[handling["case_id"]]
    assert (running["deadline"], running["due"]) == ("handling", "2027-01-04")
    # 29, 30, 31 December and 4 January: New Year's Day (Friday) is no working day.
    assert running["working_days_left"] == 4
    assert running["urgency"] == ["due_soon", "reminded"]

    back = by_id[sent_back["case_id"]]
    assert back["state"] == "handling"
    assert back["urgency"] == ["sent_back", "due_soon", "reminded"]

    # The colleague sees the case given to them, and only that one.
    assert [r["case_id"] for r in await my_cases(assignment, auth, COLLEAGUE)] == [other["case_id"]]
    # The unit head and the petition office see all four (the unit's open cases, in reach).
    for who in (HEAD, OFFICE):
        seen = {r["case_id"] for r in await my_cases(assignment, auth, who)}
        assert seen >= {c["case_id"] for c in (waiting, handling, sent_back, other)}

    # Reporting completion again is an act after the sending back: no longer flagged.
    await command(
        assignment, auth, sent_back["case_id"], "report_completion", {"summary": "补证"}, **HANDLER
    )
    again = {r["case_id"]: r for r in await my_cases(assignment, auth, OFFICER)}
    assert "sent_back" not in again[sent_back["case_id"]]["urgency"]


async def test_the_accused_officer_never_sees_the_accusation_in_their_work(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case = await accusation(client, assignment, auth, 21, accused_officers=["王警官"])
    # Handled at 330102 by a colleague, so that only Art. 30 keeps it from 王警官.
    await command(
        assignment,
        auth,
        case["case_id"],
        "assign",
        {"unit": "330102", "officer": "钱警官", "reason": "回避"},
    )
    assert case["case_id"] in {r["case_id"] for r in await my_cases(assignment, auth, OFFICE)}
    assert case["case_id"] in {r["case_id"] for r in await my_cases(assignment, auth, COLLEAGUE)}
    for who in (
        OFFICER,
        ("sub_bureau_head", "330102", "王警官"),
        ("petition_office", "3301", "王警官"),
    ):
        assert case["case_id"] not in {r["case_id"] for r in await my_cases(assignment, auth, who)}
