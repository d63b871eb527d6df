"""What goes into the store and what comes out: envelopes, cursors, results, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, make_dataclass
from datetime import datetime
from typing import Any, Final, Generic, TypeVar
from uuid import UUID, uuid4

from petitions.messages import Event

E = TypeVar("E", bound=Event)
T = TypeVar("T")


class _Any:
    """Marker: append whatever the stream's current version is."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _Any()
"""Expected version that skips the concurrency check (still appends atomically)."""

NO_STREAM: Final = 0
"""Expected version of a stream that must not exist yet."""


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who caused an append and why: copied onto every event of the append."""

    actor: str
    service: str
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class NewEvent(Generic[E]):
    """An event a service asks to append. Give a deterministic ``event_id`` to make a retried
    command idempotent: an id already stored is not appended again."""

    data: E
    bureau: str
    event_id: UUID = field(default_factory=uuid4)
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """A reader's place in the whole log: (writing transaction id, position)."""

    tx_id: int = 0
    position: int = 0

    def __str__(self) -> str:
        return f"{self.tx_id}:{self.position}"


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event row as stored, data still as its JSON text (what the relay publishes and the
    verifier hashes)."""

    position: int
    stream_id: str
    version: int
    event_id: UUID
    event_type: str
    schema_version: int
    bureau: str
    data: str
    actor: str
    service: str
    correlation_id: UUID
    causation_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    tx_id: int
    hash_alg: str
    hash: bytes

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tx_id, self.position)


@dataclass(frozen=True, slots=True)
class RecordedEvent(Generic[E]):
    """An event read back: the envelope and the typed, upcast data."""

    position: int
    stream_id: str
    version: int
    event_id: UUID
    event_type: str
    stored_schema_version: int
    bureau: str
    data: E
    actor: str
    service: str
    correlation_id: UUID
    causation_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    tx_id: int
    hash: bytes

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tx_id, self.position)


def _fast_builder(cls: type[T]) -> Callable[..., T]:
    """A constructor of ``cls`` (a frozen, slotted dataclass) by position at the cost of a plain
    one: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
    which for 16 fields cost a decoded read more than validating the event's JSON. The
    builder fills a mutable twin with the same slots and then gives it ``cls`` as its class
    (CPython allows that between classes of identical layout); the result is an ordinary,
    frozen ``cls``. Where the assignment is refused, the builder is ``cls`` itself."""
    twin: Any = make_dataclass(
        f"_{cls.__name__}Builder",
        [(f.name, f.type) for f in fields(cls)],  # type: ignore[arg-type]
        bases=getattr(cls, "__orig_bases__", ()),
        slots=True,
        eq=False,
        repr=False,
    )

    def build(*values: Any) -> T:
        built = twin(*values)
        built.__class__ = cls
        return built  # type: ignore[no-any-return]

    sample = tuple(range(len(fields(cls))))  # type: ignore[arg-type]
    try:
        if build(*sample) == cls(*sample):
            return build
    except TypeError:
        pass
    return cls


raw_event: Callable[..., RawEvent] = _fast_builder(RawEvent)
"""``RawEvent(*fields)``, faster (see :func:`_fast_builder`)."""
recorded_event: Callable[..., RecordedEvent[Any]] = _fast_builder(RecordedEvent)
"""``RecordedEvent(*fields)``, faster (see :func:`_fast_builder`)."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    version: int
    """The stream's version after the append."""
    positions: tuple[int, ...]
    """Global positions of the appended events (those stored earlier, for a repeated append)."""
    duplicate: bool = False
    """True when every event id was already stored: nothing was written."""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of recomputing a stream's hash chain."""

    stream_id: str
    ok: bool
    events_checked: int
    first_bad_version: int | None = None
    first_bad_position: int | None = None
    reason: str | None = None


class EventStoreError(Exception):
    """Base of the store's own errors."""


class WrongExpectedVersionError(EventStoreError):
    """Optimistic concurrency: the stream moved on since the caller read it."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"版本冲突 stream {stream_id!r} is at version {actual}, not the expected {expected}; "
            "reload the case and try again"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class EventTooLargeError(EventStoreError):
    """An event whose stored data is larger than the store accepts: it would be too large for
    one NATS message, and the relay, which publishes in order, could get past it only by
    skipping it. Refused before anything is written."""

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"事件过大：{event_type} 有 {size} 字节，超过上限 {limit} 字节，请缩短其中的文字 / "
            f"event {event_type} is {size} bytes, above the limit of {limit} bytes "
            "(max_event_bytes): shorten its texts"
        )
        self.event_type = event_type
        self.size = size
        self.limit = limit


class PartialDuplicateError(EventStoreError):
    """Some, not all, of an append's event ids are already stored: a caller bug, not a retry."""
