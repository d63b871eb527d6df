"""Masked forms of personal data, shown where the clear value must not be: reports, NATS
payloads, screens of users who may not see it. Enough is kept to tell two records apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from petitions.log import mask_text

MaskKind = Literal[
    "name",
    "resident_id",
    "phone",
    "address",
    "text",
    "passport",
    "permit",
    "permanent_residence_id",
    "credit_code",
]


def mask_name(value: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; a Latin name keeps its first letter."""
    value = value.strip()
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value


def mask_resident_id(value: str) -> str:
    """110101199003071234 -> 110101********1234 (region and last four kept)."""
    value = value.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678; landlines keep their last four digits."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def _keep(value: str, head: int, tail: int) -> str:
    """First ``head`` and last ``tail`` characters, four stars between (the length is hidden);
    all stars when the value is too short to keep anything safely."""
    value = value.strip()
    if len(value) <= head + tail + 2:
        return "*" * len(value)
    return value[:head] + "****" + value[-tail:]


def mask_passport(value: str) -> str:
    """E12345678 -> E1****678: the series letters and last three, as on a boarding pass."""
    return _keep(value, 2, 3)


def mask_permit(value: str) -> str:
    """H12345678 -> H1****78, 12345678 -> 12****78 (回乡证, 台胞证)."""
    return _keep(value, 2, 2)


def mask_permanent_residence_id(value: str) -> str:
    """2023 card: like a resident ID (province and nationality kept, 9xx****...1234);
    older card: the nationality letters and the last four."""
    value = value.strip()
    if len(value) == 18:
        return mask_resident_id(value)
    return _keep(value, 3, 4)


def mask_credit_code(value: str) -> str:
    """91330100MA27XXXXXX -> 9133****XXXX: the register and province, and the last four."""
    return _keep(value, 4, 4)


def mask_address(value: str) -> str:
    """Keep the first six characters (province, city, district); hide the street and number."""
    value = value.strip()
    return value[:6] + "****" if len(value) > 6 else value[:2] + "****"


def mask_free_text(value: str) -> str:
    """Free text is not shown masked at all: only its length, since it may name anyone."""
    return f"〔{len(value)} 字 characters, 已加密 encrypted〕"


MASKS: dict[MaskKind, Callable[[str], str]] = {
    "name": mask_name,
    "resident_id": mask_resident_id,
    "phone": mask_phone,
    "address": mask_address,
    "text": mask_free_text,
    "passport": mask_passport,
    "permit": mask_permit,
    "permanent_residence_id": mask_permanent_residence_id,
    "credit_code": mask_credit_code,
}


def mask(kind: MaskKind, value: str) -> str:
    return MASKS[kind](value)


__all__ = ["MASKS", "MaskKind", "mask", "mask_text"]
