"""The deployment's migration step, run as the tables' owner before the services start:

    python -m petitions.migrate

Applies the event store's migrations and every installed service's own (``<service>.main.migrate``:
intake, assignment, reporting with its read models' database), and, given a password, makes the
services' login: ``petitions_service``, a member of ``petitions_app`` and nothing more (no
superuser, no CREATEDB or CREATEROLE, no replication, no BYPASSRLS, owning no table). The
services then log in as it with ``PETITIONS_MIGRATE_ON_START=false``: they may append and read
events but cannot switch the append-only trigger off, change or delete an event, nor become
anyone else, and at start-up they only check that this step has run.

Settings (environment): ``PETITIONS_DATABASE_URL`` and ``PETITIONS_REPORTING_DATABASE_URL`` as
the owner; ``PETITIONS_DB_ROLE`` (``petitions_app``); ``PETITIONS_SERVICE_DB_USER``
(``petitions_service``) and ``PETITIONS_SERVICE_DB_PASSWORD`` (unset: the login is left alone).
Exit codes: 0 done, 1 a step failed (the message says which).
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from pydantic import Field, SecretStr

from petitions.eventstore import apply_migrations
from petitions.settings import CommonSettings

SERVICES = ("intake", "assignment", "reporting")
"""Whose migrations run, in this order, when installed (an image may hold some of them only)."""
SERVICE_LOGIN = "petitions_service"


class MigrateSettings(CommonSettings):
    reporting_database_url: str | None = Field(
        default=None, description="The read models' database as its owner (default: the same)."
    )
    service_db_user: str = Field(
        default=SERVICE_LOGIN, description="The login the services use (made or updated here)."
    )
    service_db_password: SecretStr | None = Field(
        default=None,
        description="Its password; unset: the login is neither made nor changed.",
    )


class MigrateError(RuntimeError):
    """A step of the migration failed; the message says which and what to do."""


@dataclass(frozen=True)
class Migrated:
    applied: list[str]
    services: list[str]
    """The services whose migrations were found installed and applied."""
    login: str | None
    """The services' login made or updated, if a password was given."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def ensure_service_login(dsn: str, login: str, password: str, *, role: str) -> None:
    """Make ``login`` (or bring an existing one back to) a member of ``role`` with no other
    right, with ``password``. ``role`` itself is made (NOLOGIN) when missing, as the event
    store's migration 0002 does, so this may run before the migrations on any server."""
    if not password:
        raise MigrateError(
            "服务登录密码为空 PETITIONS_SERVICE_DB_PASSWORD is empty: set a password for "
            f"{login} (or leave it unset to keep the login as it is)"
        )
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", password):
        raise MigrateError(
            "服务登录密码含特殊字符 PETITIONS_SERVICE_DB_PASSWORD may hold letters, digits and "
            "- _ . ~ only: it is written into the services' database URL "
            "(e.g. `openssl rand -hex 24`)"
        )
    conn = await asyncpg.connect(dsn)
    try:
        if login == await conn.fetchval("SELECT current_user"):
            raise MigrateError(
                f"服务登录不能是属主 the services' login {login!r} is the user running the "
                "migrations (the tables' owner); choose another PETITIONS_SERVICE_DB_USER"
            )
        # Roles are per server: another database's migration may be making them right now.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7031952842)")
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await conn.execute(f"CREATE ROLE {_ident(role)} NOLOGIN")
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", login)
            attributes = (
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT "
                f"PASSWORD {_literal(password)}"
            )
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(f"{verb} ROLE {_ident(login)} {attributes}")
            await conn.execute(f"GRANT {_ident(role)} TO {_ident(login)}")
    finally:
        await conn.close()


async def migrate_all(
    database_url: str,
    *,
    reporting_database_url: str | None = None,
    role: str = "petitions_app",
    login: str | None = None,
    password: str | None = None,
    services: Sequence[str] = SERVICES,
) -> Migrated:
    """Everything the services would have migrated at start-up, as the owner (the URLs'
    user); with ``login`` and ``password``, the services' login on both databases first."""
    made: str | None = None
    if login is not None and password is not None:
        for dsn in dict.fromkeys([database_url, reporting_database_url or database_url]):
            await ensure_service_login(dsn, login, password, role=role)
        made = login
    applied = await apply_migrations(database_url)
    found: list[str] = []
    for name in services:
        try:
            module = importlib.import_module(f"{name}.main")
        except ModuleNotFoundError as exc:
            if exc.name is not None and (exc.name == name or exc.name.startswith(f"{name}.")):
                continue  # not installed in this image
            raise
        applied += await module.migrate(
            database_url, role=role, reporting_database_url=reporting_database_url
        )
        found.append(name)
    return Migrated(applied, found, made)


def main(argv: list[str] | None = None) -> int:
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    settings = MigrateSettings()
    password = settings.service_db_password
    try:
        result = asyncio.run(
            migrate_all(
                settings.database_url,
                reporting_database_url=settings.reporting_database_url,
                role=settings.db_role or "petitions_app",
                login=settings.service_db_user if password is not None else None,
                password=password.get_secret_value() if password is not None else None,
            )
        )
    except (MigrateError, OSError, asyncpg.PostgresError) as exc:
        print(f"迁移失败 migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"已迁移 migrated ({', '.join(result.services) or 'event store only'}): "
        f"{', '.join(result.applied) or 'already up to date'}"
        + (f"; services log in as {result.login}" if result.login else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
