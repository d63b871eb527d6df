"""Issue 11, items 2 and 8 at intake: every text has a stated limit, an oversized or control-
character text is a 422 naming the field, an event still too large is a 413, a token of an
unconfigured bureau is a 403; nothing is written in any of these cases."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from intake.config import Settings as IntakeSettings
from intake.main import create_app as create_intake
from petitions.eventstore import EventStore
from petitions.identity import DEV_ISSUER, LocalIssuer

from tests.conftest import ROOT, Servers, Token
from tests.support.events import resident_id
from tests.support.openapi import unbounded

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": "3301", "user": "office-01"}
IMPORTER = {"role": "importer", "bureau": "3301", "user": "import-01"}
# Well in the past for any clock the suite runs on (the importer may register old submissions),
# and in a year whose holiday arrangement is configured.
RECEIVED_AT = "2026-11-03T10:00:00+08:00"


def submission(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "visit",
        "received_at": RECEIVED_AT,
        "receiving_bureau": "330102",
        "receiving_officer": "王警官",
        "petitioners": [{"name": "张三", "resident_id": resident_id("33010219800101123")}],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映邻居噪音扰民",
    }
    body.update(changes)
    return body


async def _nothing_written(store: EventStore) -> bool:
    return await store.read_all_raw() == []


async def test_every_request_text_and_list_states_its_limit_in_the_api_document(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert unbounded(document) == []
    schema = document["components"]["schemas"]["RegisterSubmission"]["properties"]
    assert schema["receiving_officer"]["maxLength"] == 100
    assert schema["accused_officers"]["items"]["maxLength"] == 100
    assert schema["summary"]["maxLength"] == 10_000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"receiving_officer": "王" * 101}, "receiving_officer"),
        ({"document_number": "字" * 101}, "document_number"),
        ({"force_new_reason": "因" * 2001}, "force_new_reason"),
        (
            {
                "link_case_id": "00000000-0000-4000-8000-000000000000",
                "link_reason": "因" * 2001,
            },
            "link_reason",
        ),
        ({"accused_units": ["3301" * 9]}, "accused_units.0"),
        ({"accused_officers": ["P330102007", "警" * 101]}, "accused_officers.1"),
        ({"summary": "长" * 10_001}, "summary"),
        ({"requests": "长" * 10_001}, "requests"),
    ],
)
async def test_an_oversized_registration_field_is_422_naming_it(
    client: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        "/api/v1/submissions", json=submission(**changes), headers=auth(**IMPORTER)
    )

    assert response.status_code == 422, response.text
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert list(fields) == [field]
    assert "过长" in fields[field]
    assert "too long" in fields[field]
    assert await _nothing_written(store)


async def test_oversized_petitioner_fields_are_422_naming_each(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    petitioner = {
        "name": "张" * 101,
        "resident_id": resident_id("33010219800101123"),
        "address": "路" * 101,
    }
    response = await client.post(
        "/api/v1/submissions",
        json=submission(petitioners=[petitioner]),
        headers=auth(**IMPORTER),
    )

    assert response.status_code == 422, response.text
    fields = {f["field"] for f in response.json()["fields"]}
    assert fields == {"petitioners.0.name", "petitioners.0.address"}
    assert await _nothing_written(store)


async def test_a_control_character_in_a_text_is_422_naming_the_field(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    response = await client.post(
        "/api/v1/submissions",
        json=submission(summary="反映\u0007噪音", receiving_officer="王\n警官"),
        headers=auth(**IMPORTER),
    )

    assert response.status_code == 422, response.text
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert set(fields) == {"summary", "receiving_officer"}
    assert "U+0007" in fields["summary"]
    assert "控制字符" in fields["summary"]
    assert "U+000A" in fields["receiving_officer"]  # a name is one line
    assert await _nothing_written(store)


async def test_reception_texts_have_limits_and_refuse_control_characters(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    office = auth(**OFFICE)
    schedule = {"bureau": "3301", "first": "2026-11-23", "last": "2026-11-23", "place": "接访室"}
    long_place = await client.post(
        "/api/v1/reception/schedule", json={**schedule, "place": "室" * 101}, headers=office
    )
    assert long_place.status_code == 422
    assert [f["field"] for f in long_place.json()["fields"]] == ["place"]
    assert await _nothing_written(store)

    sessions = (
        await client.post("/api/v1/reception/schedule", json=schedule, headers=office)
    ).json()
    session = sessions[0]["session_id"]
    written = len(await store.read_all_raw())
    held = f"/api/v1/reception/sessions/{session}/held"
    for body, field in [
        ({"held_by": "领" * 101}, "held_by"),
        ({"held_by": "局长", "note": "记" * 2001}, "note"),
        ({"held_by": "局长", "note": "记\u0007录"}, "note"),
    ]:
        answer = await client.post(held, json=body, headers=office)
        assert answer.status_code == 422, answer.text
        assert [f["field"] for f in answer.json()["fields"]] == [field]
    missed = await client.post(
        f"/api/v1/reception/sessions/{session}/missed",
        json={"reason_code": "meeting", "reason": "因" * 2001},
        headers=office,
    )
    assert missed.status_code == 422
    assert [f["field"] for f in missed.json()["fields"]] == ["reason"]
    instruction = await client.post(
        f"/api/v1/reception/sessions/{session}/instructions",
        json={"case_id": "00000000-0000-4000-8000-000000000000", "instruction": "批" * 2001},
        headers=office,
    )
    assert instruction.status_code == 422
    assert [f["field"] for f in instruction.json()["fields"]] == ["instruction"]
    assert len(await store.read_all_raw()) == written


async def test_a_token_of_an_unconfigured_bureau_is_403_not_a_server_error(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    stranger = auth(role="petition_office", bureau="9999", user="stranger")

    registered = await client.post("/api/v1/submissions", json=submission(), headers=stranger)
    scheduled = await client.post(
        "/api/v1/reception/schedule",
        json={"bureau": "3301", "first": "2026-11-23", "last": "2026-11-23", "place": "接访室"},
        headers=stranger,
    )
    listed = await client.get(
        "/api/v1/reception/sessions",
        params={"bureau": "3301", "first": "2026-11-23", "last": "2026-11-23"},
        headers=stranger,
    )

    for answer in (registered, scheduled, listed):
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == "bureau_not_configured"
        assert "9999" in answer.json()["message"]
        assert "不在本系统的单位配置中" in answer.json()["message"]
    assert await _nothing_written(store)


@pytest.fixture
async def small_events_client(
    database_url: str, servers: Servers, issuer: LocalIssuer, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Intake whose store takes events of at most 2 kB: a registration within every field limit
    is then too large, as a bigger one would be for NATS."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    settings = IntakeSettings(
        database_url=database_url,
        **servers.settings("intake"),
        run_relay=False,
        kek=base64.b64encode(os.urandom(16)).decode(),
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
        max_event_bytes=2048,
    )
    app = create_intake(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield http


async def test_an_event_too_large_to_store_is_413_and_writes_nothing(
    small_events_client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    response = await small_events_client.post(
        "/api/v1/submissions", json=submission(summary="长" * 1000), headers=auth(**IMPORTER)
    )

    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"] == "event_too_large"
    assert body["limit"] == 2048
    assert "过长" in body["message"]
    assert "too large" in body["message"]
    assert await _nothing_written(store)
    # The case number was not spent: the next registration that fits takes 000001.
    fits = await small_events_client.post(
        "/api/v1/submissions", json=submission(), headers=auth(**IMPORTER)
    )
    assert fits.status_code == 201, fits.text
    assert fits.json()["case_number"] == "330102-2026-000001"


@pytest.mark.parametrize(
    "received_at",
    ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00+00:00", "1800-03-01T09:00:00+08:00"],
)
async def test_a_received_time_at_the_ends_of_the_calendar_is_422(
    client: httpx.AsyncClient, auth: Token, store: EventStore, received_at: str
) -> None:
    response = await client.post(
        "/api/v1/submissions", json=submission(received_at=received_at), headers=auth(**IMPORTER)
    )

    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["received_at"]
    assert await _nothing_written(store)
