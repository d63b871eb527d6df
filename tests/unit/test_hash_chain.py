"""The hash chain's building blocks (pure functions)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from petitions.eventstore import hashing
from petitions.eventstore.verification import split_points


def fields(**changes: Any) -> dict[str, Any]:
    """canonical_bytes' keyword arguments (typed Any: each test swaps in one value)."""
    base: dict[str, Any] = {
        "stream_id": "case-1",
        "version": 1,
        "event_id": uuid.UUID(int=1),
        "event_type": "t.Happened",
        "schema_version": 1,
        "bureau": "3301",
        "data": '{"a":1}',
        "actor": "u",
        "service": "intake",
        "correlation_id": uuid.UUID(int=2),
        "causation_id": None,
        "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
        "recorded_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    base.update(changes)
    return base


def test_sm3_is_the_default_and_matches_the_standard_vector() -> None:
    hashing.check_algorithm("sm3")
    # GB/T 32905-2016 appendix A.1: SM3("abc")
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hashlib.new("sm3", b"abc").hexdigest() == expected


def test_unknown_algorithm_is_refused_with_a_clear_message() -> None:
    with pytest.raises(hashing.UnsupportedHashAlgorithmError, match="md5"):
        hashing.check_algorithm("md5")


@pytest.mark.parametrize(
    "change",
    [
        {"stream_id": "case-2"},
        {"version": 2},
        {"event_id": uuid.UUID(int=9)},
        {"event_type": "t.Other"},
        {"schema_version": 2},
        {"bureau": "3302"},
        {"data": '{"a":2}'},
        {"actor": "v"},
        {"service": "reporting"},
        {"correlation_id": uuid.UUID(int=3)},
        {"causation_id": uuid.UUID(int=4)},
        {"occurred_at": datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)},
        {"recorded_at": datetime(2026, 1, 2, tzinfo=UTC)},
    ],
)
def test_every_field_is_covered(change: dict[str, object]) -> None:
    assert hashing.canonical_bytes(**fields(**change)) != hashing.canonical_bytes(**fields())


def test_field_boundaries_are_unambiguous() -> None:
    a = hashing.canonical_bytes(**fields(actor="ab", service="c"))
    b = hashing.canonical_bytes(**fields(actor="a", service="bc"))
    assert a != b


def test_same_instant_in_another_zone_hashes_the_same() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 1, 1, 8, tzinfo=shanghai)
    assert hashing.canonical_bytes(**fields(occurred_at=moment)) == hashing.canonical_bytes(
        **fields()
    )


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        hashing.utc_text(datetime(2026, 1, 1))


def test_links_chain_on_the_previous_hash() -> None:
    body = hashing.canonical_bytes(**fields())
    first = hashing.link("sm3", hashing.GENESIS, body)
    assert len(first) == 32
    assert hashing.link("sm3", first, body) != first
    assert hashing.link("sha256", hashing.GENESIS, body) != first


@pytest.mark.parametrize(
    ("heads", "lanes", "points"),
    [
        ([], 2, []),
        ([("a", 5)], 2, []),
        ([("a", 5), ("b", 5)], 1, []),
        ([("a", 5), ("b", 5)], 2, ["b"]),
        ([("a", 1), ("b", 1), ("c", 1), ("d", 1)], 2, ["c"]),
        ([("a", 1), ("b", 1), ("c", 1), ("d", 1)], 4, ["b", "c", "d"]),
        # Cut by events, not streams: the one long stream is a lane of its own.
        ([("a", 90), ("b", 1), ("c", 1), ("d", 8)], 2, ["b"]),
        ([("a", 1), ("b", 1), ("c", 1), ("d", 97)], 3, ["d"]),
        # Never an empty first lane.
        ([("a", 100), ("b", 1)], 3, ["b"]),
    ],
)
def test_verify_lanes_split_the_log_by_events(
    heads: list[tuple[str, int]], lanes: int, points: list[str]
) -> None:
    assert split_points(heads, lanes) == points
