"""Registering a submission: load what the decision needs, decide, append atomically (the case
events with its number, query code and idempotency key: storage behind :mod:`.ports`)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.bureaus import BureauConfig, CategoryKind
from petitions.clock import Clock, utc_now
from petitions.eventstore import Metadata, NewEvent, WrongExpectedVersionError
from petitions.identity import ForbiddenError, Principal, Role
from petitions.messages.intake import (
    CaseRegistered,
    Channel,
    PetitionerRecord,
    SubmissionReceived,
)
from petitions.personal import BlindIndex
from petitions.scope import ensure_acts_for, normalise_parties, reach

from intake.application.ports import IdempotencyKeyTaken, RegistrationStorage, RegistrationWriter
from intake.domain.commands import PetitionerIn, RegisterSubmission
from intake.domain.registration import CaseView, Refused, evolve, match

SHANGHAI = ZoneInfo("Asia/Shanghai")
_SUBJECT_NAMESPACE = uuid.UUID("5f1d3c1e-6a57-4c0e-9a43-0c6f5b1f2a11")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
MAX_BACKDATE = timedelta(days=30)


@dataclass(frozen=True)
class Registered:
    case_id: UUID
    case_number: str
    submission_id: UUID
    is_repeat: bool
    reason: str | None
    query_code: str | None
    similar_cases: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "case_number": self.case_number,
            "submission_id": str(self.submission_id),
            "is_repeat": self.is_repeat,
            "reason": self.reason,
            "query_code": self.query_code,
            "similar_cases": list(self.similar_cases),
        }


class Registrar:
    """The registration use case (one per process)."""

    def __init__(
        self,
        storage: RegistrationStorage,
        index: BlindIndex,
        config: BureauConfig,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._index = index
        self._config = config

    def subject_for(self, person: PetitionerIn) -> UUID:
        """The same person is the same data subject on every case (erasure reaches them all),
        without the id revealing the document: derived from its keyed blind-index token (per
        kind, so ids from before other documents existed are unchanged). An anonymous
        petitioner is a new subject each time: nothing says two letters came from one person,
        and guessing would merge strangers' cases."""
        identity = person.identity
        if identity is None:
            return uuid.uuid4()
        kind, value = identity
        return uuid.uuid5(_SUBJECT_NAMESPACE, self._index.token(kind, value).hex())

    def _check(self, command: RegisterSubmission, principal: Principal, now: datetime) -> None:
        config = self._config
        # Before any field: a caller who may not register here learns nothing about the fields.
        ensure_configured(config, principal)
        problems: list[tuple[str, str]] = []
        if not config.is_bureau(command.receiving_bureau):
            problems.append(("receiving_bureau", "未知单位代码 / unknown bureau code"))
        if not config.is_bureau(command.sub_bureau):
            problems.append(("sub_bureau", "未知分县局代码 / unknown sub-bureau code"))
        try:
            config.category(command.category)
        except LookupError:
            problems.append(("category", "未知问题分类代码 / unknown category code"))
        for unit in command.accused_units:
            if not config.is_bureau(unit) and not config.is_department(unit):
                problems.append(("accused_units", f"未知单位代码 / unknown unit code {unit!r}"))
        problems += _identity_problems(command, config)
        if command.received_at > now + timedelta(minutes=5):
            problems.append(("received_at", "收到时间在将来 / received in the future"))
        if command.received_at < now - MAX_BACKDATE and principal.role is not Role.IMPORTER:
            problems.append(
                (
                    "received_at",
                    "超过30天的历史件只能由数据导入角色登记 / only the importer role "
                    "may register a submission received more than 30 days ago",
                )
            )
        if problems:
            raise InvalidCommand(problems)
        ensure_acts_for(principal, config, command.receiving_bureau)

    async def _load(self, case_id: UUID) -> CaseView | None:
        state, _ = await self._storage.events.load(f"case-{case_id}", None, evolve)
        return state

    async def _candidates(self, command: RegisterSubmission) -> list[CaseView]:
        # Whatever document each person gave, looked up under its own kind; the subjects then
        # decide (a passport number is found across issuing states, its subject is not).
        streams: set[str] = set()
        for person in [*command.petitioners, *command.representatives]:
            if person.identity is None:
                continue  # anonymous: never matched automatically; link_case_id still works
            kind = person.id_kind
            value: str = getattr(person, kind.value)
            for stream_id in await self._storage.streams_with(kind.value, value):
                if stream_id.startswith("case-"):
                    streams.add(stream_id)
        views = [await self._load(UUID(s.removeprefix("case-"))) for s in sorted(streams)]
        return [v for v in views if v is not None]

    async def register(
        self,
        command: RegisterSubmission,
        principal: Principal,
        *,
        idempotency_key: str | None,
        correlation_id: UUID,
        now: datetime | None = None,
    ) -> Registered:
        now = now or self._clock()
        self._check(command, principal, now)
        session = command.reception_session_id
        if session is not None and await self._storage.session_bureau(session) is None:
            raise InvalidCommand(
                [("reception_session_id", "接访场次不存在 / no such reception session")]
            )
        request_hash = hashlib.sha256(command.model_dump_json().encode()).digest()
        if idempotency_key:
            earlier = await self._earlier(principal, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        for _ in range(5):
            try:
                return await self._attempt(
                    command, principal, idempotency_key, request_hash, correlation_id, now
                )
            except WrongExpectedVersionError:
                continue  # the case moved on meanwhile: decide again on what it is now
            except IdempotencyKeyTaken:
                # The same request, sent twice at once: the other one answered first.
                if not idempotency_key:
                    raise
                earlier = await self._earlier(principal, idempotency_key, request_hash)
                if earlier is not None:
                    return earlier
                raise
        raise Refused("busy", "案件正被同时修改，请重试 / the case is busy, try again", 503)

    async def _earlier(
        self, principal: Principal, key: str, request_hash: bytes
    ) -> Registered | None:
        row = await self._storage.idempotency_keys.find(principal.user, key)
        if row is None:
            return None
        if row.request_hash != request_hash:
            raise Refused(
                "idempotency_key_reused",
                "此幂等键已用于另一请求 / this Idempotency-Key was used for a different request",
                422,
            )
        saved = row.response
        return Registered(
            case_id=UUID(saved["case_id"]),
            case_number=saved["case_number"],
            submission_id=UUID(saved["submission_id"]),
            is_repeat=saved["is_repeat"],
            reason=saved["reason"],
            query_code=saved["query_code"],
            similar_cases=tuple(saved["similar_cases"]),
        )

    async def _attempt(
        self,
        command: RegisterSubmission,
        principal: Principal,
        idempotency_key: str | None,
        request_hash: bytes,
        correlation_id: UUID,
        now: datetime,
    ) -> Registered:
        subjects = [self.subject_for(p) for p in command.petitioners]
        delegates = [self.subject_for(p) for p in command.representatives]
        # The one scope rule: a case the registrar may not see (another bureau's, or one that
        # accuses them) is neither matched, nor linked to, nor listed as similar; to them it
        # does not exist (Art. 30), so the answer is the same as for no case at all.
        mine = reach(principal, self._config)
        linked = await self._load(command.link_case_id) if command.link_case_id else None
        if linked is not None and not mine.sees(linked.facts):
            linked = None
        candidates = [c for c in await self._candidates(command) if mine.sees(c.facts)]
        outcome = match(command, frozenset(subjects + delegates), candidates, linked)
        submission_id = uuid.uuid4()
        occurred = command.received_at if principal.role is Role.IMPORTER else now
        metadata = Metadata(actor=principal.user, service="intake", correlation_id=correlation_id)
        received = SubmissionReceived(
            subject_id=subjects[0],
            case_id=outcome.case.case_id if outcome.case else uuid.uuid4(),
            submission_id=submission_id,
            channel=command.channel,
            received_at=command.received_at,
            receiving_bureau=command.receiving_bureau,
            receiving_officer=command.receiving_officer,
            reception_session_id=(
                None if command.reception_session_id is None else str(command.reception_session_id)
            ),
            document_number=command.document_number,
            head_count=command.head_count,
            collective=self._config.is_collective(command.head_count),
            petitioner_subjects=tuple(subjects),
            summary=command.summary,
            requests=command.requests,
            preliminary_assessment=command.preliminary_assessment,
            is_repeat=outcome.case is not None,
            link_reason=outcome.reason,
            escalation=command.escalation,
            representatives=tuple(
                _record(subject, p)
                for subject, p in zip(delegates, command.representatives, strict=True)
            ),
        )
        async with self._storage.transaction() as tx:
            if outcome.case is not None:
                case = outcome.case
                stream, expected = f"case-{case.case_id}", case.version
                events: list[NewEvent[Any]] = [
                    NewEvent(received, bureau=case.bureau, occurred_at=occurred)
                ]
                result = Registered(
                    case.case_id, case.case_number, submission_id, True, outcome.reason, None, ()
                )
            else:
                case_number = await self._next_number(tx, command)
                query_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
                await tx.query_codes.add(
                    self._index.token("query_code", query_code), received.case_id
                )
                opened = CaseRegistered(
                    subject_id=subjects[0],
                    case_id=received.case_id,
                    case_number=case_number,
                    bureau=command.receiving_bureau,
                    responsible_officer=command.receiving_officer,
                    sub_bureau=command.sub_bureau,
                    category=command.category,
                    category_kind=str(self._config.category_kind(command.category)),
                    petitioners=tuple(
                        _record(subject, p)
                        for subject, p in zip(subjects, command.petitioners, strict=True)
                    ),
                    first_submission_id=submission_id,
                    accused_units=tuple(command.accused_units),  # checked against the config
                    # Stored normalised, as every reader compares them (petitions.scope).
                    accused_officers=normalise_parties(command.accused_officers),
                )
                stream, expected = f"case-{received.case_id}", 0
                events = [
                    NewEvent(opened, bureau=command.receiving_bureau, occurred_at=occurred),
                    NewEvent(received, bureau=command.receiving_bureau, occurred_at=occurred),
                ]
                result = Registered(
                    received.case_id,
                    case_number,
                    submission_id,
                    False,
                    outcome.reason,
                    query_code,
                    outcome.candidates,
                )
            # The key before the events: a request that lost the race for its key fails before
            # any sealing and hashing, and the answer is known before anything is appended.
            if idempotency_key:
                await tx.idempotency_keys.remember(
                    principal.user, idempotency_key, request_hash, result.as_json()
                )
            await tx.append(stream, events, expected, metadata=metadata)
        return result

    async def _next_number(self, tx: RegistrationWriter, command: RegisterSubmission) -> str:
        year = command.received_at.astimezone(SHANGHAI).year
        last = await tx.case_numbers.next(command.receiving_bureau, year)
        return f"{command.receiving_bureau}-{year}-{last:06d}"


def _record(subject: UUID, person: PetitionerIn) -> PetitionerRecord:
    return PetitionerRecord(
        subject_id=subject,
        name=person.name,
        resident_id=person.resident_id,
        phone=person.phone,
        address=person.address,
        id_kind=person.id_kind,
        passport=person.passport,
        passport_country=person.passport_country,
        hk_macau_permit=person.hk_macau_permit,
        taiwan_permit=person.taiwan_permit,
        permanent_residence_id=person.permanent_residence_id,
        credit_code=person.credit_code,
    )


_ANONYMOUS_CHANNELS = (Channel.LETTER, Channel.ONLINE)


def _identity_problems(command: RegisterSubmission, config: BureauConfig) -> list[tuple[str, str]]:
    """What the configuration decides about who petitions: anonymity only for accusations by
    letter or online (a visit or a call has someone to identify; a suggestion or a demand needs
    someone to answer), and representatives only for a collective petition (Art. 20)."""
    problems: list[tuple[str, str]] = []
    if command.anonymous:
        try:
            kind: CategoryKind | None = config.category_kind(command.category)
        except LookupError:
            kind = None  # reported as an unknown category already
        if kind is not None and kind is not CategoryKind.ACCUSATION:
            problems.append(
                (
                    "petitioners",
                    f"只有检举控告可以匿名，本件类别为{kind.zh} / only an accusation (检举控告) "
                    f"may be anonymous; this category is {kind.value}",
                )
            )
        if command.channel not in _ANONYMOUS_CHANNELS:
            problems.append(
                (
                    "petitioners",
                    "匿名检举控告只能通过来信或网上提出，来访、来电须登记身份 / an anonymous "
                    "accusation comes by letter or online only; a visit, call or referral "
                    "registers who petitions",
                )
            )
    if command.representatives and not config.is_collective(command.head_count):
        problems.append(
            (
                "representatives",
                f"只有集体访（{config.collective_threshold}人及以上）推选代表 / only a collective "
                f"petition (head count {config.collective_threshold} or more) has representatives",
            )
        )
    return problems


def ensure_configured(config: BureauConfig, principal: Principal) -> None:
    """Refuse (403) a token whose bureau the configuration does not know: a valid signature does
    not make an unknown unit part of the bureau, and the scope rules raise on unknown codes."""
    if not config.is_bureau(principal.bureau):
        raise ForbiddenError(
            "bureau_not_configured",
            f"令牌所属单位 {principal.bureau} 不在本系统的单位配置中，不能办理信访业务，请联系"
            f"管理员 / your token's bureau {principal.bureau} is not a bureau configured in this "
            "system, so it may not act here: ask an administrator",
        )


class InvalidCommand(Exception):
    """Field-level problems found against the configuration (reported as 422)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


__all__ = ["ForbiddenError", "InvalidCommand", "Registered", "Registrar", "ensure_configured"]
