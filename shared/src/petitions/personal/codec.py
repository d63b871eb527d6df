"""Sealing and opening the personal fields of events.

For each event class a plan lists where its personal fields are (found once, from the type
annotations). Sealing replaces each such value, in the event's JSON, by an object carrying the
SM4-GCM ciphertext and the masked form::

    {"$pii": "sm4-gcm", "s": "<subject>", "n": "<nonce>", "c": "<ciphertext+tag>", "m": "张*"}

The associated data binds the ciphertext to its stream, version and subject, so a ciphertext
copied to another event or person fails to decrypt. Opening finds sealed values by their mark,
not by the current plan, so an upcaster may move them. Opening gives the clear value (``reveal``) or
the masked form; for an erased subject it gives :data:`ERASED` either way.
"""

from __future__ import annotations

import base64
import json
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from inspect import isclass
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel

from petitions.personal.fields import Personal, Subject
from petitions.personal.keys import CiphertextMismatchError, sm4_gcm_decrypt, sm4_gcm_encrypt
from petitions.personal.masking import mask

ERASED = "〔已擦除 erased〕"
SEALED_MARK = "$pii"
ALGORITHM = "sm4-gcm"


class PlanError(TypeError):
    """A model marks personal fields in a way the codec cannot honour."""


@dataclass(frozen=True, slots=True)
class _PersonalNode:
    marker: Personal


@dataclass(frozen=True, slots=True)
class _ListNode:
    item: _Node


@dataclass(frozen=True, slots=True)
class _ModelNode:
    plan: Plan


_Node = _PersonalNode | _ListNode | _ModelNode


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a model's personal fields are, and which field names their subject."""

    subject_field: str | None
    fields: dict[str, _Node] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.fields


_plans: dict[type[BaseModel], Plan] = {}


def plan_for(model: type[BaseModel]) -> Plan:
    """The (cached) plan of a model class."""
    cached = _plans.get(model)
    if cached is None:
        cached = _plans[model] = _build_plan(model, inherited_subject=False, path=model.__name__)
    return cached


def _build_plan(model: type[BaseModel], *, inherited_subject: bool, path: str) -> Plan:
    subject_field: str | None = None
    nodes: dict[str, _Node] = {}
    for name, info in model.model_fields.items():
        if any(isinstance(m, Subject) for m in info.metadata):
            subject_field = name
    has_subject = inherited_subject or subject_field is not None
    for name, info in model.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, Personal)), None)
        node = (
            _PersonalNode(marker)
            if marker is not None
            else _node_for(info.annotation, has_subject, f"{path}.{name}")
        )
        if node is None:
            continue
        if isinstance(node, _PersonalNode) and not has_subject:
            raise PlanError(
                f"{path}.{name} is personal data but {path} has no data subject: add a field "
                "annotated Subject() to it or to an enclosing model"
            )
        nodes[name] = node
    return Plan(subject_field, nodes)


def _node_for(annotation: Any, has_subject: bool, path: str) -> _Node | None:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extras = get_args(annotation)
        marker = next((m for m in extras if isinstance(m, Personal)), None)
        if marker is not None:
            if not has_subject:
                raise PlanError(f"{path} is personal data but has no data subject")
            return _PersonalNode(marker)
        return _node_for(base, has_subject, path)
    if origin in (Union, types.UnionType):
        nodes = [
            n
            for a in get_args(annotation)
            if a is not type(None) and (n := _node_for(a, has_subject, path)) is not None
        ]
        if len(nodes) > 1:
            raise PlanError(f"{path}: a union may hold personal data in one member only")
        return nodes[0] if nodes else None
    if origin in (list, tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        item = _node_for(args[0], has_subject, f"{path}[]") if args else None
        return _ListNode(item) if item is not None else None
    if isclass(annotation) and issubclass(annotation, BaseModel):
        sub = _build_plan(annotation, inherited_subject=has_subject, path=path)
        return None if sub.empty else _ModelNode(sub)
    return None


@dataclass(frozen=True, slots=True)
class Spot:
    """One personal value found in an event's JSON: where, whose, how to mask and index."""

    container: Any
    key: str | int
    path: str
    subject: UUID
    marker: Personal


def walk(
    plan: Plan, data: dict[str, Any], subject: UUID | None = None, path: str = ""
) -> Iterator[Spot]:
    """Every personal value in ``data`` (a model's JSON), with its subject."""
    if plan.subject_field is not None and data.get(plan.subject_field) is not None:
        subject = UUID(str(data[plan.subject_field]))
    for name, node in plan.fields.items():
        yield from _walk_node(node, data, name, subject, f"{path}{name}")


def _walk_node(
    node: _Node, container: Any, key: str | int, subject: UUID | None, path: str
) -> Iterator[Spot]:
    value = container.get(key) if isinstance(container, dict) else container[key]
    if value is None:
        return
    if isinstance(node, _PersonalNode):
        if subject is None:
            raise PlanError(f"{path}: personal value without a data subject id")
        yield Spot(container, key, path, subject, node.marker)
    elif isinstance(node, _ListNode):
        for i in range(len(value)):
            yield from _walk_node(node.item, value, i, subject, f"{path}.{i}")
    else:
        yield from walk(node.plan, value, subject, f"{path}.")


def associated_data(stream_id: str, version: int, subject: UUID) -> bytes:
    return f"{stream_id}\x1f{version}\x1f{subject}".encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def seal_spot(spot: Spot, key: bytes, stream_id: str, version: int) -> str:
    """Replace the clear value by its sealed form; return the clear value (for the index)."""
    plain = spot.container[spot.key]
    if not isinstance(plain, str):
        raise PlanError(f"{spot.path}: personal fields must be strings, got {type(plain).__name__}")
    nonce, sealed = sm4_gcm_encrypt(
        key, plain.encode(), associated_data(stream_id, version, spot.subject)
    )
    spot.container[spot.key] = {
        SEALED_MARK: ALGORITHM,
        "s": str(spot.subject),
        "n": _b64(nonce),
        "c": _b64(sealed),
        "m": mask(spot.marker.mask, plain),
    }
    return plain


@dataclass(frozen=True, slots=True)
class SealedSpot:
    """A sealed value found in stored JSON (found by its mark, whatever the schema version)."""

    container: Any
    key: str | int
    subject: UUID


def find_sealed(value: Any) -> list[SealedSpot]:
    found: list[SealedSpot] = []
    _find(value, found)
    return found


def _find(value: Any, found: list[SealedSpot]) -> None:
    items: Any
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for k, v in items:
        if isinstance(v, dict) and v.get(SEALED_MARK) == ALGORITHM:
            found.append(SealedSpot(value, k, UUID(v["s"])))
        else:
            _find(v, found)


def open_spot(
    spot: SealedSpot, key: bytes | None, stream_id: str, version: int, *, reveal: bool
) -> None:
    sealed = spot.container[spot.key]
    if key is None:
        spot.container[spot.key] = ERASED
    elif not reveal:
        spot.container[spot.key] = sealed["m"]
    else:
        try:
            plain = sm4_gcm_decrypt(
                key,
                base64.b64decode(sealed["n"]),
                base64.b64decode(sealed["c"]),
                associated_data(stream_id, version, spot.subject),
            )
        except CiphertextMismatchError as exc:
            raise CiphertextMismatchError(f"{stream_id} v{version}: {exc}") from None
        spot.container[spot.key] = plain.decode()


def might_hold_sealed(text: str) -> bool:
    """Cheap test on stored JSON text before parsing it."""
    return f'"{SEALED_MARK}"' in text


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
