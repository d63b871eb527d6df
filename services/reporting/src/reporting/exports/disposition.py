"""Content-Disposition for downloads whose names are Chinese (RFC 6266 with RFC 5987)."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str, ascii_fallback: str) -> str:
    """``filename*`` carries the real (UTF-8) name; ``filename`` an ASCII one for old clients."""
    fallback = _UNSAFE_ASCII.sub("_", ascii_fallback).strip("_") or "report"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def inline(filename: str, ascii_fallback: str) -> str:
    return "inline" + attachment(filename, ascii_fallback).removeprefix("attachment")
