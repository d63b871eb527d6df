"""The processes ``devstack up`` runs (the services and the workbench): their output goes to a log
file each, only warnings and errors reach the terminal, and a process that dies is started again
with a backoff until it keeps dying (then devstack gives up and says why).

Kept apart from cli.py so that tests can run the same supervision on a real service process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Never, Protocol

from tqdm import tqdm

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# structlog's ConsoleRenderer: "<timestamp> [<level>   ] <event> key=value ..."
_CONSOLE = re.compile(r"^\S+ \[(\w+)\s*\] ")
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}
_TERMINAL_LEVEL = 30
_print_lock = threading.Lock()


def say(message: str) -> None:
    """One line for the person at the terminal, printed above a progress bar if one is shown."""
    with _print_lock:
        tqdm.write(message)


def line_level(line: str, previous: int) -> int:
    """The log level of one line of a service's output: JSON (``"level"``) or structlog's console
    form. A line of neither form (a traceback's lines, a crash before logging was set up) has
    the level of the line before it, so an error's traceback follows it to the terminal."""
    text = _ANSI.sub("", line)
    if text.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            level = json.loads(text).get("level")
            if isinstance(level, str):
                return _LEVELS.get(level.lower(), previous)
    found = _CONSOLE.match(text)
    if found:
        return _LEVELS.get(found[1].lower(), previous)
    return previous


class StageBars:
    """A progress bar per stage of a long job (the demo load): ``update(stage, done, total)``;
    a new stage closes the bar before it. ``close()`` at the end."""

    def __init__(self) -> None:
        self._stage: str | None = None
        self._bar: tqdm[Never] | None = None

    def update(self, stage: str, done: int, total: int) -> None:
        with _print_lock:
            bar = self._bar
            if stage != self._stage or bar is None:
                self._close()
                size = shutil.get_terminal_size((100, 24))
                self._stage = stage
                bar = self._bar = tqdm(
                    total=total,
                    desc=f"演示 demo: {stage}",
                    unit="",
                    mininterval=0.5,
                    leave=True,
                    # A terminal that reports no size (some ptys) would get no bar at all.
                    ncols=min(size.columns, 120),
                    nrows=size.lines,
                )
            bar.total = total
            bar.n = done
            if done >= total:
                bar.refresh()  # the last step always shows
            else:
                bar.update(0)  # redraws at most every mininterval

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        with _print_lock:
            self._close()


@dataclass
class ServiceProcess:
    """One child process, its output going to ``log_path``."""

    name: str
    port: int
    start: Callable[[], subprocess.Popen[bytes]]
    log_path: Path
    health_path: str = "/health/live"
    process: subprocess.Popen[bytes] | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=30))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self, title: str = "start") -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S%z")
        log.write(f"\n==== {stamp} devstack: {title} {self.name} ====\n".encode())
        log.flush()
        self.tail.clear()
        self.process = self.start()
        threading.Thread(
            target=self._pump, args=(self.process, log), name=f"{self.name}-output", daemon=True
        ).start()

    def _pump(self, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        """Every line to the log file; warnings and errors also to the terminal."""
        assert process.stdout is not None
        # Output before logging is configured (an import error) is worth seeing: start "loud".
        level = _TERMINAL_LEVEL
        with log:
            for raw in process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace").rstrip()
                self.tail.append(line)
                level = line_level(line, level)
                if level >= _TERMINAL_LEVEL:
                    say(f"[{self.name}] {line}")

    def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else -1

    def answers(self, path: str | None = None) -> bool:
        # http.client, not urllib: urllib honours HTTP_PROXY, and with a proxy set but no
        # NO_PROXY for 127.0.0.1 the probe would go to the proxy.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", path or self.health_path)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def tail_text(self) -> str:
        return "\n".join(f"    | {line}" for line in self.tail) or "    | (no output)"

    def terminate(self) -> None:
        """SIGTERM to its whole process group (it may have started workers of its own)."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

    def wait_stopped(self, deadline: float) -> None:
        """Wait until it ended, SIGKILL at ``deadline`` (time.monotonic())."""
        process = self.process
        if process is None:
            return
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"devstack: {self.name} 未能按时退出，强制结束 did not stop in time, killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        self.terminate()
        self.wait_stopped(time.monotonic() + timeout)


@dataclass
class RestartPolicy:
    """When to start a dead process again: after 1, 2, 4 ... seconds (at most ``max_backoff``);
    after ``max_failures`` deaths within ``window`` seconds it is not started again: it fails
    on start-up, and a loop of restarts would only hide that."""

    max_failures: int = 5
    window: float = 60.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    deaths: deque[float] = field(default_factory=deque)

    def died(self, now: float) -> float | None:
        """Record a death at ``now``; the seconds to wait before the restart, None to give up."""
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - self.window:
            self.deaths.popleft()
        if len(self.deaths) >= self.max_failures:
            return None
        backoff: float = self.initial_backoff * 2 ** (len(self.deaths) - 1)
        return min(backoff, self.max_backoff)


class GaveUp(Exception):
    """A process kept dying; the message says which, how often, and its last output."""


@dataclass
class _Watched:
    service: ServiceProcess
    policy: RestartPolicy
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Restarts the processes it watches when they die. ``check()`` is called in a loop."""

    def __init__(
        self,
        policy: Callable[[], RestartPolicy] = RestartPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._watched: dict[str, _Watched] = {}

    def watch(self, service: ServiceProcess) -> None:
        self._watched[service.name] = _Watched(service, self._policy())

    def restarts(self, name: str) -> int:
        return self._watched[name].restarts

    def check(self) -> None:
        """Notice deaths, start again what is due; raise GaveUp when a process keeps dying."""
        now = self._clock()
        for watched in self._watched.values():
            service = watched.service
            if watched.restart_at is None:
                code = service.poll()
                if code is None:
                    continue
                wait = watched.policy.died(now)
                if wait is None:
                    raise GaveUp(
                        f"服务 {service.name} 反复退出，不再重启 keeps exiting "
                        f"({len(watched.policy.deaths)} times within "
                        f"{watched.policy.window:.0f} s, last code {code}); not restarting it. "
                        f"日志 log: {service.log_path}; last output:\n{service.tail_text()}"
                    )
                say(
                    f"devstack: 服务 {service.name} 意外退出 exited unexpectedly (code {code}); "
                    f"{wait:.0f} 秒后重启 restarting it in {wait:.0f} s (log {service.log_path})"
                )
                watched.restart_at = now + wait
            elif now >= watched.restart_at:
                watched.restart_at = None
                watched.restarts += 1
                try:
                    service.launch("restart")
                except Exception as exc:  # e.g. its port taken meanwhile: counts as a death
                    wait = watched.policy.died(now)
                    if wait is None:
                        raise GaveUp(
                            f"服务 {service.name} 无法重启 could not be restarted: {exc}"
                        ) from exc
                    say(
                        f"devstack: {service.name} 重启失败 restart failed ({exc}); "
                        f"retrying in {wait:.0f} s"
                    )
                    watched.restart_at = now + wait
                    continue
                assert service.process is not None
                say(
                    f"devstack: 已重启 restarted {service.name} "
                    f"(pid {service.process.pid}, restart {watched.restarts})"
                )


class ClusterNode(Protocol):
    """What :class:`ClusterWatch` needs of a NATS node (devstack.servers.NatsServer)."""

    @property
    def log_path(self) -> Path: ...

    def poll(self) -> int | None: ...

    def restart(self) -> None: ...


@dataclass
class _Node:
    name: str
    server: ClusterNode
    policy: RestartPolicy
    restart_at: float | None = None
    given_up: bool = False
    restarts: int = 0


class ClusterWatch:
    """The nodes of the NATS cluster devstack runs (``PETITIONS_NATS_CLUSTER=3``). The cluster
    keeps working on a majority, so one dead node used to go unnoticed; now its death is said in
    one line and it is started again (its JetStream folder is kept: it rejoins and catches up),
    with the services' backoff. One that keeps dying is left down, said once; the stack ends only
    when the majority is gone (NatsCluster.poll)."""

    def __init__(
        self,
        nodes: Mapping[str, ClusterNode],
        policy: Callable[[], RestartPolicy] = RestartPolicy,
        clock: Callable[[], float] = time.monotonic,
        report: Callable[[str], None] = say,
    ) -> None:
        self._nodes = [_Node(name, server, policy()) for name, server in nodes.items()]
        self._clock = clock
        self._say = report

    def restarts(self, name: str) -> int:
        return next(node.restarts for node in self._nodes if node.name == name)

    def _running(self) -> str:
        up = sum(1 for node in self._nodes if node.server.poll() is None)
        return f"{up}/{len(self._nodes)}"

    def check(self) -> None:
        now = self._clock()
        for node in self._nodes:
            if node.given_up:
                continue
            if node.restart_at is None:
                code = node.server.poll()
                if code is None:
                    continue
                wait = node.policy.died(now)
                if wait is None:
                    node.given_up = True
                    self._say(
                        f"devstack: NATS 节点 {node.name} 反复退出，不再重启 keeps exiting "
                        f"(last code {code}); the cluster runs on {self._running()} nodes "
                        f"(log {node.server.log_path})"
                    )
                    continue
                self._say(
                    f"devstack: NATS 节点 {node.name} 意外退出 exited unexpectedly (code {code}); "
                    f"集群现有 the cluster runs on {self._running()} nodes; restarting it in "
                    f"{wait:.0f} s (log {node.server.log_path})"
                )
                node.restart_at = now + wait
            elif now >= node.restart_at:
                node.restart_at = None
                node.restarts += 1
                try:
                    node.server.restart()
                except Exception as exc:  # e.g. its port taken meanwhile: counts as a death
                    wait = node.policy.died(now)
                    if wait is None:
                        node.given_up = True
                        self._say(
                            f"devstack: NATS 节点 {node.name} 无法重启 could not be restarted "
                            f"({exc}); the cluster runs on {self._running()} nodes"
                        )
                    else:
                        node.restart_at = now + wait
                    continue
                self._say(
                    f"devstack: 已重启 NATS 节点 restarted NATS node {node.name} "
                    f"(restart {node.restarts}); it rejoins the cluster and catches up"
                )
