"""Event types used only by the tests of the store (registered under a ``test.`` prefix)."""

from __future__ import annotations

from petitions.messages import Event, registry
from petitions.personal import Address, Name, PersonalText, Phone, ResidentId, SubjectId
from pydantic import BaseModel, ConfigDict


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


class Petitioner(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: SubjectId
    name: Name
    resident_id: ResidentId
    phone: Phone | None = None
    address: Address | None = None


class PetitionFiled(Event, type="test.PetitionFiled"):
    """A registration-like event: several petitioners, free text owned by the first."""

    subject_id: SubjectId
    petitioners: list[Petitioner]
    summary: PersonalText
    category: str


class PetitionTagged(Event, type="test.PetitionTagged"):
    """Personal text beside a mapping whose keys come from outside: one may be spelled like the
    vault of sealed fields."""

    subject_id: SubjectId
    note: PersonalText
    tags: dict[str, str]


def resident_id(body17: str) -> str:
    """Complete 17 digits with their GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]
