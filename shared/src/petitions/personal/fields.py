"""Marking personal data in event models.

A field is personal when its annotation carries :class:`Personal`; its data subject (whose key
encrypts it) is the nearest enclosing model's field marked :class:`Subject`::

    class Petitioner(BaseModel):
        subject_id: Annotated[UUID, Subject()]
        name: Name
        resident_id: ResidentId
        phone: Phone | None = None

Domain code reads and writes plain strings; the store seals and opens them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from petitions.personal.masking import MaskKind

IndexKind = str


@dataclass(frozen=True, slots=True)
class Personal:
    """Marks a personal-data field: how it is masked, and whether a blind index finds it."""

    mask: MaskKind = "text"
    index: IndexKind | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """Marks the field holding the data subject's id (the key that encrypts its siblings)."""


SubjectId = Annotated[UUID, Subject()]
Name = Annotated[str, Personal("name")]
ResidentId = Annotated[str, Personal("resident_id", index="resident_id")]
Phone = Annotated[str, Personal("phone", index="phone")]
Address = Annotated[str, Personal("address")]
# Each identity document is its own kind: its own mask, and its own blind-index kind, so a
# passport number never finds a permit or a resident ID that happens to be written the same.
Passport = Annotated[str, Personal("passport", index="passport")]
HkMacauPermit = Annotated[str, Personal("permit", index="hk_macau_permit")]
TaiwanPermit = Annotated[str, Personal("permit", index="taiwan_permit")]
PermanentResidenceId = Annotated[
    str, Personal("permanent_residence_id", index="permanent_residence_id")
]
CreditCode = Annotated[str, Personal("credit_code", index="credit_code")]
PersonalText = Annotated[str, Personal("text")]
