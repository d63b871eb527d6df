"""The case dossier (案卷): the people who handle a case read it in the clear, and every such
read is recorded before anything is returned; auditors list the reads per case and per reader.

Who may read a case in the clear (everyone else keeps the masked views of the other services):

* its handling unit's handlers and heads (the unit it is assigned to; before any assignment the
  receiving bureau, as in assignment);
* the petition office of its receiving bureau or of its handling unit, and of any bureau above
  them;
* the city's leaders, and the leader who owns the case (包案) wherever they sit.

Never the accused (Art. 30): to a unit or officer an accusation names, the case does not exist
(404), as it does not to anyone outside its bureaus' scope; inside that scope, another role is
told it may not (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.bureaus import BureauConfig, UnknownCodeError
from petitions.eventstore import (
    Metadata,
    NewEvent,
    RecordedEvent,
    WrongExpectedVersionError,
)
from petitions.eventstore.port import EventStorePort
from petitions.identity import ForbiddenError, Principal, Role
from petitions.log import get_logger
from petitions.messages.intake import PersonalDataRead
from petitions.messages.reception import InstructionAnswered, LeaderInstructionRecorded
from petitions.personal import BlindIndex
from petitions.personal.codec import plan_for
from petitions.scope import reach

from intake.application.ports import DossierStorage, ReadRow
from intake.application.register import InvalidCommand
from intake.domain.casefile import CaseFile, fold, public_status
from intake.domain.instructions import instructions_of
from intake.domain.registration import Refused

log = get_logger(__name__)

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
SERVICE: Final = "intake"
READ_ATTEMPTS: Final = 5
AUDIT_ROLES: Final = (Role.AUDITOR, Role.ADMIN)


def _not_found() -> Refused:
    return Refused(
        "case_not_found",
        "案件不存在或不在您的范围内，请核对案号 / no such case within your scope: check the "
        "case number or id",
        404,
    )


def reads_stream(case_id: UUID) -> str:
    return f"reads-{case_id}"


@dataclass(frozen=True)
class Loaded:
    case: CaseFile
    raws: list[Any]


class Dossier:
    """The dossier and its read record (one per process)."""

    def __init__(self, storage: DossierStorage, config: BureauConfig, index: BlindIndex) -> None:
        self._storage = storage
        self._store = storage.events
        self._config = config
        self._index = index
        self.reads = 0
        """Personal data read in the clear (each recorded first), for /metrics."""

    @property
    def store(self) -> EventStorePort:
        return self._store

    @property
    def storage(self) -> DossierStorage:
        return self._storage

    @property
    def config(self) -> BureauConfig:
        return self._config

    # -- finding and judging -----------------------------------------------------------------

    async def load(self, ref: str) -> Loaded:
        """The case ``ref`` names, folded masked, with its raw events (for a clear fold)."""
        return await self._load(ref)

    async def _load(self, ref: str) -> Loaded:
        case_id = await self._storage.case_id(ref)
        if case_id is None:
            raise _not_found()
        raws = await self._store.read_stream_raw(f"case-{case_id}")
        # Masked first: whether the caller may see it is decided without unwrapping any key.
        case = fold(await self._store.decode_many(raws, reveal=False))
        if case is None:
            raise _not_found()
        return Loaded(case, raws)

    def unit_bureau(self, case: CaseFile) -> str:
        """The bureau of the handling unit: itself, or the city for a city department."""
        unit = case.handling_unit
        return unit if self._config.is_bureau(unit) else self._config.city.code

    def case_bureaus(self, case: CaseFile) -> list[str]:
        return sorted({case.bureau, case.sub_bureau, self.unit_bureau(case)})

    def _covers(self, mine: str, other: str) -> bool:
        config = self._config
        return config.is_bureau(mine) and config.is_bureau(other) and config.covers(mine, other)

    def in_scope(self, case: CaseFile, principal: Principal) -> bool:
        """May ``principal`` know the case exists at all? (Otherwise: 404.) The one scope rule
        of every service (``petitions.scope``: within the reader's reach, and never the accused,
        matched by normalised codes and the token's department), and the leader who owns the
        case (包案) wherever they sit."""
        mine = reach(principal, self._config)
        facts = case.facts
        if mine.accused(facts):
            return False
        if principal.role is Role.LEADER and principal.user == case.leader_id:
            return True
        return mine.in_reach(facts)

    def may_read_in_clear(self, case: CaseFile, principal: Principal) -> bool:
        role, mine = principal.role, principal.bureau
        unit = self.unit_bureau(case)
        if role in (Role.HANDLER, Role.SUB_BUREAU_HEAD):
            return mine == unit
        if role is Role.PETITION_OFFICE:
            return self._covers(mine, case.bureau) or self._covers(mine, unit)
        if role is Role.LEADER:
            return mine == self._config.city.code or principal.user == case.leader_id
        return False

    def _purpose(self, code: str) -> tuple[str, str, str]:
        try:
            purpose = self._config.read_purpose(code)
        except UnknownCodeError:
            choices = "、".join(f"{p.code} {p.name}" for p in self._config.read_purposes)
            raise InvalidCommand(
                [
                    (
                        "purpose",
                        f"查阅目的须为以下之一：{choices} / the purpose must be one of: "
                        + ", ".join(f"{p.code} ({p.name_en})" for p in self._config.read_purposes),
                    )
                ]
            ) from None
        return purpose.code, purpose.name, purpose.name_en

    def purpose_code(self, code: str) -> str:
        """The configured purpose ``code`` names; 422 naming the choices otherwise."""
        return self._purpose(code)[0]

    async def record(
        self, case: CaseFile, read: PersonalDataRead, correlation_id: UUID
    ) -> dict[str, Any]:
        """Append a read in the clear to the case's record of reads (before answering it)."""
        recorded = await self._record(case, read, correlation_id)
        self.reads += 1
        return recorded

    # -- reading in the clear ----------------------------------------------------------------

    async def read(
        self, ref: str, principal: Principal, purpose: str, *, correlation_id: UUID
    ) -> dict[str, Any]:
        """The case in the clear; the read is recorded first (no record, no data)."""
        code, name, name_en = self._purpose(purpose)
        loaded = await self._load(ref)
        case = loaded.case
        if not self.in_scope(case, principal):
            raise _not_found()
        if not self.may_read_in_clear(case, principal):
            raise ForbiddenError(
                "may_not_read_personal_data",
                f"「{principal.role.label}」不能查阅本案的个人信息；可查阅的是承办单位的承办人和局长、"
                "受理单位或承办单位（及其上级）的信访科、市局领导和包案领导 / your role "
                f"({principal.role}) may not read this case's personal data: its handling unit's "
                "handlers and heads, the petition office of its receiving or handling bureau (or "
                "above), the city's leaders and the leader who owns it may",
            )
        events = await self._store.decode_many(loaded.raws, reveal=True)
        clear = fold(events)
        assert clear is not None
        acts = _acts(events)
        fields = _fields_shown(clear) + (("acts.text",) if acts else ())
        subjects = tuple(dict.fromkeys(p.subject_id for p in clear.petitioners))
        read = PersonalDataRead(
            case_id=case.case_id,
            case_number=case.case_number,
            reader=principal.user,
            role=str(principal.role),
            reader_bureau=principal.bureau,
            purpose=code,
            fields=fields,
            subjects=subjects,
        )
        recorded = await self._record(case, read, correlation_id)
        log.info("dossier.read", case=str(case.case_id), purpose=code)  # never the data
        self.reads += 1
        return self._dossier_json(clear, principal) | {
            "acts": acts,
            "instructions": _instructions(events),
            "purpose": {"code": code, "name": name, "name_en": name_en},
            "read": recorded,
        }

    async def _record(
        self, case: CaseFile, read: PersonalDataRead, correlation_id: UUID
    ) -> dict[str, Any]:
        stream = reads_stream(case.case_id)
        metadata = Metadata(actor=read.reader, service=SERVICE, correlation_id=correlation_id)
        for _ in range(READ_ATTEMPTS):
            try:
                async with self._storage.transaction() as writer:
                    result = await writer.append(
                        stream,
                        [NewEvent(read, bureau=case.bureau)],
                        await writer.stream_version(stream),
                        metadata=metadata,
                    )
                    await writer.add_read(self.read_row(case, read.reader, result.version))
            except WrongExpectedVersionError:
                continue  # another read of the same case was recorded meanwhile
            event = (await self._store.read_stream(stream, result.version, result.version))[0]
            return {
                "stream_id": stream,
                "version": event.version,
                "read_at": event.recorded_at.astimezone(SHANGHAI),
            }
        raise Refused("busy", "案件正被频繁查阅，请重试 / the case is busy, try again", 503)

    def read_row(self, case: CaseFile, reader: str, version: int) -> ReadRow:
        """The row that lets auditors find the read at ``version`` of the case's reads."""
        return ReadRow(
            stream_id=reads_stream(case.case_id),
            version=version,
            case_id=case.case_id,
            reader=reader,
            case_bureaus=self.case_bureaus(case),
            accused_units=sorted(case.accused_units),
            accused_officers=sorted(case.accused_officers),
        )

    def _dossier_json(self, case: CaseFile, principal: Principal) -> dict[str, Any]:
        del principal
        config = self._config
        first = case.submissions[0].data if case.submissions else None
        return {
            "case_id": case.case_id,
            "case_number": case.case_number,
            "version": case.version,
            "state": case.state,
            "bureau": self._named_bureau(case.bureau),
            "sub_bureau": self._named_bureau(case.sub_bureau),
            "category": {"code": case.category, "name": _category_name(config, case.category)},
            "category_kind": case.category_kind,
            "first_receiver": case.first_receiver,
            "unit": None if case.unit is None else self._named_unit(case.unit),
            "officer": case.officer,
            "leader": (
                None if case.leader_id is None else {"id": case.leader_id, "name": case.leader_name}
            ),
            "accused_units": [self._named_unit(u) for u in sorted(case.accused_units)],
            "accused_officers": sorted(case.accused_officers),
            "petitioners": [
                {
                    "subject_id": p.subject_id,
                    "id_kind": p.id_kind.value,
                    "id_kind_name": p.id_kind.zh,
                    "name": p.name,
                    "resident_id": p.resident_id,
                    # Only the document the petitioner gave: the others are empty by design.
                    **{f: getattr(p, f) for f in _OTHER_DOCUMENTS if getattr(p, f) is not None},
                    "phone": p.phone,
                    "address": p.address,
                }
                for p in case.petitioners
            ],
            "summary": None if first is None else first.summary,
            "requests": None if first is None else first.requests,
            "submissions": [
                {
                    "submission_id": s.submission_id,
                    "channel": str(s.data.channel),
                    "received_at": s.data.received_at.astimezone(SHANGHAI),
                    "receiving_bureau": s.data.receiving_bureau,
                    "receiving_officer": s.data.receiving_officer,
                    "document_number": s.data.document_number,
                    "head_count": s.data.head_count,
                    "collective": s.data.collective,
                    "is_repeat": s.data.is_repeat,
                    "link_reason": s.data.link_reason,
                    "escalation": None if s.data.escalation is None else str(s.data.escalation),
                    "preliminary_assessment": str(s.data.preliminary_assessment),
                    "summary": s.data.summary,
                    "requests": s.data.requests,
                }
                for s in case.submissions
            ],
        }

    def _named_bureau(self, code: str) -> dict[str, str | None]:
        name = self._config.bureau_name(code) if self._config.is_bureau(code) else None
        return {"code": code, "name": name}

    def _named_unit(self, code: str) -> dict[str, str | None]:
        name = self._config.unit_name(code) if self._config.is_unit(code) else None
        return {"code": code, "name": name}

    # -- the record of reads -------------------------------------------------------------------

    async def reads_of_case(self, ref: str, principal: Principal) -> dict[str, Any]:
        """Every clear read of one case, oldest first, with the check of that record's chain."""
        case = (await self._load(ref)).case
        if not self.in_scope(case, principal):
            raise _not_found()
        stream = reads_stream(case.case_id)
        events = await self._store.read_stream(stream, reveal=False)
        verification = await self._store.verify(stream)
        return {
            "case_id": case.case_id,
            "case_number": case.case_number,
            "reads": [
                self._read_json(e.data, e.version, e.recorded_at, e.correlation_id)
                for e in events
                if isinstance(e.data, PersonalDataRead)
            ],
            "verification": {
                "stream_id": stream,
                "ok": verification.ok,
                "events_checked": verification.events_checked,
                "reason": verification.reason,
            },
        }

    async def reads_by_user(
        self, user: str, principal: Principal, *, limit: int, offset: int
    ) -> dict[str, Any]:
        """One reader's clear reads, newest first, of the cases within the auditor's scope
        (and never of an accusation against the auditor's own unit or person)."""
        scope = (
            list(self._config.covered_by(principal.bureau))
            if self._config.is_bureau(principal.bureau)
            else []
        )
        rows = await self._storage.reads_by(
            user,
            scope,
            not_accused_unit=principal.bureau,
            not_accused_officer=principal.user,
            limit=limit,
            offset=offset,
        )
        return {
            "reader": user,
            "reads": [
                self._read_json(r.read, r.version, r.recorded_at, r.correlation_id) for r in rows
            ],
        }

    def _read_json(
        self, read: PersonalDataRead, version: int, at: datetime, correlation_id: UUID
    ) -> dict[str, Any]:
        purpose = next((p for p in self._config.read_purposes if p.code == read.purpose), None)
        try:
            role_label: str | None = Role(read.role).label
        except ValueError:
            role_label = None
        return {
            "case_id": read.case_id,
            "case_number": read.case_number,
            "version": version,
            "reader": read.reader,
            "role": read.role,
            "role_label": role_label,
            "reader_bureau": read.reader_bureau,
            "purpose": read.purpose,
            "purpose_label": None if purpose is None else f"{purpose.name} {purpose.name_en}",
            "fields": list(read.fields),
            "subjects": list(read.subjects),
            "read_at": at.astimezone(SHANGHAI),
            "correlation_id": correlation_id,
        }

    # -- the petitioner's status lookup --------------------------------------------------------

    async def status_by_query_code(self, code: str) -> dict[str, Any] | None:
        """What a petitioner may see with their query code: where the case stands, no names."""
        case_id = await self._storage.case_of_query_code(
            self._index.token("query_code", code.strip().upper())
        )
        if case_id is None:
            return None
        raws = await self._store.read_stream_raw(f"case-{case_id}")
        case = fold(await self._store.decode_many(raws, reveal=False))
        return None if case is None else public_status(case)


_OTHER_DOCUMENTS = (
    "passport",
    "passport_country",
    "hk_macau_permit",
    "taiwan_permit",
    "permanent_residence_id",
    "credit_code",
)


def _fields_shown(case: CaseFile) -> tuple[str, ...]:
    """The personal fields the dossier shows in the clear, by path, those that hold a value."""
    shown: list[str] = []
    for name in ("name", "resident_id", *_OTHER_DOCUMENTS, "phone", "address"):
        if any(getattr(p, name) for p in case.petitioners):
            shown.append(f"petitioners.{name}")
    for name in ("summary", "requests"):
        if any(getattr(s.data, name) for s in case.submissions):
            shown.append(f"submissions.{name}")
    return tuple(shown)


_FOLLOW_UP: Final = frozenset(
    {LeaderInstructionRecorded.event_type, InstructionAnswered.event_type}
)


def _instructions(events: list[RecordedEvent[Any]]) -> list[dict[str, Any]]:
    """The leaders' instructions on the case, followed up: who answers, by when, answered when
    (their text and answers are among the acts)."""
    return [
        {
            "instruction_id": i.instruction_id,
            "session_id": i.session_id,
            "instructed_on": i.instructed_on,
            "answering_unit": i.unit,
            "due_on": i.due_on,
            "answered_on": i.answered_on,
            "on_time": i.on_time,
        }
        for i in instructions_of(events).values()
    ]


def _acts(events: list[RecordedEvent[Any]]) -> list[dict[str, Any]]:
    """The workflow's acts that carry free text (notes, reasons, summaries, plans), opened: the
    other services show them masked, since they may name anyone. Oldest first."""
    acts: list[dict[str, Any]] = []
    for event in events:
        if not event.event_type.startswith("assignment.") and event.event_type not in _FOLLOW_UP:
            continue
        plan = plan_for(type(event.data))
        text = {name: getattr(event.data, name) for name in plan.fields}
        if not any(text.values()):
            continue
        acts.append(
            {
                "version": event.version,
                "event_type": event.event_type,
                "actor": event.actor,
                "recorded_at": event.recorded_at.astimezone(SHANGHAI),
                "text": text,
            }
        )
    return acts


def _category_name(config: BureauConfig, code: str) -> str | None:
    try:
        return config.category(code).name
    except UnknownCodeError:
        return None


__all__ = ["AUDIT_ROLES", "Dossier", "reads_stream"]
