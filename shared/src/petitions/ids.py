"""Event ids that a service must be able to compute again (so that a retried append is a
no-op) but that nobody else may compute in advance: anyone who can publish on NATS could
otherwise publish first under a coming event's id and have JetStream drop the genuine one as a
duplicate."""

from __future__ import annotations

import hmac
from uuid import UUID


def keyed_event_id(key: bytes, name: str) -> UUID:
    """HMAC-SM3 of ``name`` under ``key``, as an RFC 9562 version 8 (custom) UUID: the same
    name gives the same id under one key, and without the key the id cannot be told."""
    if len(key) < 16:
        raise ValueError("事件标识密钥太短 the event id key must have at least 16 bytes")
    digest = bytearray(hmac.new(key, name.encode(), "sm3").digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC variant
    return UUID(bytes=bytes(digest))
