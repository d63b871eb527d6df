"""Event models are frozen, registered by type name, and upcast step by step."""

from __future__ import annotations

import pytest
from petitions.messages import Event, EventRegistry, UnknownEventTypeError
from pydantic import ValidationError

from tests.support.events import NoteAdded


def test_events_are_frozen_and_strict() -> None:
    note = NoteAdded(body="a", words=1)
    with pytest.raises(ValidationError):
        # What mypy refuses (frozen, no such field) is what this test tries at run time.
        note.body = "b"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        NoteAdded(body="a", words=1, smuggled=True)  # type: ignore[call-arg]


def test_registry_upcasts_through_each_version() -> None:
    local = EventRegistry()

    class Renamed(Event, type="local.Renamed", version=3):
        full_name: str

    local.register(Renamed)
    local.upcaster("local.Renamed", 1)(lambda d: {"name": d["n"]})
    local.upcaster("local.Renamed", 2)(lambda d: {"full_name": d["name"].title()})

    assert local.upcast("local.Renamed", 1, {"n": "zhang san"}) == {"full_name": "Zhang San"}
    assert local.upcast("local.Renamed", 3, {"full_name": "x"}) == {"full_name": "x"}


def test_missing_upcaster_and_unknown_type_are_named() -> None:
    local = EventRegistry()

    class Later(Event, type="local.Later", version=2):
        x: int

    local.register(Later)
    with pytest.raises(UnknownEventTypeError, match=r"local.Later v1->v2"):
        local.upcast("local.Later", 1, {})
    with pytest.raises(UnknownEventTypeError, match="nope"):
        local.class_for("nope")


def test_two_classes_cannot_claim_one_type() -> None:
    local = EventRegistry()

    class A(Event, type="local.Clash"):
        pass

    class B(Event, type="local.Clash2"):
        pass

    local.register(A)
    B.event_type = "local.Clash"
    with pytest.raises(ValueError, match="claimed by both"):
        local.register(B)
