"""COPY loader for the scale benchmark (issue 17): a million cases in minutes, every event valid.

The store's append path writes 1-4k events/s here: 12 million events would take hours. This
loader builds the same rows the append path would, in worker processes, and COPYs them in:

* the histories are :func:`bench.reporting.story_groups`, in chunks of ``CHUNK_CASES`` cases,
  each chunk from a generator seeded by (seed, chunk number), so chunks are built in parallel
  and the log is the same whatever the number of workers;
* every event is encoded, sealed and chained by the store's own code
  (:class:`petitions.eventstore.sealing.Sealer`, :func:`petitions.eventstore.chain.chain_append`):
  personal fields sealed under a data key per subject (wrapped by the KEK, in
  ``personal.data_keys``), blind-index tokens, SM3 hash chains, stream heads;
* cases interleave in the log as the 8 writers of :func:`bench.reporting.write` interleave them:
  round robin over windows of ``WINDOW`` stories;
* each chunk is one transaction (so the events of a chunk share a ``tx_id``, as a batch append
  would), COPYed in log order.

What differs from the append path: ``recorded_at`` is the load's start plus a microsecond per
append (not the wall clock), and no NOTIFY is sent. The recurring petitioners' keys are created
before the chunks (every chunk seals under the same keys); ``verify_all`` and the decoded read
check the result in the benchmark itself.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import multiprocessing
import os
import random
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
from petitions.eventstore import hashing
from petitions.eventstore.chain import chain_append
from petitions.eventstore.model import NewEvent
from petitions.eventstore.sealing import Sealer
from petitions.eventstore.sql import category_of
from petitions.messages.reception import reception_text_subject
from petitions.personal import BlindIndex
from petitions.personal.keys import SM4_KEY_BYTES, sm4_gcm_encrypt

from bench.reporting import (
    DAY0,
    DEFAULT_SPAN_DAYS,
    META,
    SUB_BUREAUS,
    Story,
    shared_subjects,
    span_days,
    story_groups,
)

CHUNK_CASES = 2_000
WINDOW = 160  # 8 writers x a window of 20 stories each, as bench.reporting.write interleaves
ALGORITHM = "sm3"
KEK_ID = "local-1"  # LocalKeyService's default: the benchmark's store unwraps with it
MAX_EVENT_BYTES = 512 * 1024

EVENT_COLUMNS = (
    "stream_id",
    "version",
    "event_id",
    "event_type",
    "schema_version",
    "bureau",
    "data",
    "actor",
    "service",
    "correlation_id",
    "causation_id",
    "occurred_at",
    "recorded_at",
    "hash_alg",
    "hash",
)
STREAM_COLUMNS = ("stream_id", "category", "bureau", "version", "head_hash")
KEY_COLUMNS = ("subject_id", "kek_id", "wrapped")
INDEX_COLUMNS = ("kind", "token", "subject_id", "stream_id")


@dataclass(frozen=True)
class Secrets:
    """The key-encryption key and blind-index key the loaded log is sealed under."""

    kek: bytes
    blind_index: bytes
    petitioners: list[uuid.UUID]
    """The recurring petitioners (:func:`bench.reporting.shared_subjects`)."""
    shared_keys: dict[uuid.UUID, bytes]
    """Data keys of the subjects several chunks seal under, stored once before the chunks: the
    recurring petitioners and each bureau's reception text for a year."""


@dataclass
class Chunk:
    """One chunk's rows as COPY text, and what the benchmark needs to know about it."""

    number: int
    events: bytes = b""
    streams: bytes = b""
    keys: bytes = b""
    index: bytes = b""
    event_count: int = 0
    cases: int = 0
    shared_used: list[uuid.UUID] = field(default_factory=list)
    first_case: tuple[str, int] | None = None
    """(stream id, events) of the chunk's first case: the bench lengthens one to 200 events."""


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash, tab, newline and carriage return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")).replace(
            "\r", "\\r"
        )
    return value


def _bytea(raw: bytes) -> str:
    return "\\\\x" + raw.hex()  # \x<hex>, its backslash escaped for COPY


class _Keys(dict[uuid.UUID, bytes]):
    """Data keys by subject, created (and recorded for personal.data_keys) on first use."""

    def __init__(self, secrets: Secrets, rows: list[str]) -> None:
        super().__init__(secrets.shared_keys)
        self._kek = secrets.kek
        self._rows = rows

    def __missing__(self, subject: uuid.UUID) -> bytes:
        key = os.urandom(SM4_KEY_BYTES)
        nonce, sealed = sm4_gcm_encrypt(self._kek, key, subject.bytes)  # as LocalKeyService
        self._rows.append(f"{subject}\t{KEK_ID}\t{_bytea(nonce + sealed)}\n")
        self[subject] = key
        return key


def _seal(sealer: Sealer, stream_id: str, new: NewEvent[Any], version: int) -> str:
    return sealer.seal(new, stream_id, version)


def _interleaved(stories: list[Story]) -> Iterator[tuple[Story, list[NewEvent[Any]]]]:
    """Appends in log order: round robin over windows of WINDOW stories."""
    for start in range(0, len(stories), WINDOW):
        window = stories[start : start + WINDOW]
        longest = max(len(s.appends) for s in window)
        for step in range(longest):
            for story in window:
                if step < len(story.appends):
                    yield story, story.appends[step]


def build_chunk(
    number: int,
    secrets: Secrets,
    seed: int,
    loaded_at: datetime,
    span: int = DEFAULT_SPAN_DAYS,
    cases: int | None = None,
) -> Chunk:
    """The rows of chunk ``number`` (cases number*CHUNK_CASES+1 onwards), ready to COPY. Cases
    are first received over ``span`` days: in number order with ``cases`` (the log's number of
    cases), at random without."""
    rng = random.Random(f"{seed}-{number}")
    shared = list(secrets.petitioners)
    used: list[uuid.UUID] = []
    stories: list[Story] = []
    groups = story_groups(
        rng, shared, used, first_number=number * CHUNK_CASES + 1, span=span, cases=cases
    )
    for _ in range(CHUNK_CASES):
        stories += next(groups)[0]
    chunk = Chunk(number, cases=CHUNK_CASES, shared_used=used)
    first = stories[0]
    chunk.first_case = (first.stream_id, first.events)
    key_rows: list[str] = []
    keys = _Keys(secrets, key_rows)
    index = BlindIndex(secrets.blind_index)
    heads: dict[str, tuple[int, bytes]] = {}
    event_rows: list[str] = []
    index_rows: set[str] = set()
    recorded = loaded_at + timedelta(seconds=number)  # a chunk holds well under 1e6 appends
    meta = META
    causation = "\\N" if meta.causation_id is None else str(meta.causation_id)
    fixed = f"{meta.actor}\t{meta.service}\t{meta.correlation_id}\t{causation}"
    for appended, (story, events) in enumerate(_interleaved(stories)):
        version, previous = heads.get(story.stream_id, (0, hashing.GENESIS))
        recorded_at = recorded + timedelta(microseconds=appended)
        sealer = Sealer(keys, index, {})
        stream_id = story.stream_id
        chained = chain_append(
            algorithm=ALGORITHM,
            stream_id=stream_id,
            events=events,
            expected=version,
            previous=previous,
            metadata=meta,
            recorded_at=recorded_at,
            encode=partial(_seal, sealer, stream_id),
            max_event_bytes=MAX_EVENT_BYTES,
        )
        recorded_text = recorded_at.isoformat()
        for k in range(len(chained.versions)):
            event_rows.append(
                f"{stream_id}\t{chained.versions[k]}\t{chained.ids[k]}\t{chained.types[k]}\t"
                f"{chained.schema_versions[k]}\t{chained.bureaus[k]}\t"
                f"{_copy_text(chained.datas[k])}\t{fixed}\t"
                f"{chained.occurred[k].isoformat()}\t{recorded_text}\t{ALGORITHM}\t"
                f"{_bytea(chained.digests[k])}\n"
            )
        for kind, token, subject in sealer.tokens:
            index_rows.add(f"{kind}\t{_bytea(token)}\t{subject}\t{stream_id}\n")
        heads[stream_id] = (version + len(events), chained.head)
    bureaus = {s.stream_id: s.appends[0][0].bureau for s in stories}
    chunk.streams = "".join(
        f"{sid}\t{category_of(sid)}\t{bureaus[sid]}\t{v}\t{_bytea(h)}\n"
        for sid, (v, h) in heads.items()
    ).encode()
    chunk.events = "".join(event_rows).encode()
    chunk.keys = "".join(key_rows).encode()
    chunk.index = "".join(sorted(index_rows)).encode()
    chunk.event_count = len(event_rows)
    return chunk


_Job = tuple[int, Secrets, int, datetime, int, int]


def _build(args: _Job) -> Chunk:
    return build_chunk(*args)


# The events table's indexes but its primary key, dropped while loading and built once after it
# (one sorted build instead of a random insert per row into the event id's index), exactly as
# 0001_event_store.sql declares them.
_INDEXES = {
    "events_stream_version_key": "ALTER TABLE eventstore.events "
    "ADD CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)",
    "events_event_id_key": "ALTER TABLE eventstore.events "
    "ADD CONSTRAINT events_event_id_key UNIQUE (event_id)",
    "events_tx_position_idx": "CREATE INDEX events_tx_position_idx "
    "ON eventstore.events (tx_id, position)",
}


async def _drop_indexes(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "ALTER TABLE eventstore.events DROP CONSTRAINT events_stream_version_key, "
        "DROP CONSTRAINT events_event_id_key; DROP INDEX eventstore.events_tx_position_idx"
    )


async def restore_indexes(conn: asyncpg.Connection) -> None:
    """Build the indexes a load dropped (those missing: a load may have stopped half way)."""
    present = {
        r[0]
        for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'eventstore' "
            "AND tablename = 'events'"
        )
    }
    for name, statement in _INDEXES.items():
        if name not in present:
            await conn.execute(statement)


async def _built(jobs: list[_Job], workers: int | None) -> Any:
    """The chunks in order, built ``workers`` at a time, at most two per worker ahead of the
    loading (an unbounded imap held 2.5 GB of built chunks when PostgreSQL fell behind)."""
    if workers == 0:  # in this process (tests)
        for job in jobs:
            yield _build(job)
        return
    count = workers or os.cpu_count() or 2
    with multiprocessing.get_context("fork").Pool(count) as pool:
        pending: deque[Any] = deque()
        queued = iter(jobs)
        for job in itertools.islice(queued, 2 * count):
            pending.append(pool.apply_async(_build, (job,)))
        while pending:
            chunk = await asyncio.to_thread(pending.popleft().get)
            for job in itertools.islice(queued, 1):
                pending.append(pool.apply_async(_build, (job,)))
            yield chunk


async def load(
    dsn: str,
    cases: int,
    secrets: Secrets,
    *,
    seed: int = 7,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """COPY about ``cases`` cases (rounded up to whole chunks; arriving in number order over
    :func:`bench.reporting.span_days` days) into the event store at ``dsn``, chunks built by
    ``workers`` processes (default: one per CPU; 0: in this process). Returns the loaded
    figures (events, cases, span_days, seconds, the erasable shared subjects, the first case)."""
    chunks = max(1, -(-cases // CHUNK_CASES))
    span = span_days(chunks * CHUNK_CASES)
    loaded_at = datetime.now(UTC).replace(microsecond=0)
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    events = 0
    used: list[uuid.UUID] = []
    first_case: tuple[str, int] | None = None
    try:
        await conn.copy_records_to_table(
            "data_keys",
            schema_name="personal",
            columns=list(KEY_COLUMNS),
            records=[
                (subject, KEK_ID, b"".join(sm4_gcm_encrypt(secrets.kek, key, subject.bytes)))
                for subject, key in secrets.shared_keys.items()
            ],
        )
        await conn.execute("SET synchronous_commit = off")  # a lost tail is loaded again
        await _drop_indexes(conn)
        jobs = [(n, secrets, seed, loaded_at, span, chunks * CHUNK_CASES) for n in range(chunks)]
        async for chunk in _built(jobs, workers):
            async with conn.transaction():
                for table, schema, columns, text in (
                    ("data_keys", "personal", KEY_COLUMNS, chunk.keys),
                    ("streams", "eventstore", STREAM_COLUMNS, chunk.streams),
                    ("events", "eventstore", EVENT_COLUMNS, chunk.events),
                    ("blind_index", "personal", INDEX_COLUMNS, chunk.index),
                ):
                    if text:
                        await conn.copy_to_table(
                            table,
                            schema_name=schema,
                            columns=list(columns),
                            source=io.BytesIO(text),
                            format="text",
                        )
            events += chunk.event_count
            used += [s for s in chunk.shared_used if s not in used]
            first_case = first_case or chunk.first_case
            if progress and (chunk.number + 1) % 25 == 0:
                seconds = time.perf_counter() - started
                print(
                    f"    {(chunk.number + 1) * CHUNK_CASES:,} cases, {events:,} events, "
                    f"{events / seconds:,.0f} events/s, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        if progress:
            print("    rebuilding the events table's indexes ...", flush=True)
        await restore_indexes(conn)
    finally:
        await conn.close()
    assert first_case is not None
    return {
        "events": events,
        "cases": chunks * CHUNK_CASES,
        "span_days": span,
        "seconds": round(time.perf_counter() - started, 1),
        "erase": used[:3],
        "first_case": first_case,
    }


def new_secrets(seed: int = 7, span: int = DEFAULT_SPAN_DAYS) -> Secrets:
    """Fresh keys; the recurring petitioners are the same as :func:`bench.reporting.histories`'s;
    a reception key per bureau and year of a log spread over ``span`` days."""
    petitioners = shared_subjects(random.Random(seed))
    last_year = (DAY0 + timedelta(days=span)).year
    receptions = [
        reception_text_subject(bureau, year)
        for bureau in ("3301", *SUB_BUREAUS)
        for year in range(DAY0.year, last_year + 2)
    ]
    return Secrets(
        kek=os.urandom(SM4_KEY_BYTES),
        blind_index=os.urandom(32),
        petitioners=petitioners,
        shared_keys={s: os.urandom(SM4_KEY_BYTES) for s in [*petitioners, *receptions]},
    )


if __name__ == "__main__":  # a quick look at a chunk's cost: python -m bench.loader
    secrets = new_secrets()
    t = time.perf_counter()
    c = build_chunk(0, secrets, 7, datetime.now(UTC))
    s = time.perf_counter() - t
    print(f"{c.event_count} events in {s:.2f} s: {c.event_count / s:,.0f} events/s per process")
