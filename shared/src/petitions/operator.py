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


def main(argv: list[str] | None = None) -> int:
    """``python -m petitions.operator backup DIR | restore DIR`` (see petitions.backup).
    Exit codes: 0 done; 2 bad arguments, an unreachable database, a folder that is not a backup
    or a database that is not empty; 1 the dump or restore itself failed."""
    import argparse
    import sys

    from petitions.backup import BackupError, backup, restore

    parser = argparse.ArgumentParser(
        prog="python -m petitions.operator",
        description="备份与恢复 back up and restore the petitions database (pg_dump/pg_restore). "
        "The database is PETITIONS_DATABASE_URL, or the running devstack's.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("backup", help="备份到 DIR back up into DIR").add_argument(
        "folder", type=Path, metavar="DIR"
    )
    commands.add_parser(
        "restore", help="从 DIR 恢复到空库 restore DIR into an empty database"
    ).add_argument("folder", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    settings, source = operator_settings(CommonSettings)
    url = settings.database_url
    try:
        if args.command == "backup":
            summary = backup(url, args.folder)
            print(f"已备份 backed up {shown_url(url)} into {args.folder}")
        else:
            summary = restore(url, args.folder)
            print(f"已恢复 restored {args.folder} into {shown_url(url)}")
    except BackupError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 1 if "失败 failed" in str(exc) else 2
    except (OSError, asyncpg.PostgresError, *CONNECTION_ERRORS, *_LOGIN_ERRORS) as exc:
        print(failed(("数据库", "the database"), url, source, exc), file=sys.stderr)
        return 2
    for line in summary.lines():
        print(f"  {line}")
    if args.command == "restore":
        print(
            "  下一步 next: start the services with the KEK(s) named above "
            "(PETITIONS_KEK, PETITIONS_KEK_ID) and the same PETITIONS_BLIND_INDEX_KEY; "
            "rebuild reporting if its read models live elsewhere (petitions rebuild)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
