"""Event types used only by the tests of the store (registered under a ``test.`` prefix)."""

from __future__ import annotations

from petitions.messages import Event, registry


class NoteAdded(Event, type="test.NoteAdded", version=2):
    """Version 2 renamed ``text`` to ``body`` and added ``words``."""

    body: str
    words: int


class CounterMoved(Event, type="test.CounterMoved"):
    by: int


@registry.upcaster("test.NoteAdded", from_version=1)
def _note_v1_to_v2(data: dict[str, object]) -> dict[str, object]:
    body = str(data["text"])
    return {"body": body, "words": len(body.split())}
