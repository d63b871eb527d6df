"""Sealing and opening the personal fields of events.

For each event class a plan lists where its personal fields are (found once, from the type
annotations). Sealing replaces each such value, in the event's JSON, by an object carrying the
masked form and a reference into the event's vault, which holds one SM4-GCM ciphertext per data
subject (a JSON array of that subject's clear values)::

    {"petitioners": [{"name": {"$pii": "sm4-gcm", "s": "<subject>", "i": 0, "m": "张*"}, ...}],
     "$vault": {"<subject>": {"n": "<nonce>", "c": "<ciphertext+tag>"}}}

The associated data binds each ciphertext to its stream, version and subject, so a ciphertext
copied to another event or person fails to decrypt. Opening finds references by their mark, not
by the current plan, so an upcaster may move them. Opening gives the clear value (``reveal``) or
the masked form; for an erased subject it gives :data:`ERASED` either way.
"""

from __future__ import annotations

import base64
import json
import types
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
VAULT = "$vault"
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
    subject: UUID
    marker: Personal


def walk(plan: Plan, data: dict[str, Any], subject: UUID | None = None) -> list[Spot]:
    """Every personal value in ``data`` (a model's JSON), with its subject. A plain recursive
    function filling a list: this runs for every event with personal data, both ways."""
    found: list[Spot] = []
    _walk_model(plan, data, subject, found)
    return found


def _walk_model(plan: Plan, data: dict[str, Any], subject: UUID | None, found: list[Spot]) -> None:
    if plan.subject_field is not None:
        own = data.get(plan.subject_field)
        if own is not None:
            subject = own if isinstance(own, UUID) else UUID(own)
    for name, node in plan.fields.items():
        _walk_node(node, data, name, subject, found)


def _walk_node(
    node: _Node, container: Any, key: str | int, subject: UUID | None, found: list[Spot]
) -> None:
    value = container.get(key) if isinstance(container, dict) else container[key]
    if value is None:
        return
    if isinstance(node, _PersonalNode):
        if subject is None:
            raise PlanError(f"{key}: personal value without a data subject id")
        found.append(Spot(container, key, subject, node.marker))
    elif isinstance(node, _ListNode):
        for i in range(len(value)):
            _walk_node(node.item, value, i, subject, found)
    else:
        _walk_model(node.plan, value, subject, found)


def associated_data(stream_id: str, version: int, subject: UUID) -> bytes:
    return f"{stream_id}\x1f{version}\x1f{subject}".encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass(frozen=True, slots=True)
class Sealed:
    """One value sealed by :func:`seal_event`: for the blind index."""

    marker: Personal
    subject: UUID
    plain: str


def seal_event(
    tree: dict[str, Any],
    spots: list[Spot],
    keys: dict[UUID, bytes],
    stream_id: str,
    version: int,
) -> list[Sealed]:
    """Seal, in place, the personal values of one event's JSON.

    Each value is replaced by a reference carrying its masked form; the clear values of each
    subject go, as one JSON array, into one SM4-GCM ciphertext in the event's vault. One cipher
    operation per subject and event, not per field: the cipher set-up dominates the cost.
    """
    groups: dict[UUID, list[str]] = {}
    sealed: list[Sealed] = []
    for spot in spots:
        plain = spot.container[spot.key]
        if not isinstance(plain, str):
            raise PlanError(
                f"{spot.key}: personal fields must be strings, got {type(plain).__name__}"
            )
        values = groups.setdefault(spot.subject, [])
        spot.container[spot.key] = {
            SEALED_MARK: ALGORITHM,
            "s": str(spot.subject),
            "i": len(values),
            "m": mask(spot.marker.mask, plain),
        }
        values.append(plain)
        sealed.append(Sealed(spot.marker, spot.subject, plain))
    vault: dict[str, dict[str, str]] = {}
    for subject, values in groups.items():
        nonce, ciphertext = sm4_gcm_encrypt(
            keys[subject], dumps(values).encode(), associated_data(stream_id, version, subject)
        )
        vault[str(subject)] = {"n": _b64(nonce), "c": _b64(ciphertext)}
    if vault:
        tree[VAULT] = vault
    return sealed


_VAULT_NEEDLE = f'"{VAULT}"'


def might_be_sealed(text: str) -> bool:
    """Cheap test on stored JSON text before parsing it."""
    return _VAULT_NEEDLE in text


def vault_subjects(tree: dict[str, Any]) -> set[UUID]:
    return {UUID(subject) for subject in tree.get(VAULT, {})}


def open_event(
    tree: dict[str, Any],
    keys: dict[UUID, bytes | None] | None,
    stream_id: str,
    version: int,
    *,
    reveal: bool,
) -> None:
    """Replace, in place, each sealed reference by its clear value (``reveal``), its masked form,
    or :data:`ERASED` when its subject's key is gone. ``keys`` None: no key service, masks only.
    References are found by their mark, whatever the schema version."""
    vault: dict[str, dict[str, str]] = tree.pop(VAULT, {})
    clear: dict[str, list[str] | None] = {}
    for subject_text, box in vault.items():
        subject = UUID(subject_text)
        key = None if keys is None else keys.get(subject)
        if keys is not None and key is None:
            clear[subject_text] = None  # erased
        elif reveal and key is not None:
            try:
                plain = sm4_gcm_decrypt(
                    key,
                    base64.b64decode(box["n"]),
                    base64.b64decode(box["c"]),
                    associated_data(stream_id, version, subject),
                )
            except CiphertextMismatchError as exc:
                raise CiphertextMismatchError(f"{stream_id} v{version}: {exc}") from None
            clear[subject_text] = json.loads(plain)
    _replace(tree, clear, reveal)


def _replace(value: Any, clear: dict[str, list[str] | None], reveal: bool) -> None:
    items: Any
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for k, v in list(items):
        if isinstance(v, dict) and v.get(SEALED_MARK) == ALGORITHM:
            subject = v["s"]
            if subject in clear and clear[subject] is None:
                value[k] = ERASED
            elif reveal and subject in clear:
                value[k] = clear[subject][v["i"]]  # type: ignore[index]
            else:
                value[k] = v["m"]
        elif isinstance(v, dict | list):
            _replace(v, clear, reveal)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
