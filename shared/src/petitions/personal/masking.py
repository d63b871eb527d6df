"""Masked forms of personal data, shown where the clear value must not be: reports, NATS
payloads, screens of users who may not see it. Enough is kept to tell two records apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from petitions.log import mask_text

MaskKind = Literal["name", "resident_id", "phone", "address", "text"]


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
}


def mask(kind: MaskKind, value: str) -> str:
    return MASKS[kind](value)


__all__ = ["MASKS", "MaskKind", "mask", "mask_text"]
