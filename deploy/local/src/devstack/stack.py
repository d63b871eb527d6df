"""The running local stack: its servers and processes, the data folder's lock, starting
PostgreSQL and NATS (one node or a cluster), supervising until a signal, and shutting down."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from petitions.messaging.provision import provision
from petitions.messaging.security import ADMIN, USERS, generate_passwords

from devstack.processes import (
    ClusterWatch,
    GaveUp,
    ServiceProcess,
    Supervisor,
)
from devstack.servers import (
    NatsCluster,
    NatsServer,
    PostgresServer,
    ServerError,
    start_nats,
    start_nats_cluster,
    start_postgres,
)
from devstack.stack_settings import tell


@dataclass
class Stack:
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
def data_dir_lock(data: Path) -> Iterator[None]:
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


def start_servers(
    stack: Stack, data: Path, pg_port: int | None, nats_port: int | None
) -> tuple[PostgresServer, NatsServer | NatsCluster]:
    tell(f"启动 PostgreSQL starting PostgreSQL (data {data / 'postgres'}) ...")
    postgres = stack.postgres = start_postgres(data / "postgres", pg_port)
    tell(f"PostgreSQL 已就绪 ready at {postgres.url}")
    # Fresh passwords at every start: the server config is rendered anew each time, and the
    # services get theirs from us, so nothing needs to keep them.
    size = _cluster_size()
    nats: NatsServer | NatsCluster
    if size == 1:
        tell(f"启动 NATS starting NATS JetStream (store {data / 'nats'}) ...")
        nats = stack.nats = start_nats(data / "nats", nats_port, passwords=generate_passwords())
    else:
        folder = data / f"nats-cluster-{size}"
        tell(f"启动 NATS 集群 starting a {size}-node NATS JetStream cluster (store {folder}) ...")
        ports = None if nats_port is None else [nats_port + i for i in range(size)]
        nats = stack.nats = start_nats_cluster(folder, size, ports, passwords=generate_passwords())
        stack.nats_nodes = cluster_watch(nats)
    # Every message on up to three nodes: a cluster then loses nothing with one node gone.
    asyncio.run(provision(nats.access(ADMIN), replicas=min(size, 3)))
    tell(f"NATS JetStream 已就绪 ready at {nats.url} (identities: {', '.join(USERS)})")
    return postgres, nats


def while_supervised(stack: Stack, work: Callable[[], None]) -> str | None:
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


def watch(stack: Stack) -> int:
    """Block until a signal (raised as Signalled) or until a child dies (returns 1)."""
    while True:
        time.sleep(0.5)
        problem = stack.first_dead()
        if problem is not None:
            tell(problem)
            return 1


def shutdown(stack: Stack) -> None:
    # A second Ctrl-C must not cut the orderly shutdown short (it is bounded: 10 s + 10 s + 15 s).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if stack.services or stack.nats or stack.postgres:
        tell("正在停止 stopping ...")
        stack.stop()
        tell("已全部停止 everything stopped")
