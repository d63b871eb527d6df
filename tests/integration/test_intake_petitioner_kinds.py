"""Every petitioner the law allows (issue 13 item 5): each identity document registers with its
own check, sealed and blind-indexed under its own kind; anonymous accusations by letter or
online; representatives of a collective petition (Art. 20)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from petitions.eventstore import EventStore
from petitions.personal.masking import mask

from tests.conftest import Token
from tests.integration.test_intake_registration import visit
from tests.support.assignment import wait_taken_up

pytestmark = pytest.mark.integration

RECEIVED = "2026-11-04T09:00:00+08:00"
CREDIT_CODE = "9144030071526726XG"
# A 2023 permanent residence card: 9, province 31, nationality 156, born 1986-01-01, check 3.
PR_CARD = "931156198601010013"

KINDS: list[tuple[str, dict[str, Any], str, str]] = [
    # (field, petitioner, stored mask, blind-index value)
    (
        "passport",
        {"name": "John Smith", "passport": "E12345678", "passport_country": "USA"},
        "E1****678",
        "E12345678",
    ),
    (
        "hk_macau_permit",
        {"name": "陈大文", "hk_macau_permit": "H12345678"},
        "H1****78",
        "H12345678",
    ),
    ("taiwan_permit", {"name": "林志明", "taiwan_permit": "87654321"}, "87****21", "87654321"),
    (
        "permanent_residence_id",
        {"name": "Anna Müller", "permanent_residence_id": PR_CARD},
        "931156********0013",
        PR_CARD,
    ),
    (
        "permanent_residence_id",
        {"name": "Anna Müller", "permanent_residence_id": "DEU330000123456"},
        "DEU****3456",
        "DEU330000123456",
    ),
    (
        "credit_code",
        {"name": "临江某某科技有限公司", "credit_code": CREDIT_CODE},
        "9144****26XG",
        CREDIT_CODE,
    ),
]


def submission(petitioner: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return visit(received_at=RECEIVED, petitioners=[petitioner], **changes)


@pytest.mark.parametrize(("field", "petitioner", "masked", "indexed"), KINDS)
async def test_each_kind_registers_sealed_and_indexed(
    client: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    field: str,
    petitioner: dict[str, Any],
    masked: str,
    indexed: str,
) -> None:
    response = await client.post("/api/v1/submissions", json=submission(petitioner), headers=auth())

    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    opened, _ = await store.read_stream(f"case-{case_id}", reveal=False)
    record = opened.data.petitioners[0]
    assert record.id_kind == field
    assert getattr(record, field) == masked
    assert record.resident_id is None
    # The handling unit reads it in the clear (the dossier, a recorded read).
    dossier = await client.get(
        f"/api/v1/cases/{case_id}/dossier",
        params={"purpose": "handling"},
        headers=auth("handler", "330102", "handler-1"),
    )
    assert dossier.status_code == 200, dossier.text
    shown = dossier.json()["petitioners"][0]
    assert shown[field] == indexed
    assert shown["id_kind"] == field
    raw = await store.read_stream_raw(f"case-{case_id}")
    assert all(indexed not in r.data for r in raw)  # sealed: the number is nowhere in clear
    # Indexed under its own kind only (a token, never the number: see test_personal_data).
    kinds = await store.pool.fetch(
        "SELECT kind FROM personal.blind_index WHERE stream_id = $1", f"case-{case_id}"
    )
    assert [k["kind"] for k in kinds] == [field]


@pytest.mark.parametrize(
    ("petitioner", "where", "words"),
    [
        ({"name": "某公司", "credit_code": CREDIT_CODE[:17] + "Y"}, "credit_code", "校验位"),
        (
            {"name": "Anna", "permanent_residence_id": PR_CARD[:17] + "7"},
            "permanent_residence_id",
            "校验位",
        ),
        ({"name": "Smith", "passport": "E12", "passport_country": "USA"}, "passport", "5至20位"),
        (
            {"name": "Smith", "passport": "E1234567", "passport_country": "XYZ"},
            "passport_country",
            "ISO 3166",
        ),
        ({"name": "陈大文", "hk_macau_permit": "K12345678"}, "hk_macau_permit", "H 或 M"),
        ({"name": "林志明", "taiwan_permit": "8765432"}, "taiwan_permit", "8位数字"),
    ],
)
async def test_a_wrong_document_is_refused_by_field_and_nothing_is_written(
    client: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    petitioner: dict[str, Any],
    where: str,
    words: str,
) -> None:
    before = await store.pool.fetchval("SELECT count(*) FROM eventstore.events")
    response = await client.post("/api/v1/submissions", json=submission(petitioner), headers=auth())

    assert response.status_code == 422, response.text
    text = response.text
    assert where in text
    assert words in text
    assert await store.pool.fetchval("SELECT count(*) FROM eventstore.events") == before


async def test_repeat_detection_by_passport_and_its_issuing_state(
    client: httpx.AsyncClient, auth: Token
) -> None:
    smith = {"name": "John Smith", "passport": "E12345678", "passport_country": "USA"}
    first = await client.post("/api/v1/submissions", json=submission(smith), headers=auth())
    assert first.status_code == 201, first.text
    again = {**smith, "passport": "e1234 5678", "name": "JOHN SMITH"}
    second = await client.post("/api/v1/submissions", json=submission(again), headers=auth())
    assert second.status_code == 201, second.text
    assert second.json()["is_repeat"] is True
    assert second.json()["case_id"] == first.json()["case_id"]
    # The same number from another state is another person: never guessed to be the same.
    other = {**smith, "passport_country": "GBR"}
    third = await client.post("/api/v1/submissions", json=submission(other), headers=auth())
    assert third.status_code == 201, third.text
    assert third.json()["is_repeat"] is False


def anonymous_letter(**changes: Any) -> dict[str, Any]:
    defaults = {"channel": "letter", "category": "JK01", "summary": "匿名举报某民警收受财物"}
    return submission({"anonymous": True}, **(defaults | changes))


async def test_an_anonymous_accusation_by_letter_is_registered_and_handled(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    response = await client.post("/api/v1/submissions", json=anonymous_letter(), headers=auth())

    assert response.status_code == 201, response.text
    case = await wait_taken_up(assignment, auth, response.json()["case_id"])
    assert case["category_kind"] == "accusation"
    opened = (await store.read_stream(f"case-{case['case_id']}", reveal=False))[0]
    person = opened.data.petitioners[0]
    assert (person.id_kind, person.name, person.identifier) == ("anonymous", None, None)
    raw = await store.read_stream_raw(f"case-{case['case_id']}")
    assert all("收受财物" not in r.data for r in raw)  # sealed under its own subject
    # A second anonymous letter is never matched to the first automatically...
    again = await client.post("/api/v1/submissions", json=anonymous_letter(), headers=auth())
    assert again.status_code == 201, again.text
    assert again.json()["is_repeat"] is False
    # ...but a clerk who knows it is the same matter links it.
    linked = anonymous_letter(link_case_id=case["case_id"], link_reason="同一举报信复印件")
    third = await client.post("/api/v1/submissions", json=linked, headers=auth())
    assert third.status_code == 201, third.text
    assert third.json()["is_repeat"] is True
    assert third.json()["case_id"] == case["case_id"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"category": "SQ01"}, "只有检举控告可以匿名"),
        ({"channel": "visit"}, "来信或网上"),
        ({"channel": "phone"}, "来信或网上"),
    ],
)
async def test_anonymity_is_refused_outside_accusations_by_letter_or_online(
    client: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    changes: dict[str, Any],
    words: str,
) -> None:
    before = await store.pool.fetchval("SELECT count(*) FROM eventstore.events")
    response = await client.post(
        "/api/v1/submissions", json=anonymous_letter(**changes), headers=auth()
    )

    assert response.status_code == 422, response.text
    assert "petitioners" in response.text
    assert words in response.text
    assert await store.pool.fetchval("SELECT count(*) FROM eventstore.events") == before


async def test_an_anonymous_accusation_online_is_registered(
    client: httpx.AsyncClient, auth: Token
) -> None:
    response = await client.post(
        "/api/v1/submissions", json=anonymous_letter(channel="online"), headers=auth()
    )
    assert response.status_code == 201, response.text


async def test_a_collective_petition_records_its_representatives(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    reps = [
        {"name": "陈大文", "hk_macau_permit": "H12345678"},
        {"name": "林志明", "taiwan_permit": "87654321", "phone": "13900001111"},
    ]
    body = submission(
        {"name": "临江某某科技有限公司", "credit_code": CREDIT_CODE},
        head_count=30,
        representatives=reps,
    )
    response = await client.post("/api/v1/submissions", json=body, headers=auth())

    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    _, received = await store.read_stream(f"case-{case_id}", reveal=False)
    assert received.data.head_count == 30
    assert received.data.collective is True
    assert [r.id_kind for r in received.data.representatives] == [
        "hk_macau_permit",
        "taiwan_permit",
    ]
    assert received.data.representatives[1].taiwan_permit == mask("permit", "87654321")
    raw = await store.read_stream_raw(f"case-{case_id}")
    assert all("H12345678" not in r.data and "13900001111" not in r.data for r in raw)
    # A representative coming back alone is the same matter (repeat detection by permit).
    back = submission({"name": "林志明", "taiwan_permit": "87654321"})
    again = await client.post("/api/v1/submissions", json=back, headers=auth())
    assert again.status_code == 201, again.text
    assert again.json()["is_repeat"] is True
    assert again.json()["case_id"] == case_id
    # Representatives belong to a collective petition only (head count under the threshold).
    small = submission(
        {"name": "张三", "taiwan_permit": "11112222"}, head_count=3, representatives=reps[:1]
    )
    refused = await client.post("/api/v1/submissions", json=small, headers=auth())
    assert refused.status_code == 422
    assert "representatives" in refused.text
