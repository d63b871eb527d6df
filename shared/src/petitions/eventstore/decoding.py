"""Stored events to typed ones: personal fields opened or masked, old schemas upcast."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from petitions.eventstore.model import RawEvent, RecordedEvent, recorded_event
from petitions.eventstore.sealing import PersonalData
from petitions.messages import Event, EventRegistry
from petitions.personal.codec import (
    might_be_sealed,
    open_event,
    vault_subjects,
    without_vault,
    without_vault_bytes,
)
from petitions.personal.keys import PersonalDataError


class Decoder:
    """Decodes :class:`RawEvent` batches with one key look-up per batch."""

    def __init__(self, events: EventRegistry, personal: PersonalData | None) -> None:
        self._registry = events
        self._personal = personal

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        """Typed events; personal fields opened (``reveal``) or masked, in one key look-up.

        A store without keys reads the masked forms without parsing the vault at all; a store
        with keys consults them even for masks, so that an erased subject shows as erased.
        """
        if self._personal is None and reveal and any(might_be_sealed(r.data) for r in raws):
            raise PersonalDataError(
                "读取个人信息需要密钥服务 reading personal data needs a key service; "
                "read with reveal=False for the masked forms"
            )
        if self._personal is None:
            return [self.decode(raw, without_vault(raw.data), None) for raw in raws]
        trees: dict[int, dict[str, Any]] = {}
        subjects: set[UUID] = set()
        for i, raw in enumerate(raws):
            if might_be_sealed(raw.data):
                tree = json.loads(raw.data)
                trees[i] = tree
                subjects |= vault_subjects(tree)
        if not trees:  # the common case: nothing personal in the batch
            return [self.decode(raw, raw.data, None) for raw in raws]
        keys = await self._personal.keys.for_reading(subjects)
        out: list[RecordedEvent[Any]] = []
        for i, raw in enumerate(raws):
            tree = trees.get(i)
            if tree is not None:
                open_event(tree, keys, raw.stream_id, raw.version, reveal=reveal)
            out.append(self.decode(raw, raw.data, tree))
        return out

    def decode_rows(self, rows: Sequence[Any], *, reveal: bool) -> list[RecordedEvent[Any]]:
        """Typed events straight from rows selected with ``sql.DECODE_COLUMNS``, for a store
        without keys: no :class:`RawEvent` in between (building one per row cost the ordered read
        a sixth of its time), and the data validated from its UTF-8 bytes, the vault already cut
        off by PostgreSQL."""
        if self._personal is not None:
            raise ValueError("decode_rows is for a store without keys: use decode_many")
        class_for = self._registry.class_for
        # Per event type: its class's schema version and JSON validator, looked up once a call
        # rather than three attribute look-ups a row.
        types: dict[str, tuple[int, Callable[[bytes], Any], type[Event]]] = {}
        out: list[RecordedEvent[Any]] = []
        append = out.append
        for row in rows:
            (position, stream_id, version, event_id, event_type, schema_version, bureau, data,
             actor, service, correlation_id, causation_id, occurred_at, recorded_at, tx_id,
             digest, vaults) = row  # fmt: skip
            if vaults:
                if reveal:
                    raise PersonalDataError(
                        "读取个人信息需要密钥服务 reading personal data needs a key service; "
                        "read with reveal=False for the masked forms"
                    )
                if vaults > 1:  # sent whole: the vault is the last of them
                    data = without_vault_bytes(data)
            known = types.get(event_type)
            if known is None:
                cls = class_for(event_type)
                validate_json = cls.__pydantic_validator__.validate_json
                known = types[event_type] = (cls.schema_version, validate_json, cls)
            current, validate, cls = known
            if schema_version < current:
                value = cls.model_validate(
                    self._registry.upcast(event_type, schema_version, json.loads(data))
                )
            else:
                value = validate(data)
            # occurred_at is NULL where it is recorded_at (sql.DECODE_COLUMNS).
            event = recorded_event(
                position, stream_id, version, event_id, event_type, schema_version, bureau,
                value, actor, service, correlation_id, causation_id, occurred_at or recorded_at,
                recorded_at, tx_id, digest,
            )  # fmt: skip
            append(event)
        return out

    def decode(self, raw: RawEvent, text: str, tree: dict[str, Any] | None) -> RecordedEvent[Any]:
        """One event from its (already opened or masked) ``text`` or parsed ``tree``."""
        cls = self._registry.class_for(raw.event_type)
        if raw.schema_version < cls.schema_version:
            source = tree if tree is not None else json.loads(text)
            data = cls.model_validate(
                self._registry.upcast(raw.event_type, raw.schema_version, source)
            )
        elif tree is not None:
            data = cls.model_validate(tree)
        else:
            data = cls.model_validate_json(text)
        return RecordedEvent(
            position=raw.position,
            stream_id=raw.stream_id,
            version=raw.version,
            event_id=raw.event_id,
            event_type=raw.event_type,
            stored_schema_version=raw.schema_version,
            bureau=raw.bureau,
            data=data,
            actor=raw.actor,
            service=raw.service,
            correlation_id=raw.correlation_id,
            causation_id=raw.causation_id,
            occurred_at=raw.occurred_at,
            recorded_at=raw.recorded_at,
            tx_id=raw.tx_id,
            hash=raw.hash,
        )
