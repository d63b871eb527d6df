"""`devstack up` (the whole system on one machine) and `devstack servers` (for scripts)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg
from petitions.messaging.provision import provision
from petitions.messaging.security import ADMIN, RELAY, USERS, generate_passwords
from petitions.messaging.security import SERVICES as SERVICE_IDENTITIES
from petitions.migrate import SERVICE_LOGIN, migrate_all

from devstack.processes import (
    ClusterWatch,
    GaveUp,
    ServiceProcess,
    StageBars,
    Supervisor,
    say,
)
from devstack.servers import (
    NatsCluster,
    NatsServer,
    PostgresServer,
    ServerError,
    ensure_database,
    ensure_port_free,
    set_parent_death_signal,
    spawn,
    start_nats,
    start_nats_cluster,
    start_postgres,
)

DATABASE = "petitions"
SERVICES = {"intake": 8001, "assignment": 8002, "reporting": 8003}
# The workbench's one address: the built front end with the three APIs behind it (gateway.py).
WORKBENCH_PORT = 8000
HEALTH_DEADLINE = 60.0
# deploy/local/src/devstack/cli.py -> the repository (the workspace is installed editable).
REPO_ROOT = Path(__file__).resolve().parents[4]
DEMO_BUREAU_CONFIG = REPO_ROOT / "deploy" / "config" / "bureaus.demo.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
IDENTITY_VARIABLES = ("PETITIONS_OIDC_ISSUER", "PETITIONS_JWKS_URL", "PETITIONS_JWKS_FILE")


class _Signalled(KeyboardInterrupt):
    """SIGINT/SIGTERM turned into an exception, so start-up waits anywhere are interrupted too.
    A KeyboardInterrupt so that neither `except Exception` in probes nor asyncio's callback
    error handling swallows it."""


def _raise_on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Signalled(signum)


def _say(message: str) -> None:
    say(f"devstack: {message}")


@dataclass
class _Stack:
    """Everything this devstack process started, stopped in reverse dependency order."""

    services: list[ServiceProcess] = field(default_factory=list)
    nats: NatsServer | NatsCluster | None = None
    postgres: PostgresServer | None = None
    supervisor: Supervisor = field(default_factory=Supervisor)
    nats_nodes: ClusterWatch | None = None
    """With a NATS cluster: its nodes, each restarted when it dies alone."""

    def first_dead(self) -> str | None:
        """Restart a service or a NATS cluster's node that died (see devstack.processes); the
        problem that ends the stack: a service that keeps dying, or PostgreSQL or NATS gone
        (everything needs them; a cluster is gone when most of its nodes are)."""
        try:
            self.supervisor.check()
        except GaveUp as exc:
            return str(exc)
        if self.nats_nodes is not None:
            self.nats_nodes.check()
        for server in (self.nats, self.postgres):
            if server is not None and server.poll() is not None:
                return (
                    f"{type(server).__name__} 意外退出 exited unexpectedly (code {server.poll()}); "
                    f"log {server.log_path}:\n{server.log.tail()}"
                )
        return None

    def stop(self) -> None:
        # Services first (they flush to NATS and PostgreSQL on shutdown), then NATS, then PG.
        for service in self.services:
            service.terminate()
        deadline = time.monotonic() + 10
        for service in self.services:
            service.wait_stopped(deadline)
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()


@contextlib.contextmanager
def _data_dir_lock(data: Path) -> Iterator[None]:
    """Hold an flock on the data folder so a second devstack cannot take over a live one's
    PostgreSQL (start_postgres stops any postmaster on the folder, meant for killed runs).
    The kernel drops the lock when we die, even by SIGKILL."""
    data.mkdir(parents=True, exist_ok=True)
    with (data / ".devstack.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            raise ServerError(
                f"另一个 devstack (pid {owner}) 正在使用 {data} "
                f"another devstack (pid {owner}) is using this data folder; stop it first"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def _cluster_size() -> int:
    try:
        size = int(os.environ.get("PETITIONS_NATS_CLUSTER", "1") or "1")
    except ValueError:
        size = 0
    if size < 1:
        raise ServerError(
            "PETITIONS_NATS_CLUSTER 须为正整数 must be a node count: 1 (one server) or 3"
        )
    return size


def cluster_watch(cluster: NatsCluster, **options: Any) -> ClusterWatch:
    """The watch over a cluster's nodes, by their names (n1, n2 ...)."""
    names = [node.cluster.name if node.cluster else str(i) for i, node in enumerate(cluster.nodes)]
    return ClusterWatch(dict(zip(names, cluster.nodes, strict=True)), **options)


def _start_servers(
    stack: _Stack, data: Path, pg_port: int | None, nats_port: int | None
) -> tuple[PostgresServer, NatsServer | NatsCluster]:
    _say(f"启动 PostgreSQL starting PostgreSQL (data {data / 'postgres'}) ...")
    postgres = stack.postgres = start_postgres(data / "postgres", pg_port)
    _say(f"PostgreSQL 已就绪 ready at {postgres.url}")
    # Fresh passwords at every start: the server config is rendered anew each time, and the
    # services get theirs from us, so nothing needs to keep them.
    size = _cluster_size()
    nats: NatsServer | NatsCluster
    if size == 1:
        _say(f"启动 NATS starting NATS JetStream (store {data / 'nats'}) ...")
        nats = stack.nats = start_nats(data / "nats", nats_port, passwords=generate_passwords())
    else:
        folder = data / f"nats-cluster-{size}"
        _say(f"启动 NATS 集群 starting a {size}-node NATS JetStream cluster (store {folder}) ...")
        ports = None if nats_port is None else [nats_port + i for i in range(size)]
        nats = stack.nats = start_nats_cluster(folder, size, ports, passwords=generate_passwords())
        stack.nats_nodes = cluster_watch(nats)
    # Every message on up to three nodes: a cluster then loses nothing with one node gone.
    asyncio.run(provision(nats.access(ADMIN), replicas=min(size, 3)))
    _say(f"NATS JetStream 已就绪 ready at {nats.url} (identities: {', '.join(USERS)})")
    return postgres, nats


def _nats_identity(nats: NatsServer | NatsCluster | None, service: str) -> dict[str, str]:
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


async def _prepare_database(database_url: str) -> dict[str, str]:
    """Create the database, apply every migration as its owner (``database_url``'s user) and
    make the services' login (petitions.migrate) with a fresh password; returns the services'
    database environment: that login, and no migrating at their start. The owner's URL stays
    with devstack and the operator commands (``.devstack/data/env``)."""
    maintenance, name = _maintenance_url(database_url)
    try:
        if await ensure_database(maintenance, name):
            _say(f"已创建数据库 created database {name!r}")
    except Exception as exc:  # e.g. no CREATEDB right on a shared server: migrations will tell
        _say(f"警告 warning: could not check/create database {name!r}: {exc}")
    # Fresh at every start, like the NATS passwords: only the services started now hold it.
    password = secrets.token_urlsafe(24)
    login: str | None = SERVICE_LOGIN
    try:
        result = await migrate_all(database_url, login=login, password=password)
    except asyncpg.InsufficientPrivilegeError as exc:
        # Existing servers where this user may not make roles: the services keep its URL.
        _say(
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
        _say(f"已应用迁移 applied migrations: {', '.join(result.applied)}")
    else:
        _say("数据库结构已是最新 schema is up to date")
    if login is None:
        return {}
    _say(f"服务以 {login} 登录数据库 the services log in as {login} (petitions_app's rights only)")
    return {
        "PETITIONS_DATABASE_URL": _as_login(database_url, login, password),
        "PETITIONS_MIGRATE_ON_START": "false",
    }


def _service_port(name: str) -> int:
    return int(os.environ.get(f"PETITIONS_{name.upper()}_PORT", SERVICES[name]))


def _development_keys(data: Path) -> dict[str, str]:
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
        _say(f"已生成开发密钥 generated development keys in {path}")
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _development_identity(data: Path) -> tuple[dict[str, str], Path | None]:
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
        _write_text(jwks_path, json.dumps(issuer.jwks(), indent=2) + "\n")
    except (OSError, ValueError) as exc:
        raise ServerError(f"开发令牌签发方不可用 development issuer unusable: {exc}") from exc
    if created:
        _say(f"已生成开发签发密钥 generated the development issuer key {key_path}")
    return {"PETITIONS_OIDC_ISSUER": DEV_ISSUER, "PETITIONS_JWKS_FILE": str(jwks_path)}, key_path


def _bureau_config() -> dict[str, str]:
    if os.environ.get("PETITIONS_BUREAU_CONFIG"):
        return {}
    if not DEMO_BUREAU_CONFIG.is_file():
        _say(f"警告 warning: 找不到 not found: {DEMO_BUREAU_CONFIG}; set PETITIONS_BUREAU_CONFIG")
        return {}
    return {"PETITIONS_BUREAU_CONFIG": str(DEMO_BUREAU_CONFIG)}


def _log_folder(data: Path) -> Path:
    return data / "logs"


def _start_service(
    name: str,
    port: int,
    database_url: str,
    nats_url: str,
    extra_env: dict[str, str],
    logs: Path,
) -> ServiceProcess:
    env = (
        os.environ
        | {"PETITIONS_DATABASE_URL": database_url}
        | extra_env  # the services' own login, when devstack made one
        | {
            "PETITIONS_NATS_URL": nats_url,
            "PETITIONS_HTTP_PORT": str(port),
            "PYTHONUNBUFFERED": "1",  # so its log lines reach the file as they happen
        }
    )
    if sys.stdout.isatty() and "PETITIONS_LOG_FORMAT" not in os.environ:
        # Its stdout is our pipe, so "auto" would pick JSON; the person who follows the log file
        # from a terminal (tail -f) wants text.
        env["PETITIONS_LOG_FORMAT"] = "console"
    return _launched(name, port, [sys.executable, "-m", name], env, logs)


def _launched(
    name: str, port: int, command: list[str], env: dict[str, str], logs: Path
) -> ServiceProcess:
    def start() -> subprocess.Popen[bytes]:
        ensure_port_free(port, name)
        return spawn(
            command,
            death_signal=signal.SIGTERM,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    service = ServiceProcess(name, port, start, logs / f"{name}.log")
    service.launch()
    return service


def _start_workbench(
    port: int,
    services: list[ServiceProcess],
    issuer_key: Path | None,
    extra_env: dict[str, str],
    logs: Path,
) -> ServiceProcess:
    env = (
        os.environ
        | extra_env
        | {f"PETITIONS_{s.name.upper()}_URL": s.url for s in services}
        | {"PYTHONUNBUFFERED": "1"}
    )
    command = [sys.executable, "-m", "devstack.gateway", "--port", str(port)]
    if issuer_key is not None:  # development sign-in only with the development issuer
        command += ["--issuer-key", str(issuer_key)]
    return _launched("workbench", port, command, env, logs)


def _wait_healthy(services: list[ServiceProcess]) -> None:
    deadline = time.monotonic() + HEALTH_DEADLINE
    waiting = list(services)
    while waiting:
        for service in list(waiting):
            code = service.poll()
            if code is not None:
                raise ServerError(
                    f"服务 {service.name} 启动时退出 exited during start-up (code {code}); "
                    f"log {service.log_path}; last output:\n{service.tail_text()}"
                )
            if service.answers("/health"):
                _say(f"{service.name} 已就绪 ready at {service.url}")
                waiting.remove(service)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(s.name for s in waiting)
            raise ServerError(
                f"{names} 未在 {HEALTH_DEADLINE:.0f} 秒内通过健康检查 "
                f"did not answer GET /health with 200 within {HEALTH_DEADLINE:.0f} s"
            )
        time.sleep(0.3)


def _shown(path: Path) -> str:
    """``path`` as the person at the terminal would type it: relative when under the cwd."""
    with contextlib.suppress(ValueError):
        relative = path.relative_to(Path.cwd())
        return str(relative) if relative.parent != Path() else f"./{relative}"
    return str(path)


def _try_it(services: list[ServiceProcess], issuer_key: Path | None) -> list[str]:
    if not services:
        return []
    if issuer_key is None:
        issuer = os.environ.get("PETITIONS_OIDC_ISSUER") or "?"
        return [f" 令牌 tokens: 由 from {issuer} 签发 (PETITIONS_OIDC_ISSUER)"]
    mint = f"{_shown(Path(sys.executable))} -m petitions.identity mint --key {_shown(issuer_key)}"
    urls = {s.name: s.url for s in services}
    intake = urls.get("intake", services[0].url)
    assignment = urls.get("assignment", intake)
    reporting = urls.get("reporting", intake)
    month = (datetime.now(SHANGHAI).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return [
        " 试一试 try it (开发令牌 development tokens, 8 h). Roles: registrar handler",
        "   sub_bureau_head leader petition_office auditor admin importer",
        f"   TOKEN=$({mint} --user office1 --role petition_office --bureau 3301)",
        '   AUTH="Authorization: Bearer $TOKEN"',
        f'   curl -H "$AUTH" "{reporting}/api/v1/reports/figures?bureau=3301&month={month}"',
        f'   curl -H "$AUTH" "{reporting}/api/v1/reports/accompany-roster?month={month}"',
        f'   curl -H "$AUTH" -o ledger.xlsx "{reporting}/api/v1/reports/ledger.xlsx?bureau=3301"',
        f'   curl -H "$AUTH" "{assignment}/api/v1/cases?overdue_on=$(date +%F)"',
        f"   # 登记 register: POST {intake}/api/v1/submissions (see README, 'Try it')",
        "   # 审计 audit:  .venv/bin/petitions audit <案件编号 case number> --verify",
    ]


def _print_summary(
    database_url: str,
    nats_url: str,
    services: list[ServiceProcess],
    data: Path | None,
    issuer_key: Path | None = None,
    server_logs: list[tuple[str, Path]] | None = None,
) -> None:
    rule = "─" * 78
    rows = [("PostgreSQL", database_url), ("NATS", f"{nats_url}  (JetStream)")]
    rows += [
        (s.name, f"{s.url}   API 文档 docs: {s.url}/docs")
        for s in services
        if s.name != "workbench"
    ]
    rows += [
        ("workbench", f"{s.url}/   工作台: 浏览器打开这里 open this in a browser")
        for s in services
        if s.name == "workbench"
    ]
    print(rule)
    print(" 信访台帐 本地环境已就绪  petition ledger local stack is ready")
    print(rule)
    for name, where in rows:
        print(f" {name:<12} {where}")
    if data is not None:
        print(f" {'数据 data':<10} {data}")
    print(rule)
    logs = _log_lines(services, server_logs or [])
    if logs:
        print("\n".join(logs))
        print(rule)
    try_it = _try_it(services, issuer_key)
    if try_it:
        print("\n".join(try_it))
        print(rule)
    print(" 按 Ctrl-C 停止全部  Press Ctrl-C to stop everything.", flush=True)


def _log_lines(services: list[ServiceProcess], server_logs: list[tuple[str, Path]]) -> list[str]:
    """Where each process writes its log, and how to follow them (only warnings and errors are
    shown on this terminal)."""
    files = [(s.name, s.log_path) for s in services] + server_logs
    if not files:
        return []
    lines = [" 日志 logs (此处只显示警告和错误 only warnings and errors are shown here):"]
    lines += [f"   {name:<11} {_shown(path)}" for name, path in files]
    folders = sorted({path.parent for _, path in files if path.suffix == ".log"}, key=str)
    pattern = " ".join(_shown(folder / "*.log") for folder in folders)
    lines.append(f"   跟踪 follow: tail -f {pattern}")
    return lines


def _while_supervised(stack: _Stack, work: Callable[[], None]) -> str | None:
    """Run ``work`` (on this thread: Ctrl-C must reach it) while another thread keeps the stack
    supervised; the problem that should end the stack, if one came up."""
    done = threading.Event()
    problems: list[str] = []

    def supervise() -> None:
        while not done.wait(0.5):
            problem = stack.first_dead()
            if problem is not None:
                problems.append(problem)
                return

    watcher = threading.Thread(target=supervise, name="devstack-supervisor", daemon=True)
    watcher.start()
    try:
        work()
    finally:
        done.set()
        watcher.join()
    return problems[0] if problems else None


def _watch(stack: _Stack) -> int:
    """Block until a signal (raised as _Signalled) or until a child dies (returns 1)."""
    while True:
        time.sleep(0.5)
        problem = stack.first_dead()
        if problem is not None:
            _say(problem)
            return 1


def _up(data: Path, no_services: bool, *, demo: bool = True) -> int:
    stack = _Stack()
    database_url = os.environ.get("PETITIONS_DATABASE_URL")
    nats_url = os.environ.get("PETITIONS_NATS_URL")
    external = bool(database_url and nats_url)
    running_env = data / "env"
    with _data_dir_lock(data):
        try:
            if database_url and nats_url:
                _say("使用已有服务器 using existing servers from PETITIONS_DATABASE_URL/_NATS_URL")
            else:
                pg_port = int(os.environ.get("PETITIONS_PG_PORT", "54329"))
                nats_port = int(os.environ.get("PETITIONS_NATS_PORT", "42229"))
                postgres, nats = _start_servers(stack, data, pg_port, nats_port)
                database_url, nats_url = postgres.url_for(DATABASE), nats.url
                # For the operator commands run from the project folder (petitions.operator):
                # they find these servers without anyone exporting their URLs.
                _write_env_file(
                    running_env,
                    {"PETITIONS_DATABASE_URL": database_url, "PETITIONS_NATS_URL": nats_url},
                )
            service_database = asyncio.run(_prepare_database(database_url))
            if no_services and external:
                _say("没有需要运行的进程 nothing to run (--no-services with existing servers)")
                return 0
            issuer_key = None
            if not no_services:
                identity, issuer_key = _development_identity(data)
                env = _development_keys(data) | identity | _bureau_config() | service_database
                if demo and "PETITIONS_PRACTICES_SINCE" not in os.environ:
                    from devstack.demo import practices_env  # the demo's start of the practices

                    env |= practices_env(data)
                for name in SERVICES:
                    port = _service_port(name)
                    _say(f"启动服务 starting {name} on port {port} ...")
                    identity_env = env | _nats_identity(stack.nats, name)
                    stack.services.append(
                        _start_service(
                            name, port, database_url, nats_url, identity_env, _log_folder(data)
                        )
                    )
                port = int(os.environ.get("PETITIONS_WORKBENCH_PORT", WORKBENCH_PORT))
                _say(f"启动工作台 starting the workbench on port {port} ...")
                stack.services.append(
                    # Only the bureau configuration: the gateway holds no personal-data keys.
                    _start_workbench(
                        port, list(stack.services), issuer_key, _bureau_config(), _log_folder(data)
                    )
                )
                _wait_healthy(stack.services)
                for service in stack.services:
                    stack.supervisor.watch(service)
                if demo and issuer_key is not None:
                    # A service that dies meanwhile is restarted meanwhile (the demo client
                    # retries what a restart interrupts); one that keeps dying ends the stack.
                    problem = _while_supervised(
                        stack, lambda: asyncio.run(_load_demo(database_url, issuer_key))
                    )
                    if problem is not None:
                        _say(problem)
                        return 1
            server_logs = [("PostgreSQL", stack.postgres.log_path)] if stack.postgres else []
            if isinstance(stack.nats, NatsCluster):
                server_logs += [
                    (f"NATS {node.cluster.name if node.cluster else ''}", node.log_path)
                    for node in stack.nats.nodes
                ]
            elif stack.nats is not None:
                server_logs.append(("NATS", stack.nats.log_path))
            _print_summary(
                database_url,
                nats_url,
                stack.services,
                None if external else data,
                issuer_key,
                server_logs,
            )
            return _watch(stack)
        except _Signalled:
            return 0
        except ServerError as exc:
            _say(f"错误 error: {exc}")
            return 1
        finally:
            # Gone with the servers: a command must not find URLs nothing listens on.
            running_env.unlink(missing_ok=True)
            _shutdown(stack)


async def _load_demo(database_url: str, issuer_key: Path) -> None:
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
    _say("空库：载入两年演示数据 empty store: loading demo history (PETITIONS_DEMO=0 skips)")
    issuer = LocalIssuer(issuer_key)
    bars = StageBars()
    config = load_config(os.environ.get("PETITIONS_BUREAU_CONFIG") or DEMO_BUREAU_CONFIG)
    demo = Demo(
        f"http://127.0.0.1:{_service_port('intake')}",
        f"http://127.0.0.1:{_service_port('assignment')}",
        lambda user, role, bureau: issuer.mint(user, role, bureau),
        [s.code for s in config.sub_bureaus],
        say=_say,
        progress=bars.update,
    )
    try:
        await demo.run()
    except Exception as exc:  # the stack is still useful without the demo; say what happened
        bars.close()
        _say(f"演示数据未能载入 demo not loaded: {type(exc).__name__}: {exc}")
    finally:
        bars.close()


def _write_text(path: Path, text: str) -> None:
    # Write then rename: a script polling for the file never reads half of it.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _write_env_file(path: Path, values: dict[str, str]) -> None:
    _write_text(path, "".join(f"{key}={value}\n" for key, value in values.items()))


def _servers(data: Path, env_file: Path) -> int:
    stack = _Stack()
    # The file exists exactly while the servers are up, so scripts can wait for it.
    env_file.unlink(missing_ok=True)
    with _data_dir_lock(data):
        try:
            postgres, nats = _start_servers(stack, data, None, None)
            asyncio.run(ensure_database(postgres.url, DATABASE))
            values = {
                "PETITIONS_DATABASE_URL": postgres.url_for(DATABASE),
                "PETITIONS_NATS_URL": nats.url,
            }
            _write_env_file(env_file, values)
            _say(f"已写入 wrote {env_file}; 按 Ctrl-C 停止 Ctrl-C or SIGTERM stops the servers")
            return _watch(stack)
        except _Signalled:
            return 0
        except ServerError as exc:
            _say(f"错误 error: {exc}")
            return 1
        finally:
            env_file.unlink(missing_ok=True)
            _shutdown(stack)


def _shutdown(stack: _Stack) -> None:
    # A second Ctrl-C must not cut the orderly shutdown short (it is bounded: 10 s + 10 s + 15 s).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if stack.services or stack.nats or stack.postgres:
        _say("正在停止 stopping ...")
        stack.stop()
        _say("已全部停止 everything stopped")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devstack",
        description="本地运行信访台帐 Run the petition ledger locally: PostgreSQL and NATS "
        "from PyPI wheels, plus the services.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        help="启动全部 start PostgreSQL, NATS and the services until Ctrl-C",
        description="Uses PETITIONS_DATABASE_URL and PETITIONS_NATS_URL when both are set; "
        "otherwise starts PostgreSQL on $PETITIONS_PG_PORT (54329) and NATS on "
        "$PETITIONS_NATS_PORT (42229). Service ports: $PETITIONS_INTAKE_PORT (8001), "
        "$PETITIONS_ASSIGNMENT_PORT (8002), $PETITIONS_REPORTING_PORT (8003); the workbench "
        "(工作台, the web front end with the APIs behind it): $PETITIONS_WORKBENCH_PORT (8000). "
        "PETITIONS_NATS_CLUSTER=3: a 3-node JetStream cluster (ports from $PETITIONS_NATS_PORT "
        "on), the stream replicated 3 times.",
    )
    up.add_argument("--data", type=Path, default=Path(".devstack/data"), help="data folder")
    up.add_argument("--no-services", action="store_true", help="only PostgreSQL and NATS")
    up.add_argument(
        "--no-demo",
        action="store_true",
        help="空库时不载入演示数据 do not load the two-year demo history into an empty store "
        "(also PETITIONS_DEMO=0)",
    )
    servers = commands.add_parser(
        "servers",
        help="为脚本启动服务器 start PostgreSQL and NATS on free ports, write their URLs to a file",
    )
    servers.add_argument("--data", type=Path, required=True, help="data folder")
    servers.add_argument(
        "--env-file", type=Path, required=True, help="file to write PETITIONS_*_URL lines to"
    )
    return parser


def _follow_uv() -> None:
    """`uv run` forwards SIGINT/SIGTERM to us, but if uv itself is SIGKILLed we would be left
    running with our servers. uv always waits for its child, so its death means: stop."""
    parent = os.getppid()
    with contextlib.suppress(OSError):
        if Path(f"/proc/{parent}/comm").read_text().strip() == "uv":
            set_parent_death_signal(signal.SIGTERM)
            if os.getppid() != parent:  # uv died before the line above
                raise _Signalled(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGINT, _raise_on_signal)
    signal.signal(signal.SIGTERM, _raise_on_signal)
    data: Path = args.data.resolve()
    try:
        _follow_uv()
        if args.command == "up":
            demo = not args.no_demo and os.environ.get("PETITIONS_DEMO", "1") != "0"
            return _up(data, args.no_services, demo=demo)
        return _servers(data, args.env_file.resolve())
    except _Signalled:  # a signal before the stack existed
        return 0
    except ServerError as exc:  # e.g. the data folder is locked
        _say(f"错误 error: {exc}")
        return 1
