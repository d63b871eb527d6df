"""Background tasks that cannot die silently.

A service runs long-lived tasks beside its HTTP server (the relay, consumers, the deadline
sweep). Started with ``asyncio.create_task`` and left alone, an exception one of them does not
catch ends it for good, and nothing notices: the process keeps answering HTTP while events pile
up. The supervisor runs each task in a loop: it logs the failure, restarts the task after a
backoff, and when a task keeps failing (``max_failures`` within ``window`` seconds) it gives up:
the process is then not live (``/health/live`` answers 503) and, in a served process, it exits
non-zero so that the orchestrator (docker compose's restart policy, Kubernetes, devstack)
starts a fresh one. A restart of the whole process clears what a restart of the task cannot
(a poisoned pool, a leaked lock, a wedged client library).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from petitions.log import get_logger

log = get_logger(__name__)

EXIT_CODE = 70
"""What a served process exits with after the supervisor gave up on a task (EX_SOFTWARE)."""

_exit_requested = False
_exit_on_give_up: Callable[[], None] | None = None


def exit_process_on_give_up(shut_down: Callable[[], None]) -> None:
    """Make a supervisor that gives up stop this process: ``shut_down`` starts an orderly
    shutdown (``serve`` passes uvicorn's), after which ``serve`` exits with EXIT_CODE. Tests
    and command line tools leave it off: there, a task given up on only makes the process not
    live."""
    global _exit_on_give_up
    _exit_on_give_up = shut_down


def exit_requested() -> bool:
    """Whether a supervisor asked the process to end (``serve`` then exits with EXIT_CODE)."""
    return _exit_requested


def _stop_process(task: str) -> None:
    global _exit_requested
    if _exit_on_give_up is None:
        return
    _exit_requested = True
    # Not an exit here: the server shuts down in order (lifespan, open requests), then
    # ``serve`` turns the flag into the exit code. Not SIGTERM either: uvicorn re-raises a
    # signal it caught once it has shut down, and the process would end by that signal (-15)
    # instead of with EXIT_CODE.
    log.error("supervisor.stopping_process", task=task, exit_code=EXIT_CODE)
    _exit_on_give_up()


@dataclass
class TaskState:
    name: str
    state: str = "starting"
    """``running``, ``restarting`` (in backoff after a failure), ``failed`` (given up on) or
    ``stopped``."""
    restarts: int = 0
    last_error: str | None = None
    failures: deque[float] = field(default_factory=deque)


class Supervisor:
    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: float = 300.0,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        on_give_up: Callable[[str], None] = _stop_process,
    ) -> None:
        self._max_failures = max_failures
        self._window = window
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._on_give_up = on_give_up
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stoppers: dict[str, Callable[[], None]] = {}
        self._states: dict[str, TaskState] = {}
        self._stopping = asyncio.Event()

    def start(
        self,
        name: str,
        run: Callable[[], Awaitable[None]],
        *,
        stop: Callable[[], None] | None = None,
    ) -> None:
        """Run ``run()`` under supervision until :meth:`stop`. ``run`` is called again after
        each failure, so it must be safe to call again (every task here is: they keep their
        truth in PostgreSQL or JetStream, not in memory). ``stop`` asks it to end gracefully."""
        if name in self._tasks:
            raise ValueError(f"task {name!r} is already supervised")
        self._states[name] = TaskState(name)
        if stop is not None:
            self._stoppers[name] = stop
        self._tasks[name] = asyncio.create_task(self._keep(name, run), name=name)

    async def _keep(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        state = self._states[name]
        while not self._stopping.is_set():
            state.state = "running"
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The type and message only: messages of the client libraries name servers and
                # statements, never the rows, so no personal data reaches the log.
                state.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "supervisor.task_failed", task=name, error=state.last_error, exc_info=True
                )
            else:
                if self._stopping.is_set():
                    break
                # These tasks run until stopped: ending by themselves is a failure too.
                state.last_error = "ended without being stopped"
                log.error("supervisor.task_ended", task=name)
            now = time.monotonic()
            state.failures.append(now)
            while state.failures and state.failures[0] < now - self._window:
                state.failures.popleft()
            if len(state.failures) >= self._max_failures:
                state.state = "failed"
                log.error(
                    "supervisor.gave_up",
                    task=name,
                    failures=len(state.failures),
                    window_seconds=self._window,
                    error=state.last_error,
                )
                self._on_give_up(name)
                return
            backoff = min(self._initial_backoff * 2 ** (len(state.failures) - 1), self._max_backoff)
            state.state = "restarting"
            state.restarts += 1
            log.warning("supervisor.restarting", task=name, retry_in=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
        state.state = "stopped"

    def live(self) -> tuple[bool, dict[str, dict[str, Any]], list[str]]:
        """Whether every task is alive (running or about to restart), each task's state, and
        the reasons it is not."""
        report: dict[str, dict[str, Any]] = {}
        reasons: list[str] = []
        for name, state in self._states.items():
            task = self._tasks[name]
            status = state.state
            if task.done() and status not in ("failed", "stopped"):
                # Cancelled: by stop() (fine), or by someone else, and then no one restarts it.
                status = "stopped" if self._stopping.is_set() else "failed"
            report[name] = {
                "state": status,
                "restarts": state.restarts,
                "last_error": state.last_error,
            }
            if status == "failed":
                reasons.append(
                    f"后台任务 {name} 反复失败已停止 background task {name} keeps failing and "
                    f"was given up on ({state.last_error}): restart the process"
                )
        return not reasons, report, reasons

    async def stop(self, grace: float = 10.0) -> None:
        """Ask every task to end, wait up to ``grace`` seconds, then cancel what is left."""
        self._stopping.set()
        for stopper in self._stoppers.values():
            stopper()
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            log.warning("supervisor.cancelled", task=task.get_name())
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=grace)
