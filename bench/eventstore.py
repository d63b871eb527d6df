"""Event store benchmark: appends from 1 and 8 writers and the decoded ordered read, each beside the
raw ceiling of the same server in the same run (plain asyncpg INSERT transactions into a table of
the same shape, and plain row reads)."""

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

import asyncpg
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
    ]
    print(f"\n{'figure (events/s)':36} {'measured':>10} {'beside':>10} {'share':>7}  target")
    for label, key, ceiling_key, target in rows:
        value, ceiling = figures[key], figures[ceiling_key]
        print(f"{label:36} {value:>10,} {ceiling:>10,} {value / ceiling:>7.0%}  {target}")
    print(
        "beside: the raw ceiling of the same server in the same run; for personal data, the same "
        "event shape with no field marked personal"
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
