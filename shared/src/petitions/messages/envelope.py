"""The event envelope, defined once: what every stored and relayed event carries beside its
data, under which name, and what it means.

The relayed message (:func:`petitions.messaging.envelope.encode` / ``decode``) is built from
this list; the classes that hold an envelope (the store's ``RawEvent`` and ``RecordedEvent``,
the consumer's ``Delivered``, the AsyncAPI ``RelayedEvent``) declare its fields as typed
attributes for the type checker and the fast positional builders, and
tests/unit/test_envelope.py holds each of them to this list: a field added in one place only
fails there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID


@dataclass(frozen=True)
class EnvelopeField:
    name: str
    """The attribute on the envelope classes."""
    key: str
    """The key in the relayed message's JSON."""
    kind: type
    """Its type (``UUID``, ``datetime``, ``str``, ``int``)."""
    optional: bool = False
    """May be null (only the causation id: the first event of a chain has no cause)."""
    description: str = ""


ENVELOPE: Final[tuple[EnvelopeField, ...]] = (
    EnvelopeField(
        "event_id", "event_id", UUID,
        description="事件编号, also the Nats-Msg-Id header (de-duplication)",
    ),
    EnvelopeField(
        "event_type", "type", str,
        description="事件类型 event type, e.g. intake.SubmissionReceived",
    ),
    EnvelopeField("schema_version", "schema_version", int),
    EnvelopeField(
        "stream_id", "stream_id", str, description="案件流 the case stream, case-<case id>"
    ),
    EnvelopeField(
        "version", "version", int, description="在案件流中的序号 the event's version in its stream"
    ),
    EnvelopeField(
        "position", "position", int, description="全局位置 the event store's global position"
    ),
    EnvelopeField("bureau", "bureau", str),
    EnvelopeField("actor", "actor", str, description="操作人 who caused it"),
    EnvelopeField("service", "service", str),
    EnvelopeField("correlation_id", "correlation_id", UUID),
    EnvelopeField("causation_id", "causation_id", UUID, optional=True),
    EnvelopeField("occurred_at", "occurred_at", datetime),
    EnvelopeField("recorded_at", "recorded_at", datetime),
)  # fmt: skip
"""The envelope's fields in message order; the event's ``data`` travels after them."""
