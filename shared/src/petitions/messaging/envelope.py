"""The message a relayed event travels in: its envelope as JSON, with the event's data embedded
exactly as stored (personal fields masked, their ciphertext in the vault), plus headers that let
a consumer route and de-duplicate without parsing the body."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from petitions.eventstore import RawEvent
from petitions.eventstore.hashing import utc_text
from petitions.messages import Event, EventRegistry, registry
from petitions.messages.envelope import ENVELOPE
from petitions.personal.codec import VAULT

MSG_ID = "Nats-Msg-Id"
H_TYPE = "Petitions-Type"
H_STREAM = "Petitions-Stream"
H_VERSION = "Petitions-Version"
H_POSITION = "Petitions-Position"
H_CORRELATION = "Petitions-Correlation-Id"


def _to_json(kind: type) -> Callable[[Any], Any] | None:
    if kind is UUID:
        return str
    if kind is datetime:
        return utc_text
    return None  # str and int travel as they are


def _from_json(kind: type) -> Callable[[Any], Any] | None:
    if kind is UUID:
        return UUID
    if kind is datetime:
        return datetime.fromisoformat
    return None


# The envelope's one definition (petitions.messages.envelope), as (key, attribute, conversion,
# may be null) for writing and (attribute, key, conversion, may be null) for reading.
_OUT = tuple((f.key, f.name, _to_json(f.kind), f.optional) for f in ENVELOPE)
_IN = tuple((f.name, f.key, _from_json(f.kind), f.optional) for f in ENVELOPE)


def encode(raw: RawEvent) -> tuple[bytes, dict[str, str]]:
    envelope: dict[str, Any] = {}
    for key, name, convert, optional in _OUT:
        value = getattr(raw, name)
        if convert is not None and not (optional and value is None):
            value = convert(value)
        envelope[key] = value
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
    """A relayed event as a consumer receives it (data still as the JSON the store holds): the
    envelope's fields (``petitions.messages.envelope.ENVELOPE``) and the data."""

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
    fields: dict[str, Any] = {}
    for name, key, convert, optional in _IN:
        value = doc[key]
        if convert is not None and not (optional and value is None):
            value = convert(value)
        fields[name] = value
    return Delivered(**fields, data=doc["data"])
