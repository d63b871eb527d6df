"""Blind index: find records by an ID document number or phone without storing either.

A token is HMAC-SM3 under its own key (never the data keys, never a plain hash: there are few
enough ID numbers to hash them all). Values are normalised first, so ``11010519491231002x`` and
``11010519491231002X``, or ``+86 138-1234-5678`` and ``13812345678``, find the same records.
"""

from __future__ import annotations

import hmac

from petitions.personal.keys import PersonalDataError

MIN_KEY_BYTES = 32


_DOCUMENTS = frozenset(
    {"passport", "hk_macau_permit", "taiwan_permit", "permanent_residence_id", "credit_code"}
)


def normalise(kind: str, value: str) -> str:
    if kind == "resident_id":
        return value.strip().upper()
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        return digits
    if kind in _DOCUMENTS:
        # As intake checks them (petitions.identifiers.canonical): spaces and case are how it
        # was typed, not part of the number.
        return "".join(value.split()).upper()
    return value.strip()


class BlindIndex:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise PersonalDataError(
                f"盲索引密钥太短 the blind-index key must be at least {MIN_KEY_BYTES} bytes "
                "(base64 in PETITIONS_BLIND_INDEX_KEY)"
            )
        self._key = key

    def token(self, kind: str, value: str) -> bytes:
        message = f"{kind}\x1f{normalise(kind, value)}".encode()
        return hmac.new(self._key, message, "sm3").digest()
