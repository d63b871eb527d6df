"""The subjects of the event store's contract: every test here that takes ``store`` or
``new_store`` runs once on PostgreSQL and once on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from petitions.eventstore import EventStore
from petitions.eventstore.memory import InMemoryEventStore
from petitions.eventstore.port import EventStorePort

StoreFactory = Callable[..., EventStorePort]
"""``new_store(clock=None)``: a store of the subject kind; on PostgreSQL every one built in a
test shares that test's database."""


@pytest.fixture(params=["postgresql", "memory"])
def new_store(request: pytest.FixtureRequest) -> StoreFactory:
    if request.param == "postgresql":
        pool = request.getfixturevalue("pool")

        def on_postgresql(clock: Callable[[], datetime] | None = None) -> EventStorePort:
            return EventStore(pool) if clock is None else EventStore(pool, clock=clock)

        return on_postgresql

    def in_memory(clock: Callable[[], datetime] | None = None) -> EventStorePort:
        return InMemoryEventStore() if clock is None else InMemoryEventStore(clock=clock)

    return in_memory


@pytest.fixture
def store(new_store: StoreFactory) -> EventStorePort:
    return new_store()
