"""Commands intake accepts, validated at the edge with messages a clerk can act on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Self
from uuid import UUID

from petitions.identifiers import (
    CHECKS,
    IdKind,
    canonical,
    country_error,
)
from petitions.limits import Code, LongText, ShortText, Text
from petitions.messages.intake import Assessment, Channel, Escalation
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

EARLIEST_RECEIVED = datetime(1990, 1, 1, tzinfo=timezone(timedelta(hours=8)))
"""The earliest received time a registration (an import of old files) may give: before the first
petition regulations (1995) and the ledger's oldest filter date."""


def _phone_error(value: str) -> str | None:
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if (len(digits) == 11 and digits.startswith("1")) or (
        digits.startswith("0") and 10 <= len(digits) <= 12
    ):
        return None
    return "电话号码格式不对 / not a mainland mobile (11 digits) or landline (area code + number)"


_DOCUMENT_FIELDS: dict[str, IdKind] = {
    "resident_id": IdKind.RESIDENT_ID,
    "passport": IdKind.PASSPORT,
    "hk_macau_permit": IdKind.HK_MACAU_PERMIT,
    "taiwan_permit": IdKind.TAIWAN_PERMIT,
    "permanent_residence_id": IdKind.PERMANENT_RESIDENCE_ID,
    "credit_code": IdKind.CREDIT_CODE,
}


def _document(max_length: int, description: str) -> Any:
    return Field(default=None, max_length=max_length, description=description)


class PetitionerIn(BaseModel):
    """信访人: a person or an organisation, identified by exactly one document (its field names
    the kind), or anonymous (``anonymous: true``, no document, only for accusations by letter
    or online; checked against the category and channel at registration)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[
        ShortText | None,
        Field(default=None, description="姓名或单位名称 name (of the organisation, for one)"),
    ] = None
    resident_id: str | None = _document(18, "公民身份号码 resident ID number (GB 11643)")
    passport: str | None = _document(20, "护照号码 passport number (5-20 letters or digits)")
    passport_country: str | None = _document(3, "护照签发国 ISO 3166 alpha-3, e.g. USA")
    hk_macau_permit: str | None = _document(
        11, "港澳居民来往内地通行证 (回乡证) H/M + 8 or 10 digits"
    )
    taiwan_permit: str | None = _document(8, "台湾居民来往大陆通行证 (台胞证) 8 digits")
    permanent_residence_id: str | None = _document(
        18, "外国人永久居留身份证 (2023: 18 characters from 9; older: 3 letters + 12 digits)"
    )
    credit_code: str | None = _document(18, "统一社会信用代码 unified social credit code")
    anonymous: bool = Field(default=False, description="匿名 anonymous: no name, no document")
    phone: Annotated[ShortText | None, Field(default=None, description="联系电话 phone")] = None
    address: Annotated[ShortText | None, Field(default=None, description="住址 address")] = None

    @field_validator(*_DOCUMENT_FIELDS)
    @classmethod
    def _valid_document(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        value = canonical(value)
        error = CHECKS[_DOCUMENT_FIELDS[info.field_name or ""]](value)
        if error:
            raise ValueError(error)
        return value

    @field_validator("passport_country")
    @classmethod
    def _valid_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if error := country_error(value):
            raise ValueError(error)
        return value

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        if value is not None and (error := _phone_error(value)):
            raise ValueError(error)
        return value

    @model_validator(mode="after")
    def _one_identity(self) -> Self:
        given = [f for f in _DOCUMENT_FIELDS if getattr(self, f) is not None]
        if self.anonymous:
            if given:
                raise ValueError(
                    "匿名信访人不填证件号码 / an anonymous petitioner gives no document "
                    f"({given[0]})"
                )
            if self.name:
                raise ValueError("匿名信访人不填姓名 / an anonymous petitioner gives no name")
            return self
        if len(given) != 1:
            raise ValueError(
                "须填写且只填写一种证件号码（resident_id、passport、hk_macau_permit、"
                "taiwan_permit、permanent_residence_id、credit_code），或注明匿名 anonymous / "
                "give exactly one identity document, or anonymous: true"
                + (f" (given: {', '.join(given)})" if given else "")
            )
        if not self.name:
            raise ValueError("须填写姓名或单位名称 / give the name (of the organisation)")
        if (self.passport is None) != (self.passport_country is None):
            raise ValueError(
                "护照须同时填写号码和签发国 passport_country / a passport needs both its number "
                "and its issuing country (passport_country)"
            )
        return self

    @property
    def id_kind(self) -> IdKind:
        if self.anonymous:
            return IdKind.ANONYMOUS
        return next(k for f, k in _DOCUMENT_FIELDS.items() if getattr(self, f) is not None)

    @property
    def identity(self) -> tuple[IdKind, str] | None:
        """The blind-index kind and the value that names this petitioner, None if anonymous.
        A passport is named with its issuing state: the same number from two states is two
        people."""
        kind = self.id_kind
        if kind is IdKind.ANONYMOUS:
            return None
        value: str = getattr(self, kind.value)
        if kind is IdKind.PASSPORT:
            return kind, f"{self.passport_country}:{value}"
        return kind, value


class RegisterSubmission(BaseModel):
    """登记一次信访 Register one submission: a visit, letter, call, online or referred petition."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    channel: Channel
    received_at: datetime = Field(description="收到时间 when it was received (with time zone)")
    receiving_bureau: Code = Field(min_length=1, description="接收单位代码 receiving bureau code")
    receiving_officer: ShortText = Field(
        min_length=1, description="接待人 the first receiver, who answers for the case"
    )
    reception_session_id: UUID | None = Field(
        default=None, description="领导接访场次 the leader reception session, if received at one"
    )
    document_number: ShortText | None = Field(
        default=None, description="交办/转办文号 referral document number (referrals only)"
    )
    petitioners: list[PetitionerIn] = Field(min_length=1, max_length=5)
    representatives: list[PetitionerIn] = Field(
        default_factory=list,
        max_length=5,
        description="集体访推选的代表（不超过5人，《信访工作条例》第二十条） representatives a "
        "collective petition chose (at most 5, Art. 20), each identified; counted in head_count",
    )
    head_count: int = Field(ge=1, le=10_000, description="来访人数 head count")
    category: Code = Field(min_length=1, description="问题分类代码 category code (configuration)")
    sub_bureau: Code = Field(min_length=1, description="涉及分县局 the sub-bureau it concerns")
    summary: LongText = Field(min_length=1, description="反映问题 summary")
    requests: LongText = Field(default="", description="诉求 requests")
    preliminary_assessment: Assessment = Assessment.UNDETERMINED
    link_case_id: UUID | None = Field(
        default=None, description="作为重复件关联到此案件 record as a repeat on this case"
    )
    force_new_reason: Text | None = Field(
        default=None, description="即使疑似重复也新建案件的理由 why to open a new case anyway"
    )
    link_reason: Text | None = Field(default=None, description="关联理由 why it is linked")
    escalation: Escalation | None = Field(
        default=None, description="越级访 skip-level: province (到省) or beijing (进京)"
    )
    accused_units: list[Code] = Field(
        default_factory=list,
        max_length=10,
        description="被检举控告的单位代码 units accused (never assigned to or shown to them)",
    )
    accused_officers: list[ShortText] = Field(
        default_factory=list,
        max_length=10,
        description="被检举控告的民警编号 officers accused (never assigned to or shown to them)",
    )

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("须带时区，如 2026-03-01T09:00:00+08:00 / give a time zone")
        # Year 1 broke the case number's local year (a 500); no import reaches back that far.
        if not EARLIEST_RECEIVED.year <= value.year <= 2999 or value < EARLIEST_RECEIVED:
            raise ValueError(
                f"收到时间须在 {EARLIEST_RECEIVED.date()} 至今之间 / the received time must lie "
                f"between {EARLIEST_RECEIVED.date()} and now"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.channel.is_referral and not self.document_number:
            raise ValueError("交办/转办件须填文号 / a referral needs its document number")
        if self.head_count < len(self.petitioners) + len(self.representatives):
            raise ValueError(
                "来访人数少于登记的信访人和代表 / head count is below the petitioners and "
                "representatives listed"
            )
        if self.link_case_id is not None and self.force_new_reason:
            raise ValueError("不能既关联又新建 / either link to a case or force a new one")
        if self.link_case_id is not None and not self.link_reason:
            raise ValueError("关联已有案件须说明理由 / linking to a case needs link_reason")
        anonymous = [p for p in self.petitioners if p.anonymous]
        if anonymous and len(self.petitioners) > 1:
            raise ValueError(
                "匿名信访只登记一个匿名信访人 / an anonymous petition lists one anonymous "
                "petitioner and nobody else"
            )
        if any(r.anonymous for r in self.representatives):
            raise ValueError("代表须有身份证件 / each representative must be identified")
        if self.representatives and anonymous:
            raise ValueError("匿名信访没有代表 / an anonymous petition has no representatives")
        ids = [p.identity for p in [*self.petitioners, *self.representatives] if p.identity]
        if len(set(ids)) != len(ids):
            raise ValueError("同一信访人登记了两次 / the same petitioner is listed twice")
        return self

    @property
    def anonymous(self) -> bool:
        return any(p.anonymous for p in self.petitioners)
