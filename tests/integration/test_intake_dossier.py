"""The case dossier (issue 13, part 1) through intake's API on real PostgreSQL: the people who
handle a case read it in the clear by number or id, every read lands in the store before the
answer, auditors list the reads per case and per reader; others get 403, those outside the
case's scope and the accused get 404, and a refused read writes nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from petitions.eventstore import EventStore, Metadata, PersonalData
from petitions.personal import DataKeys, LocalKeyService
from petitions.personal.codec import ERASED
from petitions.personal.masking import mask_free_text

from tests.conftest import Token
from tests.integration.test_intake_registration import ZHANG, visit
from tests.support.assignment import Who, command, wait_taken_up

pytestmark = pytest.mark.integration

HANDLER = ("handler", "330102", "handler-1")
AUDITOR = ("auditor", "3301", "auditor-1")


async def registered(client: httpx.AsyncClient, auth: Token, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/submissions", json=visit(**changes), headers=auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def read(
    client: httpx.AsyncClient,
    auth: Token,
    ref: str,
    who: tuple[str, str, str] = HANDLER,
    purpose: str | None = "handling",
) -> httpx.Response:
    params = {} if purpose is None else {"purpose": purpose}
    return await client.get(f"/api/v1/cases/{ref}/dossier", params=params, headers=auth(*who))


async def reads_recorded(store: EventStore, case_id: str) -> int:
    return await store.stream_version(f"reads-{case_id}")


async def test_a_handler_reads_the_case_in_the_clear_and_the_read_is_recorded(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    case_version = await store.stream_version(f"case-{case['case_id']}")

    response = await read(client, auth, case["case_number"])

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["case_id"] == case["case_id"]
    assert body["bureau"] == {"code": "330102", "name": "江城分局"}
    assert body["category"] == {"code": "SQ01", "name": "治安管理"}
    (petitioner,) = body["petitioners"]
    assert petitioner["name"] == "张三"
    assert petitioner["resident_id"] == ZHANG
    assert petitioner["phone"] == "13812345678"
    assert petitioner["address"] == "临江市上城区解放路1号"
    assert body["summary"] == "反映邻居噪音扰民，派出所处理不及时"
    assert body["requests"] == "要求依法处理"
    assert [s["summary"] for s in body["submissions"]] == [body["summary"]]
    assert body["purpose"] == {"code": "handling", "name": "办理", "name_en": "Handling the case"}
    assert body["read"]["stream_id"] == f"reads-{case['case_id']}"

    # The read is an event of its own stream; the case's version (commands' concurrency
    # token) does not move.
    (event,) = await store.read_stream(f"reads-{case['case_id']}", reveal=False)
    assert event.event_type == "intake.PersonalDataRead"
    assert event.actor == "handler-1"
    assert (event.data.reader, event.data.role, event.data.reader_bureau) == (
        "handler-1",
        "handler",
        "330102",
    )
    assert event.data.purpose == "handling"
    assert set(event.data.fields) == {
        "petitioners.name",
        "petitioners.resident_id",
        "petitioners.phone",
        "petitioners.address",
        "submissions.summary",
        "submissions.requests",
    }
    assert str(event.data.subjects[0]) == petitioner["subject_id"]
    assert await store.stream_version(f"case-{case['case_id']}") == case_version
    # The record of the read holds no personal data itself.
    (raw,) = await store.read_stream_raw(f"reads-{case['case_id']}")
    assert ZHANG not in raw.data
    assert "张三" not in raw.data

    # By id as well as by number: a second read, a second record.
    again = await read(client, auth, case["case_id"], purpose="reply")
    assert again.status_code == 200, again.text
    assert await reads_recorded(store, case["case_id"]) == 2


async def test_auditors_list_the_reads_per_case_and_per_reader(
    client: httpx.AsyncClient, auth: Token
) -> None:
    case = await registered(client, auth)
    office = ("petition_office", "3301", "office-01")
    assert (await read(client, auth, case["case_number"])).status_code == 200
    assert (await read(client, auth, case["case_id"], office, "supervision")).status_code == 200

    per_case = await client.get(
        "/api/v1/audit/reads", params={"case": case["case_number"]}, headers=auth(*AUDITOR)
    )
    assert per_case.status_code == 200, per_case.text
    listing = per_case.json()
    assert listing["verification"]["ok"] is True
    who = [(r["reader"], r["role"], r["reader_bureau"], r["purpose"]) for r in listing["reads"]]
    assert who == [
        ("handler-1", "handler", "330102", "handling"),
        ("office-01", "petition_office", "3301", "supervision"),
    ]
    first = listing["reads"][0]
    assert first["case_number"] == case["case_number"]
    assert first["role_label"] == "承办人"
    assert first["purpose_label"] == "办理 Handling the case"
    assert "petitioners.resident_id" in first["fields"]
    assert first["read_at"].endswith("+08:00")

    per_user = await client.get(
        "/api/v1/audit/reads", params={"user": "office-01"}, headers=auth(*AUDITOR)
    )
    assert per_user.status_code == 200, per_user.text
    assert [(r["case_id"], r["purpose"]) for r in per_user.json()["reads"]] == [
        (case["case_id"], "supervision")
    ]
    # An auditor of another sub-bureau sees neither the case's reads nor the reader's.
    elsewhere = ("auditor", "330103", "auditor-2")
    assert (
        await client.get(
            "/api/v1/audit/reads", params={"case": case["case_id"]}, headers=auth(*elsewhere)
        )
    ).status_code == 404
    foreign = await client.get(
        "/api/v1/audit/reads", params={"user": "office-01"}, headers=auth(*elsewhere)
    )
    assert foreign.status_code == 200
    assert foreign.json()["reads"] == []
    # Only auditors; exactly one of case and user.
    assert (
        await client.get(
            "/api/v1/audit/reads", params={"user": "office-01"}, headers=auth(*HANDLER)
        )
    ).status_code == 403
    both = await client.get(
        "/api/v1/audit/reads",
        params={"user": "office-01", "case": case["case_id"]},
        headers=auth(*AUDITOR),
    )
    assert both.status_code == 422, both.text


async def test_the_purpose_is_required_and_chosen_from_the_list(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    for purpose in (None, "curiosity", ""):
        response = await read(client, auth, case["case_number"], purpose=purpose)
        assert response.status_code == 422, response.text
        problems = response.json()["fields"]
        assert [p["field"].removeprefix("query.") for p in problems] == ["purpose"], problems
    unknown = await read(client, auth, case["case_number"], purpose="curiosity")
    message = unknown.json()["fields"][0]["message"]
    assert "handling 办理" in message
    assert "handling (Handling the case)" in message
    assert await reads_recorded(store, case["case_id"]) == 0


async def test_other_roles_get_403_and_those_outside_the_scope_404_and_nothing_is_written(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    number = case["case_number"]
    for who in [
        ("registrar", "330102", "clerk-01"),
        ("auditor", "3301", "auditor-1"),
        ("admin", "3301", "admin-1"),
        ("leader", "330102", "deputy-330102"),  # not a city leader and does not own it
    ]:
        response = await read(client, auth, number, who)
        assert response.status_code == 403, (who, response.text)
        assert "个人信息" in response.json()["message"]
    for who in [
        ("handler", "330103", "handler-9"),
        ("sub_bureau_head", "330103", "head-330103"),
        ("petition_office", "330103", "office-330103"),
    ]:
        response = await read(client, auth, number, who)
        assert response.status_code == 404, (who, response.text)
    for ref in ["330102-2026-999999", "00000000-0000-0000-0000-000000000000", "nonsense"]:
        response = await read(client, auth, ref)
        assert response.status_code == 404, (ref, response.text)
        assert "案件不存在" in response.json()["message"]
    assert await reads_recorded(store, case["case_id"]) == 0
    # Those who handle it: the unit's head, the city's petition office and leaders.
    for who in [
        ("sub_bureau_head", "330102", "head-330102"),
        ("petition_office", "330102", "office-330102"),
        ("petition_office", "3301", "office-01"),
        ("leader", "3301", "L03"),
    ]:
        response = await read(client, auth, number, who, "supervision")
        assert response.status_code == 200, (who, response.text)
    assert await reads_recorded(store, case["case_id"]) == 4


async def test_the_accused_never_see_the_accusation(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(
        client,
        auth,
        category="JK01",
        accused_units=["330102"],
        accused_officers=["赵警官"],
    )
    # The receiving bureau is itself accused: its handler and head get 404, as if the case did
    # not exist, and so does the accused officer wherever they sit.
    for who in [
        HANDLER,
        ("sub_bureau_head", "330102", "head-330102"),
        ("petition_office", "330102", "office-330102"),
        ("leader", "3301", "赵警官"),
        ("auditor", "330102", "auditor-330102"),
    ]:
        response = await read(client, auth, case["case_number"], who)
        assert response.status_code == 404, (who, response.text)
        listing = await client.get(
            "/api/v1/audit/reads", params={"case": case["case_number"]}, headers=auth(*who)
        )
        assert listing.status_code in (403, 404), (who, listing.text)
    assert await reads_recorded(store, case["case_id"]) == 0
    office = ("petition_office", "3301", "office-01")
    assert (await read(client, auth, case["case_id"], office)).status_code == 200
    # The accused unit's auditor does not see the read by reader either.
    by_reader = await client.get(
        "/api/v1/audit/reads",
        params={"user": "office-01"},
        headers=auth("auditor", "330102", "auditor-330102"),
    )
    assert by_reader.status_code == 200
    assert by_reader.json()["reads"] == []


async def test_the_handling_unit_and_the_owning_leader_follow_the_workflow(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    case_id = case["case_id"]
    await wait_taken_up(assignment, auth, case_id)
    # Reassigned from the receiving sub-bureau to another: its handlers read it, the first
    # unit's handlers no longer may (they still know it exists: 403, not 404).
    await command(
        assignment,
        auth,
        case_id,
        "assign",
        {"unit": "330103", "officer": "孙警官", "reason": "属地"},
    )
    assert (await read(client, auth, case_id, ("handler", "330103", "孙警官"))).status_code == 200
    assert (await read(client, auth, case_id, HANDLER)).status_code == 403
    # A leader outside the case's bureaus does not see it until they own it (包案).
    outside = ("leader", "330105", "L05")
    assert (await read(client, auth, case_id, outside)).status_code == 404
    await command(
        assignment,
        auth,
        case_id,
        "take_ownership",
        {"leader_id": "L05", "team": ["信访科"], "plan": "包案化解"},
        role="leader",
        bureau="3301",
        user="L01",
    )
    owned = await read(client, auth, case_id, outside)
    assert owned.status_code == 200, owned.text
    assert owned.json()["leader"] == {"id": "L05", "name": "邓素芳"}
    assert owned.json()["unit"] == {"code": "330103", "name": "鼓楼分局"}
    assert await reads_recorded(store, case_id) == 2


async def test_the_workflows_free_text_is_sealed_read_in_the_dossier_and_erased_with_the_person(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    personal_store: EventStore,
    kek: bytes,
) -> None:
    """A handler's note naming the petitioner is personal data (issue 11, item 7): stored and
    relayed sealed, masked in the workflow's own view, read in the clear only in the recorded
    dossier read, and unreadable once the petitioner is erased."""
    case = await registered(client, auth)
    case_id = case["case_id"]
    await wait_taken_up(assignment, auth, case_id)
    note = "已电话联系张三（13812345678），约定周五面谈"
    handler: Who = {"role": "handler", "bureau": "330102", "user": "handler-1"}
    await command(assignment, auth, case_id, "accept", {})
    done = await command(assignment, auth, case_id, "record_progress", {"note": note}, **handler)

    # Stored sealed: neither the note nor the phone in it is in the event's JSON.
    raws = await store.read_stream_raw(f"case-{case_id}")
    progress = next(r for r in raws if r.event_type == "assignment.ProgressRecorded")
    assert "13812345678" not in progress.data
    assert "张三" not in progress.data
    assert "$vault" in progress.data
    # Readers without the clear (reporting, the relay, audit) get its mask.
    masked = await store.decode_many([progress], reveal=False)
    assert masked[0].data.note == mask_free_text(note)
    assert done["case"]["progress_weeks"]

    body = (await read(client, auth, case_id)).json()
    (act,) = [a for a in body["acts"] if a["event_type"] == "assignment.ProgressRecorded"]
    assert act["text"] == {"note": note}
    assert act["actor"] == "handler-1"
    (event,) = await store.read_stream(f"reads-{case_id}", reveal=False)
    assert "acts.text" in event.data.fields

    # Erasing the first petitioner erases what was written about them in the workflow too.
    subject = body["petitioners"][0]["subject_id"]
    erased_by = Metadata(actor="admin-02", service="intake")
    assert await personal_store.erase_subject(UUID(subject), reason="测试", metadata=erased_by)
    # (Read by a process holding no cached key: intake's cache forgets within its expiry.)
    fresh = EventStore(
        store.pool,
        personal=PersonalData(DataKeys(store.pool, LocalKeyService(kek), cache_seconds=0)),
    )
    opened = await fresh.read_stream(f"case-{case_id}")
    (after,) = [e for e in opened if e.event_type == "assignment.ProgressRecorded"]
    assert after.data.note == ERASED
