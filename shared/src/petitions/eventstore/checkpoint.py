"""Signed checkpoints of every stream head, kept outside PostgreSQL.

A per-stream hash chain shows an edit, but not a database superuser who rewrites a whole stream
and recomputes its chain. A checkpoint records, at one moment, each stream's (id, version, head
hash), an SM3 digest over them, and the global position covered, signed with SM2 by a key the
database never sees, and written where the services cannot rewrite it. Later, every head in the
checkpoint must still be in the store with the same hash at that version; a stream may have grown
since, and then its chain (recomputed from the first event) links the checkpointed head to today's.

The heads are read from the events themselves (each stream's last event), not from the
stream rows a superuser could leave out, so every stream with an event is in the next
checkpoint. Against the last one, an event it does not cover (a stream it does not list, or a
version above the listed one) that claims to be older than the checkpoint, by its position (at
or below the checkpoint's, from a transaction that was not still running when it was taken) or
by its recorded time (before it, beyond a margin for clocks), was inserted afterwards and
back-dated: a whole invented case with last year's dates is found too.

The file format (``petitions-checkpoint/1``, JSON):
``{"format", "taken_at", "position", "streams", "hash_alg", "digest", "key_id", "snapshot",
"signature", "heads": [[stream_id, version, head_hex], ...]}``. The signature covers the
canonical JSON of every field except ``heads`` and ``signature``; ``digest`` covers ``heads``
(SM3 over one JSON line ``[stream_id,version,head_hex]\\n`` per stream, sorted by stream id).
``snapshot`` (PostgreSQL's ``xmin:xmax:xip,...`` of the reading transaction) names the
transactions still running then; files written before it was added have none and are
compared by recorded time only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from pydantic import Field

from petitions.eventstore.signing import Signer, key_id_of, verify_signature
from petitions.eventstore.store import EventStore
from petitions.settings import CommonSettings

FORMAT = "petitions-checkpoint/1"
DIGEST_ALG = "sm3"


class CheckpointSettings(CommonSettings):
    """Where checkpoints are written and which key signs and verifies them."""

    checkpoint_dir: Path | None = Field(
        default=None,
        description="Folder of signed checkpoints, outside PostgreSQL and not writable by the "
        "services (unset: no checkpoints).",
    )
    checkpoint_key: Path | None = Field(
        default=None,
        description="SM2 private key (PEM) that signs checkpoints; only the checkpoint job "
        "reads it.",
    )
    checkpoint_public_key: Path | None = Field(
        default=None,
        description="SM2 public key (PEM) that verifies them (default: derived from "
        "checkpoint_key, or <checkpoint_key>.pub).",
    )


class CheckpointError(Exception):
    """A checkpoint cannot be read, written or trusted; the message says what to do."""


class CheckpointForgedError(CheckpointError):
    """The file is not what the key signed: altered, forged or signed by another key."""


@dataclass(frozen=True)
class Head:
    stream_id: str
    version: int
    hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    taken_at: datetime
    position: int
    """The highest global position the checkpoint's snapshot saw."""
    digest: str
    key_id: str
    heads: tuple[Head, ...]
    signature: bytes = b""
    hash_alg: str = DIGEST_ALG
    snapshot: str | None = None
    """The reading transaction's snapshot (``xmin:xmax:xip,...``): which transactions were still
    running, so that their events, below ``position`` but not seen, are not taken for
    back-dated ones."""

    def header(self) -> dict[str, Any]:
        header = {
            "format": FORMAT,
            "taken_at": self.taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "position": self.position,
            "streams": len(self.heads),
            "hash_alg": self.hash_alg,
            "digest": self.digest,
            "key_id": self.key_id,
        }
        if self.snapshot is not None:  # absent from older files, whose signature lacks it
            header["snapshot"] = self.snapshot
        return header

    def running(self) -> list[str]:
        """The transaction ids the snapshot saw running (none without a snapshot)."""
        if self.snapshot is None:
            return []
        listed = self.snapshot.split(":")[2] if self.snapshot.count(":") == 2 else ""
        return [x for x in listed.split(",") if x]

    def signed_bytes(self) -> bytes:
        """What the signature covers: the header as canonical JSON (the heads via the digest)."""
        return json.dumps(
            self.header(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def to_json(self) -> bytes:
        body = {
            **self.header(),
            "signature": base64.b64encode(self.signature).decode(),
            "heads": [[h.stream_id, h.version, h.hash.hex()] for h in self.heads],
        }
        # One head a line: a person can diff two checkpoints.
        head_lines = ",\n".join(
            "  " + json.dumps(h, ensure_ascii=False, separators=(",", ":")) for h in body["heads"]
        )
        top = {k: v for k, v in body.items() if k != "heads"}
        text = json.dumps(top, ensure_ascii=False, indent=1)[:-2]
        return f'{text},\n "heads": [\n{head_lines}\n ]\n}}\n'.encode()

    @classmethod
    def from_json(cls, data: bytes, *, source: str = "checkpoint") -> Checkpoint:
        try:
            body = json.loads(data)
            if body.get("format") != FORMAT:
                raise ValueError(f"format {body.get('format')!r}, expected {FORMAT!r}")
            heads = tuple(Head(str(s), int(v), bytes.fromhex(h)) for s, v, h in body["heads"])
            checkpoint = cls(
                taken_at=datetime.fromisoformat(body["taken_at"]),
                position=int(body["position"]),
                digest=str(body["digest"]),
                key_id=str(body["key_id"]),
                heads=heads,
                signature=base64.b64decode(body["signature"], validate=True),
                hash_alg=str(body["hash_alg"]),
                snapshot=None if body.get("snapshot") is None else str(body["snapshot"]),
            )
            if int(body["streams"]) != len(heads):
                raise ValueError(f"says {body['streams']} streams but lists {len(heads)}")
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CheckpointForgedError(
                f"检查点文件无法读取 {source} is not a readable checkpoint ({exc}); "
                "restore it from the checkpoint store's copy and report it to 纪检督察"
            ) from None
        return checkpoint


def heads_digest(heads: Iterable[Head], algorithm: str = DIGEST_ALG) -> str:
    """SM3 over the sorted heads, one JSON line each (unambiguous whatever the ids contain)."""
    h = hashlib.new(algorithm)
    for head in sorted(heads, key=lambda x: x.stream_id):
        fields = [head.stream_id, head.version, head.hash.hex()]
        line = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        h.update(line.encode() + b"\n")
    return h.hexdigest()


async def take_checkpoint(
    pool: asyncpg.Pool, signer: Signer, *, now: Callable[[], datetime] | None = None
) -> Checkpoint:
    """Read every stream head in one snapshot and sign the result."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        # One snapshot: the heads and the position agree. The heads come from the events, not
        # from eventstore.streams: a stream inserted without its row (or with version 0 there)
        # is in the checkpoint all the same.
        snapshot = await conn.fetchval("SELECT pg_current_snapshot()::text")
        rows = await conn.fetch(
            "SELECT DISTINCT ON (stream_id) stream_id, version, hash AS head_hash "
            "FROM eventstore.events ORDER BY stream_id, version DESC"
        )
        position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM eventstore.events")
    # The time comes from this host, not from the database a superuser controls.
    taken_at = (now or (lambda: datetime.now(UTC)))()
    heads = tuple(Head(r["stream_id"], r["version"], bytes(r["head_hash"])) for r in rows)
    unsigned = Checkpoint(
        taken_at=taken_at,
        position=int(position),
        digest=heads_digest(heads),
        key_id=signer.key_id,
        heads=heads,
        snapshot=snapshot,
    )
    return Checkpoint(**{**unsigned.__dict__, "signature": signer.sign(unsigned.signed_bytes())})


def check_signature(checkpoint: Checkpoint, public_pem: bytes) -> None:
    """Raise :class:`CheckpointError` unless the file is exactly what the key signed."""
    expected = key_id_of(public_pem)
    if checkpoint.key_id != expected:
        raise CheckpointForgedError(
            f"检查点签名密钥不符 the checkpoint of {checkpoint.taken_at.isoformat()} names key "
            f"{checkpoint.key_id[:16]}…, not the configured public key {expected[:16]}…"
            "; set PETITIONS_CHECKPOINT_PUBLIC_KEY to the key that signed it, or report a forgery"
        )
    if not verify_signature(public_pem, checkpoint.signed_bytes(), checkpoint.signature):
        raise CheckpointForgedError(
            f"检查点签名无效 the signature of the checkpoint of {checkpoint.taken_at.isoformat()} "
            f"(position {checkpoint.position}) does not verify: the file was altered or forged; "
            "report it to the discipline / inspection department (纪检督察)"
        )
    if heads_digest(checkpoint.heads, checkpoint.hash_alg) != checkpoint.digest:
        raise CheckpointForgedError(
            f"检查点流头清单被改 the list of heads in the checkpoint of "
            f"{checkpoint.taken_at.isoformat()} does not match its signed digest: the file was "
            "altered; report it to the discipline / inspection department (纪检督察)"
        )


# ------------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Mismatch:
    stream_id: str
    version: int
    reason: str

    def __str__(self) -> str:
        return f"{self.stream_id} v{self.version}: {self.reason}"


@dataclass(frozen=True)
class CheckpointReport:
    checkpoint: Checkpoint
    streams_checked: int
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


BACKDATE_MARGIN = timedelta(minutes=10)
"""An event the checkpoint does not cover may have been recorded this long before it was taken
(an append in flight while it read, and the difference between the services' clocks and the
checkpoint host's); one recorded earlier still was back-dated."""


async def compare(
    store: EventStore,
    checkpoint: Checkpoint,
    *,
    stream_ids: Sequence[str] | None = None,
    margin: timedelta = BACKDATE_MARGIN,
) -> CheckpointReport:
    """Every checkpointed head (of ``stream_ids``, or all) must be in the store with the same
    hash at that version, and the stream's chain must verify from its first event to today's
    head: together, the chain from the checkpointed head onward is genuine. And no event the
    checkpoint does not cover may claim to be older than it (:func:`_backdated`)."""
    wanted = None if stream_ids is None else set(stream_ids)
    heads = [h for h in checkpoint.heads if wanted is None or h.stream_id in wanted]
    when = f"{checkpoint.taken_at.isoformat()} (position {checkpoint.position})"
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT c.stream_id, c.version, e.hash FROM unnest($1::text[], $2::bigint[]) "
            "AS c(stream_id, version) LEFT JOIN eventstore.events e "
            "ON e.stream_id = c.stream_id AND e.version = c.version",
            [h.stream_id for h in heads],
            [h.version for h in heads],
        )
    stored = {(r["stream_id"], r["version"]): r["hash"] for r in rows}
    mismatches: list[Mismatch] = []
    for head in heads:
        found = stored.get((head.stream_id, head.version))
        if found is None:
            mismatches.append(
                Mismatch(
                    head.stream_id,
                    head.version,
                    f"事件缺失 version {head.version}, recorded in the checkpoint of {when}, is "
                    "no longer in the store: events were deleted",
                )
            )
        elif bytes(found) != head.hash:
            mismatches.append(
                Mismatch(
                    head.stream_id,
                    head.version,
                    f"与检查点不符 the hash of version {head.version} differs from the signed "
                    f"checkpoint of {when}: the stream was rewritten",
                )
            )
    if wanted is None:
        chains = await store.verify_all()
    else:
        chains = [await store.verify(s) for s in sorted(wanted)]
    checked = {h.stream_id for h in heads}
    already = {m.stream_id for m in mismatches}
    for late in await _backdated(store, checkpoint, wanted, margin):
        if late.stream_id not in already:
            mismatches.append(late)
    already = {m.stream_id for m in mismatches}
    for result in chains:
        if not result.ok and result.stream_id not in already:
            mismatches.append(
                Mismatch(
                    result.stream_id,
                    result.first_bad_version or 0,
                    f"哈希链断裂 the hash chain breaks: {result.reason}",
                )
            )
    return CheckpointReport(checkpoint, len(checked), mismatches)


async def _backdated(
    store: EventStore, checkpoint: Checkpoint, wanted: set[str] | None, margin: timedelta
) -> list[Mismatch]:
    """Per stream, the first event the checkpoint does not cover (its stream is not listed, or
    its version is above the listed head) that claims to come before it: a position at or below
    the checkpoint's from a transaction that was not running when it was read (one that was
    running may commit later with such a position; one that started later gets a higher
    position), or a recorded time before it, beyond ``margin``."""
    when = f"{checkpoint.taken_at.isoformat()} (position {checkpoint.position})"
    # Without a snapshot (older files) a running transaction cannot be told from a forger.
    below = checkpoint.position if checkpoint.snapshot is not None else 0
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (e.stream_id) e.stream_id, e.version, e.position, e.recorded_at, "
            "e.position <= $3 AND e.tx_id::text <> ALL($4::text[]) AS by_position "
            "FROM eventstore.events e LEFT JOIN unnest($1::text[], $2::bigint[]) "
            "AS c(stream_id, version) ON c.stream_id = e.stream_id "
            "WHERE (c.version IS NULL OR e.version > c.version) "
            "AND ((e.position <= $3 AND e.tx_id::text <> ALL($4::text[])) OR e.recorded_at < $5) "
            "AND ($6::text[] IS NULL OR e.stream_id = ANY($6::text[])) "
            "ORDER BY e.stream_id, e.version",
            [h.stream_id for h in checkpoint.heads],
            [h.version for h in checkpoint.heads],
            below,
            checkpoint.running(),
            checkpoint.taken_at - margin,
            None if wanted is None else sorted(wanted),
        )
    listed = {h.stream_id for h in checkpoint.heads}
    found: list[Mismatch] = []
    for r in rows:
        what = (
            f"version {r['version']} comes after the head the checkpoint of {when} recorded"
            if r["stream_id"] in listed
            else f"the stream is not in the checkpoint of {when}"
        )
        claim = (
            f"its position {r['position']} is at or below the checkpoint's"
            if r["by_position"]
            else f"it says it was recorded at {r['recorded_at'].isoformat()}, before it"
        )
        found.append(
            Mismatch(
                r["stream_id"],
                r["version"],
                f"补录倒签 {what}, yet {claim}: it was inserted afterwards and back-dated",
            )
        )
    return found


# ------------------------------------------------------------------------------- sinks


class CheckpointSink(Protocol):
    """Where checkpoints are kept: outside PostgreSQL, written once, never overwritten.

    An object store fits with write-once retention (S3 Object Lock in compliance mode, or the
    like): ``put`` is a put-if-absent of the name, ``latest`` lists by prefix.
    """

    def put(self, checkpoint: Checkpoint) -> str:
        """Store it; return where. Refuse (CheckpointError) rather than overwrite."""
        ...

    def latest(self) -> Checkpoint | None: ...

    def get(self, name: str) -> Checkpoint: ...


_NAME = re.compile(r"^checkpoint-\d{8}T\d{12}Z-p\d{12,}\.json$")


def checkpoint_name(checkpoint: Checkpoint) -> str:
    """Sorts by time, then position: the last name is the latest checkpoint."""
    moment = checkpoint.taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"checkpoint-{moment}Z-p{checkpoint.position:012d}.json"


class DirectorySink:
    """A folder (a mounted write-once share, or one only the checkpoint job's account writes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, checkpoint: Checkpoint) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / checkpoint_name(checkpoint)
        # Write aside, then link into place: the link fails when the name exists, so a
        # checkpoint is never overwritten and never seen half-written.
        tmp = self.folder / f".{target.name}.{os.getpid()}.tmp"
        tmp.write_bytes(checkpoint.to_json())
        tmp.chmod(0o444)
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise CheckpointError(
                f"检查点已存在 {target} exists and is never overwritten; wait a moment and retry"
            ) from None
        finally:
            tmp.unlink()
        return str(target)

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if _NAME.match(p.name))

    def latest(self) -> Checkpoint | None:
        names = self.names()
        return self.get(names[-1]) if names else None

    def get(self, name: str) -> Checkpoint:
        path = Path(name) if os.sep in name else self.folder / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CheckpointError(
                f"读不到检查点 cannot read checkpoint {path} ({exc.strerror}); check "
                "PETITIONS_CHECKPOINT_DIR and the file's name"
            ) from None
        return Checkpoint.from_json(data, source=str(path))


def public_key_of(settings: CheckpointSettings) -> bytes:
    """The verifying key: the configured public key, else the one beside the private key."""
    candidates: list[Path] = []
    if settings.checkpoint_public_key is not None:
        candidates.append(settings.checkpoint_public_key)
    elif settings.checkpoint_key is not None:
        candidates.append(settings.checkpoint_key.with_name(settings.checkpoint_key.name + ".pub"))
    for path in candidates:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CheckpointError(
                f"读不到检查点公钥 cannot read the checkpoint public key {path} ({exc.strerror}); "
                "set PETITIONS_CHECKPOINT_PUBLIC_KEY to the .pub file `keygen` wrote"
            ) from None
    raise CheckpointError(
        "未配置检查点公钥 no checkpoint public key: set PETITIONS_CHECKPOINT_PUBLIC_KEY "
        "(or PETITIONS_CHECKPOINT_KEY with its .pub beside it)"
    )
