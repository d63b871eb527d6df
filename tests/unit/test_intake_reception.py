"""Intake's leader reception days on the in-memory ports (``intake.adapters.memory``): the
schedule from the duty roster, held or missed, instructions, without a database. The PostgreSQL
adapter runs the same use case in tests/integration/test_intake_reception.py."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from intake.adapters.memory import MemoryReceptionStorage
from intake.application.reception import Reception
from intake.domain.registration import Refused
from petitions.bureaus import load_config, load_work_calendar
from petitions.eventstore import PersonalData
from petitions.eventstore.memory import InMemoryEventStore
from petitions.identity import Principal, Role
from petitions.messages.reception import MissedReason
from petitions.personal import MemoryDataKeys

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "deploy/config/bureaus.demo.toml")
CALENDAR = load_work_calendar(CONFIG)
OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")
WEEK = (date(2026, 11, 2), date(2026, 11, 6))  # Monday to Friday; Wednesday the chief's day


NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)  # the Wednesday of WEEK, 10:00 in Shanghai


def setup() -> tuple[Reception, MemoryReceptionStorage]:
    # Notes and reasons are sealed (they may name people): the store needs data keys.
    events = InMemoryEventStore(personal=PersonalData(MemoryDataKeys()), clock=lambda: NOW)
    storage = MemoryReceptionStorage(events)
    return Reception(storage, CONFIG, CALENDAR, clock=lambda: NOW), storage


async def test_a_week_is_scheduled_once_with_the_chief_on_wednesday() -> None:
    reception, storage = setup()
    created = await reception.schedule(OFFICE, "3301", *WEEK, "市局接待室")
    assert {s["day"] for s in created} == {date(2026, 11, d) for d in range(2, 7)}
    chief = [s for s in created if s["chief_day"]]
    assert [s["day"] for s in chief] == [date(2026, 11, 4)]
    assert await reception.schedule(OFFICE, "3301", *WEEK, "市局接待室") == []
    listed = await reception.list(OFFICE, "3301", *WEEK)
    assert [s["session_id"] for s in listed] == [s["session_id"] for s in created]
    streams = {r.stream_id for r in await storage.events.read_all_raw()}
    assert streams == {f"reception-{s['session_id']}" for s in created}


async def test_held_then_missed_is_refused_and_writes_nothing() -> None:
    reception, storage = setup()
    created = await reception.schedule(OFFICE, "3301", *WEEK, "市局接待室")
    wednesday = next(s["session_id"] for s in created if s["chief_day"])
    await reception.held(OFFICE, wednesday, "L01", "接待 3 批", accompanied_by=("330102",))
    row = storage.rows[wednesday]
    assert (row.state, row.held_by, row.version) == ("held", "L01", 2)
    appended = storage.events.appended
    with pytest.raises(Refused) as closed:
        await reception.missed(OFFICE, wednesday, MissedReason.MEETING, "临时会议")
    assert (closed.value.code, closed.value.status) == ("session_closed", 409)
    assert (storage.rows[wednesday], storage.events.appended) == (row, appended)
    with pytest.raises(Refused) as missing:
        await reception.held(OFFICE, uuid.uuid4(), "L01", "")
    assert missing.value.status == 404


async def test_an_instruction_needs_a_held_session_and_a_case_in_reach() -> None:
    reception, storage = setup()
    created = await reception.schedule(OFFICE, "3301", *WEEK, "市局接待室")
    monday = created[0]["session_id"]
    with pytest.raises(Refused) as not_held:
        await reception.instruct(OFFICE, monday, uuid.uuid4(), "依法办理", False)
    assert (not_held.value.code, not_held.value.status) == ("session_not_held", 409)
    await reception.held(OFFICE, monday, "L01", "")
    with pytest.raises(Refused) as unknown_case:
        await reception.instruct(OFFICE, monday, uuid.uuid4(), "依法办理", False)
    assert (unknown_case.value.code, unknown_case.value.status) == ("case_not_found", 404)
    assert storage.rows[monday].instructions == 0
