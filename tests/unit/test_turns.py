"""next_turn: a CPU-bound loop's turn given to the tasks ready to run (the read ahead)."""

from __future__ import annotations

import asyncio

from petitions.turns import next_turn


async def test_next_turn_lets_a_ready_task_run_and_comes_back() -> None:
    ran: list[str] = []

    async def read_ahead() -> None:
        ran.append("read ahead")

    task = asyncio.ensure_future(read_ahead())
    assert ran == []
    await next_turn()
    assert ran == ["read ahead"]
    await task
