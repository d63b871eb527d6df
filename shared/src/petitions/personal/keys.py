"""Keys for personal data: a data key per data subject, wrapped by a key-encryption key (KEK).

The KEK sits behind :class:`KeyService`, so a deployment can keep it in an HSM or a cloud KMS
(wrap and unwrap are then calls to it) without code changes; :class:`LocalKeyService` holds it in
settings for development and tests. Data keys are stored wrapped in ``personal.data_keys``;
erasing a subject destroys its wrapped key, after which nothing can decrypt its fields.
"""

from __future__ import annotations

import base64
import os
import time
from collections import OrderedDict
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SM4_KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16


class PersonalDataError(Exception):
    """Base of the personal-data errors."""


class KeyUnavailableError(PersonalDataError):
    """A data key cannot be unwrapped: wrong or missing key-encryption key."""


class SubjectErasedError(PersonalDataError):
    """New personal data was given for a subject whose key was destroyed."""

    def __init__(self, subject: UUID) -> None:
        super().__init__(
            f"数据主体已擦除 data subject {subject} was erased; personal data cannot be written "
            "for them again (register the person as a new subject)"
        )
        self.subject = subject


class CiphertextMismatchError(PersonalDataError):
    """A ciphertext does not authenticate where it is read: moved, altered, or the wrong key."""


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, associated: bytes) -> tuple[bytes, bytes]:
    """Return (nonce, ciphertext with tag). A fresh random nonce per encryption."""
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(associated)
    body = enc.update(plaintext) + enc.finalize()
    return nonce, body + enc.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, associated: bytes) -> bytes:
    if len(sealed) < TAG_BYTES:
        raise CiphertextMismatchError("ciphertext too short")
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
    dec.authenticate_additional_data(associated)
    try:
        return dec.update(sealed[:-TAG_BYTES]) + dec.finalize()
    except InvalidTag:
        raise CiphertextMismatchError(
            "密文校验失败 ciphertext does not authenticate: it was moved to another stream, "
            "version, subject or field, altered, or encrypted under another key"
        ) from None


class KeyService(Protocol):
    """Wraps and unwraps data keys with a key-encryption key held elsewhere (HSM, KMS, settings)."""

    @property
    def kek_id(self) -> str:
        """Identifies the KEK (version) a wrapped key was made with."""
        ...

    async def wrap(self, subject: UUID, data_key: bytes) -> bytes: ...

    async def unwrap(self, subject: UUID, kek_id: str, wrapped: bytes) -> bytes: ...


class LocalKeyService:
    """A KEK from settings (development, tests, or a deployment without an HSM)."""

    def __init__(self, kek: bytes, kek_id: str = "local-1") -> None:
        if len(kek) != SM4_KEY_BYTES:
            raise KeyUnavailableError(
                f"密钥长度错误 the key-encryption key must be {SM4_KEY_BYTES} bytes "
                f"(base64 in PETITIONS_KEK), got {len(kek)}"
            )
        self._kek = kek
        self._kek_id = kek_id

    @property
    def kek_id(self) -> str:
        return self._kek_id

    async def wrap(self, subject: UUID, data_key: bytes) -> bytes:
        nonce, sealed = sm4_gcm_encrypt(self._kek, data_key, subject.bytes)
        return nonce + sealed

    async def unwrap(self, subject: UUID, kek_id: str, wrapped: bytes) -> bytes:
        if kek_id != self._kek_id:
            raise KeyUnavailableError(
                f"数据密钥由另一主密钥加密 data key of {subject} is wrapped by KEK {kek_id!r}, "
                f"this service holds {self._kek_id!r}: configure that key-encryption key"
            )
        try:
            return sm4_gcm_decrypt(
                self._kek, wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.bytes
            )
        except CiphertextMismatchError:
            raise KeyUnavailableError(
                f"无法解开数据密钥 cannot unwrap the data key of {subject}: wrong key-encryption "
                "key (PETITIONS_KEK) for this database"
            ) from None


def generate_key(length: int = SM4_KEY_BYTES) -> str:
    """A new random key, base64, for PETITIONS_KEK (16 bytes) or the blind-index key (32)."""
    return base64.b64encode(os.urandom(length)).decode()


class SubjectKeys(Protocol):
    """Where the data keys of subjects are kept: what sealing and opening events need.
    :class:`DataKeys` keeps them in PostgreSQL; :class:`MemoryDataKeys` in a dict (tests)."""

    async def for_writing(self, subjects: set[UUID], connection: Any = None) -> dict[UUID, bytes]:
        """Keys to encrypt with, created for new subjects; erased subjects are refused."""
        ...

    async def for_reading(self, subjects: set[UUID]) -> dict[UUID, bytes | None]:
        """Keys to decrypt with; None for an erased (or never keyed) subject."""
        ...

    async def erased(self, subjects: set[UUID]) -> set[UUID]:
        """Which of ``subjects`` were erased (no unwrapping: for masked views)."""
        ...


class MemoryDataKeys:
    """Data keys in a dict, for the in-memory event store: nothing is wrapped and nothing
    survives the process (never for production)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    async def for_writing(self, subjects: set[UUID], connection: Any = None) -> dict[UUID, bytes]:
        del connection  # one transaction is all there is in memory
        keys: dict[UUID, bytes] = {}
        for subject in subjects:
            key = self._keys.setdefault(subject, os.urandom(SM4_KEY_BYTES))
            if key is None:
                raise SubjectErasedError(subject)
            keys[subject] = key
        return keys

    async def for_reading(self, subjects: set[UUID]) -> dict[UUID, bytes | None]:
        return {subject: self._keys.get(subject) for subject in subjects}

    async def erased(self, subjects: set[UUID]) -> set[UUID]:
        return {s for s in subjects if s in self._keys and self._keys[s] is None}

    def destroy(self, subject: UUID) -> bool:
        """Forget the subject's key (their fields read as erased); False if it had none."""
        had = self._keys.get(subject) is not None
        self._keys[subject] = None
        return had


class DataKeys:
    """Per-subject data keys in ``personal.data_keys``, with a short-lived cache.

    The cache makes reads of many events cheap; its time to live bounds how long another process
    may still decrypt a subject after it was erased (this process forgets at once).
    """

    def __init__(
        self, pool: asyncpg.Pool, service: KeyService, *, cache_seconds: float = 30.0
    ) -> None:
        self._pool = pool
        self._service = service
        self._ttl = cache_seconds
        # subject -> (expires at, key or None when erased)
        self._cache: OrderedDict[UUID, tuple[float, bytes | None]] = OrderedDict()

    def _cached(self, subject: UUID) -> tuple[bool, bytes | None]:
        hit = self._cache.get(subject)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def _remember(self, subject: UUID, key: bytes | None) -> None:
        self._cache[subject] = (time.monotonic() + self._ttl, key)
        if len(self._cache) > 50_000:
            self._cache.popitem(last=False)

    async def for_writing(
        self, subjects: set[UUID], connection: asyncpg.Connection | None = None
    ) -> dict[UUID, bytes]:
        """Keys to encrypt with, created for new subjects; erased subjects are refused."""
        keys: dict[UUID, bytes] = {}
        missing: list[UUID] = []
        for subject in subjects:
            known, key = self._cached(subject)
            if known and key is not None:
                keys[subject] = key
            else:
                missing.append(subject)
        if not missing:
            return keys
        found = await self._load(missing, connection)
        for subject in missing:
            if subject in found:
                key = found[subject]
                if key is None:
                    raise SubjectErasedError(subject)
                keys[subject] = key
            else:
                keys[subject] = await self._create(subject, connection)
        return keys

    async def for_reading(self, subjects: set[UUID]) -> dict[UUID, bytes | None]:
        """Keys to decrypt with; None for an erased (or never keyed) subject."""
        keys: dict[UUID, bytes | None] = {}
        missing: list[UUID] = []
        for subject in subjects:
            known, key = self._cached(subject)
            if known:
                keys[subject] = key
            else:
                missing.append(subject)
        if missing:
            found = await self._load(missing)
            for subject in missing:
                keys[subject] = found.get(subject)
                self._remember(subject, keys[subject])
        return keys

    async def erased(self, subjects: set[UUID]) -> set[UUID]:
        """Which of ``subjects`` were erased (no unwrapping: for masked views)."""
        rows = await self._pool.fetch(
            "SELECT subject_id FROM personal.data_keys "
            "WHERE subject_id = ANY($1::uuid[]) AND wrapped IS NULL",
            list(subjects),
        )
        return {r["subject_id"] for r in rows}

    async def _load(
        self, subjects: list[UUID], connection: asyncpg.Connection | None = None
    ) -> dict[UUID, bytes | None]:
        rows = await (connection or self._pool).fetch(
            "SELECT subject_id, kek_id, wrapped FROM personal.data_keys "
            "WHERE subject_id = ANY($1::uuid[])",
            subjects,
        )
        out: dict[UUID, bytes | None] = {}
        for row in rows:
            subject = row["subject_id"]
            if row["wrapped"] is None:
                out[subject] = None
            else:
                out[subject] = await self._service.unwrap(
                    subject, row["kek_id"], bytes(row["wrapped"])
                )
            self._remember(subject, out[subject])
        return out

    async def _create(self, subject: UUID, connection: asyncpg.Connection | None = None) -> bytes:
        key = os.urandom(SM4_KEY_BYTES)
        wrapped = await self._service.wrap(subject, key)
        row = await (connection or self._pool).fetchrow(
            "INSERT INTO personal.data_keys (subject_id, kek_id, wrapped) VALUES ($1, $2, $3) "
            "ON CONFLICT (subject_id) DO NOTHING RETURNING subject_id",
            subject,
            self._service.kek_id,
            wrapped,
        )
        if row is None:  # another writer created it first: use theirs
            found = await self._load([subject], connection)
            theirs = found.get(subject)
            if theirs is None:
                raise SubjectErasedError(subject)
            return theirs
        if connection is None:
            # Inside a caller's transaction the row may yet roll back: a cached key whose row
            # never committed would seal data nobody could ever open.
            self._remember(subject, key)
        return key

    async def destroy(
        self, conn: asyncpg.Connection, subject: UUID, actor: str, reason: str
    ) -> bool:
        """Destroy the subject's key (within the caller's transaction). False if none existed."""
        status = await conn.execute(
            "UPDATE personal.data_keys SET wrapped = NULL, erased_at = now(), erased_by = $2, "
            "erase_reason = $3 WHERE subject_id = $1 AND wrapped IS NOT NULL",
            subject,
            actor,
            reason,
        )
        await conn.execute("DELETE FROM personal.blind_index WHERE subject_id = $1", subject)
        self._remember(subject, None)
        return bool(status.endswith(" 1"))
