"""`devstack up` (the whole system on one machine) and `devstack servers` (for scripts).

The command line and the order of start-up; the parts live by role: stack_settings.py (ports,
paths), stack.py (servers, lock, supervision, shutdown), prepare.py (database, identities,
keys, demo data) and launch.py (services, workbench, health, summary)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

from devstack.launch import log_folder, print_summary, start_service, start_workbench, wait_healthy
from devstack.prepare import (
    bureau_config,
    development_identity,
    development_keys,
    load_demo,
    nats_identity,
    prepare_database,
    write_text,
)
from devstack.servers import (
    NatsCluster,
    ServerError,
    ensure_database,
    set_parent_death_signal,
)
from devstack.stack import (
    Stack,
    cluster_watch,
    data_dir_lock,
    shutdown,
    start_servers,
    watch,
    while_supervised,
)
from devstack.stack_settings import (
    DATABASE,
    DEMO_BUREAU_CONFIG,
    SERVICES,
    WORKBENCH_PORT,
    Signalled,
    raise_on_signal,
    service_port,
    tell,
)


def _up(data: Path, no_services: bool, *, demo: bool = True) -> int:
    stack = Stack()
    database_url = os.environ.get("PETITIONS_DATABASE_URL")
    nats_url = os.environ.get("PETITIONS_NATS_URL")
    external = bool(database_url and nats_url)
    running_env = data / "env"
    with data_dir_lock(data):
        try:
            if database_url and nats_url:
                tell("使用已有服务器 using existing servers from PETITIONS_DATABASE_URL/_NATS_URL")
            else:
                pg_port = int(os.environ.get("PETITIONS_PG_PORT", "54329"))
                nats_port = int(os.environ.get("PETITIONS_NATS_PORT", "42229"))
                postgres, nats = start_servers(stack, data, pg_port, nats_port)
                database_url, nats_url = postgres.url_for(DATABASE), nats.url
                # For the operator commands run from the project folder (petitions.operator):
                # they find these servers without anyone exporting their URLs.
                _write_env_file(
                    running_env,
                    {"PETITIONS_DATABASE_URL": database_url, "PETITIONS_NATS_URL": nats_url},
                )
            service_database = asyncio.run(prepare_database(database_url))
            if no_services and external:
                tell("没有需要运行的进程 nothing to run (--no-services with existing servers)")
                return 0
            issuer_key = None
            if not no_services:
                identity, issuer_key = development_identity(data)
                env = development_keys(data) | identity | bureau_config() | service_database
                if demo and "PETITIONS_PRACTICES_SINCE" not in os.environ:
                    from devstack.demo import practices_env  # the demo's start of the practices

                    env |= practices_env(data)
                for name in SERVICES:
                    port = service_port(name)
                    tell(f"启动服务 starting {name} on port {port} ...")
                    identity_env = env | nats_identity(stack.nats, name)
                    stack.services.append(
                        start_service(
                            name, port, database_url, nats_url, identity_env, log_folder(data)
                        )
                    )
                port = int(os.environ.get("PETITIONS_WORKBENCH_PORT", WORKBENCH_PORT))
                tell(f"启动工作台 starting the workbench on port {port} ...")
                stack.services.append(
                    # Only the bureau configuration: the gateway holds no personal-data keys.
                    start_workbench(
                        port, list(stack.services), issuer_key, bureau_config(), log_folder(data)
                    )
                )
                wait_healthy(stack.services)
                for service in stack.services:
                    stack.supervisor.watch(service)
                if demo and issuer_key is not None:
                    # A service that dies meanwhile is restarted meanwhile (the demo client
                    # retries what a restart interrupts); one that keeps dying ends the stack.
                    problem = while_supervised(
                        stack, lambda: asyncio.run(load_demo(database_url, issuer_key))
                    )
                    if problem is not None:
                        tell(problem)
                        return 1
            server_logs = [("PostgreSQL", stack.postgres.log_path)] if stack.postgres else []
            if isinstance(stack.nats, NatsCluster):
                server_logs += [
                    (f"NATS {node.cluster.name if node.cluster else ''}", node.log_path)
                    for node in stack.nats.nodes
                ]
            elif stack.nats is not None:
                server_logs.append(("NATS", stack.nats.log_path))
            print_summary(
                database_url,
                nats_url,
                stack.services,
                None if external else data,
                issuer_key,
                server_logs,
            )
            return watch(stack)
        except Signalled:
            return 0
        except ServerError as exc:
            tell(f"错误 error: {exc}")
            return 1
        finally:
            # Gone with the servers: a command must not find URLs nothing listens on.
            running_env.unlink(missing_ok=True)
            shutdown(stack)


def _write_env_file(path: Path, values: dict[str, str]) -> None:
    write_text(path, "".join(f"{key}={value}\n" for key, value in values.items()))


def _servers(data: Path, env_file: Path) -> int:
    stack = Stack()
    # The file exists exactly while the servers are up, so scripts can wait for it.
    env_file.unlink(missing_ok=True)
    with data_dir_lock(data):
        try:
            postgres, nats = start_servers(stack, data, None, None)
            asyncio.run(ensure_database(postgres.url, DATABASE))
            values = {
                "PETITIONS_DATABASE_URL": postgres.url_for(DATABASE),
                "PETITIONS_NATS_URL": nats.url,
            }
            _write_env_file(env_file, values)
            tell(f"已写入 wrote {env_file}; 按 Ctrl-C 停止 Ctrl-C or SIGTERM stops the servers")
            return watch(stack)
        except Signalled:
            return 0
        except ServerError as exc:
            tell(f"错误 error: {exc}")
            return 1
        finally:
            env_file.unlink(missing_ok=True)
            shutdown(stack)


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
                raise Signalled(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGINT, raise_on_signal)
    signal.signal(signal.SIGTERM, raise_on_signal)
    data: Path = args.data.resolve()
    try:
        _follow_uv()
        if args.command == "up":
            demo = not args.no_demo and os.environ.get("PETITIONS_DEMO", "1") != "0"
            return _up(data, args.no_services, demo=demo)
        return _servers(data, args.env_file.resolve())
    except Signalled:  # a signal before the stack existed
        return 0
    except ServerError as exc:  # e.g. the data folder is locked
        tell(f"错误 error: {exc}")
        return 1


# Re-exported: openapi.py and the tests import these from here.
__all__ = ["DEMO_BUREAU_CONFIG", "SERVICES", "cluster_watch", "main"]
