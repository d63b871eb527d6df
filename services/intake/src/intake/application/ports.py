"""What registration needs of storage, as ports: the case streams (the event store port, with
its blind index), and three small side tables written in the same transaction as the events:
gapless case numbers, query codes and idempotency keys; and the reception sessions a visit may
name. The dossier's (and its notices', receipts' and attachments') storage: the record of clear
reads beside each read event, gapless notice numbers and the query-code look-up.

:mod:`intake.adapters.postgres` implements them on PostgreSQL (the service),
:mod:`intake.adapters.memory` on :class:`~petitions.eventstore.memory.InMemoryEventStore`
(fast tests of the registrar and of repeat matching).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from petitions.eventstore import AppendResult, Metadata, NewEvent
from petitions.eventstore.port import EventStorePort
from petitions.messages.intake import PersonalDataRead


class IdempotencyKeyTaken(Exception):
    """Another request stored its answer under this principal's key first."""


@dataclass(frozen=True)
class Remembered:
    """What was answered to an earlier request with the same idempotency key."""

    request_hash: bytes
    response: dict[str, Any]


class CaseNumbers(Protocol):
    async def next(self, bureau: str, year: int) -> int:
        """The next serial of ``bureau`` in ``year`` (1, 2, ...), without gaps: a transaction
        that rolls back gives its number back."""
        ...


class QueryCodes(Protocol):
    async def add(self, token: bytes, case_id: UUID) -> None:
        """Keep a query code's blind-index token for the case (never the code itself)."""
        ...


class IdempotencyKeys(Protocol):
    async def find(self, principal: str, key: str) -> Remembered | None: ...

    async def remember(
        self, principal: str, key: str, request_hash: bytes, response: dict[str, Any]
    ) -> None:
        """Keep the answer; :class:`IdempotencyKeyTaken` if the key is stored already."""
        ...


class RegistrationWriter(Protocol):
    """One transaction: the case events and the side-table rows commit together."""

    @property
    def case_numbers(self) -> CaseNumbers: ...

    @property
    def query_codes(self) -> QueryCodes: ...

    @property
    def idempotency_keys(self) -> IdempotencyKeys: ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult: ...


class RegistrationStorage(Protocol):
    @property
    def events(self) -> EventStorePort: ...

    def transaction(self) -> AbstractAsyncContextManager[RegistrationWriter]:
        """A writer whose appends and rows commit together when the block ends without an
        exception, and not at all otherwise."""
        ...

    @property
    def idempotency_keys(self) -> IdempotencyKeys:
        """Reading earlier answers outside a transaction."""
        ...

    async def streams_with(self, kind: str, value: str) -> list[str]:
        """Streams whose events carry ``value`` in a personal field indexed as ``kind`` (the
        blind index: the value itself is never stored)."""
        ...

    async def session_bureau(self, session_id: UUID) -> str | None:
        """The bureau of a scheduled reception session, or None if there is no such session."""
        ...


# -- leader reception days ---------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """A reception session at a glance (``intake.reception_sessions``; its stream is the truth)."""

    session_id: UUID
    bureau: str
    day: date
    leader_id: str
    leader_name: str
    chief_day: bool
    place: str
    state: str
    held_by: str | None
    missed_reason: str | None
    instructions: int
    version: int
    missed_reason_code: str | None = None


SESSION_COLUMNS = (
    "session_id", "bureau", "day", "leader_id", "leader_name", "chief_day", "place", "state",
    "held_by", "missed_reason", "missed_reason_code", "instructions",
)  # fmt: skip
"""The columns of :meth:`ReceptionStorage.sessions` rows, in the API's order."""


@dataclass(frozen=True)
class SessionChange:
    """What an event recorded on a session changes in its row (its version always moves on)."""

    state: str | None = None
    held_by: str | None = None
    missed_reason_code: str | None = None


class SessionWriter(Protocol):
    """One transaction: the session's events and its row commit together."""

    async def add(self, session: SessionRow) -> bool:
        """Keep a newly scheduled session; False (nothing kept) if it is scheduled already."""
        ...

    async def lock(self, session_id: UUID) -> SessionRow | None:
        """The session's row, held against other writers until the transaction ends."""
        ...

    async def change(self, session_id: UUID, change: SessionChange) -> None: ...

    async def count_instruction(self, session_id: UUID) -> None:
        """One more instruction given at the session (it is written on the case's stream, so
        the session's version stays)."""
        ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult: ...


class ReceptionStorage(Protocol):
    @property
    def events(self) -> EventStorePort: ...

    def transaction(self) -> AbstractAsyncContextManager[SessionWriter]: ...

    async def session(self, session_id: UUID) -> SessionRow | None: ...

    async def sessions(self, bureau: str, first: date, last: date) -> list[dict[str, Any]]:
        """A bureau's sessions from ``first`` to ``last``, by day and leader, with
        :data:`SESSION_COLUMNS`."""
        ...


# -- the dossier: clear reads, notices, receipts -------------------------------------------------


@dataclass(frozen=True)
class ReadRow:
    """Who read which case in the clear (``intake.personal_data_reads``; the read event on the
    case's ``reads-`` stream is the truth): what an auditor's per-reader list filters on."""

    stream_id: str
    version: int
    case_id: UUID
    reader: str
    case_bureaus: Sequence[str]
    accused_units: Sequence[str]
    accused_officers: Sequence[str]


@dataclass(frozen=True)
class RecordedRead:
    """A clear read as recorded: the event and where it stands on its stream."""

    read: PersonalDataRead
    version: int
    recorded_at: datetime
    correlation_id: UUID


class DossierWriter(Protocol):
    """One transaction: a read (or notice) event and its row commit together."""

    async def stream_version(self, stream_id: str) -> int:
        """The stream's version as this transaction sees it (0 for a new stream)."""
        ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult: ...

    async def add_read(self, row: ReadRow) -> None: ...

    async def next_notice_number(self, bureau: str, year: int) -> int:
        """The next notice serial of ``bureau`` in ``year`` (1, 2, ...), without gaps: a
        transaction that rolls back gives its number back."""
        ...


class DossierStorage(Protocol):
    @property
    def events(self) -> EventStorePort: ...

    def transaction(self) -> AbstractAsyncContextManager[DossierWriter]:
        """A writer whose appends and rows commit together when the block ends without an
        exception, and not at all otherwise."""
        ...

    async def case_id(self, ref: str) -> UUID | None:
        """The case id ``ref`` (a case number or an id) names: an id is returned as it is,
        existing or not; None for an unknown number or a malformed ref."""
        ...

    async def case_of_query_code(self, token: bytes) -> UUID | None:
        """The case a query code's blind-index token belongs to, or None."""
        ...

    async def reads_by(
        self,
        reader: str,
        bureaus: Sequence[str],
        *,
        not_accused_unit: str,
        not_accused_officer: str,
        limit: int,
        offset: int,
    ) -> list[RecordedRead]:
        """``reader``'s clear reads of cases touching any of ``bureaus``, newest first, leaving
        out cases that accuse ``not_accused_unit`` or ``not_accused_officer``."""
        ...


# -- attachments -------------------------------------------------------------------------------


class AttachmentWriter(Protocol):
    """One transaction: the sealed bytes, the subject's key and the event commit together."""

    async def stream_version(self, stream_id: str) -> int: ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult: ...

    async def key_for_writing(self, subject: UUID) -> bytes:
        """The subject's data key, created if new; ``SubjectErasedError`` if erased."""
        ...

    async def put_blob(self, sm3: bytes, subject: UUID, sealed: bytes, size: int) -> None:
        """Keep ``sealed`` under (sm3, subject); an existing entry is kept as it is. Only
        sealed bytes are given: the storage never sees clear bytes or keys."""
        ...


class AttachmentStorage(Protocol):
    """Where sealed attachment bytes are kept, by (SM3 digest of the clear bytes, subject)."""

    def transaction(self) -> AbstractAsyncContextManager[AttachmentWriter]: ...

    async def blob(self, sm3: bytes, subject: UUID) -> bytes | None:
        """The sealed bytes, or None when there are none."""
        ...
