"""Attachments (附件): scanned letters, photos, recordings and documents attached to a submission
or to an act of the case.

* The type is judged by the content (``intake.domain.filetypes``); a declared type that differs
  is refused (422), as is a file over the configured size (413, refused at the door by
  ``intake.entrypoints.uploads`` before the body is read when its length is announced).
* The bytes are sealed (SM4-GCM) with the data key of the person they belong to: the
  submission's first petitioner, whose key already seals that submission's free text. Erasing
  the person (``EventStore.erase_subject``) destroys the key: the file can no longer be opened,
  and is answered 410.
* The bytes are addressed by their SM3 digest, and ``intake.AttachmentAdded`` carries the digest
  on ``attachments-<case id>``, so the hash chain covers the file: a changed byte is a different
  digest. The event and the sealed bytes are written in one transaction (PostgreSQL store).
* Reading one is a read of personal data in the clear: same roles and scope as the dossier
  (Art. 30: to the accused the case does not exist, 404), a purpose is required, and an
  ``intake.PersonalDataRead`` is appended before the bytes are returned.

Where the bytes live is behind :class:`~intake.application.ports.AttachmentStorage`.
:class:`~intake.adapters.postgres.PostgresAttachmentStorage` is the default (``make up`` needs
nothing else). An S3-compatible store (MinIO) would implement the same port; it is not built
(nothing here could test it for real): written outside the event's transaction, its blob would
be put first and an event-less object could remain after a failure, never the reverse.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID, uuid4

from petitions.eventstore import Metadata, NewEvent, WrongExpectedVersionError
from petitions.eventstore.port import EventStorePort
from petitions.identity import ForbiddenError, Principal, Role
from petitions.log import get_logger
from petitions.messages.intake import AttachmentAdded, PersonalDataRead, SubmissionReceived
from petitions.personal import SubjectErasedError, SubjectKeys
from petitions.personal.keys import (
    NONCE_BYTES,
    CiphertextMismatchError,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from petitions.personal.masking import mask
from petitions.scope import reach

from intake.application.dossier import SHANGHAI, Dossier, _not_found
from intake.application.ports import AttachmentStorage
from intake.application.register import InvalidCommand
from intake.domain.casefile import CaseFile
from intake.domain.filetypes import KINDS, NAMES, TypeProblem, check
from intake.domain.registration import Refused

log = get_logger(__name__)

SERVICE: Final = "intake"
_ATTEMPTS: Final = 5
FILENAME_MAX: Final = 200
# Roles that register and so may attach what came with a submission (a scanned letter at the
# desk), without reading the case in the clear.
DESK_ROLES: Final = (Role.REGISTRAR, Role.PETITION_OFFICE, Role.LEADER, Role.IMPORTER, Role.ADMIN)


def attachments_stream(case_id: UUID) -> str:
    return f"attachments-{case_id}"


def _associated(sm3: bytes, subject: UUID) -> bytes:
    # Binds the ciphertext to its address: bytes moved under another digest or person fail.
    return b"attachment\x1f" + sm3 + b"\x1f" + subject.bytes


def seal(key: bytes, content: bytes, sm3: bytes, subject: UUID) -> bytes:
    nonce, sealed = sm4_gcm_encrypt(key, content, _associated(sm3, subject))
    return nonce + sealed


def open_sealed(key: bytes, sealed: bytes, sm3: bytes, subject: UUID) -> bytes:
    return sm4_gcm_decrypt(
        key, sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated(sm3, subject)
    )


def sm3_of(content: bytes) -> bytes:
    return hashlib.new("sm3", content).digest()


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = _UNSAFE.sub("_", base).strip()
    return (cleaned or "附件")[:FILENAME_MAX]


def _erased() -> Refused:
    return Refused(
        "attachment_erased",
        "该附件所属信访人的个人信息已依法擦除，附件已无法读取 / the person this attachment "
        "belongs to was erased: the file can no longer be read",
        410,
    )


@dataclass(frozen=True)
class Upload:
    """One uploaded file and what the uploader said of it."""

    content: bytes
    filename: str | None
    kind: str
    declared: str | None
    submission_id: UUID | None = None
    act_version: int | None = None


@dataclass(frozen=True)
class Download:
    content: bytes
    media_type: str
    filename: str
    sm3: str


class Attachments:
    def __init__(
        self,
        dossier: Dossier,
        keys: SubjectKeys,
        storage: AttachmentStorage,
        *,
        max_bytes: int,
    ) -> None:
        self._dossier = dossier
        self._keys = keys
        self._storage = storage
        self.max_bytes = max_bytes
        self.added = 0
        self.read = 0

    @property
    def _store(self) -> EventStorePort:
        return self._dossier.store

    def _may_attach(self, case: CaseFile, principal: Principal) -> bool:
        if self._dossier.may_read_in_clear(case, principal):
            return True
        return principal.role in DESK_ROLES and reach(principal, self._dossier.config).covers(
            case.bureau
        )

    async def add(
        self, ref: str, upload: Upload, principal: Principal, *, correlation_id: UUID
    ) -> dict[str, Any]:
        dossier = self._dossier
        loaded = await dossier.load(ref)
        case = loaded.case
        if not dossier.in_scope(case, principal):
            raise _not_found()
        if not self._may_attach(case, principal):
            raise ForbiddenError(
                "may_not_attach",
                f"「{principal.role.label}」不能为本案添加附件；可添加的是受理单位的登记人员和能查阅"
                "本案个人信息的人员 / your role "
                f"({principal.role}) may not attach files to this case: the receiving bureau's "
                "desk and those who may read the case in the clear may",
            )
        size = len(upload.content)
        if size > self.max_bytes:
            raise too_large(size, self.max_bytes)
        problems: list[tuple[str, str]] = []
        if size == 0:
            problems.append(("file", "文件为空 / the file is empty"))
        media_type = ""
        try:
            media_type = check(upload.kind, upload.declared, upload.content)
        except TypeProblem as exc:
            problems.append((exc.field, exc.message))
        target = self._target(case, loaded.raws, upload, problems)
        if problems:
            raise InvalidCommand(problems)
        assert target is not None
        submission_id, act_version, act_type, subject = target
        digest = sm3_of(upload.content)
        if await self._keys.erased({subject}):
            raise _erased()
        added = AttachmentAdded(
            subject_id=subject,
            case_id=case.case_id,
            case_number=case.case_number,
            attachment_id=uuid4(),
            kind=upload.kind,
            media_type=media_type,
            size=size,
            sm3=digest.hex(),
            submission_id=submission_id,
            act_version=act_version,
            act_type=act_type,
            filename=clean_filename(upload.filename),
            added_by=principal.user,
        )
        metadata = Metadata(actor=principal.user, service=SERVICE, correlation_id=correlation_id)
        stream = attachments_stream(case.case_id)
        for _ in range(_ATTEMPTS):
            try:
                async with self._storage.transaction() as writer:
                    try:
                        key = await writer.key_for_writing(subject)
                    except SubjectErasedError:
                        raise _erased() from None
                    await writer.put_blob(
                        digest, subject, seal(key, upload.content, digest, subject), size
                    )
                    result = await writer.append(
                        stream,
                        [NewEvent(added, bureau=case.bureau)],
                        await writer.stream_version(stream),
                        metadata=metadata,
                    )
            except WrongExpectedVersionError:
                continue  # another file of the same case was attached meanwhile
            log.info(
                "attachment.added",
                case=str(case.case_id),
                attachment=str(added.attachment_id),
                kind=added.kind,
                media_type=media_type,
                size=size,
            )
            self.added += 1
            # Answered as everyone but a reader in the clear sees it: the name masked.
            return self._json(added, result.version) | {
                "stream_id": stream,
                "filename": mask("text", added.filename),
            }
        raise Refused("busy", "案件正被频繁操作，请重试 / the case is busy, try again", 503)

    def _target(
        self,
        case: CaseFile,
        raws: list[Any],
        upload: Upload,
        problems: list[tuple[str, str]],
    ) -> tuple[UUID | None, int | None, str | None, UUID] | None:
        """(submission, act version, act type, whose key) the file is attached to."""
        if upload.submission_id is not None and upload.act_version is not None:
            problems.append(
                (
                    "submission_id",
                    "附件只能属于一次信访（submission_id）或一项办理行为（act_version）之一 / "
                    "attach to a submission or to an act, not both",
                )
            )
            return None
        first = case.petitioners[0].subject_id
        if upload.act_version is not None:
            raw = next((r for r in raws if r.version == upload.act_version), None)
            if raw is None:
                problems.append(
                    (
                        "act_version",
                        f"本案没有版本为 {upload.act_version} 的记录（现有 1-{case.version}）/ the "
                        f"case has no event of version {upload.act_version} (1-{case.version})",
                    )
                )
                return None
            return None, upload.act_version, str(raw.event_type), first
        submissions = case.submissions
        if upload.submission_id is None:
            chosen = submissions[-1].data if submissions else None
        else:
            chosen = next(
                (s.data for s in submissions if s.submission_id == upload.submission_id), None
            )
            if chosen is None:
                problems.append(
                    (
                        "submission_id",
                        "本案没有这次信访 / the case has no submission with this id",
                    )
                )
                return None
        if chosen is None:
            return None, None, None, first
        assert isinstance(chosen, SubmissionReceived)
        return chosen.submission_id, None, None, chosen.subject_id

    # -- listing and reading -----------------------------------------------------------------

    async def _events(self, case: CaseFile, *, reveal: bool) -> list[Any]:
        raws = await self._store.read_stream_raw(attachments_stream(case.case_id))
        return await self._store.decode_many(raws, reveal=reveal)

    async def list(self, ref: str, principal: Principal) -> dict[str, Any]:
        """The case's attachments, file names masked (no personal data in the clear: no read)."""
        case = (await self._dossier.load(ref)).case
        if not self._dossier.in_scope(case, principal):
            raise _not_found()
        if not self._may_attach(case, principal):
            raise ForbiddenError(
                "may_not_list_attachments",
                f"「{principal.role.label}」不能查看本案附件 / your role ({principal.role}) may "
                "not see this case's attachments",
            )
        events = await self._events(case, reveal=False)
        added = [(e.data, e.version, e.recorded_at) for e in events]
        erased = await self._keys.erased({a.subject_id for a, _, _ in added}) if added else set()
        return {
            "case_id": case.case_id,
            "case_number": case.case_number,
            "max_bytes": self.max_bytes,
            "kinds": [
                {
                    "code": k.code,
                    "name": k.name,
                    "name_en": k.name_en,
                    "media_types": list(k.media_types),
                }
                for k in KINDS.values()
            ],
            "attachments": [
                self._json(a, version)
                | {
                    "added_at": at.astimezone(SHANGHAI),
                    "erased": a.subject_id in erased,
                }
                for a, version, at in added
                if isinstance(a, AttachmentAdded)
            ],
        }

    async def open(
        self,
        ref: str,
        attachment_id: UUID,
        principal: Principal,
        purpose: str,
        *,
        correlation_id: UUID,
    ) -> Download:
        """The file in the clear; the read is recorded first (no record, no file)."""
        dossier = self._dossier
        code = dossier.purpose_code(purpose)
        case = (await dossier.load(ref)).case
        if not dossier.in_scope(case, principal):
            raise _not_found()
        if not dossier.may_read_in_clear(case, principal):
            raise ForbiddenError(
                "may_not_read_personal_data",
                f"「{principal.role.label}」不能查阅本案附件（个人信息）/ your role "
                f"({principal.role}) may not read this case's attachments (personal data)",
            )
        found = next(
            (
                e.data
                for e in await self._events(case, reveal=True)
                if isinstance(e.data, AttachmentAdded) and e.data.attachment_id == attachment_id
            ),
            None,
        )
        if found is None:
            raise Refused(
                "attachment_not_found",
                "本案没有这个附件 / the case has no attachment with this id",
                404,
            )
        subject, digest = found.subject_id, bytes.fromhex(found.sm3)
        key = (await self._keys.for_reading({subject})).get(subject)
        if key is None or await self._keys.erased({subject}):
            raise _erased()
        sealed = await self._storage.blob(digest, subject)
        if sealed is None:
            raise _erased()
        try:
            content = open_sealed(key, sealed, digest, subject)
        except CiphertextMismatchError:
            log.error(
                "attachment.unreadable", case=str(case.case_id), attachment=str(attachment_id)
            )
            raise Refused(
                "attachment_unreadable",
                "附件密文校验失败，请联系管理员 / the stored file does not authenticate: ask an "
                "administrator",
                500,
            ) from None
        if sm3_of(content) != digest:  # the address is the content: belt and braces
            raise Refused("attachment_unreadable", "附件校验失败 / the file fails its digest", 500)
        read = PersonalDataRead(
            case_id=case.case_id,
            case_number=case.case_number,
            reader=principal.user,
            role=str(principal.role),
            reader_bureau=principal.bureau,
            purpose=code,
            fields=(f"attachments.{attachment_id}",),
            subjects=(subject,),
        )
        await dossier.record(case, read, correlation_id)
        log.info("attachment.read", case=str(case.case_id), attachment=str(attachment_id))
        self.read += 1
        return Download(content, found.media_type, found.filename, found.sm3)

    @staticmethod
    def _json(a: AttachmentAdded, version: int) -> dict[str, Any]:
        kind = KINDS.get(a.kind)
        return {
            "attachment_id": a.attachment_id,
            "version": version,
            "kind": a.kind,
            "kind_name": None if kind is None else kind.name,
            "media_type": a.media_type,
            "media_type_name": NAMES.get(a.media_type),
            "size": a.size,
            "sm3": a.sm3,
            "submission_id": a.submission_id,
            "act_version": a.act_version,
            "act_type": a.act_type,
            "filename": a.filename,
            "added_by": a.added_by,
        }


def too_large(size: int | None, limit: int) -> Refused:
    got = "" if size is None else f"（{size} 字节）"
    got_en = "" if size is None else f" ({size} bytes)"
    return Refused(
        "attachment_too_large",
        f"文件过大{got}，单个附件上限 {limit} 字节（{limit / 1048576:.1f} MB），未保存 / the file "
        f"is too large{got_en}: the limit is {limit} bytes per attachment; nothing was stored",
        413,
    )


__all__ = [
    "DESK_ROLES",
    "Attachments",
    "Download",
    "Upload",
    "attachments_stream",
    "too_large",
]
