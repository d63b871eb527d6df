"""The event contract between the services: every event type, with its schema version."""

from petitions.messages.base import Event, EventRegistry, UnknownEventTypeError, registry
from petitions.messages.personal import PersonalDataErased

__all__ = ["Event", "EventRegistry", "PersonalDataErased", "UnknownEventTypeError", "registry"]
