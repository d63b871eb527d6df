"""Signed checkpoints find what the hash chain alone cannot: a superuser's consistent rewrite."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent, RawEvent, hashing
from petitions.eventstore.chain import canonical as _canonical  # the store's own form
from petitions.eventstore.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointForgedError,
    DirectorySink,
    check_signature,
    compare,
    heads_digest,
    take_checkpoint,
)
from petitions.eventstore.signing import FileSigner, generate_key

from tests.support.events import NoteAdded

pytestmark = pytest.mark.integration

META = Metadata(actor="officer", service="tests")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def _notes(store: EventStore, stream: str, bodies: tuple[str, ...], expected: int) -> None:
    await store.append(
        stream,
        [NewEvent(NoteAdded(body=b, words=1), bureau="3301") for b in bodies],
        expected,
        metadata=META,
    )


@pytest.fixture
def signer(tmp_path: Path) -> FileSigner:
    key = tmp_path / "keys" / "checkpoint.pem"
    generate_key(key)
    return FileSigner(key)


def _forged_note(raw: RawEvent) -> RawEvent:
    return dataclasses.replace(raw, data=json.dumps({"body": "FORGED", "words": 1}))


async def _rewrite_consistently(
    store: EventStore,
    database_url: str,
    stream: str,
    forge: Callable[[RawEvent], RawEvent] = _forged_note,
) -> None:
    """What a superuser can do: change every event (its data and who did it) and recompute the
    whole chain and the stream head with the store's own hashing, so that the chain verifies."""
    previous = hashing.GENESIS
    updates: list[tuple[str, str, bytes, int, str]] = []
    for raw in await store.read_stream_raw(stream):
        forged = forge(raw)
        previous = hashing.link(raw.hash_alg, previous, _canonical(forged))
        updates.append((forged.data, forged.actor, previous, raw.version, stream))
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await conn.executemany(
            "UPDATE eventstore.events SET data = $1::json, actor = $2, hash = $3 "
            "WHERE stream_id = $5 AND version = $4",
            updates,
        )
        await conn.execute(
            "UPDATE eventstore.streams SET head_hash = $1 WHERE stream_id = $2", previous, stream
        )
        await conn.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


async def test_a_consistent_rewrite_verifies_as_a_chain_but_not_against_the_checkpoint(
    store: EventStore, database_url: str, signer: FileSigner
) -> None:
    await _notes(store, "case-t", ("one", "two", "three"), 0)
    await _notes(store, "case-clean", ("a", "b"), 0)
    checkpoint = await take_checkpoint(store.pool, signer, now=lambda: T0)
    assert (await compare(store, checkpoint)).ok

    await _rewrite_consistently(store, database_url, "case-t")

    # The finding: the chain alone cannot tell.
    assert all(r.ok for r in await store.verify_all())
    assert [e.data.body for e in await store.read_stream("case-t")] == ["FORGED"] * 3
    report = await compare(store, checkpoint)
    assert not report.ok
    [mismatch] = report.mismatches
    assert (mismatch.stream_id, mismatch.version) == ("case-t", 3)
    assert "rewritten" in mismatch.reason
    assert "case-t v3" in str(mismatch)
    # Asked about one stream (as `petitions audit` does), only that one is checked.
    assert (await compare(store, checkpoint, stream_ids=["case-clean"])).ok
    assert not (await compare(store, checkpoint, stream_ids=["case-t"])).ok


async def test_rewriting_a_stream_that_grew_since_is_found(
    store: EventStore, database_url: str, signer: FileSigner
) -> None:
    await _notes(store, "case-t", ("one", "two"), 0)
    checkpoint = await take_checkpoint(store.pool, signer, now=lambda: T0)
    await _notes(store, "case-t", ("three",), 2)
    await _rewrite_consistently(store, database_url, "case-t")
    report = await compare(store, checkpoint)
    assert [(m.stream_id, m.version) for m in report.mismatches] == [("case-t", 2)]


async def test_appending_normally_after_the_checkpoint_passes(
    store: EventStore, signer: FileSigner
) -> None:
    await _notes(store, "case-t", ("one", "two"), 0)
    await _notes(store, "case-u", ("one",), 0)
    checkpoint = await take_checkpoint(store.pool, signer, now=lambda: T0)
    assert [(h.stream_id, h.version) for h in checkpoint.heads] == [("case-t", 2), ("case-u", 1)]
    assert checkpoint.position == max(e.position for e in await store.read_all_raw())

    await _notes(store, "case-t", ("three", "four"), 2)
    await _notes(store, "case-new", ("x",), 0)

    report = await compare(store, checkpoint)
    assert report.ok, report.mismatches
    assert report.streams_checked == 2


async def test_a_deleted_stream_and_an_edited_later_event_are_found(
    store: EventStore, database_url: str, signer: FileSigner
) -> None:
    await _notes(store, "case-gone", ("one",), 0)
    await _notes(store, "case-t", ("one",), 0)
    checkpoint = await take_checkpoint(store.pool, signer, now=lambda: T0)
    await _notes(store, "case-t", ("two",), 1)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await conn.execute("DELETE FROM eventstore.events WHERE stream_id = 'case-gone'")
        await conn.execute("DELETE FROM eventstore.streams WHERE stream_id = 'case-gone'")
        # After the checkpointed head, the chain itself catches an edit.
        await conn.execute(
            "UPDATE eventstore.events SET actor = 'x' WHERE stream_id = 'case-t' AND version = 2"
        )
        await conn.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()
    found = {m.stream_id: m for m in (await compare(store, checkpoint)).mismatches}
    assert set(found) == {"case-gone", "case-t"}
    assert "no longer in the store" in found["case-gone"].reason
    assert found["case-t"].version == 2
    assert "chain" in found["case-t"].reason


async def test_a_forged_checkpoint_fails_the_signature_check(
    store: EventStore, signer: FileSigner, tmp_path: Path
) -> None:
    await _notes(store, "case-t", ("one", "two"), 0)
    sink = DirectorySink(tmp_path / "checkpoints")
    where = Path(sink.put(await take_checkpoint(store.pool, signer, now=lambda: T0)))
    public = signer.public_key_pem()
    check_signature(sink.get(where.name), public)  # the genuine file verifies

    genuine = json.loads(sink.get(where.name).to_json())

    def forged(**changes: object) -> Checkpoint:
        return Checkpoint.from_json(json.dumps({**genuine, **changes}).encode())

    # The forger's heads and a digest recomputed to match them: the signature no longer fits.
    heads = [["case-t", 2, "00" * 32]]
    digest = heads_digest([dataclasses.replace(sink.get(where.name).heads[0], hash=bytes(32))])
    with pytest.raises(CheckpointForgedError, match=r"signature.*does not verify"):
        check_signature(forged(heads=heads, digest=digest), public)
    # Heads edited but the signed digest kept.
    with pytest.raises(CheckpointForgedError, match="does not match its signed digest"):
        check_signature(forged(heads=heads), public)
    # Signed by another key (the forger's own), which names itself.
    other_key = tmp_path / "keys" / "forger.pem"
    generate_key(other_key)
    other = FileSigner(other_key)
    resigned = await take_checkpoint(store.pool, other, now=lambda: T0)
    with pytest.raises(CheckpointForgedError, match="not the configured public key"):
        check_signature(resigned, public)
    # ... or that claims to be ours.
    with pytest.raises(CheckpointForgedError, match="does not verify"):
        check_signature(dataclasses.replace(resigned, key_id=signer.key_id), public)
    with pytest.raises(CheckpointForgedError, match="not a readable checkpoint"):
        forged(signature="not base64!")


async def test_files_are_named_by_time_and_position_and_never_overwritten(
    store: EventStore, signer: FileSigner, tmp_path: Path
) -> None:
    sink = DirectorySink(tmp_path / "checkpoints")
    assert sink.latest() is None
    await _notes(store, "case-t", ("one",), 0)
    first = await take_checkpoint(store.pool, signer, now=lambda: T0)
    await _notes(store, "case-t", ("two",), 1)
    second = await take_checkpoint(store.pool, signer, now=lambda: T0 + timedelta(minutes=5))
    sink.put(second)
    sink.put(first)  # written late: the latest is still the later one
    assert sink.names() == [
        f"checkpoint-20260302T010000000000Z-p{first.position:012d}.json",
        f"checkpoint-20260302T010500000000Z-p{second.position:012d}.json",
    ]
    latest = sink.latest()
    assert latest is not None
    assert (latest.position, latest.heads) == (second.position, second.heads)
    before = (sink.folder / sink.names()[0]).read_bytes()
    with pytest.raises(CheckpointError, match="never overwritten"):
        sink.put(dataclasses.replace(first, heads=()))
    assert (sink.folder / sink.names()[0]).read_bytes() == before
    assert sorted(p.name for p in sink.folder.iterdir()) == sink.names()  # no temporary left


def _private_key_forms(key: Path) -> list[str]:
    """The private key as PEM body, DER hex and the bare scalar: none may be in a checkpoint."""
    pem = key.read_text()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    text = subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-text", "-noout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scalar = text.split("priv:")[1].split("pub:")[0]
    scalar_hex = "".join(c for c in scalar if c in "0123456789abcdef")
    assert len(scalar_hex) >= 62  # the parse found the 32-byte scalar
    scalar_b64 = base64.b64encode(bytes.fromhex(scalar_hex)).decode()
    return [body, body[20:60], der.hex(), scalar_hex, scalar_b64]


async def test_the_command_writes_and_verifies_and_never_writes_the_key(
    store: EventStore, database_url: str, tmp_path: Path
) -> None:
    await _notes(store, "case-t", ("one", "two"), 0)
    folder = tmp_path / "checkpoints"
    key = tmp_path / "keys" / "checkpoint.pem"
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_CHECKPOINT_DIR": str(folder),
        "PETITIONS_CHECKPOINT_KEY": str(key),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "petitions.eventstore", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    done = run("keygen", "--key", str(key))
    assert done.returncode == 0, done.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    assert run("keygen", "--key", str(key)).returncode == 2  # never overwritten
    done = run("checkpoint")
    assert done.returncode == 0, done.stderr
    assert "1 个流 streams" in done.stdout
    done = run("verify-checkpoint")
    assert (done.returncode, done.stderr) == (0, "")
    assert "matches the signed checkpoint" in done.stdout

    files = list(folder.iterdir())
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o222 == 0  # read-only once written
    written = files[0].read_text() + done.stdout + done.stderr
    for form in _private_key_forms(key):
        assert form not in written

    await _rewrite_consistently(store, database_url, "case-t")
    done = run("verify-checkpoint")
    assert done.returncode == 3
    assert "case-t v2" in done.stderr
    assert "rewritten" in done.stderr

    # An unreadable key is refused with what to do.
    key.chmod(0o644)
    done = run("checkpoint")
    assert done.returncode == 2
    assert "chmod 600" in done.stderr


# --- back-dated insertions: a stream (or event) the checkpoint does not cover but claims to
# --- be older than it


async def test_a_new_stream_recorded_with_old_times_is_found_and_in_the_next_checkpoint(
    store: EventStore, database_url: str, signer: FileSigner
) -> None:
    await _notes(store, "case-t", ("one",), 0)
    taken = datetime.now(UTC)
    checkpoint = await take_checkpoint(store.pool, signer, now=lambda: taken)
    # An invented case whose events say they were recorded last year: its chain is consistent
    # (the forger hashes with the same times), and its positions come after the checkpoint's.
    last_year = taken - timedelta(days=300)
    backdating = EventStore(store.pool, clock=lambda: last_year)
    await _notes(backdating, "case-ghost", ("invented", "closed"), 0)
    assert all(r.ok for r in await store.verify_all())

    report = await compare(store, checkpoint)
    assert [(m.stream_id, m.version) for m in report.mismatches] == [("case-ghost", 1)]
    [mismatch] = report.mismatches
    assert "not in the checkpoint" in mismatch.reason
    assert "back-dated" in mismatch.reason
    # As `petitions audit CASE --verify` asks: about that case alone, too.
    assert not (await compare(store, checkpoint, stream_ids=["case-ghost"])).ok
    assert (await compare(store, checkpoint, stream_ids=["case-t"])).ok

    # The next checkpoint lists it, even when the forger also removed its stream row: the
    # heads are read from the events.
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM eventstore.streams WHERE stream_id = 'case-ghost'")
    finally:
        await conn.close()
    following = await take_checkpoint(store.pool, signer, now=lambda: taken + timedelta(hours=1))
    assert ("case-ghost", 2) in [(h.stream_id, h.version) for h in following.heads]


async def test_a_new_stream_slipped_below_the_checkpoints_position_is_found(
    store: EventStore, database_url: str, signer: FileSigner
) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        await _notes(store, "case-t", ("one",), 0)
        # Two positions left unused (appends that rolled back leave such gaps) ...
        gap = [
            await admin.fetchval(
                "SELECT nextval(pg_get_serial_sequence('eventstore.events', 'position'))"
            )
            for _ in range(2)
        ]
        await _notes(store, "case-u", ("two",), 0)
        checkpoint = await take_checkpoint(store.pool, signer, now=lambda: datetime.now(UTC))
        assert checkpoint.position > max(gap)
        assert checkpoint.snapshot is not None
        # ... which a superuser later fills with an invented case, moved there from the end of
        # the log and given an old transaction id, so it reads as if it had always been there.
        await _notes(store, "case-ghost", ("invented", "closed"), 0)
        old_tx = await admin.fetchval(
            "SELECT tx_id::text FROM eventstore.events WHERE stream_id = 'case-t'"
        )
        await admin.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await admin.execute(
            "CREATE TEMP TABLE ghost AS SELECT * FROM eventstore.events "
            "WHERE stream_id = 'case-ghost'"
        )
        await admin.execute("DELETE FROM eventstore.events WHERE stream_id = 'case-ghost'")
        await admin.execute(
            "UPDATE ghost SET position = ($1::bigint[])[version], tx_id = $2::text::xid8",
            gap,
            old_tx,
        )
        await admin.execute(
            "INSERT INTO eventstore.events OVERRIDING SYSTEM VALUE SELECT * FROM ghost"
        )
        await admin.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await admin.close()
    assert all(r.ok for r in await store.verify_all())

    report = await compare(store, checkpoint)
    assert [(m.stream_id, m.version) for m in report.mismatches] == [("case-ghost", 1)]
    assert f"position {gap[0]} is at or below" in report.mismatches[0].reason


async def test_an_append_running_while_the_checkpoint_is_taken_is_not_taken_for_a_forgery(
    store: EventStore, signer: FileSigner
) -> None:
    await _notes(store, "case-t", ("one",), 0)
    async with store.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        # Its position is given now; it commits only after the checkpoint has read.
        await store.append(
            "case-slow",
            [NewEvent(NoteAdded(body="slow", words=1), bureau="3301")],
            0,
            metadata=META,
            connection=conn,
        )
        await _notes(store, "case-u", ("after it",), 0)
        checkpoint = await take_checkpoint(store.pool, signer, now=lambda: datetime.now(UTC))
        await transaction.commit()
    assert "case-slow" not in {h.stream_id for h in checkpoint.heads}
    slow = [e for e in await store.read_all_raw() if e.stream_id == "case-slow"]
    assert slow[0].position < checkpoint.position  # below it, yet genuine
    assert (await compare(store, checkpoint)).ok
