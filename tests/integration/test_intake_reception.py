"""Leader reception days: the schedule from the duty roster, held or missed with the reason,
the leader's instruction on a visit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest
from petitions.bureaus import load_config
from petitions.eventstore import EventStore
from reporting.projections import create_read_pool, migrate, rebuild
from reporting.queries.figures import accompany_roster
from reporting.queries.periods import month as month_period

from tests.conftest import ROOT, TEST_NOW, Clock, Token
from tests.support.events import resident_id

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": "3301", "user": "office-01"}


@pytest.fixture
async def read_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_url, role="petitions_app")
    pool = await create_read_pool(database_url, role="petitions_app", max_size=4)
    yield pool
    await pool.close()


async def schedule(client: httpx.AsyncClient, auth: Token, **body: str) -> httpx.Response:
    payload = {"bureau": "3301", "first": "2026-09-28", "last": "2026-10-09", "place": "市局接访室"}
    payload.update(body)
    return await client.post("/api/v1/reception/schedule", json=payload, headers=auth(**OFFICE))


async def test_the_schedule_follows_the_roster_and_the_holiday_calendar(
    client: httpx.AsyncClient, auth: Token
) -> None:
    response = await schedule(client, auth)

    assert response.status_code == 201, response.text
    sessions = response.json()
    days = sorted({s["day"] for s in sessions})
    # National Day 2026: Oct 1-7 off; Sep 28-30 and Oct 8-9 are working days; Sat Oct 10 is a
    # make-up working day but outside the period.
    assert days == ["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09"]
    wednesday = [s for s in sessions if s["day"] == "2026-09-30"]
    assert any(s["chief_day"] for s in wednesday)
    assert all(not s["chief_day"] for s in sessions if s["day"] != "2026-09-30")

    again = await schedule(client, auth)
    assert again.json() == []  # scheduling the same period twice adds nothing


async def test_sub_bureau_heads_receive_on_wednesdays(
    client: httpx.AsyncClient, auth: Token
) -> None:
    response = await schedule(client, auth, bureau="330102", place="上城分局接访室")
    sessions = response.json()
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    if getattr(config.sub_bureau("330102"), "leaders", ()):
        # Its own leaders listed: one a working day, the head on Wednesday (issue 15).
        assert [s["day"] for s in sessions] == [
            "2026-09-28",
            "2026-09-29",
            "2026-09-30",
            "2026-10-08",
            "2026-10-09",
        ]
    else:
        assert [s["day"] for s in sessions] == ["2026-09-30"]
    (wednesday,) = [s for s in sessions if s["day"] == "2026-09-30"]
    assert (wednesday["leader_id"], wednesday["chief_day"]) == ("330102-head", True)


async def test_held_missed_and_instructions(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    sessions = (await schedule(client, auth, first="2026-11-23", last="2026-11-24")).json()
    first, second = sessions[0]["session_id"], sessions[1]["session_id"]
    office = auth(**OFFICE)

    uncoded = await client.post(
        f"/api/v1/reception/sessions/{second}/missed",
        json={"reason": "参加全省公安工作会议"},
        headers=office,
    )
    assert uncoded.status_code == 422, uncoded.text
    assert [f["field"] for f in uncoded.json()["fields"]] == ["reason_code"]
    missed = await client.post(
        f"/api/v1/reception/sessions/{second}/missed",
        json={"reason_code": "meeting", "reason": "参加全省公安工作会议"},
        headers=office,
    )
    assert missed.status_code == 204
    held = await client.post(
        f"/api/v1/reception/sessions/{first}/held",
        json={"held_by": "L01", "note": "来访人钱七情绪激动"},
        headers=office,
    )
    assert held.status_code == 204
    twice = await client.post(
        f"/api/v1/reception/sessions/{first}/missed",
        json={"reason_code": "other"},
        headers=office,
    )
    assert twice.status_code == 409

    case = await client.post("/api/v1/submissions", json=_visit(first), headers=office)
    assert case.status_code == 201, case.text
    case_id = case.json()["case_id"]
    instruction = await client.post(
        f"/api/v1/reception/sessions/{first}/instructions",
        json={
            "case_id": case_id,
            "instruction": "请上城分局一周内核查回复",
            "needs_party_committee": False,
        },
        headers=office,
    )
    assert instruction.status_code == 201, instruction.text
    # No date from the leader: 10 working days after Mon 23 Nov 2026 (Nov 24-27, 30, Dec 1-4,
    # Dec 7); nobody named: the sub-bureau the case concerns (not yet assigned).
    assert instruction.json()["due_on"] == "2026-12-07"
    assert instruction.json()["due_set_by"] == "default"
    assert instruction.json()["answering_unit"] == "330102"

    listed = await client.get(
        "/api/v1/reception/sessions",
        params={"bureau": "3301", "first": "2026-11-23", "last": "2026-11-24"},
        headers=office,
    )
    by_id = {s["session_id"]: s for s in listed.json()}
    assert by_id[first]["state"] == "held"
    assert by_id[first]["instructions"] == 1
    assert by_id[second]["state"] == "missed"
    assert by_id[second]["missed_reason_code"] == "meeting"
    assert by_id[second]["missed_reason"] == "参加会议 meeting"  # the code, never the text
    history = await store.read_stream(f"reception-{first}", reveal=False)
    assert [e.event_type for e in history] == [
        "intake.ReceptionSessionScheduled",
        "intake.ReceptionSessionHeld",
    ]
    on_case = await store.read_stream(f"case-{case_id}", reveal=False)
    assert on_case[-1].event_type == "intake.LeaderInstructionRecorded"
    assert on_case[-1].actor == "office-01"


def _visit(session: str, name: str = "钱七") -> dict[str, object]:
    return {
        "channel": "visit",
        "received_at": TEST_NOW.isoformat(),
        "receiving_bureau": "3301",
        "receiving_officer": "接访领导",
        "reception_session_id": session,
        "petitioners": [{"name": name, "resident_id": resident_id("33010219700101555")}],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映案件久拖不决",
    }


async def test_reception_free_text_is_sealed_and_the_instruction_is_answered_once(
    client: httpx.AsyncClient, auth: Token, store: EventStore, clock: Clock
) -> None:
    """Issue 11 item 7 and issue 15: a session's note, a missed explanation, an instruction and
    its answer are stored sealed; the instruction names who answers by when; only that unit or
    the petition office answers, once; the dossier shows them in the clear, recorded."""
    office = auth(**OFFICE)
    sessions = (await schedule(client, auth, first="2026-09-29", last="2026-09-30")).json()
    tuesday, wednesday = sessions[0]["session_id"], sessions[1]["session_id"]
    assert (
        await client.post(
            f"/api/v1/reception/sessions/{tuesday}/missed",
            json={"reason_code": "illness", "reason": "王局长住院，电话13812345678"},
            headers=office,
        )
    ).status_code == 204
    assert (
        await client.post(
            f"/api/v1/reception/sessions/{wednesday}/held",
            json={"held_by": "L00", "note": "接待钱七，身份证330102197001015556"},
            headers=office,
        )
    ).status_code == 204
    case = await client.post("/api/v1/submissions", json=_visit(wednesday), headers=office)
    case_id = case.json()["case_id"]
    url = f"/api/v1/reception/sessions/{wednesday}/instructions"
    body = {"case_id": case_id, "instruction": "请核查钱七反映的问题"}
    for extra, field in (
        ({"answering_unit": "330103"}, "answering_unit"),  # another sub-bureau's
        ({"due_on": "2026-09-30"}, "due_on"),  # not after the session
    ):
        refused = await client.post(url, json=body | extra, headers=office)
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["message"]
    written = await store.stream_version(f"case-{case_id}")
    given = await client.post(url, json=body, headers=office)
    assert given.status_code == 201, given.text
    # Wed 30 Sep 2026 + 10 working days: Oct 8, 9, 10 (make-up Saturday), 12-16, 19, 20.
    assert given.json()["due_on"] == "2026-10-20"
    instruction_id = given.json()["instruction_id"]
    assert await store.stream_version(f"case-{case_id}") == written + 1

    raws = [
        *await store.read_stream_raw(f"reception-{tuesday}"),
        *await store.read_stream_raw(f"reception-{wednesday}"),
        *await store.read_stream_raw(f"case-{case_id}"),
    ]
    stored = "".join(r.data for r in raws)
    for clear in ("13812345678", "王局长", "330102197001015556", "请核查钱七"):
        assert clear not in stored
    missed_raw = next(r for r in raws if r.event_type == "intake.ReceptionSessionMissed")
    assert '"reason_code":"illness"' in missed_raw.data.replace(" ", "")

    answer_url = f"/api/v1/cases/{case_id}/instructions/{instruction_id}/answer"
    clock.now = datetime(2026, 10, 21, 2, 0, tzinfo=UTC)  # a day late
    other = await client.post(
        answer_url,
        json={"answer": "已核查"},
        headers=auth(role="handler", bureau="330103", user="h-03"),
    )
    assert other.status_code == 404  # another sub-bureau does not see the case at all
    registrar = await client.post(
        answer_url, json={"answer": "已核查"}, headers=auth(role="handler", bureau="3301")
    )
    assert registrar.status_code == 403, registrar.text
    assert registrar.json()["error"] == "not_answering_unit"
    assert await store.stream_version(f"case-{case_id}") == written + 1
    unit = auth(role="sub_bureau_head", bureau="330102", user="head-330102")
    answered = await client.post(answer_url, json={"answer": "已约谈钱七并答复"}, headers=unit)
    assert answered.status_code == 201, answered.text
    assert answered.json() == {
        "instruction_id": instruction_id,
        "unit": "330102",
        "answered_on": "2026-10-21",
        "on_time": False,
    }
    again = await client.post(answer_url, json={"answer": "再答"}, headers=office)
    assert again.status_code == 409
    assert await store.stream_version(f"case-{case_id}") == written + 2
    assert "钱七并答复" not in (await store.read_stream_raw(f"case-{case_id}"))[-1].data

    dossier = await client.get(
        f"/api/v1/cases/{case_id}/dossier", params={"purpose": "handling"}, headers=office
    )
    assert dossier.status_code == 200, dossier.text
    texts = [a["text"] for a in dossier.json()["acts"]]
    assert {"instruction": "请核查钱七反映的问题"} in texts
    assert {"answer": "已约谈钱七并答复"} in texts
    (followed,) = dossier.json()["instructions"]
    assert (followed["due_on"], followed["answered_on"], followed["on_time"]) == (
        "2026-10-20",
        "2026-10-21",
        False,
    )


async def test_reception_needs_the_right_role_and_scope(
    client: httpx.AsyncClient, auth: Token
) -> None:
    body = {"bureau": "3301", "first": "2026-09-28", "last": "2026-09-28", "place": "x"}
    registrar = await client.post("/api/v1/reception/schedule", json=body, headers=auth())
    assert registrar.status_code == 403
    sub_office = await client.post(
        "/api/v1/reception/schedule",
        json=body,
        headers=auth(role="petition_office", bureau="330102"),
    )
    assert sub_office.status_code == 403
    unknown = await client.post(
        "/api/v1/submissions",
        json={
            "channel": "visit",
            "received_at": TEST_NOW.isoformat(),
            "receiving_bureau": "330102",
            "receiving_officer": "x",
            "reception_session_id": "00000000-0000-0000-0000-000000000001",
            "petitioners": [{"name": "钱七", "resident_id": resident_id("33010219700101555")}],
            "head_count": 1,
            "category": "SQ01",
            "sub_bureau": "330102",
            "summary": "s",
        },
        headers=auth(),
    )
    assert unknown.status_code == 422
    assert unknown.json()["fields"][0]["field"] == "reception_session_id"


async def test_found_by_fuzzing_are_clear_refusals_that_write_nothing(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    office = auth(**OFFICE)
    unknown = await client.get(
        "/api/v1/reception/sessions",
        params={"bureau": "999999", "first": "2026-01-01", "last": "2026-01-02"},
        headers=office,
    )
    assert unknown.status_code == 422
    into_2028 = await schedule(client, auth, first="2027-12-28", last="2028-01-08")
    assert into_2028.status_code == 422
    assert "2028" in into_2028.json()["message"]  # names the missing holiday file
    nul = await schedule(client, auth, place="接访\u0000室")
    assert nul.status_code == 422
    assert "NUL" in nul.json()["message"]
    assert await store.read_all_raw() == []  # the 2026 part of the period was not written either


async def test_the_heads_who_accompany_the_chief_are_recorded_and_reported(
    client: httpx.AsyncClient, auth: Token, store: EventStore, read_pool: asyncpg.Pool
) -> None:
    """陪同接访 (issue 15): at the city chief's Wednesday session the office records which
    sub-bureau heads came; the roster report lists them per session of its month."""
    office = auth(**OFFICE)
    city = (await schedule(client, auth, first="2026-11-25", last="2026-11-25")).json()
    (chief,) = [s for s in city if s["chief_day"]]
    sub = await schedule(client, auth, bureau="330102", first="2026-11-25", last="2026-11-25")
    (own,) = sub.json()
    url = "/api/v1/reception/sessions/{}/held"

    unknown = await client.post(
        url.format(chief["session_id"]),
        json={"held_by": "L01", "accompanied_by": ["330102", "9999"]},
        headers=office,
    )
    assert unknown.status_code == 422, unknown.text
    assert "9999" in unknown.json()["message"]
    at_a_sub_bureau = await client.post(
        url.format(own["session_id"]),
        json={"held_by": "head-330102", "accompanied_by": ["330105"]},
        headers=office,
    )
    assert at_a_sub_bureau.status_code == 422, at_a_sub_bureau.text
    assert at_a_sub_bureau.json()["error"] == "accompany_city_only"
    assert len(await store.read_stream(f"reception-{chief['session_id']}")) == 1  # nothing written

    held = await client.post(
        url.format(chief["session_id"]),
        json={"held_by": "L01", "accompanied_by": ["330105", "330102", "330105"]},
        headers=office,
    )
    assert held.status_code == 204, held.text
    (_, recorded) = await store.read_stream(f"reception-{chief['session_id']}")
    assert recorded.data.accompanied_by == ("330105", "330102")

    # Reporting folds it and the roster for November lists the session with its heads.
    await rebuild(store, read_pool, progress=False)
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    async with read_pool.acquire() as db:
        roster = await accompany_roster(db, config, month_period("2026-10"))
    sessions = [s for s in roster.sessions if s.day == date(2026, 11, 25)]
    assert [(s.state, [b.code for b in s.accompanied_by]) for s in sessions] == [
        ("held", ["330105", "330102"])
    ]
