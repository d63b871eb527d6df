"""assignment's AsyncAPI document, from the event classes (see petitions.messaging.asyncapi)."""

from __future__ import annotations

from faststream.specification import AsyncAPI
from petitions.messages import assignment as events
from petitions.messages.base import Event
from petitions.messaging.asyncapi import specification


def published() -> list[type[Event]]:
    """Every workflow event (all the Event classes of petitions.messages.assignment)."""
    return [
        value
        for value in vars(events).values()
        if isinstance(value, type) and issubclass(value, Event) and "event_type" in value.__dict__
    ]


def spec() -> AsyncAPI:
    return specification(
        service="assignment",
        title="交办督办 Assignment — events",
        description=(
            "Consumes intake's events (a registration takes a new case up: acceptance clock, "
            "first assignment; the others are skipped) and publishes the whole workflow of each "
            "case on its stream."
        ),
        publishes=published(),
    )
