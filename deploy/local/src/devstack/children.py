"""Child processes for the local servers: free ports, spawning so a child dies with its parent,
running a coroutine from any thread, per-run log files and stopping a process in time."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

_T = TypeVar("_T")


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
# PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. Children
# started from short-lived threads (asyncio.to_thread, executors) would be killed when that thread
# ends, so those spawns are handed to one thread that lives as long as the interpreter.
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack-spawn")


class ServerError(RuntimeError):
    """Starting or preparing a server failed; the message says why (with the log tail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_port_free(port: int, what: str) -> None:
    """Raise ServerError if something already listens on 127.0.0.1:`port`."""
    # Without this, a readiness probe could succeed against whoever already owns the port (say the
    # system PostgreSQL on 5432) while our own server is failing to bind.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so TIME_WAIT leftovers must not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ServerError(
                f"{what} 端口 {port} 已被占用 port {port} is already in use ({exc.strerror}); "
                "choose another port"
            ) from exc


def set_parent_death_signal(sig: signal.Signals) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only)."""
    if _libc is None:
        return False
    return bool(_libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """preexec_fn asking the kernel to send `sig` to the child when we die (even by SIGKILL)."""
    if _libc is None:  # not Linux: no PDEATHSIG, children are stopped by stop() only
        return None
    parent = os.getpid()

    def preexec() -> None:
        # Runs in the child after Popen's setuid: the kernel clears PDEATHSIG on credential
        # changes, so it must be set after the switch, which preexec_fn is.
        set_parent_death_signal(sig)
        if os.getppid() != parent:  # we died between fork and prctl
            os._exit(1)

    return preexec


def spawn(
    args: list[str], *, death_signal: signal.Signals, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """Popen that gets `death_signal` when we die, in its own process group (a terminal's Ctrl-C
    reaches only us, so we can stop children in order), from a thread that outlives the child."""

    def popen() -> subprocess.Popen[bytes]:
        preexec = _die_with_parent(death_signal)
        return subprocess.Popen(args, process_group=0, preexec_fn=preexec, **kwargs)

    if threading.current_thread() is threading.main_thread():
        return popen()
    return _spawner.submit(popen).result()


def run_coro(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion from sync code, even when called inside a running loop
    (pytest-asyncio fixtures): then it runs on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    # A daemon thread, not an executor: a Ctrl-C in the caller must not wait for it at exit.
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class LogFile:
    """Append-only log of one server; remembers where the current run began for error tails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._start = 0

    def open_for_run(self, title: str) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        handle.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {title} ====\n".encode())
        handle.flush()
        self._start = handle.tell()
        return handle

    def tail(self, lines: int = 25) -> str:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._start)
                text = handle.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        last = text.splitlines()[-lines:]
        return "\n".join(f"    | {line}" for line in last) if last else "    | (empty)"


def stop_process(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
