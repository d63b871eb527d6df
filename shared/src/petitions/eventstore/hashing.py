"""The per-stream hash chain: hash(n) = H(hash(n-1) || canonical bytes of event n).

The canonical bytes cover every envelope field and the event data exactly as stored (the text of
the ``json`` column), so data stored encrypted can later be made unreadable by destroying its key
without breaking the chain. Each event records the algorithm of its own link, so the algorithm can
change without rewriting history. SM3 (GB/T 32905) is the default.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

GENESIS = bytes(32)
"""The link before a stream's first event."""

_ALGORITHMS: dict[str, Callable[[], hashlib._Hash]] = {
    "sm3": lambda: hashlib.new("sm3"),
    "sha256": hashlib.sha256,
}


# json.dumps builds a new encoder on every call with non-default options; verifying the whole
# log spent most of its time there. The same options, built once: byte-for-byte the same text.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# A fresh hash object per link, copied from one made once: hashlib.new() looks the algorithm up
# by name in OpenSSL every time.
_PROTOTYPES: dict[str, hashlib._Hash] = {}


class UnsupportedHashAlgorithmError(ValueError):
    """The configured or recorded algorithm is not available in this Python/OpenSSL."""


def check_algorithm(name: str) -> None:
    """Fail at start-up, not at the first append, when the algorithm is missing."""
    factory = _ALGORITHMS.get(name)
    if factory is None:
        raise UnsupportedHashAlgorithmError(
            f"不支持的哈希算法 unsupported hash algorithm {name!r}; "
            f"choose one of {sorted(_ALGORITHMS)}"
        )
    try:
        factory()
    except ValueError as exc:  # OpenSSL built without SM3
        raise UnsupportedHashAlgorithmError(
            f"哈希算法不可用 {name!r} is not available in this OpenSSL ({exc}); "
            "use an OpenSSL 3 build with SM3, or set PETITIONS_HASH_ALGORITHM=sha256"
        ) from exc


def utc_text(moment: datetime) -> str:
    """The one textual form of a timestamp that the chain covers (UTC, microseconds)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (naive datetime given)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_bytes(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    event_type: str,
    schema_version: int,
    bureau: str,
    data: str,
    actor: str,
    service: str,
    correlation_id: UUID,
    causation_id: UUID | None,
    occurred_at: datetime,
    recorded_at: datetime,
) -> bytes:
    """A JSON array: unambiguous field boundaries, whatever the fields contain."""
    return _ENCODE(
        [
            stream_id,
            version,
            str(event_id),
            event_type,
            schema_version,
            bureau,
            data,
            actor,
            service,
            str(correlation_id),
            None if causation_id is None else str(causation_id),
            utc_text(occurred_at),
            utc_text(recorded_at),
        ]
    ).encode()


def link(algorithm: str, previous: bytes, canonical: bytes) -> bytes:
    """One link of the chain."""
    prototype = _PROTOTYPES.get(algorithm)
    if prototype is None:
        try:
            prototype = _PROTOTYPES[algorithm] = _ALGORITHMS[algorithm]()
        except KeyError:
            raise UnsupportedHashAlgorithmError(f"unknown hash algorithm {algorithm!r}") from None
    h = prototype.copy()
    h.update(previous)
    h.update(canonical)
    return h.digest()
