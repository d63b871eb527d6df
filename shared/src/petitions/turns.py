"""One turn of the event loop for the other tasks, taken by a loop that would otherwise hold the
CPU: a read ahead then takes in the rows that have arrived, a flush sends its bytes. Not a wait:
nothing is timed, and it returns once the tasks ready to run have had their turn."""

from __future__ import annotations

import types
from collections.abc import Generator


@types.coroutine
def next_turn() -> Generator[None, None, None]:
    """Hand the running task back to the event loop for one turn (what ``asyncio.sleep(0)``
    does, named for what it is)."""
    yield  # a bare yield: the task is scheduled again at once, after the others ready to run
