"""Written notices (issue 13, item 6): each notice renders from the bureau's DOCX template with
the case number, a gapless document number and the decision it tells of; it is refused (409)
before its act; rendering one is a recorded personal-data read and an ``intake.NoticeIssued``.
Cases are registered at intake and driven through assignment the real way (relay, NATS)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import urllib.parse
from typing import Any

import httpx
import pytest
from docx import Document
from petitions.eventstore import EventStore
from petitions.messages.intake import NoticeIssued, PersonalDataRead

from tests.conftest import Token
from tests.integration.test_assignment_api import submission
from tests.support.assignment import Who, command, wait_taken_up

pytestmark = pytest.mark.integration

HANDLER: Who = {"role": "handler", "bureau": "330102", "user": "王警官"}
HEAD: Who = {"role": "sub_bureau_head", "bureau": "330102", "user": "head-330102"}
LEADER: Who = {"role": "leader", "bureau": "3301", "user": "L01"}
OFFICE = ("petition_office", "3301", "office-01")
NUMBER = re.compile(r"临公(江)?信告〔2026〕(\d+)号")


_people = iter(range(500, 600))  # a different petitioner each time: a new case each


async def register(client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token) -> str:
    response = await client.post(
        "/api/v1/submissions",
        json=submission(next(_people), received_at="2026-11-04T09:00:00+08:00"),
        headers=auth(),
    )
    assert response.status_code == 201, response.text
    case_id = str(response.json()["case_id"])
    await wait_taken_up(assignment, auth, case_id)
    return case_id


async def notice(
    client: httpx.AsyncClient, auth: Token, case: str, kind: str, who: tuple[str, ...] = OFFICE
) -> httpx.Response:
    return await client.post(f"/api/v1/cases/{case}/notices/{kind}", headers=auth(*who))


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    doc = Document(io.BytesIO(response.content))
    return "\n".join(p.text for p in doc.paragraphs)


def number_of(response: httpx.Response) -> str:
    return urllib.parse.unquote(response.headers["x-document-number"])


async def test_each_notice_renders_with_its_numbers_and_its_decision(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case_id = await register(client, assignment, auth)
    number = (await assignment.get(f"/api/v1/cases/{case_id}", headers=auth(*OFFICE))).json()[
        "case_number"
    ]
    # Before the reply: its notice is refused, naming the state; nothing recorded.
    early = await notice(client, auth, number, "reply")
    assert early.status_code == 409, early.text
    assert "awaiting_acceptance" in early.json()["message"]
    assert await store.stream_version(f"reads-{case_id}") == 0

    await command(assignment, auth, case_id, "accept", {"notice": "请保持电话畅通"})
    await command(
        assignment,
        auth,
        case_id,
        "grant_extension",
        {"days": 30, "reason": "需调取监控录像"},
        **HEAD,
    )
    await command(assignment, auth, case_id, "report_completion", {"summary": "已调解"}, **HANDLER)
    await command(assignment, auth, case_id, "accept_completion", {})
    reply = {
        "outcome": "explain",
        "legal_basis": "《治安管理处罚法》第五十八条",
        "summary": "已约谈",
    }
    await command(assignment, auth, case_id, "reply", reply, **HANDLER)
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    await command(assignment, auth, case_id, "request_review", {})
    decision = {"decision": "upheld", "outcome": "explain", "summary": "维持原处理意见"}
    await command(assignment, auth, case_id, "decide_review", decision, **LEADER)
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    await command(assignment, auth, case_id, "request_re_review", {})
    await command(assignment, auth, case_id, "decide_re_review", decision, **LEADER)

    expected = {
        "acceptance": ["受理告知书", "请保持电话畅通"],
        "extension": ["延期办理告知书", "需调取监控录像", "30日"],
        "reply": ["处理意见书", "解释说明", "《治安管理处罚法》第五十八条", "临江市公安局"],
        "review": ["复查意见书", "维持原处理意见", "省公安厅"],
        "re_review": ["复核意见书", "不再受理"],
    }
    for kind, phrases in expected.items():
        response = await notice(client, auth, case_id, kind, ("handler", "330102", "王警官"))
        text = text_of(response)
        document_number = number_of(response)
        assert NUMBER.fullmatch(document_number), document_number
        for phrase in [number, document_number, "信访人5", *phrases]:
            assert phrase in text, (kind, phrase)
        assert "{{" not in text
        disposition = response.headers["content-disposition"]
        assert "filename*=UTF-8''" in disposition
        assert urllib.parse.quote(document_number) in disposition

    # Each notice: a recorded read, and NoticeIssued with the file's digest; the case stream
    # (the workflow's version) is untouched by it.
    events = await store.read_stream(f"reads-{case_id}", reveal=False)
    issued = [e.data for e in events if isinstance(e.data, NoticeIssued)]
    reads = [e.data for e in events if isinstance(e.data, PersonalDataRead)]
    assert [i.kind for i in issued] == list(expected)
    assert len(reads) == len(issued)
    assert all(r.reader == "王警官" for r in reads)
    last = await notice(client, auth, case_id, "re_review", ("handler", "330102", "王警官"))
    again = (await store.read_stream(f"reads-{case_id}", reveal=False))[-1].data
    assert isinstance(again, NoticeIssued)
    assert again.sha256 == hashlib.sha256(last.content).hexdigest()
    assert again.document_number == number_of(last)


async def test_declined_and_forwarded_notices_give_the_reason(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    declined = await register(client, assignment, auth)
    await command(assignment, auth, declined, "decline", {"reason": "不属于公安机关职责范围"})
    text = text_of(await notice(client, auth, declined, "declined"))
    assert "不予受理告知书" in text
    assert "不属于公安机关职责范围" in text
    assert (await notice(client, auth, declined, "acceptance")).status_code == 409

    forwarded = await register(client, assignment, auth)
    await command(
        assignment, auth, forwarded, "forward", {"organ": "区市场监管局", "reason": "属其职责"}
    )
    text = text_of(await notice(client, auth, forwarded, "forwarded"))
    assert "区市场监管局" in text
    assert "属其职责" in text


async def test_only_handling_roles_issue_notices_and_unknown_kinds_are_404(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case_id = await register(client, assignment, auth)
    await command(assignment, auth, case_id, "accept")
    clerk = await notice(client, auth, case_id, "acceptance", ("registrar", "330102", "clerk-01"))
    assert clerk.status_code == 403, clerk.text
    assert (await notice(client, auth, case_id, "poster")).status_code == 404
    assert await store.stream_version(f"reads-{case_id}") == 0


async def test_document_numbers_have_no_gaps_under_concurrency(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    cases = [await register(client, assignment, auth) for _ in range(3)]
    for case_id in cases:
        await command(assignment, auth, case_id, "accept")
    # Acceptance notices come from the receiving bureau's (330102's) series: six at once,
    # on three cases, two each.
    responses = await asyncio.gather(
        *(notice(client, auth, c, "acceptance") for c in cases for _ in range(2))
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    serials = sorted(int(m.group(2)) for r in responses if (m := NUMBER.fullmatch(number_of(r))))
    assert len(serials) == 6
    assert serials == list(range(serials[0], serials[0] + 6))  # distinct and contiguous
    recorded: list[Any] = []
    for case_id in cases:
        events = await store.read_stream(f"reads-{case_id}", reveal=False)
        recorded += [e.data.serial for e in events if isinstance(e.data, NoticeIssued)]
    assert sorted(recorded) == serials
