"""Personal fields on the way in: the keys an append needs and the sealing of its events
(the codec itself is :mod:`petitions.personal.codec`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from petitions.eventstore.model import NewEvent
from petitions.messages import Event
from petitions.personal.blind_index import BlindIndex
from petitions.personal.codec import Spot, dumps, plan_for, seal_event, walk
from petitions.personal.keys import PersonalDataError, SubjectKeys


@dataclass(frozen=True)
class PersonalData:
    """What the store needs for personal fields: data keys and (optionally) the blind index."""

    keys: SubjectKeys
    index: BlindIndex | None = None


class Sealer:
    """Seals the personal fields of one append's events, collecting blind-index tokens."""

    def __init__(
        self,
        keys: dict[UUID, bytes],
        index: BlindIndex | None,
        trees: dict[int, tuple[dict[str, Any], list[Spot]]],
    ) -> None:
        self._keys = keys
        self._index = index
        self._trees = trees  # JSON dumped while finding the subjects, by id() of the NewEvent
        self.tokens: list[tuple[str, bytes, UUID]] = []

    def seal(self, new: NewEvent[Any], stream_id: str, version: int) -> str:
        data: Event = new.data
        plan = plan_for(type(data))
        if plan.empty:
            return data.model_dump_json()
        # Sealing works in place: the first attempt takes the tree, a retry dumps afresh.
        prepared = self._trees.pop(id(new), None)
        if prepared is None:
            tree = data.model_dump(mode="json")
            prepared = (tree, walk(plan, tree))
        tree, spots = prepared
        for value in seal_event(tree, spots, self._keys, stream_id, version):
            kind = value.marker.index
            if kind is not None and self._index is not None:
                self.tokens.append((kind, self._index.token(kind, value.plain), value.subject))
        return dumps(tree)


async def prepare_sealer(
    personal: PersonalData | None, events: Sequence[NewEvent[Any]], connection: Any = None
) -> Sealer | None:
    """Keys for the personal fields of ``events`` (fetched or created through ``connection``
    when given, so inside the caller's transaction), or None when they have none."""
    personal_plans = [(new, plan) for new in events if not (plan := plan_for(type(new.data))).empty]
    if not personal_plans:
        return None
    if personal is None:
        raise PersonalDataError(
            "这些事件含个人信息 these events carry personal data but the event store has no "
            "key service: build it with personal=PersonalData(...)"
        )
    subjects: set[UUID] = set()
    trees: dict[int, tuple[dict[str, Any], list[Spot]]] = {}
    for new, plan in personal_plans:
        tree = new.data.model_dump(mode="json")
        spots = walk(plan, tree)
        trees[id(new)] = (tree, spots)
        subjects.update(spot.subject for spot in spots)
    keys = await personal.keys.for_writing(subjects, connection)
    return Sealer(keys, personal.index, trees)
