"""What the services need before they start: the database with its logins and migrations, NATS
identities, development signing keys and identity, the bureau configuration, the demo data."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg
from petitions.messaging.security import RELAY
from petitions.messaging.security import SERVICES as SERVICE_IDENTITIES
from petitions.migrate import SERVICE_LOGIN, migrate_all

from devstack.processes import (
    StageBars,
)
from devstack.servers import (
    NatsCluster,
    NatsServer,
    ServerError,
    ensure_database,
)
from devstack.stack_settings import (
    DATABASE,
    DEMO_BUREAU_CONFIG,
    IDENTITY_VARIABLES,
    service_port,
    tell,
)


def nats_identity(nats: NatsServer | NatsCluster | None, service: str) -> dict[str, str]:
    """A service's NATS identity (its own user, and the relay's, which every service process
    may run), as environment variables; none with existing servers (the environment's own)."""
    if nats is None or nats.passwords is None:
        return {}
    return {
        "PETITIONS_NATS_USER": SERVICE_IDENTITIES[service].user,
        "PETITIONS_NATS_PASSWORD": nats.passwords[SERVICE_IDENTITIES[service].user],
        "PETITIONS_NATS_RELAY_USER": RELAY,
        "PETITIONS_NATS_RELAY_PASSWORD": nats.passwords[RELAY],
    }


def _maintenance_url(database_url: str) -> tuple[str, str]:
    """(URL of the same server's `postgres` database, name of the database in the URL)."""
    parts = urlsplit(database_url)
    name = unquote(parts.path.lstrip("/")) or DATABASE
    return urlunsplit(parts._replace(path="/postgres")), name


def _as_login(database_url: str, user: str, password: str) -> str:
    """``database_url`` with another user and password in it."""
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(
        parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}")
    )


async def prepare_database(database_url: str) -> dict[str, str]:
    """Create the database, apply every migration as its owner (``database_url``'s user) and
    make the services' login (petitions.migrate) with a fresh password; returns the services'
    database environment: that login, and no migrating at their start. The owner's URL stays
    with devstack and the operator commands (``.devstack/data/env``)."""
    maintenance, name = _maintenance_url(database_url)
    try:
        if await ensure_database(maintenance, name):
            tell(f"已创建数据库 created database {name!r}")
    except Exception as exc:  # e.g. no CREATEDB right on a shared server: migrations will tell
        tell(f"警告 warning: could not check/create database {name!r}: {exc}")
    # Fresh at every start, like the NATS passwords: only the services started now hold it.
    password = secrets.token_urlsafe(24)
    login: str | None = SERVICE_LOGIN
    try:
        result = await migrate_all(database_url, login=login, password=password)
    except asyncpg.InsufficientPrivilegeError as exc:
        # Existing servers where this user may not make roles: the services keep its URL.
        tell(
            f"警告 warning: 无法创建服务登录 could not make the services' login {login} ({exc}); "
            "the services log in as the given user"
        )
        login = None
        result = await migrate_all(database_url)
    except Exception as exc:
        raise ServerError(
            f"应用数据库结构失败 applying the schema failed: {type(exc).__name__}: {exc}"
        ) from exc
    if result.applied:
        tell(f"已应用迁移 applied migrations: {', '.join(result.applied)}")
    else:
        tell("数据库结构已是最新 schema is up to date")
    if login is None:
        return {}
    tell(f"服务以 {login} 登录数据库 the services log in as {login} (petitions_app's rights only)")
    return {
        "PETITIONS_DATABASE_URL": _as_login(database_url, login, password),
        "PETITIONS_MIGRATE_ON_START": "false",
    }


def development_keys(data: Path) -> dict[str, str]:
    """Keys for personal data under `make up`: made once, kept beside the data they protect.

    A real deployment sets PETITIONS_KEK (or a KMS) and PETITIONS_BLIND_INDEX_KEY itself; when
    they are in the environment they are used as they are.
    """
    if os.environ.get("PETITIONS_KEK") and os.environ.get("PETITIONS_BLIND_INDEX_KEY"):
        return {}
    from petitions.personal import generate_key

    path = data / "keys.env"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        text = (
            "# 开发用密钥 development keys for personal data; never use them in production\n"
            f"PETITIONS_KEK={generate_key(16)}\n"
            f"PETITIONS_BLIND_INDEX_KEY={generate_key(32)}\n"
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        tell(f"已生成开发密钥 generated development keys in {path}")
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def development_identity(data: Path) -> tuple[dict[str, str], Path | None]:
    """(environment, issuer key) for bearer tokens under `make up`: the development issuer's key
    is made once in the data folder, its public JWKS rewritten on every start (it is derived).

    A deployment names its identity platform (PETITIONS_OIDC_ISSUER and PETITIONS_JWKS_URL); when
    any identity variable is set, the environment is left as it is and no key is made.
    """
    if any(os.environ.get(name) for name in IDENTITY_VARIABLES):
        return {}, None
    from petitions.identity import DEV_ISSUER, LocalIssuer

    key_path = data / "issuer-key.pem"
    jwks_path = data / "issuer-jwks.json"
    created = not key_path.exists()
    try:
        issuer = LocalIssuer(key_path, create=True)
        write_text(jwks_path, json.dumps(issuer.jwks(), indent=2) + "\n")
    except (OSError, ValueError) as exc:
        raise ServerError(f"开发令牌签发方不可用 development issuer unusable: {exc}") from exc
    if created:
        tell(f"已生成开发签发密钥 generated the development issuer key {key_path}")
    return {"PETITIONS_OIDC_ISSUER": DEV_ISSUER, "PETITIONS_JWKS_FILE": str(jwks_path)}, key_path


def bureau_config() -> dict[str, str]:
    if os.environ.get("PETITIONS_BUREAU_CONFIG"):
        return {}
    if not DEMO_BUREAU_CONFIG.is_file():
        tell(f"警告 warning: 找不到 not found: {DEMO_BUREAU_CONFIG}; set PETITIONS_BUREAU_CONFIG")
        return {}
    return {"PETITIONS_BUREAU_CONFIG": str(DEMO_BUREAU_CONFIG)}


async def load_demo(database_url: str, issuer_key: Path) -> None:
    """Two years of demo history on an empty store, through the services' own APIs."""
    import asyncpg
    from petitions.bureaus import load_config
    from petitions.identity import LocalIssuer

    from devstack.demo import Demo

    conn = await asyncpg.connect(database_url)
    try:
        empty = not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM eventstore.events)")
    finally:
        await conn.close()
    if not empty:
        return
    tell("空库：载入两年演示数据 empty store: loading demo history (PETITIONS_DEMO=0 skips)")
    issuer = LocalIssuer(issuer_key)
    bars = StageBars()
    config = load_config(os.environ.get("PETITIONS_BUREAU_CONFIG") or DEMO_BUREAU_CONFIG)
    demo = Demo(
        f"http://127.0.0.1:{service_port('intake')}",
        f"http://127.0.0.1:{service_port('assignment')}",
        lambda user, role, bureau: issuer.mint(user, role, bureau),
        [s.code for s in config.sub_bureaus],
        say=tell,
        progress=bars.update,
    )
    try:
        await demo.run()
    except Exception as exc:  # the stack is still useful without the demo; say what happened
        bars.close()
        tell(f"演示数据未能载入 demo not loaded: {type(exc).__name__}: {exc}")
    finally:
        bars.close()


def write_text(path: Path, text: str) -> None:
    # Write then rename: a script polling for the file never reads half of it.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)
