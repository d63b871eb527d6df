"""Intake's events: a case opened, and every submission received on it (first and repeat).

Figures count from these: a case's first ``SubmissionReceived`` dates the matter (件); every
``SubmissionReceived`` is a submission (件次), its head count the person-visits (人次).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from petitions.identifiers import IdKind
from petitions.messages.base import Event
from petitions.personal import (
    Address,
    CreditCode,
    HkMacauPermit,
    Name,
    Passport,
    PermanentResidenceId,
    PersonalText,
    Phone,
    ResidentId,
    SubjectId,
    TaiwanPermit,
)


class Channel(StrEnum):
    VISIT = "visit"  # 来访
    LETTER = "letter"  # 来信
    PHONE = "phone"  # 来电
    ONLINE = "online"  # 网上信访
    CONGRESS_REFERRAL = "congress_referral"  # 人大交办
    HIGHER_REFERRAL = "higher_referral"  # 上级转办

    @property
    def is_referral(self) -> bool:
        return self in (Channel.CONGRESS_REFERRAL, Channel.HIGHER_REFERRAL)


class Assessment(StrEnum):
    """Intake's preliminary view; a handling outcome supersedes it."""

    JUSTIFIED = "justified"  # 有理
    NOT_JUSTIFIED = "not_justified"  # 无理
    UNDETERMINED = "undetermined"  # 待定


class Escalation(StrEnum):
    """越级访: the petitioner went over the bureau's head."""

    PROVINCE = "province"  # 到省
    BEIJING = "beijing"  # 进京


class PetitionerRecord(BaseModel):
    """One petitioner: a person or an organisation, identified by one document, or anonymous.

    Events stored before other documents existed carry a name and a resident ID only; the new
    fields default so that they still load. Each document has its own field, so its own mask
    and blind-index kind (``petitions.personal``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: SubjectId
    name: Name | None = None  # None only for an anonymous petitioner (匿名检举控告)
    resident_id: ResidentId | None = None
    phone: Phone | None = None
    address: Address | None = None
    id_kind: IdKind = IdKind.RESIDENT_ID
    passport: Passport | None = None
    passport_country: str | None = None  # ISO 3166 alpha-3 of the issuing state
    hk_macau_permit: HkMacauPermit | None = None
    taiwan_permit: TaiwanPermit | None = None
    permanent_residence_id: PermanentResidenceId | None = None
    credit_code: CreditCode | None = None

    @property
    def identifier(self) -> str | None:
        """The document number of its kind (masked where the event was read masked)."""
        if self.id_kind is IdKind.ANONYMOUS:
            return None
        value: str | None = getattr(self, self.id_kind.value)
        return value


class CaseRegistered(Event, type="intake.CaseRegistered"):
    """A new matter (信访事项): its number, who answers for it, what it is about."""

    subject_id: SubjectId  # the first petitioner, whose key also seals the case's free text
    case_id: UUID
    case_number: str
    bureau: str  # the receiving bureau, which numbered the case
    responsible_officer: str  # 谁接待谁处理: the first receiver
    sub_bureau: str  # the sub-bureau the matter concerns (attributed to)
    category: str
    category_kind: str  # suggestion | accusation | complaint_demand
    petitioners: tuple[PetitionerRecord, ...]
    first_submission_id: UUID
    # 检举控告: who is accused. Art. 30: never assigned to nor shown to them.
    accused_units: tuple[str, ...] = ()
    accused_officers: tuple[str, ...] = ()


class SubmissionReceived(Event, type="intake.SubmissionReceived"):
    """One visit, letter, call, online submission or referral on a case, first or repeat."""

    subject_id: SubjectId
    case_id: UUID
    submission_id: UUID
    channel: Channel
    received_at: datetime
    receiving_bureau: str
    receiving_officer: str
    reception_session_id: str | None = None
    document_number: str | None = None
    head_count: int
    collective: bool
    petitioner_subjects: tuple[UUID, ...]
    summary: PersonalText
    requests: PersonalText
    preliminary_assessment: Assessment
    is_repeat: bool
    link_reason: PersonalText | None = None  # free text: may name people, sealed like the summary
    escalation: Escalation | None = None
    # 集体访 representatives (Art. 20: at most 5), recorded with the submission they came with;
    # apart from head_count, which counts everyone who came.
    representatives: tuple[PetitionerRecord, ...] = ()


class PersonalDataRead(Event, type="intake.PersonalDataRead"):
    """Someone read a case's personal data in the clear (its dossier). Appended to
    ``reads-<case id>`` before the data is returned, never to the case stream: a read must not
    move the version that commands use for optimistic concurrency, and the record of reads is
    then hash-chained on its own. Who read is also the event's actor."""

    case_id: UUID
    case_number: str
    reader: str
    role: str  # the reader's role (petitions.identity.Role)
    reader_bureau: str  # the bureau of the reader's token
    purpose: str  # a code from the configured list of read purposes
    fields: tuple[str, ...]  # what was shown in the clear, e.g. "petitioners.resident_id"
    subjects: tuple[UUID, ...]  # whose personal data was shown (for a data subject's requests)


class NoticeIssued(Event, type="intake.NoticeIssued"):
    """A written notice (书面告知) was produced for the petitioner from the bureau's template.
    Appended to ``reads-<case id>`` with the ``PersonalDataRead`` that rendering it needed, in
    the transaction that took its document number: a number is used exactly when this event
    exists (no gaps), and the case stream's version is left to the workflow's commands."""

    case_id: UUID
    case_number: str
    kind: str  # acceptance, declined, forwarded, extension, reply, review, re_review
    document_number: str  # e.g. 临公信告〔2026〕12号, per issuing bureau and year
    bureau: str  # the issuing bureau, whose series the number belongs to
    year: int
    serial: int
    sha256: str  # of the DOCX returned
    issued_by: str
    case_version: int  # the case version the notice was rendered from


class AttachmentAdded(Event, type="intake.AttachmentAdded"):
    """A file (a scanned letter, a photo, a recording, a document) was attached to a submission
    or to an act of the case. Appended to ``attachments-<case id>``: the case stream's version
    stays the workflow's, and this stream is hash-chained on its own, so the chain covers the
    file through its SM3 digest. The file itself is stored apart (intake's blob store), sealed
    with the data key of ``subject_id`` (the submission's first petitioner): erasing that person
    makes it unreadable, as it does their other fields. The file name is theirs too."""

    subject_id: SubjectId
    case_id: UUID
    case_number: str
    attachment_id: UUID
    kind: str  # scan 信件扫描件, photo 照片, audio 录音, document 材料
    media_type: str  # as found in the content (magic bytes), e.g. application/pdf
    size: int  # bytes
    sm3: str  # hex SM3 digest of the file's bytes: its address in the blob store
    submission_id: UUID | None = None  # attached to this submission ...
    act_version: int | None = None  # ... or to the case stream's event of this version
    act_type: str | None = None  # that event's type, e.g. assignment.ReplyIssued
    filename: PersonalText
    added_by: str
