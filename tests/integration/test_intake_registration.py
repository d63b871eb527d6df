"""Registering submissions through intake's HTTP API, against real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.messages.assignment import CaseTerminated

from tests.conftest import TEST_NOW, Token
from tests.support.events import resident_id

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The case-number year of a submission received hours before the tests' clock (TEST_NOW).
YEAR = (TEST_NOW.astimezone(SHANGHAI) - timedelta(hours=3)).year
ZHANG = resident_id("33010219800101123")
LI = resident_id("33010319900202456")


def ago(**delta: float) -> str:
    """A received time before the tests' fixed clock (the API refuses times in the future, and
    more than 30 days back from anyone but the importer)."""
    return (TEST_NOW.astimezone(SHANGHAI) - timedelta(**delta)).isoformat()


def visit(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "visit",
        "received_at": ago(hours=3),
        "receiving_bureau": "330102",
        "receiving_officer": "王警官",
        "petitioners": [
            {
                "name": "张三",
                "resident_id": ZHANG,
                "phone": "13812345678",
                "address": "临江市上城区解放路1号",
            }
        ],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映邻居噪音扰民，派出所处理不及时",
        "requests": "要求依法处理",
    }
    body.update(changes)
    return body


async def events_of(store: EventStore, case_id: str) -> list[Any]:
    return await store.read_stream(f"case-{case_id}", reveal=False)


async def test_a_visit_opens_a_case_with_its_number_and_query_code(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    response = await client.post("/api/v1/submissions", json=visit(), headers=auth())

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["case_number"] == f"330102-{YEAR}-000001"
    assert body["is_repeat"] is False
    assert len(body["query_code"]) == 10
    opened, received = await events_of(store, body["case_id"])
    assert opened.event_type == "intake.CaseRegistered"
    assert opened.data.responsible_officer == "王警官"
    assert opened.data.petitioners[0].resident_id == ZHANG[:6] + "********" + ZHANG[-4:]
    assert received.data.channel == "visit"
    assert received.actor == "clerk-01"
    assert received.service == "intake"
    raw = await store.read_stream_raw(f"case-{body['case_id']}")
    assert all(ZHANG not in r.data and "13812345678" not in r.data for r in raw)

    status = await client.get("/api/v1/public/status", params={"code": body["query_code"]})
    shown = status.json()
    assert (shown["case_number"], shown["status"], shown["submissions"]) == (
        f"330102-{YEAR}-000001",
        "received",
        1,
    )
    assert shown["accepted"] is None
    assert (
        await client.get("/api/v1/public/status", params={"code": "WRONGCODE1"})
    ).status_code == 404


async def test_same_petitioner_same_matter_is_a_repeat_on_the_case(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    first = (await client.post("/api/v1/submissions", json=visit(), headers=auth())).json()
    again = await client.post(
        "/api/v1/submissions",
        json=visit(channel="phone", received_at=ago(hours=1)),
        headers=auth(),
    )
    other_matter = await client.post(
        "/api/v1/submissions", json=visit(category="SQ02"), headers=auth()
    )

    assert again.status_code == 201
    assert again.json()["is_repeat"] is True
    assert again.json()["case_id"] == first["case_id"]
    assert again.json()["query_code"] is None
    assert len(await events_of(store, first["case_id"])) == 3  # opened, received, received again
    assert other_matter.json()["is_repeat"] is False
    assert other_matter.json()["case_number"] == f"330102-{YEAR}-000002"

    forced = await client.post(
        "/api/v1/submissions", json=visit(force_new_reason="新的事实：另一起纠纷"), headers=auth()
    )
    assert forced.json()["is_repeat"] is False
    assert first["case_number"] in forced.json()["similar_cases"]


async def test_a_terminated_matter_is_refused(
    client: httpx.AsyncClient, auth: Token, personal_store: EventStore
) -> None:
    store = personal_store  # the reason is free text, sealed under the petitioner's key
    first = (await client.post("/api/v1/submissions", json=visit(), headers=auth())).json()
    stream = f"case-{first['case_id']}"
    version = await store.stream_version(stream)
    (registered,) = await store.read_stream(stream, 1, 1, reveal=False)
    terminated = CaseTerminated(
        subject_id=registered.data.subject_id, case_id=first["case_id"], reason="复核维持"
    )
    await store.append(
        stream,
        [NewEvent(terminated, bureau="330102")],
        version,
        metadata=Metadata(actor="legal-01", service="assignment"),
    )

    refused = await client.post("/api/v1/submissions", json=visit(), headers=auth())

    assert refused.status_code == 409
    assert refused.json()["error"] == "case_terminated"
    assert "第三十六条" in refused.json()["message"]
    assert "Art. 36" in refused.json()["message"]


async def test_a_retried_post_never_makes_a_second_case(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    headers = auth() | {"Idempotency-Key": "desk-7-0001"}
    body = visit()
    first = await client.post("/api/v1/submissions", json=body, headers=headers)
    retry = await client.post("/api/v1/submissions", json=body, headers=headers)

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert len(await store.read_all_raw(limit=100)) == 2
    changed = await client.post(
        "/api/v1/submissions", json=body | {"head_count": 3}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["error"] == "idempotency_key_reused"


async def test_bad_input_names_every_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    bad = visit(
        channel="congress_referral",
        petitioners=[
            {
                "name": "张三",
                "resident_id": ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"),
                "phone": "12345",
            }
        ],
        head_count=0,
    )
    del bad["summary"]

    response = await client.post("/api/v1/submissions", json=bad, headers=auth())

    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert "petitioners.0.resident_id" in fields
    assert "校验位" in fields["petitioners.0.resident_id"]
    assert "check character" in fields["petitioners.0.resident_id"]
    assert "petitioners.0.phone" in fields
    assert "head_count" in fields
    assert fields["summary"] == "必填 / required"
    assert await store.read_all_raw() == []

    unknown = await client.post(
        "/api/v1/submissions", json=visit(category="XX99", sub_bureau="999999"), headers=auth()
    )
    assert unknown.status_code == 422
    assert {f["field"] for f in unknown.json()["fields"]} == {"category", "sub_bureau"}
    referral = await client.post(
        "/api/v1/submissions", json=visit(channel="congress_referral"), headers=auth()
    )
    assert referral.status_code == 422
    assert "文号" in referral.text
    assert await store.read_all_raw() == []


async def test_tokens_roles_and_bureau_scope(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    assert (await client.post("/api/v1/submissions", json=visit())).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/api/v1/submissions", json=visit(), headers=bad)).status_code == 401
    handler = await client.post("/api/v1/submissions", json=visit(), headers=auth(role="handler"))
    assert handler.status_code == 403
    elsewhere = await client.post(
        "/api/v1/submissions", json=visit(), headers=auth(bureau="330103")
    )
    assert elsewhere.status_code == 403
    city = await client.post(
        "/api/v1/submissions", json=visit(), headers=auth(role="petition_office", bureau="3301")
    )
    assert city.status_code == 201
    assert len(await store.read_all_raw()) == 2  # only the city's registration was written


async def test_case_numbers_have_no_gap_under_concurrent_registrations(
    client: httpx.AsyncClient, auth: Token
) -> None:
    people = [resident_id(f"3301021985{i:04d}123") for i in range(20)]
    assert len(set(people)) == 20

    async def register(rid: str) -> str:
        body = visit(petitioners=[{"name": "赵六", "resident_id": rid}])
        response = await client.post("/api/v1/submissions", json=body, headers=auth())
        assert response.status_code == 201, response.text
        return str(response.json()["case_number"])

    numbers = await asyncio.gather(*(register(r) for r in people))

    assert sorted(numbers) == [f"330102-{YEAR}-{n:06d}" for n in range(1, 21)]


async def test_the_correlation_id_is_echoed_and_recorded(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    given = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    response = await client.post(
        "/api/v1/submissions", json=visit(), headers=auth() | {"X-Correlation-ID": given}
    )
    assert response.headers["X-Correlation-ID"] == given
    events = await events_of(store, response.json()["case_id"])
    assert {str(e.correlation_id) for e in events} == {given}
    made_up = await client.get("/health", headers={"X-Correlation-ID": "not-a-uuid"})
    assert made_up.headers["X-Correlation-ID"] != "not-a-uuid"
