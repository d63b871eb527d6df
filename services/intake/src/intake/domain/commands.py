"""Commands intake accepts, validated at the edge with messages a clerk can act on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Self
from uuid import UUID

from petitions.limits import Code, LongText, ShortText, Text
from petitions.messages.intake import Assessment, Channel, Escalation
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EARLIEST_RECEIVED = datetime(1990, 1, 1, tzinfo=timezone(timedelta(hours=8)))
"""The earliest received time a registration (an import of old files) may give: before the first
petition regulations (1995) and the ledger's oldest filter date."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_error(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID number (GB 11643), or None."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return (
            "身份证号须为18位（末位可为X） / a resident ID number has 18 characters, "
            "the last may be X"
        )
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return "身份证号校验位错误，请核对 / the check character is wrong: check the number"
    return None


def _phone_error(value: str) -> str | None:
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if (len(digits) == 11 and digits.startswith("1")) or (
        digits.startswith("0") and 10 <= len(digits) <= 12
    ):
        return None
    return "电话号码格式不对 / not a mainland mobile (11 digits) or landline (area code + number)"


class PetitionerIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[ShortText, Field(min_length=1, description="姓名 name")]
    resident_id: Annotated[
        str, Field(max_length=18, description="公民身份号码 resident ID number (GB 11643)")
    ]
    phone: Annotated[ShortText | None, Field(default=None, description="联系电话 phone")] = None
    address: Annotated[ShortText | None, Field(default=None, description="住址 address")] = None

    @field_validator("resident_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        value = value.upper()
        error = resident_id_error(value)
        if error:
            raise ValueError(error)
        return value

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        if value is not None and (error := _phone_error(value)):
            raise ValueError(error)
        return value


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
        if self.head_count < len(self.petitioners):
            raise ValueError(
                "来访人数少于登记的信访人 / head count is below the petitioners listed"
            )
        if self.link_case_id is not None and self.force_new_reason:
            raise ValueError("不能既关联又新建 / either link to a case or force a new one")
        if self.link_case_id is not None and not self.link_reason:
            raise ValueError("关联已有案件须说明理由 / linking to a case needs link_reason")
        ids = [p.resident_id for p in self.petitioners]
        if len(set(ids)) != len(ids):
            raise ValueError("同一信访人登记了两次 / the same petitioner is listed twice")
        return self
