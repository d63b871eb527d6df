"""The append-only, hash-chained PostgreSQL event store."""

from petitions.eventstore.model import (
    ANY,
    NO_STREAM,
    AppendResult,
    Cursor,
    EventStoreError,
    EventTooLargeError,
    Metadata,
    NewEvent,
    PartialDuplicateError,
    RawEvent,
    RecordedEvent,
    VerificationResult,
    WrongExpectedVersionError,
)
from petitions.eventstore.schema import apply_migrations
from petitions.eventstore.store import EventStore, PersonalData
from petitions.eventstore.subscription import CatchUpSubscription, load_cursor, save_cursor

__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "CatchUpSubscription",
    "Cursor",
    "EventStore",
    "EventStoreError",
    "EventTooLargeError",
    "Metadata",
    "NewEvent",
    "PartialDuplicateError",
    "PersonalData",
    "RawEvent",
    "RecordedEvent",
    "VerificationResult",
    "WrongExpectedVersionError",
    "apply_migrations",
    "load_cursor",
    "save_cursor",
]
