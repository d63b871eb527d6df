"""Audit replay on real PostgreSQL: timeline, state as of a moment, verification, recorded reads,
the HTTP API and the ``petitions`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from petitions.bureaus import load_config
from petitions.eventstore import EventStore, Metadata, NewEvent, PersonalData
from petitions.identity import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    LocalIssuer,
    StaticJwks,
    TokenVerifier,
    authenticate,
    install_auth_errors,
)
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages.reporting import TimelineRead
from petitions.personal import BlindIndex, DataKeys, LocalKeyService
from reporting.adapters.postgres import PostgresCaseFinder
from reporting.audit import Audit, Reader, UnknownCaseError
from reporting.entrypoints.audit import router

from tests.support.events import resident_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RESIDENT_ID = resident_id("11010119900307123")
PHONE = "13812345678"
NUMBER = "3301-2026-000042"
CONFIG = load_config(ROOT / "deploy/config/bureaus.demo.toml")


def utc(text: str) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


@dataclass(frozen=True)
class Case:
    case_id: uuid.UUID
    number: str

    @property
    def stream(self) -> str:
        return f"case-{self.case_id}"


class Clock:
    def __init__(self) -> None:
        self.now = utc("2025-11-03T10:00")

    def __call__(self) -> datetime:
        return self.now


async def _build_case(pool: asyncpg.Pool, kek: bytes) -> Case:
    """An imported case: registered and accepted in late 2025, entered in February 2026, then
    handled live; recorded times come from a clock the test sets."""
    clock = Clock()
    writer = EventStore(
        pool,
        clock=clock,
        personal=PersonalData(DataKeys(pool, LocalKeyService(kek)), BlindIndex(os.urandom(32))),
    )
    case_id, subject = uuid.uuid4(), uuid.uuid4()
    stream = f"case-{case_id}"
    registered = i.CaseRegistered(
        subject_id=subject,
        case_id=case_id,
        case_number=NUMBER,
        bureau="3301",
        responsible_officer="clerk-01",
        sub_bureau="330102",
        category="C01",
        category_kind="complaint_demand",
        petitioners=(
            i.PetitionerRecord(
                subject_id=subject,
                name="张三丰",
                resident_id=RESIDENT_ID,
                phone=PHONE,
                address="临江市江城区解放路100号",
            ),
        ),
        first_submission_id=uuid.uuid4(),
    )
    received = i.SubmissionReceived(
        subject_id=subject,
        case_id=case_id,
        submission_id=registered.first_submission_id,
        channel=i.Channel.VISIT,
        received_at=utc("2025-11-03T10:00"),
        receiving_bureau="3301",
        receiving_officer="clerk-01",
        head_count=1,
        collective=False,
        petitioner_subjects=(subject,),
        summary=f"拆迁补偿纠纷，联系电话 {PHONE}",
        requests="依法补偿",
        preliminary_assessment=i.Assessment.UNDETERMINED,
        is_repeat=False,
    )

    async def append(
        events: list[tuple[Event, datetime]], recorded: str, actor: str, service: str
    ) -> None:
        clock.now = utc(recorded)
        await writer.append(
            stream,
            [NewEvent(e, bureau="3301", occurred_at=at) for e, at in events],
            await writer.stream_version(stream),
            metadata=Metadata(actor=actor, service=service),
        )

    imported = utc("2025-11-03T10:00")
    await append(
        [(registered, imported), (received, imported)], "2026-02-10T09:00", "imp-1", "intake"
    )
    await append(
        [
            (
                a.WorkflowOpened(
                    case_id=case_id,
                    case_number=NUMBER,
                    bureau="3301",
                    sub_bureau="330102",
                    category="C01",
                    category_kind="complaint_demand",
                    received_on=date(2025, 11, 3),
                    acceptance_due=date(2025, 11, 18),
                    referral=False,
                    congress=False,
                ),
                utc("2025-11-04T09:00"),
            ),
            (
                a.CaseAccepted(
                    case_id=case_id, accepted_on=date(2025, 11, 10), handling_due=date(2026, 1, 9)
                ),
                utc("2025-11-10T15:00"),
            ),
        ],
        "2026-02-20T10:00",
        "imp-1",
        "assignment",
    )
    now = utc("2026-02-25T14:00")
    await append(
        [
            (
                a.CaseAssigned(
                    subject_id=subject,
                    case_id=case_id,
                    unit="330102",
                    officer="handler-7",
                    reason="属地",
                ),
                now,
            )
        ],
        "2026-02-25T14:00",
        "office-2",
        "assignment",
    )
    replied = utc("2026-03-05T16:00")
    reply = a.ReplyIssued(
        subject_id=subject,
        case_id=case_id,
        outcome=a.Outcome.SUPPORT,
        legal_basis="信访工作条例第三十二条",
        summary="支持补偿请求",
        replied_on=date(2026, 3, 5),
        on_time=False,
        review_request_until=date(2026, 4, 4),
    )
    await append([(reply, replied)], "2026-03-05T16:00", "handler-7", "assignment")
    return Case(case_id, NUMBER)


@pytest.fixture
async def case(pool: asyncpg.Pool, kek: bytes) -> Case:
    return await _build_case(pool, kek)


@pytest.fixture
async def read_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The reporting read pool as the service has it: ``reporting`` first on the search path
    (the schema does not exist until a test builds it)."""
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, server_settings={"search_path": "reporting"}
    )
    assert pool is not None
    yield pool
    await pool.close()


AUDITOR = Reader(name="inspector-9", role="auditor", purpose="专项督察 inspection")


async def _tamper(database_url: str, statement: str) -> None:
    """As the owner, with the append-only trigger off: what only a privileged forger can do."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await conn.execute(statement)
        await conn.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------- use case


async def test_timeline_shows_both_times_masked_data_and_hashes(
    store: EventStore, read_pool: asyncpg.Pool, case: Case
) -> None:
    timeline = await Audit(store, PostgresCaseFinder(store, read_pool)).timeline(
        case.number, AUDITOR, verify=True
    )

    assert timeline.case_id == case.case_id
    assert [e.version for e in timeline.entries] == [1, 2, 3, 4, 5, 6]
    first, *_, last = timeline.entries
    assert first.label == "登记立案 case registered"
    assert first.occurred_at.isoformat() == "2025-11-03T10:00:00+08:00"
    assert first.recorded_at.isoformat() == "2026-02-10T09:00:00+08:00"
    assert first.backdated
    assert not last.backdated
    assert (first.actor, first.service, last.actor) == ("imp-1", "intake", "handler-7")
    assert "张**" in first.summary
    assert len(first.hash) == 64
    text = timeline.model_dump_json()
    assert RESIDENT_ID not in text
    assert PHONE not in text
    assert "张三丰" not in text
    assert timeline.verification is not None
    assert timeline.verification.ok
    assert timeline.verification.events_checked == 6
    assert timeline.state.state == "replied"
    assert timeline.state.justified is True


async def test_state_between_events_by_recorded_and_by_occurred_time(
    store: EventStore, read_pool: asyncpg.Pool, case: Case
) -> None:
    audit = Audit(store, PostgresCaseFinder(store, read_pool))

    then = await audit.state_as_of(case.number, AUDITOR, as_of=utc("2026-03-01T09:00"))
    assert then.state.state == "handling"
    assert (then.state.responsible_unit, then.state.responsible_officer) == ("330102", "handler-7")
    assert then.state.handling_due == date(2026, 1, 9)
    assert then.state.outcome is None
    assert then.state.version == 5

    # On 2026-01-01 nothing of the case was recorded yet; by when things happened, it was being
    # handled: imported history answers "what was true", recorded time "what was known".
    known = await audit.timeline(case.number, AUDITOR, as_of=datetime(2026, 1, 1))
    assert known.entries == []
    assert known.state.state == "not_registered"
    assert known.stream_version == 6
    happened = await audit.timeline(case.number, AUDITOR, as_of=datetime(2026, 1, 1), by="occurred")
    assert [e.version for e in happened.entries] == [1, 2, 3, 4]
    assert happened.state.state == "handling"
    assert happened.as_of is not None
    assert happened.as_of.isoformat() == "2026-01-01T00:00:00+08:00"


async def test_every_read_is_recorded_on_the_audit_stream(
    store: EventStore, read_pool: asyncpg.Pool, case: Case
) -> None:
    audit = Audit(store, PostgresCaseFinder(store, read_pool))
    first = await audit.timeline(case.number, AUDITOR, as_of=utc("2026-03-01T09:00"), verify=True)
    await audit.state_as_of(case.number, Reader("admin-1", "admin", via="api"))

    stored = await store.read_stream(f"audit-{case.case_id}", reveal=False)
    assert [type(e.data) for e in stored] == [TimelineRead, TimelineRead]
    assert (stored[0].actor, stored[0].service) == ("inspector-9", "reporting")
    read: TimelineRead = stored[0].data
    assert (read.case_id, read.reader, read.role, read.verified) == (
        case.case_id,
        "inspector-9",
        "auditor",
        True,
    )
    assert read.purpose == "专项督察 inspection"
    assert read.as_of == utc("2026-03-01T09:00")
    assert first.read.version == 1
    assert stored[1].data.view == "state"

    reads = await audit.reads(case.number)
    assert [r.reader for r in reads.reads] == ["inspector-9", "admin-1"]
    assert reads.verification.ok
    assert reads.reads[0].read_at.utcoffset() is not None
    assert str(reads.reads[0].read_at.isoformat()).endswith("+08:00")
    assert (await store.verify(f"audit-{case.case_id}")).ok


async def test_case_numbers_resolve_through_read_models_or_the_store(
    store: EventStore, read_pool: asyncpg.Pool, case: Case, database_url: str
) -> None:
    audit = Audit(store, PostgresCaseFinder(store, read_pool))
    # No read models at all yet: the registration event answers.
    assert (await audit.timeline(case.number, AUDITOR)).case_id == case.case_id
    with pytest.raises(UnknownCaseError, match="请核对案号"):
        await audit.timeline("3301-2026-999999", AUDITOR)

    # Read models present: a number only they know (a renumbered case, say) resolves too.
    schema = (ROOT / "services/reporting/src/reporting/projections/schema.sql").read_text()
    owner = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    try:
        await owner.execute("CREATE SCHEMA reporting")
        await owner.execute(schema)
        await owner.execute(
            "INSERT INTO cases (case_id, case_number, bureau, sub_bureau, category, "
            "category_kind, petitioners, petitioner_ids, subjects, head_count, channel, "
            "first_received_at, registered_at, first_receiver, state, preliminary_assessment, "
            "version) VALUES ($1, 'ALIAS-7', '3301', '330102', 'C01', 'complaint_demand', "
            "'张**', '', '{}', 1, 'visit', now(), now(), 'clerk-01', 'replied', "
            "'undetermined', 6)",
            case.case_id,
        )
    finally:
        await owner.close()
    aliased = await audit.timeline("ALIAS-7", AUDITOR)
    assert (aliased.case_id, aliased.case_number) == (case.case_id, "ALIAS-7")
    assert (await audit.timeline(case.number, AUDITOR)).case_id == case.case_id


async def test_tampering_is_reported_where_it_breaks(
    store: EventStore, read_pool: asyncpg.Pool, case: Case, database_url: str
) -> None:
    await _tamper(
        database_url,
        "UPDATE eventstore.events SET actor = 'someone-else' "
        f"WHERE stream_id = '{case.stream}' AND version = 4",
    )
    timeline = await Audit(store, PostgresCaseFinder(store, read_pool)).timeline(
        case.number, AUDITOR, verify=True
    )
    assert timeline.verification is not None
    assert not timeline.verification.ok
    assert timeline.verification.first_bad_version == 4
    assert timeline.verification.events_checked == 3
    assert timeline.read.verified is False


# ---------------------------------------------------------------------------------- HTTP


@pytest.fixture
async def api(
    store: EventStore, read_pool: asyncpg.Pool, issuer: LocalIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    app = FastAPI()
    install_auth_errors(app)
    app.include_router(
        router(
            lambda: store,
            lambda: Audit(store, PostgresCaseFinder(store, read_pool)),
            authenticate(lambda: verifier),
            config=CONFIG,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as http:
        yield http


Auth = Any


async def test_api_timeline_state_and_reads(
    api: httpx.AsyncClient, auth: Auth, case: Case, store: EventStore
) -> None:
    auditor = auth(role="auditor", bureau="3301", user="inspector-9")
    got = await api.get(
        f"/api/v1/audit/cases/{case.number}/timeline",
        params={"verify": "true", "as_of": "2026-03-01T09:00", "purpose": "复核"},
        headers=auditor,
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert len(body["entries"]) == 5
    assert body["entries"][0]["recorded_at"] == "2026-02-10T09:00:00+08:00"
    assert body["entries"][0]["occurred_at"] == "2025-11-03T10:00:00+08:00"
    assert body["verification"]["ok"] is True
    assert body["state"]["state"] == "handling"
    assert body["as_of"] == "2026-03-01T09:00:00+08:00"
    assert RESIDENT_ID not in got.text
    assert PHONE not in got.text

    state = await api.get(
        f"/api/v1/audit/cases/{case.number}/state",
        params={"as_of": "2026-03-06T00:00:00+08:00"},
        headers=auth(role="petition_office", bureau="3301", user="office-1"),
    )
    assert state.status_code == 200, state.text
    assert state.json()["state"]["state"] == "replied"

    happened = await api.get(
        f"/api/v1/audit/cases/{case.number}/state",
        params={"as_of": "2026-01-01T00:00", "by": "occurred"},
        headers=auditor,
    )
    assert happened.json()["state"]["state"] == "handling"
    wrong = await api.get(
        f"/api/v1/audit/cases/{case.number}/state", params={"by": "whenever"}, headers=auditor
    )
    assert wrong.status_code == 422

    reads = await api.get(f"/api/v1/audit/cases/{case.number}/reads", headers=auditor)
    assert reads.status_code == 200
    listed = reads.json()["reads"]
    assert [(r["reader"], r["role"], r["view"]) for r in listed] == [
        ("inspector-9", "auditor", "timeline"),
        ("office-1", "petition_office", "state"),
        ("inspector-9", "auditor", "state"),
    ]
    assert listed[0]["purpose"] == "复核"
    assert len(await store.read_stream(f"audit-{case.case_id}", reveal=False)) == 3


@pytest.mark.parametrize(
    ("role", "bureau"),
    [("handler", "330102"), ("registrar", "3301"), ("petition_office", "330102")],
)
async def test_api_refuses_others_in_both_languages(
    api: httpx.AsyncClient, auth: Auth, case: Case, store: EventStore, role: str, bureau: str
) -> None:
    got = await api.get(
        f"/api/v1/audit/cases/{case.number}/timeline", headers=auth(role=role, bureau=bureau)
    )
    assert got.status_code == 403
    message = got.json()["message"]
    assert "审计" in message or "信访科" in message
    assert "auditor" in message or "petition office" in message
    assert await store.stream_version(f"audit-{case.case_id}") == 0  # a refusal reads nothing


async def test_api_unknown_case_and_openapi(api: httpx.AsyncClient, auth: Auth) -> None:
    got = await api.get(
        "/api/v1/audit/cases/3301-2026-999999/timeline", headers=auth(role="auditor")
    )
    assert got.status_code == 404
    assert got.json()["error"] == "case_not_found"
    assert "check the number" in got.json()["message"]
    assert "核对案号" in got.json()["message"]
    assert (await api.get("/api/v1/audit/cases/x/timeline")).status_code == 401

    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    for view in ("timeline", "state", "reads"):
        assert f"/api/v1/audit/cases/{{case_number}}/{view}" in paths
    ok = paths["/api/v1/audit/cases/{case_number}/timeline"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/Timeline")
    assert "TimelineEntry" in spec["components"]["schemas"]


# ---------------------------------------------------------------------------------- scope

ACCUSATION = "330103-2026-000007"


async def _accusation(
    pool: asyncpg.Pool,
    kek: bytes,
    number: str = ACCUSATION,
    bureau: str = "330103",
    accused_units: tuple[str, ...] = ("330103",),
    accused_officers: tuple[str, ...] = (" p330103011",),
) -> uuid.UUID:
    """An accusation (by default received by sub-bureau 330103 against itself and officer
    P330103011), handled by the city's discipline office."""
    writer = EventStore(
        pool,
        personal=PersonalData(DataKeys(pool, LocalKeyService(kek)), BlindIndex(os.urandom(32))),
    )
    case_id, subject = uuid.uuid4(), uuid.uuid4()
    registered = i.CaseRegistered(
        subject_id=subject,
        case_id=case_id,
        case_number=number,
        bureau=bureau,
        responsible_officer="clerk-03",
        sub_bureau=bureau,
        category="JK01",
        category_kind="accusation",
        petitioners=(i.PetitionerRecord(subject_id=subject, name="李四", resident_id=RESIDENT_ID),),
        first_submission_id=uuid.uuid4(),
        accused_units=accused_units,
        accused_officers=accused_officers,
    )
    assigned = a.CaseAssigned(
        subject_id=subject, case_id=case_id, unit="jijian", officer=None, reason="第三十条"
    )
    at = utc("2026-11-04T10:00")
    await writer.append(
        f"case-{case_id}",
        [
            NewEvent(registered, bureau="330103", occurred_at=at),
            NewEvent(assigned, bureau="330103"),
        ],
        0,
        metadata=Metadata(actor="clerk-03", service="intake"),
    )
    return case_id


@pytest.mark.parametrize(
    ("role", "bureau", "user"),
    [
        ("auditor", "330103", "inspector-3"),  # the accused sub-bureau's own auditor
        ("admin", "330103", "admin-3"),
        ("auditor", "3301", "P330103011"),  # the accused officer, even as a city auditor
        ("auditor", "330102", "inspector-2"),  # another sub-bureau: outside its scope
    ],
)
async def test_api_hides_an_accusation_from_the_accused_and_other_scopes(
    api: httpx.AsyncClient,
    auth: Auth,
    pool: asyncpg.Pool,
    kek: bytes,
    store: EventStore,
    role: str,
    bureau: str,
    user: str,
) -> None:
    case_id = await _accusation(pool, kek)
    headers = auth(role=role, bureau=bureau, user=user)
    for view in ("timeline", "state", "reads"):
        got = await api.get(f"/api/v1/audit/cases/{ACCUSATION}/{view}", headers=headers)
        assert got.status_code == 404, got.text
        # The same answer as for a number no case has: nothing tells the accused it exists.
        assert got.json()["error"] == "case_not_found"
    assert await store.stream_version(f"audit-{case_id}") == 0


async def test_api_hides_an_accused_department_from_its_staff(
    api: httpx.AsyncClient, issuer: LocalIssuer, pool: asyncpg.Pool, kek: bytes
) -> None:
    number = "3301-2026-000099"
    await _accusation(pool, kek, number, "3301", accused_units=("DUCHA ",), accused_officers=())

    def auditor(department: str) -> dict[str, str]:
        token = issuer.mint("inspector-5", "auditor", "3301", department=department)
        return {"Authorization": f"Bearer {token}"}

    path = f"/api/v1/audit/cases/{number}/timeline"
    assert (await api.get(path, headers=auditor("ducha"))).status_code == 404
    assert (await api.get(path, headers=auditor("jijian"))).status_code == 200


async def test_api_refuses_an_unconfigured_bureau_and_records_nothing(
    api: httpx.AsyncClient, auth: Auth, case: Case, store: EventStore
) -> None:
    got = await api.get(
        f"/api/v1/audit/cases/{case.number}/timeline", headers=auth(role="auditor", bureau="9999")
    )
    assert got.status_code == 403
    assert got.json()["error"] == "bureau_unknown"
    assert "单位配置" in got.json()["message"]
    assert "not configured" in got.json()["message"]
    assert await store.stream_version(f"audit-{case.case_id}") == 0


async def test_reading_an_accusation_is_recorded_with_the_readers_bureau(
    api: httpx.AsyncClient, auth: Auth, pool: asyncpg.Pool, kek: bytes, case: Case
) -> None:
    case_id = await _accusation(pool, kek)
    city = auth(role="auditor", bureau="3301", user="inspector-9")
    got = await api.get(
        f"/api/v1/audit/cases/{ACCUSATION}/timeline", params={"purpose": "纪检"}, headers=city
    )
    assert got.status_code == 200, got.text
    assert got.json()["read"]["bureau"] == "3301"
    # A sub-bureau's auditor reads its own bureau's cases (here: one attributed to 330102).
    own = await api.get(
        f"/api/v1/audit/cases/{case.number}/state",
        headers=auth(role="auditor", bureau="330102", user="inspector-2"),
    )
    assert own.status_code == 200, own.text
    reads = await api.get(f"/api/v1/audit/cases/{ACCUSATION}/reads", headers=city)
    listed = reads.json()["reads"]
    assert [(r["reader"], r["bureau"], r["purpose"]) for r in listed] == [
        ("inspector-9", "3301", "纪检")
    ]
    assert str(case_id) == reads.json()["case_id"]


# ---------------------------------------------------------------------------------- CLI


async def _cli(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_LOG_FORMAT": "console",
    }
    env.pop("PETITIONS_REPORTING_DATABASE_URL", None)
    script = Path(sys.executable).with_name("petitions")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reporting.cli"]
    process = await asyncio.create_subprocess_exec(
        *command,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_prints_a_bilingual_timeline_and_records_the_read(
    database_url: str, case: Case, store: EventStore
) -> None:
    code, out, err = await _cli(
        database_url, "audit", NUMBER, "--as-of", "2026-03-01T09:00", "--verify",
        "--reader", "inspector-9", "--purpose", "年度检查",
    )  # fmt: skip
    assert code == 0, err
    assert "登记立案 case registered" in out
    assert "记录 recorded 2026-02-10 09:00:00+08:00" in out
    assert "发生 occurred 2025-11-03 10:00:00+08:00" in out
    assert "补录" in out
    assert "办理中 handling" in out
    assert "完整 OK" in out
    assert "#6" not in out  # recorded after the moment asked about
    assert RESIDENT_ID not in out + err
    assert PHONE not in out + err
    [read] = await store.read_stream(f"audit-{case.case_id}", reveal=False)
    assert (read.data.reader, read.data.role, read.data.via) == ("inspector-9", "cli", "cli")
    assert read.data.purpose == "年度检查"

    code, out, _ = await _cli(database_url, "audit", NUMBER, "--json")
    assert code == 0
    body = json.loads(out)
    assert len(body["entries"]) == 6
    assert body["read"]["reader"]  # the OS user
    assert body["read"]["via"] == "cli"
    assert body["verification"] is None
    assert RESIDENT_ID not in out
    assert PHONE not in out


async def test_cli_exit_codes(database_url: str, case: Case) -> None:
    await _tamper(
        database_url,
        "UPDATE eventstore.events SET data = '{\"forged\": true}'::json "
        f"WHERE stream_id = '{case.stream}' AND version = 6",
    )
    code, out, _ = await _cli(database_url, "audit", NUMBER, "--verify")
    assert code == 3
    assert "BROKEN at version 6" in out
    assert "forged: True" in out  # the forged row is shown as it is, not hidden
    assert out.count("fails verification") == 1

    code, _, err = await _cli(database_url, "audit", "3301-2026-999999")
    assert code == 2
    assert "check the number" in err

    code, _, err = await _cli(database_url, "audit", NUMBER, "--as-of", "next tuesday")
    assert code == 2
    assert "2026-03-01T09:00" in err


async def test_cli_rebuild_then_audit_finds_the_case_through_the_read_models(
    database_url: str, case: Case, read_pool: asyncpg.Pool
) -> None:
    await _cli(database_url, "audit", NUMBER)  # an audit stream in the log before the rebuild
    code, out, err = await _cli(database_url, "rebuild", "--quiet")
    assert code == 0, err
    assert "rebuilt" in out
    assert (
        await read_pool.fetchval("SELECT case_id FROM cases WHERE case_number = $1", NUMBER)
        == case.case_id
    )
    code, _, err = await _cli(database_url, "audit", NUMBER, "--verify")
    assert code == 0, err
