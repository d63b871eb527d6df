"""The event contract between the services: every event type, with its schema version."""

from petitions.messages.base import Event, EventRegistry, UnknownEventTypeError, registry
from petitions.messages.personal import PersonalDataErased

# Importing the contracts registers every event type with the registry.
from petitions.messages import assignment, intake, reception, reporting  # noqa: F401  isort: skip

__all__ = ["Event", "EventRegistry", "PersonalDataErased", "UnknownEventTypeError", "registry"]
