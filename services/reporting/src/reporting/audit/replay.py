"""The audit replay use case: finds a case, checks the reader's reach, reads and verifies its
stream, and records every read before answering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from petitions.eventstore import ANY, Metadata, NewEvent, RawEvent, RecordedEvent
from petitions.eventstore.port import EventStorePort
from petitions.messages.reporting import TimelineRead
from petitions.scope import Reach

from reporting.audit.fold import facts_of, fold
from reporting.audit.labels import SERVICE, By, Via, as_shanghai
from reporting.audit.models import (
    ReadRecord,
    Reads,
    StateAsOf,
    Timeline,
    UnknownCaseError,
    Verification,
)
from reporting.audit.ports import CaseFinder
from reporting.audit.summaries import entry_for, read_record

# ---------------------------------------------------------------------------------- use case


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, and why: recorded with every read."""

    name: str
    role: str
    purpose: str = ""
    via: Via = "api"
    correlation_id: UUID | None = None
    bureau: str | None = None
    scope: Reach | None = None
    """What the reader may see (the one scope rule); None: the operator command, unrestricted."""


@dataclass(frozen=True, slots=True)
class _Case:
    case_id: UUID
    case_number: str
    bureau: str

    @property
    def stream_id(self) -> str:
        return f"case-{self.case_id}"

    @property
    def audit_stream(self) -> str:
        return f"audit-{self.case_id}"


class Audit:
    """The audit replay use case (one per process).

    ``store`` reads the event store (its keys, if any, are not used: everything is read masked);
    ``cases`` finds a case by its number.
    """

    def __init__(self, store: EventStorePort, cases: CaseFinder) -> None:
        self._store = store
        self._cases = cases

    async def _find(self, case_number: str) -> _Case:
        found = await self._cases.find(case_number)
        if found is None:
            raise UnknownCaseError(case_number)
        return _Case(found.case_id, case_number, found.bureau)

    async def _visible(self, case_number: str, scope: Reach | None) -> _Case:
        """The case, if ``scope`` may see it; otherwise the same error as for no case at all,
        so that the accused cannot learn an accusation exists (Art. 30)."""
        case = await self._find(case_number)
        if scope is None:
            return case
        # The case as it is now decides, whatever moment is asked about: a case reassigned
        # away from a unit, or found to accuse it, is no longer that unit's to read.
        events = await self._decode(await self._store.read_stream_raw(case.stream_id))
        if not scope.sees(facts_of(case.bureau, [e for e in events if e is not None])):
            raise UnknownCaseError(case_number)
        return case

    async def _decode(self, raws: Sequence[RawEvent]) -> list[RecordedEvent[Any] | None]:
        try:
            return list(await self._store.decode_many(raws, reveal=False))
        except (LookupError, ValueError):
            pass
        # An unknown type, or data no longer valid for it (a forged row, say), must not hide
        # the rest of the history from the auditor: that event is shown from its raw JSON.
        out: list[RecordedEvent[Any] | None] = []
        for raw in raws:
            try:
                out.extend(await self._store.decode_many([raw], reveal=False))
            except (LookupError, ValueError):
                out.append(None)
        return out

    async def _record(
        self,
        case: _Case,
        reader: Reader,
        *,
        as_of: datetime | None,
        by: By,
        verified: bool | None,
        view: Literal["timeline", "state"],
    ) -> ReadRecord:
        read = TimelineRead(
            case_id=case.case_id,
            reader=reader.name,
            role=reader.role,
            purpose=reader.purpose,
            as_of=as_of,
            verified=verified,
            by=by,
            view=view,
            via=reader.via,
            reader_bureau=reader.bureau,
        )
        metadata = Metadata(
            actor=reader.name,
            service=SERVICE,
            correlation_id=reader.correlation_id or uuid4(),
        )
        result = await self._store.append(
            case.audit_stream, [NewEvent(read, bureau=case.bureau)], ANY, metadata=metadata
        )
        recorded = await self._store.read_stream(
            case.audit_stream, result.version, result.version, reveal=False
        )
        return read_record(recorded[0])

    async def timeline(
        self,
        case_number: str,
        reader: Reader,
        *,
        as_of: datetime | None = None,
        by: By = "recorded",
        verify: bool = False,
    ) -> Timeline:
        """The case's events up to ``as_of`` (all of them without), its state then, and the
        verification of its whole chain if asked; the read is recorded before it is returned."""
        case = await self._visible(case_number, reader.scope)
        moment = None if as_of is None else as_shanghai(as_of)
        verification = Verification.of(await self._store.verify(case.stream_id)) if verify else None
        raws = await self._store.read_stream_raw(case.stream_id, as_of=moment, by=by)
        decoded = await self._decode(raws)
        entries = [
            entry_for(raw, None if event is None else event.data)
            for raw, event in zip(raws, decoded, strict=True)
        ]
        state = fold(event for event in decoded if event is not None)
        version = await self._store.stream_version(case.stream_id)
        read = await self._record(
            case,
            reader,
            as_of=moment,
            by=by,
            verified=None if verification is None else verification.ok,
            view="timeline",
        )
        return Timeline(
            case_id=case.case_id,
            case_number=case.case_number,
            stream_id=case.stream_id,
            as_of=moment,
            by=by,
            stream_version=version,
            entries=entries,
            state=state,
            verification=verification,
            read=read,
        )

    async def state_as_of(
        self,
        case_number: str,
        reader: Reader,
        *,
        as_of: datetime | None = None,
        by: By = "recorded",
    ) -> StateAsOf:
        """The case's state as of ``as_of`` (now without); recorded as a read like a timeline,
        since it tells as much about the case."""
        case = await self._visible(case_number, reader.scope)
        moment = None if as_of is None else as_shanghai(as_of)
        raws = await self._store.read_stream_raw(case.stream_id, as_of=moment, by=by)
        state = fold(event for event in await self._decode(raws) if event is not None)
        read = await self._record(case, reader, as_of=moment, by=by, verified=None, view="state")
        return StateAsOf(
            case_id=case.case_id,
            case_number=case.case_number,
            as_of=moment,
            by=by,
            state=state,
            read=read,
        )

    async def reads(self, case_number: str, scope: Reach | None = None) -> Reads:
        """Who read the case's timeline, oldest first, with the verification of that record;
        ``scope`` as for :meth:`timeline`."""
        case = await self._visible(case_number, scope)
        events = await self._store.read_stream(case.audit_stream, reveal=False)
        return Reads(
            case_id=case.case_id,
            case_number=case.case_number,
            reads=[read_record(e) for e in events if isinstance(e.data, TimelineRead)],
            verification=Verification.of(await self._store.verify(case.audit_stream)),
        )
