"""The audit replay use case on the in-memory ports (``reporting.adapters.memory``): a case is
found by its number, every read is recorded on its audit stream before it is answered, and an
unknown number (or a case outside the reader's reach) is the same error. The PostgreSQL adapter
runs the same use case in tests/integration/test_audit_replay.py."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from intake.adapters.memory import MemoryRegistrationStorage
from intake.application.register import Registrar
from intake.domain.commands import RegisterSubmission
from petitions.bureaus import BureauConfig, load_config
from petitions.eventstore import PersonalData
from petitions.eventstore.memory import InMemoryEventStore
from petitions.identity import Principal, Role
from petitions.personal import BlindIndex, MemoryDataKeys
from petitions.scope import reach
from reporting.adapters.memory import MemoryCaseFinder
from reporting.audit import Audit, Reader, UnknownCaseError

from tests.conftest import TEST_NOW, Clock

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
AUDITOR = Reader(name="auditor-01", role="auditor", purpose="抽查 spot check")


async def registered() -> tuple[InMemoryEventStore, str]:
    clock = Clock()
    index = BlindIndex(b"the audit replay unit tests' key")
    store = InMemoryEventStore(personal=PersonalData(MemoryDataKeys(), index), clock=clock)
    registrar = Registrar(MemoryRegistrationStorage(store), index, CONFIG, clock=clock)
    command = RegisterSubmission.model_validate(
        {
            "channel": "letter",
            "received_at": TEST_NOW - timedelta(hours=1),
            "receiving_bureau": "330102",
            "receiving_officer": "李警官",
            "petitioners": [{"name": "张三", "resident_id": "11010519491231002X"}],
            "head_count": 1,
            "category": "SQ01",
            "sub_bureau": "330102",
            "summary": "反映小区停车纠纷",
            "requests": "请求协调",
        }
    )
    case = await registrar.register(
        command,
        Principal("registrar1", Role.REGISTRAR, "330102"),
        idempotency_key=None,
        correlation_id=uuid.uuid4(),
    )
    return store, case.case_number


async def test_a_timeline_is_found_by_number_and_its_read_recorded_first() -> None:
    store, number = await registered()
    audit = Audit(store, MemoryCaseFinder(store))
    timeline = await audit.timeline(number, AUDITOR, verify=True)
    assert timeline.case_number == number
    assert timeline.entries[0].version == 1
    assert timeline.read.version == 1
    assert timeline.verification is not None
    reads = await audit.reads(number)
    assert [r.reader for r in reads.reads] == ["auditor-01"]


async def test_an_unknown_number_and_a_case_out_of_reach_are_the_same_error() -> None:
    store, number = await registered()
    audit = Audit(store, MemoryCaseFinder(store))
    with pytest.raises(UnknownCaseError):
        await audit.timeline("LJ-2026-330102-999999", AUDITOR)
    elsewhere = reach(Principal("auditor-06", Role.AUDITOR, "330106"), CONFIG)
    with pytest.raises(UnknownCaseError):
        await audit.timeline(number, Reader(name="auditor-06", role="auditor", scope=elsewhere))
    found = await MemoryCaseFinder(store).find(number)
    assert found is not None
    assert found.bureau == "330102"
    assert await store.stream_version(f"audit-{found.case_id}") == 0  # refused: nothing read
