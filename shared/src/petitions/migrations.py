"""Versioned SQL migrations, applied idempotently at start-up.

Each owner (the event store, a service's read models) keeps its migrations as numbered ``.sql``
files in a Python package. Applying them takes a database-wide advisory lock, so replicas starting
together apply each file once; a file changed after it was applied is refused, since the database
would no longer match the code that describes it.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import asyncpg

_LOCK_KEY = 7_031_952_841  # any constant; shared by every owner so migrations never interleave

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS public.petitions_migrations (
    owner       text NOT NULL,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, name)
)
"""


class MigrationChecksumError(RuntimeError):
    """An applied migration file was edited afterwards."""


def _migration_files(package: str) -> list[tuple[str, str]]:
    files = [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(files)


async def apply_package(conn: asyncpg.Connection, owner: str, package: str) -> list[str]:
    """Apply the not-yet-applied ``.sql`` files of ``package``; return the names applied."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_BOOKKEEPING)
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch(
                "SELECT name, checksum FROM public.petitions_migrations WHERE owner = $1", owner
            )
        }
        for name, sql in _migration_files(package):
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise MigrationChecksumError(
                        f"迁移文件已被修改 migration {owner}/{name} changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO public.petitions_migrations (owner, name, checksum) "
                    "VALUES ($1, $2, $3)",
                    owner,
                    name,
                    checksum,
                )
            applied_now.append(f"{owner}/{name}")
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


async def pending(conn: asyncpg.Connection, owner: str, package: str) -> list[str]:
    """The files of ``package`` not applied yet, or changed since (``owner/name``), read without
    writing anything: what a service that does not migrate checks at start-up. Raises
    ``asyncpg.InsufficientPrivilegeError`` where its login may not read the bookkeeping."""
    exists = await conn.fetchval("SELECT to_regclass('public.petitions_migrations') IS NOT NULL")
    done: dict[str, str] = {}
    if exists:
        done = {
            r["name"]: r["checksum"]
            for r in await conn.fetch(
                "SELECT name, checksum FROM public.petitions_migrations WHERE owner = $1", owner
            )
        }
    return [
        f"{owner}/{name}"
        for name, sql in _migration_files(package)
        if done.get(name) != hashlib.sha256(sql.encode()).hexdigest()
    ]
