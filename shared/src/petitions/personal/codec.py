"""Sealing and opening the personal fields of events.

For each event class a plan lists where its personal fields are (found once, from the type
annotations). Sealing replaces each such value, in the event's JSON, by its masked form, and adds
a vault holding, per data subject, the paths of that subject's values and one SM4-GCM ciphertext
of the clear values::

    {"petitioners": [{"subject_id": "<s>", "name": "张*", "resident_id": "110105********002X"}],
     "$vault": {"<s>": {"p": [["petitioners", 0, "name"], ...], "n": "<nonce>", "c": "<ct+tag>"}}}

So the stored event, minus its vault, is the masked event: a reader without keys (reporting, the
relay, NATS consumers) validates it as it is. The associated data binds each ciphertext to its
stream, version, subject and paths, so a ciphertext copied to another event, person or field
fails to decrypt. Paths are those of the stored schema version: events are opened before they
are upcast.
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
VAULT = "$vault"


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
    path: tuple[str | int, ...]
    subject: UUID
    marker: Personal


def walk(plan: Plan, data: dict[str, Any], subject: UUID | None = None) -> list[Spot]:
    """Every personal value in ``data`` (a model's JSON), with its subject. A plain recursive
    function filling a list: this runs for every event with personal data."""
    found: list[Spot] = []
    _walk_model(plan, data, subject, (), found)
    return found


def _walk_model(
    plan: Plan,
    data: dict[str, Any],
    subject: UUID | None,
    path: tuple[str | int, ...],
    found: list[Spot],
) -> None:
    if plan.subject_field is not None:
        own = data.get(plan.subject_field)
        if own is not None:
            subject = own if isinstance(own, UUID) else UUID(own)
    for name, node in plan.fields.items():
        _walk_node(node, data, name, subject, (*path, name), found)


def _walk_node(
    node: _Node,
    container: Any,
    key: str | int,
    subject: UUID | None,
    path: tuple[str | int, ...],
    found: list[Spot],
) -> None:
    value = container.get(key) if isinstance(container, dict) else container[key]
    if value is None or value == "":
        return  # nothing to seal: an empty note says nothing about anyone
    if isinstance(node, _PersonalNode):
        if subject is None:
            raise PlanError(f"{_dotted(path)}: personal value without a data subject id")
        found.append(Spot(container, key, path, subject, node.marker))
    elif isinstance(node, _ListNode):
        for i in range(len(value)):
            _walk_node(node.item, value, i, subject, (*path, i), found)
    else:
        _walk_model(node.plan, value, subject, path, found)


def _dotted(path: tuple[str | int, ...] | list[str | int]) -> str:
    return ".".join(str(p) for p in path)


def associated_data(stream_id: str, version: int, subject: UUID, paths: str) -> bytes:
    return f"{stream_id}\x1f{version}\x1f{subject}\x1f{paths}".encode()


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

    Each value is replaced by its masked form; the clear values of each subject, with their
    paths, go into one SM4-GCM ciphertext in the event's vault (the last key of the object).
    One cipher operation per subject and event, not per field: the cipher set-up dominates.
    """
    groups: dict[UUID, tuple[list[list[str | int]], list[str]]] = {}
    sealed: list[Sealed] = []
    for spot in spots:
        plain = spot.container[spot.key]
        if not isinstance(plain, str):
            raise PlanError(
                f"{_dotted(spot.path)}: personal fields must be strings, got {type(plain).__name__}"
            )
        paths, values = groups.setdefault(spot.subject, ([], []))
        paths.append(list(spot.path))
        values.append(plain)
        spot.container[spot.key] = mask(spot.marker.mask, plain)
        sealed.append(Sealed(spot.marker, spot.subject, plain))
    vault: dict[str, dict[str, Any]] = {}
    for subject, (paths, values) in groups.items():
        paths_text = dumps(paths)
        nonce, ciphertext = sm4_gcm_encrypt(
            keys[subject],
            dumps(values).encode(),
            associated_data(stream_id, version, subject, paths_text),
        )
        vault[str(subject)] = {"p": paths, "n": _b64(nonce), "c": _b64(ciphertext)}
    if vault:
        tree[VAULT] = vault
    return sealed


_VAULT_TAIL = f',"{VAULT}":'
_VAULT_TAIL_BYTES = _VAULT_TAIL.encode()


def might_be_sealed(text: str) -> bool:
    """Cheap test on stored JSON text before parsing it."""
    return _VAULT_TAIL in text


def without_vault(text: str) -> str:
    """The stored JSON with its vault cut off: the masked event, ready for ``validate_json``
    (the vault is always the last key, see :func:`seal_event`)."""
    cut = text.rfind(_VAULT_TAIL)
    return text if cut < 0 else text[:cut] + "}"


def without_vault_bytes(data: bytes) -> bytes:
    """:func:`without_vault` of the stored JSON's UTF-8 bytes."""
    cut = data.rfind(_VAULT_TAIL_BYTES)
    return data if cut < 0 else data[:cut] + b"}"


def vault_subjects(tree: dict[str, Any]) -> set[UUID]:
    return {UUID(subject) for subject in tree.get(VAULT, {})}


def open_event(
    tree: dict[str, Any],
    keys: dict[UUID, bytes | None],
    stream_id: str,
    version: int,
    *,
    reveal: bool,
) -> None:
    """Put back, in place, each subject's clear values (``reveal``), or leave the masks; an
    erased subject's values become :data:`ERASED` either way."""
    vault: dict[str, dict[str, Any]] = tree.pop(VAULT, {})
    for subject_text, box in vault.items():
        subject = UUID(subject_text)
        key = keys.get(subject)
        paths: list[list[str | int]] = box["p"]
        if key is None:
            values: list[str] = [ERASED] * len(paths)
        elif reveal:
            try:
                plain = sm4_gcm_decrypt(
                    key,
                    base64.b64decode(box["n"]),
                    base64.b64decode(box["c"]),
                    associated_data(stream_id, version, subject, dumps(paths)),
                )
            except CiphertextMismatchError as exc:
                raise CiphertextMismatchError(f"{stream_id} v{version}: {exc}") from None
            values = json.loads(plain)
        else:
            continue
        for path, value in zip(paths, values, strict=True):
            container: Any = tree
            for step in path[:-1]:
                container = container[step]
            container[path[-1]] = value


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
