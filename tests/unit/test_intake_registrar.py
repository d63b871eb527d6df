"""Intake's ``Registrar`` and repeat matching on the in-memory ports (``intake.adapters.memory``):
case numbers, query codes, idempotency keys and the blind index, without a database. The
PostgreSQL adapter runs the same use case in tests/integration/test_intake_*.py."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from intake.adapters.memory import MemoryIdempotencyKeys, MemoryRegistrationStorage
from intake.application.ports import Remembered
from intake.application.register import InvalidCommand, Registered, Registrar
from intake.domain.commands import RegisterSubmission
from intake.domain.registration import Refused
from petitions.bureaus import BureauConfig, load_config
from petitions.eventstore import Metadata, NewEvent, PersonalData
from petitions.eventstore.memory import InMemoryEventStore
from petitions.identity import Principal, Role
from petitions.messages.assignment import CaseTerminated
from petitions.personal import BlindIndex, MemoryDataKeys

from tests.conftest import TEST_NOW, Clock

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
REGISTRAR = Principal("registrar1", Role.REGISTRAR, "330102")
OTHER_BUREAU = Principal("registrar9", Role.REGISTRAR, "330106")
ZHANG = {"name": "张三", "resident_id": "11010519491231002X", "phone": "13900001111"}
LI = {"name": "李四", "resident_id": "110101199003077774"}


def letter(petitioner: dict[str, Any] = ZHANG, **fields: Any) -> RegisterSubmission:
    body: dict[str, Any] = {
        "channel": "letter",
        "received_at": TEST_NOW - timedelta(hours=1),
        "receiving_bureau": "330102",
        "receiving_officer": "李警官",
        "petitioners": [petitioner],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映小区停车纠纷",
        "requests": "请求协调",
    }
    return RegisterSubmission.model_validate(body | fields)


class Setup:
    def __init__(self) -> None:
        self.clock = Clock()
        index = BlindIndex(b"the registrar unit tests' index key")
        self.store = InMemoryEventStore(
            personal=PersonalData(MemoryDataKeys(), index), clock=self.clock
        )
        self.storage = MemoryRegistrationStorage(self.store)
        self.registrar = Registrar(self.storage, index, CONFIG, clock=self.clock)
        self.index = index

    async def register(
        self,
        command: RegisterSubmission,
        principal: Principal = REGISTRAR,
        key: str | None = None,
    ) -> Registered:
        return await self.registrar.register(
            command, principal, idempotency_key=key, correlation_id=uuid.uuid4()
        )

    async def types(self, case_id: uuid.UUID) -> list[str]:
        return [r.event_type for r in await self.store.read_stream_raw(f"case-{case_id}")]

    def written(self) -> tuple[int, dict[tuple[str, int], int], int]:
        tables = self.storage.tables
        return (self.store.appended, dict(tables.case_numbers), len(tables.query_codes))


async def test_a_new_matter_gets_the_next_number_and_a_query_code() -> None:
    s = Setup()
    first = await s.register(letter())
    second = await s.register(letter(LI))
    assert (first.case_number, second.case_number) == ("330102-2026-000001", "330102-2026-000002")
    assert not first.is_repeat
    assert first.query_code is not None
    assert len(first.query_code) == 10
    assert await s.types(first.case_id) == ["intake.CaseRegistered", "intake.SubmissionReceived"]
    # Only the code's keyed token is kept, pointing at its case.
    token = s.index.token("query_code", first.query_code)
    assert s.storage.tables.query_codes[token] == first.case_id
    assert first.query_code.encode() not in s.storage.tables.query_codes


async def test_the_same_person_on_the_same_matter_is_a_repeat_on_that_case() -> None:
    s = Setup()
    first = await s.register(letter())
    again = await s.register(letter({**ZHANG, "phone": "13900002222"}, channel="visit"))
    assert again.is_repeat
    assert (again.case_id, again.case_number, again.query_code) == (
        first.case_id,
        first.case_number,
        None,
    )
    assert (await s.types(first.case_id))[-1] == "intake.SubmissionReceived"
    assert s.storage.tables.case_numbers == {("330102", 2026): 1}
    # Another category is another matter; a forced new case names the similar one.
    other = await s.register(letter(category="SQ02"))
    assert not other.is_repeat
    forced = await s.register(letter(force_new_reason="新的事实"))
    assert not forced.is_repeat
    assert forced.similar_cases == (first.case_number,)


async def test_matching_stays_within_the_registrars_reach_and_never_guesses() -> None:
    s = Setup()
    first = await s.register(letter())
    # Another bureau's registrar does not see the case: to them it does not exist.
    elsewhere = await s.register(
        letter(receiving_bureau="330106", sub_bureau="330102"), OTHER_BUREAU
    )
    assert not elsewhere.is_repeat
    assert elsewhere.case_id != first.case_id
    with pytest.raises(Refused) as refused:
        await s.register(
            letter(receiving_bureau="330106", link_case_id=first.case_id, link_reason="同一事项"),
            OTHER_BUREAU,
        )
    assert (refused.value.code, refused.value.status) == ("case_not_found", 404)
    # Anonymous accusations by letter are never matched automatically.
    anonymous = letter({"anonymous": True}, category="JK01")
    one, two = await s.register(anonymous), await s.register(anonymous)
    assert not two.is_repeat
    assert one.case_id != two.case_id


async def test_a_matter_terminated_after_re_review_is_refused_and_nothing_is_written() -> None:
    s = Setup()
    first = await s.register(letter())
    terminated = CaseTerminated(subject_id=uuid.uuid4(), case_id=first.case_id, reason="复核终结")
    await s.store.append(
        f"case-{first.case_id}",
        [NewEvent(terminated, bureau="330102")],
        2,
        metadata=Metadata(actor="leader-01", service="assignment"),
    )
    before = s.written()
    with pytest.raises(Refused) as refused:
        await s.register(letter())
    assert (refused.value.code, refused.value.status) == ("case_terminated", 409)
    with pytest.raises(InvalidCommand) as invalid:
        await s.register(letter(reception_session_id=uuid.uuid4()))
    assert [field for field, _ in invalid.value.problems] == ["reception_session_id"]
    assert s.written() == before


async def test_an_idempotency_key_answers_a_retry_once_and_refuses_another_body() -> None:
    s = Setup()
    first = await s.register(letter(), key="desk-1-0001")
    before = s.written()
    assert await s.register(letter(), key="desk-1-0001") == first
    assert s.written() == before
    with pytest.raises(Refused) as reused:
        await s.register(letter(LI), key="desk-1-0001")
    assert (reused.value.code, reused.value.status) == ("idempotency_key_reused", 422)
    assert s.written() == before
    # Keys are per principal: another registrar's same key is another request.
    colleague = Principal("registrar2", Role.REGISTRAR, "330102")
    assert (await s.register(letter(LI), colleague, key="desk-1-0001")).case_id != first.case_id


class FirstLookFindsNothing(MemoryIdempotencyKeys):
    """The same request sent twice at once, staged: this one looks its key up before the
    other one commits."""

    looked = 0

    async def find(self, principal: str, key: str) -> Remembered | None:
        self.looked += 1
        return None if self.looked == 1 else await super().find(principal, key)


async def test_a_registration_that_loses_its_key_in_the_transaction_writes_nothing() -> None:
    s = Setup()
    await s.register(letter(), key="k1")
    winner = await s.register(letter(LI), key="k2")
    before = s.written()
    s.storage.idempotency_keys = FirstLookFindsNothing(s.storage.tables)
    # Its transaction fails on the key: no events, its case number given back; it answers
    # what the other one answered.
    assert await s.register(letter(LI), key="k2") == winner
    assert s.written() == before
    wang = {"name": "王五", "passport": "E12345678", "passport_country": "USA"}
    assert (await s.register(letter(wang))).case_number == "330102-2026-000003"
