"""The message a relayed event travels in: its envelope as JSON, with the event's data embedded
exactly as stored (personal fields masked, their ciphertext in the vault), plus headers that let
a consumer route and de-duplicate without parsing the body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from petitions.eventstore import RawEvent
from petitions.eventstore.hashing import utc_text
from petitions.messages import Event, EventRegistry, registry
from petitions.personal.codec import VAULT

MSG_ID = "Nats-Msg-Id"
H_TYPE = "Petitions-Type"
H_STREAM = "Petitions-Stream"
H_VERSION = "Petitions-Version"
H_POSITION = "Petitions-Position"
H_CORRELATION = "Petitions-Correlation-Id"


def encode(raw: RawEvent) -> tuple[bytes, dict[str, str]]:
    envelope = {
        "event_id": str(raw.event_id),
        "type": raw.event_type,
        "schema_version": raw.schema_version,
        "stream_id": raw.stream_id,
        "version": raw.version,
        "position": raw.position,
        "bureau": raw.bureau,
        "actor": raw.actor,
        "service": raw.service,
        "correlation_id": str(raw.correlation_id),
        "causation_id": None if raw.causation_id is None else str(raw.causation_id),
        "occurred_at": utc_text(raw.occurred_at),
        "recorded_at": utc_text(raw.recorded_at),
    }
    head = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    # Splice the stored text in rather than parse and re-dump it: byte for byte what the hash
    # chain covers.
    body = f'{head[:-1]},"data":{raw.data}}}'.encode()
    headers = {
        MSG_ID: str(raw.event_id),
        H_TYPE: raw.event_type,
        H_STREAM: raw.stream_id,
        H_VERSION: str(raw.version),
        H_POSITION: str(raw.position),
        H_CORRELATION: str(raw.correlation_id),
    }
    return body, headers


@dataclass(frozen=True, slots=True)
class Delivered:
    """A relayed event as a consumer receives it (data still as the JSON the store holds)."""

    event_id: UUID
    event_type: str
    schema_version: int
    stream_id: str
    version: int
    position: int
    bureau: str
    actor: str
    service: str
    correlation_id: UUID
    causation_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]
    """As stored: personal fields masked, their ciphertext in the ``$vault`` key."""

    def typed(self, events: EventRegistry = registry) -> Event:
        """The typed event with personal fields masked (upcast to the current schema)."""
        data = {k: v for k, v in self.data.items() if k != VAULT}
        cls = events.class_for(self.event_type)
        if self.schema_version < cls.schema_version:
            data = events.upcast(self.event_type, self.schema_version, data)
        return cls.model_validate(data)


def decode(body: bytes) -> Delivered:
    doc = json.loads(body)
    return Delivered(
        event_id=UUID(doc["event_id"]),
        event_type=doc["type"],
        schema_version=doc["schema_version"],
        stream_id=doc["stream_id"],
        version=doc["version"],
        position=doc["position"],
        bureau=doc["bureau"],
        actor=doc["actor"],
        service=doc["service"],
        correlation_id=UUID(doc["correlation_id"]),
        causation_id=None if doc["causation_id"] is None else UUID(doc["causation_id"]),
        occurred_at=datetime.fromisoformat(doc["occurred_at"]),
        recorded_at=datetime.fromisoformat(doc["recorded_at"]),
        data=doc["data"],
    )
