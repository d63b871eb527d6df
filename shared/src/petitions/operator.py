"""What operator commands (``petitions audit``, ``python -m petitions.messaging``) share: the
same settings as the services, the running devstack's servers when started from the project
folder, and one clear line when the database cannot be reached.

``make up`` listens on its own ports (54329 for PostgreSQL), not the defaults: it writes the
URLs it started to ``.devstack/data/env`` while it runs (and removes the file when it stops),
and a command run in the project folder, or below it, reads them when PETITIONS_DATABASE_URL is
not set. The environment always wins, exactly as for the services.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from petitions.db import CONNECTION_ERRORS
from petitions.settings import CommonSettings

DEVSTACK_ENV = Path(".devstack") / "data" / "env"
"""Where ``make up`` writes ``PETITIONS_DATABASE_URL`` and ``PETITIONS_NATS_URL`` while it runs
(relative to the project folder)."""

S = TypeVar("S", bound=CommonSettings)


def devstack_env_file(start: Path | None = None) -> Path | None:
    """The running devstack's URL file, looked for in ``start`` (default: the working folder)
    and the folders above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEVSTACK_ENV
        if candidate.is_file():
            return candidate
    return None


def operator_settings(kind: type[S], **values: Any) -> tuple[S, str]:
    """Settings of ``kind`` for an operator command, and where the database URL came from (for
    messages): the environment, else the running devstack's file, else the default."""
    if os.environ.get("PETITIONS_DATABASE_URL"):
        return kind(**values), "PETITIONS_DATABASE_URL"
    found = devstack_env_file()
    if found is not None:
        return kind(_env_file=found, **values), f"devstack ({found})"
    return kind(**values), "the default (PETITIONS_DATABASE_URL is not set)"


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def unreachable(what: tuple[str, str], url: str, source: str, exc: BaseException) -> str:
    """One line, Chinese and English, saying what (``(中文, English)``) could not be reached,
    where its address came from and what to do."""
    return (
        f"连不上{what[0]} cannot reach {what[1]} at {shown_url(url)} (from {source}): "
        f"{type(exc).__name__}: {exc}. 请确认 make up 正在运行，或把 PETITIONS_DATABASE_URL "
        "设为其地址 / start it (make up, from the project folder) or set PETITIONS_DATABASE_URL "
        "to its URL, e.g. postgresql://user@host:5432/petitions"
    )


def failed(what: tuple[str, str], url: str, source: str, exc: BaseException) -> str:
    """One line for a database failure: ``unreachable`` when the server is away, refuses the
    login or has no such database; otherwise the statement failed on a database that answers
    (most likely not the petitions database, or not migrated yet)."""
    if isinstance(exc, (*CONNECTION_ERRORS, *_LOGIN_ERRORS)):
        return unreachable(what, url, source, exc)
    return (
        f"{what[0]}出错 {what[1]} at {shown_url(url)} (from {source}) refused the query: "
        f"{type(exc).__name__}: {exc}. 请确认这是已迁移的信访事件库（先启动一次服务）/ check that "
        "this is the petitions database and that a service has started on it once (migrations)"
    )


_LOGIN_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,  # no such role, pg_hba refuses
)
