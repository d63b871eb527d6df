"""Structured logging for every service (structlog).

JSON lines in production, a readable console on a terminal; times in Asia/Shanghai with the
offset stated (:data:`LOG_TIME_ZONE`). Correlation and case ids are bound
per request or message through :func:`bind_context`. Personal data never reaches a log: the
:func:`mask_personal_data` processor rewrites resident ID numbers and mobile phone numbers wherever
they appear in an event, including inside nested values and exception text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from petitions.identifiers import credit_code_check

# 18-digit resident ID (GB 11643: 17 digits + digit or X) and the old 15-digit form. The
# look-arounds keep us from cutting through longer digit runs such as event positions.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_RESIDENT_ID_15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86 and separators; landlines with an area code.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-(\d{7,8})(?!\d)")
# The other identity documents a petitioner may give (petitions.identifiers), where their shape
# is distinctive enough not to hide ordinary numbers: Hong Kong/Macau permits (H or M and 8 or 10
# digits), ordinary Chinese passports (E or G and 8 digits, or E, a letter and 7 digits), the older
# permanent residence card (3 letters, 12 digits), and unified social credit codes (checked by
# their check character, so that other 18-character tokens stay). Taiwan permits (8 digits) look
# like dates and counts: the masked event fields keep those out of logs instead.
_PERMIT = re.compile(r"(?<![0-9A-Za-z])([HM]\d)(\d{5,7})(\d{2})(?![0-9A-Za-z])")
_PASSPORT = re.compile(r"(?<![0-9A-Za-z])([EG]\d|E[A-HJ-NP-Z])(\d{5})(\d{2})(?![0-9A-Za-z])")
_OLD_RESIDENCE = re.compile(r"(?<![0-9A-Za-z])([A-Z]{3})(\d{9})(\d{3})(?![0-9A-Za-z])")
_CREDIT_CODE = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-HJ-NPQRTUWXY]{4})([0-9A-HJ-NPQRTUWXY]{10})([0-9A-HJ-NPQRTUWXY]{4})"
    r"(?![0-9A-Za-z])"
)


def _credit_code(match: re.Match[str]) -> str:
    code = match[0]
    if any(ch.isalpha() for ch in code) and credit_code_check(code[:17]) == code[17]:
        return f"{match[1]}****{match[3]}"
    return code


# PostgreSQL quotes the values of a refused row or key in an error's DETAIL (asyncpg puts it in
# the exception's text): a dead letter's payload, a name, a note. Withheld whatever they hold, up
# to the HINT that may follow, the next exception of a traceback's chain, or the end: a value
# may span lines (free text), so the end of the line is not the end of the values.
_DETAIL_END = r"(?=\nHINT:  |\n\nThe above exception|\n\nDuring handling of the above|\Z)"
_PG_ROW = re.compile(r"(Failing row contains ).*?" + _DETAIL_END, re.DOTALL)
_PG_KEY = re.compile(r"(Key \([^)\n]*\)=).*?" + _DETAIL_END, re.DOTALL)
WITHHELD = "〔值已略去 values withheld〕"


def mask_text(text: str) -> str:
    """Mask resident ID and phone numbers in free text, keeping enough to tell them apart, and
    withhold the row values PostgreSQL quotes in its errors."""
    text = _PG_ROW.sub(lambda m: m[1] + WITHHELD, text)
    text = _PG_KEY.sub(lambda m: m[1] + WITHHELD, text)
    text = _RESIDENT_ID.sub(lambda m: f"{m[1]}********{m[3]}", text)
    text = _RESIDENT_ID_15.sub(lambda m: f"{m[1]}******{m[3]}", text)
    text = _CREDIT_CODE.sub(_credit_code, text)
    text = _PERMIT.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _PASSPORT.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _OLD_RESIDENCE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}-****{m[2][-4:]}", text)


def describe_error(exc: BaseException) -> str:
    """An error as a log line may show it. A PostgreSQL error by its class and SQLSTATE only:
    its text carries DETAIL, where PostgreSQL quotes the refused row's values (a dead letter's
    payload, free text over several lines that no pattern can be sure to cut out)."""
    sqlstate = getattr(exc, "sqlstate", None)  # asyncpg's PostgresError, without importing it
    if isinstance(sqlstate, str):
        return f"{type(exc).__name__} (SQLSTATE {sqlstate})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 11:
        # A phone number or ID passed as an int still identifies a person.
        masked = mask_text(str(value))
        return masked if masked != str(value) else value
    return value


def mask_personal_data(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask personal identifiers in every value of the event."""
    return {key: _mask_value(value) for key, value in event_dict.items()}


LOG_TIME_ZONE = ZoneInfo("Asia/Shanghai")
"""Log times are Beijing time with the offset written out (``2026-12-06T15:43:26.123+08:00``):
the zone every other time shown to people here is in (case files, reports, deadlines), and with
the offset stated no reader mistakes it for UTC or a server's local time."""


def timestamper(now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Processor:
    """structlog processor: ``timestamp`` in ISO 8601, Asia/Shanghai, milliseconds, offset.
    ``now``: the instant (tests name theirs)."""

    def stamp(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        moment = now().astimezone(LOG_TIME_ZONE)
        event_dict["timestamp"] = moment.isoformat(timespec="milliseconds")
        return event_dict

    return stamp


class _OneLineErrors(logging.Filter):
    """A library's error record as one line: its exception by class and message (or SQLSTATE),
    no traceback. nats-py logs an unexpected failure of its read loop with the whole traceback;
    the connection callbacks (petitions.messaging.brokers) already say what the connection did."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {describe_error(record.exc_info[1])}"
            record.args = ()
            record.exc_info = None
        return True


QUIET_LIBRARY_LOGGERS = ("nats.aio.client",)


def configure_logging(
    *, service: str, fmt: Literal["auto", "json", "console"] = "auto", level: str = "INFO"
) -> None:
    """Configure structlog and the standard library so every line goes through the masker."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        # Last before rendering, so exception text and bound context are masked too.
        mask_personal_data,
    ]
    renderer: Processor = (
        structlog.dev.ConsoleRenderer()
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[*shared[:-3], structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared[:-3],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *shared[-3:],
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if not any(isinstance(f, _OneLineErrors) for f in library.filters):
            library.addFilter(_OneLineErrors())
    structlog.contextvars.bind_contextvars(service=service)


def bind_context(**values: Any) -> None:
    """Bind correlation id, case id, ... to every log line of the current task."""
    structlog.contextvars.bind_contextvars(**values)


def clear_context(keep: MutableMapping[str, Any] | None = None) -> None:
    """Forget per-request context (the service name is kept)."""
    service = structlog.contextvars.get_contextvars().get("service")
    structlog.contextvars.clear_contextvars()
    if service is not None:
        structlog.contextvars.bind_contextvars(service=service)
    if keep:
        structlog.contextvars.bind_contextvars(**keep)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; typed Any because structlog's bound loggers are dynamically typed."""
    return structlog.get_logger(name)
