"""Written notices (书面告知) from templates a bureau can edit: the acceptance and refusal
notices, forwarding, extension (with its reason), the reply (outcome and legal basis) and the
review and re-review decisions (信访工作条例 Arts. 23, 32, 34-36).

Rendered here, in intake, because a notice is addressed to the petitioner by name and only
intake holds the keys to the sealed personal data; the case stream it folds holds assignment's
acts too. Rendering one is a read in the clear: it is recorded (``intake.PersonalDataRead``)
together with ``intake.NoticeIssued`` in the transaction that takes the document number, so
every number issued has its event and none is lost to a failure (gapless per bureau and year).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from docxtpl import DocxTemplate  # type: ignore[import-untyped]
from petitions.clock import Clock, utc_now
from petitions.eventstore import Metadata, NewEvent, WrongExpectedVersionError
from petitions.identity import ForbiddenError, Principal
from petitions.log import get_logger
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages.intake import NoticeIssued, PersonalDataRead

from intake.application.dossier import SHANGHAI, Dossier, _not_found, reads_stream
from intake.domain.casefile import CaseFile, fold
from intake.domain.registration import Refused

log = get_logger(__name__)

MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class Kind:
    code: str
    title: str  # also the file name
    act: type[Event]  # the recorded act the notice tells of
    needs: str  # what must have happened, zh / en (the 409 names it)


KINDS: Final[dict[str, Kind]] = {
    k.code: k
    for k in (
        Kind("acceptance", "受理告知书", a.CaseAccepted, "案件已受理 the case accepted"),
        Kind("declined", "不予受理告知书", a.AcceptanceDeclined, "已决定不予受理 declined"),
        Kind("forwarded", "转送告知书", a.CaseForwarded, "已转送 forwarded"),
        Kind("extension", "延期告知书", a.ExtensionGranted, "已批准延期 an extension granted"),
        Kind("reply", "答复意见书", a.ReplyIssued, "已出具处理意见 the reply issued"),
        Kind("review", "复查意见书", a.ReviewDecided, "已作出复查决定 the review decided"),
        Kind("re_review", "复核意见书", a.ReReviewDecided, "已作出复核决定 the re-review decided"),
    )
}

_DECISIONS: Final = {"upheld": "维持原处理意见", "revised": "撤销或变更原处理意见"}


@dataclass(frozen=True)
class Notice:
    kind: Kind
    document_number: str
    content: bytes
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.kind.title}-{self.document_number}.docx"


def _day(d: date | None) -> str:
    return "" if d is None else f"{d.year}年{d.month}月{d.day}日"


class Notices:
    def __init__(self, dossier: Dossier, templates: Path, clock: Clock = utc_now) -> None:
        self._dossier = dossier
        self._templates = templates
        self._clock = clock

    def _kind(self, code: str) -> Kind:
        kind = KINDS.get(code)
        if kind is None:
            raise Refused(
                "unknown_notice_kind",
                f"文书种类须为以下之一：{'、'.join(f'{k} {v.title}' for k, v in KINDS.items())} / "
                f"the notice kind must be one of: {', '.join(KINDS)}",
                404,
            )
        return kind

    def prefix(self, bureau: str) -> str:
        """The document-number prefix of a bureau: 临公信告 for the city (临江市公安局), 临公江信告
        for its 江城分局 (the usual 简称 pattern; a bureau renames it in its template)."""
        config = self._dossier.config
        city = config.city.name[0]
        if bureau == config.city.code:
            return f"{city}公信告"
        return f"{city}公{config.bureau_name(bureau)[0]}信告"

    def issuing_bureau(self, case: CaseFile, kind: Kind) -> str:
        """Whose series the number comes from: the receiving bureau decides on acceptance; the
        handling unit's bureau extends and replies; the city records review decisions."""
        if kind.code in ("acceptance", "declined", "forwarded"):
            return case.bureau
        if kind.code in ("extension", "reply"):
            return self._dossier.unit_bureau(case)
        return self._dossier.config.city.code

    async def issue(
        self, ref: str, code: str, principal: Principal, *, correlation_id: UUID
    ) -> Notice:
        kind = self._kind(code)
        dossier = self._dossier
        loaded = await dossier.load(ref)
        case = loaded.case
        if not dossier.in_scope(case, principal):
            raise _not_found()
        if not dossier.may_read_in_clear(case, principal):
            raise ForbiddenError(
                "may_not_issue_notice",
                f"「{principal.role.label}」不能出具本案的书面告知（需查阅信访人个人信息）/ "
                f"your role ({principal.role}) may not issue this case's notices: they carry the "
                "petitioner's personal data",
            )
        if case.act(kind.act) is None:
            raise Refused(
                "notice_not_due",
                f"案件当前状态为 {case.state}，尚未{kind.needs.split(' ', 1)[0]}，不能出具"
                f"{kind.title} / the case is {case.state}: {kind.title} ({kind.code}) needs "
                f"{kind.needs.split(' ', 1)[1]} first",
                409,
            )
        clear = fold(await dossier.store.decode_many(loaded.raws, reveal=True))
        assert clear is not None
        bureau = self.issuing_bureau(case, kind)
        today = self._clock().astimezone(SHANGHAI).date()
        for _ in range(_ATTEMPTS):
            try:
                return await self._issue(clear, kind, bureau, today, principal, correlation_id)
            except WrongExpectedVersionError:
                continue  # another read or notice of this case was recorded meanwhile
        raise Refused("busy", "案件正被频繁操作，请重试 / the case is busy, try again", 503)

    async def _issue(
        self,
        case: CaseFile,
        kind: Kind,
        bureau: str,
        today: date,
        principal: Principal,
        correlation_id: UUID,
    ) -> Notice:
        dossier = self._dossier
        stream = reads_stream(case.case_id)
        metadata = Metadata(actor=principal.user, service="intake", correlation_id=correlation_id)
        async with dossier.storage.transaction() as writer:
            # Concurrent notices of one bureau queue for the number until commit, and a
            # rollback gives it back.
            serial = await writer.next_notice_number(bureau, today.year)
            number = f"{self.prefix(bureau)}〔{today.year}〕{serial}号"
            content = self._render(case, kind, number, bureau, today)
            digest = hashlib.sha256(content).hexdigest()
            read = PersonalDataRead(
                case_id=case.case_id,
                case_number=case.case_number,
                reader=principal.user,
                role=str(principal.role),
                reader_bureau=principal.bureau,
                purpose="reply",  # a configured read purpose: drafting or delivering writing
                fields=("petitioners.name", "petitioners.address"),
                subjects=tuple(dict.fromkeys(p.subject_id for p in case.petitioners)),
            )
            issued = NoticeIssued(
                case_id=case.case_id,
                case_number=case.case_number,
                kind=kind.code,
                document_number=number,
                bureau=bureau,
                year=today.year,
                serial=serial,
                sha256=digest,
                issued_by=principal.user,
                case_version=case.version,
            )
            result = await writer.append(
                stream,
                [NewEvent(read, bureau=case.bureau), NewEvent(issued, bureau=case.bureau)],
                await writer.stream_version(stream),
                metadata=metadata,
            )
            # The read is the first of the two events.
            await writer.add_read(dossier.read_row(case, principal.user, result.version - 1))
        log.info("notice.issued", case=str(case.case_id), kind=kind.code, number=number)
        return Notice(kind, number, content, digest)

    def _render(self, case: CaseFile, kind: Kind, number: str, bureau: str, today: date) -> bytes:
        config = self._dossier.config
        act = case.act(kind.act)
        first = case.submissions[0].data if case.submissions else None
        city = config.city
        review_organ = "省公安厅" if case.bureau == city.code else city.name
        context: dict[str, Any] = {
            "bureau_name": config.bureau_name(bureau),
            "document_number": number,
            "case_number": case.case_number,
            "petitioners": "、".join(p.name or "信访人" for p in case.petitioners) or "信访人",
            "address": "；".join(p.address for p in case.petitioners if p.address),
            "issued_on": _day(today),
            "received_on": _day(
                case.received_on
                or (None if first is None else first.received_at.astimezone(SHANGHAI).date())
            ),
            "accepted_on": _day(case.accepted_on),
            "handling_due": _day(case.handling_due),
            "review_organ": review_organ,
            "re_review_organ": "省公安厅",
        }
        match act:
            case a.CaseAccepted():
                context |= {"notice": act.notice, "handling_due": _day(act.handling_due)}
            case a.AcceptanceDeclined():
                context |= {"reason": act.reason, "decided_on": _day(act.decided_on)}
            case a.CaseForwarded():
                context |= {
                    "reason": act.reason,
                    "organ": act.organ,
                    "decided_on": _day(act.decided_on),
                }
            case a.ExtensionGranted():
                context |= {
                    "days": act.days,
                    "reason": act.reason,
                    "handling_due": _day(act.handling_due),
                }
            case a.ReplyIssued():
                context |= {
                    "outcome": act.outcome.zh,
                    "legal_basis": act.legal_basis,
                    "summary": act.summary,
                }
            case a.ReviewDecided() | a.ReReviewDecided():
                context |= {
                    "decision": _DECISIONS.get(str(act.decision), str(act.decision)),
                    "outcome": act.outcome.zh,
                    "summary": act.summary,
                }
        template = DocxTemplate(str(self._templates / f"{kind.code}.docx"))
        template.render(context, autoescape=True)
        out = io.BytesIO()
        template.save(out)
        return out.getvalue()


__all__ = ["KINDS", "MEDIA_TYPE", "Notice", "Notices"]
