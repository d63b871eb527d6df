"""Announcing appends on a LISTEN/NOTIFY channel, at most once per short delay."""

from __future__ import annotations

import asyncio

import asyncpg

from petitions.eventstore import sql
from petitions.log import get_logger

log = get_logger(__name__)

CHANNEL = "eventstore_appended"
"""NOTIFY channel on which appends are announced (payload empty: readers just read on)."""


class Announcer:
    """One NOTIFY per ``delay`` at most, outside the append transactions (see migration 0001
    for why)."""

    def __init__(self, pool: asyncpg.Pool, delay: float) -> None:
        self._pool = pool
        self._delay = delay
        self._scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.failures = 0
        """Announcements that failed (readers then find the events on their next poll)."""

    def announce(self) -> None:
        if self._scheduled:
            return
        self._scheduled = True
        self._timer = asyncio.get_running_loop().call_later(self._delay, self._start)

    async def flush(self) -> None:
        """Send the announcement still waiting, now."""
        if self._scheduled and self._timer is not None:
            self._timer.cancel()
            await self._notify()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self) -> None:
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        # Cleared first: an append that lands while this NOTIFY is on the wire schedules another.
        self._scheduled = False
        # Readers poll as well: a lost wake-up only delays them by one poll. So any failure is
        # only counted and logged: asyncpg raises more than its documented kinds while the
        # server restarts (InternalClientError among them), and an exception left in this
        # fire-and-forget task would surface as "Task exception was never retrieved".
        # A pool closing (its owner done, without flush()) is no failure to report: a process
        # shutting down has nobody left to tell, and the readers poll.
        if self._pool.is_closing():
            return
        try:
            await self._pool.execute(sql.NOTIFY, CHANNEL)
        except Exception as exc:
            if self._pool.is_closing():
                return
            self.failures += 1
            log.warning("eventstore.notify_failed", error=f"{type(exc).__name__}: {exc}")
