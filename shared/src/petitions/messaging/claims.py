"""What a relayed message claims to be, read as little as needed and believed not at all, and
the event the consumer applies instead: the store's copy turned into a ``Delivered``."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from nats.aio.msg import Msg

from petitions.eventstore import RawEvent
from petitions.messaging.envelope import Delivered


@dataclass(frozen=True, slots=True)
class Claim:
    """What a message says it is, read as little as needed and believed not at all: where to
    look in the store, and what to note in a dead letter."""

    event_id: UUID | None
    stream_id: str = "?"
    version: int = 0
    event_type: str = "?"


def claim_of(msg: Msg) -> Claim:
    try:
        doc = json.loads(msg.data)
        return Claim(
            UUID(doc["event_id"]), str(doc["stream_id"]), int(doc["version"]), str(doc["type"])
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return Claim(None)


def delivered_from(raw: RawEvent) -> Delivered:
    data: dict[str, Any] = json.loads(raw.data)
    return Delivered(
        event_id=raw.event_id,
        event_type=raw.event_type,
        schema_version=raw.schema_version,
        stream_id=raw.stream_id,
        version=raw.version,
        position=raw.position,
        bureau=raw.bureau,
        actor=raw.actor,
        service=raw.service,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        occurred_at=raw.occurred_at,
        recorded_at=raw.recorded_at,
        data=data,
    )


def garbage_id(data: bytes) -> UUID:
    # A dead letter needs an id; the same garbage twice is one dead letter.
    return uuid.uuid5(uuid.NAMESPACE_OID, hashlib.sha256(data).hexdigest())


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for i, part in enumerate(wanted):
        if part == ">":
            return len(tokens) > i
        if i >= len(tokens) or (part != "*" and part != tokens[i]):
            return False
    return len(tokens) == len(wanted)
