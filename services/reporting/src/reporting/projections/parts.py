"""A rebuild's fold split over processes, by case (one Python process folds ~45,000 events/s on
one core; PostgreSQL and the other cores wait on it).

Each part is a process (:mod:`.part_worker`) folding the log up to a common cursor into the
schema being built, with the same :class:`~reporting.projections.rebuild.Fold` as a rebuild in
one process, over the events of its own cases. What rows each part writes decides how the log
is split, so that no two parts ever write or read back the same row:

* a case's stream (its registration, submissions, workflow, instructions and their answers,
  all on ``case-<id>``) belongs to the part its id falls to: ``id mod parts``; the case's rows
  (case, submissions, progress, notices, instructions) are that part's alone;
* every other stream (reception days, subjects, exports ...) belongs to the first part, which
  therefore writes every reception session and every erased subject;
* every part also reads every erasure (``PersonalDataErased``, on a subject's stream), to erase
  the subject in its own cases; only the first part keeps the stream's version;
* an instruction counts on its session's row (the first part's) but sits on its case's stream:
  the other parts count the instructions of their cases by session and the parent adds the
  counts once the parts are done. Intake records an instruction only on a session it holds, so
  a session's row exists before any instruction counts on it, as in one fold. (One fold could
  still miss one: an instruction read ahead of its session's scheduling, which takes a
  transaction held open across the scheduling, holding and recording of a session, past the
  30 s idle-in-transaction limit; the live path, which counts it, agrees with the parts then.)

The parent then folds, in one process as before, what was stored after the common cursor, and
swaps (see :mod:`.rebuild`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID

import asyncpg
from petitions.eventstore import Cursor
from petitions.messages import PersonalDataErased

from reporting.projections.rows import Needs, SessionRow
from reporting.projections.tables import _ident

ERASED_TYPE = PersonalDataErased.event_type
CASE_PREFIX = "case-"


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a split fold: ``index`` of ``count``, up to and including ``until``."""

    index: int
    count: int
    until: Cursor

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"part {self.index} of {self.count}")

    @property
    def keeps_shared(self) -> bool:
        """Whether this part writes what is not a case's: sessions, erased subjects, versions
        of other streams."""
        return self.index == 0

    def owns_case(self, case_id: UUID) -> bool:
        # The low 16 bits are the last four hex digits of the case's stream id (see owns_stream).
        return (case_id.int & 0xFFFF) % self.count == self.index

    def owns_stream(self, stream_id: str) -> bool:
        if stream_id.startswith(CASE_PREFIX):
            return int(stream_id[-4:], 16) % self.count == self.index
        return self.keeps_shared

    def mine(self, need: Needs) -> Needs:
        """What of an event's needs this part reads back: its own cases' rows (an instruction
        is its case's), sessions if it keeps them."""
        case = need.case_id is not None and self.owns_case(need.case_id)
        return replace(
            need,
            case_id=need.case_id if case else None,
            instruction_id=need.instruction_id if case else None,
            session_id=need.session_id if self.keeps_shared else None,
        )

    def where(self) -> str:
        """The SQL condition on ``eventstore.events`` rows this part reads (its streams and
        every erasure): the numbers are this object's ints, nothing a user typed."""
        other = "TRUE" if self.keeps_shared else f"event_type = '{ERASED_TYPE}'"
        return (
            f"CASE WHEN left(stream_id, {len(CASE_PREFIX)}) = '{CASE_PREFIX}' "
            f"THEN ('x' || right(stream_id, 4))::bit(16)::int % {self.count} = {self.index} "
            f"ELSE {other} END"
        )


@dataclass(frozen=True, slots=True)
class Parallel:
    """How a rebuild may split its fold: ``workers`` processes (1: in this process), each
    connecting on its own to the event store (``store_dsn``) and the read-model database
    (``read_dsn``) as ``role``. A log of fewer than ``min_events`` events is folded here: a
    process takes about a second to start."""

    workers: int
    store_dsn: str
    read_dsn: str
    role: str | None
    min_events: int = 200_000

    def spec(
        self,
        index: int,
        schema: str,
        schema_oid: int,
        until: Cursor,
        *,
        batch_size: int,
        flush_every: int,
    ) -> dict[str, object]:
        """What part ``index`` is told on its stdin (see :mod:`.part_worker`)."""
        return {
            "index": index,
            "count": self.workers,
            "until": [until.tx_id, until.position],
            "schema": schema,
            "schema_oid": schema_oid,
            "store_dsn": self.store_dsn,
            "read_dsn": self.read_dsn,
            "role": self.role,
            "batch_size": batch_size,
            # The parts together hold about what one fold would.
            "flush_every": max(1, flush_every // self.workers),
        }


@dataclass(frozen=True, slots=True)
class PartsDone:
    """What the parts did: the events they folded (each once), the instructions to add to
    sessions' counts, and the parts' peak memory (resident set, summed)."""

    count: int
    events: int
    session_instructions: Counter[UUID]
    peak_rss_mb: float


_LINE_LIMIT = 1 << 26
"""A part's result line holds its instruction counts of every session (tens of bytes each)."""


class Progress(Protocol):
    def update(self, n: int) -> object: ...


async def last_cursor(pool: asyncpg.Pool) -> Cursor:
    """Where the ordered read ends now (the parts' common ``until``)."""
    row = await pool.fetchrow(
        "SELECT tx_id::text::bigint AS tx, position FROM eventstore.events "
        "WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY tx_id DESC, position DESC LIMIT 1"
    )
    return Cursor() if row is None else Cursor(row["tx"], row["position"])


async def fold_in_parts(
    parallel: Parallel,
    schema: str,
    schema_oid: int,
    until: Cursor,
    *,
    batch_size: int,
    flush_every: int,
    progress: Progress | None = None,
) -> PartsDone:
    """Run ``parallel.workers`` part processes into ``schema`` (created, empty; ``schema_oid``
    its oid) up to ``until``; return when all are done, or raise (and stop the others) when one
    fails."""
    count = parallel.workers
    processes: list[asyncio.subprocess.Process] = []
    try:
        for index in range(count):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "reporting.projections.part_worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
            )
            processes.append(process)
            # On stdin, not argv: the URLs may hold passwords, which `ps` would show.
            spec = parallel.spec(
                index,
                schema,
                schema_oid,
                until,
                batch_size=batch_size,
                flush_every=flush_every,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(spec).encode() + b"\n")
            await process.stdin.drain()
            # stdin stays open while the part runs: its end tells the part this process is
            # gone (see .part_worker).
        try:
            async with asyncio.TaskGroup() as group:
                follows = [
                    group.create_task(_follow(p, index, count, progress))
                    for index, p in enumerate(processes)
                ]
        except* PartFailed as failed:
            raise failed.exceptions[0] from None
        return _combine([f.result() for f in follows])
    finally:
        for process in processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            if process.stdin is not None:
                process.stdin.close()


class PartFailed(RuntimeError):
    """A part of a split rebuild failed; nothing was swapped in."""


async def _follow(
    process: asyncio.subprocess.Process, index: int, count: int, progress: Progress | None
) -> dict[str, object]:
    """Read a part's lines (progress, then its result) until it exits."""
    assert process.stdout is not None
    result: dict[str, object] | None = None
    what = f"重建分片失败 rebuild part {index + 1} of {count} failed"
    again = "Nothing was swapped in: run the rebuild again"
    try:
        async for line in process.stdout:
            message = json.loads(line)
            if "folded" in message and progress is not None:
                progress.update(int(message["folded"]))
            if message.get("done"):
                result = message
    except (ValueError, TypeError) as bad:  # not our protocol: a line too long, not JSON
        raise PartFailed(f"{what}: it wrote {bad!r} on its stdout. {again}") from None
    code = await process.wait()
    if code < 0:
        raise PartFailed(
            f"{what}: killed by signal {-code} (out of memory? see the system log). {again}"
        )
    if code != 0 or result is None:
        raise PartFailed(f"{what} (exit code {code}); its error is printed above. {again}")
    return result


def _combine(results: Sequence[dict[str, object]]) -> PartsDone:
    sessions: Counter[UUID] = Counter()
    events = 0
    peak = 0.0
    for result in results:
        events += int(str(result["events"]))
        peak += float(str(result["peak_rss_mb"]))
        pairs = result["session_instructions"]
        assert isinstance(pairs, list)
        for session_id, n in pairs:
            sessions[UUID(session_id)] += int(n)
    return PartsDone(len(results), events, sessions, round(peak, 1))


async def add_session_instructions(
    conn: asyncpg.Connection, schema: str, counts: Counter[UUID]
) -> None:
    """Add the instructions other parts counted to the sessions' rows the first part wrote."""
    if not counts:
        return
    ids = sorted(counts)
    await conn.execute(
        f"UPDATE {_ident(schema)}.{SessionRow.TABLE} AS s SET instructions = s.instructions + d.n "
        "FROM unnest($1::uuid[], $2::int[]) AS d(session_id, n) "
        "WHERE s.session_id = d.session_id",
        ids,
        [counts[i] for i in ids],
    )
