"""Event store benchmark: appends from 1 and 8 writers and the decoded ordered read, each beside the
raw ceiling of the same server in the same run (plain asyncpg INSERT transactions into a table of
the same shape, and plain row reads); then, on ~1 KB events with sealed personal fields, the
decoded ordered read and ``verify_all`` beside the Python eventsourcing library's ordered read of
the same events in its own table of the same database (section 4, issue 17)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from petitions.db import create_pool
from petitions.eventstore import EventStore, Metadata, NewEvent, PersonalData, apply_migrations
from petitions.messages import Event
from petitions.personal import (
    Address,
    BlindIndex,
    DataKeys,
    LocalKeyService,
    Name,
    PersonalText,
    Phone,
    ResidentId,
    SubjectId,
)
from petitions.settings import CommonSettings
from pydantic import BaseModel, ConfigDict

RESULTS = Path(__file__).resolve().parent / "results" / "eventstore.json"
SECONDS = 5.0
READ_EVENTS = 200_000
META = Metadata(actor="bench", service="bench")


class ProgressRecorded(Event, type="bench.ProgressRecorded"):
    """A realistic small event: a weekly progress entry on a case."""

    case_number: str
    week: str
    officer: str
    note: str
    hours: int


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True)
    subject_id: SubjectId
    name: Name
    resident_id: ResidentId
    phone: Phone
    address: Address


class PlainContact(BaseModel):
    """The same shape as Contact with nothing marked personal: the baseline for its cost."""

    model_config = ConfigDict(frozen=True)
    subject_id: uuid.UUID
    name: str
    resident_id: str
    phone: str
    address: str


class PetitionerContacted(Event, type="bench.PetitionerContacted"):
    subject_id: SubjectId
    case_number: str
    petitioner: Contact
    note: PersonalText


class PetitionerContactedPlain(Event, type="bench.PetitionerContactedPlain"):
    subject_id: uuid.UUID
    case_number: str
    petitioner: PlainContact
    note: str


def _event(i: int) -> Event:
    return ProgressRecorded(
        case_number=f"3301-2026-{i:06d}",
        week="2026-W14",
        officer="王警官",
        note="已约谈信访人，调取相关材料，正在核实情况。",
        hours=i % 9,
    )


_SUBJECTS = [uuid.uuid4() for _ in range(400)]


def _contact_fields(i: int) -> dict[str, Any]:
    return {
        "subject_id": _SUBJECTS[i % len(_SUBJECTS)],
        "name": "张三丰",
        "resident_id": "11010519491231002X",
        "phone": "13812345678",
        "address": "浙江省杭州市西湖区文三路 100 号",
    }


def _pii_event(i: int) -> Event:
    return PetitionerContacted(
        subject_id=_SUBJECTS[i % len(_SUBJECTS)],
        case_number=f"3301-2026-{i:06d}",
        petitioner=Contact(**_contact_fields(i)),
        note="电话回访信访人，告知办理进度。",
    )


def _plain_twin(i: int) -> Event:
    return PetitionerContactedPlain(
        subject_id=_SUBJECTS[i % len(_SUBJECTS)],
        case_number=f"3301-2026-{i:06d}",
        petitioner=PlainContact(**_contact_fields(i)),
        note="电话回访信访人，告知办理进度。",
    )


async def _timed(writers: int, one: Callable[[int, int], Awaitable[None]]) -> float:
    """Run ``one(writer, i)`` in a loop on each writer for SECONDS; return operations per second."""
    done = [0] * writers
    stop = time.perf_counter() + SECONDS

    async def loop(w: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            await one(w, i)
            i += 1
        done[w] = i

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(writers)))
    return sum(done) / (time.perf_counter() - started)


async def _raw_insert(dsn: str, writers: int) -> float:
    """The ceiling: one dedicated connection per writer, a plain INSERT, nothing else."""
    tag = uuid.uuid4().hex[:6]
    conns = [await asyncpg.connect(dsn) for _ in range(writers)]
    row = (
        "case-raw",
        "bench.ProgressRecorded",
        1,
        "3301",
        _event(0).model_dump_json(),
        "bench",
        "bench",
        uuid.uuid4(),
        datetime.now(UTC),
        "sm3",
        bytes(32),
    )

    async def one(w: int, i: int) -> None:
        await conns[w].execute(
            "INSERT INTO bench_raw (stream_id, version, event_id, event_type, schema_version, "
            "bureau, data, actor, service, correlation_id, occurred_at, recorded_at, hash_alg, "
            "hash) VALUES ($1 || $12::text, $13, $14, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, "
            "$11)",
            *row,
            f"{tag}-{w}",
            w * 10_000_000 + i + 1,
            uuid.uuid4(),
        )

    try:
        return await _timed(writers, one)
    finally:
        for conn in conns:
            await conn.close()


async def _append(
    store: EventStore, writers: int, tag: str, make: Callable[[int], Event] = _event
) -> float:
    streams_per_writer = 50
    versions: dict[str, int] = {}

    async def one(w: int, i: int) -> None:
        stream = f"case-{tag}{w}x{i % streams_per_writer}"
        expected = versions.get(stream, 0)
        await store.append(stream, [NewEvent(make(i), bureau="3301")], expected, metadata=META)
        versions[stream] = expected + 1

    return await _timed(writers, one)


async def _fill(store: EventStore, total: int, make: Callable[[int], Event] = _event) -> None:
    """Bring the log to ``total`` events quickly (20 events per append)."""
    have = await store.pool.fetchval("SELECT count(*) FROM eventstore.events")
    n = 0
    while have + n < total:
        batch = [NewEvent(make(n + k), bureau="3301") for k in range(20)]
        await store.append(f"case-fill{n}", batch, 0, metadata=META)
        n += 20


async def _read_all(store: EventStore, *, reveal: bool = True) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    async for batch in store.iter_all(batch_size=5000, reveal=reveal):
        count += len(batch)
    return count / (time.perf_counter() - started), count


async def _raw_read(dsn: str) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        count = 0
        last = 0
        while True:
            rows = await conn.fetch(
                "SELECT * FROM eventstore.events WHERE position > $1 ORDER BY position LIMIT 5000",
                last,
            )
            if not rows:
                break
            count += len(rows)
            last = rows[-1]["position"]
        return count / (time.perf_counter() - started), count
    finally:
        await conn.close()


async def _fresh_database(admin: asyncpg.Connection, admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_url.rpartition("/")[0] + "/" + name
    await apply_migrations(dsn)
    return dsn


async def _read_figures(store: EventStore, make: Callable[[int], Event]) -> tuple[int, int]:
    await _fill(store, READ_EVENTS, make)
    await store.pool.execute("ANALYZE eventstore.events")
    rate, count = await _read_all(store)
    return round(rate), count


# ---------------------------------------------------------------------------------------------
# 4. The ordered read of ~1 KB events beside the Python eventsourcing library (issue 17): the same
#    number of events of the same content, ours in the event store's tables, its in its own
#    PostgreSQL table in the same database, each read in order and decoded into typed events, and
#    each table's plain SELECT (asyncpg, the same loop) as the ceiling. Rounds alternate ours and
#    its, to spread the noise of a shared machine over both; the best round of each is kept.

READ_1KB_EVENTS = 100_000
ROUNDS_1KB = 3
_NOTE_1KB = (
    "信访人来电反映，小区东侧道路施工噪声扰民，夜间十点后仍有机械作业，影响老人和学生休息；"
    "已联系街道办和城管中队，约定本周内现场核查施工许可及夜间作业审批情况，"
    "并将处理进展电话告知信访人。信访人表示如仍未整改，将要求约见区住建局负责人。"
)
_SUMMARY_1KB = (
    "夜间施工噪声扰民问题，涉及施工许可和夜间作业审批，需街道、城管、住建多部门协同处理；"
    "转办单位须在十五个工作日内答复，逾期由督查科跟进。"
)


class PetitionerContacted1k(Event, type="bench.PetitionerContacted1k"):
    """A case event of about 1 KB as stored: a contact with sealed personal fields (name,
    resident id, phone, address, the note), the rest in the clear."""

    subject_id: SubjectId
    case_number: str
    petitioner: Contact
    note: PersonalText
    summary: str
    officer: str
    channel: str
    follow_up_days: int


def _event_1k(i: int) -> Event:
    return PetitionerContacted1k(
        subject_id=_SUBJECTS[i % len(_SUBJECTS)],
        case_number=f"3301-2026-{i:06d}",
        petitioner=Contact(**_contact_fields(i)),
        note=_NOTE_1KB,
        summary=_SUMMARY_1KB,
        officer="王警官",
        channel="phone",
        follow_up_days=i % 15,
    )


async def _fill_1k(store: EventStore, total: int) -> None:
    """``total`` events, 20 per append on a stream of their own, 8 appends at a time."""

    async def one(n: int) -> None:
        batch = [NewEvent(_event_1k(n + k), bureau="3301") for k in range(20)]
        await store.append(f"case-k{n}", batch, 0, metadata=META)

    for start in range(0, total, 160):
        await asyncio.gather(*(one(n) for n in range(start, min(start + 160, total), 20)))


class _Library:
    """The eventsourcing library's PostgreSQL recorder and mapper as its Application builds them
    (JSON transcoder with its UUID, Decimal and datetime transcodings; no cipher, no compressor),
    on a table of its own in the benchmark's database."""

    def __init__(self, dsn: str) -> None:
        url = urlsplit(dsn)
        self.datastore = PostgresDatastore(
            dbname=url.path.lstrip("/"),
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            schema="eventsourcing",
        )
        self.recorder = PostgresApplicationRecorder(self.datastore, events_table_name="es_events")
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        self.mapper: Any = Mapper(transcoder)

    def fill(self, total: int) -> None:
        created = datetime.now(UTC)
        for start in range(0, total, 200):
            stored = []
            for n in range(start, min(start + 200, total), 20):
                aggregate = uuid.uuid4()
                for k in range(20):
                    event = _event_1k(n + k)
                    domain_event = LibraryPetitionerContacted1k(
                        originator_id=aggregate,
                        originator_version=k + 1,
                        timestamp=created,
                        **event.model_dump(),
                    )
                    stored.append(self.mapper.to_stored_event(domain_event))
            self.recorder.insert_events(stored)

    def read_decoded(self) -> tuple[float, int]:
        """Its ordered read: notifications by id, 5,000 at a time, each mapped to its event."""
        started = time.perf_counter()
        count = 0
        start = 1
        to_domain_event = self.mapper.to_domain_event
        while notifications := self.recorder.select_notifications(start, 5000):
            events = [to_domain_event(n) for n in notifications]
            count += len(events)
            start = notifications[-1].id + 1
        return count / (time.perf_counter() - started), count

    def close(self) -> None:
        self.datastore.close()


class LibraryPetitionerContacted1k(DomainEvent):
    """The library's twin of :class:`PetitionerContacted1k`: the same fields, as its domain event
    (a frozen dataclass; the nested contact as the plain dict its transcoder gives back)."""

    subject_id: uuid.UUID
    case_number: str
    petitioner: dict[str, Any]
    note: str
    summary: str
    officer: str
    channel: str
    follow_up_days: int


async def _raw_select(dsn: str, table: str, key: str) -> tuple[float, int]:
    """A table's rows in ``key`` order, 5,000 at a time, nothing done with them: the ceiling."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        count = 0
        last = 0
        while rows := await conn.fetch(
            f"SELECT * FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT 5000", last
        ):
            count += len(rows)
            last = rows[-1][key]
        return count / (time.perf_counter() - started), count
    finally:
        await conn.close()


async def _verify_rate(store: EventStore) -> tuple[float, int]:
    started = time.perf_counter()
    results = await store.verify_all()
    seconds = time.perf_counter() - started
    if not all(r.ok for r in results):
        raise RuntimeError("a hash chain failed to verify")
    checked = sum(r.events_checked for r in results)
    return checked / seconds, checked


async def compare_1kb(
    admin: asyncpg.Connection, admin_url: str, databases: list[str]
) -> dict[str, Any]:
    """Section 4's figures (keys ending in ``_1kb_...``)."""
    dsn = await _fresh_database(admin, admin_url)
    databases.append(dsn)
    figures: dict[str, Any] = {}
    pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=8, db_pool_max=8))
    library: _Library | None = None
    try:
        keys = PersonalData(
            DataKeys(pool, LocalKeyService(os.urandom(16))), BlindIndex(os.urandom(32))
        )
        print(f"  filling {READ_1KB_EVENTS:,} events of ~1 KB (ours, then the library's) ...")
        await _fill_1k(EventStore(pool, personal=keys), READ_1KB_EVENTS)
        # As the database's owner: the store's pool runs as a role that may not create schemas.
        owner = await asyncpg.connect(dsn)
        await owner.execute("CREATE SCHEMA IF NOT EXISTS eventsourcing")
        await owner.close()
        library = _Library(dsn)
        library.recorder.create_table()
        await asyncio.to_thread(library.fill, READ_1KB_EVENTS)
        owner = await asyncpg.connect(dsn)
        try:
            await owner.execute("VACUUM ANALYZE eventstore.events")
            await owner.execute("VACUUM ANALYZE eventsourcing.es_events")
            figures["event_bytes_1kb"] = round(
                await owner.fetchval("SELECT avg(octet_length(data::text)) FROM eventstore.events")
            )
            figures["eventsourcing_event_bytes_1kb"] = round(
                await owner.fetchval("SELECT avg(octet_length(state)) FROM eventsourcing.es_events")
            )
        finally:
            await owner.close()
        figures["events_1kb"] = READ_1KB_EVENTS
        # What reporting, the relay and the rebuild read: masked forms, a store without keys.
        keyless = EventStore(pool)
        rounds: dict[str, list[float]] = {}

        def keep(key: str, rate: float, count: int) -> None:
            if count != READ_1KB_EVENTS:
                raise RuntimeError(f"{key}: read {count} events, not {READ_1KB_EVENTS}")
            rounds.setdefault(key, []).append(rate)

        for r in range(ROUNDS_1KB):
            print(f"  round {r + 1}/{ROUNDS_1KB}: ours, the library's, raw SELECTs, verify_all")
            keep("read_all_decoded_1kb_eps", *await _read_all(keyless, reveal=False))
            keep("eventsourcing_read_decoded_1kb_eps", *library.read_decoded())
            keep(
                "raw_read_1kb_rows_per_s",
                *await _raw_select(dsn, "eventstore.events", "position"),
            )
            keep(
                "eventsourcing_raw_read_1kb_rows_per_s",
                *await _raw_select(dsn, "eventsourcing.es_events", "notification_id"),
            )
            keep("verify_all_1kb_eps", *await _verify_rate(keyless))
        for key, rates in rounds.items():
            figures[key] = round(max(rates))
            figures[f"{key}_rounds"] = [round(x) for x in rates]
        figures["load_average_1kb"] = [round(x, 2) for x in os.getloadavg()]
        return figures
    finally:
        if library is not None:
            library.close()
        await pool.close()


async def run(admin_url: str) -> dict[str, Any]:
    admin = await asyncpg.connect(admin_url)
    databases: list[str] = []
    figures: dict[str, Any] = {}

    def measuring(key: str) -> None:
        print(f"  measuring {key} ...", flush=True)

    try:
        # 1. Appends of a small event without personal data, beside the raw INSERT ceiling.
        dsn = await _fresh_database(admin, admin_url)
        databases.append(dsn)
        setup = await asyncpg.connect(dsn)
        await setup.execute("CREATE TABLE bench_raw (LIKE eventstore.events INCLUDING ALL)")
        await setup.close()
        pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=8, db_pool_max=8))
        store = EventStore(pool)
        steps: list[tuple[str, Callable[[], Awaitable[float]]]] = [
            ("raw_insert_1_writer_tps", lambda: _raw_insert(dsn, 1)),
            ("append_1_writer_eps", lambda: _append(store, 1, "a")),
            ("raw_insert_8_writers_tps", lambda: _raw_insert(dsn, 8)),
            ("append_8_writers_eps", lambda: _append(store, 8, "b")),
        ]
        for key, step in steps:
            measuring(key)
            figures[key] = round(await step())
        # 2. The ordered read of all events, decoded, beside the raw row read.
        measuring(f"read_all_eps over {READ_EVENTS:,} events")
        figures["read_all_eps"], read_count = await _read_figures(store, _event)
        figures["raw_read_rows_per_s"], raw_count = (round(x) for x in await _raw_read(dsn))
        assert raw_count == read_count, (raw_count, read_count)
        figures["events_read"] = read_count
        await pool.close()

        # 3. Personal data: the same event shape with and without sealed fields, fresh stores.
        for suffix, make, personal in (
            ("_pii_baseline", _plain_twin, False),
            ("_pii", _pii_event, True),
        ):
            dsn = await _fresh_database(admin, admin_url)
            databases.append(dsn)
            pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=8, db_pool_max=8))
            keys = PersonalData(
                DataKeys(pool, LocalKeyService(os.urandom(16))), BlindIndex(os.urandom(32))
            )
            store = EventStore(pool, personal=keys if personal else None)
            measuring(f"append_8_writers{suffix}_eps")
            figures[f"append_8_writers{suffix}_eps"] = round(await _append(store, 8, "p", make))
            measuring(f"read_all{suffix}_eps")
            figures[f"read_all{suffix}_eps"], _ = await _read_figures(store, make)
            if personal:
                # What the relay, projections and reporting do: masked forms, no keys.
                measuring("read_all_pii_masked_eps (a reader without keys)")
                rate, _ = await _read_all(EventStore(pool), reveal=False)
                figures["read_all_pii_masked_eps"] = round(rate)
            await pool.close()

        # 4. ~1 KB events: ours beside the eventsourcing library's, and verify_all.
        measuring(f"the ordered read of {READ_1KB_EVENTS:,} events of ~1 KB, beside eventsourcing")
        figures.update(await compare_1kb(admin, admin_url, databases))
        return figures
    finally:
        for dsn in databases:
            name = dsn.rpartition("/")[2]
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def report(figures: dict[str, Any]) -> None:
    rows = [
        ("append, 1 writer", "append_1_writer_eps", "raw_insert_1_writer_tps", ">= 1,500/s"),
        ("append, 8 writers", "append_8_writers_eps", "raw_insert_8_writers_tps", ">= 70%"),
        ("ordered read, decoded", "read_all_eps", "raw_read_rows_per_s", ">= 100,000/s"),
        (
            "append, 8 writers, personal data",
            "append_8_writers_pii_eps",
            "append_8_writers_pii_baseline_eps",
            ">= 80%",
        ),
        (
            "ordered read, personal data opened",
            "read_all_pii_eps",
            "read_all_pii_baseline_eps",
            ">= 80%",
        ),
        (
            "ordered read, personal data masked",
            "read_all_pii_masked_eps",
            "read_all_pii_baseline_eps",
            ">= 80%",
        ),
        (
            "ordered read, ~1 KB events, decoded",
            "read_all_decoded_1kb_eps",
            "raw_read_1kb_rows_per_s",
            ">= 100,000/s",
        ),
        (
            "eventsourcing's read, ~1 KB, decoded",
            "eventsourcing_read_decoded_1kb_eps",
            "eventsourcing_raw_read_1kb_rows_per_s",
            "below ours",
        ),
        (
            "verify_all, ~1 KB events",
            "verify_all_1kb_eps",
            "raw_read_1kb_rows_per_s",
            ">= 100,000/s",
        ),
    ]
    print(f"\n{'figure (events/s)':36} {'measured':>10} {'beside':>10} {'share':>7}  target")
    for label, key, ceiling_key, target in rows:
        value, ceiling = figures[key], figures[ceiling_key]
        print(f"{label:36} {value:>10,} {ceiling:>10,} {value / ceiling:>7.0%}  {target}")
    print(
        "beside: the raw ceiling of the same server in the same run; for personal data, the same "
        "event shape with no field marked personal; for eventsourcing, the plain SELECT of its own "
        "table"
    )
    print(
        f"~1 KB events: ours {figures['event_bytes_1kb']} B stored (sealed fields, their vault), "
        f"eventsourcing's {figures['eventsourcing_event_bytes_1kb']} B (the same fields in the "
        f"clear); best of {ROUNDS_1KB} alternating rounds; load average "
        f"{figures['load_average_1kb']}"
    )


def main(admin_url: str) -> dict[str, Any]:
    print("== event store benchmark 事件存储基准")
    figures = asyncio.run(run(admin_url))
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(RESULTS.parents[2])}")
    return figures
