"""The store's fast constructors build ordinary frozen envelopes (see model._fast_builder)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from petitions.eventstore import RawEvent, RecordedEvent
from petitions.eventstore.model import raw_event, recorded_event

from tests.support.events import NoteAdded

NOW = datetime(2026, 11, 4, 2, tzinfo=UTC)


def _raw_fields() -> tuple[object, ...]:
    ids = uuid.UUID(int=1), uuid.UUID(int=2)
    return (7, "case-a", 1, ids[0], "test.NoteAdded", 2, "3301", '{"body":"x","words":1}',
            "officer", "tests", ids[1], None, NOW, NOW, 99, "sm3", b"\x01" * 32)  # fmt: skip


def test_a_built_raw_event_is_the_frozen_dataclass() -> None:
    built = raw_event(*_raw_fields())

    assert type(built) is RawEvent
    assert built == RawEvent(*_raw_fields())  # type: ignore[arg-type]
    assert hash(built) == hash(RawEvent(*_raw_fields()))  # type: ignore[arg-type]
    assert built.cursor.tx_id == 99
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.data = "{}"  # type: ignore[misc]
    assert dataclasses.replace(built, data="{}").data == "{}"


def test_a_built_recorded_event_is_the_frozen_dataclass() -> None:
    values: list[Any] = list(_raw_fields())
    del values[15]  # RecordedEvent has no hash_alg
    values[7] = NoteAdded(body="x", words=1)
    built = recorded_event(*values)

    assert type(built) is RecordedEvent
    assert built == RecordedEvent(*values)
    assert built.data.body == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.version = 2  # type: ignore[misc]
