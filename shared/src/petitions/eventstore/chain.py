"""Building and checking the per-stream hash chain (the hashing itself is in :mod:`hashing`).

:func:`chain_append` turns an append's new events into the rows to store, each linked onto the
one before; :class:`ChainChecker` recomputes a stored stream link by link. Both are free of any
database, so every store implementation chains exactly alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from petitions.eventstore import hashing
from petitions.eventstore.model import (
    EventTooLargeError,
    Metadata,
    NewEvent,
    RawEvent,
    VerificationResult,
)


@dataclass(slots=True)
class ChainedAppend:
    """An append's events as they will be stored, column by column, with the new head."""

    versions: list[int] = field(default_factory=list)
    ids: list[UUID] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    schema_versions: list[int] = field(default_factory=list)
    bureaus: list[str] = field(default_factory=list)
    datas: list[str] = field(default_factory=list)
    occurred: list[datetime] = field(default_factory=list)
    digests: list[bytes] = field(default_factory=list)
    head: bytes = hashing.GENESIS


def chain_append(
    *,
    algorithm: str,
    stream_id: str,
    events: Sequence[NewEvent[Any]],
    expected: int,
    previous: bytes,
    metadata: Metadata,
    recorded_at: datetime,
    encode: Callable[[NewEvent[Any], int], str],
    max_event_bytes: int,
) -> ChainedAppend:
    """Encode (``encode(new, version)``: the stored JSON text, sealed if need be), size-check and
    link each event onto ``previous``. Raises :class:`EventTooLargeError` before anything is
    written."""
    out = ChainedAppend(head=previous)
    digest = previous
    for offset, new in enumerate(events, start=1):
        data = new.data
        version = expected + offset
        text = encode(new, version)
        # Measured as stored (sealed fields included): the relay publishes exactly this. A
        # character is at most 4 bytes, so the usual small event is never encoded to count.
        if len(text) * 4 > max_event_bytes:
            size = len(text.encode())
            if size > max_event_bytes:
                raise EventTooLargeError(data.event_type, size, max_event_bytes)
        occurred_at = new.occurred_at or recorded_at
        digest = hashing.link(
            algorithm,
            digest,
            hashing.canonical_bytes(
                stream_id=stream_id,
                version=version,
                event_id=new.event_id,
                event_type=data.event_type,
                schema_version=data.schema_version,
                bureau=new.bureau,
                data=text,
                actor=metadata.actor,
                service=metadata.service,
                correlation_id=metadata.correlation_id,
                causation_id=metadata.causation_id,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
            ),
        )
        out.versions.append(version)
        out.ids.append(new.event_id)
        out.types.append(data.event_type)
        out.schema_versions.append(data.schema_version)
        out.bureaus.append(new.bureau)
        out.datas.append(text)
        out.occurred.append(occurred_at)
        out.digests.append(digest)
    out.head = digest
    return out


def canonical(raw: RawEvent) -> bytes:
    """The bytes the chain covers for a stored event."""
    return hashing.canonical_bytes(
        stream_id=raw.stream_id,
        version=raw.version,
        event_id=raw.event_id,
        event_type=raw.event_type,
        schema_version=raw.schema_version,
        bureau=raw.bureau,
        data=raw.data,
        actor=raw.actor,
        service=raw.service,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        occurred_at=raw.occurred_at,
        recorded_at=raw.recorded_at,
    )


class ChainChecker:
    """Recomputes one stream's chain event by event; :meth:`finish` compares the stream head."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.previous = hashing.GENESIS
        self.expected_version = 1
        self.checked = 0
        self.failure: VerificationResult | None = None

    def _fail(self, version: int, position: int | None, reason: str) -> bool:
        self.failure = VerificationResult(
            self.stream_id, False, self.checked, version, position, reason
        )
        return False

    def feed(self, raw: RawEvent) -> bool:
        """Check the next stored event; False (and :attr:`failure`) at the first bad one."""
        return self.feed_canonical(
            raw.version, raw.position, raw.hash_alg, raw.hash, canonical(raw)
        )

    def feed_canonical(
        self, version: int, position: int, algorithm: str, stored: bytes, canonical: bytes
    ) -> bool:
        """:meth:`feed` given the event's canonical bytes (and what else the check needs)."""
        if version != self.expected_version:
            return self._fail(
                self.expected_version,
                position,
                f"缺失事件 version {self.expected_version} is missing (next stored is {version})",
            )
        try:
            digest = hashing.link(algorithm, self.previous, canonical)
        except hashing.UnsupportedHashAlgorithmError as exc:
            return self._fail(version, position, str(exc))
        if digest != stored:
            return self._fail(
                version, position, f"哈希不符 hash of version {version} does not match"
            )
        self.previous = digest
        self.expected_version += 1
        self.checked += 1
        return True

    def finish(self, head: tuple[int, bytes] | None) -> VerificationResult:
        """The result, given the stream row's (version, head hash), None if there is none."""
        if self.failure is not None:
            return self.failure
        last = self.expected_version - 1
        if head is None:
            if last == 0:
                return VerificationResult(self.stream_id, True, 0)
            return VerificationResult(
                self.stream_id, False, self.checked, 1, None, "流记录缺失 stream row is missing"
            )
        version, head_hash = head
        if version != last or bytes(head_hash) != self.previous:
            return VerificationResult(
                self.stream_id,
                False,
                self.checked,
                last + 1,
                None,
                f"流头不符 stream head says version {version}, events end at {last}",
            )
        return VerificationResult(self.stream_id, True, self.checked)
