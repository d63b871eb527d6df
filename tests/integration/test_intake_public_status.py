"""The petitioner's status lookup tells the truth (issue 13, part 8 of the issue): by query code,
in Chinese and English, it follows a case from receipt through acceptance, handling, extension,
reply, review and re-review to termination, with the dates the petitioner was promised, and
shows no personal data and no internal names. The case is registered at intake and driven
through assignment the real way (relay, NATS); the tests' clock stands on 2026-11-04."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Token
from tests.integration.test_intake_registration import ZHANG, visit
from tests.support.assignment import Who, command, wait_taken_up

pytestmark = pytest.mark.integration

HANDLER: Who = {"role": "handler", "bureau": "330102", "user": "王警官"}
HEAD: Who = {"role": "sub_bureau_head", "bureau": "330102", "user": "head-330102"}
LEADER: Who = {"role": "leader", "bureau": "3301", "user": "L01"}
# Internal names and personal data a petitioner's lookup must never show.
NEVER_SHOWN = ["张三", ZHANG, "13812345678", "解放路", "王警官", "王建军", "噪音", "L01", "330102"]


async def status(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get("/api/v1/public/status", params={"code": code})
    assert response.status_code == 200, response.text
    text = response.text.replace(response.json()["case_number"], "")
    for secret in NEVER_SHOWN:
        assert secret not in text, secret
    return dict(response.json())


async def test_the_status_follows_a_case_from_receipt_to_termination(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    registered = await client.post(
        "/api/v1/submissions",
        json=visit(received_at="2026-11-04T09:00:00+08:00"),
        headers=auth(),
    )
    assert registered.status_code == 201, registered.text
    code = registered.json()["query_code"]
    case_id = registered.json()["case_id"]

    case = await wait_taken_up(assignment, auth, case_id)
    shown = await status(client, code.lower())  # read out over the phone: case does not matter
    assert (shown["status"], shown["accepted"]) == ("received", None)
    assert shown["status_zh"] == "已收到，待决定是否受理"
    assert shown["received_on"] == "2026-11-04"
    assert shown["acceptance_due"] == case["acceptance_due"] == "2026-11-19"
    assert shown["handling_due"] is None

    accepted = (await command(assignment, auth, case_id, "accept"))["case"]
    shown = await status(client, code)
    assert (shown["status"], shown["accepted"], shown["accepted_on"]) == (
        "handling",
        True,
        "2026-11-04",
    )
    assert shown["status_en"] == "accepted and being handled"
    assert shown["handling_due"] == accepted["handling_due"]
    assert shown["acceptance_due"] is None
    assert shown["extended"] is False

    extended = await command(
        assignment, auth, case_id, "grant_extension", {"days": 30, "reason": "需补充调查"}, **HEAD
    )
    shown = await status(client, code)
    assert (shown["status"], shown["extended"], shown["extended_days"]) == ("handling", True, 30)
    assert shown["handling_due"] == extended["case"]["handling_due"] != accepted["handling_due"]

    # A completion report is the bureau's own business: still "being handled" to the petitioner.
    await command(assignment, auth, case_id, "report_completion", {"summary": "已调解"}, **HANDLER)
    assert (await status(client, code))["status"] == "handling"
    await command(assignment, auth, case_id, "accept_completion", {})
    reply = {"outcome": "explain", "legal_basis": "《信访工作条例》第三十二条", "summary": "解释"}
    replied = (await command(assignment, auth, case_id, "reply", reply, **HANDLER))["case"]
    shown = await status(client, code)
    assert (shown["status"], shown["replied_on"]) == ("replied", "2026-11-04")
    # The review window has not started: the reply is not delivered yet (Art. 35).
    assert shown["review_request_until"] is replied["review_request_until"] is None
    assert replied["awaiting_delivery"] is True
    delivered = await command(
        assignment, auth, case_id, "record_delivery", {"method": "in_person"}, **HANDLER
    )
    shown = await status(client, code)
    assert shown["review_request_until"] == delivered["case"]["review_request_until"]
    assert shown["review_request_until"] == "2026-12-04"  # Wed 11-04 + 30 days, a Friday

    await command(assignment, auth, case_id, "request_review", {})
    shown = await status(client, code)
    assert (shown["status"], shown["review_requested_on"]) == ("under_review", "2026-11-04")
    assert shown["status_zh"] == "复查中"
    assert shown["review_due"] is not None
    decision = {"decision": "upheld", "outcome": "explain", "summary": "维持"}
    await command(assignment, auth, case_id, "decide_review", decision, **LEADER)
    shown = await status(client, code)
    assert (shown["status"], shown["review_decided_on"]) == ("reviewed", "2026-11-04")
    assert shown["re_review_request_until"] is None
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    assert (await status(client, code))["re_review_request_until"] == "2026-12-04"

    await command(assignment, auth, case_id, "request_re_review", {})
    assert (await status(client, code))["status"] == "under_re_review"
    await command(assignment, auth, case_id, "decide_re_review", decision, **LEADER)
    shown = await status(client, code)
    assert (shown["status"], shown["terminated"]) == ("terminated", True)
    assert shown["status_en"] == "terminated: the same matter is not accepted again"
    assert shown["re_review_decided_on"] == "2026-11-04"
    assert shown["submissions"] == 1


async def test_a_declined_case_says_so_and_when(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    registered = await client.post("/api/v1/submissions", json=visit(), headers=auth())
    assert registered.status_code == 201, registered.text
    code = registered.json()["query_code"]
    await wait_taken_up(assignment, auth, registered.json()["case_id"])
    await command(
        assignment, auth, registered.json()["case_id"], "decline", {"reason": "不属于公安机关职责"}
    )
    shown = await status(client, code)
    assert (shown["status"], shown["accepted"], shown["decided_on"]) == (
        "declined",
        False,
        "2026-11-04",
    )
    assert shown["status_zh"] == "不予受理"
    assert shown["handling_due"] is None
