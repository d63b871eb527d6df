"""Intake under the one scope rule, on real PostgreSQL: a registrar is never matched to, linked
to, nor shown a case they may not see (another bureau's, or an accusation against them or their
bureau, Art. 30), and a leader's instruction cannot name such a case; to them it does not exist.

The dates are fixed. Intake has no injectable clock yet and refuses a registrar's dates more than
30 days back, so these registrations are made by the import role, at the bureaus named: the scope
rule does not depend on the role (only a handler's reach differs, and handlers do not register).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from petitions.eventstore import EventStore

from tests.conftest import Token
from tests.support.events import resident_id

pytestmark = pytest.mark.integration

RECEIVED = "2026-11-04T09:00:00+08:00"  # an hour before the tests' clock (TEST_NOW)
WU = resident_id("33010219750505321")


def submission(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "visit",
        "received_at": RECEIVED,
        "receiving_bureau": "330102",
        "receiving_officer": "P330102001",
        "petitioners": [{"name": "吴六", "resident_id": WU}],
        "head_count": 1,
        "category": "JK01",
        "sub_bureau": "330102",
        "summary": "反映民警执法不规范",
        "requests": "要求查处",
    }
    body.update(changes)
    return body


async def register(
    client: httpx.AsyncClient, auth: Token, bureau: str, user: str, **changes: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/submissions",
        json=submission(receiving_bureau=bureau, **changes),
        headers=auth("registrar", bureau, user),
    )


async def accusation(client: httpx.AsyncClient, auth: Token) -> dict[str, Any]:
    """Wu accuses sub-bureau 330102's officer P330102007 at the city bureau."""
    got = await register(client, auth, "3301", "clerk-city", accused_officers=[" p330102007 "])
    assert got.status_code == 201, got.text
    return dict(got.json())


async def test_the_accused_registrar_gets_a_new_case_not_the_accusation(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    accused = await accusation(client, auth)
    stored = (await store.read_stream(f"case-{accused['case_id']}", reveal=False))[0].data
    assert stored.accused_officers == ("P330102007",)  # kept normalised
    # The accused officer registers the same person, category and sub-bureau at their desk.
    again = await register(client, auth, "330102", "P330102007")
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["case_id"] != accused["case_id"]
    assert accused["case_number"] not in again.text
    assert body["is_repeat"] is False
    assert len(await store.read_stream(f"case-{accused['case_id']}", reveal=False)) == 2
    # A colleague who is not accused is matched to it as before.
    colleague = await register(client, auth, "330102", "P330102008")
    assert colleague.json()["case_id"] in (accused["case_id"], body["case_id"])
    assert colleague.json()["is_repeat"] is True


async def test_an_accusation_against_the_unit_is_neither_matched_nor_listed_as_similar(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    got = await register(client, auth, "3301", "clerk-city", accused_units=["330102"])
    accused = got.json()
    forced = await register(client, auth, "330102", "clerk-01", force_new_reason="新的事实")
    assert forced.status_code == 201, forced.text
    assert forced.json()["similar_cases"] == []
    plain = await register(client, auth, "330102", "clerk-01")
    assert plain.json()["case_id"] != accused["case_id"]
    assert accused["case_number"] not in plain.text
    assert len(await store.read_stream(f"case-{accused['case_id']}", reveal=False)) == 2
    # The city bureau, which is not accused, still sees both as similar.
    city = await register(client, auth, "3301", "clerk-city", force_new_reason="另案")
    assert accused["case_number"] in city.json()["similar_cases"]


async def test_linking_to_a_case_out_of_scope_is_refused_as_if_it_did_not_exist(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    other = await register(client, auth, "330103", "clerk-03", category="SQ01", sub_bureau="330103")
    accused = await accusation(client, auth)
    missing = "00000000-0000-4000-8000-000000000000"
    answers = []
    for target, user in [
        (other.json()["case_id"], "clerk-01"),  # another bureau's case
        (accused["case_id"], "P330102007"),  # an accusation against the caller
        (missing, "clerk-01"),  # no case at all
    ]:
        got = await register(
            client, auth, "330102", user, link_case_id=target, link_reason="同一事项"
        )
        assert got.status_code == 404, got.text
        answers.append(got.json())
    assert answers[0] == answers[1] == answers[2]  # nothing tells them apart
    assert len(await store.read_stream(f"case-{other.json()['case_id']}", reveal=False)) == 2
    assert len(await store.read_stream(f"case-{accused['case_id']}", reveal=False)) == 2


async def test_an_instruction_cannot_name_a_case_out_of_scope(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    head = {"role": "leader", "bureau": "330102", "user": "head-330102"}
    scheduled = await client.post(
        "/api/v1/reception/schedule",
        json={"bureau": "330102", "first": "2026-11-04", "last": "2026-11-04", "place": "接访室"},
        headers=auth(**head),
    )
    assert scheduled.status_code == 201, scheduled.text
    session = scheduled.json()[0]["session_id"]
    held = await client.post(
        f"/api/v1/reception/sessions/{session}/held",
        json={"held_by": "head-330102"},
        headers=auth(**head),
    )
    assert held.status_code == 204, held.text
    own = await register(client, auth, "330102", "clerk-01", category="SQ01")
    other = await register(client, auth, "330103", "clerk-03", category="SQ01", sub_bureau="330103")
    answers = []
    for case_id in (other.json()["case_id"], "00000000-0000-4000-8000-000000000000"):
        got = await client.post(
            f"/api/v1/reception/sessions/{session}/instructions",
            json={"case_id": case_id, "instruction": "请核查", "needs_party_committee": False},
            headers=auth(**head),
        )
        assert got.status_code == 404, got.text
        answers.append(got.json())
    assert answers[0] == answers[1]
    ok = await client.post(
        f"/api/v1/reception/sessions/{session}/instructions",
        json={
            "case_id": own.json()["case_id"],
            "instruction": "请核查",
            "needs_party_committee": False,
        },
        headers=auth(**head),
    )
    assert ok.status_code == 201, ok.text
    history = await store.read_stream(f"case-{own.json()['case_id']}", reveal=False)
    assert [e.event_type for e in history][-1] == "intake.LeaderInstructionRecorded"
    assert sum(e.event_type == "intake.LeaderInstructionRecorded" for e in history) == 1
