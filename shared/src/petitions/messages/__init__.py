"""The event contract between the services: every event type, with its schema version."""

from petitions.messages.base import Event, EventRegistry, UnknownEventTypeError, registry

__all__ = ["Event", "EventRegistry", "UnknownEventTypeError", "registry"]
