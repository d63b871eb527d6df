"""The supervisor restarts a task that fails, gives up on one that keeps failing, and stops
every task it runs (issue 16)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from petitions.supervision import Supervisor


async def _until(condition: Callable[[], object], deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_task_that_fails_twice_is_restarted_and_keeps_running() -> None:
    given_up: list[str] = []
    supervisor = Supervisor(initial_backoff=0.01, max_failures=5, on_give_up=given_up.append)
    runs = 0
    stop = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise ConnectionResetError("the server went away")
        await stop.wait()

    supervisor.start("flaky", flaky, stop=stop.set)
    await _until(lambda: runs == 3)
    ok, tasks, reasons = supervisor.live()
    assert ok
    assert reasons == []
    assert tasks["flaky"] == {
        "state": "running",
        "restarts": 2,
        "last_error": "ConnectionResetError: the server went away",
    }
    await supervisor.stop()
    assert supervisor.live()[1]["flaky"]["state"] == "stopped"
    assert given_up == []


async def test_a_task_that_keeps_failing_is_given_up_on() -> None:
    given_up: list[str] = []
    supervisor = Supervisor(
        initial_backoff=0.01, max_failures=4, window=600, on_give_up=given_up.append
    )

    async def broken() -> None:
        raise ValueError("malformed message decoded outside the try")

    supervisor.start("broken", broken)
    await _until(lambda: given_up)
    assert given_up == ["broken"]
    ok, tasks, reasons = supervisor.live()
    assert not ok
    assert tasks["broken"]["state"] == "failed"
    assert tasks["broken"]["restarts"] == 3
    assert "broken" in reasons[0]
    assert "restart the process" in reasons[0]
    await supervisor.stop()


async def test_a_task_that_returns_by_itself_counts_as_a_failure() -> None:
    given_up: list[str] = []
    supervisor = Supervisor(initial_backoff=0.01, max_failures=2, on_give_up=given_up.append)

    async def quits() -> None:
        return None

    supervisor.start("quits", quits)
    await _until(lambda: given_up)
    assert supervisor.live()[1]["quits"]["last_error"] == "ended without being stopped"
    await supervisor.stop()


async def test_stop_cancels_a_task_that_ignores_its_stop_request() -> None:
    supervisor = Supervisor()

    async def stubborn() -> None:
        await asyncio.Event().wait()

    supervisor.start("stubborn", stubborn, stop=lambda: None)
    await asyncio.sleep(0)
    await supervisor.stop(grace=0.1)
    assert supervisor.live()[1]["stubborn"]["state"] == "stopped"
