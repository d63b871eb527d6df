"""Property tests: a stream replays to the state it was built with, at any moment in time (on
PostgreSQL and in memory: see conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from petitions.eventstore import (
    Metadata,
    NewEvent,
    RecordedEvent,
    WrongExpectedVersionError,
)
from petitions.eventstore.port import EventStorePort

from tests.contract.conftest import StoreFactory
from tests.support.events import CounterMoved

pytestmark = pytest.mark.integration

META = Metadata(actor="prop", service="tests")
START = datetime(2026, 1, 1, tzinfo=UTC)
_streams = itertools.count()
# The state before the first event, typed: a bare () would make ``load`` fold into tuple[()].
NOTHING: tuple[int, ...] = ()


def evolve(state: tuple[int, ...], event: RecordedEvent[CounterMoved]) -> tuple[int, ...]:
    return (*state, event.data.by)


# Each append: how many minutes after the previous one, and the values it appends.
appends = st.lists(
    st.tuples(st.integers(0, 600), st.lists(st.integers(-1000, 1000), min_size=1, max_size=4)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=appends, probe_minutes=st.lists(st.integers(-10, 8000), min_size=1, max_size=5))
async def test_replay_and_as_of_reproduce_the_state(
    new_store: StoreFactory, plan: list[tuple[int, list[int]]], probe_minutes: list[int]
) -> None:
    stream = f"case-prop{next(_streams)}"
    now = START
    timeline: list[tuple[datetime, int]] = []
    times: Iterator[datetime] = iter([])

    def clock() -> datetime:
        return next(times)

    timed = store = new_store(clock=clock)
    version = 0
    for gap, values in plan:
        now += timedelta(minutes=gap)
        times = iter([now])
        events = [NewEvent(CounterMoved(by=v), bureau="3301") for v in values]
        await timed.append(stream, events, version, metadata=META)
        version += len(values)
        timeline.extend((now, v) for v in values)

    state, at = await store.load(stream, NOTHING, evolve)
    assert state == tuple(v for _, v in timeline)
    assert at == version

    for minutes in probe_minutes:
        moment = START + timedelta(minutes=minutes)
        expected = tuple(v for t, v in timeline if t <= moment)
        assert (await store.load(stream, NOTHING, evolve, as_of=moment))[0] == expected

    assert (await store.verify(stream)).ok


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(expectations=st.lists(st.integers(0, 6), min_size=1, max_size=15))
async def test_appends_with_arbitrary_expected_versions_match_a_model(
    store: EventStorePort, expectations: list[int]
) -> None:
    """Only an append at the true version lands; every other one names the true version."""
    stream = f"case-model{next(_streams)}"
    model_version = 0
    for i, expected in enumerate(expectations):
        event = NewEvent(CounterMoved(by=i), bureau="3301")
        if expected != model_version:
            with pytest.raises(WrongExpectedVersionError) as refused:
                await store.append(stream, [event], expected, metadata=META)
            assert refused.value.actual == model_version
        else:
            result = await store.append(stream, [event], expected, metadata=META)
            model_version += 1
            assert result.version == model_version
    assert await store.stream_version(stream) == model_version
    assert [e.version for e in await store.read_stream(stream)] == list(range(1, model_version + 1))
