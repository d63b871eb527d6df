"""The event envelope is defined once (``petitions.messages.envelope.ENVELOPE``): the relayed
message is built from it, and every class that carries an envelope is held to it here, so a
field added in one place only fails."""

from __future__ import annotations

import inspect
import uuid
from dataclasses import fields
from datetime import UTC, datetime

from petitions.eventstore import RawEvent, RecordedEvent
from petitions.eventstore.hashing import canonical_bytes
from petitions.messages.envelope import ENVELOPE
from petitions.messaging.asyncapi import RelayedEvent
from petitions.messaging.envelope import Delivered, decode, encode

NAMES = [f.name for f in ENVELOPE]


def test_the_consumers_view_is_the_envelope_and_the_data() -> None:
    assert [f.name for f in fields(Delivered)] == [*NAMES, "data"]


def test_the_documented_message_is_the_envelope_and_the_data() -> None:
    documented = RelayedEvent.model_fields
    assert list(documented) == [*(f.key for f in ENVELOPE), "data"]
    for f in ENVELOPE:
        assert (documented[f.key].description or "") == f.description, f.key


def test_the_stored_forms_carry_the_envelope() -> None:
    stored = {f.name for f in fields(RawEvent)}
    assert set(NAMES) <= stored
    assert stored - set(NAMES) == {"data", "tx_id", "hash_alg", "hash"}
    # A read event's data is upcast to the current schema: the stored version is kept apart.
    read = {f.name for f in fields(RecordedEvent)}
    assert read - set(NAMES) == {"stored_schema_version", "data", "tx_id", "hash"}
    assert set(NAMES) - read == {"schema_version"}


def test_the_hash_covers_the_envelope_but_the_position() -> None:
    # The position is the log's, given at commit: not part of what the writer vouches for.
    covered = set(inspect.signature(canonical_bytes).parameters)
    assert covered == (set(NAMES) - {"position"}) | {"data"}


def raw(causation: uuid.UUID | None) -> RawEvent:
    at = datetime(2026, 11, 4, 2, 0, 0, 123456, tzinfo=UTC)
    return RawEvent(
        position=7,
        stream_id="case-1",
        version=3,
        event_id=uuid.UUID(int=1),
        event_type="intake.SubmissionReceived",
        schema_version=2,
        bureau="330102",
        data='{"a":"甲"}',
        actor="registrar1",
        service="intake",
        correlation_id=uuid.UUID(int=2),
        causation_id=causation,
        occurred_at=at,
        recorded_at=at,
        tx_id=99,
        hash_alg="sm3",
        hash=b"h",
    )


def test_the_relayed_message_is_byte_for_byte_what_it_was() -> None:
    body, _ = encode(raw(None))
    assert (
        body
        == (
            '{"event_id":"00000000-0000-0000-0000-000000000001","type":"intake.SubmissionReceived",'
            '"schema_version":2,"stream_id":"case-1","version":3,"position":7,"bureau":"330102",'
            '"actor":"registrar1","service":"intake",'
            '"correlation_id":"00000000-0000-0000-0000-000000000002","causation_id":null,'
            '"occurred_at":"2026-11-04T02:00:00.123456+00:00",'
            '"recorded_at":"2026-11-04T02:00:00.123456+00:00","data":{"a":"甲"}}'
        ).encode()
    )


def test_a_message_reads_back_as_it_was_sent() -> None:
    for causation in (None, uuid.UUID(int=3)):
        sent = raw(causation)
        got = decode(encode(sent)[0])
        assert {n: getattr(got, n) for n in NAMES} == {n: getattr(sent, n) for n in NAMES}
        assert got.data == {"a": "甲"}
