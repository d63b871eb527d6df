"""What an attachment is, judged by its content (magic bytes), never by its name.

The sniffing is the ``filetype`` package's (pure Python, no libmagic): it reads the first bytes
and, for Office files, the names inside the ZIP. A file is taken only when the type found is one
the kind allows and the type the uploader declared is the same (aliases such as ``image/jpg`` or
``audio/x-wav`` count as the standard name). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import filetype  # type: ignore[import-untyped]

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
TIFF: Final = "image/tiff"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MP3: Final = "audio/mpeg"
WAV: Final = "audio/wav"
AMR: Final = "audio/amr"
M4A: Final = "audio/mp4"

NAMES: Final[dict[str, str]] = {
    PDF: "PDF",
    JPEG: "JPEG 图片",
    PNG: "PNG 图片",
    TIFF: "TIFF 扫描图像",
    DOCX: "Word 文档（DOCX）",
    MP3: "MP3 录音",
    WAV: "WAV 录音",
    AMR: "AMR 录音（手机）",
    M4A: "M4A 录音",
}

# Other spellings browsers and scanners send for the same types.
_ALIASES: Final[dict[str, str]] = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/tif": TIFF,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/mp3": MP3,
    "audio/x-mp3": MP3,
    "audio/x-m4a": M4A,
    "audio/m4a": M4A,
    "audio/x-amr": AMR,
}


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    name_en: str
    media_types: tuple[str, ...]


KINDS: Final[dict[str, Kind]] = {
    k.code: k
    for k in (
        Kind("scan", "信件扫描件", "scanned letter", (PDF, JPEG, PNG, TIFF)),
        Kind("photo", "照片", "photo", (JPEG, PNG, TIFF)),
        Kind("audio", "录音", "recording", (MP3, WAV, AMR, M4A)),
        Kind("document", "文书材料", "document", (PDF, DOCX, JPEG, PNG, TIFF)),
    )
}


def normalise(media_type: str) -> str:
    """``image/JPG; name=x`` -> ``image/jpeg``."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def sniff(content: bytes) -> str | None:
    """The media type the content is, as one of ours, or None when it is none we know."""
    guess = filetype.guess(content)
    if guess is None:
        return None
    found = normalise(str(guess.mime))
    return found if found in NAMES else None


class TypeProblem(ValueError):
    """Why a file is refused: (field, bilingual message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check(kind_code: str, declared: str | None, content: bytes) -> str:
    """The file's media type, found in its content; raises :class:`TypeProblem` when the kind
    is unknown, the content is none the kind allows, or it is not what was declared."""
    kind = KINDS.get(kind_code)
    if kind is None:
        zh = "、".join(f"{k.code} {k.name}" for k in KINDS.values())
        en = ", ".join(f"{k.code} ({k.name_en})" for k in KINDS.values())
        raise TypeProblem("kind", f"附件种类须为以下之一：{zh} / the kind must be one of: {en}")
    allowed = "、".join(NAMES[t] for t in kind.media_types)
    allowed_en = ", ".join(kind.media_types)
    found = sniff(content)
    if found is None or found not in kind.media_types:
        what = "无法识别的格式" if found is None else NAMES[found]
        raise TypeProblem(
            "file",
            f"文件内容为{what}，{kind.name}只接受 {allowed} / the file's content is "
            f"{found or 'of no type we accept'}: a {kind.name_en} must be one of {allowed_en}",
        )
    if declared is not None and normalise(declared) != found:
        raise TypeProblem(
            "media_type",
            f"声明的类型 {declared:.60} 与文件内容（{NAMES[found]}）不符，请核对文件 / "
            f"the declared type {declared:.60} does not match the file's content ({found}): "
            "check the file",
        )
    return found


__all__ = ["KINDS", "NAMES", "Kind", "TypeProblem", "check", "normalise", "sniff"]
