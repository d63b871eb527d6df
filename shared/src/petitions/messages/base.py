"""The event contract's building blocks: frozen event models, their registry and upcasters.

Every event type names itself once, in its class statement::

    class CaseRegistered(Event, type="intake.CaseRegistered", version=1):
        case_id: str

The registry maps the stored type name to the class; an event stored under an older schema
version is upcast, one version at a time, before it is validated into the current model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from petitions.personal.codec import plan_for

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class UnknownEventTypeError(LookupError):
    """A stored event names a type no registered class claims."""

    def __init__(self, event_type: str) -> None:
        super().__init__(
            f"未知事件类型 unknown event type {event_type!r}: register its class or an upcaster"
        )
        self.event_type = event_type


class Event(BaseModel):
    """Base of every domain event: an immutable fact, named in the past tense."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]

    def __init_subclass__(cls, *, type: str | None = None, version: int = 1, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if type is None:  # an abstract intermediate base
            return
        cls.event_type = type
        cls.schema_version = version
        registry.register(cls)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Fields are complete only now: check personal-data marks at import, not at first append.
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            plan_for(cls)


class EventRegistry:
    """Type name -> current class, and (type name, from_version) -> upcaster."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[Event]) -> None:
        existing = self._classes.get(cls.event_type)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(
                f"event type {cls.event_type!r} claimed by both "
                f"{existing.__module__}.{existing.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}"
            )
        self._classes[cls.event_type] = cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: turn data stored at ``from_version`` into ``from_version + 1``."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def all_classes(self) -> list[type[Event]]:
        """Every registered event class, in type-name order."""
        return [self._classes[name] for name in sorted(self._classes)]

    def class_for(self, event_type: str) -> type[Event]:
        try:
            return self._classes[event_type]
        except KeyError:
            raise UnknownEventTypeError(event_type) from None

    def upcast(self, event_type: str, stored_version: int, data: JsonObject) -> JsonObject:
        """Bring stored data up to the registered class's schema version."""
        target = self.class_for(event_type).schema_version
        version = stored_version
        while version < target:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventTypeError(f"{event_type} v{version}->v{version + 1}")
            data = step(data)
            version += 1
        return data

    def needs_upcast(self, event_type: str, stored_version: int) -> bool:
        return stored_version < self.class_for(event_type).schema_version


registry = EventRegistry()
